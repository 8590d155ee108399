"""``talentflow validate``, ``coverage``, ``subfields`` and ``groupings``: indicator checks."""

from __future__ import annotations

import math
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from talentflow.cli.app import app, open_reader_or_exit
from talentflow.store import DEFAULT_DB

console = Console(stderr=True)


@app.command()
def validate(
    db: Path = typer.Option(DEFAULT_DB, "--db", help="The built DuckDB store."),  # noqa: B008
    out: Path = typer.Option(  # noqa: B008
        Path("docs/validation.md"), "--out", help="Where to write the Markdown report."
    ),
) -> None:
    """Write the validation report (our figures beside MacroPolo, CSET, MPIDR) from DB."""
    from talentflow.indicators.validation import render

    with open_reader_or_exit(db, console) as reader:
        text = render(reader.con)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    console.print(f"[green]wrote[/] {out}")


@app.command()
def coverage(
    db: Path = typer.Option(DEFAULT_DB, "--db", help="The built DuckDB store."),  # noqa: B008
    venues: bool = typer.Option(
        False, "--venues", help="One row per venue-year, not only the yearly totals."
    ),
) -> None:
    """What each year (or venue-year) of the store holds, and which years are complete."""
    with open_reader_or_exit(db, console) as reader:
        df = reader.coverage_table(venues=venues)
    if df is None:
        console.print("[red]error:[/] no coverage table in this store (rebuild it)")
        raise typer.Exit(3)
    table = Table(
        "venue", "year", "papers", "accepted", "population", "top", "authorships",
        "country", "decision", "subfield", "complete", "fixed panel",
    )  # fmt: skip
    for r in df.itertuples():
        table.add_row(
            r.venue,
            str(r.year),
            f"{r.papers:,}",
            f"{r.accepted_papers:,}",
            f"{r.population_papers:,}",
            f"{r.top_papers:,}",
            f"{r.authorships:,}",
            _pct(r.share_with_country),
            _pct(r.share_with_decision),
            _pct(r.share_classified),
            "yes" if r.complete else "NO",
            "yes" if r.in_fixed_panel else "",
        )
    Console(width=max(Console().width, 140)).print(table)


def _pct(v: float) -> str:
    return "" if math.isnan(v) else f"{v:.0%}"


@app.command()
def subfields() -> None:
    """Precision and recall of the subfield rules on the shipped labelled sample."""
    from talentflow.indicators.subfields import evaluate

    table = Table("subfield", "predicted", "labelled", "precision", "recall")
    for r in evaluate().itertuples():
        table.add_row(
            r.subfield,
            str(r.n_predicted),
            str(r.n_labelled),
            f"{r.precision:.2f}",
            f"{r.recall:.2f}",
        )
    Console().print(table)


@app.command()
def groupings(
    name: str | None = typer.Argument(
        None, help="A grouping (e.g. greater_china) to list its members."
    ),
) -> None:
    """The country groupings indicators can be shown by, or the members of one grouping."""
    from talentflow.indicators.groupings import GROUPINGS, groupings_table

    if name is None:
        table = Table("grouping", "groups", "countries", "description")
        members = groupings_table(tuple(GROUPINGS))
        for key, text in GROUPINGS.items():
            m = members[members.grouping == key]
            table.add_row(key, str(m.group_name.nunique()), str(len(m)), text)
        Console().print(table)
        return
    if name not in GROUPINGS:
        console.print(f"[red]error:[/] unknown grouping {name!r}; known: {', '.join(GROUPINGS)}")
        raise typer.Exit(2)
    table = Table("group", "members")
    members = groupings_table((name,))
    for group, m in members.groupby("group_name"):
        table.add_row(str(group), " ".join(sorted(m.country)))
    Console().print(table)
