"""`talentflow evaluate resolve|identity|review|sites|fallback|stores`: the evaluation tools.

``resolve``, ``identity``, ``review``, ``sites`` and ``fallback`` hand their arguments to the tool's own
parser (``main(argv)`` of the module named in its help), so ``talentflow evaluate resolve
--help`` lists the tool's options and the output is the same as ``python -m`` of that module.
``stores`` compares two built stores table by table (:mod:`talentflow.read.compare`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from talentflow.cli.app import EXIT_NO_STORE, app

evaluate_app = typer.Typer(
    help=(
        "Evaluation tools: the resolver and the person linkage against labelled truth; "
        "two stores compared table by table."
    ),
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


@evaluate_app.command("fallback", **PASS_THROUGH)
def fallback(ctx: typer.Context) -> None:
    """Score a headquarters fallback's country against the site people name in other years
    (talentflow.careers.fallback_eval; --db STORE; --help for every option)."""
    from talentflow.careers.fallback_eval import main

    _run(main, ctx)


@evaluate_app.command("stores")
def stores(
    before: Path = typer.Argument(..., help="The first store (e.g. built from main)."),  # noqa: B008
    after: Path = typer.Argument(..., help="The second store (e.g. built from a branch)."),  # noqa: B008
    tolerance: float = typer.Option(
        0.0, "--tolerance", help="Compare float columns rounded to multiples of this (0: exactly)."
    ),
    ignore: list[str] = typer.Option(  # noqa: B008
        [], "--ignore", help="TABLE or TABLE.COLUMN to leave out of the content (repeatable)."
    ),
    strict: bool = typer.Option(
        False, "--strict", help="Compare build times and timings too (no column left out)."
    ),
    every: bool = typer.Option(False, "--all", help="List identical tables too."),
) -> None:
    """Compare every table of two stores: row counts, schema and content (order-independent);
    exit 1 when any table differs. Left out unless --strict: build_info.value,
    ingest_log.ingested_at, and timings and splink's linker_uid inside build_params values."""
    from talentflow.read.compare import compare_stores
    from talentflow.store import StoreError

    console = Console()
    try:
        diffs = compare_stores(
            before, after, tolerance=tolerance, ignore=tuple(ignore), strict=strict
        )
    except StoreError as exc:
        Console(stderr=True).print(f"[red]error:[/] {escape(str(exc))}")
        raise typer.Exit(EXIT_NO_STORE) from None
    table = Table(title=f"{before.name} -> {after.name}")
    for col in ("table", "rows before", "rows after", "schema", "only before", "only after"):
        table.add_column(
            col, justify="left" if col in ("table", "schema") else "right", no_wrap=col == "table"
        )
    table.add_column("columns that differ")
    for d in diffs:
        if d.same and not every:
            continue
        table.add_row(
            d.table,
            "-" if d.rows_a is None else f"{d.rows_a:,}",
            "-" if d.rows_b is None else f"{d.rows_b:,}",
            "; ".join(d.schema) or "same",
            f"{d.only_a:,}",
            f"{d.only_b:,}",
            ", ".join(d.columns),
            style=None if d.same else "bold",
        )
    differ = [d.table for d in diffs if not d.same]
    if table.rows:
        console.print(table)
    left_out = sorted({f"{d.table}.{c}" for d in diffs for c in d.ignored})
    if not strict:
        left_out.append("timings and splink's linker_uid in build_params values")
    console.print(
        f"{len(diffs)} tables compared, {len(diffs) - len(differ)} identical"
        + (f"; differ: {', '.join(differ)}" if differ else "")
        + (f"; left out (--strict compares them): {', '.join(left_out)}" if left_out else "")
    )
    if differ:
        raise typer.Exit(1)
