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
from talentflow.cli.app import app

__all__ = ["app"]
