"""Projections: stocks and flows by country for N years ahead, baseline vs scenario, with bands.

The population is held as expected counts in cells (current country C, first observed country O,
sector S, stage G, LLM L); each parameter draw is a column of the computation, so one NumPy
pass moves every draw at once (chunks of draws bound memory). Within a projected year:

1. researchers continue (stay active) with the recent continuation rate of their country and
   sector; the rest leave the corpus;
2. of those who continue, a share moves abroad: the hazard gives the odds of leaving, the
   destination choice splits them over destinations, levers multiply the odds of named
   alternatives against staying (``p_j = r_j / (1 + sum_k r_k)``);
3. stayers and movers switch sector (academia <-> industry) with the fitted switch rates;
4. entrants arrive at the recent yearly rate, in their own country.

Scenario and baseline share the parameter draws, so the difference band reflects only what the
levers change. Intervals are parameter-uncertainty intervals (see ``docs/scenarios.md``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import expit

from talentflow.scenarios.levers import SECTORS, STAGES, Lever, Scenario
from talentflow.scenarios.model import OTHER, MoveModel

MEASURES = ("stock", "inflow", "outflow", "net_flow", "returns", "academia_to_industry")

#: What every projection assumes, stated with each result.
BASE_ASSUMPTIONS = (
    "Moves, destinations and sector switches follow the model fitted on observed careers up to "
    "{T}; hazard period effects and destination attractiveness stay at their {p0}-{T} level.",
    "Continuation (staying active in the corpus) and entrants stay at their last {w}-year rates; "
    "career stage, LLM subfield and career-age mix of each group stay as at {T}; movers keep "
    "their sector.",
    "Countries outside the {n} modelled groups are pooled as OTHER.",
    "Intervals: {lo:.0%}-{hi:.0%} quantiles over {d} draws of the parameters from their "
    "asymptotic normal (parameter uncertainty only; no sampling noise of individual moves).",
    "Origin means the first observed country (an observed career fact), never a nationality.",
)


@dataclass
class ScenarioResult:
    """Baseline vs scenario, per country group, year and measure.

    Attributes
    ----------
    table
        Columns ``country, year, measure, baseline, baseline_low, baseline_high, scenario,
        scenario_low, scenario_high, difference, difference_low, difference_high``; ``measure``
        in :data:`MEASURES`; values are means over draws, bands are quantiles.
    history
        Observed ``country, year, stock, inflow, outflow, net_flow`` up to the forecast origin.
    assumptions
        Plain-language statements: each lever's parameter change, then the model's assumptions.
    """

    scenario: Scenario
    years: list[int]
    draws: int
    seed: int
    level: float
    table: pd.DataFrame
    history: pd.DataFrame
    assumptions: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)

    def measure(self, name: str) -> pd.DataFrame:
        """Rows of one measure."""
        return self.table[self.table["measure"] == name].reset_index(drop=True)

    def summary(self, measure: str = "net_flow") -> pd.DataFrame:
        """Cumulated ``measure`` over the horizon per country (stock: last year)."""
        t = self.measure(measure)
        if measure == "stock":
            return t[t["year"] == max(self.years)].reset_index(drop=True)
        return t.groupby("country", as_index=False)[["baseline", "scenario", "difference"]].sum()


def _lever_offsets(
    model: MoveModel, levers: list[Lever], year: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Log-odds offsets for one projected year.

    Returns ``(off, off_a2i, off_i2a)``: ``off`` (C, O, S, G, J) on the odds of moving to J vs
    staying; ``off_a2i`` (C,) on the odds of a domestic academia -> industry switch.
    """
    C = model.n_groups
    S, G = len(SECTORS), len(STAGES)
    off = np.zeros((C, C, S, G, C))
    off_a2i = np.zeros(C)
    off_i2a = np.zeros(C)
    gi = {g: i for i, g in enumerate(model.groups)}
    for lv in levers:
        if lv.from_year is not None and year < lv.from_year:
            continue
        if lv.country not in gi:
            continue
        c = gi[lv.country]
        x = lv.log_factor
        gm = np.array([s in lv.stages for s in STAGES]) if lv.stages else np.ones(G, bool)
        if lv.kind == "attractiveness":
            off[:, :, :, gm, c] += x
            off[c, :, :, gm, :] -= x
        elif lv.kind == "retention":
            sm_ = np.array([s == lv.sector for s in SECTORS]) if lv.sector else np.ones(S, bool)
            sub = off[c][:, sm_]
            sub[:, :, gm, :] -= x
            off[c][:, sm_] = sub
        elif lv.kind == "inflow":
            om = (
                np.array([g in lv.origins for g in model.groups])
                if lv.origins
                else np.ones(C, bool)
            )
            if lv.origin_basis == "sending":
                off[om, :, :, :, c] += x
            else:
                off[:, om, :, :, c] += x
        elif lv.kind == "return":
            rows = np.arange(C) != c
            off[rows, c, :, :, c] += x
        elif lv.kind == "academia_to_industry":
            off_a2i[c] += x
    return off, off_a2i, off_i2a


def _lever_notes(model: MoveModel, levers: list[Lever]) -> list[str]:
    notes = []
    for lv in levers:
        missing = [c for c in (lv.country, *lv.origins) if c not in model.groups]
        if missing:
            notes.append(
                f"not in the modelled groups (no observed researchers): {', '.join(missing)}; "
                f"the lever '{lv.describe()}' acts only on the groups present"
            )
    return notes


def _axis(draws: np.ndarray, idx: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Coefficients of one categorical axis for every draw, reshaped for broadcasting."""
    return draws[:, idx].reshape((draws.shape[0], *shape))


def _project_chunk(
    model: MoveModel,
    hz: np.ndarray,
    ch: np.ndarray,
    ai: np.ndarray,
    ia: np.ndarray,
    offsets: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
) -> dict[str, np.ndarray]:
    """Project one chunk of draws; returns measure -> (D, years, C).

    Internal layout puts the current country last, (D, O, S, G, L, C), so that moving
    researchers is one batched matrix product over (C -> J) per (draw, origin, sector, stage).
    """
    D = hz.shape[0]
    C = model.n_groups
    S, G = len(SECTORS), len(STAGES)
    A = model.age_mix.shape[-1]
    oth = C - 1
    last = model.options.n_periods - 1
    ax = model.hazard.axes

    abroad = (np.arange(C)[:, None] != np.arange(C)[None, :]).astype(np.int64)  # (O, C)
    eta = (
        hz[:, [0]].reshape(D, 1, 1, 1, 1, 1, 1)
        + _axis(hz, ax["C"], (1, 1, 1, 1, C, 1))
        + hz[:, ax["abroad"][abroad]].reshape(D, C, 1, 1, 1, C, 1)
        + _axis(hz, ax["S"], (1, S, 1, 1, 1, 1))
        + _axis(hz, ax["G"], (1, 1, G, 1, 1, 1))
        + _axis(hz, ax["L"], (1, 1, 1, 2, 1, 1))
        + _axis(hz, ax["A"], (1, 1, 1, 1, 1, A))
        + hz[:, ax["P"][last]].reshape(D, 1, 1, 1, 1, 1, 1)
    )
    mix = model.age_mix.transpose(1, 2, 3, 4, 0, 5)  # (O, S, G, L, C, A)
    h = (mix[None] * expit(eta)).sum(-1)  # (D, O, S, G, L, C)
    h = np.clip(h, 1e-12, 1 - 1e-9)
    odds = h / (1 - h)

    cp = model.choice
    tie_o = abroad.T[:, :, None] * np.eye(C)[None]  # (C, O, J): J is the origin, C is not
    util = (
        ch[:, cp.asc].reshape(D, 1, 1, C)
        + ch[:, cp.dev[:, last]].reshape(D, 1, 1, C)
        + ch[:, [cp.tie_origin]].reshape(D, 1, 1, 1) * tie_o[None]
        + ch[:, [cp.tie_prior]].reshape(D, 1, 1, 1) * model.tie_share[None]
    )  # (D, C, O, J)
    avail = ~np.eye(C, dtype=bool)
    avail[oth, oth] = True
    util = np.where(avail[None, :, None, :], util, -np.inf)
    util -= util.max(axis=-1, keepdims=True)
    q = np.exp(util)
    q /= q.sum(axis=-1, keepdims=True)
    q = np.ascontiguousarray(q.transpose(0, 2, 1, 3))  # (D, O, C, J)

    def switch(draws: np.ndarray, part_axes: dict) -> np.ndarray:
        e = (
            draws[:, [0]].reshape(D, 1, 1, 1)
            + _axis(draws, part_axes["G"], (G, 1, 1))
            + _axis(draws, part_axes["L"], (1, 2, 1))
            + _axis(draws, part_axes["C"], (1, 1, C))
            + draws[:, part_axes["P"][last]].reshape(D, 1, 1, 1)
        )  # (D, G, L, C)
        return e[:, None]  # (D, 1, G, L, C)

    eta_ai = switch(ai, model.a2i.axes)
    eta_ia = switch(ia, model.i2a.axes)

    state = model.state.transpose(1, 2, 3, 4, 0)  # (O, S, G, L, C)
    M = np.broadcast_to(state, (D, *state.shape)).copy()
    cont = model.cont.T[None, None, :, None, None, :]  # (1, 1, S, 1, 1, C)
    ent = model.entrants[:, None]  # (C, 1, S, G, L): the layout of M[:, diag, ..., diag]
    diag = np.arange(C)
    not_oth = np.arange(C) != oth
    out: dict[str, list[np.ndarray]] = {m: [] for m in MEASURES}
    cache: dict[int, tuple[np.ndarray, bool]] = {}
    for off, off_ai, off_ia in offsets:
        key = hash(off.tobytes())
        if key not in cache:
            eoff = np.exp(off).transpose(1, 2, 3, 0, 4)  # (O, S, G, C, J)
            cache[key] = (eoff, bool(np.any(off)))
        eoff, active = cache[key]
        M *= cont
        if active:
            qe = q[:, :, None, None] * eoff[None]  # (D, O, S, G, C, J)
            Q = qe.sum(-1)[:, :, :, :, None, :]  # (D, O, S, G, 1, C)
        else:
            qe = np.broadcast_to(q[:, :, None, None], (D, C, S, G, C, C))
            Q = 1.0
        w = M * odds / (1.0 + odds * Q)  # (D, O, S, G, L, C): movers per unit of qe
        moved = w * Q
        arr = np.matmul(w, qe)  # (D, O, S, G, L, J)
        wl = w.sum(axis=4)  # (D, O, S, G, C)
        flows = np.matmul(
            wl.transpose(0, 1, 4, 2, 3).reshape(D, C, C, 1, S * G),
            qe.transpose(0, 1, 4, 2, 3, 5).reshape(D, C, C, S * G, C),
        )[:, :, :, 0, :]  # (D, O, C, J)
        M += arr - moved
        pai = expit(eta_ai + off_ai)
        pia = expit(eta_ia + off_ia)
        a_ = M[:, :, 0] * pai  # (D, O, G, L, C)
        i_ = M[:, :, 1] * pia
        M[:, :, 0] += i_ - a_
        M[:, :, 1] += a_ - i_
        M[:, diag, :, :, :, diag] += ent
        cj = flows.sum(axis=1)  # (D, C, J)
        own = np.where(not_oth, cj[:, diag, diag], 0.0)
        inflow = cj.sum(axis=1) - own
        outflow = cj.sum(axis=2) - own
        ret = flows[:, diag, :, diag].sum(axis=-1).T - flows[:, diag, diag, diag]
        out["stock"].append(M.sum(axis=(1, 2, 3, 4)))
        out["inflow"].append(inflow)
        out["outflow"].append(outflow)
        out["net_flow"].append(inflow - outflow)
        out["returns"].append(ret)
        out["academia_to_industry"].append(a_.sum(axis=(1, 2, 3)))
    return {m: np.stack(v, axis=1) for m, v in out.items()}


def project(
    model: MoveModel,
    levers: list[Lever] | None = None,
    *,
    years: int = 10,
    draws: int = 500,
    seed: int = 0,
    chunk: int = 100,
    point: bool = False,
) -> dict[str, np.ndarray]:
    """Project ``years`` ahead from ``model.T``; measure -> array (draws, years, groups).

    With ``point=True`` a single projection at the estimates (no draws).
    """
    levers = levers or []
    horizon = [model.T + k for k in range(1, years + 1)]
    offsets = [_lever_offsets(model, levers, y) for y in horizon]
    if point:
        return _project_chunk(
            model,
            model.hazard.point(),
            model.choice.point(),
            model.a2i.point(),
            model.i2a.point(),
            offsets,
        )
    rng = np.random.default_rng(seed)
    hz = model.hazard.draw(draws, rng)
    ch = model.choice.draw(draws, rng)
    ai = model.a2i.draw(draws, rng)
    ia = model.i2a.draw(draws, rng)
    parts = [
        _project_chunk(
            model,
            hz[s : s + chunk],
            ch[s : s + chunk],
            ai[s : s + chunk],
            ia[s : s + chunk],
            offsets,
        )
        for s in range(0, draws, chunk)
    ]
    return {m: np.concatenate([p[m] for p in parts], axis=0) for m in MEASURES}


def compare(
    model: MoveModel,
    scenario: Scenario,
    *,
    years: int = 10,
    draws: int = 500,
    seed: int = 0,
    level: float = 0.90,
) -> ScenarioResult:
    """Project baseline and scenario with the same draws and tabulate both with bands."""
    base = project(model, [], years=years, draws=draws, seed=seed)
    scen = project(model, list(scenario.levers), years=years, draws=draws, seed=seed)
    lo, hi = (1 - level) / 2, 1 - (1 - level) / 2
    horizon = [model.T + k for k in range(1, years + 1)]
    frames = []
    for m in MEASURES:
        b, s = base[m], scen[m]
        d = s - b
        Y, C = b.shape[1], b.shape[2]
        frame = pd.DataFrame(
            {
                "country": np.tile(model.groups, Y),
                "year": np.repeat(horizon, C),
                "measure": m,
            }
        )
        for name, arr in (("baseline", b), ("scenario", s), ("difference", d)):
            frame[name] = arr.mean(0).ravel()
            frame[f"{name}_low"] = np.quantile(arr, lo, axis=0).ravel()
            frame[f"{name}_high"] = np.quantile(arr, hi, axis=0).ravel()
        frames.append(frame)
    table = pd.concat(frames, ignore_index=True)
    assumptions = [
        *scenario.assumptions(),
        *_lever_notes(model, list(scenario.levers)),
        *model.notes,
        *base_assumptions(model, level=level, draws=draws),
    ]
    hist = model.history if model.history is not None else pd.DataFrame()
    return ScenarioResult(
        scenario=scenario,
        years=horizon,
        draws=draws,
        seed=seed,
        level=level,
        table=table,
        history=hist,
        assumptions=assumptions,
        groups=list(model.groups),
    )


__all__ = ["MEASURES", "OTHER", "ScenarioResult", "compare", "project"]


def base_assumptions(model: MoveModel, *, level: float, draws: int) -> list[str]:
    """What every projection of ``model`` assumes, with its figures filled in."""
    lo, hi = (1 - level) / 2, 1 - (1 - level) / 2
    o = model.options
    fmt = {
        "T": model.T,
        "p0": model.T - o.period_width + 1,
        "w": o.window,
        "n": model.n_groups - 1,
        "lo": lo,
        "hi": hi,
        "d": draws,
    }
    return [a.format(**fmt) for a in BASE_ASSUMPTIONS]
