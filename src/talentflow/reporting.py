"""Read-only summaries of a store for the CLI (stats, ingest problems), read through
:class:`talentflow.read.StoreReader`."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from talentflow.read import StoreReader


def ingest_summary(db: str | Path, limit: int = 20) -> list[str]:
    """One line per file that had problems in the last build (file, status, first reason)."""
    with StoreReader(db) as reader:
        rows = reader.ingest_problems()
    lines = [f"{file}: {status}, {n} quarantined: {message}" for file, status, n, message in rows]
    if len(lines) > limit:
        lines = [*lines[:limit], f"... and {len(lines) - limit} more (see the quarantine table)"]
    return lines


def build_notices(db: str | Path) -> list[str]:
    """Warnings of the last build that are not quarantined input: unmapped statuses, and
    reference data the resolver lacked (with how to get it)."""
    with StoreReader(db) as reader:
        unmapped = reader.param("sources", "unmapped_statuses") or {}
        notes = reader.param("resolve", "reference_notes") or []
    notices = []
    if unmapped:
        listed = ", ".join(f"{status!r} ({n})" for status, n in list(unmapped.items())[:10])
        notices.append(
            f"{sum(unmapped.values())} paper(s) have a status the decision table does not know, "
            f"so their decision is 'unknown': {listed}; see docs/sources.md (Decisions and tiers)"
        )
    notices.extend(str(n) for n in notes if str(n).startswith("reference data missing"))
    return notices


def print_stats(db: str | Path, console: Console) -> None:
    """Print counts and coverage by source, venue and year."""
    with StoreReader(db) as reader:
        totals = Table(title=f"talentflow store {db}")
        totals.add_column("what")
        totals.add_column("count", justify="right")
        for name in ("papers", "authorships", "persons", "events", "quarantine"):
            if reader.has(name):
                totals.add_row(name, f"{reader.count(name):,}")
        for source, n in reader.slots_by_source():
            totals.add_row(f"author slots read from {source} (before dedup)", f"{n:,}")
        console.print(totals)
        by_decision = reader.papers_by_decision()
        if by_decision is not None:
            decided = Table(title="papers by decision and tier (docs/sources.md)")
            for col in ("decision", "tier", "papers"):
                decided.add_column(col, justify="right" if col == "papers" else "left")
            for decision, tier, n in by_decision:
                decided.add_row(decision, tier, f"{n:,}")
            console.print(decided)
        if not reader.has("authorships"):
            return
        coverage = Table(title="coverage by venue (deduplicated author slots)")
        for col in (
            "venue",
            "years",
            "papers",
            "author slots",
            "with affiliation",
            "with country",
            "persons",
        ):
            coverage.add_column(col, justify="left" if col in ("venue", "years") else "right")
        for row in reader.venue_coverage():
            coverage.add_row(
                *[("" if v is None else f"{v:,}" if isinstance(v, int) else str(v)) for v in row]
            )
        console.print(coverage)
