"""The scenario explorer: policy levers as sliders, baseline vs scenario projections with bands.

The move model of :mod:`talentflow.scenarios` is fitted once per server process (lazily, or by
a warm-up thread at start) on the careers tables of the store; the baseline projection is
computed once per horizon; each slider state then costs one scenario projection, cached per
state. The scenarios stage writes only the coefficients (``scenario_parameters``), not the state
a projection starts from, so the model cannot be rebuilt from the store and is fitted here.
"""

from __future__ import annotations

import contextlib
import threading
import warnings
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from talentflow.read import StoreReader
from talentflow.scenarios import Lever, MoveModel, Scenario, fit_from_store, project
from talentflow.scenarios.model import OTHER
from talentflow.scenarios.project import base_assumptions
from talentflow.web.charts.figures import PALETTE, Chart, _layout, _rgba, _vals, bar_figure
from talentflow.web.names import country_name

#: Odds factors a slider can take (1 = no change).
FACTOR_MIN, FACTOR_MAX, FACTOR_STEP = 0.5, 2.0, 0.05
#: Projection horizon bounds (years) and default.
MAX_YEARS, DEFAULT_YEARS = 15, 10
#: Parameter draws per projection: modest, so a slider move answers in about a second.
DRAWS = 100
#: Interval level of the bands (the scenarios package's default).
LEVEL = 0.95
#: Observed years drawn before the projection.
HISTORY_YEARS = 10
#: Scenario projections kept in memory (each a few MB).
RUNS_KEPT = 64
#: Banded projections computed at once, and how long a request waits for its turn (s).
PROJECTIONS_AT_ONCE = 2
BUSY_TIMEOUT = 60.0


@dataclass(frozen=True)
class Slider:
    """One lever of the explorer: what it is called and the lever it builds."""

    key: str
    label: str
    help: str
    kind: str
    stages: tuple[str, ...] = ()
    sector: str | None = None


#: One slider per lever kind of the shipped example scenarios (plus returns).
SLIDERS: tuple[Slider, ...] = (
    Slider(
        "grants",
        "Odds for students and postdocs (e.g. early-career grants)",
        "attractiveness of the country for students and postdocs (odds of moving there x "
        "factor, odds of its own students and postdocs leaving / factor)",
        "attractiveness",
        stages=("student", "postdoc"),
    ),
    Slider(
        "industry",
        "Odds that industry researchers stay (e.g. tax incentives)",
        "industry retention: odds of leaving the country for researchers in industry / factor",
        "retention",
        sector="industry",
    ),
    Slider(
        "visa",
        "Odds of moving in (e.g. visa rules)",
        "odds of moving to the country for movers leaving the chosen origin (or any origin) "
        "x factor; below 1 is a restriction",
        "inflow",
    ),
    Slider(
        "returns",
        "Odds of a return move (e.g. return incentives)",
        "odds of a return move to the country for researchers first observed there and now "
        "abroad x factor",
        "return",
    ),
    Slider(
        "startup",
        "Odds of academia → industry (e.g. startup funding)",
        "odds of a domestic academia -> industry switch in the country x factor",
        "academia_to_industry",
    ),
)
SLIDER_KEYS = tuple(s.key for s in SLIDERS)


class ModelUnavailable(RuntimeError):
    """The store cannot support the move model (no careers tables, or the fit failed)."""


class ExplorerBusy(ModelUnavailable):
    """Too many projections are being computed: the request may be retried (503)."""


@dataclass
class Setting:
    """A validated slider state."""

    country: str
    factors: dict[str, float]
    visa_from: str | None
    years: int

    def levers(self) -> list[Lever]:
        """The levers this state applies (sliders at 1 apply none)."""
        out = []
        for s in SLIDERS:
            f = self.factors[s.key]
            if abs(f - 1.0) < 1e-9:
                continue
            origins = (self.visa_from,) if s.key == "visa" and self.visa_from else ()
            out.append(Lever(s.kind, self.country, f, s.stages, s.sector, origins))
        return out

    def params(self) -> dict[str, Any]:
        """The full state as URL parameters (every slider, so a URL reproduces the view)."""
        return {
            "country": self.country,
            **{k: f"{self.factors[k]:g}" for k in SLIDER_KEYS},
            "visa_from": self.visa_from or "",
            "years": self.years,
        }


class Explorer:
    """Fitted model, baseline and scenario projections of one store (thread-safe, cached).

    Parameters
    ----------
    db_path
        The store; read through its own :class:`~talentflow.read.StoreReader` while fitting.
    draws
        Parameter draws per projection.
    """

    def __init__(self, db_path: str | Path, draws: int = DRAWS) -> None:
        self.db_path = Path(db_path)
        self.draws = draws
        self._lock = threading.Lock()
        self._model: MoveModel | None = None
        self._error: str | None = None
        self._base: dict[int, dict[str, np.ndarray]] = {}
        self._runs: OrderedDict[Any, dict[str, np.ndarray]] = OrderedDict()
        self._slots = threading.BoundedSemaphore(PROJECTIONS_AT_ONCE)

    def model(self) -> MoveModel:
        """The fitted model (fitted on first use; a failure is remembered and re-raised)."""
        with self._lock:
            if self._model is None and self._error is None:
                try:
                    # its own reader: the fit runs in a background thread beside the app's
                    with StoreReader(self.db_path) as reader, warnings.catch_warnings():
                        # Ibis/DuckDB/pandas deprecation chatter while reading the tables.
                        warnings.simplefilter("ignore", DeprecationWarning)
                        warnings.simplefilter("ignore", FutureWarning)
                        self._model = fit_from_store(reader.con)
                except Exception as exc:  # any failure: the explorer says why, the app lives
                    self._error = f"{type(exc).__name__}: {exc}"
            if self._model is None:
                raise ModelUnavailable(
                    f"the scenario model cannot be fitted on this store ({self._error})"
                )
            return self._model

    def warm(self) -> None:
        """Fit the model and project the default baseline (for a background thread)."""
        with contextlib.suppress(ModelUnavailable):
            self.baseline(DEFAULT_YEARS)

    def ready(self) -> bool:
        """Whether the model is fitted (without fitting it)."""
        return self._model is not None

    def busy(self) -> bool:
        """Whether the model is being fitted (the store is open for it meanwhile)."""
        return self._lock.locked()

    def groups(self) -> list[str]:
        """Country groups with their own parameters (without the pooled OTHER)."""
        return [g for g in self.model().groups if g != OTHER]

    def baseline(self, years: int) -> dict[str, np.ndarray]:
        """Baseline projection (measure -> draws x years x groups), once per horizon."""
        model = self.model()
        with self._lock:
            if years in self._base:
                return self._base[years]
        res = project(model, [], years=years, draws=self.draws, seed=0, chunk=25)
        with self._lock:
            self._base[years] = res
        return res

    def scenario(self, setting: Setting) -> dict[str, np.ndarray]:
        """Scenario projection with the same draws as the baseline (cached per lever set)."""
        levers = setting.levers()
        if not levers:
            return self.baseline(setting.years)
        key = (tuple(levers), setting.years)
        with self._lock:
            if key in self._runs:
                self._runs.move_to_end(key)
                return self._runs[key]
        model = self.model()
        # A projection takes about a second of CPU: a bounded number run at once, so a burst
        # of new slider states cannot starve the rest of the server.
        if not self._slots.acquire(timeout=BUSY_TIMEOUT):
            raise ExplorerBusy("the scenario explorer is busy: try again in a moment")
        try:
            res = project(model, levers, years=setting.years, draws=self.draws, seed=0, chunk=25)
        finally:
            self._slots.release()
        with self._lock:
            self._runs[key] = res
            while len(self._runs) > RUNS_KEPT:
                self._runs.popitem(last=False)
        return res

    def point(self, years: int, levers: list[Lever]) -> dict[str, np.ndarray]:
        """Projection at the point estimates (one pseudo-draw; a few milliseconds)."""
        return project(self.model(), levers, years=years, point=True)

    def assumptions(self, setting: Setting) -> list[str]:
        """Each lever's parameter change, then what every projection assumes."""
        levers = setting.levers()
        head = (
            Scenario(levers=levers).assumptions()
            if levers
            else ["No lever moved: the scenario is the baseline."]
        )
        return [*head, *base_assumptions(self.model(), level=LEVEL, draws=self.draws)]


# -- tabulation and charts ----------------------------------------------------------------------


def _band(arr: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lo, hi = (1 - LEVEL) / 2, 1 - (1 - LEVEL) / 2
    return arr.mean(0), np.quantile(arr, lo, axis=0), np.quantile(arr, hi, axis=0)


def measure_table(
    model: MoveModel,
    base: dict[str, np.ndarray],
    scen: dict[str, np.ndarray],
    country: str,
    measure: str,
) -> pd.DataFrame:
    """Observed history, then baseline / scenario / difference with bands, for one country."""
    c = model.groups.index(country)
    b, s = base[measure][:, :, c], scen[measure][:, :, c]
    years = [model.T + k for k in range(1, b.shape[1] + 1)]
    out = pd.DataFrame({"year": years})
    for name, arr in (("baseline", b), ("scenario", s), ("difference", s - b)):
        mean, lo, hi = _band(arr)
        out[name], out[f"{name}_low"], out[f"{name}_high"] = mean, lo, hi
    hist = model.history
    if hist is not None and measure in hist.columns:
        h = hist[(hist["country"] == country) & (hist["year"] > model.T - HISTORY_YEARS)]
        h = h[["year", measure]].rename(columns={measure: "observed"}).astype(float)
        h["year"] = h["year"].astype(int)
        out = pd.concat([h, out], ignore_index=True)
    else:
        out.insert(1, "observed", np.nan)
    return out


def _projection_figure(df: pd.DataFrame, y_title: str) -> dict[str, Any]:
    """Observed line, then baseline and scenario means with their bands (filled)."""
    data: list[dict[str, Any]] = []
    obs = df.dropna(subset=["observed"])
    if len(obs):
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": "observed",
                "x": _vals(obs["year"]),
                "y": _vals(obs["observed"]),
                "line": {"color": "#6b7280", "width": 2},
                "marker": {"size": 5},
            }
        )
    proj = df.dropna(subset=["baseline"])
    for i, name in enumerate(("baseline", "scenario")):
        color = PALETTE[i]
        x = _vals(proj["year"])
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": f"{name} {LEVEL:.0%} band",
                "x": x + x[::-1],
                "y": _vals(proj[f"{name}_high"]) + _vals(proj[f"{name}_low"])[::-1],
                "fill": "toself",
                "fillcolor": _rgba(color, 0.18),
                "line": {"width": 0, "color": _rgba(color, 0.18)},
                "hoverinfo": "skip",
                "showlegend": True,
            }
        )
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": name,
                "x": x,
                "y": _vals(proj[name]),
                "line": {"color": color, "width": 2, "dash": "dash" if i == 0 else "solid"},
                "marker": {"size": 5},
                "hovertemplate": f"%{{x}}: %{{y:,.1f}}<extra>{name}</extra>",
            }
        )
    layout = _layout("Year", y_title)
    layout["yaxis"]["rangemode"] = "normal"
    layout["margin"]["t"] = 60
    layout["height"] = 380
    return {"data": data, "layout": layout}


def _fmt_band(row: pd.Series, name: str, fmt: str = ",.0f", bands: bool = True) -> str:
    if not bands:
        return format(row[name], fmt)
    return (
        f"{format(row[name], fmt)} ({LEVEL:.0%} band {format(row[name + '_low'], fmt)}"
        f" to {format(row[name + '_high'], fmt)})"
    )


def explorer_charts(ex: Explorer, setting: Setting, preview: bool = False) -> list[Chart]:
    """The explorer's three charts: stock, net flow (both vs baseline) and effect by country.

    With ``preview=True`` the projections are at the point estimates (no draws, no bands):
    what the page draws at once while the banded projection is computed.
    """
    model = ex.model()
    if preview:
        base, scen = ex.point(setting.years, []), ex.point(setting.years, setting.levers())
    else:
        base, scen = ex.baseline(setting.years), ex.scenario(setting)
    bands = not preview
    c = setting.country
    name = country_name(c)
    params = setting.params()
    charts = []

    stock = measure_table(model, base, scen, c, "stock")
    last = stock.dropna(subset=["baseline"]).iloc[-1]
    charts.append(
        Chart(
            id="scenario-stock",
            title=f"{name}: active researchers, baseline vs scenario",
            reading=(
                f"By {int(last['year'])}, the scenario puts the active researchers in {name} at "
                f"{_fmt_band(last, 'scenario', bands=bands)} against "
                f"{_fmt_band(last, 'baseline', bands=bands)} in the baseline: a difference of "
                f"{_fmt_band(last, 'difference', '+,.1f', bands=bands)}."
            ),
            figure=_projection_figure(stock, "Active researchers"),
            table=stock,
            api="/api/scenario",
            params={**params, "part": "stock"},
            note=(
                f"Projected from {model.T}: means over {ex.draws} parameter draws, shaded "
                f"{LEVEL:.0%} bands"
                if bands
                else f"Preview projected from {model.T} at the point estimates (bands follow)"
            )
            + "; observed years in grey (the last observed year may be incomplete in the "
            "corpus).",
        )
    )

    net = measure_table(model, base, scen, c, "net_flow")
    ci = model.groups.index(c)
    cum = (scen["net_flow"][:, :, ci] - base["net_flow"][:, :, ci]).sum(axis=1)
    mean, lo, hi = _band(cum)
    years = net.dropna(subset=["baseline"])["year"]
    charts.append(
        Chart(
            id="scenario-net",
            title=f"{name}: net flow (arrivals - departures), baseline vs scenario",
            reading=(
                f"Over {int(years.min())}–{int(years.max())}, the levers change the cumulated "
                f"net flow of {name} by {mean:+,.1f} researchers"
                + (f" ({LEVEL:.0%} band {lo:+,.1f} to {hi:+,.1f})." if bands else ".")
            ),
            figure=_projection_figure(net, "Net flow per year"),
            table=net,
            api="/api/scenario",
            params={**params, "part": "net_flow"},
            note="International moves between the modelled country groups (countries outside "
            "them pooled as OTHER).",
        )
    )

    final = {m: arr[:, -1, :] for m, arr in base.items()}
    diff = scen["stock"][:, -1, :] - final["stock"]
    mean_d, lo_d, hi_d = _band(diff)
    effect = pd.DataFrame(
        {
            "country": model.groups,
            "country_name": [country_name(g) if g != OTHER else "Other" for g in model.groups],
            "baseline": final["stock"].mean(0),
            "value": mean_d,
            "ci_low": lo_d,
            "ci_high": hi_d,
        }
    ).sort_values("value", key=np.abs, ascending=False)
    end = setting.years + model.T
    moved = effect[effect["value"].abs() > 1e-9]
    if len(moved):
        gain = moved.loc[moved["value"].idxmax()]
        loss = moved.loc[moved["value"].idxmin()]
        f = "+,.1f" if moved["value"].abs().max() >= 1 else "+.3f"
        reading = (
            f"In {end}, the largest gain is in {gain['country_name']} ({gain['value']:{f}}) "
            f"and the largest loss in {loss['country_name']} ({loss['value']:{f}}) "
            "active researchers against the baseline."
        )
    else:
        reading = f"In {end}, no country's stock differs from the baseline."
    charts.append(
        Chart(
            id="scenario-effect",
            title=f"Difference in active researchers in {end}, every modelled country",
            reading=reading,
            figure=bar_figure(effect, "country_name", "Scenario - baseline", ",.1f"),
            table=effect,
            api="/api/scenario",
            params={**params, "part": "effect"},
            note=f"Bars: mean difference; error bars: {LEVEL:.0%} band over the shared draws "
            "(scenario and baseline use the same parameter draws).",
        )
    )
    return charts
