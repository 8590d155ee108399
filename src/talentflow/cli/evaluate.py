"""`talentflow evaluate resolve|identity|review|sites`: the evaluation tools.

Each command hands its arguments to the tool's own parser (``main(argv)`` of the module named
in its help), so ``talentflow evaluate resolve --help`` lists the tool's options and the
output is the same as ``python -m`` of that module.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer

from talentflow.cli.app import app

evaluate_app = typer.Typer(
    help="Evaluation tools: the resolver and the person linkage against labelled truth.",
    no_args_is_help=True,
)
app.add_typer(evaluate_app, name="evaluate")

#: Pass every argument (``--help`` too) through to the tool's own parser.
PASS_THROUGH: dict[str, Any] = {
    "context_settings": {"allow_extra_args": True, "ignore_unknown_options": True},
    "add_help_option": False,
}


def _run(main: Callable[[list[str]], int | None], ctx: typer.Context) -> None:
    code = main(list(ctx.args))
    if code:
        raise typer.Exit(code)


@evaluate_app.command("resolve", **PASS_THROUGH)
def resolve(ctx: typer.Context) -> None:
    """Score the affiliation resolver on held-out labelled venue-years
    (talentflow.resolve.evaluate; e.g. --data ../shared/data; --help for every option)."""
    from talentflow.resolve.evaluate import main

    _run(main, ctx)


@evaluate_app.command("identity", **PASS_THROUGH)
def identity(ctx: typer.Context) -> None:
    """Score the person linkage by hiding venue-years' identifiers and linking again
    (talentflow.identity.evaluate; e.g. --db talentflow.duckdb; --help for every option)."""
    from talentflow.identity.evaluate import main

    _run(main, ctx)


@evaluate_app.command("review", **PASS_THROUGH)
def review(ctx: typer.Context) -> None:
    """Estimate truly wrong links from an evaluation's rows and a hand-labelled sample
    (talentflow.identity.review; --rows rows.parquet --labels FILE; --help for every option)."""
    from talentflow.identity.review import main

    _run(main, ctx)


@evaluate_app.command("sites", **PASS_THROUGH)
def sites(ctx: typer.Context) -> None:
    """List candidate sites of multinationals learned from the train and calibration splits
    (talentflow.resolve.sites; e.g. --data ../shared/data; --help for every option)."""
    from talentflow.resolve.sites import main

    _run(main, ctx)
