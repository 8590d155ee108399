"""`talentflow scenario run|backtest`: policy scenarios and backtests of the move model."""
# ruff: noqa: B008  (Typer declares options as argument defaults)

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from talentflow.cli.app import EXIT_DATA_ERROR, EXIT_USAGE, app, open_reader_or_exit
from talentflow.store import DEFAULT_DB

scenario_app = typer.Typer(
    help="What would a policy change? Scenarios and backtests of the move model.",
    no_args_is_help=True,
)
app.add_typer(scenario_app, name="scenario")

console = Console()
err_console = Console(stderr=True)


def _fmt(x: float, lo: float, hi: float) -> str:
    return f"{x:,.1f} [dim]({lo:,.1f} to {hi:,.1f})[/]"


@scenario_app.command("run")
def run(
    file: Path = typer.Argument(..., help="Scenario file (TOML); see docs/scenarios.md."),
    db: Path = typer.Option(DEFAULT_DB, "--db", help="The DuckDB store."),
    years: int = typer.Option(10, "--years", min=1, max=50, help="Years to project."),
    draws: int = typer.Option(500, "--draws", min=10, help="Parameter draws."),
    seed: int = typer.Option(0, "--seed", help="Random seed."),
    chart: Path | None = typer.Option(
        None, "--chart", help="Chart file (HTML, works offline); default <FILE stem>.html."
    ),
    top: int = typer.Option(10, "--top", help="Countries shown in the tables."),
) -> None:
    """Project baseline and the scenario in FILE, print both with 90% bands, write a chart."""
    from talentflow.scenarios import MissingInputs, Scenario, ScenarioError, run_scenario
    from talentflow.scenarios.chart import scenario_chart

    try:
        scenario = Scenario.from_toml(file)
    except ScenarioError as exc:
        err_console.print(f"[red]error:[/] {escape(str(exc))}")
        raise typer.Exit(EXIT_USAGE) from exc
    reader = open_reader_or_exit(db, err_console)
    try:
        result = run_scenario(reader.con, scenario, years=years, draws=draws, seed=seed)
    except MissingInputs as exc:
        err_console.print(f"[red]error:[/] {escape(str(exc))}")
        raise typer.Exit(EXIT_DATA_ERROR) from exc
    finally:
        reader.close()

    console.print(f"[bold]{scenario.name}[/] {scenario.description}".rstrip())
    stock = result.summary("stock").sort_values("baseline", ascending=False)
    order = [c for c in stock["country"] if c != "OTHER"][:top]
    named = set(order) | {lv.country for lv in scenario.levers}
    order += [c for c in result.groups if c in named and c not in order]
    last = max(result.years)
    t = Table(title=f"Researchers active in {last} and net flow {min(result.years)}-{last}")
    for col in (
        "country",
        f"stock {last}: baseline",
        "scenario",
        "difference",
        "net flow: baseline",
        "scenario",
        "difference",
    ):
        t.add_column(col, justify="left" if col == "country" else "right")
    nf = result.measure("net_flow")
    cum = nf.groupby("country")
    for c in order:
        s = stock.set_index("country").loc[c]
        g = cum.get_group(c)
        # Bands of cumulated flows are not sums of yearly bands; show the yearly-sum point
        # with the range of yearly differences.
        t.add_row(
            c,
            _fmt(s["baseline"], s["baseline_low"], s["baseline_high"]),
            _fmt(s["scenario"], s["scenario_low"], s["scenario_high"]),
            _fmt(s["difference"], s["difference_low"], s["difference_high"]),
            f"{g['baseline'].sum():,.1f}",
            f"{g['scenario'].sum():,.1f}",
            f"{g['difference'].sum():+,.1f}",
        )
    console.print(t)
    first = min(result.years)
    t2 = Table(title=f"Net flow per year in {first} and {last} (mean, 90% band)")
    for col in ("country", "year", "baseline", "scenario", "difference"):
        t2.add_column(col, justify="left" if col == "country" else "right")
    for c in order:
        for y in (first, last):
            r = nf[(nf["country"] == c) & (nf["year"] == y)].iloc[0]
            t2.add_row(
                c,
                str(y),
                _fmt(r["baseline"], r["baseline_low"], r["baseline_high"]),
                _fmt(r["scenario"], r["scenario_low"], r["scenario_high"]),
                _fmt(r["difference"], r["difference_low"], r["difference_high"]),
            )
    console.print(t2)
    console.print("[bold]Assumptions[/]")
    for a in result.assumptions:
        console.print(f" - {a}")
    out = chart or file.with_suffix(".html")
    if out.resolve() == file.resolve():
        out = file.with_name(file.stem + "_chart.html")
    scenario_chart(result, out, countries=order)
    console.print(f"chart written to {out}")


@scenario_app.command("backtest")
def backtest_cmd(
    db: Path = typer.Option(DEFAULT_DB, "--db", help="The DuckDB store."),
    horizon: int = typer.Option(3, "--horizon", min=1, help="Years forecast after each origin."),
    top: int = typer.Option(10, "--top", help="Countries evaluated."),
    origins: int = typer.Option(4, "--origins", min=1, help="Number of forecast origins."),
    last_year: int | None = typer.Option(
        None,
        "--last-year",
        help="Last year treated as observed (default: the last fully covered year).",
    ),
    draws: int = typer.Option(200, "--draws", min=10, help="Parameter draws."),
    seed: int = typer.Option(0, "--seed"),
    measure: str = typer.Option(
        "count",
        "--measure",
        help="count (net flows) or rate (net flow per 1,000 researchers: the consistent basis).",
    ),
) -> None:
    """Fit on years <= T, forecast net flows T+1..T+h, compare with persistence and 3-year mean.

    Years the store's coverage table calls incomplete are neither origins nor scored.
    """
    from talentflow.scenarios import MissingInputs, backtest

    reader = open_reader_or_exit(db, err_console)
    try:
        res = backtest(
            reader.con,
            horizon=horizon,
            top=top,
            n_origins=origins,
            last_year=last_year,
            draws=draws,
            seed=seed,
            measure=measure,
        )
    except (MissingInputs, ValueError) as exc:
        err_console.print(f"[red]error:[/] {escape(str(exc))}")
        raise typer.Exit(EXIT_DATA_ERROR) from exc
    finally:
        reader.close()
    t = Table(
        title=(
            f"Backtest of yearly net {'migration rates' if measure == 'rate' else 'flows'}: "
            f"origins {', '.join(map(str, res.origins))}, "
            f"horizon 1-{res.horizon} (mean absolute error)"
        )
    )
    for col in ("country", "model", "persistence", "3-year mean", "mean |observed|", "model wins"):
        t.add_column(col, justify="left" if col == "country" else "right")
    for r in res.errors.itertuples():
        t.add_row(
            r.country,
            f"{r.mae_model:.2f}",
            f"{r.mae_persistence:.2f}",
            f"{r.mae_avg3:.2f}",
            f"{r.mean_abs_observed:.2f}",
            "yes" if r.model_beats_persistence else "no",
        )
    console.print(t)
    o = res.overall.set_index("method")
    console.print(
        f"overall MAE: model {o.loc['model', 'mae']:.2f}, persistence "
        f"{o.loc['persistence', 'mae']:.2f}, 3-year mean {o.loc['avg3', 'mae']:.2f} "
        f"(RMSE {o.loc['model', 'rmse']:.2f} / {o.loc['persistence', 'rmse']:.2f} / "
        f"{o.loc['avg3', 'rmse']:.2f}); model beats persistence: "
        f"{'yes' if res.beats_persistence else 'no'} "
        f"({1 - o.loc['model', 'mae'] / o.loc['persistence', 'mae']:+.1%} of persistence's MAE)"
    )
    for n in res.notes:
        console.print(f"[dim]note: {n}[/]")
