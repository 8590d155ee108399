"""Thin command-line surface: each command parses arguments and calls one library function.

One module per command group; importing them registers their commands on ``app``.
"""

from __future__ import annotations

from talentflow.cli import (
    careers,  # noqa: F401  (registers commands)
    core,  # noqa: F401  (registers commands)
    fetch,  # noqa: F401  (registers commands)
    fetch_openalex,  # noqa: F401  (registers commands)
    identity,  # noqa: F401  (registers commands)
    indicators,  # noqa: F401  (registers commands)
    resolve,  # noqa: F401  (registers commands)
    scale,  # noqa: F401  (registers commands)
    scenario,  # noqa: F401  (registers commands)
    web,  # noqa: F401  (registers commands)
)
from talentflow.cli.app import EXIT_INTERNAL, app

__all__ = ["app", "main"]


def main(argv: list[str] | None = None) -> None:
    """The ``talentflow`` command: :data:`app`, with unexpected errors exiting with 5.

    Typer exits 1 on an uncaught exception, which scripts would read as "records were
    quarantined"; a bug gets its own code (:data:`talentflow.cli.app.EXIT_INTERNAL`).
    """
    import sys
    import traceback

    import typer

    try:
        code = app(args=argv, prog_name="talentflow", standalone_mode=False)
    except typer.Abort:  # Ctrl-C
        print("talentflow: interrupted", file=sys.stderr)
        sys.exit(130)
    except typer.TyperException as exc:  # bad arguments: the usage and exit code 2
        exc.show()  # type: ignore[attr-defined]
        sys.exit(exc.exit_code)  # type: ignore[attr-defined]
    except Exception:  # a bug: say so, with the traceback to report
        traceback.print_exc()
        print(
            "talentflow: unexpected error (a bug; please report it with the traceback above)",
            file=sys.stderr,
        )
        sys.exit(EXIT_INTERNAL)
    sys.exit(code if isinstance(code, int) else 0)
