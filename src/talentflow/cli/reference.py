"""The CLI reference (``docs/cli.md``), generated from the commands' own definitions.

Run ``uv run python -m talentflow.cli.reference > docs/cli.md`` after changing a command;
``tests/test_docs.py`` fails while the page and the commands disagree.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

import typer.main

from talentflow.cli import app

HEADER = """# CLI reference

Generated from the commands' own definitions by
`uv run python -m talentflow.cli.reference > docs/cli.md`; do not edit by hand.
Exit codes: 0 success; 1 the build finished but input was quarantined; 2 bad arguments;
3 no store; 4 the build failed or was refused (another build into the same store is running;
the previous store is untouched); 5 an unexpected error (a bug).
"""


def commands() -> Iterator[tuple[str, Any]]:
    """Every leaf command as ``("talentflow sub cmd", command)``, sorted by name; a group that
    runs on its own (``talentflow fetch``) is listed too, before its subcommands."""

    def walk(command: Any, path: list[str]) -> Iterator[tuple[str, Any]]:
        subs = getattr(command, "commands", None)
        if subs is None or (len(path) > 1 and getattr(command, "invoke_without_command", False)):
            yield " ".join(path), command
        if subs is None:
            return
        for name in sorted(subs):
            if not subs[name].hidden:
                yield from walk(subs[name], [*path, name])

    yield from walk(typer.main.get_command(app), ["talentflow"])


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _param_rows(command: Any) -> list[str]:
    rows = []
    for param in command.params:
        if param.param_type_name == "argument":
            name = f"`{(param.metavar or param.name).upper()}`"
            default = ""
        else:
            if param.hidden or "--help" in param.opts:
                continue
            flags = [*param.opts, *param.secondary_opts]
            name = ", ".join(f"`{f}`" for f in flags)
            value = param.default
            shown = value not in (None, (), []) and not callable(value) and not param.is_flag
            default = f"`{value}`" if shown else ("off" if param.is_flag else "")
            if param.is_flag and param.secondary_opts:
                default = f"`{flags[0] if value else flags[-1]}`"
        rows.append(f"| {name} | {default} | {_cell(getattr(param, 'help', None) or '')} |")
    return rows


def render() -> str:
    """The whole reference page as Markdown."""
    parts = [HEADER]
    for name, command in commands():
        parts.append(f"## `{name}`\n")
        parts.append(inspect.cleandoc(command.help or "").split("\n\n")[0].strip() + "\n")
        rows = _param_rows(command)
        if rows:
            parts.append(
                "| parameter | default | meaning |\n|---|---|---|\n" + "\n".join(rows) + "\n"
            )
    return "\n".join(parts)


if __name__ == "__main__":
    print(render(), end="")
