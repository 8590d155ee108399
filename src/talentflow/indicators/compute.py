"""All indicators from the careers tables, as pandas DataFrames (engine-free, used by the stage).

Definitions (see docs/indicators.md for the full text):

- ``country_year``: stock (headcount on the padded panel), fractional stock, share of the year's
  stock, inflow / outflow / net flow (moves dated to the arrival year), rates per 1,000 stock,
  returns (arrivals in a country the person was in before), entries / exits (first / last panel
  year). Identity: ``stock[y] - stock[y-1] = entries[y] - exits[y-1] + inflow[y] - outflow[y]``.
- ``flows``: bilateral moves ``from_country -> to_country`` per arrival year (and pooled).
- ``retention``: Kaplan-Meier share of a cohort still in its country k years after the start
  (first observed year, or the last observed student year in the training country); leaving the
  data is censoring, not leaving the country.
- ``returns``: of persons who left a country (first departure), cumulative share back within k
  years (1 - Kaplan-Meier of the time to return), censored at the last observation.
- ``origin_work``: persons authoring the papers of a population (a venue-year such as
  ``nips2022``, a pooled venue such as ``nips2021-2024``, or every venue of a year, ``all2023``)
  by observed origin (first observed country, or training country) and work country. Only the
  papers the population rule admits count (``population_papers``: ``accepted`` leaves out
  rejected and withdrawn submissions, which still feed the careers and so the panel).
- ``sector_flows``: changes of sector group between consecutive years, domestic or international.

Subsets (the ``subset`` column): ``all``; ``llm`` = persons with at least one LLM paper of the
LLM era; ``top`` = persons with at least one top-tier paper (``papers.tier = 'top'``); one per
other subfield (``nlp``, ``vision``, ``rl``, ``robotics``, ``theory``, ``other_ml``) = persons
with at least one paper of that subfield (any year); in ``origin_work`` the authors of the
population's papers of that subset. Papers count only when the population rule admits them.
In ``country_year`` only,
``stage:<career stage>`` = the person-years whose careers stage that year is that stage
(``unknown`` when the source did not say), a partition of ``all``.

Country groupings (``country_year_groups``, ``flows_groups``, ``country_groups``): the same
``country_year`` and ``flows`` on the panel regrouped by ``groupings.grouping``; only rows of
groups (and flows touching a group) are kept, since every other row equals the ungrouped one.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

from talentflow.indicators import bootstrap as bs
from talentflow.indicators.cells import TOP, _authorships, _Builder, _origins
from talentflow.indicators.country_year import _country_year, _Totals
from talentflow.indicators.coverage import FixedPanel, year_flags
from talentflow.indicators.flows import _flows, _origin_work, _retention, _returns, _sector_flows
from talentflow.indicators.groupings import GROUPINGS, grouping, groupings_table
from talentflow.indicators.panel import Panel, build_panel, regroup
from talentflow.indicators.subfields import LLM_ERA_START, SUBFIELDS, classify

#: Population rules: which papers make a venue-year population (``population_papers``).
POPULATION_RULES = ("accepted", "all")
#: Where the bootstrap's replicate sums are computed (``bootstrap_on``).
BOOTSTRAP_ON = ("driver", "engine")
#: Where the tables of :data:`ENGINE_TABLES` are computed (``indicators_on``).
INDICATORS_ON = ("auto", "driver", "engine")
#: Decisions that keep a paper out of the populations under the ``accepted`` rule.
NOT_ACCEPTED = ("rejected", "withdrawn")
#: Subfields that get a person subset besides ``llm`` (which keeps its LLM-era condition).
SUBFIELD_SUBSETS = tuple(s for s in SUBFIELDS if s != "llm")


@dataclass(frozen=True)
class IndicatorParams:
    """Parameters of the indicators stage (recorded in ``build_params``).

    Parameters
    ----------
    replicates
        Bootstrap replicates (Poisson weights per person).
    seed
        Seed of the bootstrap weights.
    min_cell
        Cells whose count (stock, n, at_risk) is below this are suppressed.
    k_max
        Horizons ``k = 1..k_max`` years for retention and returns.
    llm_era_start
        First year of the LLM era.
    subfields
        Subfields that get a person subset (besides ``llm``, always computed).
    stages
        Add the ``stage:<career stage>`` subsets to ``country_year``.
    groupings
        Country groupings (names in ``groupings.GROUPINGS``) computed into
        ``country_year_groups`` and ``flows_groups``.
    population_papers
        ``accepted`` (default): populations and person subsets count the papers whose decision
        is not ``rejected``/``withdrawn`` (accepted, or unknown: paper lists without a status
        list accepted papers); ``all``: every paper, submissions included. The careers (and so
        the panel behind stocks and flows) use every paper either way.
    pools
        Add pooled ``origin_work`` populations: ``all<year>`` (every venue of a year) and
        ``<venue><first>-<last>`` over the venue's years among the last ``pool_years`` years
        up to ``pool_end`` (default: the last year with authorships).
    pool_years, pool_end
        The window of the pooled venue populations.
    complete_threshold
        A year is complete when its venues hold at least this share of its adjacent years'
        population papers together (``coverage.completeness``).
    panel_years
        Most years in the fixed venue panel's window (``coverage.fixed_panel``).
    bootstrap_on
        Where the replicate sums are computed: ``driver`` (default; sparse products in NumPy)
        or ``engine`` (a map-reduce on the stage's engine,
        :mod:`talentflow.indicators.replicates`). The weights are the same, so are the
        intervals (to float32 rounding).
    indicators_on
        Where the panel, the contributions and the point estimates of every table are
        computed: ``auto`` (default: ``engine`` on Spark, ``driver`` on DuckDB, where one
        machine's pandas and sparse products cost less CPU), ``driver`` (pandas,
        :func:`compute`) or ``engine`` (Ibis on the
        stage's engine, :func:`talentflow.indicators.on_engine.compute_on_engine`: only cell
        sums come back, the replicate sums run there too, and the weights are drawn there).
        Same weights, so the same tables (to float32 rounding of fractional sums).
    """

    replicates: int = 200
    seed: int = 20261129
    min_cell: int = 5
    k_max: int = 10
    llm_era_start: int = LLM_ERA_START
    subfields: tuple[str, ...] = SUBFIELD_SUBSETS
    stages: bool = True
    groupings: tuple[str, ...] = tuple(GROUPINGS)
    population_papers: str = "accepted"
    pools: bool = True
    pool_years: int = 4
    pool_end: int | None = None
    complete_threshold: float = 0.5
    panel_years: int = 4
    bootstrap_on: str = "driver"
    indicators_on: str = "auto"

    def where(self, engine_name: str) -> str:
        """``driver`` or ``engine``: where the tables are computed on an engine of this name."""
        if self.indicators_on != "auto":
            return self.indicators_on
        return "engine" if engine_name == "spark" else "driver"

    def __post_init__(self) -> None:
        if self.indicators_on not in INDICATORS_ON:
            raise ValueError(
                f"indicators_on must be one of {INDICATORS_ON}, got {self.indicators_on!r}"
            )
        if self.bootstrap_on not in BOOTSTRAP_ON:
            raise ValueError(
                f"bootstrap_on must be one of {BOOTSTRAP_ON}, got {self.bootstrap_on!r}"
            )
        if self.population_papers not in POPULATION_RULES:
            raise ValueError(
                f"population_papers must be one of {POPULATION_RULES}, "
                f"got {self.population_papers!r}"
            )
        if self.pool_years < 1 or self.panel_years < 1:
            raise ValueError("pool_years and panel_years must be >= 1")
        if not 0 <= self.complete_threshold <= 1:
            raise ValueError("complete_threshold must be between 0 and 1")
        if self.replicates < 0 or self.min_cell < 0 or self.k_max < 1:
            raise ValueError("replicates and min_cell must be >= 0 and k_max >= 1")
        bad = set(self.subfields) - set(SUBFIELD_SUBSETS)
        if bad:
            raise ValueError(f"unknown subfields {sorted(bad)}; known: {SUBFIELD_SUBSETS}")
        bad = set(self.groupings) - set(GROUPINGS)
        if bad:
            raise ValueError(f"unknown groupings {sorted(bad)}; known: {tuple(GROUPINGS)}")

    @classmethod
    def from_mapping(cls, params: dict[str, Any]) -> IndicatorParams:
        """Build from ``ctx.params`` (``bootstrap``/``min-cell`` accepted as aliases).

        ``subfields`` and ``groupings`` take a list or a comma-separated string (``all``:
        every one, ``none`` or empty: none); ``stages`` and ``pools`` a bool or
        ``true``/``false``; ``population_papers`` ``accepted`` or ``all``.
        """
        aliases = {
            "bootstrap": "replicates",
            "min-cell": "min_cell",
            "k": "k_max",
            "population-papers": "population_papers",
            "bootstrap-on": "bootstrap_on",
            "indicators-on": "indicators_on",
        }
        known = {aliases.get(k, k): v for k, v in params.items()}
        unknown = set(known) - set(asdict(cls()))
        if unknown:
            raise ValueError(f"unknown indicators parameters: {', '.join(sorted(unknown))}")
        choices = {"subfields": SUBFIELD_SUBSETS, "groupings": tuple(GROUPINGS)}
        values: dict[str, Any] = {}
        for k, v in known.items():
            if k in choices:
                values[k] = _names(v, choices[k])
            elif k in ("stages", "pools"):
                values[k] = v if isinstance(v, bool) else str(v).lower() in ("1", "true", "yes")
            elif k in ("population_papers", "bootstrap_on", "indicators_on"):
                values[k] = str(v)
            elif k == "pool_end":
                values[k] = None if v is None else int(v)
            elif k == "complete_threshold":
                values[k] = float(v)
            else:
                values[k] = int(v)
        return cls(**values)


def _names(value: Any, every: tuple[str, ...]) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    names = [str(v) for v in value]
    if names == ["all"]:
        return every
    if names in ([], ["none"]):
        return ()
    return tuple(dict.fromkeys(names))


TABLES = ("country_year", "flows", "retention", "returns", "origin_work", "sector_flows")
PANEL_TABLES = ("country_year_panel", "flows_panel")
GROUP_TABLES = ("country_year_groups", "flows_groups", "country_groups")


def compute(
    tables: dict[str, pd.DataFrame],
    params: IndicatorParams | None = None,
    *,
    consume: bool = False,
    complete_years: set[int] | None = None,
    fixed: FixedPanel | None = None,
    engine: Any = None,
    overlap: bool = True,
) -> dict[str, pd.DataFrame]:
    """Compute every indicator table.

    Parameters
    ----------
    tables
        ``person_years`` (required); optional ``person_profile``, ``authorships``
        (``paper_id, person_id, venue, year``), ``papers`` (for subfields).
    params
        :class:`IndicatorParams` (defaults if None).
    consume
        Remove each input from ``tables`` once it has been used, so that its memory is freed
        while the rest is computed (the stage does this; at 10M author slots the inputs are
        gigabytes).
    complete_years
        Years the coverage rule calls complete (``coverage.completeness``): every table with
        a year (``cohort_year``, or a population's years) gets a ``complete_year`` column.
    fixed
        The fixed venue panel (``coverage.fixed_panel``): adds ``country_year_panel`` and
        ``flows_panel``, the same indicators on the careers seen only at the panel's venues
        in its window (subsets ``all``, ``llm``, ``top``).
    engine
        A :class:`talentflow.engines.Engine` to sum the bootstrap replicates on (see
        :func:`talentflow.indicators.bootstrap.run`); default: on the driver. The weights
        are the same either way, so are the intervals.
    overlap
        Sum each set of tables' bootstrap replicates in a worker thread while the next
        set's cells are made (on the driver only; the same tables either way).

    Returns
    -------
    dict
        The six indicator tables, ``paper_subfields``, and (when ``params.groupings``) the
        grouped ``country_year_groups``, ``flows_groups`` and ``country_groups``.
    """
    params = params or IndicatorParams()
    take = tables.pop if consume else tables.get
    if "person_years" not in tables:
        raise KeyError("person_years")
    # The papers are classified in a thread while the panel is built: the rules run in
    # Arrow's regex kernels, which release the GIL, so the two share the cores.
    with ThreadPoolExecutor(1) as pool:
        classified = pool.submit(_classified, take("papers", None), params)
        person_years = take("person_years", None)
        panel = build_panel(person_years)
        subfields, flags = classified.result()
    auth = _authorships(take("authorships", None), panel, subfields, flags)
    subsets = _person_subsets(auth, panel.n_persons, params.subfields)
    # drawn once, shared by every table (and by the fixed panel's persons, by key)
    weights = bs.Weights(_keys(panel), params.replicates, params.seed)
    # Every estimate uses the same bootstrap weights, so tables estimated in separate calls
    # agree as if estimated together; separate calls let each set's matrices be freed
    # before the next is built.
    estimates = _Estimates(
        params, weights, engine, overlap=overlap and engine is None and params.replicates > 0
    )
    try:
        fixed_job = None
        if fixed is not None and fixed.venues:
            fixed_job = _fixed_panel_tables(
                person_years, panel, auth, subsets, fixed, weights, estimates
            )
        del person_years
        if params.pools:
            auth = _with_pools(auth, params.pool_years, params.pool_end)
        origins = _origins(panel, take("person_profile", None))
        builders = {
            "retention": _retention(panel, subsets, origins, params.k_max),
            "returns": _returns(panel, subsets, params.k_max),
            "origin_work": _origin_work(panel, auth, origins, params.subfields),
            "sector_flows": _sector_flows(panel, subsets),
        }
        del auth, origins
        jobs = [estimates.add(builders, panel.n_persons)]
        del builders
        totals = _Totals.of(panel, subsets, params.stages)
        cy = _country_year(panel, subsets, stages=params.stages, totals=totals)
        jobs.append(
            estimates.add({"country_year": cy, "flows": _flows(panel, subsets)}, panel.n_persons)
        )
        del cy
        groups = {name: grouping(name) for name in params.groupings}
        jobs += _grouped(panel, subsets, params, totals, groups, estimates)
        done = estimates.results()
    finally:
        estimates.close()
        weights.close()  # the weights table on the engine, if one was made
    out: dict[str, pd.DataFrame] = {}
    for job in jobs:
        out |= done[job]
    if groups:
        out |= _grouped_tables(out, groups)
    out["paper_subfields"] = subfields.reset_index(drop=True)
    if fixed_job is not None:
        out |= done[fixed_job]
    if complete_years is not None:
        _flag_complete_years(out, complete_years)
    return out


def _classified(
    papers: pd.DataFrame | None, params: IndicatorParams
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`paper_subfields` and :func:`paper_flags` of ``papers``."""
    return paper_subfields(papers, params), paper_flags(papers, params.population_papers)


def paper_subfields(papers: pd.DataFrame | None, params: IndicatorParams) -> pd.DataFrame:
    """The ``paper_subfields`` table: each paper's subfield (one row per distinct paper)."""
    if papers is not None and len(papers):
        return classify(papers, llm_era_start=params.llm_era_start)
    return pd.DataFrame({"paper_id": [], "subfield": [], "is_llm_era": [], "rule": []}).astype(
        {"paper_id": str, "subfield": str, "is_llm_era": bool, "rule": str}
    )


def _grouped(
    panel: Panel,
    subsets: dict[str, np.ndarray],
    params: IndicatorParams,
    totals: _Totals,
    groups: dict[str, dict[str, str]],
    estimates: _Estimates,
) -> list[int]:
    """The estimates of each grouping's ``country_year@<grouping>`` and
    ``flows@<grouping>`` (:func:`_grouped_tables` makes the tables of them)."""
    jobs = []
    for name, mapping in groups.items():
        gpanel = regroup(panel, mapping)
        cy = _country_year(
            gpanel,
            subsets,
            stages=params.stages,
            keep=set(mapping.values()),
            totals=totals,
            mapping=mapping,
        )
        builders = {f"country_year@{name}": cy, f"flows@{name}": _flows(gpanel, subsets)}
        jobs.append(estimates.add(builders, panel.n_persons))
        del gpanel, cy, builders
    return jobs


class _Estimates:
    """Bootstrap estimates of sets of tables, finished into frames (:meth:`add`).

    With ``overlap``, each set is estimated in a worker thread while the caller makes the
    next set's cells; a set is handed over only once the one before it is done, so at most
    one set is summed while one more is built.
    """

    def __init__(
        self, params: IndicatorParams, weights: bs.Weights, engine: Any, *, overlap: bool
    ) -> None:
        self.params, self.weights, self.engine = params, weights, engine
        # the world totals' replicate sums, shared by country_year and its groupings
        self._kept = bs.KeptSums()
        self._pool = ThreadPoolExecutor(1) if overlap else None
        self._jobs: list[Any] = []

    def add(
        self,
        builders: dict[str, _Builder],
        n_persons: int,
        weights: bs.Weights | None = None,
        post: Callable[[dict[str, pd.DataFrame]], dict[str, pd.DataFrame]] | None = None,
    ) -> int:
        """Estimate ``builders`` (persons ``0..n_persons-1``, their ``weights``; default the
        panel's) and apply ``post`` to the tables; the job's number in :meth:`results`."""
        args = (builders, n_persons, weights or self.weights, post)
        if self._pool is None:
            self._jobs.append(_Done(self._estimate(*args)))
        else:
            if self._jobs:
                self._jobs[-1].result()  # the previous set is done (and its matrices freed)
            self._jobs.append(self._pool.submit(self._estimate, *args))
        return len(self._jobs) - 1

    def _estimate(
        self,
        builders: dict[str, _Builder],
        n_persons: int,
        weights: bs.Weights,
        post: Callable[[dict[str, pd.DataFrame]], dict[str, pd.DataFrame]] | None,
    ) -> dict[str, pd.DataFrame]:
        specs = {name: b.spec for name, b in builders.items()}
        p = self.params
        results = bs.run(
            specs,
            n_persons,
            replicates=p.replicates,
            seed=p.seed,
            weights=weights,
            engine=self.engine,
            kept=self._kept,
        )
        out = {name: b.finish(results[name], p.min_cell) for name, b in builders.items()}
        return post(out) if post is not None else out

    def results(self) -> list[dict[str, pd.DataFrame]]:
        """The finished tables of every job, in the order they were added."""
        return [job.result() for job in self._jobs]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        self._kept.clear()


@dataclass
class _Done:
    """A job run at once (the interface of a future)."""

    value: dict[str, pd.DataFrame]

    def result(self) -> dict[str, pd.DataFrame]:
        return self.value


def _keys(panel: Panel) -> np.ndarray:
    """Each panel person's key, which the bootstrap weights are drawn from."""
    return panel.keys if panel.keys is not None else np.arange(panel.n_persons)


#: The column each table's completeness flag is read from.
_YEAR_COLUMN = {
    "country_year": "year",
    "flows": "year",
    "sector_flows": "year",
    "country_year_groups": "year",
    "flows_groups": "year",
    "country_year_panel": "year",
    "flows_panel": "year",
    "retention": "cohort_year",
    "origin_work": "population",
}


def _flag_complete_years(out: dict[str, pd.DataFrame], complete_years: set[int]) -> None:
    """Add ``complete_year`` to every table with a year (NULL on pooled rows)."""
    for name, col in _YEAR_COLUMN.items():
        if name in out and col in out[name].columns:
            out[name]["complete_year"] = year_flags(out[name], complete_years, col)


def _fixed_panel_tables(
    person_years: pd.DataFrame,
    panel: Panel,
    auth: pd.DataFrame,
    subsets: dict[str, np.ndarray],
    fixed: FixedPanel,
    weights: bs.Weights,
    estimates: _Estimates,
) -> int | None:
    """``country_year`` and ``flows`` on the careers seen at the fixed panel's venues (the
    job in ``estimates``; None: no such careers).

    A person-year enters when the person authored a population paper at a panel venue that
    year (within the window); the padded panel is built from those person-years only, so a
    series on it moves when persons move, not when venues enter or leave the corpus.
    """
    window = set(fixed.years)
    labels = [f"{v}{y}" for v in fixed.venues for y in fixed.years]
    at = auth["population"].isin(labels).to_numpy() & auth["in_population"].to_numpy(bool)
    pidx = auth.loc[at, "pidx"].to_numpy(np.int64)
    if "person_id" in person_years.columns:
        by, py = "person_id", person_years.drop(columns=["person_key"], errors="ignore")
        who = panel.persons[pidx]
    else:  # the keys stand for the ids (``stage.read_inputs``)
        by, py, who = "person_key", person_years, _keys(panel)[pidx]
    seen = pd.DataFrame({by: who, "year": auth.loc[at, "year"].to_numpy(np.int64)})
    seen = seen.drop_duplicates()
    seen = seen[seen["year"].isin(window)]
    py = py[py["year"].isin(window)].merge(seen, on=[by, "year"])
    if not len(py):
        return None
    fpanel = build_panel(py)
    # the panel's persons are a subset of the full panel's (sorted ids, or keys, in both)
    at_full = np.searchsorted(panel.persons, fpanel.persons)
    keep = ("all", "llm", TOP)
    fsubsets = {k: subsets[k][at_full] for k in keep if k in subsets}
    builders = {
        "country_year_panel": _country_year(fpanel, fsubsets),
        "flows_panel": _flows(fpanel, fsubsets),
    }
    return estimates.add(builders, fpanel.n_persons, weights.of(at_full), _fixed_panel_basis)


def _fixed_panel_basis(out: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The fixed panel's tables marked as such (``country_year_panel``: sector ``all``)."""
    for frame in out.values():
        frame["basis"] = "fixed_panel"
    cy = out["country_year_panel"]
    out["country_year_panel"] = cy[cy["sector"] == "all"].reset_index(drop=True)
    return out


def paper_flags(papers: pd.DataFrame | None, rule: str = "accepted") -> pd.DataFrame:
    """Per paper: ``in_population`` (the population rule admits it) and ``is_top``.

    ``rule`` ``accepted`` admits every paper whose ``decision`` is not ``rejected`` or
    ``withdrawn`` (an ``unknown`` decision is admitted: paper lists without a status are lists
    of accepted papers); ``all`` admits every paper. ``is_top`` is ``tier = 'top'`` (top-tier
    papers are accepted by definition). Without a ``decision`` column every decision is
    unknown (and without ``tier`` no paper is top-tier).
    """
    if papers is None or not len(papers):
        return pd.DataFrame({"paper_id": [], "in_population": [], "is_top": []}).astype(
            {"paper_id": object, "in_population": bool, "is_top": bool}
        )
    n = len(papers)
    if "decision" in papers.columns and rule == "accepted":
        keep = ~papers["decision"].isin(NOT_ACCEPTED).to_numpy(bool)
    else:
        keep = np.ones(n, dtype=bool)
    top = (
        (papers["tier"] == TOP).fillna(False).to_numpy(bool)
        if "tier" in papers.columns
        else np.zeros(n, dtype=bool)
    )
    return pd.DataFrame(
        {"paper_id": papers["paper_id"].to_numpy(), "in_population": keep, "is_top": top & keep}
    )


def _person_subsets(
    auth: pd.DataFrame, n_persons: int, subfields: tuple[str, ...]
) -> dict[str, np.ndarray]:
    """Person masks: ``all``, ``llm`` (an LLM paper of the LLM era), ``top`` (a top-tier
    paper), one per subfield; papers count only when the population rule admits them."""
    subsets = {"all": np.ones(n_persons, dtype=bool)}
    for name in ("llm", TOP, *subfields):
        mask = np.zeros(n_persons, dtype=bool)
        if len(auth):
            hit = auth[_HIT_COLUMN[name]] if name in _HIT_COLUMN else auth["subfield"] == name
            hit = hit.to_numpy(bool) & auth["in_population"].to_numpy(bool)
            mask[auth.loc[hit, "pidx"].to_numpy(np.int64)] = True
        subsets[name] = mask
    return subsets


#: Subsets read from a boolean column of the authorships (the others from ``subfield``).
_HIT_COLUMN = {"llm": "is_llm", TOP: "is_top"}


def _with_pools(auth: pd.DataFrame, pool_years: int, pool_end: int | None) -> pd.DataFrame:
    """``auth`` plus the rows of the pooled populations (see :class:`IndicatorParams`).

    A pooled population counts each person once: their rows take the last year of the pool in
    which they authored one of its papers, so the work country is the one of that year.
    """
    base = auth[auth["in_population"].to_numpy(bool)]
    if not len(base):
        return auth
    # venue and year of each population label (one label per distinct venue-year)
    code = base["population"].cat.codes.to_numpy()
    year = base["year"].to_numpy(np.int64)
    labels = base["population"].cat.categories.astype(str)
    label_year = pd.Series(year).groupby(code).first()
    label_venue = {
        c: labels[c][: -len(str(y))] for c, y in label_year.items()
    }  # per label, not per row
    pairs = pd.DataFrame(
        {"venue": [label_venue[c] for c in label_year.index], "year": label_year.to_numpy()}
    )
    venue_code = np.full(len(labels), -1, dtype=np.int64)
    venue_names = sorted(set(pairs["venue"]))
    for c, v in label_venue.items():
        venue_code[c] = venue_names.index(v)
    row_venue = venue_code[code]
    pools: dict[str, np.ndarray] = {}
    for name, (v, lo, hi) in pool_windows(pairs, pool_years, pool_end).items():
        inside = (year >= lo) & (year <= hi)
        pools[name] = inside if v is None else inside & (row_venue == venue_names.index(v))
    parts = [auth]
    for name, mask in pools.items():
        rows = base[mask].copy()
        last = rows.groupby("pidx")["year"].transform("max")
        rows["year"] = last.to_numpy(np.int64)
        rows["population"] = pd.Categorical.from_codes(
            np.zeros(len(rows), dtype=np.int8), categories=[name]
        )
        parts.append(rows)
    # one categorical over every label (codes, not a string per row)
    population = union_categoricals([p["population"] for p in parts])
    out = pd.concat([p.drop(columns="population") for p in parts], ignore_index=True)
    out["population"] = population
    return out


def pool_windows(
    pairs: pd.DataFrame, pool_years: int, pool_end: int | None
) -> dict[str, tuple[str | None, int, int]]:
    """The pooled populations of the venue-years ``pairs`` (``venue, year``, distinct):
    name -> (venue, first year, last year); venue ``None`` pools every venue.

    ``all<year>`` for every year; ``<venue><first>-<last>`` for every venue with at least two
    years among the last ``pool_years`` years up to ``pool_end`` (default: the last year).
    """
    if not len(pairs):
        return {}
    end = int(pool_end) if pool_end is not None else int(pairs["year"].max())
    window = pairs[(pairs["year"] <= end) & (pairs["year"] > end - pool_years)]
    pools: dict[str, tuple[str | None, int, int]] = {}
    for y in sorted(pairs["year"].unique()):
        pools[f"all{int(y)}"] = (None, int(y), int(y))
    for v, g in window.groupby("venue"):
        if len(g) >= 2:
            lo, hi = int(g["year"].min()), int(g["year"].max())
            pools[f"{v}{lo}-{hi}"] = (str(v), lo, hi)
    return pools


def _grouped_tables(
    out: dict[str, pd.DataFrame], groups: dict[str, dict[str, str]]
) -> dict[str, pd.DataFrame]:
    """Pop the ``<table>@<grouping>`` frames into ``country_year_groups``/``flows_groups``.

    Only rows of a group (flows: with a group at either end) are kept; the others equal the
    ungrouped tables' rows (same panel, same bootstrap weights).
    """
    cy, fl = [], []
    for name, mapping in groups.items():
        labels = set(mapping.values())
        g = out.pop(f"country_year@{name}")
        cy.append(g[g["country"].isin(labels)].assign(grouping=name))
        f = out.pop(f"flows@{name}")
        touch = f["from_country"].isin(labels) | f["to_country"].isin(labels)
        fl.append(f[touch].assign(grouping=name))

    def first_grouping(frame: pd.DataFrame) -> pd.DataFrame:
        cols = ["grouping", *[c for c in frame.columns if c != "grouping"]]
        return frame[cols].reset_index(drop=True)

    return {
        "country_year_groups": first_grouping(pd.concat(cy, ignore_index=True)),
        "flows_groups": first_grouping(pd.concat(fl, ignore_index=True)),
        "country_groups": groupings_table(tuple(groups)),
    }
