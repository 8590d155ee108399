"""``talentflow resolve``: affiliation strings -> institution, country, sector."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from talentflow.cli.app import EXIT_DATA_ERROR, EXIT_USAGE, app

console = Console(stderr=True)


def _data_dir(data: Path | None) -> Path | None:
    """``--data``, else ``$TALENTFLOW_MIRROR`` when it is a local folder, else None."""
    if data is not None:
        return data
    mirror = os.environ.get("TALENTFLOW_MIRROR")
    if mirror and "://" not in mirror and Path(mirror).expanduser().is_dir():
        return Path(mirror).expanduser()
    return None


@app.command()
def resolve(
    text: str | None = typer.Argument(None, help="One affiliation string to explain."),
    domain: str | None = typer.Option(None, "--domain", help="Email domain of TEXT."),
    input: str | None = typer.Option(
        None, "--input", "-i", help="JSON lines {id, affiliation, domain}; '-' for stdin."
    ),
    output: str = typer.Option("-", "--output", "-o", help="JSON lines out; '-' for stdout."),
    data: Path | None = typer.Option(  # noqa: B008
        None, "--data", help="Data folder with registries/ and paperlists/ (gazetteer)."
    ),
    registries: Path | None = typer.Option(  # noqa: B008
        None, "--registries", help="Registries folder, when not DATA/registries."
    ),
) -> None:
    """Resolve affiliation strings to institution, country (ISO2), sector and confidence.

    With TEXT, print how that one string resolves and why. With --input, read JSON lines and
    write each with institution, institution_id, country, countries, sector, confidence and
    evidence added; bad lines are reported with their line number (exit code 1) and the
    others are still resolved.

    Reference data (registries, labelled paper lists) comes from --data, else from the cache
    `talentflow fetch` fills, else (registries only) from the copy shipped with talentflow;
    what is missing is said on stderr.
    """
    from talentflow.resolve.gazetteer import load_gazetteer
    from talentflow.resolve.jsonl import resolve_lines
    from talentflow.resolve.reference import find_reference
    from talentflow.resolve.resolver import Resolver

    if (text is None) == (input is None):
        console.print("[red]error:[/] give either one TEXT or --input (not both)")
        raise typer.Exit(EXIT_USAGE)
    reference = find_reference(_data_dir(data), registries)
    for note in reference.notes:
        level = "warning" if note.startswith("reference data missing") else "note"
        console.print(f"[yellow]{level}:[/] {note}", highlight=False, soft_wrap=True)
    resolver = Resolver(load_gazetteer(_data_dir(data), reference=reference))
    if text is not None:
        res = resolver.resolve(text, domain)
        out = Console()
        table = Table(title=f"resolve {text!r}" + (f" ({domain})" if domain else ""))
        table.add_column("field")
        table.add_column("value")
        for key, value in res.as_dict().items():
            if key != "evidence":
                table.add_row(key, str(value))
        out.print(table)
        for line in resolver.explain(text, domain):
            out.print(line, markup=False, highlight=False)
        return
    assert input is not None
    try:
        src = sys.stdin if input == "-" else open(input, encoding="utf-8", errors="replace")  # noqa: SIM115
    except OSError as exc:
        console.print(f"[red]error:[/] cannot read {input}: {escape(str(exc))}")
        raise typer.Exit(EXIT_USAGE) from exc
    try:
        dst = sys.stdout if output == "-" else open(output, "w", encoding="utf-8")  # noqa: SIM115
    except OSError as exc:
        console.print(f"[red]error:[/] cannot write {output}: {escape(str(exc))}")
        raise typer.Exit(EXIT_USAGE) from exc
    try:
        written, errors = resolve_lines(src, dst, resolver)
    finally:
        if src is not sys.stdin:
            src.close()
        if dst is not sys.stdout:
            dst.close()
        else:
            dst.flush()
    for err in errors[:50]:
        console.print(f"[yellow]line {err.line}:[/] {err.message}", highlight=False)
    if len(errors) > 50:
        console.print(f"[yellow]... and {len(errors) - 50} more bad lines[/]")
    console.print(f"resolved {written} lines, {len(errors)} bad", highlight=False)
    if errors:
        raise typer.Exit(EXIT_DATA_ERROR)
