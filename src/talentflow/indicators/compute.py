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
- ``origin_work``: persons authoring in a venue-year by observed origin (first observed country,
  or training country) and work country that year.
- ``sector_flows``: changes of sector group between consecutive years, domestic or international.

Subsets: ``all``; ``llm`` = persons with at least one LLM paper of the LLM era (for
``origin_work``: authors of the population's LLM papers).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from talentflow.indicators import bootstrap as bs
from talentflow.indicators.panel import Panel, build_panel
from talentflow.indicators.subfields import LLM_ERA_START, classify

POOLED = -1  # sentinel for "all years / all cohorts" (NULL in the output)
UNKNOWN = "??"  # sentinel for an unknown origin (NULL in the output)
ALL = "ALL"  # origin_work margin: all origins


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
    """

    replicates: int = 200
    seed: int = 20261129
    min_cell: int = 5
    k_max: int = 10
    llm_era_start: int = LLM_ERA_START

    @classmethod
    def from_mapping(cls, params: dict[str, Any]) -> IndicatorParams:
        """Build from ``ctx.params`` (``bootstrap``/``min-cell`` accepted as aliases)."""
        aliases = {"bootstrap": "replicates", "min-cell": "min_cell", "k": "k_max"}
        known = {aliases.get(k, k): v for k, v in params.items()}
        unknown = set(known) - set(asdict(cls()))
        if unknown:
            raise ValueError(f"unknown indicators parameters: {', '.join(sorted(unknown))}")
        out = cls(**{k: int(v) for k, v in known.items()})
        if out.replicates < 0 or out.min_cell < 0 or out.k_max < 1:
            raise ValueError("replicates and min_cell must be >= 0 and k_max >= 1")
        return out


TABLES = ("country_year", "flows", "retention", "returns", "origin_work", "sector_flows")


def compute(
    tables: dict[str, pd.DataFrame], params: IndicatorParams | None = None
) -> dict[str, pd.DataFrame]:
    """Compute every indicator table.

    Parameters
    ----------
    tables
        ``person_years`` (required); optional ``person_profile``, ``authorships``
        (``paper_id, person_id, venue, year``), ``papers`` (for subfields).
    params
        :class:`IndicatorParams` (defaults if None).

    Returns
    -------
    dict
        The six indicator tables plus ``paper_subfields``.
    """
    params = params or IndicatorParams()
    papers = tables.get("papers")
    if papers is not None and len(papers):
        subfields = classify(papers, llm_era_start=params.llm_era_start)
    else:
        subfields = pd.DataFrame(
            {"paper_id": [], "subfield": [], "is_llm_era": [], "rule": []}
        ).astype({"paper_id": str, "subfield": str, "is_llm_era": bool, "rule": str})
    panel = build_panel(tables["person_years"])
    auth = _authorships(tables.get("authorships"), panel, subfields)
    llm_persons = np.zeros(panel.n_persons, dtype=bool)
    if len(auth):
        llm = auth[auth["is_llm"]]
        llm_persons[llm["pidx"].to_numpy()] = True
    subsets = {"all": np.ones(panel.n_persons, dtype=bool), "llm": llm_persons}
    origins = _origins(panel, tables.get("person_profile"))

    builders = {
        "country_year": _country_year(panel, subsets),
        "flows": _flows(panel, subsets),
        "retention": _retention(panel, subsets, origins, params.k_max),
        "returns": _returns(panel, subsets, params.k_max),
        "origin_work": _origin_work(panel, auth, origins),
        "sector_flows": _sector_flows(panel, subsets),
    }
    specs = {name: b.spec for name, b in builders.items()}
    results = bs.run(specs, panel.n_persons, replicates=params.replicates, seed=params.seed)
    out = {name: b.finish(results[name], params.min_cell) for name, b in builders.items()}
    out["paper_subfields"] = subfields.reset_index(drop=True)
    return out


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
    parts = []
    for name, mask in subsets.items():
        sub = frame[mask[frame["pidx"].to_numpy()]] if len(frame) else frame
        parts.append(sub.assign(subset=name))
    return pd.concat(parts, ignore_index=True)


def _pooled(frame: pd.DataFrame, col: str) -> pd.DataFrame:
    return pd.concat([frame, frame.assign(**{col: POOLED})], ignore_index=True)


def _authorships(
    authorships: pd.DataFrame | None, panel: Panel, subfields: pd.DataFrame
) -> pd.DataFrame:
    cols = ["pidx", "paper_id", "population", "year", "is_llm"]
    if authorships is None or len(authorships) == 0 or "person_id" not in authorships.columns:
        return pd.DataFrame({c: [] for c in cols})
    a = authorships[authorships["person_id"].notna()][["person_id", "paper_id", "venue", "year"]]
    # hash lookups (no per-row Python, no merges on long strings)
    pos = pd.Index(panel.persons).get_indexer(a["person_id"])
    ok = pos >= 0
    a = a[ok].assign(pidx=pos[ok])
    a["year"] = a["year"].astype(np.int64)
    a["population"] = a["venue"].astype(str) + a["year"].astype(str)
    at = pd.Index(subfields["paper_id"]).get_indexer(a["paper_id"])
    is_llm = (subfields["subfield"].to_numpy() == "llm") & subfields["is_llm_era"].to_numpy(bool)
    a["is_llm"] = np.where(at >= 0, is_llm[np.maximum(at, 0)], False) if len(is_llm) else False
    return a[cols].reset_index(drop=True)


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
        prof = profile.set_index("person_id")
        for col in ("first_country", "training_country"):
            if col in prof.columns:
                vals = prof[col].reindex(panel.persons).to_numpy(dtype=object)
                have = pd.notna(vals)
                out.loc[have, col] = vals[have]
    # training ends at the last student year spent in the training country
    tc = out.set_index("pidx")["training_country"]
    s = stud.assign(tc=tc.reindex(stud["pidx"]).to_numpy())
    s = s[s["country"] == s["tc"]]
    out["training_end"] = s.groupby("pidx")["year"].max().reindex(out["pidx"]).to_numpy()
    return out


# --------------------------------------------------------------------------- country_year


def _country_year(panel: Panel, subsets: dict[str, np.ndarray]) -> _Builder:
    keys = ["country", "year", "subset", "sector"]
    y = _with_subsets(panel.years, subsets)
    y = pd.concat([y, y.assign(sector="all")], ignore_index=True)
    fr = _with_subsets(panel.frac, subsets)
    fr = pd.concat([fr, fr.assign(sector="all")], ignore_index=True)
    mv = _with_subsets(panel.moves, subsets)
    inflow = pd.concat([mv.assign(sector=mv["to_sector"]), mv.assign(sector="all")])
    outflow = pd.concat([mv.assign(sector=mv["from_sector"]), mv.assign(sector="all")])
    stock_rows = y[keys]
    in_rows = inflow[["to_country", "year", "subset", "sector"]].set_axis(keys, axis=1)
    out_rows = outflow[["from_country", "year", "subset", "sector"]].set_axis(keys, axis=1)
    frac_rows = fr[keys]
    index = bs.KeyIndex(
        pd.concat([stock_rows, in_rows, out_rows, frac_rows], ignore_index=True), keys
    )
    universe = index.frame()
    n_cells, n_p = len(universe), panel.n_persons

    def mat(frame: pd.DataFrame, cols: list[str], value: np.ndarray | None = None):
        return bs.incidence(index.codes(frame, cols), frame["pidx"], n_cells, n_p, value)

    entries = y[y["year"] == y["first_year"]]
    exits = y[y["year"] == y["last_year"]]
    rets = inflow[inflow["is_return"]]
    in_cols = ["to_country", "year", "subset", "sector"]
    matrices = {
        "stock": mat(y, keys),
        "stock_frac": mat(fr, keys, fr["weight"].to_numpy()),
        "inflow": mat(inflow, in_cols),
        "outflow": mat(outflow, ["from_country", "year", "subset", "sector"]),
        "returns": mat(rets, in_cols),
        "entries": mat(entries, keys),
        "exits": mat(exits, keys),
    }
    group_keys, groups = bs.cells(universe, ["year", "subset", "sector"])
    year_total = bs.grouper(groups, len(group_keys))

    def combine(s: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        stock = s["stock"]
        net = s["inflow"] - s["outflow"]
        return {
            "stock": stock,
            "stock_frac": s["stock_frac"],
            "stock_share": bs.safe_div(stock, year_total(stock)),
            "inflow": s["inflow"],
            "outflow": s["outflow"],
            "net_flow": net,
            "inflow_rate": bs.safe_div(s["inflow"], stock, 1000.0),
            "outflow_rate": bs.safe_div(s["outflow"], stock, 1000.0),
            "net_rate": bs.safe_div(net, stock, 1000.0),
            "returns": s["returns"],
            "entries": s["entries"],
            "exits": s["exits"],
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
    spec = bs.Spec(matrices, combine, ci)
    return _Builder(universe, spec, "stock", order, {c: f"{c}_" for c in ci})


# --------------------------------------------------------------------------- flows


def _count_table(frame: pd.DataFrame, keys: list[str], n_persons: int, stat: str = "n") -> _Builder:
    universe, codes = bs.cells(frame, keys)
    m = bs.incidence(codes, frame["pidx"], len(universe), n_persons)
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
    at_risk = bs.incidence(
        row_cell * k_max + row_k - 1, np.repeat(pidx, reps), n_cells * k_max, n_persons
    )
    ev = event & (time >= 1) & (time <= k_max)
    events = bs.incidence(codes[ev] * k_max + time[ev] - 1, pidx[ev], n_cells * k_max, n_persons)

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
    spells.append(start.assign(basis="first_observed"))
    # training: start at the last student year in the training country
    tr = origins[origins["training_end"].notna()][["pidx", "training_country", "training_end"]]
    tr = tr.rename(columns={"training_country": "country", "training_end": "start"})
    spells.append(tr.assign(basis="training"))
    sp = pd.concat(spells, ignore_index=True)
    sp["start"] = sp["start"].astype(np.int64)
    # first later year in another country
    later = y[["pidx", "year", "country"]].merge(
        sp[["pidx", "country", "start", "basis"]].rename(columns={"country": "home"}), on="pidx"
    )
    later = later[(later["year"] > later["start"]) & (later["country"] != later["home"])]
    leave = later.groupby(["pidx", "basis"])["year"].min().rename("leave").reset_index()
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
    dep = mv.groupby(["pidx", "from_country"], as_index=False)["year"].min()
    dep = dep.rename(columns={"from_country": "country", "year": "left"})
    back = mv[["pidx", "to_country", "year"]].rename(columns={"to_country": "country"})
    back = back.merge(dep, on=["pidx", "country"])
    back = back[back["year"] > back["left"]].groupby(["pidx", "country"])["year"].min()
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


def _origin_work(panel: Panel, auth: pd.DataFrame, origins: pd.DataFrame) -> _Builder:
    keys = ["population", "subset", "origin_basis", "origin_country", "work_country"]
    if len(auth) == 0:
        empty = pd.DataFrame({k: pd.Series([], dtype=object) for k in keys}).assign(pidx=[])
        b = _count_table(empty, keys, panel.n_persons)
        b.order, b.ci_names = ["n", "share"], {"n": "n_", "share": ""}
        b.spec = bs.Spec(b.spec.matrices, lambda s: {"n": s["n"], "share": s["n"]}, ("n", "share"))
        return b
    pop_all = auth[["population", "pidx", "year"]].drop_duplicates().assign(subset="all")
    pop_llm = auth[auth["is_llm"]][["population", "pidx", "year"]].drop_duplicates()
    pop = pd.concat([pop_all, pop_llm.assign(subset="llm")], ignore_index=True)
    pop = pop.merge(panel.years[["pidx", "year", "country"]], on=["pidx", "year"], how="left")
    pop = pop[pop["country"].notna()].rename(columns={"country": "work_country"})
    o = origins.set_index("pidx")
    parts = []
    for basis, col in (("first_observed", "first_country"), ("training", "training_country")):
        origin = o[col].reindex(pop["pidx"]).to_numpy(dtype=object)
        origin = np.where(pd.isna(origin), UNKNOWN, origin)
        cell = pop.assign(origin_basis=basis, origin_country=origin)
        parts.extend([cell, cell.assign(origin_country=ALL)])
    rows = pd.concat(parts, ignore_index=True)
    universe, codes = bs.cells(rows, keys)
    m = bs.incidence(codes, rows["pidx"], len(universe), panel.n_persons)
    margin = (universe["origin_country"] == ALL).to_numpy()
    group_keys, groups = bs.cells(universe, ["population", "subset", "origin_basis"])
    pop_total = bs.grouper(groups, len(group_keys))

    def combine(s: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        n = s["n"]
        den = pop_total(n * margin[:, None])
        return {"n": n, "share": bs.safe_div(n, den)}

    spec = bs.Spec({"n": m}, combine, ("n", "share"))
    return _Builder(universe, spec, "n", ["n", "share"], {"n": "n_", "share": ""})
