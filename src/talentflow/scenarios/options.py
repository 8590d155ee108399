"""The options of the move model and the known interventions a fit can estimate."""

from __future__ import annotations

from dataclasses import dataclass

POLICY_KINDS = ("outflow", "inflow", "return")


@dataclass(frozen=True)
class FitOptions:
    """Options of the model (recorded with every result).

    Attributes
    ----------
    n_countries
        Named country groups (the most active countries over the last five years); the rest
        form ``OTHER``.
    period_width, n_periods
        Periods are bins of ``period_width`` outcome years ending at ``T``; the earliest bin
        takes everything before. Projections use the last period's effects.
    window
        Years before ``T`` used for continuation (exit) rates and entrants.
    min_events
        A dummy level of the hazard with fewer events (or non-events) merges into its
        reference, to avoid separation.
    dev_sd
        Prior standard deviation of the destination x period deviations (ridge penalty).
    """

    n_countries: int = 15
    period_width: int = 3
    n_periods: int = 4
    window: int = 3
    min_events: int = 3
    dev_sd: float = 0.5


@dataclass(frozen=True)
class PolicyTerm:
    """A known intervention to estimate: a dummy on from ``from_year``.

    ``outflow``: hazard of leaving ``country``. ``inflow``: choice of ``country`` as destination
    (optionally only for movers from ``origins``). ``return``: a return move to ``country`` by
    researchers first observed there (hazard of abroad researchers from there, and their choice
    of it).
    """

    kind: str
    country: str
    from_year: int
    origins: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in POLICY_KINDS:
            raise ValueError(f"policy term kind must be one of {POLICY_KINDS}")

    @property
    def name(self) -> str:
        return f"policy:{self.kind}:{self.country}:{self.from_year}"
