"""`talentflow evaluate ...` hands its arguments to each evaluation tool's own parser."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from talentflow.cli import app

TOOLS = {
    "resolve": "--data",
    "identity": "--db",
    "review": "--rows",
    "sites": "--data",
}


@pytest.mark.parametrize(("command", "option"), sorted(TOOLS.items()))
def test_help_is_the_tools_own(command: str, option: str) -> None:
    result = CliRunner().invoke(app, ["evaluate", command, "--help"])
    assert result.exit_code == 0, result.output
    assert "usage:" in result.output and option in result.output


def test_a_missing_required_option_exits_with_usage_error() -> None:
    result = CliRunner().invoke(app, ["evaluate", "review", "--labels", "x.csv"])
    assert result.exit_code == 2
    assert "--rows" in result.output
