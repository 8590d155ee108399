"""Parameters of the tenure-events method (Herman's biblio.migration), validated once."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class CareerParams:
    """The three parameters of the tenure-events method.

    Parameters
    ----------
    backfill
        ``b``: gaps of at most this many years between two observations of the same place are
        filled (the person is taken to have stayed); longer gaps split the tenure.
    overlap
        ``o``: a change of place counts as a migration when the old tenure overlaps the new one
        by at most this many years (stale affiliations, joint papers at the move).
    temporary
        ``d``: a second affiliation of at most this many years that ends while the home one
        continues is a temporary position (a visit), not a move.
    backfill_seen
        Also fill gap years in which the person published, but only elsewhere (the reference
        R code does). Default ``False``: such a year is evidence of absence and is not filled,
        so a three-year stay abroad bridged by one stale paper does not pass for a visit.
    """

    backfill: int = 2
    overlap: int = 3
    temporary: int = 4
    backfill_seen: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.backfill_seen, bool):
            raise ValueError("careers parameter backfill_seen must be a bool")
        for name, value in asdict(self).items():
            if name == "backfill_seen":
                continue
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"careers parameter {name} must be an integer >= 0, got {value!r}")

    @classmethod
    def from_mapping(cls, params: dict[str, Any]) -> CareerParams:
        """Build from ``ctx.params`` (accepts ``b``/``o``/``d`` as aliases)."""
        aliases = {"b": "backfill", "o": "overlap", "d": "temporary"}
        known = {aliases.get(k, k): v for k, v in params.items()}
        unknown = set(known) - {"backfill", "overlap", "temporary", "backfill_seen"}
        if unknown:
            raise ValueError(f"unknown careers parameters: {', '.join(sorted(unknown))}")
        values: dict[str, Any] = {
            k: (bool(v) if k == "backfill_seen" else int(v)) for k, v in known.items()
        }
        return cls(**values)

    def as_dict(self) -> dict[str, Any]:
        """The parameters as recorded in ``build_params``."""
        return asdict(self)
