"""Decisions and tiers of papers from the status values the sources use.

One table (``data/decisions.csv``) maps each status value, compared lower-cased with spaces
collapsed, to a ``decision`` (``accepted``, ``rejected``, ``withdrawn`` or ``unknown``) and, for
accepted papers, a ``tier``: ``top`` (orals, talks, ICLR's top 5%), ``highlight`` (spotlights,
ICLR's top 25%, highlights) or ``standard`` (posters and every other accepted paper). Decisions
are about the venue's main conference: a workshop-track paper is not an accepted paper of it.
A status the table does not know gives ``unknown`` and is counted (:func:`unmapped`), never
guessed; a paper without a status is ``unknown`` too.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import pyarrow as pa

DECISIONS = ("accepted", "rejected", "withdrawn", "unknown")
TIERS = ("top", "highlight", "standard")

#: SQL normalising a status column ``{x}`` to the table's key.
STATUS_KEY = "lower(regexp_replace(trim({x}), '\\s+', ' ', 'g'))"


@dataclass(frozen=True)
class Decision:
    """The decision and tier (None unless accepted) of one status value."""

    decision: str
    tier: str | None
    meaning: str


@cache
def table() -> dict[str, Decision]:
    """The status table: normalised status value -> :class:`Decision`."""
    text = resources.files("talentflow.sources").joinpath("data/decisions.csv").read_text("utf-8")
    out: dict[str, Decision] = {}
    for row in csv.DictReader(text.splitlines()):
        decision, tier = row["decision"], row["tier"] or None
        if decision not in DECISIONS or (tier is not None and tier not in TIERS):
            raise ValueError(f"decisions.csv: bad row {row}")
        if (tier is None) != (decision != "accepted"):
            raise ValueError(f"decisions.csv: an accepted status needs a tier, others none: {row}")
        out[normalise(row["status"])] = Decision(decision, tier, row["meaning"])
    return out


def normalise(status: str) -> str:
    """The table key of a status value (lower case, spaces collapsed)."""
    return " ".join(status.split()).lower()


def classify(status: str | None) -> Decision:
    """Decision and tier of one status value (``unknown`` for None or an unmapped value).

    Examples
    --------
    >>> classify("Top-5%")
    Decision(decision='accepted', tier='top', meaning='ICLR 2023 "notable top 5%" (its orals)')
    >>> classify("Reject").decision
    'rejected'
    """
    if status is None or not status.strip():
        return Decision("unknown", None, "no status given")
    found = table().get(normalise(status))
    return found if found is not None else Decision("unknown", None, "status not in the table")


def register(db: Any, name: str = "_decisions") -> None:
    """Register the table on a DuckDB connection as ``name(status, decision, tier)``."""
    rows = table()
    db.register(
        name,
        pa.table(
            {
                "status": list(rows),
                "decision": [d.decision for d in rows.values()],
                "tier": [d.tier for d in rows.values()],
            }
        ),
    )


def unmapped(db: Any, papers: str = "papers") -> dict[str, int]:
    """Status values of ``papers`` that the table does not know, with their paper counts."""
    register(db, "_decisions_known")
    try:
        rows = db.execute(f"""
            SELECT status, count(*) FROM {papers}
            WHERE nullif(trim(status), '') IS NOT NULL
              AND {STATUS_KEY.format(x="status")} NOT IN (SELECT status FROM _decisions_known)
            GROUP BY status ORDER BY count(*) DESC, status""").fetchall()
    finally:
        db.unregister("_decisions_known")
    return {status: int(n) for status, n in rows}
