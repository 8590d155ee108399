"""Thin command-line surface: each command parses arguments and calls one library function.

One module per command group; importing them registers their commands on ``app``.
"""

from __future__ import annotations

from talentflow.cli import careers  # noqa: F401  (registers commands)
from talentflow.cli import core  # noqa: F401  (registers commands)
from talentflow.cli import fetch  # noqa: F401  (registers commands)
from talentflow.cli import identity  # noqa: F401  (registers commands)
from talentflow.cli import indicators  # noqa: F401  (registers commands)
from talentflow.cli import resolve  # noqa: F401  (registers commands)
from talentflow.cli import scale  # noqa: F401  (registers commands)
from talentflow.cli import scenario  # noqa: F401  (registers commands)
from talentflow.cli import web  # noqa: F401  (registers commands)
from talentflow.cli.app import app

__all__ = ["app"]
