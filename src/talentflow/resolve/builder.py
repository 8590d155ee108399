"""Building a gazetteer from registries, the curated labs table and labelled slots.

:class:`GazetteerBuilder` adds each kind of evidence in turn and :meth:`~GazetteerBuilder.finish`
returns the :class:`~talentflow.resolve.gazetteer.Gazetteer`; compiling, calibrating and
caching it is :mod:`talentflow.resolve.compile`.
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter, defaultdict
from importlib import resources
from pathlib import Path
from typing import Any

from talentflow.resolve import places
from talentflow.resolve.domains import parse_domain
from talentflow.resolve.gazetteer import (
    _UNIVERSITY,
    AMBIGUOUS,
    ENTITY,
    GENERIC,
    PLACE,
    SITE,
    Gazetteer,
    _slug,
    refine_china,
)
from talentflow.resolve.normalize import normalize, segments
from talentflow.resolve.sectors import ROR_TYPES, sector_from_name


class GazetteerBuilder:
    """Collects entities and keys, then :meth:`finish` freezes them into a gazetteer."""

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
        self.ror_plain: set[str] = set()

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
        records = [
            rec
            for path in (sorted(ror_dir.glob("*.json")) if ror_dir.exists() else [])
            for rec in json.loads(path.read_text("utf-8"))
        ]
        # ROR names a parent "Name" and its national records "Name (Country)": the bare
        # name stays the parent's
        self.ror_plain = {
            normalize(rec.get("name") or "")
            for rec in records
            if _COUNTRY_SUFFIX.search(rec.get("name") or "") is None
        }
        for rec in records:
            cc = (rec.get("country_code") or "").upper()
            name = rec.get("name") or ""
            if len(cc) != 2 or not name:
                continue
            cc = refine_china(name, cc)
            name = self._strip_country(name)
            types = rec.get("types") or []
            sector = ROR_TYPES.get(types[0], "other") if types else sector_from_name(name)
            known = self.by_key.get((normalize(name), cc))
            if known is None:
                self.entity(name, cc, sector, multinational=sector == "company")

    def _strip_country(self, name: str) -> str:
        """``"Chan Zuckerberg Initiative (United States)"`` -> ``"Chan Zuckerberg Initiative"``.

        ROR names a company's national records "Name (Country)"; papers write the bare name.
        The bare name of a company with records in several countries ("Cadence Design
        Systems" in Germany, India, ...) becomes a name shared by several organisations,
        decided by a place or a domain like any other. Kept whole when a parent record has
        the bare name ("TomTom" would be the parent of "TomTom (Germany)")."""
        m = _COUNTRY_SUFFIX.search(name)
        if m is None or normalize(m.group(1)) not in self.country_names:
            return name
        bare = name[: m.start()].rstrip()
        key = normalize(bare)
        if key in self.ror_plain:
            return name  # the bare name is the parent's
        return bare

    def add_labels(self, slots: list[Any]) -> None:
        """Learn label entities, aliases and domains from labelled slots."""
        country_of = self.country_names
        inst_cc: dict[str, Counter[str]] = defaultdict(Counter)
        inst_name: dict[str, Counter[str]] = defaultdict(Counter)
        inst_hint: dict[str, list[str]] = defaultdict(list)
        alias_inst: dict[str, Counter[str]] = defaultdict(Counter)
        alias_cc: dict[str, Counter[str]] = defaultdict(Counter)
        dom_inst: dict[str, Counter[str]] = defaultdict(Counter)
        dom_cc: dict[str, Counter[str]] = defaultdict(Counter)
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
                            dom_cc[d][cc] += 1
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
        # A label name placed in several countries has one entity per country (Northeastern
        # University: Boston and Shenyang); an alias or a domain goes to the one of its own
        # country ("Northeastern University, China", neu.edu.cn), not to the most seen.
        label_entity_cc: dict[tuple[str, str], int] = {}
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
                label_entity_cc[(inst_key, cc)] = idx
                if cc == top_cc:
                    best = idx
            assert best is not None
            self.hq_counts[best].update(ccs)
            label_entity[inst_key] = best
        for member, head in rep.items():
            if head in label_entity:
                label_entity[member] = label_entity[head]
                self.names[member].add(label_entity[head])

        def entity_in(inst_key: str, ccs: Counter[str]) -> int:
            """The label entity of ``inst_key`` in the country most seen in ``ccs``."""
            top = ccs.most_common(1)[0][0] if ccs else ""
            return label_entity_cc.get((rep.get(inst_key, inst_key), top), label_entity[inst_key])

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
            if toks[0] in _STOP:
                continue  # "and Natural Resources": a piece of a longer name, no name itself
            idx = entity_in(inst_key, alias_cc[key])
            ent_cc = self.entities[idx][1]
            cc, c_n = alias_cc[key].most_common(1)[0]
            cc = refine_china(key, cc, key) if cc == "CN" else cc
            if self.entities[idx][4] and cc != ent_cc and c_n >= 0.9 * total:
                self.curated.setdefault(key, (SITE, idx, cc))
            else:
                self.names[key].add(idx)
        tlds = places.tld_countries(self.registry_dir)
        for d, insts in dom_inst.items():
            total = sum(insts.values())
            inst_key, n = insts.most_common(1)[0]
            if total >= 2 and n >= 0.8 * total and inst_key in label_entity:
                # a country-code domain names its country even where the labels disagree
                # (cse.neu.edu.cn labelled with Boston's Northeastern is Shenyang's)
                tld_cc = tlds.get(d.rsplit(".", 1)[-1])
                own = label_entity_cc.get((rep.get(inst_key, inst_key), tld_cc or ""))
                self.domains[d] = own if own is not None else entity_in(inst_key, dom_cc[d])

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


_COUNTRY_SUFFIX = re.compile(r"\s*\(([^()]+)\)\s*$")
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
    builder = GazetteerBuilder(registry_dir)
    builder.add_labs()
    builder.add_registries()
    if slots:
        builder.add_labels(slots)
    builder.add_aliases()
    builder.add_sites()
    return builder.finish()
