"""A seeded career simulator: synthetic researchers rendered as resolved, linked authorships.

The simulator is the ground truth for the event detector (``tests/test_careers_*``) and the
engine of the scenario stage. Each synthetic person starts as a student in an origin country and
moves, year by year, through career stages (student -> postdoc -> faculty or industry). Every year
they may

- migrate to another country (the hazard is high at stage transitions, low otherwise),
- return to a country they lived in before (only while abroad),
- make a one-year visit to a foreign institution beside the home one (``temporary``),
- change institution or sector inside their country,
- stop publishing (careers end; some began before the observed window).

Their papers are then rendered the way the sources deliver them, with the usual noise:
Poisson papers per year (so some years have none), a stale affiliation on some papers in the
first years after a move, webmail email domains, missing career positions and a few missing
affiliations. Persons carry synthetic names ("Person 123"); nothing is inferred from names.

Example
-------
>>> corpus = simulate_careers(200, seed=1)
>>> sorted(corpus.true_moves["kind"].unique())  # doctest: +SKIP
['migration', 'return', 'temporary']
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

#: Origin / destination weights of the simulated countries (roughly the mix of top AI venues).
COUNTRY_WEIGHTS: dict[str, float] = {
    "US": 0.34,
    "CN": 0.20,
    "GB": 0.06,
    "DE": 0.05,
    "CA": 0.04,
    "FR": 0.03,
    "JP": 0.03,
    "KR": 0.03,
    "IN": 0.03,
    "SG": 0.02,
    "CH": 0.02,
    "HK": 0.02,
    "AU": 0.02,
    "IL": 0.015,
    "NL": 0.015,
    "IT": 0.01,
    "ES": 0.01,
    "SE": 0.01,
    "TW": 0.01,
}

COUNTRY_NAMES: dict[str, str] = {
    "US": "USA",
    "CN": "China",
    "GB": "United Kingdom",
    "DE": "Germany",
    "CA": "Canada",
    "FR": "France",
    "JP": "Japan",
    "KR": "South Korea",
    "IN": "India",
    "SG": "Singapore",
    "CH": "Switzerland",
    "HK": "Hong Kong",
    "AU": "Australia",
    "IL": "Israel",
    "NL": "Netherlands",
    "IT": "Italy",
    "ES": "Spain",
    "SE": "Sweden",
    "TW": "Taiwan",
}

WEBMAIL = ("gmail.com", "outlook.com", "163.com", "qq.com", "hotmail.com", "yahoo.com")
VENUES = ("nips", "icml", "iclr", "cvpr", "acl", "aaai")

#: Raw position strings per stage, as OpenReview profiles spell them.
POSITIONS: dict[str, tuple[str, ...]] = {
    "student": ("PhD student", "PhD student", "PhD student", "MS student", "Undergrad student"),
    "postdoc": ("Postdoc",),
    "faculty": ("Assistant Professor", "Associate Professor", "Full Professor", "Professor"),
    "industry": ("Research Scientist", "Researcher", "Principal Researcher", "Senior Researcher"),
}

AUTHORSHIP_COLUMNS = [
    "authorship_id",
    "paper_id",
    "venue",
    "year",
    "author_position",
    "author_name",
    "person_id",
    "institution",
    "country",
    "sector",
    "email_domain",
    "career_position",
    "raw_affiliation",
]


@dataclass(frozen=True)
class PolicyEffect:
    """A policy lever: multiply the hazard of one kind of move from ``from_year`` on.

    Parameters
    ----------
    kind
        ``"return"``: returns to ``country`` (by persons who lived there before);
        ``"inflow"``: any move into ``country``; ``"outflow"``: any move out of ``country``.
    country
        ISO 3166-1 alpha-2 code.
    factor
        Multiplier of the yearly hazard (1.0 = no effect).
    from_year
        First calendar year the policy is in force.
    """

    kind: Literal["return", "inflow", "outflow"]
    country: str
    factor: float
    from_year: int

    def __post_init__(self) -> None:
        if self.kind not in ("return", "inflow", "outflow"):
            raise ValueError(f"unknown policy kind {self.kind!r}")
        if self.factor < 0:
            raise ValueError("policy factor must be >= 0")


@dataclass
class SimulatedCorpus:
    """The output of :func:`simulate_careers`.

    Attributes
    ----------
    authorships
        One row per author slot, with the ``authorships`` contract columns as resolved and
        linked (see ``docs/tables.md``).
    true_moves
        One row per true event: person_id, year, kind (``migration``, ``return``,
        ``temporary``), from_country, to_country, and ``observable`` (the person has papers in
        the window before the move and in the new country after it, so a detector could see it).
    persons
        person_id, origin_country, career_start, career_end (last simulated year).
    """

    authorships: pd.DataFrame
    true_moves: pd.DataFrame
    persons: pd.DataFrame = field(default_factory=pd.DataFrame)


@dataclass(frozen=True)
class SimulationRates:
    """Yearly hazards and noise rates of the simulator (defaults are the documented ones)."""

    papers_mean: float = 2.5  # mean papers per active year (Gamma-distributed per person)
    move_at_transition: float = 0.30  # international move when the career stage changes
    move_yearly: float = 0.025  # international move in any other year
    return_yearly: float = 0.04  # extra hazard of returning while abroad
    visit_yearly: float = 0.07  # one-year visit to a foreign institution
    job_change_yearly: float = 0.06  # change of institution inside the country
    exit_yearly: float = 0.04  # stop publishing
    min_stay: int = 3  # years in a country before the next international move
    stale_share: float = (
        0.2  # share of papers citing the old institution in the 2 years after a move
    )
    webmail_share: float = 0.15
    missing_position_share: float = 0.35
    missing_affiliation_share: float = 0.03


def _institutions(country: str, sector: str, k: int) -> tuple[str, str]:
    """Name and email domain of the k-th synthetic institution of a country and sector."""
    cc = country.lower()
    if sector == "education":
        return f"University {k} of {COUNTRY_NAMES[country]}", f"u{k}.{cc}.edu.example"
    if sector == "company":
        return f"{COUNTRY_NAMES[country]} AI Lab {k}", f"lab{k}.{cc}.example.com"
    return f"{COUNTRY_NAMES[country]} Research Institute {k}", f"ri{k}.{cc}.example.org"


class _Simulator:
    def __init__(
        self,
        rng: np.random.Generator,
        start_year: int,
        end_year: int,
        policy: PolicyEffect | None,
        rates: SimulationRates,
    ) -> None:
        self.rng = rng
        self.start_year = start_year
        self.end_year = end_year
        self.policy = policy
        self.rates = rates
        self.countries = list(COUNTRY_WEIGHTS)
        w = np.array([COUNTRY_WEIGHTS[c] for c in self.countries])
        self.weights = w / w.sum()
        self.rows: list[tuple] = []
        self.moves: list[tuple] = []
        self.persons: list[tuple] = []
        self.paper_counter = 0
        self.domains: dict[str, str] = {}

    # -- places --------------------------------------------------------------------------
    def place(self, country: str, stage: str) -> tuple[str, str]:
        """A (institution, sector) for someone of ``stage`` in ``country``."""
        if stage == "industry":
            sector = "company"
        elif stage in ("student", "postdoc", "faculty"):
            sector = "facility" if self.rng.random() < 0.1 else "education"
        else:
            sector = "education"
        name, domain = _institutions(country, sector, int(self.rng.integers(1, 9)))
        self.domains[name] = domain
        return name, sector

    def destination_rates(
        self, year: int, home: str, past_homes: list[str], base: float
    ) -> dict[str, float]:
        """Yearly hazard of moving to each other country."""
        r = self.rates
        rates: dict[str, float] = {}
        for c, w in zip(self.countries, self.weights, strict=True):
            if c == home:
                continue
            rates[c] = base * w / (1 - COUNTRY_WEIGHTS[home] / sum(COUNTRY_WEIGHTS.values()))
        abroad_from = [c for c in past_homes if c != home]
        for c in set(abroad_from):
            rates[c] = rates.get(c, 0.0) + r.return_yearly / len(set(abroad_from))
        p = self.policy
        if p is not None and year >= p.from_year:
            if p.kind == "outflow" and home == p.country:
                rates = {c: v * p.factor for c, v in rates.items()}
            elif (p.kind == "inflow" and p.country in rates) or (
                p.kind == "return" and p.country in rates and p.country in abroad_from
            ):
                rates[p.country] *= p.factor
        return rates

    # -- one person ----------------------------------------------------------------------
    def person(self, idx: int) -> None:
        rng, r = self.rng, self.rates
        pid = f"P{idx:07d}"
        name = f"Person {idx}"
        origin = str(rng.choice(self.countries, p=self.weights))
        career_start = int(rng.integers(self.start_year - 6, self.end_year))
        productivity = float(rng.gamma(6.0, r.papers_mean / 6.0))
        webmail = rng.random() < r.webmail_share * 2  # some people always use webmail
        home = origin
        past_homes = [origin]
        stage = "student"
        stage_len = {"student": int(rng.integers(3, 7)), "postdoc": int(rng.integers(2, 4))}
        years_in_stage = 0
        inst, sector = self.place(home, stage)
        stale: tuple[str, str, str, int] | None = None  # (inst, sector, country, until_year)
        home_since = career_start
        year = career_start
        papers_by_country_year: set[tuple[str, int]] = set()
        pending_moves: list[tuple[int, str, str, str]] = []
        while year <= self.end_year:
            # stage transitions
            transition = False
            if stage in stage_len and years_in_stage >= stage_len[stage]:
                if stage == "student":
                    stage = "postdoc" if rng.random() < 0.5 else self._senior(rng)
                else:
                    stage = self._senior(rng)
                years_in_stage = 0
                transition = True
            base = r.move_at_transition if transition else r.move_yearly
            if year > career_start and year - home_since >= r.min_stay:
                rates = self.destination_rates(year, home, past_homes, base)
                total = sum(rates.values())
                if total > 0.95:
                    rates = {c: v * 0.95 / total for c, v in rates.items()}
                    total = 0.95
                u = rng.random()
                if u < total:
                    dest = self._pick(rates, u)
                    kind = "return" if dest in past_homes else "migration"
                    stale = (inst, sector, home, year + 1)
                    pending_moves.append((year, kind, home, dest))
                    home = dest
                    past_homes.append(dest)
                    home_since = year
                    inst, sector = self.place(home, stage)
                elif transition or rng.random() < r.job_change_yearly:
                    stale = (inst, sector, home, year + 1) if rng.random() < 0.5 else None
                    inst, sector = self.place(home, stage)
            # papers of the year
            n = int(rng.poisson(productivity * (0.8 if stage == "student" else 1.0)))
            visit = None
            if (
                year >= self.start_year
                and year - home_since >= 1
                and rng.random() < r.visit_yearly
                and n >= 2  # a visit shows beside the home affiliation
            ):
                vc = str(rng.choice([c for c in self.countries if c != home]))
                visit = (*self.place(vc, "faculty"), vc)
                pending_moves.append((year, "temporary", home, vc))
            if year >= self.start_year:
                for i in range(n):
                    if visit is not None and i < max(1, n // 3):
                        p_inst, p_sector, p_country = visit
                    elif (
                        stale is not None
                        and year <= stale[3]
                        and i < n - 1  # "some papers": the last paper of the year is current
                        and rng.random() < r.stale_share
                    ):
                        p_inst, p_sector, p_country = stale[0], stale[1], stale[2]
                    else:
                        p_inst, p_sector, p_country = inst, sector, home
                    if self._render(pid, name, year, stage, p_inst, p_sector, p_country, webmail):
                        papers_by_country_year.add((p_country, year))
            year += 1
            years_in_stage += 1
            if rng.random() < r.exit_yearly and year - career_start > 2:
                break
        self.persons.append((pid, origin, career_start, year - 1))
        self._record_moves(pid, pending_moves, papers_by_country_year)

    def _record_moves(
        self,
        pid: str,
        moves: list[tuple[int, str, str, str]],
        seen: set[tuple[str, int]],
    ) -> None:
        intl = [m for m in moves if m[1] != "temporary"]
        for year, kind, src, dst in moves:
            if year < self.start_year:
                continue
            if kind == "temporary":
                observable = (dst, year) in seen
            else:
                nxt = min((m[0] for m in intl if m[0] > year), default=self.end_year + 1)
                before = any(c == src and y < year for c, y in seen)
                after = any(c == dst and year <= y < nxt for c, y in seen)
                observable = before and after
            self.moves.append((pid, year, kind, src, dst, observable))

    @staticmethod
    def _senior(rng: np.random.Generator) -> str:
        return "faculty" if rng.random() < 0.55 else "industry"

    @staticmethod
    def _pick(rates: dict[str, float], u: float) -> str:
        acc = 0.0
        for c, v in rates.items():
            acc += v
            if u < acc:
                return c
        return next(reversed(rates))

    def _render(
        self,
        pid: str,
        name: str,
        year: int,
        stage: str,
        inst: str,
        sector: str,
        country: str,
        webmail: bool,
    ) -> bool:
        """Append one author slot; True when its affiliation (and country) is rendered."""
        rng, r = self.rng, self.rates
        self.paper_counter += 1
        venue = VENUES[int(rng.integers(0, len(VENUES)))]
        paper_id = f"sim:{venue}{year}:{self.paper_counter}"
        pos = int(rng.integers(0, 5))
        domain = (
            str(rng.choice(WEBMAIL))
            if webmail or rng.random() < r.webmail_share / 2
            else self.domains[inst]
        )
        position = (
            None if rng.random() < r.missing_position_share else str(rng.choice(POSITIONS[stage]))
        )
        if rng.random() < r.missing_affiliation_share:
            raw, inst_out, country_out, sector_out = None, None, None, None
        else:
            raw = f"{inst}, {COUNTRY_NAMES[country]}"
            inst_out, country_out, sector_out = inst, country, sector
        self.rows.append(
            (
                f"{paper_id}#{pos}",
                paper_id,
                venue,
                year,
                pos,
                name,
                pid,
                inst_out,
                country_out,
                sector_out,
                domain,
                position,
                raw,
            )
        )
        return raw is not None


def simulate_careers(
    n_persons: int,
    *,
    seed: int = 0,
    start_year: int = 2005,
    end_year: int = 2024,
    policy: PolicyEffect | None = None,
    rates: SimulationRates | None = None,
) -> SimulatedCorpus:
    """Simulate ``n_persons`` research careers and render them as authorships.

    Parameters
    ----------
    n_persons
        Number of synthetic persons.
    seed
        Seed of the random generator; the same seed gives the same corpus.
    start_year, end_year
        Observed window: papers are rendered for these years only (careers may start up to six
        years earlier, so some are left-censored).
    policy
        Optional :class:`PolicyEffect` multiplying one kind of move hazard.
    rates
        Hazards and noise rates (:class:`SimulationRates`; defaults documented there).

    Returns
    -------
    SimulatedCorpus
        ``authorships`` (contract columns, resolved and linked), ``true_moves``, ``persons``.

    Examples
    --------
    >>> corpus = simulate_careers(50, seed=3)
    >>> set(corpus.authorships["person_id"]) <= set(corpus.persons["person_id"])
    True
    """
    if n_persons < 0:
        raise ValueError("n_persons must be >= 0")
    if end_year < start_year:
        raise ValueError("end_year must be >= start_year")
    sim = _Simulator(
        np.random.default_rng(seed), start_year, end_year, policy, rates or SimulationRates()
    )
    for i in range(n_persons):
        sim.person(i)
    authorships = pd.DataFrame(sim.rows, columns=AUTHORSHIP_COLUMNS)
    authorships = authorships.astype({"year": "int64", "author_position": "int64"}).drop_duplicates(
        "authorship_id"
    )
    true_moves = pd.DataFrame(
        sim.moves,
        columns=["person_id", "year", "kind", "from_country", "to_country", "observable"],
    ).astype({"year": "int64", "observable": "bool"})
    persons = pd.DataFrame(
        sim.persons, columns=["person_id", "origin_country", "career_start", "career_end"]
    )
    return SimulatedCorpus(authorships=authorships, true_moves=true_moves, persons=persons)
