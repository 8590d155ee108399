"""``talentflow link explain PERSON_ID``: why a person's records were joined."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from talentflow.cli.app import EXIT_USAGE, app, open_reader_or_exit

link_app = typer.Typer(help="Person linkage (identity stage).", no_args_is_help=True)
app.add_typer(link_app, name="link")


@link_app.command("explain")
def explain_cmd(
    person_id: str = typer.Argument(..., help="A person id (P + 16 hex digits)."),
    db: Path = typer.Option(Path("talentflow.duckdb"), "--db", help="The store."),  # noqa: B008
) -> None:
    """Show a person's authorships, the rule that linked each and its evidence."""
    from talentflow.identity.explain import UnknownPerson, explain
    from talentflow.identity.identifiers import ID_COLUMNS

    err = Console(stderr=True)
    reader = open_reader_or_exit(db, err)
    try:
        ex = explain(reader.con, person_id)
    except UnknownPerson:
        err.print(f"[red]error:[/] no person {person_id!r} in {db}")
        raise typer.Exit(EXIT_USAGE) from None
    finally:
        reader.close()
    out = Console()
    p = ex.person
    out.print(
        f"[bold]{p['person_id']}[/] {p['display_name']}: {p['n_authorships']} authorships, "
        f"{p['n_papers']} papers, {p['first_year']}-{p['last_year']}"
    )
    out.print("known ids: " + (", ".join(p["known_ids"] or []) or "none"))
    rules: dict[str, int] = {}
    for r in ex.links:
        rules[r["rule"]] = rules.get(r["rule"], 0) + 1
    out.print("linked by: " + ", ".join(f"{k} ({v})" for k, v in sorted(rules.items())))
    table = Table(title="links")
    for col in ("year", "venue", "name", "ids", "affiliation / domain", "rule", "p", "evidence"):
        table.add_column(col)
    for r in ex.links:
        ids = ", ".join(str(r[c]) for c in ID_COLUMNS if r.get(c))
        aff = " / ".join(str(r[c]) for c in ("raw_affiliation", "email_domain") if r.get(c))
        prob = "" if r["match_probability"] is None else f"{r['match_probability']:.3f}"
        table.add_row(
            str(r["year"]),
            str(r["venue"]),
            str(r["author_name"]),
            ids,
            aff,
            r["rule"],
            prob,
            r["cluster_evidence"] or "",
        )
    out.print(table)
    if ex.params:
        shown = {
            k: v
            for k, v in ex.params.items()
            if k in ("attach_threshold", "margin", "sure_threshold", "pair_threshold")
        }
        out.print(f"thresholds: {shown} (evidence: match weight per comparison, log2 Bayes factor)")
