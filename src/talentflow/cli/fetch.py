"""``talentflow fetch``: download the default corpus into the cache (or copy it from a mirror).

``talentflow fetch openalex`` and ``talentflow fetch openalex-authors`` (in
:mod:`talentflow.cli.fetch_openalex`) fetch from the OpenAlex API.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table
from rich.text import Text

from talentflow.cli.app import EXIT_DATA_ERROR, EXIT_OK, EXIT_USAGE, app
from talentflow.sources.corpus import default_corpus, select
from talentflow.sources.fetch import FetchProgress, FetchReport, cache_dir, fetch, is_url


class _SizeColumn(ProgressColumn):
    """``n/N files`` on the overall bar, bytes on the per-file bars."""

    def __init__(self) -> None:
        super().__init__()
        self.download = DownloadColumn()

    def render(self, task: Task) -> Text:
        if task.fields.get("kind") == "files":
            return Text(f"{int(task.completed)}/{int(task.total or 0)} files")
        return self.download.render(task)


class _RichProgress:
    """Turns :class:`FetchProgress` events (from worker threads) into rich progress bars."""

    def __init__(self, progress: Progress, n_files: int) -> None:
        self.progress = progress
        self.overall = progress.add_task("files", total=n_files, kind="files")
        self.tasks: dict[str, TaskID] = {}
        self.lock = threading.Lock()

    def __call__(self, event: FetchProgress) -> None:
        with self.lock:
            if event.event == "start":
                self.tasks[event.path] = self.progress.add_task(
                    event.path, total=None, visible=False
                )
            elif event.event == "bytes":
                task = self.tasks[event.path]
                self.progress.update(
                    task, completed=event.received, total=event.total, visible=True
                )
            else:
                self.progress.remove_task(self.tasks.pop(event.path))
                self.progress.advance(self.overall)


def _summary(console: Console, report: FetchReport) -> None:
    size = sum(r.size for r in report.fetched)
    console.print(
        f"[bold]{len(report.fetched)}[/] fetched ({size / 2**20:.1f} MiB), "
        f"[bold]{len(report.present)}[/] already present, "
        f"[bold]{len(report.failed)}[/] failed -> {report.dest}"
    )
    if report.unavailable:
        console.print(
            f"{len(report.unavailable)} mirror-only file(s) skipped (no public raw URL; "
            "use --mirror): " + ", ".join(r.path for r in report.unavailable)
        )
    if report.failed:
        table = Table(title="Failed files (not kept)", title_justify="left")
        table.add_column("file")
        table.add_column("reason")
        for r in report.failed:
            table.add_row(r.path, r.reason)
        console.print(table)


fetch_app = typer.Typer(
    help="Download the default corpus, or fetch OpenAlex works and author histories.",
    invoke_without_command=True,
    no_args_is_help=False,
)
app.add_typer(fetch_app, name="fetch")


@fetch_app.callback()
def fetch_command(
    ctx: typer.Context,
    dest: Annotated[
        Path | None,
        typer.Option(
            "--dest",
            envvar="TALENTFLOW_CACHE",
            help="Cache directory (default: $TALENTFLOW_CACHE or ~/.cache/talentflow).",
        ),
    ] = None,
    mirror: Annotated[
        str | None,
        typer.Option(
            "--mirror",
            envvar="TALENTFLOW_MIRROR",
            metavar="DIR|URL",
            help="Take files from a local directory or an HTTP base URL with the same layout.",
        ),
    ] = None,
    only: Annotated[
        list[str] | None,
        typer.Option(
            "--only",
            metavar="PATTERN",
            help="Fetch only matching files: a folder (paperlists/nips), a path or a glob. "
            "Repeatable.",
        ),
    ] = None,
    list_files: Annotated[
        bool, typer.Option("--list", help="List the selected corpus files and exit.")
    ] = False,
    workers: Annotated[int, typer.Option(min=1, max=32, help="Concurrent downloads.")] = 4,
) -> None:
    """Download the default corpus (paper lists, OpenReview author records, registries).

    Files land in the cache with the mirror's layout (a valid --data directory for build);
    downloads resume after a dropped connection and each file is verified before it is kept.

    Exit codes: 0 all files fetched, 1 some files failed (listed), 2 usage error.
    Subcommands (``talentflow fetch openalex ...``) fetch from the OpenAlex API instead.
    """
    if ctx.invoked_subcommand is not None:
        return
    console = Console(stderr=True)
    try:
        selected = select(default_corpus(), only)
    except ValueError as exc:
        console.print(f"[red]error:[/] {escape(str(exc))}")
        raise typer.Exit(EXIT_USAGE) from None
    if list_files:
        # Plain tab-separated lines, for scripts.
        for f in selected:
            typer.echo(f"{f.path}\t{f.url or '(mirror only)'}")
        raise typer.Exit(EXIT_OK)
    if mirror is not None and not is_url(mirror):
        local = Path(mirror.removeprefix("file://")).expanduser()
        if not local.is_dir():
            console.print(f"[red]error:[/] mirror directory not found: {mirror}")
            raise typer.Exit(EXIT_USAGE)
    target = dest if dest is not None else cache_dir()
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        _SizeColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as bars:
        report = fetch(
            target,
            mirror=mirror,
            only=only,
            progress=_RichProgress(bars, len(selected)),
            workers=workers,
        )
    _summary(console, report)
    raise typer.Exit(EXIT_OK if report.ok else EXIT_DATA_ERROR)
