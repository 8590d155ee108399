"""The calibrated model of moves: a move hazard, a destination choice and sector switches.

Three parts, fitted on the observed person-years up to the forecast origin ``T``:

1. **Move hazard** (binomial logit, statsmodels GLM on grouped person-years): the probability
   that a researcher active in year ``t`` and still active in ``t + 1`` is observed in another
   country in ``t + 1``, by current country group, being abroad (current country differs from the
   first observed one), sector, career stage, LLM subfield, career age and period.
2. **Destination choice** (conditional logit, :mod:`talentflow.scenarios.choice`): among movers,
   the destination by country group, with an attractiveness constant per destination plus a
   ridge-penalised deviation per destination and period, a tie to the first observed country
   (return) and a tie to any other country of earlier affiliation.
3. **Domestic sector switches** (binomial logits): academia -> industry and back, for stayers.

Every part is fitted on counts per covariate cell that the engine computes
(:mod:`talentflow.scenarios.cells`); the driver never holds one row per person-year.

Parameter uncertainty: each part has an asymptotic normal (estimate, inverse Hessian); draws from
it are carried into projections (:mod:`talentflow.scenarios.project`).

Known interventions can be added to the fit as :class:`PolicyTerm` (a dummy that switches on from
a year); :meth:`MoveModel.policy_effects` reports their rate ratios with intervals. The recovery
tests use this to check the model finds a known effect in simulated careers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import expit

# the GLM alone: statsmodels.api would import every model (a second of start-up per process)
from statsmodels.genmod.families import Binomial
from statsmodels.genmod.generalized_linear_model import GLM

from talentflow.scenarios import cells as engine_cells
from talentflow.scenarios.choice import nearest_psd
from talentflow.scenarios.destination import ChoicePart, fit_choice, tie_share
from talentflow.scenarios.frames import Panel
from talentflow.scenarios.levers import SECTORS, STAGES
from talentflow.scenarios.options import POLICY_KINDS, FitOptions, PolicyTerm

__all__ = [
    "OTHER",
    "POLICY_KINDS",
    "ChoicePart",
    "FitOptions",
    "GLMPart",
    "MoveModel",
    "PolicyTerm",
    "fit_model",
]

OTHER = "OTHER"
#: Career-age bins (years since first observed, ``cells.AGE_EDGES``): 0-1, 2-4, 5-9, 10+.
AGE_LABELS = ("0-1", "2-4", "5-9", "10+")


@dataclass
class GLMPart:
    """A fitted binomial logit: coefficient names, estimates, covariance, axis lookups."""

    names: list[str]
    params: np.ndarray
    cov: np.ndarray
    #: axis name -> for each level, column index in params (``len(params)`` = reference, 0).
    axes: dict[str, np.ndarray] = field(default_factory=dict)
    n_events: int = 0
    n_trials: int = 0

    def draw(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` draws of the coefficients plus a trailing zero column (for references)."""
        d = rng.multivariate_normal(self.params, nearest_psd(self.cov), size=n, method="cholesky")
        return np.hstack([d, np.zeros((n, 1))])

    def point(self) -> np.ndarray:
        """The estimate as a one-row draw matrix."""
        return np.hstack([self.params, [0.0]])[None, :]

    def table(self, part: str) -> pd.DataFrame:
        se = np.sqrt(np.clip(np.diag(self.cov), 0, None))
        return pd.DataFrame(
            {"part": part, "parameter": self.names, "estimate": self.params, "se": se}
        )


def _period(outcome_year: np.ndarray, T: int, opts: FitOptions) -> np.ndarray:
    back = (T - outcome_year) // opts.period_width
    return np.clip(opts.n_periods - 1 - back, 0, opts.n_periods - 1)


def choose_groups(panel: Panel, n: int, include: tuple[str, ...] = ()) -> list[str]:
    """The ``n`` countries with most person-years over the last five years, plus ``include``
    (ties broken by country code)."""
    st = panel.stock()
    recent = st[st["year"] > panel.last_year - 5]
    counts = recent.groupby("country")["n"].sum().sort_index()
    top = [str(c) for c in counts.sort_values(ascending=False, kind="stable").index[:n]]
    seen = set(st["country"])
    for c in include:
        if c not in top and c in seen:
            top.append(c)
    return [*top, OTHER]


def _fit_binomial(
    cells: pd.DataFrame, axes: dict[str, tuple[int, int]], extra: list[str], min_events: int
) -> GLMPart:
    """Grouped binomial GLM: ``cells`` has integer-coded axis columns, extra 0/1 columns,
    ``events`` and ``trials``. ``axes``: name -> (number of levels, reference level)."""
    cols: list[np.ndarray] = [np.ones(len(cells))]
    names = ["intercept"]
    pending: dict[str, list[tuple[int, int]]] = {}
    ev = cells["events"].to_numpy(float)
    tr = cells["trials"].to_numpy(float)
    e_all, t_all = ev.sum(), tr.sum()
    if e_all < min_events or (t_all - e_all) < min_events:
        # Too few events for a regression: a constant rate with a half-count prior.
        rate = (e_all + 0.5) / (t_all + 1.0)
        var = 1.0 / (e_all + 0.5) + 1.0 / (t_all - e_all + 0.5)
        return GLMPart(
            names=["intercept"],
            params=np.array([np.log(rate / (1 - rate))]),
            cov=np.array([[var]]),
            axes={axis: np.full(n, 1, dtype=np.int64) for axis, (n, _r) in axes.items()},
            n_events=int(e_all),
            n_trials=int(t_all),
        )
    for axis, (n_levels, ref) in axes.items():
        codes = cells[axis].to_numpy()
        pending[axis] = []
        for level in range(n_levels):
            if level == ref:
                continue
            mask = codes == level
            e, t = ev[mask].sum(), tr[mask].sum()
            if e < min_events or (t - e) < min_events:
                continue  # merged into the reference: too few events to estimate
            pending[axis].append((level, len(cols)))
            cols.append(mask.astype(float))
            names.append(f"{axis}[{level}]")
    for name in extra:
        x = cells[name].to_numpy(float)
        if x.any():
            cols.append(x)
            names.append(name)
    X = np.column_stack(cols)
    keep = _independent_columns(X)
    if len(keep) < X.shape[1]:
        # A dummy that is a combination of others (e.g. a period only one country was seen
        # in) is not identified: merge it into its reference rather than fit a singular model.
        new_index = {old: new for new, old in enumerate(keep)}
        X = X[:, keep]
        names = [names[i] for i in keep]
        pending = {
            axis: [(level, new_index[col]) for level, col in lv if col in new_index]
            for axis, lv in pending.items()
        }
    endog = np.column_stack([ev, tr - ev])
    res = GLM(endog, X, family=Binomial()).fit()
    k = len(names)
    lookups = {}
    for axis, (n_levels, _ref) in axes.items():
        idx = np.full(n_levels, k, dtype=np.int64)
        for level, col in pending[axis]:
            idx[level] = col
        lookups[axis] = idx
    return GLMPart(
        names=names,
        params=np.asarray(res.params),
        cov=np.asarray(res.cov_params()),
        axes=lookups,
        n_events=int(ev.sum()),
        n_trials=int(tr.sum()),
    )


def _independent_columns(X: np.ndarray) -> list[int]:
    """Indices of a maximal set of linearly independent columns, in order (greedy)."""
    if np.linalg.matrix_rank(X) == X.shape[1]:
        return list(range(X.shape[1]))
    keep: list[int] = []
    for j in range(X.shape[1]):
        trial = X[:, [*keep, j]]
        if np.linalg.matrix_rank(trial) == len(keep) + 1:
            keep.append(j)
    return keep


@dataclass
class MoveModel:
    """A fitted model plus the state at ``T`` that projections start from.

    Arrays are indexed by country group ``C``/``O``/``J`` (``groups``), sector ``S``
    (:data:`SECTORS`), stage ``G`` (:data:`STAGES`), LLM ``L`` (0/1) and age bin ``A``.
    """

    groups: list[str]
    T: int
    first_year: int
    options: FitOptions
    hazard: GLMPart
    choice: ChoicePart
    a2i: GLMPart
    i2a: GLMPart
    #: continuation probability (still active next year), (C, S)
    cont: np.ndarray
    #: expected entrants per year, (C, S, G, L)
    entrants: np.ndarray
    #: researchers active at T, (C, O, S, G, L)
    state: np.ndarray
    #: age-bin mix of each state cell, (C, O, S, G, L, A)
    age_mix: np.ndarray
    #: share of each (C, O) cell with an earlier affiliation in J (not origin, not current)
    tie_share: np.ndarray
    policy_terms: tuple[PolicyTerm, ...] = ()
    #: observed country-year history (stock, inflow, outflow, net_flow), for charts
    history: pd.DataFrame | None = None
    _hazard_cells: pd.DataFrame | None = None
    _choice_data: dict | None = None
    #: statements about the data the fit used (e.g. partly covered years left out)
    notes: list[str] = field(default_factory=list)

    @property
    def n_groups(self) -> int:
        return len(self.groups)

    def parameters(self) -> pd.DataFrame:
        """All coefficients with standard errors, one row each."""
        return pd.concat(
            [
                self.hazard.table("hazard"),
                self.choice.table(),
                self.a2i.table("academia_to_industry"),
                self.i2a.table("industry_to_academia"),
            ],
            ignore_index=True,
        )

    def policy_effects(
        self, *, draws: int = 2000, seed: int = 0, level: float = 0.90
    ) -> pd.DataFrame:
        """Rate ratio of each fitted :class:`PolicyTerm`, with a ``level`` interval.

        ``outflow``: ratio of the leaving probability with / without the term, over the affected
        person-years. ``inflow``: odds ratio of choosing the country (exactly the factor by which
        its destination weight rose). ``return``: ratio of the return probability (hazard ratio
        times the ratio of the return share among movers).
        """
        rng = np.random.default_rng(seed)
        hz = self.hazard.draw(draws, rng)
        ch = self.choice.draw(draws, rng)
        lo, hi = (1 - level) / 2, 1 - (1 - level) / 2
        out = []
        cells = self._hazard_cells
        cd = self._choice_data
        if cells is None or cd is None:
            raise ValueError("this model keeps no fitting cells (fit it with fit_model)")
        for term in self.policy_terms:
            rr = np.ones(draws)
            if term.kind in ("outflow", "return") and term.name in self.hazard.names:
                i = self.hazard.names.index(term.name)
                c = cells[cells[term.name] > 0]
                Xc = c["_X"].to_list()
                X = np.vstack(Xc)  # (m, k+1) incl. zero column
                eta = X @ hz.T  # (m, D)
                eta0 = eta - hz[:, i][None, :]
                w = c["trials"].to_numpy(float)[:, None]
                rr = (w * expit(eta)).sum(0) / (w * expit(eta0)).sum(0)
            if term.kind in ("inflow", "return") and term.name in self.choice.names:
                j = self.choice.names.index(term.name)
                Xl = cd["X"]
                avail = cd["avail"]
                n, J = avail.shape
                col = np.asarray(Xl[:, j].todense()).reshape(n, J)
                rows = np.flatnonzero(col.any(axis=1))
                if term.kind == "inflow":
                    rr = rr * np.exp(ch[:, j])
                else:
                    sub = Xl[(rows[:, None] * J + np.arange(J)[None, :]).ravel()]
                    v = np.asarray(sub @ ch[:, :-1].T).reshape(len(rows), J, draws)
                    v = np.where(avail[rows][:, :, None], v, -np.inf)
                    v0 = v - col[rows][:, :, None] * ch[:, j][None, None, :]

                    # each row is a cell of moves: weight it by its count
                    wcol = col[rows] * cd["weights"][rows][:, None]

                    def share(u: np.ndarray, rows_col: np.ndarray = wcol) -> np.ndarray:
                        u = u - u.max(axis=1, keepdims=True)
                        e = np.exp(u)
                        q = e / e.sum(axis=1, keepdims=True)
                        return (q * rows_col[:, :, None]).sum(axis=(0, 1))

                    rr = rr * share(v) / share(v0)
            est = float(np.median(rr))
            out.append(
                {
                    "kind": term.kind,
                    "country": term.country,
                    "from_year": term.from_year,
                    "estimate": est,
                    "low": float(np.quantile(rr, lo)),
                    "high": float(np.quantile(rr, hi)),
                    "level": level,
                }
            )
        return pd.DataFrame(out)


def _observed_history(panel: Panel, groups: list[str]) -> pd.DataFrame:
    """Observed stock (person-years) and move flows by country group and year."""
    gi = {g: g for g in groups}
    st = panel.stock()
    stock = st.assign(country=st["country"].map(gi).fillna(OTHER))
    stock = stock.groupby(["country", "year"])["n"].sum().rename("stock")
    mv = panel.flows()
    mv = mv[mv["year"] <= panel.last_year]
    fr = mv["from_country"].map(gi).fillna(OTHER)
    to = mv["to_country"].map(gi).fillna(OTHER)
    inflow = mv.assign(country=to).groupby(["country", "year"])["n"].sum().rename("inflow")
    outflow = mv.assign(country=fr).groupby(["country", "year"])["n"].sum().rename("outflow")
    h = pd.concat([stock, inflow, outflow], axis=1).fillna(0).reset_index()
    h["net_flow"] = h["inflow"] - h["outflow"]
    return h


def fit_model(
    panel: Panel,
    *,
    options: FitOptions | None = None,
    policy_terms: tuple[PolicyTerm, ...] | list[PolicyTerm] = (),
    include_countries: tuple[str, ...] = (),
) -> MoveModel:
    """Fit the move hazard, destination choice and sector switches on ``panel``.

    Parameters
    ----------
    panel
        From :func:`talentflow.scenarios.frames.load_panel`.
    options
        :class:`FitOptions`.
    policy_terms
        Known interventions to estimate (see :meth:`MoveModel.policy_effects`).
    include_countries
        Countries to model as their own group even if not among the most active (e.g. the
        countries a scenario's levers name).
    """
    opts = options or FitOptions()
    terms = tuple(policy_terms)
    T = panel.last_year
    extra = tuple(dict.fromkeys([*include_countries, *(t.country for t in terms)]))
    groups = choose_groups(panel, opts.n_countries, extra)
    C = len(groups)
    # The derived person-years are cached in the engine while the fit counts its cells, and
    # released at the end (a temporary table must not outlive its connection).
    with panel.rows.cache() as rows:
        # Person-years per covariate cell, counted in the engine (countries coded to groups).
        cells = engine_cells.person_year_cells(rows, groups)
        moves, pairs = engine_cells.choice_cells(rows, groups, fit_end_of(panel))
        ties_at_T = engine_cells.tie_cells(rows, groups, T)
    n = cells["n"].to_numpy()
    year = cells["year"].to_numpy()
    p_idx = _period(year + 1, T, opts)
    risk = cells["has_next"].to_numpy() & (year < T)
    fit_end = fit_end_of(panel)
    fit_risk = risk & (year < fit_end)

    # --- 1. hazard on grouped person-years -------------------------------------------------
    hz, tnames = _hazard_frame(cells, p_idx, groups, terms)
    hz = hz[fit_risk]
    keys = ["C", "abroad", "S", "G", "L", "A", "P", *tnames]
    hazard_cells = hz.groupby(keys, as_index=False).agg(
        events=("events", "sum"), trials=("trials", "sum")
    )
    counts = np.bincount(cells["C"].to_numpy()[fit_risk], weights=n[fit_risk], minlength=C)
    hazard_axes = {
        "C": (C, int(np.argmax(counts))),
        "S": (len(SECTORS), 0),
        "G": (len(STAGES), len(STAGES) - 1),
        "L": (2, 0),
        "A": (len(AGE_LABELS), 0),
        "P": (opts.n_periods, opts.n_periods - 1),
    }
    hazard = _fit_hazard(hazard_cells, hazard_axes, tnames, opts)

    # --- 2. destination choice, on moves counted per cell in the engine --------------------
    choice, choice_data = fit_choice(
        moves, pairs, groups, _period(moves["year"].to_numpy() + 1, T, opts), terms, opts
    )

    # --- 3. domestic sector switches -------------------------------------------------------
    stay = cells["stay"].to_numpy() & fit_risk
    sw_axes = {
        "C": (C, int(np.argmax(counts))),
        "G": (len(STAGES), len(STAGES) - 1),
        "L": (2, 0),
        "P": (opts.n_periods, opts.n_periods - 1),
    }
    parts = []
    for src, dst in (("academia", "industry"), ("industry", "academia")):
        m = stay & (cells["S"].to_numpy() == SECTORS.index(src))
        d = cells.loc[m, ["C", "G", "L"]].assign(
            P=p_idx[m],
            events=n[m] * (cells["NS"].to_numpy()[m] == SECTORS.index(dst)),
            trials=n[m],
        )
        sc = d.groupby(["C", "G", "L", "P"], as_index=False)[["events", "trials"]].sum()
        parts.append(_fit_binomial(sc, sw_axes, [], opts.min_events))
    a2i, i2a = parts

    # --- state at T, continuation, entrants -----------------------------------------------
    S, G = len(SECTORS), len(STAGES)
    A = len(AGE_LABELS)
    c_idx, s_idx, g_idx, l_idx = (cells[k].to_numpy() for k in ("C", "S", "G", "L"))
    at_T = year == T
    state6 = np.zeros((C, C, S, G, 2, A))
    at = cells[at_T]
    np.add.at(
        state6,
        tuple(at[k].to_numpy() for k in ("C", "O", "S", "G", "L", "A")),
        at["n"].to_numpy(float),
    )
    state = state6.sum(axis=-1)
    global_mix = np.bincount(at["A"].to_numpy(), weights=at["n"].to_numpy(float), minlength=A)
    global_mix = global_mix / max(global_mix.sum(), 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        age_mix = np.where(state[..., None] > 0, state6 / state[..., None], global_mix)

    win = risk & (year >= T - opts.window)
    num = np.zeros((C, S))
    np.add.at(num, (c_idx[win], s_idx[win]), n[win])
    win_all = (year >= T - opts.window) & (year < T)
    den_all = np.zeros((C, S))
    np.add.at(den_all, (c_idx[win_all], s_idx[win_all]), n[win_all])
    # Shrink small cells towards the country's (then the global) continuation rate.
    prior_c = (num.sum(1) + 20 * num.sum() / max(den_all.sum(), 1)) / (den_all.sum(1) + 20)
    cont = (num + 20 * prior_c[:, None]) / (den_all + 20)

    first_row = cells["first"].to_numpy() & (year > panel.first_year)
    ent_win = first_row & (year > T - opts.window)
    entrants = np.zeros((C, S, G, 2))
    np.add.at(
        entrants, (c_idx[ent_win], s_idx[ent_win], g_idx[ent_win], l_idx[ent_win]), n[ent_win]
    )
    entrants /= opts.window

    ties = tie_share(ties_at_T, C)

    return MoveModel(
        groups=groups,
        T=T,
        first_year=panel.first_year,
        options=opts,
        hazard=hazard,
        choice=choice,
        a2i=a2i,
        i2a=i2a,
        cont=cont,
        entrants=entrants,
        state=state,
        age_mix=age_mix,
        tie_share=ties,
        policy_terms=terms,
        history=_observed_history(panel, groups),
        _hazard_cells=hazard_cells,
        _choice_data=choice_data,
        notes=_data_notes(panel, fit_end),
    )


def fit_end_of(panel: Panel) -> int:
    """The first outcome year left out of the move fits.

    Moves dated in the very last year of the data are undercounted (no later papers to tell a
    move from a visit or a stale address): that outcome year is left out unless the data go on
    after ``T`` (a backtest cut, a partly covered final year)."""
    T = panel.last_year
    return T - 1 if panel.data_end is None or panel.data_end <= T else T


def _hazard_frame(
    cells: pd.DataFrame, p_idx: np.ndarray, groups: list[str], terms: tuple[PolicyTerm, ...]
) -> tuple[pd.DataFrame, list[str]]:
    """The hazard's covariates per person-year cell (policy dummies included), with the
    cell's moves (``events``) and person-years (``trials``)."""
    n = cells["n"].to_numpy()
    year = cells["year"].to_numpy()
    abroad = cells["abroad"].to_numpy()
    hz = cells[["C", "abroad", "S", "G", "L", "A"]].assign(
        P=p_idx, events=n * cells["moved"].to_numpy(), trials=n
    )
    tnames = []
    code = {g: i for i, g in enumerate(groups[:-1])}
    for t in terms:
        here = cells["C"].to_numpy() == code.get(t.country, -1)
        if t.kind == "outflow":
            hz[t.name] = (here & (year + 1 >= t.from_year)).astype(np.int64)
            tnames.append(t.name)
        elif t.kind == "return":
            from_there = (cells["O"].to_numpy() == code.get(t.country, -1)) & abroad.astype(bool)
            # The baseline hazard of those abroad from the country, before the policy: without
            # it the common ``abroad`` effect stands in for it and the term is biased.
            base = f"origin_abroad[{t.country}]"
            if base not in hz:
                hz[base] = from_there.astype(np.int64)
                tnames.append(base)
            hz[t.name] = (from_there & (year + 1 >= t.from_year)).astype(np.int64)
            tnames.append(t.name)
    return hz, tnames


def _fit_hazard(
    cells: pd.DataFrame,
    axes: dict[str, tuple[int, int]],
    tnames: list[str],
    opts: FitOptions,
) -> GLMPart:
    """The move hazard on its cells; ``cells`` gains each cell's design row (``_X``), which
    :meth:`MoveModel.policy_effects` uses."""
    cells["abroad_"] = cells["abroad"]
    hazard = _fit_binomial(cells, axes, ["abroad_", *tnames], opts.min_events)
    hazard.names = [n.replace("abroad_", "abroad") for n in hazard.names]
    if "abroad" not in hazard.names:
        hazard.axes["abroad"] = np.array([len(hazard.params), len(hazard.params)])
    else:
        hazard.axes["abroad"] = np.array([len(hazard.params), hazard.names.index("abroad")])
    k = len(hazard.params)
    Xcells = np.zeros((len(cells), k + 1))
    Xcells[:, 0] = 1.0
    for axis in ("C", "S", "G", "L", "A", "P"):
        col = hazard.axes[axis][cells[axis].to_numpy()]
        Xcells[np.arange(len(cells)), col] += 1.0
    Xcells[np.arange(len(cells)), hazard.axes["abroad"][cells["abroad"].to_numpy()]] += 1.0
    for name in tnames:
        if name in hazard.names:
            Xcells[:, hazard.names.index(name)] = cells[name].to_numpy(float)
    Xcells[:, k] = 0.0
    cells["_X"] = list(Xcells)
    return hazard


def _data_notes(panel: Panel, fit_end: int) -> list[str]:
    notes = []
    if panel.dropped_years:
        years = ", ".join(map(str, panel.dropped_years))
        notes.append(
            f"Left out as only partly covered in the corpus (fewer than half the person-years "
            f"of the year before): {years}; the projection starts from {panel.last_year}."
        )
    if fit_end < panel.last_year:
        notes.append(
            f"Moves dated {panel.last_year}, the last year of the data, are left out of the "
            "fit: without later papers the detector undercounts them."
        )
    return notes
