"""Surface commands: ``serve`` (dashboard + JSON API) and ``report`` (one offline HTML file)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from talentflow.cli.app import EXIT_NO_STORE, app
from talentflow.store import DEFAULT_DB, StoreError

console = Console(stderr=True)


@app.command()
def serve(
    db: Path = typer.Option(DEFAULT_DB, "--db", help="The DuckDB store (opened read-only)."),  # noqa: B008
    host: str = typer.Option(
        "127.0.0.1", "--host", help="Interface to bind (default: loopback only)."
    ),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="TCP port."),
) -> None:
    """Serve the dashboard and JSON API for DB (read-only) until interrupted."""
    from talentflow.web import serve as run

    if not db.exists():
        console.print(f"[red]error:[/] no store at {db}: run `talentflow build` first")
        raise typer.Exit(EXIT_NO_STORE)
    console.print(
        f"talentflow dashboard: [bold]http://{host}:{port}/[/]  (API docs: /docs; Ctrl-C stops)"
    )
    console.print(
        "warming up in the background: overview pages, then the scenario model "
        "(progress at /healthz)"
    )
    if host not in ("127.0.0.1", "localhost", "::1"):
        console.print(f"[yellow]warning:[/] listening on {host}: reachable beyond this machine")
    try:
        run(db, host=host, port=port)
    except StoreError as exc:
        console.print(f"[red]error:[/] {escape(str(exc))}")
        raise typer.Exit(EXIT_NO_STORE) from exc


@app.command()
def report(
    db: Path = typer.Option(DEFAULT_DB, "--db", help="The DuckDB store (opened read-only)."),  # noqa: B008
    output: Path = typer.Option(Path("report.html"), "--output", "-o", help="HTML file to write."),  # noqa: B008
    country: str | None = typer.Option(None, "--country", help="Overview country (default CN)."),
    start: int | None = typer.Option(None, "--start", help="First year (default: first in store)."),
    end: int | None = typer.Option(None, "--end", help="Last year (default: last in store)."),
) -> None:
    """Write one self-contained, offline HTML report (overview, map, flows, methods)."""
    from talentflow.report import write_report

    if not db.exists():
        console.print(f"[red]error:[/] no store at {db}: run `talentflow build` first")
        raise typer.Exit(EXIT_NO_STORE)
    if start is not None and end is not None and start > end:
        console.print(f"[red]error:[/] inverted year range: --start {start} is after --end {end}")
        raise typer.Exit(2)
    from talentflow.web.params import ParamError

    try:
        out = write_report(db, output, country=country, start=start, end=end)
    except ParamError as exc:
        console.print(f"[red]error:[/] {exc.message}")
        raise typer.Exit(2) from exc
    console.print(f"[green]wrote[/] {out} ({out.stat().st_size / 1e6:.1f} MB, works offline)")
