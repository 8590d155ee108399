"""How common a first-last name is, estimated from its two parts.

The unique-name rule (:mod:`talentflow.identity.decide`) links a record to the one identified
person holding its first-last name, on the name alone. "Held by one identified person" is
counted in this corpus (about 90,000 identified people), which is small beside the world's
researchers: "Amy Zhang" or "Shen Li" may have one holder here and many elsewhere, while
"Geoffrey Gordon" has one in both. The parts tell them apart: the number of identified people
expected to hold the name if given names and family names were drawn independently,
``n × share(first) × share(last)``, is about 0.6 for "Amy Zhang" and 0.002 for "Geoffrey
Gordon" in this corpus. Counted on name strings only; nothing about a person is inferred
from their name.
"""

from __future__ import annotations

from typing import Any

import ibis


def parts_holders(keys: ibis.Table) -> ibis.Table:
    """``(entity_id, parts_holders)`` of the free entities of ``keys`` (the linkage's entity
    keys: ``entity_id``, ``is_cluster``, ``first``, ``last``): the identified people expected
    to hold the entity's first-last name from the shares of its given name and of its family
    name among identified people (``is_cluster``). A part no identified person holds gives
    0; an entity without a name gets no row."""
    named = keys.filter(keys.first.notnull() & keys.last.notnull())
    people = named.filter(named.is_cluster)
    n = float(max(int(people.count().execute()), 1))
    firsts = people.group_by("first").aggregate(n_first=ibis._.count())
    lasts = people.group_by("last").aggregate(n_last=ibis._.count())
    free = named.filter(~named.is_cluster).select("entity_id", "first", "last")
    j = free.left_join(firsts, "first").drop("first_right")
    j = j.left_join(lasts, "last").drop("last_right")
    expected = j.n_first.fill_null(0).cast("float64") * j.n_last.fill_null(0).cast("float64") / n
    return j.select("entity_id", parts_holders=expected)


def common_by_parts(best: ibis.Table, parts: ibis.Table, most: float) -> tuple[ibis.Table, Any]:
    """``best`` (one row per free entity ``free`` and its best candidate, with the pair's
    match weights) with its name's ``parts_holders``, and the condition that the unique-name
    rule refuses it: more than ``most`` identified people expected to hold the name from its
    parts, *and* the record names an institution the person's records do not
    (``mw_institutions`` < 0).

    A record without an institution keeps the rule: in this corpus those are mostly papers
    of years before affiliations were listed (NeurIPS 2005, ICLR 2019), and read by hand the
    ones a common-by-parts name would have lost were mostly the person's own (Yiming Yang,
    Pengfei Liu); a record at another institution is where namesakes were (Haiyang Wang at
    Shanghai Jiao Tong against the person's Peking University), and merged it makes a move
    nobody made."""
    out = best.left_join(parts.select(free=parts.entity_id, ph=parts.parts_holders), "free")
    out = out.drop("free_right")
    common = out.ph > most
    if "mw_institutions" in out.columns:
        common = common & (out.mw_institutions < 0)
    return out, common.fill_null(False)
