"""Read-only summaries of a store for the CLI (stats, ingest problems)."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console
from rich.table import Table

from talentflow.store import open_store


def ingest_summary(db: str | Path, limit: int = 20) -> list[str]:
    """One line per file that had problems in the last build (file, status, first reason)."""
    con = open_store(db)
    try:
        if "ingest_log" not in con.list_tables():
            return []
        rows = con.con.execute(
            """SELECT file, status, records_quarantined, message FROM ingest_log
            WHERE status IN ('partial', 'failed') ORDER BY file"""
        ).fetchall()
    finally:
        con.disconnect()
    lines = [f"{file}: {status}, {n} quarantined: {message}" for file, status, n, message in rows]
    if len(lines) > limit:
        lines = [*lines[:limit], f"... and {len(lines) - limit} more (see the quarantine table)"]
    return lines


def build_notices(db: str | Path) -> list[str]:
    """Warnings of the last build that are not quarantined input: unmapped statuses, and
    reference data the resolver lacked (with how to get it)."""
    con = open_store(db)
    try:
        if "build_params" not in con.list_tables():
            return []
        row = con.con.execute(
            "SELECT value FROM build_params WHERE stage = 'sources' AND name = 'unmapped_statuses'"
        ).fetchone()
        ref = con.con.execute(
            "SELECT value FROM build_params WHERE stage = 'resolve' AND name = 'reference_notes'"
        ).fetchall()
    finally:
        con.disconnect()
    notices = []
    unmapped = json.loads(row[0]) if row else {}
    if unmapped:
        listed = ", ".join(f"{status!r} ({n})" for status, n in list(unmapped.items())[:10])
        notices.append(
            f"{sum(unmapped.values())} paper(s) have a status the decision table does not know, "
            f"so their decision is 'unknown': {listed}; see docs/sources.md (Decisions and tiers)"
        )
    notes = json.loads(ref[-1][0]) if ref else []
    notices.extend(str(n) for n in notes or [] if str(n).startswith("reference data missing"))
    return notices


def print_stats(db: str | Path, console: Console) -> None:
    """Print counts and coverage by source, venue and year."""
    con = open_store(db)
    try:
        raw = con.con
        tables = set(con.list_tables())
        totals = Table(title=f"talentflow store {db}")
        totals.add_column("what")
        totals.add_column("count", justify="right")
        for name in ("papers", "authorships", "persons", "events", "quarantine"):
            if name in tables:
                totals.add_row(
                    name, f"{raw.execute(f'SELECT count(*) FROM {name}').fetchone()[0]:,}"
                )
        if "raw_authorships" in tables:
            for source, n in raw.execute(
                "SELECT source, count(*) FROM raw_authorships GROUP BY 1 ORDER BY 1"
            ).fetchall():
                totals.add_row(f"author slots read from {source} (before dedup)", f"{n:,}")
        console.print(totals)
        if (
            "papers" in tables
            and "decision" in raw.execute("DESCRIBE papers").df()["column_name"].tolist()
        ):
            decided = Table(title="papers by decision and tier (docs/sources.md)")
            for col in ("decision", "tier", "papers"):
                decided.add_column(col, justify="right" if col == "papers" else "left")
            for decision, tier, n in raw.execute("""
                SELECT decision, coalesce(tier, '') AS t, count(*) FROM papers GROUP BY ALL
                ORDER BY decision, t""").fetchall():
                decided.add_row(decision, tier, f"{n:,}")
            console.print(decided)
        if "authorships" not in tables:
            return
        has_country = "country" in raw.execute("DESCRIBE authorships").df()["column_name"].tolist()
        has_person = "person_id" in raw.execute("DESCRIBE authorships").df()["column_name"].tolist()
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
        country = "count(country)" if has_country else "NULL"
        persons = "count(DISTINCT person_id)" if has_person else "NULL"
        for row in raw.execute(f"""
            SELECT venue, min(year) || '-' || max(year) AS years, count(DISTINCT paper_id),
              count(*), count(raw_affiliation), {country}, {persons}
            FROM authorships GROUP BY venue ORDER BY venue""").fetchall():
            coverage.add_row(
                *[("" if v is None else f"{v:,}" if isinstance(v, int) else str(v)) for v in row]
            )
        console.print(coverage)
    finally:
        con.disconnect()
