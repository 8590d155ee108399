"""Confidence calibration: accuracy of each decision path on the calibration venue-years."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from talentflow.resolve.normalize import normalize
from talentflow.resolve.resolver import Resolver

GREATER_CHINA = frozenset({"HK", "MO", "TW"})
#: Paths seen fewer times than this fall back to their base path (before "|").
MIN_COUNT = 30


def country_correct(predicted: str | None, label: str | None) -> bool:
    """A predicted ISO2 matches a label ISO2; HK/MO/TW count as China where the label says CN."""
    if predicted is None or label is None:
        return False
    return predicted == label or (label == "CN" and predicted in GREATER_CHINA)


def label_country(gaz: Any, name: str | None) -> str | None:
    """ISO2 of an upstream country label (``None`` for empty or "Unknown")."""
    if not name:
        return None
    return gaz.country_names.get(normalize(name))


def calibrate_gazetteer(gaz: Any, slots: list[Any]) -> dict[str, float]:
    """Per decision path, the smoothed share of right countries on ``slots``.

    ``gaz`` must not have learned from ``slots``. Returns ``{method: accuracy}`` for full paths
    (``inst|dom-agree``) seen at least :data:`MIN_COUNT` times and for base paths (``inst``).
    """
    resolver = Resolver(gaz)
    hits: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for slot in slots:
        label = label_country(gaz, slot.countries[0] if slot.countries else None)
        if label is None:
            continue
        res = resolver.resolve(slot.affiliation, slot.domain)
        if res.country is None:
            continue
        ok = int(country_correct(res.country, label))
        for key in {res.method, res.method.split("|", 1)[0]}:
            hits[key][0] += ok
            hits[key][1] += 1
    table: dict[str, float] = {}
    for key, (ok, n) in hits.items():
        if n >= MIN_COUNT or "|" not in key:
            # Beta(1, 1) smoothing keeps small paths away from 0 and 1.
            table[key] = round((ok + 1) / (n + 2), 4)
    return table
