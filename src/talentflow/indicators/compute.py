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
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.api.types import union_categoricals

from talentflow.indicators import bootstrap as bs
from talentflow.indicators.coverage import FixedPanel, year_flags
from talentflow.indicators.groupings import GROUPINGS, grouping, groupings_table
from talentflow.indicators.panel import Panel, build_panel, regroup
from talentflow.indicators.subfields import LLM_ERA_START, SUBFIELDS, classify

POOLED = -1  # sentinel for "all years / all cohorts" (NULL in the output)
UNKNOWN = "??"  # sentinel for an unknown origin (NULL in the output)
ALL = "ALL"  # origin_work margin: all origins
STAGE_PREFIX = "stage:"  # country_year subsets by career stage
TOP = "top"  # the subset of authors of top-tier papers
#: Population rules: which papers make a venue-year population (``population_papers``).
POPULATION_RULES = ("accepted", "all")
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

    def __post_init__(self) -> None:
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
            elif k == "population_papers":
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

    Returns
    -------
    dict
        The six indicator tables, ``paper_subfields``, and (when ``params.groupings``) the
        grouped ``country_year_groups``, ``flows_groups`` and ``country_groups``.
    """
    params = params or IndicatorParams()
    take = tables.pop if consume else tables.get
    papers = take("papers", None)
    if papers is not None and len(papers):
        subfields = classify(papers, llm_era_start=params.llm_era_start)
    else:
        subfields = pd.DataFrame(
            {"paper_id": [], "subfield": [], "is_llm_era": [], "rule": []}
        ).astype({"paper_id": str, "subfield": str, "is_llm_era": bool, "rule": str})
    flags = paper_flags(papers, params.population_papers)
    del papers
    if "person_years" not in tables:
        raise KeyError("person_years")
    person_years = take("person_years", None)
    panel = build_panel(person_years)
    auth = _authorships(take("authorships", None), panel, subfields, flags)
    subsets = _person_subsets(auth, panel.n_persons, params.subfields)
    extra: dict[str, pd.DataFrame] = {}
    if fixed is not None and fixed.venues:
        extra = _fixed_panel_tables(person_years, panel, auth, subsets, fixed, params)
    del person_years
    if params.pools:
        auth = _with_pools(auth, params.pool_years, params.pool_end)
    origins = _origins(panel, take("person_profile", None))
    totals = _Totals.of(panel, subsets, params.stages)

    builders = {
        "country_year": _country_year(panel, subsets, stages=params.stages, totals=totals),
        "flows": _flows(panel, subsets),
        "retention": _retention(panel, subsets, origins, params.k_max),
        "returns": _returns(panel, subsets, params.k_max),
        "origin_work": _origin_work(panel, auth, origins, params.subfields),
        "sector_flows": _sector_flows(panel, subsets),
    }

    def estimate(builders: dict[str, _Builder]) -> dict[str, pd.DataFrame]:
        # Each call draws the same bootstrap weights (same seed, same person index), so
        # tables estimated in separate calls agree as if estimated together; separate calls
        # let each grouping's matrices be freed before the next is built.
        specs = {name: b.spec for name, b in builders.items()}
        results = bs.run(specs, panel.n_persons, replicates=params.replicates, seed=params.seed)
        return {name: b.finish(results[name], params.min_cell) for name, b in builders.items()}

    out = estimate(builders)
    del builders
    groups = {name: grouping(name) for name in params.groupings}
    for name, mapping in groups.items():
        gpanel = regroup(panel, mapping)
        cy = _country_year(
            gpanel, subsets, stages=params.stages, keep=set(mapping.values()), totals=totals
        )
        out |= estimate({f"country_year@{name}": cy, f"flows@{name}": _flows(gpanel, subsets)})
        del gpanel, cy
    if groups:
        out |= _grouped_tables(out, groups)
    out["paper_subfields"] = subfields.reset_index(drop=True)
    out |= extra
    if complete_years is not None:
        _flag_complete_years(out, complete_years)
    return out


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
    params: IndicatorParams,
) -> dict[str, pd.DataFrame]:
    """``country_year`` and ``flows`` on the careers seen at the fixed panel's venues.

    A person-year enters when the person authored a population paper at a panel venue that
    year (within the window); the padded panel is built from those person-years only, so a
    series on it moves when persons move, not when venues enter or leave the corpus.
    """
    window = set(fixed.years)
    labels = [f"{v}{y}" for v in fixed.venues for y in fixed.years]
    at = auth["population"].isin(labels).to_numpy() & auth["in_population"].to_numpy(bool)
    seen = pd.DataFrame(
        {
            "person_id": panel.persons[auth.loc[at, "pidx"].to_numpy(np.int64)],
            "year": auth.loc[at, "year"].to_numpy(np.int64),
        }
    ).drop_duplicates()
    seen = seen[seen["year"].isin(window)]
    py = person_years.drop(columns=["person_key"], errors="ignore")
    py = py[py["year"].isin(window)].merge(seen, on=["person_id", "year"])
    if not len(py):
        return {}
    fpanel = build_panel(py)
    # the panel's persons are a subset of the full panel's (sorted ids in both)
    at_full = np.searchsorted(panel.persons, fpanel.persons)
    keep = ("all", "llm", TOP)
    fsubsets = {k: subsets[k][at_full] for k in keep if k in subsets}
    builders = {
        "country_year_panel": _country_year(fpanel, fsubsets),
        "flows_panel": _flows(fpanel, fsubsets),
    }
    specs = {name: b.spec for name, b in builders.items()}
    results = bs.run(specs, fpanel.n_persons, replicates=params.replicates, seed=params.seed)
    out = {name: b.finish(results[name], params.min_cell) for name, b in builders.items()}
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
    end = int(pool_end) if pool_end is not None else int(pairs["year"].max())
    window = pairs[(pairs["year"] <= end) & (pairs["year"] > end - pool_years)]
    pools: dict[str, np.ndarray] = {}
    for y in sorted(pairs["year"].unique()):
        pools[f"all{int(y)}"] = year == y
    for v, g in window.groupby("venue"):
        if len(g) >= 2:
            lo, hi = int(g["year"].min()), int(g["year"].max())
            at = venue_names.index(str(v))
            pools[f"{v}{lo}-{hi}"] = (row_venue == at) & (year >= lo) & (year <= hi)
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


# --------------------------------------------------------------------------- helpers


@dataclass
class _Builder:
    """Cells of one table, its bootstrap spec, and how to lay out the final frame."""

    keys: pd.DataFrame
    spec: bs.Spec
    count: str  # the count that decides suppression
    order: list[str]  # output statistics, in column order
    ci_names: dict[str, str]  # statistic -> prefix of its interval columns ("" = ci_low)
    keep: str | None = None  # drop rows where this statistic is 0 (no data)
    post: Callable[[pd.DataFrame, int], pd.DataFrame] | None = None  # after suppression

    def finish(self, res: bs.Result, min_cell: int) -> pd.DataFrame:
        df = self.keys.copy()
        for stat in self.order:
            df[stat] = res.point[stat]
            if stat in self.ci_names:
                prefix = self.ci_names[stat]
                df[f"{prefix}ci_low"] = res.low[stat]
                df[f"{prefix}ci_high"] = res.high[stat]
        if self.keep is not None:
            df = df[df[self.keep] > 0]
        suppressed = (df[self.count] < min_cell).to_numpy()
        df["suppressed"] = suppressed
        value_cols = [c for c in df.columns if c not in self.keys.columns and c != "suppressed"]
        df[value_cols] = df[value_cols].astype(float)
        df.loc[suppressed, value_cols] = np.nan
        if self.post is not None:
            df = self.post(df, min_cell)
        return _restore_nulls(df.reset_index(drop=True))


def _restore_nulls(df: pd.DataFrame) -> pd.DataFrame:
    for col in ("year", "cohort_year"):
        if col in df.columns:
            df[col] = df[col].astype("Int64").mask(df[col] == POOLED)
    for col in ("origin_country",):
        if col in df.columns:
            df[col] = df[col].mask(df[col] == UNKNOWN, None)
    return df


def _with_subsets(frame: pd.DataFrame, subsets: dict[str, np.ndarray]) -> pd.DataFrame:
    # the subset column is a categorical (a code per row, not a string)
    names = sorted(subsets)
    parts = []
    for name, mask in subsets.items():
        sub = frame[mask[frame["pidx"].to_numpy()]] if len(frame) else frame
        parts.append(sub.assign(subset=_constant(name, names)))
    return pd.concat(parts, ignore_index=True)


def _pooled(frame: pd.DataFrame, col: str) -> pd.DataFrame:
    return pd.concat([frame, frame.assign(**{col: POOLED})], ignore_index=True)


def _lookup(values: pd.Series, keys: Any) -> np.ndarray:
    """Position of each value in ``keys`` (distinct), -1 where absent.

    Hashed by Arrow, which is several times faster than pandas on millions of strings; values
    Arrow cannot type alike (e.g. mixed types in a frame built by hand) go through pandas.
    """
    try:
        found = pc.index_in(
            pa.array(values.to_numpy(dtype=object)), value_set=pa.array(np.asarray(keys))
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return pd.Index(keys).get_indexer(values)
    return found.fill_null(-1).to_numpy().astype(np.int64)


def _panel_pidx(frame: pd.DataFrame, panel: Panel) -> np.ndarray:
    """The pidx of each row's person (-1: not in the panel).

    By ``person_key`` when both the frame and the panel have it (integers), else by hashing
    ``person_id`` against the panel's persons.
    """
    if "person_key" not in frame.columns or panel.pidx_of_key is None:
        return _lookup(frame["person_id"], panel.persons)
    key = frame["person_key"].to_numpy(dtype=np.float64, na_value=np.nan)
    ok = np.isfinite(key) & (key >= 0) & (key < len(panel.pidx_of_key))
    return np.where(ok, panel.pidx_of_key[np.where(ok, key, 0).astype(np.int64)], -1)


def _authorships(
    authorships: pd.DataFrame | None,
    panel: Panel,
    subfields: pd.DataFrame,
    flags: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Authorships of panel persons: ``pidx, population, year, is_llm, subfield,
    in_population, is_top`` (``flags`` from :func:`paper_flags`; a paper it does not list
    is admitted and not top-tier).

    ``population`` (venue and year) and ``subfield`` are categoricals: a few labels over
    millions of rows.
    """
    cols = ["pidx", "population", "year", "is_llm", "subfield", "in_population", "is_top"]
    if authorships is None or len(authorships) == 0 or "person_id" not in authorships.columns:
        return pd.DataFrame({c: [] for c in cols})
    a = authorships[authorships["person_id"].notna()]
    pos = _panel_pidx(a, panel)
    ok = pos >= 0
    a, pidx = a[ok], pos[ok]
    year = a["year"].to_numpy(np.int64)
    # the label of each distinct (venue, year), shared by its rows (not one string per row)
    venue, venues = pd.factorize(a["venue"], use_na_sentinel=False)
    y0 = int(year.min()) if len(year) else 0
    span = int(year.max()) - y0 + 1 if len(year) else 1
    pairs, at = np.unique(venue * span + (year - y0), return_inverse=True)
    names = np.asarray([f"{venues[p // span]}{p % span + y0}" for p in pairs], dtype=object)
    labels, label_of = np.unique(names, return_inverse=True)
    population = pd.Categorical.from_codes(label_of[at], categories=labels)
    # each paper's subfield, as codes over the few subfield names
    at = _lookup(a["paper_id"], subfields["paper_id"].to_numpy())
    tag, tags = pd.factorize(subfields["subfield"].to_numpy(dtype=object))
    is_llm = (subfields["subfield"].to_numpy() == "llm") & subfields["is_llm_era"].to_numpy(bool)
    found = at >= 0
    safe = np.maximum(at, 0)
    in_population = np.ones(len(a), dtype=bool)
    is_top = np.zeros(len(a), dtype=bool)
    if flags is not None and len(flags):
        fat = _lookup(a["paper_id"], flags["paper_id"].to_numpy())
        known, fsafe = fat >= 0, np.maximum(fat, 0)
        in_population = np.where(known, flags["in_population"].to_numpy(bool)[fsafe], True)
        is_top = known & flags["is_top"].to_numpy(bool)[fsafe]
    return pd.DataFrame(
        {
            "pidx": pidx,
            "population": population,
            "year": year,
            "is_llm": is_llm[safe] & found if len(is_llm) else np.zeros(len(a), dtype=bool),
            "subfield": pd.Categorical.from_codes(
                np.where(found, tag[safe], -1) if len(tag) else np.full(len(a), -1),
                categories=pd.Index(tags, dtype=object),
            ),
            "in_population": in_population,
            "is_top": is_top,
        }
    )


def _origins(panel: Panel, profile: pd.DataFrame | None) -> pd.DataFrame:
    """Per person: first observed country, training country and training end year.

    ``person_profile`` values are used where present; otherwise they are derived from the panel
    with the same definitions (first panel country; country of the first student year).
    """
    y = panel.years
    first = y[y["year"] == y["first_year"]].set_index("pidx")["country"]
    stud = y[y["student"]]
    first_stud = stud.sort_values(["pidx", "year"]).drop_duplicates("pidx").set_index("pidx")
    out = pd.DataFrame({"pidx": np.arange(panel.n_persons)})
    out["first_country"] = first.reindex(out["pidx"]).to_numpy()
    out["training_country"] = first_stud["country"].reindex(out["pidx"]).to_numpy()
    if profile is not None and len(profile):
        # the profile row of each panel person (the first, should a person have several)
        at = _panel_pidx(profile, panel)
        hit = np.flatnonzero(at >= 0)[::-1]
        row = np.full(panel.n_persons, -1, dtype=np.int64)
        row[at[hit]] = hit
        for col in ("first_country", "training_country"):
            if col in profile.columns:
                vals = profile[col].to_numpy(dtype=object)[np.maximum(row, 0)]
                have = (row >= 0) & pd.notna(vals)
                out.loc[have, col] = vals[have]
    # training ends at the last student year spent in the training country
    tc = out.set_index("pidx")["training_country"]
    s = stud.assign(tc=tc.reindex(stud["pidx"]).to_numpy())
    s = s[s["country"] == s["tc"]]
    out["training_end"] = s.groupby("pidx")["year"].max().reindex(out["pidx"]).to_numpy()
    return out


# --------------------------------------------------------------------------- country_year


class _CellCoder:
    """Integer codes of ``country_year`` cells, computed on arrays (no string work per row).

    A cell is ``((country * n_years + year) * n_subsets + subset) * n_sectors + sector`` over
    sorted levels, so sorted codes are cells in the order of sorted (country, year, subset,
    sector), and ``cell % per_country`` is the cell's (year, subset, sector).
    """

    def __init__(self, panel: Panel, subsets: list[str]) -> None:
        y, mv = panel.years, panel.moves
        countries = _distinct(y["country"], panel.frac["country"])
        self.countries = pd.Index(countries).sort_values()
        sectors = _distinct(y["sector"], mv["from_sector"], mv["to_sector"])
        self.sectors = pd.Index(["all", *sectors]).unique().sort_values()
        self.subsets = pd.Index(subsets).sort_values()
        self.y0 = int(y["year"].min()) if len(y) else 0
        self.n_years = int(y["year"].max()) - self.y0 + 1 if len(y) else 1
        self.all_sector = int(self.sectors.get_loc("all"))
        self.per_country = self.n_years * len(self.subsets) * len(self.sectors)
        self.size = len(self.countries) * self.per_country  # number of possible codes

    def code(
        self, country: np.ndarray, year: np.ndarray, subset: np.ndarray, sector: np.ndarray
    ) -> np.ndarray:
        c = (country * self.n_years + (year - self.y0)) * len(self.subsets) + subset
        return c * len(self.sectors) + sector

    def to_all_sectors(self, cells: np.ndarray) -> np.ndarray:
        """The code of the same cell with sector ``all``."""
        return cells - cells % len(self.sectors) + self.all_sector

    def frame(self, cells: np.ndarray) -> pd.DataFrame:
        rest = cells.copy()
        sector = rest % len(self.sectors)
        rest //= len(self.sectors)
        subset = rest % len(self.subsets)
        rest //= len(self.subsets)
        return pd.DataFrame(
            {
                "country": self.countries.take(rest // self.n_years).to_numpy(),
                "year": (rest % self.n_years + self.y0).astype(np.int64),
                "subset": self.subsets.take(subset).to_numpy(),
                "sector": self.sectors.take(sector).to_numpy(),
            }
        )


def _distinct(*columns: pd.Series) -> list[str]:
    """The distinct values of ``columns`` as strings, in order of first appearance.

    A categorical column is read from its codes (its few categories), not row by row.
    """
    found: list[str] = []
    for col in columns:
        if isinstance(col.dtype, pd.CategoricalDtype):
            codes = col.cat.codes.to_numpy()
            used = pd.unique(codes)
            values = [str(v) for v in col.cat.categories.take(used[used >= 0])]
            found += values + (["nan"] if (used < 0).any() else [])
        else:
            found += list(col.astype(str).unique())
    return list(dict.fromkeys(found))


def _codes_of(values: pd.Series, levels: pd.Index, prefix: str = "") -> np.ndarray:
    """Position of each value (as ``prefix + str(value)``) in ``levels``.

    Factorised first (few distinct strings); a categorical column is already factorised.
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes = values.cat.codes.to_numpy()
        uniques = [str(v) for v in values.cat.categories] + ["nan"]  # code -1: last
    else:
        codes, uniques = pd.factorize(values.astype(str))
    return levels.get_indexer([prefix + u for u in uniques])[codes].astype(np.int64)


def _stage_names(panel: Panel, stages: bool) -> list[str]:
    if not stages:
        return []
    return [STAGE_PREFIX + s for s in _distinct(panel.years["stage"], panel.moves["from_stage"])]


def _rows(
    coder: _CellCoder,
    subsets: dict[str, np.ndarray],
    stages: bool,
    frame: pd.DataFrame,
    cols: tuple[str, str, str],
    weight: str | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(cell, pidx, value) of ``frame``'s rows in every subset (and stage), by sector.

    ``cols`` name the country, sector and stage columns. Only the sector of the row is coded;
    sector ``all`` is the sum over sectors, added after the sums. ``value`` is None when
    every row counts 1.
    """
    country, sector, stage = cols
    pidx = frame["pidx"].to_numpy(np.int64)
    value = None if weight is None else frame[weight].to_numpy(np.float64)
    country_c = _codes_of(frame[country], coder.countries)
    sector_c = _codes_of(frame[sector], coder.sectors)
    year = frame["year"].to_numpy(np.int64)
    # the code of subset 0; another subset's code is this plus its number times n_sectors
    base = coder.code(country_c, year, np.zeros(len(frame), np.int64), sector_c)
    step = len(coder.sectors)
    parts = [(int(coder.subsets.get_loc(k)), mask[pidx]) for k, mask in subsets.items()]
    cells = [base[m] + k * step for k, m in parts]
    pids = [pidx[m] for _, m in parts]
    values = [] if value is None else [value[m] for _, m in parts]
    if stages:
        stage_c = _codes_of(frame[stage], coder.subsets, STAGE_PREFIX)
        cells.append(base + stage_c * step)
        pids.append(pidx)
        values += [] if value is None else [value]
    if not cells:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), None if value is None else np.zeros(0)
    return (
        np.concatenate(cells),
        np.concatenate(pids),
        None if value is None else np.concatenate(values),
    )


def _occurring(codes: list[np.ndarray], size: int) -> tuple[np.ndarray, np.ndarray]:
    """The sorted distinct codes (``0 <= code < size``) and each code's position among them.

    Codes are marked in an array of ``size`` flags: no sort of the tens of millions of rows.
    """
    seen = np.zeros(size, dtype=bool)
    for c in codes:
        if len(c) and c.min() < 0:
            raise ValueError("a country_year cell code is negative (a level is missing)")
        seen[c] = True
    found = np.flatnonzero(seen)
    at = np.full(size, -1, dtype=np.int64)
    at[found] = np.arange(len(found))
    return found, at


def _sector_sum(cells: np.ndarray, coder: _CellCoder) -> tuple[np.ndarray, Any]:
    """Cells of sector ``all`` and the sparse (all-cells x cells) matrix summing into them."""
    alls, of = np.unique(coder.to_all_sectors(cells), return_inverse=True)
    agg = bs.incidence(of, np.arange(len(cells)), len(alls), len(cells))
    return alls, agg


@dataclass
class _Totals:
    """Every country's stock per (year, subset, sector): the denominator of ``stock_share``.

    The same for a panel and its regroupings, so one matrix serves every ``country_year``
    builder (and is multiplied once per bootstrap block).
    """

    keys: pd.DataFrame  # year, subset, sector: the leaf rows, then the sector-all rows
    matrix: bs.PersonSums  # leaf rows x persons
    agg: Any  # sector-all rows x leaf rows

    @classmethod
    def of(cls, panel: Panel, subsets: dict[str, np.ndarray], stages: bool) -> _Totals:
        coder = _CellCoder(panel, [*subsets, *_stage_names(panel, stages)])
        cell, pidx, _ = _rows(coder, subsets, stages, panel.years, ("country", "sector", "stage"))
        cell %= coder.per_country
        leaf, at_leaf = _occurring([cell], coder.per_country)
        of = at_leaf[cell]
        alls, agg = _sector_sum(leaf, coder)
        keys = coder.frame(np.concatenate([leaf, alls]))[["year", "subset", "sector"]]
        matrix = bs.PersonSums(of, pidx, len(leaf), panel.n_persons)
        return cls(keys.reset_index(drop=True), matrix, agg)

    def full(self, leaf_sums: np.ndarray, *, pad: bool = False) -> np.ndarray:
        """Totals in ``keys`` order (``pad``: plus a row of zeros at the end)."""
        parts = [leaf_sums, np.asarray(self.agg @ leaf_sums)]
        if pad:
            parts.append(np.zeros((1, leaf_sums.shape[1]), dtype=leaf_sums.dtype))
        return np.vstack(parts)


def _country_year(
    panel: Panel,
    subsets: dict[str, np.ndarray],
    *,
    stages: bool = False,
    keep: set[str] | None = None,
    totals: _Totals | None = None,
) -> _Builder:
    """Stocks, flows and rates per (country, year, subset, sector).

    ``stages`` adds the ``stage:<career stage>`` subsets (by the person-year's stage);
    ``keep`` restricts the cells to these countries (``stock_share`` still divides by every
    country's stock), which is how groups are computed; ``totals`` of the ungrouped panel may
    be passed to share them.
    """
    totals = totals or _Totals.of(panel, subsets, stages)
    coder = _CellCoder(panel, [*subsets, *_stage_names(panel, stages)])
    y, mv = panel.years, panel.moves
    first, last = (
        (y["year"] == y["first_year"]).to_numpy(),
        (y["year"] == y["last_year"]).to_numpy(),
    )
    here, arrival, departure = (
        ("country", "sector", "stage"),
        ("to_country", "to_sector", "to_stage"),
        ("from_country", "from_sector", "from_stage"),
    )
    sources = {
        "stock": (y, here, None),
        "stock_frac": (panel.frac, here, "weight"),
        # an arrival counts under the sector (stage) of the arrival year, a departure under
        # the sector (stage) of the year before
        "inflow": (mv, arrival, None),
        "outflow": (mv, departure, None),
        "returns": (mv[mv["is_return"].to_numpy(bool)], arrival, None),
        "entries": (y[first], here, None),
        "exits": (y[last], here, None),
    }
    rows = {}
    for name, (source, cols, weight) in sources.items():
        # a group's cells need only the rows in the group (totals come from `totals`)
        mine = source if keep is None else source[source[cols[0]].isin(keep).to_numpy()]
        rows[name] = _rows(coder, subsets, stages, mine, cols, weight)
    leaf, at_leaf = _occurring([c for c, _, _ in rows.values()], coder.size)
    alls, agg = _sector_sum(leaf, coder)
    cells = np.concatenate([leaf, alls])
    perm = np.argsort(cells, kind="stable")
    universe = coder.frame(cells[perm])
    n_leaf, n_p = len(leaf), panel.n_persons
    matrices = {
        name: bs.PersonSums(at_leaf[c], p, n_leaf, n_p, v) for name, (c, p, v) in rows.items()
    }
    del rows, at_leaf
    matrices["total"] = totals.matrix
    key_cols = ["year", "subset", "sector"]
    at_total = pd.MultiIndex.from_frame(totals.keys).get_indexer(
        pd.MultiIndex.from_frame(universe[key_cols])
    )
    # a (year, subset, sector) with departures but no stock anywhere: denominator 0 (NaN share)
    at_total = np.where(at_total < 0, len(totals.keys), at_total)

    def full(leaf_sums: np.ndarray) -> np.ndarray:
        return np.vstack([leaf_sums, np.asarray(agg @ leaf_sums)])[perm]

    def combine(s: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        f = {k: full(v) for k, v in s.items() if k != "total"}
        stock = f["stock"]
        net = f["inflow"] - f["outflow"]
        return {
            "stock": stock,
            "stock_frac": f["stock_frac"],
            "stock_share": bs.safe_div(stock, totals.full(s["total"], pad=True)[at_total]),
            "inflow": f["inflow"],
            "outflow": f["outflow"],
            "net_flow": net,
            "inflow_rate": bs.safe_div(f["inflow"], stock, 1000.0),
            "outflow_rate": bs.safe_div(f["outflow"], stock, 1000.0),
            "net_rate": bs.safe_div(net, stock, 1000.0),
            "returns": f["returns"],
            "entries": f["entries"],
            "exits": f["exits"],
        }

    ci = [
        "stock",
        "stock_frac",
        "stock_share",
        "inflow",
        "outflow",
        "net_flow",
        "inflow_rate",
        "outflow_rate",
        "net_rate",
        "returns",
    ]
    order = [*ci, "entries", "exits"]  # entries/exits are reported without intervals
    spec = bs.Spec(matrices, combine, ci, point_only=("entries", "exits"))
    return _Builder(universe, spec, "stock", order, {c: f"{c}_" for c in ci})


# --------------------------------------------------------------------------- flows


def _count_table(frame: pd.DataFrame, keys: list[str], n_persons: int, stat: str = "n") -> _Builder:
    universe, codes = bs.cells(frame, keys)
    m = bs.PersonSums(codes, frame["pidx"].to_numpy(), len(universe), n_persons)
    spec = bs.Spec({stat: m}, lambda s: {stat: s[stat]}, (stat,))
    return _Builder(universe, spec, stat, [stat], {stat: ""})


def _flows(panel: Panel, subsets: dict[str, np.ndarray]) -> _Builder:
    mv = _pooled(_with_subsets(panel.moves, subsets), "year")
    keys = ["from_country", "to_country", "year", "subset"]
    b = _count_table(mv, keys, panel.n_persons)
    # net of the pair: this direction minus the reverse one (0 when the reverse has no moves)
    index = pd.MultiIndex.from_frame(b.keys[keys])
    reverse = b.keys[["to_country", "from_country", "year", "subset"]]
    rev = index.get_indexer(pd.MultiIndex.from_frame(reverse.set_axis(keys, axis=1)))
    has_rev = rev >= 0

    def combine(s: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        n = s["n"]
        back = np.where(has_rev[:, None], n[np.maximum(rev, 0)], 0.0)
        return {"n": n, "net": n - back, "reverse_n": back}

    def hide_disclosing_nets(df: pd.DataFrame, min_cell: int) -> pd.DataFrame:
        # a net beside a suppressed reverse cell would reveal it
        reveal = (df["reverse_n"] > 0) & (df["reverse_n"] < min_cell)
        df.loc[reveal, ["net", "net_ci_low", "net_ci_high"]] = np.nan
        return df.drop(columns="reverse_n")

    b.spec = bs.Spec(b.spec.matrices, combine, ("n", "net"))
    b.order = ["n", "net", "reverse_n"]
    b.ci_names = {"n": "", "net": "net_"}
    b.post = hide_disclosing_nets
    return b


def _sector_flows(panel: Panel, subsets: dict[str, np.ndarray]) -> _Builder:
    sm = _pooled(_with_subsets(panel.sector_moves, subsets), "year")
    keys = ["country", "year", "from_sector", "to_sector", "domestic", "subset"]
    return _count_table(sm, keys, panel.n_persons)


# --------------------------------------------------------------------------- survival


def _km(
    spells: pd.DataFrame,
    keys: list[str],
    k_max: int,
    n_persons: int,
    stat: str,
    *,
    complement: bool,
) -> _Builder:
    """Kaplan-Meier over ``spells`` (pidx, keys..., time, event) at k = 1..k_max.

    A spell is at risk at k when ``time >= k``; it ends with an event at ``time`` when
    ``event`` is true, else it is censored after ``time`` years.
    """
    cell_keys, codes = bs.cells(spells, keys)
    n_cells = len(cell_keys)
    time = spells["time"].to_numpy(np.int64)
    event = spells["event"].to_numpy(bool)
    pidx = spells["pidx"].to_numpy(np.int64)
    reps = np.clip(time, 0, k_max)
    row_cell = np.repeat(codes, reps)
    row_k = np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps) + 1
    at_risk = bs.PersonSums(
        row_cell * k_max + row_k - 1, np.repeat(pidx, reps), n_cells * k_max, n_persons
    )
    ev = event & (time >= 1) & (time <= k_max)
    events = bs.PersonSums(codes[ev] * k_max + time[ev] - 1, pidx[ev], n_cells * k_max, n_persons)

    def combine(s: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        r = s["at_risk"].shape[1]
        n = s["at_risk"].reshape(n_cells, k_max, r)
        d = s["events"].reshape(n_cells, k_max, r)
        h = bs.safe_div(d, n)
        surv = np.cumprod(1.0 - h, axis=1).reshape(n_cells * k_max, r)
        return {"at_risk": s["at_risk"], stat: 1.0 - surv if complement else surv}

    rows = cell_keys.loc[cell_keys.index.repeat(k_max)].reset_index(drop=True)
    rows["k"] = np.tile(np.arange(1, k_max + 1), n_cells)
    spec = bs.Spec({"at_risk": at_risk, "events": events}, combine, (stat,))
    return _Builder(rows, spec, "at_risk", ["at_risk", stat], {stat: ""}, keep="at_risk")


def _retention(
    panel: Panel, subsets: dict[str, np.ndarray], origins: pd.DataFrame, k_max: int
) -> _Builder:
    y = panel.years
    last = y.drop_duplicates("pidx").set_index("pidx")["last_year"]
    spells = []
    # first observed: start in the first panel year, event = first move (leaving that country)
    start = origins[["pidx", "first_country"]].rename(columns={"first_country": "country"})
    start = start[start["country"].notna()]
    start["start"] = (
        y.drop_duplicates("pidx").set_index("pidx")["first_year"].reindex(start["pidx"]).to_numpy()
    )
    bases = ["first_observed", "training"]
    spells.append(start.assign(basis=_constant("first_observed", bases)))
    # training: start at the last student year in the training country
    tr = origins[origins["training_end"].notna()][["pidx", "training_country", "training_end"]]
    tr = tr.rename(columns={"training_country": "country", "training_end": "start"})
    spells.append(tr.assign(basis=_constant("training", bases)))
    sp = pd.concat(spells, ignore_index=True)
    sp["start"] = sp["start"].astype(np.int64)
    # first later year in another country
    later = y[["pidx", "year", "country"]].merge(
        sp[["pidx", "country", "start", "basis"]].rename(columns={"country": "home"}), on="pidx"
    )
    later = later[(later["year"] > later["start"]) & (later["country"] != later["home"])]
    leave = later.groupby(["pidx", "basis"], observed=True)["year"].min()
    leave = leave.rename("leave").reset_index()
    sp = sp.merge(leave, on=["pidx", "basis"], how="left")
    sp["event"] = sp["leave"].notna()
    sp["time"] = np.where(
        sp["event"],
        sp["leave"].fillna(0) - sp["start"],
        last.reindex(sp["pidx"]).to_numpy() - sp["start"],
    ).astype(np.int64)
    sp["cohort_year"] = sp["start"]
    sp = _pooled(_with_subsets(sp, subsets), "cohort_year")
    keys = ["country", "cohort_year", "basis", "subset"]
    return _km(sp, keys, k_max, panel.n_persons, "retained_share", complement=False)


def _returns(panel: Panel, subsets: dict[str, np.ndarray], k_max: int) -> _Builder:
    mv = panel.moves
    dep = mv.groupby(["pidx", "from_country"], as_index=False, observed=True)["year"].min()
    dep = dep.rename(columns={"from_country": "country", "year": "left"})
    back = mv[["pidx", "to_country", "year"]].rename(columns={"to_country": "country"})
    back = back.merge(dep, on=["pidx", "country"])
    back = back[back["year"] > back["left"]]
    back = back.groupby(["pidx", "country"], observed=True)["year"].min()
    dep = dep.merge(back.rename("back").reset_index(), on=["pidx", "country"], how="left")
    last = panel.years.drop_duplicates("pidx").set_index("pidx")["last_year"]
    dep["event"] = dep["back"].notna()
    dep["time"] = np.where(
        dep["event"],
        dep["back"].fillna(0) - dep["left"],
        last.reindex(dep["pidx"]).to_numpy() - dep["left"],
    ).astype(np.int64)
    dep = _with_subsets(dep, subsets)
    return _km(dep, ["country", "subset"], k_max, panel.n_persons, "return_share", complement=True)


# --------------------------------------------------------------------------- origin_work


def _panel_row(panel: Panel, pidx: np.ndarray, year: np.ndarray) -> np.ndarray:
    """Row of (pidx, year) in ``panel.years`` (-1 outside the person's span).

    ``panel.years`` holds every year of each person's span, in (pidx, year) order.
    """
    y = panel.years
    start = np.searchsorted(y["pidx"].to_numpy(), np.arange(panel.n_persons))
    first = y["first_year"].to_numpy(np.int64)[np.minimum(start, max(len(y) - 1, 0))]
    last = y["last_year"].to_numpy(np.int64)[np.minimum(start, max(len(y) - 1, 0))]
    inside = (year >= first[pidx]) & (year <= last[pidx])
    return np.where(inside, start[pidx] + (year - first[pidx]), -1)


def _constant(value: str, categories: list[str]) -> Callable[[pd.DataFrame], pd.Categorical]:
    """For ``DataFrame.assign``: a categorical column holding ``value`` on every row."""
    code = categories.index(value)
    return lambda df: pd.Categorical.from_codes(
        np.full(len(df), code, dtype=np.int8), categories=categories
    )


def _origin_work(
    panel: Panel, auth: pd.DataFrame, origins: pd.DataFrame, subfields: tuple[str, ...] = ()
) -> _Builder:
    keys = ["population", "subset", "origin_basis", "origin_country", "work_country"]
    if len(auth):
        # only the papers the population rule admits (rejected/withdrawn submissions are
        # careers evidence, not members of a venue-year's population)
        auth = auth[auth["in_population"].to_numpy(bool)]
    if len(auth) == 0:
        empty = pd.DataFrame({k: pd.Series([], dtype=object) for k in keys}).assign(pidx=[])
        b = _count_table(empty, keys, panel.n_persons)
        b.order = ["n", "share", "origin_share", "unknown_origin_share"]
        b.ci_names = {"n": "n_", "share": "", "origin_share": "origin_share_"}
        stats = dict.fromkeys(b.order, "n")
        b.spec = bs.Spec(
            b.spec.matrices,
            lambda s: {k: s[v] for k, v in stats.items()},
            ("n", "share", "origin_share"),
        )
        return b
    # the row keys are categoricals (codes over a few labels): rows are twice the authorships
    # times the subsets, and string columns of that length cost gigabytes at 10M slots
    subsets = sorted({"all", "llm", TOP, *subfields})
    hits = {"all": None, "llm": auth["is_llm"].to_numpy(bool), TOP: auth["is_top"].to_numpy(bool)}
    hits |= {name: (auth["subfield"] == name).to_numpy(bool) for name in subfields}
    # one integer per (person, year, population); a subset's rows are its distinct numbers
    population = auth["population"].array
    pidx, year = auth["pidx"].to_numpy(np.int64), auth["year"].to_numpy(np.int64)
    y0 = int(year.min())
    n_pop, span = len(population.categories), int(year.max()) - y0 + 1
    triple, triples = pd.factorize((pidx * span + (year - y0)) * n_pop + population.codes)
    parts = []
    for name, hit in hits.items():
        seen = np.zeros(len(triples), dtype=bool)  # marking, not sorting, the numbers
        seen[triple if hit is None else triple[hit]] = True
        mine = np.flatnonzero(seen)
        parts.append((np.full(len(mine), subsets.index(name), dtype=np.int8), triples[mine]))
    code = np.concatenate([t for _, t in parts])
    pidx, rest = np.divmod(code, span * n_pop)
    year, pop_code = np.divmod(rest, n_pop)
    year += y0
    # the country of each (person, year) in the panel, by position (the panel has every
    # year of a person's span); rows outside the span are dropped
    row = _panel_row(panel, pidx, year)
    inside = row >= 0
    pop = pd.DataFrame(
        {
            "population": pd.Categorical.from_codes(
                pop_code[inside], categories=population.categories
            ),
            "pidx": pidx[inside],
            "year": year[inside],
            "subset": pd.Categorical.from_codes(
                np.concatenate([s for s, _ in parts])[inside], categories=subsets
            ),
            "work_country": panel.years["country"].array.take(row[inside]),
        }
    )
    bases = {"first_observed": "first_country", "training": "training_country"}
    parts = []
    for basis, col in bases.items():
        origin = origins[col].to_numpy(dtype=object)  # origins are in pidx order
        origin = pd.Categorical(np.where(pd.isna(origin), UNKNOWN, origin))
        parts.append(
            pop.assign(
                origin_basis=_constant(basis, sorted(bases)),
                origin_country=origin.take(pop["pidx"].to_numpy(np.int64)),
            )
        )
    rows = pd.concat(parts, ignore_index=True)
    del pop, parts
    leaf, codes = bs.cells(rows, keys)
    m = bs.PersonSums(codes, rows["pidx"].to_numpy(), len(leaf), panel.n_persons)
    # the ALL margin is the sum over origins (unknown included), added after the products
    margins, margin_of = bs.cells(leaf.assign(origin_country=ALL), keys)
    agg = bs.incidence(margin_of, np.arange(len(leaf)), len(margins), len(leaf))
    universe = pd.concat([leaf, margins], ignore_index=True)
    perm = universe.sort_values(keys, kind="stable").index.to_numpy()
    universe = universe.iloc[perm].reset_index(drop=True)
    margin = (universe["origin_country"] == ALL).to_numpy()
    group_keys, groups = bs.cells(universe, ["population", "subset", "origin_basis"])
    pop_total = bs.grouper(groups, len(group_keys))
    origin_keys, origin_groups = bs.cells(
        universe, ["population", "subset", "origin_basis", "origin_country"]
    )
    origin_total = bs.grouper(origin_groups, len(origin_keys))
    unknown = (universe["origin_country"] == UNKNOWN).to_numpy()

    def combine(s: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        n = np.vstack([s["n"], np.asarray(agg @ s["n"])])[perm]
        den = pop_total(n * margin[:, None])
        return {
            "n": n,
            "share": bs.safe_div(n, den),
            # conditional on the origin: of the persons of this origin (all work countries)
            "origin_share": bs.safe_div(n, origin_total(n)),
            "unknown_origin_share": bs.safe_div(pop_total(n * unknown[:, None]), den),
        }

    spec = bs.Spec({"n": m}, combine, ("n", "share", "origin_share"))
    order = ["n", "share", "origin_share", "unknown_origin_share"]
    names = {"n": "n_", "share": "", "origin_share": "origin_share_"}
    return _Builder(universe, spec, "n", order, names)
