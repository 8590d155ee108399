"""Resolve one (affiliation string, email domain) pair to institution, country and sector.

The pipeline per affiliation part: normalise -> split into segments -> greedy longest match of
gazetteer keys (institutions, lab sites, places) -> decide the country from the evidence in a
fixed order (a lab site, a place hint, the institution, the email domain) -> calibrated
confidence of that decision path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from talentflow.resolve.domains import DomainInfo, domain_keys, parse_domain
from talentflow.resolve.gazetteer import (
    AMBIGUOUS,
    ENTITY,
    GENERIC,
    PLACE,
    SITE,
    Gazetteer,
)
from talentflow.resolve.normalize import clean, has_cjk, segments, split_parts, tokens
from talentflow.resolve.places import CONTEXT_CODES, CONTEXT_REGION_CODES, SEGMENT_COUNTRY_CODES

#: Longest raw affiliation looked at (longer strings are cut; real ones are far shorter).
MAX_CHARS = 2000
#: Most affiliation parts resolved per string.
MAX_PARTS = 12
_AND = re.compile(r"\s+(?:and|&)\s+|\s*;\s*", re.IGNORECASE)
_ZIP = re.compile(r"^\d{4,6}$")
#: Codes read as their country right after a place or institution of it ("Toronto, CA").
_OWN_CODES = frozenset(SEGMENT_COUNTRY_CODES) | {"ca"}
#: State codes that are also words or abbreviations ("Co., Ltd", "Ms", "or"): never a
#: state just for ending the part.
_WORD_CODES = frozenset({"co", "me", "or", "ok", "hi", "la", "mo", "ms"})
#: Generic top-level domains used only in the United States.
_US_TLDS = {"edu": "US", "gov": "US", "mil": "US"}

#: First or last words of a unit's name ("Department of ...", "Smart Robotics Lab"; after
#: normalisation "Dept." is "department", "Lab" is "laboratory", "Centre" is "center"), and
#: the small words a piece of a longer name starts with ("and Natural Resources").
_UNIT_WORDS = frozenset(
    {"department", "school", "faculty", "laboratory", "center", "group", "division", "unit"}
    | {"program", "programme", "chair", "section", "and", "of", "the", "for"}
)
#: Prior confidence per decision path, used when the calibration table lacks the path.
PRIOR = {
    "site": 0.95,
    "hint>site": 0.9,
    "city>inst": 0.75,
    "hint>hq": 0.9,
    "hint>inst": 0.8,
    "inst+hint": 0.99,
    "inst>city": 0.9,
    "inst": 0.95,
    "hq-fallback": 0.6,
    "hint": 0.95,
    "domain-inst": 0.9,
    "tld": 0.85,
    "edu": 0.8,
    "none": 0.0,
}


@dataclass
class Resolution:
    """The resolution of one affiliation string.

    ``country`` and ``institution`` are those of the primary (first) affiliation part;
    ``countries`` has one entry (ISO2 or ``None``) per part, in order.
    """

    institution: str | None = None
    institution_id: str | None = None
    country: str | None = None
    countries: list[str | None] = field(default_factory=list)
    sector: str | None = None
    confidence: float = 0.0
    evidence: list[str] = field(default_factory=list)
    method: str = "none"
    #: The country is only the headquarters of an organisation with sites in several
    #: countries ("Microsoft", microsoft.com): a low-confidence fallback.
    hq_fallback: bool = False
    #: The parts after the first: (institution, country, sector) each, in listed order.
    other_parts: list[tuple[str | None, str | None, str | None]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-ready) of the resolution."""
        return {
            "institution": self.institution,
            "institution_id": self.institution_id,
            "country": self.country,
            "countries": list(self.countries),
            "sector": self.sector,
            "confidence": self.confidence,
            "evidence": list(self.evidence),
            "method": self.method,
            "hq_fallback": self.hq_fallback,
            "other_parts": [
                {"institution": i, "country": c, "sector": s} for i, c, s in self.other_parts
            ],
        }


@dataclass
class _Part:
    entity: int | None
    country: str | None
    method: str
    evidence: list[str]
    matched: bool  # some institution or site was named
    #: A shared name left open for want of any hint (co-mentioned parts may decide it).
    open_name: tuple[int, ...] | None = None


class Resolver:
    """Resolves affiliation strings with a gazetteer loaded once.

    Parameters
    ----------
    gazetteer
        A loaded :class:`~talentflow.resolve.gazetteer.Gazetteer`
        (:func:`~talentflow.resolve.compile.load_gazetteer`, or
        :func:`~talentflow.resolve.compile.load_resolver` for both in one call).

    Examples
    --------
    >>> from talentflow.resolve.compile import load_gazetteer
    >>> r = Resolver(load_gazetteer())  # reference data from the fetch cache or the package
    >>> r.resolve("Tencent AI Lab, Seattle").country
    'US'
    """

    def __init__(self, gazetteer: Gazetteer) -> None:
        self.gaz = gazetteer
        self._part_cache: dict[str, tuple[list[tuple[int, Any, Any, str]], list[str]]] = {}
        self._decided: dict[tuple[str, str | None], _Part] = {}
        self._prefixes = key_prefixes(self.gaz)
        self._name_words: dict[int, frozenset[str]] = {}

    # -- matching --------------------------------------------------------------------------
    def _match(self, part: str) -> tuple[list[tuple[int, Any, Any, str]], list[str]]:
        """Greedy longest matches per segment: ``[(kind, a, b, key)]`` and ordered segments.

        Matches are returned in reading order; a match's 4th item is its key.
        """
        cached = self._part_cache.get(part)
        if cached is not None:
            return cached
        keys = self.gaz.keys
        prefixes = self._prefixes
        found: list[tuple[int, Any, Any, str]] = []
        segs: list[str] = []
        seg_toks = []
        for seg in segments(part):
            toks = tokens(seg)
            if toks:
                seg_toks.append(_split_cjk(toks, keys) if has_cjk(seg) else toks)
        skip_next = False
        for j, toks in enumerate(seg_toks):
            if skip_next:
                skip_next = False
                continue
            key_seg = " ".join(toks)
            segs.append(key_seg)
            # An organisation named across a comma: "University of California, Berkeley".
            if j + 1 < len(seg_toks):
                pair = key_seg + " " + " ".join(seg_toks[j + 1])
                val = keys.get(pair)
                if val is not None and val[0] != PLACE:
                    found.append((val[0], val[1], val[2], pair))
                    skip_next = True
                    continue
            # "CA 94305", "MA", "NL": a state or country code heading its own short segment.
            if len(toks) <= 2 and (len(toks) == 1 or _ZIP.match(toks[1])):
                hit = self._code(toks[0], len(toks) == 2, found, 0 < j == len(seg_toks) - 1)
                if hit is not None:
                    found.append(hit)
                    continue
            # Longest key starting at each position: walk forward while the tokens so far
            # are the start of some key (a few lookups, not one per possible length).
            n_tok = len(toks)
            i = 0
            while i < n_tok:
                key = toks[i]
                hit = None
                nxt = i + 1
                while True:
                    val = keys.get(key)
                    if val is not None:
                        hit, end = (val[0], val[1], val[2], key), nxt
                    if nxt >= n_tok or key not in prefixes:
                        break
                    key = key + " " + toks[nxt]
                    nxt += 1
                if hit is None:
                    i += 1
                else:
                    found.append(hit)
                    i = end
        result = (found, segs)
        if len(self._part_cache) < 500_000:
            self._part_cache[part] = result
        return result

    def _code(
        self, code: str, zip_code: bool, found: list[tuple[int, Any, Any, str]], last: bool
    ) -> tuple[int, Any, Any, str] | None:
        """A two- or three-letter code heading its own segment, read in the light of the
        places and institutions named before it in the part: a place, or ``None``.

        A country's own code after one of its places or institutions is that country
        ("Toronto, CA", "Berlin, DE"); a province or state code shared with a country is the
        region when its country was named before ("University of Regina, SK" is Saskatchewan,
        "Adelaide, SA" South Australia); a US state code that is also a country code or a word
        ("IN", "PA", "GA") is a state after a ZIP code, a US place or institution, or a city of
        another country ("Athens, GA"), else the country code; one that is no country code we
        trust ("MD", "PA", "GA") is a state too when it ends the part after some other
        segment ("BlueHalo, Rockville, MD").
        """
        ents = self.gaz.entities
        ctx: set[str] = set()
        foreign_city = False
        for kind, a, b, _key in found:
            if kind == PLACE:
                ctx.add(a)
                foreign_city = foreign_city or (b == 1 and a != code.upper())
            elif kind == ENTITY:
                ctx.add(ents[a][1])
            elif kind == SITE:
                ctx.add(b)
            elif kind == AMBIGUOUS:
                ctx.update(ents[i][1] for i in a)
        upper = code.upper()
        if upper in ctx and code in _OWN_CODES:
            return (PLACE, upper, 3, code)
        for cc in CONTEXT_REGION_CODES.get(code, ()):
            if cc in ctx:
                return (PLACE, cc, 2, code)
        region_codes = self.gaz.region_codes
        if code in region_codes:
            shared = code in CONTEXT_CODES
            if not shared or zip_code or "US" in ctx or foreign_city:
                return (PLACE, region_codes[code], 2, code)
            if last and code not in SEGMENT_COUNTRY_CODES and code not in _WORD_CODES:
                return (PLACE, region_codes[code], 2, code)
        if code in SEGMENT_COUNTRY_CODES:
            return (PLACE, SEGMENT_COUNTRY_CODES[code], 3, code)
        return None

    # -- deciding --------------------------------------------------------------------------
    def _part(
        self,
        part: str,
        dom: DomainInfo | None,
        use_domain: bool,
        context: frozenset[str] = frozenset(),
    ) -> _Part:
        """Decide one affiliation part; ``context`` holds the countries of the other parts
        (used only for a name shared by organisations in several countries)."""
        gaz = self.gaz
        found, _ = self._match(part)
        entity: int | None = None
        ent_key = ""
        site_cc: str | None = None
        ambiguous: tuple[int, ...] | None = None
        hints: list[tuple[str, int, str]] = []
        candidates = []
        for kind, a, b, key in found:
            if kind == PLACE:
                hints.append((a, b, key))
            else:
                candidates.append((kind, a, b, key))
        hint = None
        if hints:
            best_rank = max(h[1] for h in hints)
            hint = [h for h in hints if h[1] == best_rank][-1]
        dom_entity: int | None = None
        dom_cc: str | None = None
        dom_method = ""
        if use_domain and dom is not None and not dom.webmail:
            for k in domain_keys(dom):
                if k in gaz.domains:
                    dom_entity = gaz.domains[k]
                    break
            last = dom.suffix.rsplit(".", 1)[-1]
            if dom_entity is not None:
                dom_cc = gaz.entities[dom_entity][1]
                dom_method = "domain-inst"
            elif last in gaz.tlds:
                dom_cc, dom_method = gaz.tlds[last], "tld"
            elif last == "edu":
                dom_cc, dom_method = "US", "edu"
        if candidates:
            pick_hint = hint
            if hint is None and len(candidates) > 1:
                pick_hint = self._key_country(candidates)
            kind, a, b, ent_key = self._best_candidate(candidates, pick_hint, dom_entity, dom_cc)
            if kind == ENTITY:
                entity = a
            elif kind == SITE:
                entity, site_cc = a, b
            else:
                ambiguous = a
        open_name: tuple[int, ...] | None = None
        if ambiguous is not None:
            entity = self._pick_shared(ambiguous, hint, dom_entity, dom_cc, context)
            if hint is None and dom_cc is None:
                open_name = ambiguous  # co-mentioned parts may still tell (resolve())
        evidence: list[str] = []
        if entity is not None:
            evidence.append(f"institution '{ent_key}' -> {gaz.entities[entity][0]}")
        if site_cc:
            evidence.append(f"lab site '{ent_key}' -> {site_cc}")
        if hint:
            evidence.append(f"place '{hint[2]}' -> {hint[0]}")
        if dom_cc:
            evidence.append(f"domain {dom.domain if dom else ''} -> {dom_cc} ({dom_method})")
        ent_cc = gaz.entities[entity][1] if entity is not None else None
        multisite = gaz.multisite
        country: str | None
        if site_cc and hint is not None and hint[1] >= 3 and not _same(hint[0], site_cc):
            # a country named in the string beats a site brand ("IBM Research Europe,
            # Dublin, Ireland")
            country, method = hint[0], "hint>site"
        elif site_cc:
            country, method = site_cc, "site"
        elif entity is not None and hint is not None:
            # a place beats the headquarters of a company or of a university with campuses
            # abroad ("NYU, Shanghai"); a country name beats any institution (a branch
            # campus); so do a city or a state code, unless the email domain's own country
            # agrees with the institution (_place_beats)
            sited = gaz.entities[entity][4] or entity in multisite
            if _same(hint[0], ent_cc or ""):
                country, method = ent_cc, "inst+hint"
            elif sited:
                country, method = hint[0], "hint>hq"
            elif hint[1] >= 3:
                country, method = hint[0], "hint>inst"
            elif self._place_beats(hint, ent_cc or "", dom):
                country, method = hint[0], "city>inst"
            else:
                country, method = ent_cc, "inst>city"
        elif entity is not None:
            # a bare name of an organisation with sites abroad says only where its HQ is
            country, method = ent_cc, ("hq-fallback" if entity in multisite else "inst")
        elif hint is not None:
            country, method = hint[0], "hint"
            if dom_entity is not None and _same(dom_cc or "", country):
                entity = dom_entity  # "Stanford, CA" from stanford.edu
        elif dom_cc is not None:
            country, method = dom_cc, dom_method
            if dom_entity is not None:
                entity = dom_entity
                if entity in multisite:
                    method = "hq-fallback"
        else:
            country, method = None, "none"
        if (
            country is not None
            and dom_cc is not None
            and method not in ("tld", "edu", "hq-fallback")
        ):
            method += "|dom-agree" if _same(dom_cc, country) else "|dom-conflict"
        return _Part(
            entity, country, method, evidence, entity is not None or bool(site_cc), open_name
        )

    def _place_beats(self, hint: tuple[str, int, str], ent_cc: str, dom: DomainInfo | None) -> bool:
        """Whether a city or a state code contradicting an institution's country wins.

        It does ("Accenture Labs, Bengaluru", "Rakuten Institute of Technology, Boston, MA":
        on the calibration split the institution's country was right in about a fifth of
        such cases) unless the hint is a region's name, which is often part of another name
        or a city elsewhere ("Georgia Tech Shenzhen", "New Brunswick NJ"), or the email
        domain's own top-level domain agrees with the institution (sjtu.edu.cn for
        "SJTU-Paris Elite Institute, Shanghai Jiao Tong University").
        """
        if (
            hint[1] == 2
            and hint[2] not in self.gaz.region_codes
            and hint[2] not in CONTEXT_REGION_CODES
        ):
            return False
        if dom is not None and not dom.webmail:
            last = dom.suffix.rsplit(".", 1)[-1]
            tld_cc = self.gaz.tlds.get(last) or _US_TLDS.get(last)
            if tld_cc is not None and _same(tld_cc, ent_cc):
                return False
        return True

    def _pick_shared(
        self,
        ambiguous: tuple[int, ...],
        hint: tuple[str, int, str] | None,
        dom_entity: int | None,
        dom_cc: str | None,
        context: frozenset[str],
    ) -> int | None:
        """Which of the organisations sharing a name is meant (Northeastern University:
        Boston or Shenyang): the one in the place's country, then the email domain's
        institution or country, then one in a co-mentioned part's country; else the most
        seen one if it was seen twice as often as the next. A place, or a domain known only
        by its country code, that contradicts every one of them leaves the name open (the
        place or the domain decides); a domain of another known institution does not (it is
        often that of another affiliation in the string)."""
        ents = self.gaz.entities
        for want in (hint[0] if hint else None, dom_cc):
            if want is not None:
                pick = [i for i in ambiguous if _same(ents[i][1], want)]
                exact = [i for i in pick if ents[i][1] == want]
                if exact or pick:
                    return (exact or pick)[0]
        if dom_entity is not None and dom_entity in ambiguous:
            return dom_entity
        if hint is not None or (dom_cc is not None and dom_entity is None):
            return None
        pick = [i for i in ambiguous if ents[i][1] in context]
        if len(pick) == 1:
            return pick[0]
        sup = sorted(ambiguous, key=lambda i: -self.gaz.support[i])
        if self.gaz.support[sup[0]] >= 2 * max(1, self.gaz.support[sup[1]]):
            return sup[0]
        return None

    def _key_country(
        self, candidates: list[tuple[int, Any, Any, str]]
    ) -> tuple[str, int, str] | None:
        """A country named at the end of a matched key ("Zhejiang University, China" is a
        learned alias): a place hint for choosing among the named institutions."""
        names = self.gaz.country_names
        for cand in candidates:
            toks = cand[3].split(" ")
            for n in (1, 2, 3):
                if len(toks) > n:
                    tail = " ".join(toks[-n:])
                    if tail in names:
                        return (names[tail], 3, tail)
        return None

    def _best_candidate(
        self,
        candidates: list[tuple[int, Any, Any, str]],
        hint: tuple[str, int, str] | None,
        dom_entity: int | None,
        dom_cc: str | None,
    ) -> tuple[int, Any, Any, str]:
        """The institution a part names: agreeing with the domain or place hint, known from
        labelled data, named by a name rather than by a unit's alias, named twice, then the
        first mentioned."""
        if len(candidates) == 1:
            return candidates[0]
        ents = self.gaz.entities
        support = self.gaz.support
        hint_cc = hint[0] if hint else None
        named: dict[int, int] = {}
        for kind, a, _b, _key in candidates:
            if kind != AMBIGUOUS:
                named[a] = named.get(a, 0) + 1
        best, best_score = candidates[0], -1
        for cand in candidates:
            kind, a, b, key = cand
            idxs = a if kind == AMBIGUOUS else (a,)
            ccs = {b} if kind == SITE else {ents[i][1] for i in idxs}
            score = 0
            if dom_entity is not None and dom_entity in idxs:
                score += 8
            if dom_cc is not None and dom_cc in ccs:
                score += 2
            if hint_cc is not None and hint_cc in ccs:
                score += 2
            if any(support[i] > 0 for i in idxs):
                score += 1
            if not self._unit_alias(key, idxs):
                score += 2  # a name, even one no label has seen, says more than a unit
            if kind != AMBIGUOUS and named[a] > 1:
                score += 1  # named twice ("BNRist Center, ..., Tsinghua University")
            if score > best_score:
                best, best_score = cand, score
        return best

    def _unit_alias(self, key: str, idxs: tuple[int, ...]) -> bool:
        """Whether ``key`` names only a unit ("department of philosophy", "smart robotics
        lab") and shares no word with its organisation's name: an alias learned from labels
        that says less than a name does ("Dept. of Philosophy, Utrecht University" is
        Utrecht, "Smart Robotics Lab, Imperial College London" is Imperial)."""
        toks = key.split()
        if toks[0] not in _UNIT_WORDS and toks[-1] not in _UNIT_WORDS:
            return False
        for i in idxs:
            words = self._name_words.get(i)
            if words is None:
                words = self._name_words[i] = frozenset(tokens(self.gaz.entities[i][0]))
            if any(t in words for t in toks if t not in GENERIC):
                return False
        return True

    def resolve(self, affiliation: str | None, domain: str | None = None) -> Resolution:
        """Resolve one affiliation string (``+`` joins several) with an optional email domain.

        Never raises on odd input: empty, huge or garbled strings give an empty resolution.
        """
        dom = parse_domain(domain) if domain else None
        parts = split_parts((affiliation or "")[:MAX_CHARS])[:MAX_PARTS]
        if not parts and dom is None:
            return Resolution(evidence=["empty affiliation"], countries=[])
        parts = self._split_and(parts) if parts else [""]
        results = [self._part_cached(p, dom, i == 0) for i, p in enumerate(parts)]
        if len(results) > 1 and any(r.open_name for r in results):
            # "Northeastern University + Shenyang Institute of Automation": a shared name with
            # no hint of its own is read in the light of the other parts' countries
            for i, r in enumerate(results):
                if r.open_name:
                    ctx = frozenset(
                        o.country for j, o in enumerate(results) if j != i and o.country
                    )
                    if ctx:
                        results[i] = self._part(parts[i], dom, i == 0, ctx)
        primary = results[0]
        gaz = self.gaz
        res = Resolution(countries=[r.country for r in results], method=primary.method)
        res.country = primary.country
        res.evidence = primary.evidence or ["nothing recognised"]
        for r in results[1:]:
            ent = gaz.entities[r.entity] if r.entity is not None else None
            res.other_parts.append((ent[0] if ent else None, r.country, ent[2] if ent else None))
        if primary.entity is not None:
            name, _cc, sector, iid, _m = gaz.entities[primary.entity]
            res.institution, res.institution_id, res.sector = name, iid, sector
        res.confidence = self.confidence(primary.method) if res.country else 0.0
        if primary.method == "hq-fallback" and primary.entity is not None:
            # at most the share of the organisation's labelled sightings at its headquarters
            res.hq_fallback = True
            share = gaz.hq_share.get(primary.entity, PRIOR["hq-fallback"])
            res.confidence = round(min(res.confidence, share), 4)
        return res

    def _part_cached(self, part: str, dom: DomainInfo | None, use_domain: bool) -> _Part:
        # Parts recur across distinct pairs (the same lab with many domains): decide once.
        key = (part, dom.domain if (use_domain and dom is not None) else None)
        hit = self._decided.get(key)
        if hit is None:
            hit = self._part(part, dom, use_domain)
            if len(self._decided) < 500_000:
                self._decided[key] = hit
        return hit

    def _split_and(self, parts: list[str]) -> list[str]:
        """Split parts joined by " and " / ";" where both sides name an organisation.

        The words right after each joiner (up to the next comma) must name one: "Google
        Research and Kyoto University" splits, while "Department of Statistics and
        Bioinformatics, Ghent University" stays whole.
        """
        out: list[str] = []
        for part in parts:
            if ";" not in part and "&" not in part and " and " not in part.lower():
                out.append(part)
                continue
            pieces = [p for p in _AND.split(part) if p.strip()]
            if (
                len(pieces) > 1
                and tokens(pieces[0])[:1] != []
                and tokens(pieces[0])[0] not in GENERIC
                and not any(" and " in f[3] for f in self._match(part)[0] if f[0] != PLACE)
                and all(self._names_org(p) for p in pieces)
                and all(self._names_org((segments(p) or [p])[0]) for p in pieces[1:])
            ):
                out.extend(pieces)
            else:
                out.append(part)
        return out

    def _names_org(self, piece: str) -> bool:
        found, _ = self._match(piece)
        return any(kind in (ENTITY, SITE, AMBIGUOUS) for kind, *_ in found)

    def confidence(self, method: str) -> float:
        """Calibrated probability that a country decided by ``method`` is right."""
        cal = self.gaz.calibration
        if method in cal:
            return cal[method]
        base = method.split("|", 1)[0]
        return cal.get(base, PRIOR.get(base, 0.5))

    def explain(self, affiliation: str, domain: str | None = None) -> list[str]:
        """Human-readable lines: parts, what matched in each, and the decision."""
        lines = []
        text = clean(affiliation or "")[:MAX_CHARS]
        parts = self._split_and(split_parts(text)) or [""]
        dom = parse_domain(domain) if domain else None
        for i, p in enumerate(parts):
            found, segs = self._match(p)
            r = self._part(p, dom, i == 0)
            lines.append(f"part {i}: {p!r} -> country {r.country} via {r.method}")
            lines.append(f"  segments: {segs}")
            for kind, a, b, key in found:
                lines.append(f"  match {_KIND[kind]} {key!r}: {self._describe(kind, a, b)}")
            lines.extend(f"  evidence: {e}" for e in r.evidence)
        return lines

    def _describe(self, kind: int, a: Any, b: Any) -> str:
        ents = self.gaz.entities
        if kind == ENTITY:
            return f"{ents[a][0]} ({ents[a][1]}, {ents[a][2]})"
        if kind == SITE:
            return f"{ents[a][0]} site in {b}"
        if kind == AMBIGUOUS:
            return "; ".join(f"{ents[i][0]} ({ents[i][1]})" for i in a)
        return f"{a} (rank {b})"


_KIND = {ENTITY: "institution", AMBIGUOUS: "ambiguous", SITE: "site", PLACE: "place"}


def _same(a: str, b: str) -> bool:
    greater_china = ("CN", "HK", "MO", "TW")
    return a == b or (a in greater_china and b in greater_china)


_PREFIXES: dict[int, tuple[Gazetteer, frozenset[str]]] = {}


def key_prefixes(gaz: Gazetteer) -> frozenset[str]:
    """Every proper token prefix of a gazetteer key ("university of" for "university of oslo").

    Computed once per gazetteer object (a fraction of a second) and shared by its resolvers.
    """
    cached = _PREFIXES.get(id(gaz))
    if cached is not None and cached[0] is gaz:
        return cached[1]
    out: set[str] = set()
    for key in gaz.keys:
        pos = key.find(" ")
        while pos > 0:
            out.add(key[:pos])
            pos = key.find(" ", pos + 1)
    prefixes = frozenset(out)
    _PREFIXES[id(gaz)] = (gaz, prefixes)
    return prefixes


def _split_cjk(toks: list[str], keys: dict[str, Any]) -> list[str]:
    """Cut runs of CJK characters at the longest known keys (no spaces in those scripts)."""
    out: list[str] = []
    for tok in toks:
        if not has_cjk(tok):
            out.append(tok)
            continue
        i = 0
        while i < len(tok):
            for j in range(len(tok), i, -1):
                if tok[i:j] in keys:
                    out.append(tok[i:j])
                    i = j
                    break
            else:
                j = i + 1
                while j < len(tok) and not any(
                    tok[j:k] in keys for k in range(j + 1, len(tok) + 1)
                ):
                    j += 1
                out.append(tok[i:j])
                i = j
    return out
