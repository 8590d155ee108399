"""Careers commands: ``talentflow sweep``, ``talentflow events`` and ``talentflow person``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from talentflow.cli.app import EXIT_NO_STORE, EXIT_USAGE, app, open_reader_or_exit
from talentflow.store import DEFAULT_DB

console = Console()
err = Console(stderr=True)

DbOption = typer.Option(DEFAULT_DB, "--db", help="The DuckDB store.")


def _ints(text: str, name: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        values = []
    if not values or any(v < 0 for v in values):
        err.print(f"[red]error:[/] --{name} takes comma-separated integers >= 0, got {text!r}")
        raise typer.Exit(EXIT_USAGE)
    return values


def _s(value: object, default: str = "") -> str:
    """A table cell: missing values (None, NaN, NA) become ``default``."""
    import pandas as pd

    if value is None or (not isinstance(value, (list, tuple)) and pd.isna(value)):
        return default
    return str(value)


def _attached(db: Path) -> Any:
    """An in-memory engine with the store attached read-only (temporary tables allowed)."""
    import ibis

    if not db.exists():
        err.print(f"[red]error:[/] no store at {db}: run `talentflow build` first")
        raise typer.Exit(EXIT_NO_STORE)
    con = ibis.duckdb.connect()
    path = str(db).replace("'", "''")
    con.raw_sql(f"ATTACH '{path}' AS store (READ_ONLY)")
    return con


@app.command()
def sweep(
    db: Path = DbOption,
    backfill: str = typer.Option("1,2,3", "--backfill", help="Values of b (backfill years)."),
    overlap: str = typer.Option("2,3,4", "--overlap", help="Values of o (allowed overlap)."),
    temporary: str = typer.Option("3,4,5", "--temporary", help="Values of d (temporary max)."),
) -> None:
    """Re-run only the event stage over a grid of b, o, d and show how headline counts move."""
    from talentflow.careers.stage import careers_input
    from talentflow.careers.sweep import sweep as run_sweep

    grid = {
        "backfill": _ints(backfill, "backfill"),
        "overlap": _ints(overlap, "overlap"),
        "temporary": _ints(temporary, "temporary"),
    }
    con = _attached(db)
    try:
        tables = con.list_tables(database=("store", "main"))
        if "authorships" not in tables:
            err.print(f"[red]error:[/] {db} has no authorships table")
            raise typer.Exit(EXIT_NO_STORE)
        authorships, _missing = careers_input(con.table("authorships", database=("store", "main")))
        result = run_sweep(
            con,
            authorships,
            backfill=grid["backfill"],
            overlap=grid["overlap"],
            temporary=grid["temporary"],
        )
    finally:
        con.disconnect()
    base = result[(result["backfill"] == 2) & (result["overlap"] == 3) & (result["temporary"] == 4)]
    ref = base.iloc[0] if len(base) else result.iloc[0]
    count_cols = [c for c in result.columns if c not in ("backfill", "overlap", "temporary")]
    table = Table(title=f"Event counts over the (b, o, d) grid: {db}")
    for col in ("b", "o", "d"):
        table.add_column(col, justify="right")
    for col in count_cols:
        table.add_column(col.replace("_", " "), justify="right")
    for row in result.to_dict("records"):
        cells = [str(row["backfill"]), str(row["overlap"]), str(row["temporary"])]
        for col in count_cols:
            value = row[col]
            if col == "flagged_share":
                cells.append(f"{value:.1%}")
                continue
            delta = int(value) - int(ref[col])
            cells.append(f"{int(value):,}" + (f" ({delta:+,})" if delta else ""))
        table.add_row(*cells)
    console.print(table)
    console.print(
        f"changes in brackets are relative to b={int(ref['backfill'])}, "
        f"o={int(ref['overlap'])}, d={int(ref['temporary'])}; US->CN and CN->US count "
        "migrations and returns between countries; flagged share is over those moves"
    )


@app.command()
def events(
    db: Path = DbOption,
    level: str = typer.Option("country", "--level", help="country or institution."),
    since: int | None = typer.Option(None, "--since", help="First year shown (default: all)."),
) -> None:
    """Count mobility events by kind and year, with the share flagged (ambiguous or censored)."""
    from talentflow.careers.summary import flagged_shares

    if level not in ("country", "institution"):
        err.print(f"[red]error:[/] --level takes country or institution, got {level!r}")
        raise typer.Exit(EXIT_USAGE)
    with open_reader_or_exit(db, err) as reader:
        if not reader.has("events"):
            err.print(f"[red]error:[/] {db} has no events table: run `talentflow build` first")
            raise typer.Exit(EXIT_NO_STORE)
        counts = reader.event_counts(level=level, first_year=since)
    kinds = sorted(counts["kind"].unique())
    wide = counts.pivot_table(index="year", columns="kind", values="n", fill_value=0)
    flagged = counts.groupby("year")[["n", "flagged"]].sum()
    table = Table(title=f"{level.capitalize()}-level events by year and kind: {db}")
    table.add_column("year", justify="right")
    for kind in kinds:
        table.add_column(kind, justify="right")
    table.add_column("all", justify="right")
    table.add_column("flagged", justify="right")
    for year, row in wide.iterrows():
        n, f = int(flagged.loc[year, "n"]), int(flagged.loc[year, "flagged"])
        table.add_row(
            str(year), *(f"{int(row[k]):,}" for k in kinds), f"{n:,}", f"{f / n:.0%}" if n else "-"
        )
    console.print(table)
    shares = flagged_shares(counts)
    totals = Table(title="Totals and flagged shares")
    for col in ("kind", "events", "any flag", "ambiguous", "censored"):
        totals.add_column(col, justify="left" if col == "kind" else "right")
    for r in shares.itertuples(index=False):
        totals.add_row(
            r.kind,
            f"{int(r.n):,}",
            f"{r.flagged_share:.1%}",
            f"{r.ambiguous_share:.1%}",
            f"{r.censored_share:.1%}",
        )
    console.print(totals)
    console.print(
        "ambiguous: ambiguous_sender/receiver, simultaneous_start, concurrent, gap or undecided; "
        "censored: censored_left/right (see docs/careers.md)"
    )


def _papers_cell(y: Any) -> str:
    """Papers of a person-year, or how a year without papers is known."""
    if not y.observed:
        return "(gap)"
    if getattr(y, "evidence", "paper") == "openalex_history":
        return "(OpenAlex history)"
    return str(y.n_papers)


@app.command()
def person(
    person_id: str = typer.Argument(..., help="A person_id (see `talentflow export persons`)."),
    db: Path = DbOption,
) -> None:
    """Print one person's career as a timeline: years, places, career stage and events."""
    with open_reader_or_exit(db, err) as reader:
        tl = reader.timeline(person_id)
    if tl.profile is None:
        err.print(f"[red]error:[/] no person {person_id!r} in {db}")
        raise typer.Exit(1)
    p = tl.profile
    console.print(
        f"[bold]{person_id}[/]  {p['first_year']}-{p['last_year']}  "
        f"first observed in {_s(p['first_country'], '?')}"
        + (f", trained in {_s(p['training_country'])}" if _s(p["training_country"]) else "")
        + f", now {_s(p['current_country'], '?')}  ·  typology: [bold]{_s(p['typology'], '-')}[/]"
        + f"  ·  international moves: {p['n_international_moves']}"
    )
    table = Table(show_header=True, header_style="bold", title="Person-years")
    for col in ("year", "papers", "institution", "country", "sector", "stage", "also in"):
        table.add_column(col)
    for y in tl.years.itertuples(index=False):
        also = sorted({*(y.secondary_countries if y.secondary_countries is not None else [])})
        table.add_row(
            str(y.year),
            _papers_cell(y),
            _s(y.institution, "?"),
            _s(y.country, "?"),
            _s(y.sector),
            _s(y.career_stage),
            ", ".join(also),
            style=None if y.observed else "dim",
        )
    console.print(table)
    if "evidence" in tl.years and (tl.years["evidence"] == "openalex_history").any():
        console.print("(OpenAlex history): a year without papers in the covered venues, placed")
        console.print(
            "by the person's OpenAlex author history (--careers-evidence papers+histories)."
        )
    console.print("[bold]Events[/]" if len(tl.events) else "[bold]Events:[/] none")
    for ev in tl.events.itertuples(index=False):
        if ev.level == "institution" and ev.from_sector == ev.to_sector:
            continue  # institution-level rows add news only when the sector changes
        flags = list(ev.flags) if ev.flags is not None else []
        where = (
            f"{ev.kind} {_s(ev.from_country, '?')}->{_s(ev.to_country, '?')}"
            if ev.level == "country"
            else f"sector {_s(ev.from_sector, '?')}->{_s(ev.to_sector, '?')} ({ev.kind})"
        )
        places = escape(f"{_s(ev.from_institution, '?')} -> {_s(ev.to_institution, '?')}")
        console.print(
            f"  {ev.year}  {escape(where)}  {places}"
            + (f"  [dim]{', '.join(flags)}[/]" if flags else ""),
            highlight=False,
        )
