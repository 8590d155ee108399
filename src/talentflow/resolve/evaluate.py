"""Evaluate the resolver on held-out labelled venue-years, beside a naive baseline.

Run::

    uv run talentflow evaluate resolve --data ../shared/data

The gazetteer used here learns only from the ``train`` and ``calibration`` splits
(see :mod:`talentflow.resolve.labels`). Three held-out splits are scored: ``test`` (the
development split: never learned from, but its error lists shaped the rules), ``fresh``
(never learned from nor read for errors, but scored twice: spent) and ``fresh2`` (never learned
from, tuned on or read for errors).
"""

from __future__ import annotations

import argparse
import re
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from talentflow.resolve.calibration import country_correct, label_country
from talentflow.resolve.compile import load_gazetteer
from talentflow.resolve.domains import parse_domain
from talentflow.resolve.gazetteer import ENTITY, SITE, Gazetteer
from talentflow.resolve.labels import read_labelled
from talentflow.resolve.normalize import normalize
from talentflow.resolve.resolver import Resolver

BINS = (0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 1.0001)


@dataclass
class Scores:
    """Figures on one set of labelled slots."""

    n_slots: int = 0
    n_country: int = 0
    country_right: int = 0
    answered: int = 0
    n_inst: int = 0
    inst_right: int = 0
    baseline_right: int = 0
    baseline_answered: int = 0
    unseen_n: int = 0
    unseen_right: int = 0
    calibration: dict[int, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[tuple[str, str | None, str | None, str]] = field(default_factory=list)
    inst_errors: list[tuple[str, str | None, str | None, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The headline figures as a dict."""
        return {
            "slots": self.n_slots,
            "country_accuracy": self.country_right / max(1, self.n_country),
            "answered": self.answered / max(1, self.n_country),
            "institution_match": self.inst_right / max(1, self.n_inst),
            "baseline_country_accuracy": self.baseline_right / max(1, self.n_country),
            "baseline_answered": self.baseline_answered / max(1, self.n_country),
            "unseen_strings": self.unseen_n,
            "unseen_country_accuracy": self.unseen_right / max(1, self.unseen_n),
        }


class Baseline:
    """Naive resolver: the last country name in the string, else the domain's country TLD."""

    def __init__(self, gaz: Gazetteer) -> None:
        names = sorted(gaz.country_names, key=len, reverse=True)
        self.names = gaz.country_names
        self.pattern = re.compile(r"\b(" + "|".join(re.escape(n) for n in names) + r")\b")
        self.tlds = gaz.tlds

    def country(self, affiliation: str, domain: str | None) -> str | None:
        """ISO2 or ``None``."""
        found = self.pattern.findall(normalize(affiliation))
        if found:
            return self.names[found[-1]]
        info = parse_domain(domain) if domain else None
        if info is not None and not info.webmail:
            tld = info.suffix.rsplit(".", 1)[-1]
            return "US" if tld == "edu" else self.tlds.get(tld)
        return None


def same_institution(gaz: Gazetteer, predicted: str | None, label: str) -> bool:
    """Names agree after normalisation, or the label names the same gazetteer entity."""
    if predicted is None:
        return False
    p, lab = normalize(predicted), normalize(label)
    if p.replace(" ", "") == lab.replace(" ", ""):
        return True
    val = gaz.keys.get(lab)
    if val is not None and val[0] in (ENTITY, SITE):
        return normalize(gaz.entities[val[1]][0]) == p
    return False


def evaluate(gaz: Gazetteer, slots: list[Any], seen: set[str] | None = None) -> Scores:
    """Score the resolver (and the baseline) on labelled ``slots``."""
    resolver = Resolver(gaz)
    base = Baseline(gaz)
    s = Scores()
    for slot in slots:
        s.n_slots += 1
        label = label_country(gaz, slot.countries[0] if slot.countries else None)
        res = resolver.resolve(slot.affiliation, slot.domain)
        if label is not None:
            s.n_country += 1
            ok = country_correct(res.country, label)
            s.country_right += ok
            s.answered += res.country is not None
            if res.country is not None:
                bin_i = next(i for i in range(len(BINS) - 1) if res.confidence < BINS[i + 1])
                s.calibration[bin_i].append(float(ok))
            if not ok and len(s.errors) < 100000:
                s.errors.append((slot.affiliation, slot.domain, res.country, label))
            b = base.country(slot.affiliation, slot.domain)
            s.baseline_right += country_correct(b, label)
            s.baseline_answered += b is not None
            if seen is not None and normalize(slot.affiliation.split("+")[0]) not in seen:
                s.unseen_n += 1
                s.unseen_right += ok
        inst = slot.institutions[0] if slot.institutions else ""
        if inst:
            s.n_inst += 1
            same = same_institution(gaz, res.institution, inst)
            s.inst_right += same
            if not same:
                s.inst_errors.append((slot.affiliation, slot.domain, res.institution, inst))
    return s


#: The scored splits and how they are named in the output.
SCORED = {
    "test": "development (held out from learning; its error lists shaped the rules)",
    "fresh": "fresh held-out, spent (never learned from; scored twice, may not be tuned on)",
    "fresh2": "second fresh held-out (never learned from, tuned on or read for errors)",
}

#: Held-out splits whose error lists are never printed (reading them would spend the split).
SEALED = frozenset({"fresh", "fresh2"})


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point (plain text output)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--data", type=Path, required=True, help="data folder (registries/, paperlists/)"
    )
    ap.add_argument(
        "--split",
        choices=sorted(SCORED),
        action="append",
        help="score only this split (repeatable; default: all)",
    )
    ap.add_argument("--errors", type=int, default=0, help="print this many errors")
    ap.add_argument("--inst-errors", type=int, default=0, help="print institution mismatches")
    ap.add_argument("--no-cache", action="store_true")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    gaz = load_gazetteer(
        args.data, learn_splits=("train", "calibration"), use_cache=not args.no_cache
    )
    t_load = time.perf_counter() - t0
    slots = read_labelled(args.data / "paperlists")
    seen = {
        normalize(s.affiliation.split("+")[0]) for s in slots if s.split in ("train", "calibration")
    }
    print(
        f"gazetteer (train+calibration evidence): {len(gaz.entities)} entities, "
        f"{len(gaz.keys)} keys, loaded in {t_load:.2f}s"
    )
    for split in args.split or list(SCORED):
        _report(
            gaz,
            [s for s in slots if s.split == split],
            seen,
            SCORED[split],
            args,
            show_errors=split not in SEALED,
        )
    return 0


def _report(
    gaz: Gazetteer,
    slots: list[Any],
    seen: set[str],
    title: str,
    args: argparse.Namespace,
    *,
    show_errors: bool,
) -> None:
    t1 = time.perf_counter()
    sc = evaluate(gaz, slots, seen)
    t_eval = time.perf_counter() - t1
    d = sc.as_dict()
    venues = sorted({f"{s.venue}{s.year}" for s in slots})
    print(f"\n== {title}")
    print(f"venue-years ({len(venues)}): {' '.join(venues)}")
    print(f"author slots: {d['slots']} (with a country label: {sc.n_country})")
    print(f"{'':32}{'resolver':>10}{'baseline':>10}")
    print(
        f"{'country accuracy (primary)':32}{d['country_accuracy']:>10.4f}"
        f"{d['baseline_country_accuracy']:>10.4f}"
    )
    print(f"{'answered share':32}{d['answered']:>10.4f}{d['baseline_answered']:>10.4f}")
    print(f"{'institution match':32}{d['institution_match']:>10.4f}{'':>10}")
    print(
        f"{'country acc., unseen strings':32}{d['unseen_country_accuracy']:>10.4f}"
        f"   (n={d['unseen_strings']})"
    )
    print("calibration (answered slots): confidence bin -> n, accuracy")
    for i in range(len(BINS) - 1):
        vals = sc.calibration.get(i, [])
        if vals:
            print(
                f"  [{BINS[i]:.2f}, {min(BINS[i + 1], 1.0):.2f}) n={len(vals):6d} "
                f"accuracy={sum(vals) / len(vals):.4f}"
            )
    print(f"evaluated in {t_eval:.1f}s")
    if not show_errors:
        if args.errors or args.inst_errors:
            print("(error lists of a held-out split are never printed)")
        return
    for err in sc.errors[: args.errors]:
        print("ERR", err)
    for err in sc.inst_errors[: args.inst_errors]:
        print("INST", err)


if __name__ == "__main__":
    raise SystemExit(main())
