"""The Typer application every command module registers on."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from rich.markup import escape

if TYPE_CHECKING:
    from talentflow.read import StoreReader

app = typer.Typer(
    name="talentflow",
    help="talentflow: an open observatory of AI talent flows.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Exit codes scripts can rely on.
EXIT_OK = 0
EXIT_DATA_ERROR = 1  # the input had problems (details printed); valid records were kept
EXIT_USAGE = 2  # bad arguments (Typer's own)
EXIT_NO_STORE = 3  # the store is missing or unreadable
EXIT_FAILED = 4  # the build failed; the previous store is untouched
EXIT_INTERNAL = 5  # an unexpected error (a bug): traceback printed, never reported as 1


def open_reader_or_exit(db: object, console: object) -> StoreReader:
    """The read layer over the store at ``db``, or print why not and exit with
    ``EXIT_NO_STORE``."""
    from talentflow.read import StoreReader
    from talentflow.store import StoreError

    try:
        return StoreReader(db)  # type: ignore[arg-type]
    except StoreError as exc:
        console.print(f"[red]error:[/] {escape(str(exc))}")  # type: ignore[attr-defined]
        raise typer.Exit(EXIT_NO_STORE) from None
