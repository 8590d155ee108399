"""Counts of mobility events by kind and year, with the share carrying flags (engine-side)."""

from __future__ import annotations

from typing import Any

import pandas as pd
from ibis import _

#: Flags that say the detector was unsure which places or which kind (not censoring).
AMBIGUITY_FLAGS = (
    "ambiguous_sender",
    "ambiguous_receiver",
    "simultaneous_start",
    "concurrent",
    "gap",
    "undecided",
)
#: Flags that say the career or the data was cut off around the event.
CENSORING_FLAGS = ("censored_left", "censored_right")


def _any_of(flags: Any, names: tuple[str, ...]) -> Any:
    return flags.filter(lambda f: f.isin(list(names))).length() > 0


def event_counts(
    events: Any, *, level: str = "country", first_year: int | None = None
) -> pd.DataFrame:
    """Events of one ``level`` counted by year and kind.

    Parameters
    ----------
    events
        The ``events`` table (Ibis expression).
    level
        ``"country"`` (international events) or ``"institution"``.
    first_year
        Drop earlier years (the early corpus is thin).

    Returns
    -------
    pandas.DataFrame
        ``year, kind, n, flagged, ambiguous, censored``: events, and how many carry any flag, an
        ambiguity flag (:data:`AMBIGUITY_FLAGS`) or a censoring flag (:data:`CENSORING_FLAGS`).
    """
    ev = events.filter(_.level == level)
    if first_year is not None:
        ev = ev.filter(_.year >= first_year)
    flags = ev.flags.fill_null([])
    ev = ev.mutate(
        _any=(flags.length() > 0).cast("int64"),
        _amb=_any_of(flags, AMBIGUITY_FLAGS).cast("int64"),
        _cen=_any_of(flags, CENSORING_FLAGS).cast("int64"),
    )
    out = (
        ev.group_by(["year", "kind"])
        .agg(n=_.count(), flagged=_._any.sum(), ambiguous=_._amb.sum(), censored=_._cen.sum())
        .order_by(["year", "kind"])
        .to_pandas()
    )
    for col in ("n", "flagged", "ambiguous", "censored"):
        out[col] = out[col].fillna(0).astype("int64")
    out["year"] = out["year"].astype("int64")
    return out


def flagged_shares(counts: pd.DataFrame) -> pd.DataFrame:
    """Totals per kind (and ``all``) with the shares of flagged, ambiguous, censored events."""
    tot = counts.groupby("kind")[["n", "flagged", "ambiguous", "censored"]].sum()
    tot.loc["all"] = tot.sum()
    for col in ("flagged", "ambiguous", "censored"):
        tot[f"{col}_share"] = tot[col] / tot["n"].where(tot["n"] > 0)
    return tot.reset_index()
