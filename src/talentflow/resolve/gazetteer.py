"""The gazetteer: every name, alias, site, place and domain the resolver looks up.

Built from real registries (university-domains, ROR organisations, country codes), a curated
table of AI companies and labs (``data/labs.csv``) and, as training evidence, the labelled
paperlists venue-years (never the held-out ones when evaluating). Compiling reads ~100 MB of
JSON, so the result is pickled into a cache file keyed by the inputs; loading that takes well
under a second.

All keys live in one dict, ``keys``: normalised phrase -> ``(kind, a, b)`` with kind
``ENTITY`` (a = entity index), ``AMBIGUOUS`` (a = tuple of entity indices), ``SITE``
(a = entity index, b = ISO2 of the site) or ``PLACE`` (a = ISO2, b = rank: 3 country,
2 state/province, 1 city).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import pickle
import re
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from talentflow.resolve import places
from talentflow.resolve.domains import WEBMAIL, parse_domain
from talentflow.resolve.normalize import fold, normalize, segments
from talentflow.resolve.reference import Reference, default_cache_dir, find_reference
from talentflow.resolve.sectors import ROR_TYPES, sector_from_name

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


class _Builder:
    def __init__(self, registry_dir: Path | None) -> None:
        self.registry_dir = registry_dir
        self.entities: list[tuple[str, str, str, str, bool]] = []
        self.support: list[int] = []
        self.by_key: dict[tuple[str, str], int] = {}
        self.names: dict[str, set[int]] = defaultdict(set)
        self.curated: dict[str, tuple[int, Any, Any]] = {}
        self.domains: dict[str, int] = {}
        self.place_keys = places.place_table(registry_dir)
        self.country_names = places.country_names(registry_dir)
        self.common: set[str] = set()
        self.label_names: set[str] = set()
        self.hq_counts: dict[int, Counter[str]] = defaultdict(Counter)
        self.missing_parents: list[str] = []
        self.shadowed_sites: list[str] = []

    def entity(
        self,
        name: str,
        country: str,
        sector: str,
        iid: str | None = None,
        multinational: bool = False,
    ) -> int:
        key = (normalize(name), country)
        idx = self.by_key.get(key)
        if idx is not None:
            return idx
        idx = len(self.entities)
        iid = iid or f"tf:{country.lower()}:{_slug(name)}"
        self.entities.append((name, country, sector, iid, multinational))
        self.support.append(0)
        self.by_key[key] = idx
        self.names[key[0]].add(idx)
        return idx

    def add_labs(self) -> None:
        text = resources.files("talentflow.resolve").joinpath("data/labs.csv").read_text("utf-8")
        for row in csv.DictReader(text.splitlines()):
            domains = [d for d in row["domains"].split("|") if d]
            iid = f"domain:{domains[0]}" if domains else None
            multinational = row["sector"] == "company"
            idx = self.entity(row["name"], row["country"], row["sector"], iid, multinational)
            self.support[idx] += 1000
            for alias in [row["name"], *row["aliases"].split("|")]:
                key = normalize(alias)
                if key:
                    self.curated[key] = (ENTITY, idx, None)
            for site in row["sites"].split("|"):
                if "=" in site:
                    alias, cc = site.rsplit("=", 1)
                    self.curated[normalize(alias)] = (SITE, idx, cc.strip())
            for d in domains:
                self.domains[d] = idx

    def add_registries(self) -> None:
        if self.registry_dir is None:
            return
        uni = self.registry_dir / "university-domains" / "world_universities_and_domains.json"
        if uni.exists():
            for rec in json.loads(uni.read_text("utf-8")):
                cc = (rec.get("alpha_two_code") or "").upper()
                name = rec.get("name") or ""
                if len(cc) != 2 or not name:
                    continue
                doms = [d.lower() for d in rec.get("domains") or [] if d]
                idx = self.entity(name, cc, "education", f"domain:{doms[0]}" if doms else None)
                for d in doms:
                    self.domains.setdefault(d, idx)
        ror_dir = self.registry_dir / "ror-parser"
        for path in sorted(ror_dir.glob("*.json")) if ror_dir.exists() else []:
            for rec in json.loads(path.read_text("utf-8")):
                cc = (rec.get("country_code") or "").upper()
                name = rec.get("name") or ""
                if len(cc) != 2 or not name:
                    continue
                cc = refine_china(name, cc)
                types = rec.get("types") or []
                sector = ROR_TYPES.get(types[0], "other") if types else sector_from_name(name)
                known = self.by_key.get((normalize(name), cc))
                if known is None:
                    self.entity(name, cc, sector, multinational=sector == "company")

    def add_labels(self, slots: list[Any]) -> None:
        """Learn label entities, aliases and domains from labelled slots."""
        country_of = self.country_names
        inst_cc: dict[str, Counter[str]] = defaultdict(Counter)
        inst_name: dict[str, Counter[str]] = defaultdict(Counter)
        inst_hint: dict[str, list[str]] = defaultdict(list)
        alias_inst: dict[str, Counter[str]] = defaultdict(Counter)
        alias_cc: dict[str, Counter[str]] = defaultdict(Counter)
        dom_inst: dict[str, Counter[str]] = defaultdict(Counter)
        parts_seen = 0
        token_insts: dict[str, Counter[str]] = defaultdict(Counter)
        for slot in slots:
            raw_parts = slot.affiliation.split("+")
            for k, (raw, inst, cname) in enumerate(
                zip(raw_parts, slot.institutions, slot.countries, strict=False)
            ):
                inst_key = normalize(inst)
                cc = country_of.get(normalize(cname)) if cname else None
                if not inst_key or cc is None:
                    continue
                parts_seen += 1
                inst_cc[inst_key][cc] += 1
                inst_name[inst_key][inst] += 1
                if len(inst_hint[inst_key]) < 20:
                    inst_hint[inst_key].append(raw)
                for tok in set(normalize(raw).split()):
                    token_insts[tok][inst_key] += 1
                seen: set[str] = set()
                for seg in [raw, *segments(raw)]:
                    key = normalize(seg)
                    if key and key not in seen:
                        seen.add(key)
                        alias_inst[key][inst_key] += 1
                        alias_cc[key][cc] += 1
                if k == 0 and slot.domain:
                    info = parse_domain(slot.domain)
                    if info is not None and not info.webmail:
                        if slot.domain:
                            inst_hint[inst_key].append(info.suffix)
                        for d in {info.domain, info.registered}:
                            dom_inst[d][inst_key] += 1
        # Words seen with many institutions, none dominant ("perception", "health").
        self.common = {
            tok
            for tok, insts in token_insts.items()
            if len(insts) >= 5 and insts.most_common(1)[0][1] < 0.5 * sum(insts.values())
        }
        # Label spellings of one organisation ("Technion" / "Technion - Israel Institute of
        # Technology") seen for the same raw strings become one entity.
        rep = self._merge_variants(alias_inst, inst_cc)
        if rep:
            inst_cc = _remap(inst_cc, rep)
            inst_name = _remap(inst_name, rep)
            alias_inst = {k: _remap_counter(v, rep) for k, v in alias_inst.items()}
            dom_inst = {k: _remap_counter(v, rep) for k, v in dom_inst.items()}
        # Entities: one per label name (companies) or per name and country (others).
        label_entity: dict[str, int] = {}
        self.label_names = set(inst_cc)
        for inst_key, ccs in inst_cc.items():
            name = inst_name[inst_key].most_common(1)[0][0]
            total = sum(ccs.values())
            top_cc, top_n = ccs.most_common(1)[0]
            evidence = " ".join(inst_hint[inst_key])
            curated = self.curated.get(inst_key)
            if curated is not None and curated[0] == ENTITY:
                label_entity[inst_key] = curated[1]
                self.support[curated[1]] += total
                self.hq_counts[curated[1]].update(ccs)
                continue
            sector = self._sector_for(inst_key, name, top_cc)
            chosen = [
                (cc, n) for cc, n in ccs.items() if n == top_n or (n >= 3 and n >= 0.15 * total)
            ]
            if sector == "company":
                chosen = [(top_cc, top_n)]
            best = None
            for cc, n in chosen:
                real_cc = refine_china(name, cc, evidence if cc == "CN" else "")
                idx = self.entity(name, real_cc, sector, multinational=sector == "company")
                self.support[idx] += n
                if cc == top_cc:
                    best = idx
            assert best is not None
            self.hq_counts[best].update(ccs)
            label_entity[inst_key] = best
        for member, head in rep.items():
            if head in label_entity:
                label_entity[member] = label_entity[head]
                self.names[member].add(label_entity[head])
        # Aliases: a segment seen with one label institution (>= 80% of the time).
        for key, insts in alias_inst.items():
            if key in self.curated or key in self.place_keys:
                continue
            toks = key.split()
            informative = [
                t
                for t in toks
                if t not in GENERIC
                and t not in self.common
                and t not in self.place_keys
                and not t.isdigit()
            ]
            total = sum(insts.values())
            inst_key, n = insts.most_common(1)[0]
            if not informative:
                # "Georgia Tech", "TU Munich", "IIT Delhi": a place and generic or shared words;
                # kept only when seen often and almost always for one institution.
                has_place = any(t in self.place_keys for t in toks)
                if not (has_place and total >= 3 and n >= 0.9 * total and len(toks) >= 2):
                    continue
                if all(t in GENERIC or t in self.place_keys for t in toks) and len(toks) > 2:
                    continue
            if n < 0.8 * total or inst_key not in label_entity:
                continue
            # A one-off single informative word ("Audio") is no name; sharing a word with the
            # label's name ("CMU" aside) or a second sighting is needed.
            if total == 1 and len(informative) == 1 and informative[0] not in inst_key.split():
                continue
            if total == 1 and len(toks) > 12:
                continue  # a one-off long string teaches nothing reusable
            idx = label_entity[inst_key]
            ent_cc = self.entities[idx][1]
            cc, c_n = alias_cc[key].most_common(1)[0]
            cc = refine_china(key, cc, key) if cc == "CN" else cc
            if self.entities[idx][4] and cc != ent_cc and c_n >= 0.9 * total:
                self.curated.setdefault(key, (SITE, idx, cc))
            else:
                self.names[key].add(idx)
        for d, insts in dom_inst.items():
            total = sum(insts.values())
            inst_key, n = insts.most_common(1)[0]
            if total >= 2 and n >= 0.8 * total and inst_key in label_entity:
                self.domains[d] = label_entity[inst_key]

    def _merge_variants(
        self, alias_inst: dict[str, Counter[str]], inst_cc: dict[str, Counter[str]]
    ) -> dict[str, str]:
        """Map label-name variants to the most used spelling of their group."""
        parent: dict[str, str] = {}

        def find(x: str) -> str:
            while parent.get(x, x) != x:
                x = parent[x]
            return x

        size = {k: sum(v.values()) for k, v in inst_cc.items()}
        for insts in alias_inst.values():
            if len(insts) < 2:
                continue
            top = [k for k, _ in insts.most_common(3)]
            for i in range(len(top)):
                for j in range(i + 1, len(top)):
                    a, b = top[i], top[j]
                    if a in size and b in size and self._variants(a, b):
                        ra, rb = find(a), find(b)
                        if ra != rb:
                            if size[ra] < size[rb]:
                                ra, rb = rb, ra
                            parent[rb] = ra
        return {k: find(k) for k in parent if find(k) != k}

    def _variants(self, a: str, b: str) -> bool:
        """Two normalised label names spell one organisation."""
        if a.replace(" ", "") == b.replace(" ", ""):
            return True
        ta = [t for t in a.split() if t not in _STOP]
        tb = [t for t in b.split() if t not in _STOP]
        if len(ta) > len(tb):
            ta, tb = tb, ta
        if not ta:
            return False
        sa, sb = set(ta), set(tb)
        if sa <= sb:
            extra = sb - sa
            # only generic words and country names may be added ("Technion, Israel
            # Institute of Technology"); a city makes another campus ("UC" vs "UC Berkeley").
            return all(t in GENERIC or t in self.country_names for t in extra) and any(
                t not in GENERIC for t in sa
            )
        if len(ta) == 1 and len(ta[0]) >= 3:
            return "".join(t[0] for t in tb) == ta[0]  # KAIST
        return False

    def _sector_for(self, inst_key: str, name: str, cc: str) -> str:
        for idx in self.names.get(inst_key, ()):
            if self.entities[idx][1] == cc:
                return self.entities[idx][2]
        return sector_from_name(name)

    def add_aliases(self) -> None:
        """Curated aliases (non-English names: 清华大学, Technische Universität München)."""
        text = resources.files("talentflow.resolve").joinpath("data/aliases.csv").read_text("utf-8")
        for row in csv.DictReader(text.splitlines()):
            target, cc = normalize(row["name"]), row["country"].strip()
            idx = self.by_key.get((target, cc))
            if idx is None:
                same = [i for i in self.names.get(target, ()) if self.entities[i][1] == cc]
                idx = same[0] if same else None
            if idx is None:
                idx = self.entity(row["name"], cc, sector_from_name(row["name"]))
            self.curated[normalize(row["alias"])] = (ENTITY, idx, None)

    def add_sites(self) -> None:
        """Sites of multinationals and campuses abroad (``data/sites.csv``): each alias is a
        SITE key of its parent organisation, placed in the site's country."""
        text = resources.files("talentflow.resolve").joinpath("data/sites.csv").read_text("utf-8")
        for row in csv.DictReader(text.splitlines()):
            org, hq, cc = row["organisation"], row["hq_country"].strip(), row["country"].strip()
            idx = self.by_key.get((normalize(org), hq))
            if idx is None:
                same = [i for i in self.names.get(normalize(org), ()) if self.entities[i][1] == hq]
                idx = same[0] if same else None
            if idx is None:
                self.missing_parents.append(org)
                sector = sector_from_name(org)
                idx = self.entity(org, hq, sector, multinational=sector == "company")
            for entry in [row["site"], *row["aliases"].split("|")]:
                # "alias=CC": an alias of a site in another country than the row's
                alias, _, own_cc = entry.partition("=")
                key = normalize(alias)
                known = self.curated.get(key)
                if known is not None and known[0] == ENTITY:
                    # "Microsoft Research Ltd" normalises to the curated "microsoft research":
                    # an organisation's own name never becomes one of its sites
                    self.shadowed_sites.append(alias)
                    continue
                if key:
                    self.curated[key] = (SITE, idx, own_cc.strip() or cc)

    def _too_generic(self, name: str, toks: list[str]) -> bool:
        """Whether a name is made only of generic words ("Department of Computer Science",
        "Public Health") and so would match inside countless strings."""
        if all(t in GENERIC or t.isdigit() or len(t) == 1 for t in toks):
            return True
        if name in self.label_names or _UNIVERSITY.search(name):
            return False  # "University of California, Berkeley": generic words and a place
        return all(
            t in GENERIC or t in self.common or t in self.place_keys or t.isdigit() or len(t) == 1
            for t in toks
        )

    def finish(self) -> Gazetteer:
        keys: dict[str, tuple[int, Any, Any]] = {}
        for name, idxs in self.names.items():
            if not name or name in self.place_keys or name in self.country_names:
                continue
            toks = name.split()
            if len(toks) == 1 and len(name) < 3:
                continue
            # Names made only of generic words and places ("Department of Computer Science",
            # "Research Center Berlin") would match inside countless strings.
            if self._too_generic(name, toks):
                continue
            if len(idxs) == 1:
                keys[name] = (ENTITY, next(iter(idxs)), None)
            else:
                by_cc: dict[str, int] = {}
                for i in sorted(idxs, key=lambda i: -self.support[i]):
                    by_cc.setdefault(self.entities[i][1], i)
                vals = tuple(by_cc.values())
                keys[name] = (ENTITY, vals[0], None) if len(vals) == 1 else (AMBIGUOUS, vals, None)
        for name, (cc, rank) in self.place_keys.items():
            keys[name] = (PLACE, cc, rank)
        keys.update(self.curated)
        multisite = frozenset(
            val[1] for val in keys.values() if val[0] == SITE and val[2] != self.entities[val[1]][1]
        )
        hq_share = {}
        for idx in multisite:
            counts = self.hq_counts.get(idx)
            if counts:
                hq = self.entities[idx][1]
                # the labels call Hong Kong, Macao and Taiwan "China"
                at_hq = counts[hq] + (counts["CN"] if hq in ("HK", "MO", "TW") else 0)
                hq_share[idx] = at_hq / sum(counts.values())
        first: dict[str, int] = {}
        for key in keys:
            toks = key.split(" ")
            if len(toks) > first.get(toks[0], 0):
                first[toks[0]] = len(toks)
        return Gazetteer(
            entities=self.entities,
            support=self.support,
            keys=keys,
            first=first,
            domains=self.domains,
            region_codes=dict(places.REGION_CODES),
            tlds=places.tld_countries(self.registry_dir),
            country_names=self.country_names,
            multisite=multisite,
            hq_share=hq_share,
        )


_STOP = frozenset({"of", "at", "the", "and", "de", "di", "du", "der", "la", "le", "in"})


def _remap(d: dict[str, Counter[str]], rep: dict[str, str]) -> dict[str, Counter[str]]:
    out: dict[str, Counter[str]] = defaultdict(Counter)
    for k, v in d.items():
        out[rep.get(k, k)].update(v)
    return out


def _remap_counter(c: Counter[str], rep: dict[str, str]) -> Counter[str]:
    if not any(k in rep for k in c):
        return c
    out: Counter[str] = Counter()
    for k, n in c.items():
        out[rep.get(k, k)] += n
    return out


def build_gazetteer(registry_dir: Path | None, slots: list[Any] | None = None) -> Gazetteer:
    """Build a gazetteer from registries, curated labs and (optionally) labelled slots."""
    builder = _Builder(registry_dir)
    builder.add_labs()
    builder.add_registries()
    if slots:
        builder.add_labels(slots)
    builder.add_aliases()
    builder.add_sites()
    return builder.finish()


def _fingerprint(paths: list[Path]) -> list[tuple[str, int, int]]:
    out = []
    for p in paths:
        try:
            st = p.stat()
        except OSError:
            continue
        out.append((str(p), st.st_size, int(st.st_mtime)))
    return out


#: Every labelled split; the production gazetteer learns from all of them.
ALL_SPLITS = ("train", "calibration", "test", "fresh")


def compile_gazetteer(
    data_dir: Path | None,
    *,
    registry_dir: Path | None = None,
    labels_dir: Path | None = None,
    learn_splits: tuple[str, ...] = ALL_SPLITS,
    calibrate: bool = True,
) -> Gazetteer:
    """Build the gazetteer from registries and labelled paper lists.

    ``registry_dir`` defaults to ``data_dir / "registries"`` and ``labels_dir`` to
    ``data_dir / "paperlists"``. ``learn_splits`` says which labelled splits are training
    evidence (the evaluation passes ``("train", "calibration")`` so held-out venue-years are
    never learned from). Confidence is calibrated on the calibration split with a gazetteer
    learned from ``train`` only.
    """
    from talentflow.resolve.calibration import calibrate_gazetteer
    from talentflow.resolve.labels import read_labelled

    registry_dir = registry_dir or (data_dir / "registries" if data_dir else None)
    labels_dir = labels_dir or (data_dir / "paperlists" if data_dir else None)
    slots = read_labelled(labels_dir) if labels_dir is not None else []
    learn = [s for s in slots if s.split in learn_splits]
    base = _Builder(registry_dir)
    base.add_labs()
    base.add_registries()
    snapshot = pickle.dumps(base, protocol=pickle.HIGHEST_PROTOCOL)  # cheaper than re-reading
    builder = pickle.loads(snapshot)
    if learn:
        builder.add_labels(learn)
    builder.add_aliases()
    builder.add_sites()
    gaz = builder.finish()
    if calibrate and slots:
        builder = pickle.loads(snapshot)
        builder.add_labels([s for s in slots if s.split == "train"])
        builder.add_aliases()
        builder.add_sites()
        train_only = builder.finish()
        gaz.calibration = calibrate_gazetteer(
            train_only, [s for s in slots if s.split == "calibration"]
        )
    gaz.meta = {
        "format": FORMAT_VERSION,
        "learn_splits": list(learn_splits),
        "n_labelled_slots": len(learn),
        "n_entities": len(gaz.entities),
        "n_keys": len(gaz.keys),
        "registry_dir": str(registry_dir) if registry_dir else None,
    }
    return gaz


def load_gazetteer(
    data_dir: str | Path | None = None,
    *,
    registry_dir: str | Path | None = None,
    learn_splits: tuple[str, ...] = ALL_SPLITS,
    cache_dir: str | Path | None = None,
    use_cache: bool = True,
    reference: Reference | None = None,
) -> Gazetteer:
    """Load the gazetteer for ``data_dir``, compiling it once into a cache file.

    Reference data (registries, labelled paper lists) is found by
    :func:`~talentflow.resolve.reference.find_reference`: in ``data_dir``, else in the cache
    ``talentflow fetch`` fills, else (registries only) in the copy shipped with the package.
    What was used, and what is missing, is in ``gaz.meta["reference"]``.

    Parameters
    ----------
    data_dir
        The build's data folder (may hold ``registries/`` and ``paperlists/``), or ``None``.
    registry_dir
        Registries folder when it is not ``data_dir / "registries"`` (no fallback then).
    learn_splits
        Labelled splits used as training evidence (see :mod:`talentflow.resolve.labels`).
    cache_dir
        Where compiled gazetteers are kept (default :func:`default_cache_dir`).
    reference
        Reference folders already located (default: located here).
    """
    data = Path(data_dir) if data_dir is not None else None
    ref = reference if reference is not None else find_reference(data, registry_dir)
    reg = ref.registry_dir
    labels_dir = ref.labels_dir
    inputs: list[Path] = []
    for root, pattern in ((reg, "**/*"), (labels_dir, "*/*.json")):
        if root is not None and root.exists():
            inputs.extend(sorted(p for p in root.glob(pattern) if p.is_file()))
    labs = b"".join(
        resources.files("talentflow.resolve").joinpath(f"data/{f}").read_bytes()
        for f in ("labs.csv", "aliases.csv", "sites.csv")
    )
    code = b"".join(
        resources.files("talentflow.resolve").joinpath(m).read_bytes()
        for m in (
            "gazetteer.py",
            "places.py",
            "normalize.py",
            "sectors.py",
            "labels.py",
            "resolver.py",
            "calibration.py",
        )
    )
    digest = hashlib.sha256(
        json.dumps(
            [FORMAT_VERSION, _fingerprint(inputs), list(learn_splits), str(reg), str(labels_dir)]
        ).encode()
        + hashlib.sha256(labs + code).digest()
    ).hexdigest()[:24]
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    path = cache / f"gazetteer-{digest}.pickle"
    if reg is None:
        use_cache = False  # without registries compiling takes well under a second
    cached = _read_cache(path) if use_cache else None
    if cached is None and use_cache:
        # One process compiles; concurrent builds wait for it instead of repeating it.
        with _compile_lock(cache, digest):
            cached = _read_cache(path)
            if cached is None:
                cached = compile_gazetteer(
                    None, registry_dir=reg, labels_dir=labels_dir, learn_splits=learn_splits
                )
                _write_cache(path, cached)
    gaz = cached or compile_gazetteer(
        None, registry_dir=reg, labels_dir=labels_dir, learn_splits=learn_splits
    )
    gaz.meta["digest"] = digest
    gaz.meta["reference"] = ref.as_params()
    return gaz


def _read_cache(path: Path) -> Gazetteer | None:
    if not path.exists():
        return None
    try:
        with path.open("rb") as fh:
            gaz = pickle.load(fh)
    except Exception:  # a corrupt cache file is rebuilt
        return None
    return gaz if isinstance(gaz, Gazetteer) else None


def _write_cache(path: Path, gaz: Gazetteer) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(gaz, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except OSError:  # a read-only cache only costs speed
        pass


@contextmanager
def _compile_lock(cache: Path, digest: str) -> Iterator[None]:
    """An exclusive advisory file lock (POSIX); a no-op where locking is unavailable."""
    try:
        import fcntl

        cache.mkdir(parents=True, exist_ok=True)
        fh = (cache / f"gazetteer-{digest}.lock").open("a")
    except (ImportError, OSError):
        yield
        return
    try:
        fcntl.flock(fh, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fh, fcntl.LOCK_UN)
        fh.close()


__all__ = ["WEBMAIL", "Gazetteer", "build_gazetteer", "compile_gazetteer", "load_gazetteer"]
