"""Affiliation resolution: raw affiliation string (+ email domain) -> institution, country,
sector, with a calibrated confidence and the evidence used.

>>> from talentflow.resolve import load_resolver
>>> load_resolver().resolve("Microsoft Research Asia").country
'CN'
"""

from __future__ import annotations

from talentflow.resolve.compile import load_gazetteer, load_resolver
from talentflow.resolve.gazetteer import Gazetteer
from talentflow.resolve.resolver import Resolution, Resolver

__all__ = ["Gazetteer", "Resolution", "Resolver", "load_gazetteer", "load_resolver"]
