"""Core commands: build, export, stats, demo."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from talentflow.cli.app import EXIT_DATA_ERROR, EXIT_FAILED, EXIT_NO_STORE, EXIT_USAGE, app
from talentflow.store import DEFAULT_DB, StoreError

console = Console(stderr=True)

DataOption = typer.Option(
    None, "--data", help="Folder with source folders (default: $TALENTFLOW_MIRROR or the cache)."
)
DbOption = typer.Option(DEFAULT_DB, "--db", help="The DuckDB store.")


def _data_dir(data: Path | None) -> Path:
    from talentflow.sources.fetch import resolve_data_dir

    return resolve_data_dir(data)


def run_build(
    data: Path | None,
    db: Path,
    stages: list[str] | None = None,
    params: dict[str, dict[str, object]] | None = None,
    engine: dict[str, object] | None = None,
    wait: bool = False,
) -> int:
    """Run the build with a progress display; return an exit code.

    ``engine`` holds :func:`talentflow.pipeline.build`'s engine, spark_master and spark_conf.
    """
    from talentflow.engines import EngineUnavailable
    from talentflow.pipeline import StageSelectionError, build
    from talentflow.reporting import build_notices, ingest_summary
    from talentflow.sources.stage import SourceError
    from talentflow.store import StoreBusy

    try:
        data_dir = _data_dir(data)
    except Exception as exc:
        console.print(f"[red]error:[/] {escape(str(exc))}")
        return EXIT_FAILED
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("build", total=None)
        try:
            report = build(
                data_dir,
                db,
                stages=stages,
                params=params,
                progress=lambda message: progress.update(task, description=message),
                wait=wait,
                **(engine or {}),  # type: ignore[arg-type]
            )
        except StoreBusy as exc:
            console.print(f"[red]not built:[/] {escape(str(exc))}")
            return EXIT_FAILED
        except (SourceError, StageSelectionError) as exc:  # bad --data or --stage
            console.print(f"[red]error:[/] {escape(str(exc))}")
            return EXIT_USAGE
        except EngineUnavailable as exc:
            console.print(f"[red]error:[/] {escape(str(exc))}")
            return EXIT_FAILED
        except Exception as exc:
            console.print(
                f"[red]build failed, previous store left intact:[/] {type(exc).__name__}: {escape(str(exc))}"
            )
            return EXIT_FAILED
    timings = ", ".join(f"{k} {v:.1f}s" for k, v in report.timings.items())
    console.print(f"[green]built[/] {db} from {data_dir} ({timings})")
    problems = ingest_summary(db)
    for line in [*problems, *build_notices(db)]:
        console.print(f"[yellow]warning:[/] {line}")
    return EXIT_DATA_ERROR if problems else 0


@app.command()
def build(
    data: Path | None = DataOption,
    db: Path = DbOption,
    stage: list[str] | None = typer.Option(  # noqa: B008
        None,
        "--stage",
        help="Run only these stages (repeatable), each with the stages before it.",
    ),
    backfill: int = typer.Option(
        2, "--backfill", "-b", min=0, help="Careers: fill gaps of at most b years (tenures)."
    ),
    overlap: int = typer.Option(
        3, "--overlap", "-o", min=0, help="Careers: overlap of at most o years in a migration."
    ),
    temporary: int = typer.Option(
        4, "--temporary", "-d", min=0, help="Careers: a visit lasts at most d years."
    ),
    careers_evidence: str = typer.Option(
        "papers",
        "--careers-evidence",
        help="Careers: papers (venue author slots only) or papers+histories (adds OpenAlex "
        "author histories for years without papers; see docs/openalex_api.md).",
    ),
    min_cell: int = typer.Option(
        5, "--min-cell", min=0, help="Indicators: suppress cells counting fewer persons."
    ),
    bootstrap: int = typer.Option(
        200, "--bootstrap", min=0, help="Indicators: bootstrap replicates for the intervals."
    ),
    groupings: str = typer.Option(
        "all", "--groupings", help="Indicators: country groupings (comma-separated, all, none)."
    ),
    population_papers: str = typer.Option(
        "accepted",
        "--population-papers",
        help="Indicators: papers of the venue-year populations: accepted (all but rejected "
        "and withdrawn) or all (submissions too). Careers use every paper either way.",
    ),
    bootstrap_on: str = typer.Option(
        "driver",
        "--bootstrap-on",
        help="Indicators: where the bootstrap's replicate sums are computed: driver (sparse "
        "products in NumPy) or engine (a map-reduce on --engine). Same weights, same intervals.",
    ),
    indicators_on: str = typer.Option(
        "auto",
        "--indicators-on",
        help="Indicators: where the panel and every table are computed: driver (pandas), "
        "engine (Ibis on --engine; only cell sums reach the driver) or auto (engine on "
        "Spark, driver on DuckDB). Same tables.",
    ),
    engine: str = typer.Option(
        "duckdb", "--engine", help="duckdb (default) or spark: where the table stages run."
    ),
    spark_master: str | None = typer.Option(
        None, "--spark-master", help="Spark master URL (default local[*]); with --engine spark."
    ),
    spark_conf: list[str] | None = typer.Option(  # noqa: B008
        None, "--spark-conf", help="A Spark setting KEY=VALUE (repeatable)."
    ),
    memory_limit: str | None = typer.Option(
        None, "--memory-limit", help="DuckDB memory limit, e.g. 8GB (default: 80% of RAM)."
    ),
    temp_dir: Path | None = typer.Option(  # noqa: B008
        None, "--temp-dir", help="Where DuckDB spills what does not fit in memory."
    ),
    wait: bool = typer.Option(
        False, "--wait", help="If another build into DB is running, wait for it (else refuse)."
    ),
) -> None:
    """Ingest every known source folder under DATA and run all stages into DB.

    The store is replaced only when the whole build succeeds. Exit code 1 means the build
    finished but some files or records were quarantined (listed); 4 means it failed, or was
    refused because another build into DB is running (one build per store at a time;
    --wait waits for it instead). Readers of DB keep working during a build.
    The careers parameters b, o, d and the indicators options are recorded in the store
    (``build_params``).
    """
    from talentflow.careers.histories import EVIDENCE_CHOICES
    from talentflow.indicators.compute import BOOTSTRAP_ON, INDICATORS_ON

    if careers_evidence not in EVIDENCE_CHOICES:
        console.print(
            f"[red]error:[/] --careers-evidence takes {' or '.join(EVIDENCE_CHOICES)}, "
            f"got {careers_evidence!r}"
        )
        raise typer.Exit(EXIT_USAGE)
    careers = {
        "backfill": backfill,
        "overlap": overlap,
        "temporary": temporary,
        "evidence": careers_evidence,
    }
    indicators = {
        "min_cell": min_cell,
        "replicates": bootstrap,
        "groupings": groupings,
        "population_papers": population_papers,
        "bootstrap_on": bootstrap_on,
        "indicators_on": indicators_on,
    }
    if population_papers not in ("accepted", "all"):
        console.print(
            f"[red]error:[/] --population-papers takes accepted or all, got {population_papers!r}"
        )
        raise typer.Exit(EXIT_USAGE)
    for flag, value, choices in (
        ("--bootstrap-on", bootstrap_on, BOOTSTRAP_ON),
        ("--indicators-on", indicators_on, INDICATORS_ON),
    ):
        if value not in choices:
            console.print(f"[red]error:[/] {flag} takes {' or '.join(choices)}, got {value!r}")
            raise typer.Exit(EXIT_USAGE)
    params = {"careers": careers, "indicators": indicators}
    if engine not in ("duckdb", "spark"):
        console.print(f"[red]error:[/] --engine takes duckdb or spark, got {engine!r}")
        raise typer.Exit(EXIT_USAGE)
    conf = {}
    for item in spark_conf or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            console.print(f"[red]error:[/] --spark-conf takes KEY=VALUE, got {item!r}")
            raise typer.Exit(EXIT_USAGE)
        conf[key.strip()] = value.strip()
    options: dict[str, object] = {
        "engine": engine,
        "spark_master": spark_master,
        "spark_conf": conf,
        "memory_limit": memory_limit,
        "temp_dir": temp_dir,
    }
    raise typer.Exit(run_build(data, db, stage, params=params, engine=options, wait=wait))


@app.command()
def export(
    table: str = typer.Argument(..., help="Table to export (papers, authorships, ...)."),
    db: Path = DbOption,
    output: str = typer.Option("-", "--output", "-o", help="File (.jsonl, .csv, .parquet) or -."),
) -> None:
    """Export a table of the store as JSON Lines, CSV or Parquet (by extension; - is stdout)."""
    from talentflow.exporting import ExportError, export_table

    try:
        count = export_table(db, table, output, stdout=sys.stdout.buffer)
    except StoreError as exc:
        console.print(f"[red]error:[/] {escape(str(exc))}")
        raise typer.Exit(EXIT_NO_STORE) from None
    except ExportError as exc:
        console.print(f"[red]error:[/] {escape(str(exc))}")
        raise typer.Exit(2) from None
    if output != "-":
        console.print(f"wrote {count} rows of {table} to {output}")


@app.command()
def stats(db: Path = DbOption) -> None:
    """Counts of papers, authorships, persons and coverage by source, venue and year."""
    from talentflow.reporting import print_stats

    try:
        print_stats(db, Console())
    except StoreError as exc:
        console.print(f"[red]error:[/] {escape(str(exc))}")
        raise typer.Exit(EXIT_NO_STORE) from None


@app.command()
def demo(
    data: Path | None = DataOption,
    db: Path = DbOption,
    host: str = typer.Option("127.0.0.1", help="Interface for the dashboard (loopback)."),
    port: int = typer.Option(8000, help="Port for the dashboard."),
    serve: bool = typer.Option(True, "--serve/--no-serve", help="Serve the dashboard after."),
) -> None:
    """Fetch (or use the mirror), build, show the statistics and serve the dashboard."""
    from talentflow.reporting import print_stats

    code = run_build(data, db)
    if code not in (0, EXIT_DATA_ERROR):
        raise typer.Exit(code)
    print_stats(db, Console())
    if serve:
        try:
            from talentflow.web import serve as serve_web
        except ImportError:
            console.print("[yellow]the dashboard is not available in this version[/]")
            return
        console.print(f"dashboard: http://{host}:{port}/  (Ctrl+C to stop)")
        serve_web(db, host=host, port=port)
