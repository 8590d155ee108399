"""Vectorised draws of persons, careers and author slots for one block of the corpus.

A block is a set of persons whose slots are grouped into works among themselves (co-authors
never cross blocks), so blocks are independent: each is drawn from its own seeded generator and
memory stays bounded by the block size.

The model, per person:

- slots (papers) ~ 1 + discretised log-normal (heavy tail: most people have one or two papers),
- career length grows with output (``1 + slots**0.6`` years, jittered, at most 45),
- the career ends near the last year (exponential gap) so recent years are denser,
- moves ~ Poisson(``move_rate`` x career years), at most ``max_spells - 1``; each new spell is at
  an institution of the same country (``same_country``), back in the first country
  (``return_home``) or anywhere (institution weights Zipf in the real rank order),
- each slot is at a uniform year of the career, at the institution of the spell of that year.

Works are formed by sorting the block's slots by year then (mostly) institution and cutting the
sequence into author lists of 1 + Poisson(3.2) slots, so co-authors share a year and often an
institution.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from talentflow.synth.pool import Pools, country_ranges


@dataclass(frozen=True)
class SynthParams:
    """Distribution parameters of the synthetic corpus (all recorded in ``synth.meta``)."""

    first_year: int = 1990
    last_year: int = 2025
    slots_mu: float = 0.3
    slots_sigma: float = 1.1
    max_slots: int = 400
    end_gap_scale: float = 4.0
    move_rate: float = 0.06
    max_spells: int = 4
    same_country: float = 0.5
    return_home: float = 0.2
    zipf_s: float = 1.0
    coauthors_mean: float = 3.2
    colocated: float = 0.6
    orcid_share: float = 0.45
    split_id_share: float = 0.03
    missing_aff_share: float = 0.07
    unmatched_share: float = 0.08
    second_aff_share: float = 0.05
    non_ai_share: float = 0.15


@dataclass
class Sampler:
    """Precomputed cumulative weights for fast weighted draws from the pools."""

    inst_cw: np.ndarray
    inst_country: np.ndarray
    country_start: np.ndarray
    country_end: np.ndarray
    var_cw: np.ndarray
    var_start: np.ndarray
    var_end: np.ndarray
    n_first: int
    n_last: int

    @classmethod
    def from_pools(cls, pools: Pools, params: SynthParams) -> Sampler:
        inst = pools.institutions
        weight = inst.column("weight").to_numpy().astype(float)
        # Zipf weights by the real rank (rank 1 = most slots in the real data).
        rank = np.empty(len(weight))
        rank[np.argsort(-weight, kind="stable")] = np.arange(1, len(weight) + 1)
        inst_cw = np.cumsum(rank ** (-params.zipf_s))
        country, starts, ends = country_ranges(inst)
        var_inst = pools.variants.column("inst_idx").to_numpy()
        var_w = pools.variants.column("weight").to_numpy().astype(float)
        idx = np.arange(len(weight))
        return cls(
            inst_cw=inst_cw,
            inst_country=country,
            country_start=starts,
            country_end=ends,
            var_cw=np.cumsum(var_w),
            var_start=np.searchsorted(var_inst, idx, side="left"),
            var_end=np.searchsorted(var_inst, idx, side="right"),
            n_first=pools.first_names.num_rows,
            n_last=pools.last_names.num_rows,
        )

    def draw_in_range(
        self, cw: np.ndarray, lo: np.ndarray, hi: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        """Weighted draw of an index in ``[lo, hi)`` per row (cumulative weights ``cw``)."""
        base = np.where(lo > 0, cw[np.maximum(lo - 1, 0)], 0.0)
        top = cw[hi - 1]
        u = base + rng.random(len(lo)) * (top - base)
        return np.minimum(np.searchsorted(cw, u, side="right"), hi - 1)

    def institutions(self, n: int, rng: np.random.Generator) -> np.ndarray:
        lo = np.zeros(n, dtype=np.int64)
        hi = np.full(n, len(self.inst_cw), dtype=np.int64)
        return self.draw_in_range(self.inst_cw, lo, hi, rng)

    def institutions_in_country_of(self, inst: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        c = self.inst_country[inst]
        return self.draw_in_range(self.inst_cw, self.country_start[c], self.country_end[c], rng)

    def variants(self, inst: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return self.draw_in_range(self.var_cw, self.var_start[inst], self.var_end[inst], rng)


def draw_block(
    n_slots: int,
    *,
    person_offset: int,
    work_offset: int,
    sampler: Sampler,
    params: SynthParams,
    rng: np.random.Generator,
) -> tuple[pa.Table, pa.Table, int]:
    """Draw ``n_slots`` author slots; return ``(slots, works, n_persons)`` as Arrow tables.

    ``slots``: work (global work number), pos, person (global number), author_num (OpenAlex
    author number; a few persons are split into two ids, as OpenAlex sometimes does), first, last
    (name pool indices), orcid (16-digit string or null), inst, inst2 (institution indices, -1
    for none), var, var2 (string variant indices, -1 for none), matched (bool: OpenAlex matched
    the string to its institution).
    ``works``: work, year, venue (index into the venue list), is_ai.
    """
    p = params
    # Persons and their slot counts, enough to cover n_slots (the last one is truncated).
    mean = 1 + np.exp(p.slots_mu + p.slots_sigma**2 / 2)
    n_persons = int(n_slots / mean * 1.2) + 16
    k = 1 + np.floor(rng.lognormal(p.slots_mu, p.slots_sigma, n_persons)).astype(np.int64)
    k = np.minimum(k, p.max_slots)
    cum = np.cumsum(k)
    while cum[-1] < n_slots:  # rare: draw more persons
        more = 1 + np.floor(rng.lognormal(p.slots_mu, p.slots_sigma, n_persons)).astype(np.int64)
        k = np.r_[k, np.minimum(more, p.max_slots)]
        cum = np.cumsum(k)
    n_persons = int(np.searchsorted(cum, n_slots) + 1)
    k = k[:n_persons].copy()
    k[-1] -= int(cum[n_persons - 1] - n_slots)

    # Careers.
    span = p.last_year - p.first_year + 1
    length = np.clip(
        np.rint((1 + k**0.6) * rng.lognormal(0.0, 0.35, n_persons)), 1, min(45, span)
    ).astype(np.int64)
    end = p.last_year - np.floor(rng.exponential(p.end_gap_scale, n_persons)).astype(np.int64)
    start = np.maximum(end - length + 1, p.first_year)
    end = np.maximum(end, start)
    length = end - start + 1

    # Spells: move years (sorted, 9999 = no move) and the institution of each spell.
    n_moves = np.minimum(rng.poisson(p.move_rate * (length - 1)), p.max_spells - 1)
    n_moves = np.where(length > 1, n_moves, 0)
    mv = (
        start[:, None]
        + 1
        + np.floor(
            rng.random((n_persons, p.max_spells - 1)) * np.maximum(length - 1, 1)[:, None]
        ).astype(np.int64)
    )
    mv.sort(axis=1)
    mv = np.where(np.arange(p.max_spells - 1)[None, :] < n_moves[:, None], mv, 9999)
    spells = np.empty((n_persons, p.max_spells), dtype=np.int64)
    spells[:, 0] = sampler.institutions(n_persons, rng)
    for j in range(1, p.max_spells):
        anywhere = sampler.institutions(n_persons, rng)
        same = sampler.institutions_in_country_of(spells[:, j - 1], rng)
        home = sampler.institutions_in_country_of(spells[:, 0], rng)
        r = rng.random(n_persons)
        nxt = np.where(r < p.same_country, same, anywhere)
        if j >= 2:
            back = (r >= p.same_country) & (r < p.same_country + p.return_home)
            nxt = np.where(back, home, nxt)
        spells[:, j] = nxt

    # Slots.
    person = np.repeat(np.arange(n_persons), k)
    year = start[person] + np.floor(rng.random(n_slots) * length[person]).astype(np.int64)
    spell = (year[:, None] >= mv[person]).sum(axis=1)
    inst = spells[person, spell]

    # Works: sort by year, then institution for co-located slots (random key for the others).
    key = np.where(
        rng.random(n_slots) < p.colocated, inst, rng.integers(0, len(sampler.inst_cw), n_slots)
    )
    # A person's several slots of one year go to different occurrence groups (occ), so
    # a prolific person is not listed twice on one work.
    by_py = np.lexsort((year, person))
    py = person[by_py] * 10_000 + year[by_py]
    new_group = np.r_[True, py[1:] != py[:-1]]
    group_start = np.maximum.accumulate(np.where(new_group, np.arange(n_slots), 0))
    occ = np.empty(n_slots, dtype=np.int64)
    occ[by_py] = np.arange(n_slots) - group_start
    order = np.lexsort((rng.random(n_slots), key, occ, year))
    person, year, inst = person[order], year[order], inst[order]
    sizes = 1 + rng.poisson(p.coauthors_mean, int(n_slots / (1 + p.coauthors_mean)) + 64)
    csum = np.cumsum(sizes)
    while csum[-1] < n_slots:
        sizes = np.r_[sizes, 1 + rng.poisson(p.coauthors_mean, len(sizes))]
        csum = np.cumsum(sizes)
    n_works = int(np.searchsorted(csum, n_slots) + 1)
    sizes = sizes[:n_works].copy()
    sizes[-1] -= int(csum[n_works - 1] - n_slots)
    work_local = np.repeat(np.arange(n_works), sizes)
    first_of_work = np.r_[0, np.cumsum(sizes)[:-1]]
    pos = np.arange(n_slots) - first_of_work[work_local]
    work_year = year[first_of_work]

    # Identifiers and names (per person, then per slot).
    first = rng.integers(0, sampler.n_first, n_persons)
    last = rng.integers(0, sampler.n_last, n_persons)
    has_orcid = rng.random(n_persons) < p.orcid_share
    split = rng.random(n_persons) < p.split_id_share
    gperson = person_offset + person
    author_num = 5_000_000_000 + gperson
    author_num = np.where(
        split[person] & (rng.random(n_slots) < 0.5), author_num + 10**9, author_num
    )
    # Well-formed ORCID iDs in a synthetic number range; DuckDB formats them.
    orcid_base = 15_000_000 + gperson  # 0000-0001-5000-000x upwards
    orcid_slot = pa.array(orcid_base, mask=~has_orcid[person])

    # Affiliations: missing, unmatched by OpenAlex, a second one.
    missing = rng.random(n_slots) < p.missing_aff_share
    var = np.where(missing, -1, sampler.variants(inst, rng))
    matched = ~missing & (rng.random(n_slots) >= p.unmatched_share)
    inst_out = np.where(matched, inst, -1)
    second = ~missing & (rng.random(n_slots) < p.second_aff_share)
    inst2 = sampler.institutions(n_slots, rng)
    var2 = np.where(second, sampler.variants(inst2, rng), -1)
    inst2 = np.where(second & matched, inst2, -1)

    slots = pa.table(
        {
            "work": work_offset + work_local,
            "pos": pos,
            "n_authors": sizes[work_local],
            "person": gperson,
            "author_num": author_num,
            "first": first[person],
            "last": last[person],
            "orcid_base": orcid_slot,
            "orcid_check": orcid_check(orcid_base),
            "inst": inst_out,
            "inst2": inst2,
            "var": var,
            "var2": var2,
        }
    )
    works = pa.table(
        {
            "work": work_offset + np.arange(n_works),
            "year": work_year,
            "venue": rng.integers(0, 1 << 16, n_works),
            "is_ai": rng.random(n_works) >= p.non_ai_share,
        }
    )
    return slots, works, n_persons


def orcid_check(base: np.ndarray) -> np.ndarray:
    """ISO 7064 11-2 check digit (10 means ``X``) of 15-digit ORCID bodies."""
    digits = (base[:, None] // (10 ** np.arange(14, -1, -1, dtype=np.int64))[None, :]) % 10
    total = np.zeros(len(base), dtype=np.int64)
    for i in range(15):
        total = (total + digits[:, i]) * 2
    return (12 - total % 11) % 11
