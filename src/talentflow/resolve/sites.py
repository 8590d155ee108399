"""Candidate sites of multinationals from labelled paper lists (for ``data/sites.csv``).

The upstream labels place a company's author slot in the site's country when the string names
one ("Microsoft Research Asia" -> China). A raw segment seen at least ``min_n`` times with a
multinational's label and almost always (``share``) with one country other than its
headquarters is a candidate site. Only the ``train`` and ``calibration`` splits are read: the
held-out venue-years (``test``, ``fresh``, ``fresh2``) never inform the site table.

Run::

    uv run talentflow evaluate sites --data ../shared/data
"""

from __future__ import annotations

import argparse
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from talentflow.resolve.compile import compile_gazetteer
from talentflow.resolve.gazetteer import ENTITY, SITE, Gazetteer
from talentflow.resolve.normalize import normalize, segments

#: Splits a site table may learn from.
SITE_SPLITS = ("train", "calibration")


def candidate_sites(
    gaz: Gazetteer, slots: list[Any], *, min_n: int = 2, share: float = 0.9
) -> list[tuple[str, str, str, str, int]]:
    """``(organisation, hq_country, segment, site_country, n)`` rows, most seen first."""
    seen: dict[tuple[int, str], Counter[str]] = defaultdict(Counter)
    for slot in slots:
        if slot.split not in SITE_SPLITS:
            continue
        for raw, inst, cname in zip(
            slot.affiliation.split("+"), slot.institutions, slot.countries, strict=False
        ):
            val = gaz.keys.get(normalize(inst))
            cc = gaz.country_names.get(normalize(cname)) if cname else None
            if val is None or val[0] not in (ENTITY, SITE) or cc is None:
                continue
            idx = val[1]
            if not gaz.entities[idx][4]:
                continue  # companies only: universities' campuses are curated by hand
            for seg in segments(raw):
                key = normalize(seg)
                if key:
                    seen[(idx, key)][cc] += 1
    out = []
    for (idx, key), ccs in seen.items():
        name, hq = gaz.entities[idx][0], gaz.entities[idx][1]
        cc, n = ccs.most_common(1)[0]
        total = sum(ccs.values())
        if cc == hq or n < min_n or n < share * total:
            continue
        known = gaz.keys.get(key)
        if known is not None and known[0] == SITE and known[2] == cc:
            continue
        out.append((name, hq, key, cc, n))
    return sorted(out, key=lambda r: (-r[4], r[0], r[2]))


def main(argv: list[str] | None = None) -> int:
    """Print candidate sites learned from the train and calibration splits."""
    from talentflow.resolve.labels import read_labelled

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--min-n", type=int, default=2)
    args = ap.parse_args(argv)
    gaz = compile_gazetteer(args.data, learn_splits=SITE_SPLITS, calibrate=False)
    slots = read_labelled(args.data / "paperlists")
    for name, hq, key, cc, n in candidate_sites(gaz, slots, min_n=args.min_n):
        print(f"{name}\t{hq}\t{key}\t{cc}\t{n}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
