"""The web's name for the read layer: :class:`Queries` is :class:`talentflow.read.StoreReader`.

Pages, charts, the JSON API and the report annotate with ``Queries``; the queries themselves
live in :mod:`talentflow.read`.
"""

from __future__ import annotations

from talentflow.read import MAX_SEARCH, MEASURES
from talentflow.read import StoreReader as Queries

__all__ = ["MAX_SEARCH", "MEASURES", "Queries"]
