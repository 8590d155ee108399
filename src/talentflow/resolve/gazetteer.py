"""The gazetteer: every name, alias, site, place and domain the resolver looks up.

This module is the data structure only. It is built (:mod:`talentflow.resolve.builder`) from
real registries (university-domains, ROR organisations, country codes), a curated table of AI
companies and labs (``data/labs.csv``) and, as training evidence, the labelled paperlists
venue-years (never the held-out ones when evaluating); compiled, calibrated and cached by
:mod:`talentflow.resolve.compile`.

All keys live in one dict, ``keys``: normalised phrase -> ``(kind, a, b)`` with kind
``ENTITY`` (a = entity index), ``AMBIGUOUS`` (a = tuple of entity indices), ``SITE``
(a = entity index, b = ISO2 of the site) or ``PLACE`` (a = ISO2, b = rank: 3 country,
2 state/province, 1 city).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from talentflow.resolve.domains import WEBMAIL
from talentflow.resolve.normalize import fold

ENTITY, AMBIGUOUS, SITE, PLACE = 0, 1, 2, 3
#: Bump when the compiled format or the build rules change (invalidates caches).
FORMAT_VERSION = 15

#: Tokens that say nothing about which organisation is meant.
GENERIC = frozenset(
    [
        "department",
        "of",
        "and",
        "for",
        "in",
        "at",
        "on",
        "the",
        "school",
        "faculty",
        "college",
        "institute",
        "laboratory",
        "center",
        "research",
        "science",
        "engineering",
        "computer",
        "computing",
        "information",
        "electrical",
        "electronic",
        "electronics",
        "mathematics",
        "mathematical",
        "statistics",
        "statistical",
        "applied",
        "key",
        "state",
        "group",
        "division",
        "unit",
        "program",
        "programme",
        "graduate",
        "undergraduate",
        "technology",
        "intelligent",
        "intelligence",
        "artificial",
        "machine",
        "learning",
        "systems",
        "system",
        "data",
        "analytics",
        "vision",
        "language",
        "processing",
        "natural",
        "robotics",
        "lab",
        "national",
        "joint",
        "international",
        "division",
        "section",
        "chair",
        "team",
        "studies",
        "informatics",
        "physics",
        "biology",
        "medicine",
        "medical",
        "automation",
        "control",
        "software",
        "communication",
        "communications",
        "network",
        "networks",
        "signal",
        "image",
        "multimedia",
        "cognitive",
        "neural",
        "brain",
        "economics",
        "management",
        "business",
        "operations",
        "industrial",
        "mechanical",
        "civil",
        "chemical",
        "aerospace",
        "sciences",
        "ai",
        "ml",
        "cs",
        "ece",
        "eecs",
        "cse",
        "phd",
        "student",
        "postdoc",
        "professor",
        "visiting",
        "affiliated",
        "member",
        "fellow",
        "center",
        "centre",
        "hub",
        "innovation",
        "advanced",
        "big",
        "deep",
        "theory",
        "theoretical",
    ]
)

_UNIVERSITY = re.compile(r"\b(universit\w*|universidad|college|polytechnic)\b")
_HK = re.compile(r"hong kong|kowloon|hksar|shatin|sha tin|pokfulam|clear water bay")
_MO = re.compile(r"macau|macao")
_TW = re.compile(r"taiwan|taipei|hsinchu|tainan|taichung|kaohsiung|taoyuan|tsing hua|chiao tung")


@dataclass
class Gazetteer:
    """Everything the resolver looks up; see the module docstring for ``keys``."""

    #: (name, ISO2, sector, institution_id, multinational)
    entities: list[tuple[str, str, str, str, bool]]
    support: list[int]
    keys: dict[str, tuple[int, Any, Any]]
    #: first token -> longest key length (in tokens) starting with it
    first: dict[str, int]
    domains: dict[str, int]
    region_codes: dict[str, str]
    tlds: dict[str, str]
    country_names: dict[str, str]
    calibration: dict[str, float] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    #: Entities with sites in other countries than their own (multinationals, universities
    #: with campuses abroad): their bare name is only a headquarters fallback.
    multisite: frozenset[int] = frozenset()
    #: Per multisite entity, the share of its labelled sightings placed at its headquarters.
    hq_share: dict[int, float] = field(default_factory=dict)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-")[:80]


def refine_china(name: str, country: str, evidence: str = "") -> str:
    """Hong Kong, Macao and Taiwan stay distinct even where a source calls them China."""
    if country not in ("CN", "TW", "HK", "MO"):
        return country
    low = fold(name + " " + evidence)
    if _HK.search(low):
        return "HK"
    if _MO.search(low):
        return "MO"
    if _TW.search(low):
        return "TW"
    return country


__all__ = [
    "AMBIGUOUS",
    "ENTITY",
    "GENERIC",
    "PLACE",
    "SITE",
    "WEBMAIL",
    "Gazetteer",
    "refine_china",
]
