"""Policy levers and scenarios: what a user writes (TOML or Python) and what it changes.

Every lever multiplies the *odds* of named alternatives against staying put, for named groups of
researchers, by ``factor`` (equivalently: adds ``log(factor)`` to their log-odds). Moves are rare
(a few per cent a year), so an odds factor is, to first order, a rate factor: ``factor = 1.2``
means "about 20% more of these moves". The mapping of each lever kind onto the model's parameters
is spelled out by :meth:`Lever.describe` and in ``docs/scenarios.md``.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Lever kinds and what each one acts on.
LEVER_KINDS: dict[str, str] = {
    "attractiveness": (
        "odds of moving to COUNTRY (for movers at the given stages) x factor, and odds of "
        "leaving COUNTRY (for its residents at those stages) / factor"
    ),
    "retention": "odds of leaving COUNTRY (for its residents in the given sector/stages) / factor",
    "inflow": "odds of moving to COUNTRY for movers from the given origins x factor",
    "return": "odds of a return move to COUNTRY for researchers whose observed origin is COUNTRY x factor",
    "academia_to_industry": "odds of a domestic academia -> industry switch in COUNTRY x factor",
}

STAGES = ("student", "postdoc", "faculty", "industry", "other")
SECTORS = ("academia", "industry", "other")
ORIGIN_BASES = ("sending", "first_observed")


class ScenarioError(ValueError):
    """A scenario file or lever is invalid (the message says what and where)."""


#: Accepted range of a lever's odds multiplier: beyond 100x either way a projection is
#: no longer about a policy (and the exponentials of the model overflow).
FACTOR_RANGE = (0.01, 100.0)
#: Accepted range of ``from_year``.
YEAR_RANGE = (1900, 2200)


@dataclass(frozen=True)
class Lever:
    """One policy lever.

    Parameters
    ----------
    kind
        One of :data:`LEVER_KINDS`.
    country
        ISO 3166-1 alpha-2 code of the country the policy is about.
    factor
        Odds multiplier (> 0). ``1.0`` is no change; ``0.7`` is a 30% cut.
    stages
        Career stages the lever applies to (``attractiveness``, ``retention``); empty = all.
    sector
        ``academia``, ``industry`` or ``other`` (``retention``); ``None`` = all sectors.
    origins
        Countries of the movers concerned (``inflow``); empty = every origin.
    origin_basis
        For ``inflow``: ``sending`` (the country the mover leaves, default) or
        ``first_observed`` (the mover's first observed country: an observed career fact,
        never a nationality).
    from_year
        First calendar year the lever acts; ``None`` = from the first projected year.

    Examples
    --------
    >>> Lever("retention", "DE", 1.25, sector="industry").factor
    1.25
    """

    kind: str
    country: str
    factor: float
    stages: tuple[str, ...] = ()
    sector: str | None = None
    origins: tuple[str, ...] = ()
    origin_basis: str = "sending"
    from_year: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in LEVER_KINDS:
            raise ScenarioError(
                f"unknown lever kind {self.kind!r}; choose one of {', '.join(LEVER_KINDS)}"
            )
        country = str(self.country).upper()
        if len(country) != 2 or not country.isalpha():
            raise ScenarioError(f"lever country must be an ISO alpha-2 code, got {self.country!r}")
        object.__setattr__(self, "country", country)
        if isinstance(self.factor, bool) or not (
            isinstance(self.factor, int | float) and math.isfinite(self.factor)
        ):
            raise ScenarioError(f"lever factor must be a number, got {self.factor!r}")
        lo, hi = FACTOR_RANGE
        if not lo <= self.factor <= hi:
            raise ScenarioError(
                f"lever factor must be between {lo:g} and {hi:g} (an odds multiplier; 1 is no "
                f"change), got {self.factor:g}"
            )
        object.__setattr__(self, "factor", float(self.factor))
        if self.from_year is not None:
            first, last = YEAR_RANGE
            if isinstance(self.from_year, bool) or not isinstance(self.from_year, int):
                raise ScenarioError(f"from_year must be a whole year, got {self.from_year!r}")
            if not first <= self.from_year <= last:
                raise ScenarioError(
                    f"from_year must be a year between {first} and {last}, got {self.from_year}"
                )
        stages = tuple(str(s).lower() for s in self.stages)
        bad = [s for s in stages if s not in STAGES]
        if bad:
            raise ScenarioError(f"unknown career stage(s) {bad}; choose from {', '.join(STAGES)}")
        object.__setattr__(self, "stages", stages)
        if self.sector is not None and self.sector not in SECTORS:
            raise ScenarioError(f"unknown sector {self.sector!r}; choose from {', '.join(SECTORS)}")
        object.__setattr__(self, "origins", tuple(str(o).upper() for o in self.origins))
        if self.origin_basis not in ORIGIN_BASES:
            raise ScenarioError(
                f"origin_basis must be one of {', '.join(ORIGIN_BASES)}, got {self.origin_basis!r}"
            )

    @property
    def log_factor(self) -> float:
        """The shift in log-odds this lever applies."""
        return math.log(self.factor)

    def describe(self) -> str:
        """Plain-language statement of the parameters this lever changes."""
        x = f"x{self.factor:.3g} (log-odds {self.log_factor:+.3f})"
        who = f"stages {', '.join(self.stages)}" if self.stages else "all stages"
        when = f" from {self.from_year}" if self.from_year is not None else ""
        if self.kind == "attractiveness":
            return (
                f"attractiveness of {self.country} for {who}{when}: odds of choosing "
                f"{self.country} as destination {x}; odds of leaving {self.country} "
                f"x{1 / self.factor:.3g}"
            )
        if self.kind == "retention":
            sec = f"{self.sector} sector" if self.sector else "all sectors"
            return (
                f"retention in {self.country} ({sec}, {who}){when}: odds of leaving "
                f"{self.country} x{1 / self.factor:.3g} (log-odds {-self.log_factor:+.3f})"
            )
        if self.kind == "inflow":
            basis = (
                "sending country" if self.origin_basis == "sending" else "first observed country"
            )
            orig = ", ".join(self.origins) if self.origins else "any"
            return f"inflow to {self.country} from {orig} ({basis}){when}: odds of moving there {x}"
        if self.kind == "return":
            return (
                f"returns to {self.country}{when}: odds of a return move for researchers first "
                f"observed in {self.country} and now abroad {x}"
            )
        return f"academia -> industry in {self.country}{when}: odds of a domestic switch {x}"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Lever:
        """Build a lever from a TOML table / dict (unknown keys are an error)."""
        allowed = {
            "kind",
            "country",
            "factor",
            "stages",
            "sector",
            "origins",
            "origin_basis",
            "from_year",
        }
        unknown = set(data) - allowed
        if unknown:
            raise ScenarioError(
                f"unknown lever key(s) {sorted(unknown)}; allowed {sorted(allowed)}"
            )
        missing = {"kind", "country", "factor"} - set(data)
        if missing:
            raise ScenarioError(f"lever is missing {sorted(missing)}")
        for key in ("stages", "origins"):
            value = data.get(key, [])
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ScenarioError(f"{key} must be a list of strings, got {value!r}")
        for key in ("kind", "country", "sector", "origin_basis"):
            if key in data and not isinstance(data[key], str):
                raise ScenarioError(f"{key} must be a string, got {data[key]!r}")
        return cls(
            kind=data["kind"],
            country=data["country"],
            factor=data["factor"],
            stages=tuple(data.get("stages", ())),
            sector=data.get("sector"),
            origins=tuple(data.get("origins", ())),
            origin_basis=data.get("origin_basis", "sending"),
            from_year=data.get("from_year"),
        )

    def to_dict(self) -> dict[str, Any]:
        """A plain dict (round-trips through :meth:`from_dict`)."""
        out: dict[str, Any] = {"kind": self.kind, "country": self.country, "factor": self.factor}
        if self.stages:
            out["stages"] = list(self.stages)
        if self.sector:
            out["sector"] = self.sector
        if self.origins:
            out["origins"] = list(self.origins)
            out["origin_basis"] = self.origin_basis
        if self.from_year is not None:
            out["from_year"] = self.from_year
        return out


@dataclass(frozen=True)
class Scenario:
    """A named set of levers applied together.

    Examples
    --------
    >>> s = Scenario(name="visa", levers=[Lever("inflow", "US", 0.7, origins=("CN",))])
    >>> s.assumptions()[0].startswith("inflow to US")
    True
    """

    name: str = "scenario"
    levers: list[Lever] = field(default_factory=list)
    description: str = ""

    @classmethod
    def from_toml(cls, path: str | Path) -> Scenario:
        """Read a scenario file (see ``docs/scenarios.md`` and the shipped examples)."""
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except UnicodeDecodeError as exc:
            raise ScenarioError(
                f"{path}: not UTF-8 text (byte {exc.object[exc.start : exc.start + 1]!r} at "
                f"offset {exc.start}); TOML files are UTF-8"
            ) from exc
        except tomllib.TOMLDecodeError as exc:
            raise ScenarioError(f"{path}: not valid TOML: {exc}") from exc
        except OSError as exc:
            raise ScenarioError(f"{path}: cannot read: {exc}") from exc
        try:
            return cls.from_dict(data, default_name=path.stem)
        except ScenarioError as exc:
            raise ScenarioError(f"{path}: {exc}") from exc

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, default_name: str = "scenario") -> Scenario:
        """Build from a parsed TOML document: ``name``, ``description``, ``[[lever]]`` tables."""
        unknown = set(data) - {"name", "description", "lever", "levers"}
        if unknown:
            raise ScenarioError(f"unknown top-level key(s) {sorted(unknown)}")
        raw = data.get("lever", data.get("levers", []))
        if not isinstance(raw, list) or not raw:
            raise ScenarioError("a scenario needs at least one [[lever]] table")
        for key in ("name", "description"):
            if key in data and not isinstance(data[key], str):
                raise ScenarioError(f"{key} must be a string, got {data[key]!r}")
        levers = []
        for i, item in enumerate(raw):
            if not isinstance(item, dict):
                raise ScenarioError(f"lever {i + 1} is not a table")
            try:
                levers.append(Lever.from_dict(item))
            except ScenarioError as exc:
                raise ScenarioError(f"lever {i + 1}: {exc}") from exc
        return cls(
            name=str(data.get("name", default_name)),
            levers=levers,
            description=str(data.get("description", "")),
        )

    def to_dict(self) -> dict[str, Any]:
        """A plain dict in the TOML layout."""
        return {
            "name": self.name,
            "description": self.description,
            "lever": [lever.to_dict() for lever in self.levers],
        }

    def assumptions(self) -> list[str]:
        """One line per lever saying which parameters it changes and by how much."""
        return [lever.describe() for lever in self.levers]
