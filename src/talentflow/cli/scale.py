"""Scale-out commands: ``talentflow synth`` (synthetic OpenAlex-layout corpora)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from talentflow.cli.app import EXIT_FAILED, app

console = Console(stderr=True)


@app.command()
def synth(
    authorships: int = typer.Option(..., "--authorships", "-n", help="Author slots to generate."),
    out: Path = typer.Option(..., "--out", help="Folder to write (works/ inside is replaced)."),  # noqa: B008
    seed: int = typer.Option(0, "--seed", help="Seed of every draw."),
    data: Path | None = typer.Option(  # noqa: B008
        None, "--data", help="Real data mirror the string pools come from (default ../shared/data)."
    ),
    block: int = typer.Option(500_000, "--block", help="Author slots per part file."),
) -> None:
    """Write a synthetic corpus of N author slots in the OpenAlex snapshot layout.

    Affiliation strings and institution names are drawn from the real mirror; ids are
    synthetic. Put OUT under a data dir's ``openalex/`` folder to build from it.
    """
    from talentflow.synth import generate

    try:
        report = generate(
            authorships,
            out,
            seed=seed,
            data_dir=data,
            block_slots=block,
            progress=lambda message: console.print(f"[dim]{message}[/]"),
        )
    except (FileNotFoundError, ValueError) as exc:
        console.print(f"[red]error:[/] {escape(str(exc))}")
        raise typer.Exit(EXIT_FAILED) from exc
    console.print(
        f"[green]wrote[/] {report.n_authorships:,} author slots, {report.n_works:,} works, "
        f"{report.n_persons:,} persons in {report.n_parts} parts under {out}/works "
        f"({report.seconds:.1f}s)"
    )
