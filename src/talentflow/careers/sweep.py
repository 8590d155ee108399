"""Re-run only the event detection over a grid of (b, o, d) and report the headline counts."""

from __future__ import annotations

from itertools import product
from typing import Any

import pandas as pd
from ibis import _

from talentflow.careers.build import prepare, temp_table
from talentflow.careers.events import detect_events
from talentflow.careers.params import CareerParams
from talentflow.careers.tenures import build_tenures

#: Directed country pairs reported by default (both directions of the most watched flow).
HEADLINE_PAIRS: tuple[tuple[str, str], ...] = (("US", "CN"), ("CN", "US"))


def headline_counts(events: Any, pairs: tuple[tuple[str, str], ...] = HEADLINE_PAIRS) -> dict:
    """Counts of country-level events: migrations, returns, temporary, flagged share, pairs."""
    moves = _.kind.isin(["migration", "return"])
    aggs = {
        "migrations": (_.kind == "migration").cast("int64").sum(),
        "returns": (_.kind == "return").cast("int64").sum(),
        "temporary_events": (_.kind == "temporary").cast("int64").sum(),
        "flagged_moves": (moves & (_.flags.length() > 0)).cast("int64").sum(),
    }
    for a, b in pairs:
        aggs[f"{a}->{b}"] = (
            (moves & (_.from_country == a) & (_.to_country == b)).cast("int64").sum()
        )
    row = events.aggregate(**aggs).to_pandas().iloc[0].to_dict()
    out: dict[str, float] = {k: int(v) if pd.notna(v) else 0 for k, v in row.items()}
    n_moves = out["migrations"] + out["returns"]
    out["flagged_share"] = out.pop("flagged_moves") / n_moves if n_moves else 0.0
    return out


def sweep(
    con: Any,
    authorships: Any,
    *,
    backfill: list[int],
    overlap: list[int],
    temporary: list[int],
    backfill_seen: bool = False,
    pairs: tuple[tuple[str, str], ...] = HEADLINE_PAIRS,
) -> pd.DataFrame:
    """Detect country-level events for every (b, o, d) in the grid; one row per combination.

    ``con`` must allow temporary tables (an in-memory DuckDB with the store attached is what
    the CLI uses); nothing is written to the store.
    """
    inputs = prepare(con, authorships)
    rows = []
    for b in backfill:
        # Tenures depend on b only: materialise them once per b.
        tenures = temp_table(
            con, build_tenures(inputs.obs, "country", b, fill_seen_elsewhere=backfill_seen), "sweep"
        )
        for o, d in product(overlap, temporary):
            params = CareerParams(backfill=b, overlap=o, temporary=d, backfill_seen=backfill_seen)
            events = detect_events(
                tenures,
                inputs.main("country"),
                inputs.span,
                params,
                level="country",
                dataset_first_year=inputs.dataset_first_year,
            )
            counts = headline_counts(events, pairs)
            rows.append({"backfill": b, "overlap": o, "temporary": d} | counts)
    return pd.DataFrame(rows)
