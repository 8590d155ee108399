"""How common a name is from its parts (``identity/name_parts.py``), and the unique-name
rule refusing a name whose parts are common (``unique_name_parts_holders``)."""

from __future__ import annotations

import ibis
import pytest

from talentflow.identity import decide
from talentflow.identity.name_parts import parts_holders
from tests.test_identity_decide import _identified, _kartik_pair, _strength
from tests.test_identity_link import row


def test_parts_holders_multiplies_the_shares_of_given_and_family_name() -> None:
    # Four identified people; "wei zhang" would be held by 4 x 2/4 x 2/4 = 1 of them if
    # given and family names were independent, "wei li" by 4 x 2/4 x 1/4 = 0.5, a name with
    # a part no identified person holds by none. Identified people and unnamed entities get
    # no row.
    names = [
        "wei zhang", "li zhang", "wei chen", "jun li",
        "wei zhang", "wei li", "geoffrey gordon", None,
    ]  # fmt: skip
    keys = ibis.memtable(
        {
            "entity_id": ["p1", "p2", "p3", "p4", "f1", "f2", "f3", "f4"],
            "is_cluster": [True] * 4 + [False] * 4,
            "first": [n and n.split()[0] for n in names],
            "last": [n and n.split()[-1] for n in names],
        }
    )
    out = parts_holders(keys).to_pyarrow().to_pydict()
    got = dict(zip(out["entity_id"], out["parts_holders"], strict=True))
    assert got == {"f1": pytest.approx(1.0), "f2": pytest.approx(0.5), "f3": 0.0}


def _kartik(parts: float, institutions: float, params=None) -> dict[str, dict[str, object]]:
    """The free "Kartik Ahuja" ``f1#0`` and the one identified person of that name (seen on
    two papers), the name alone at probability 0.05; its parts predict ``parts`` holders,
    and the institutions weigh ``institutions`` bits (< 0: the record names another
    institution than the person's; 0: no institution to compare)."""
    rows = [
        row("k1#0", "Kartik Ahuja", spid="openreview:~Kartik_Ahuja1", year=2021),
        row("k2#0", "Kartik Ahuja", spid="openreview:~Kartik_Ahuja1", year=2022),
        row("z1#0", "Zoe Brand", spid="openreview:~Zoe_Brand1", year=2022),
        row("f1#0", "Kartik Ahuja", year=2023),
    ]
    con, feats, ids, cl = _identified(rows)
    clusters = con.create_table("clusters", cl.join(_strength(cl, ids), "cluster_key"))
    pair = {**_kartik_pair(0.05, 1 / 2), "mw_institutions": [institutions]}
    pairs = con.create_table("pairs", ibis.memtable(pair))
    name_parts = con.create_table(
        "parts", ibis.memtable({"entity_id": ["f1#0"], "parts_holders": [parts]})
    )
    out = decide.assign(feats, clusters, pairs, params=params, name_parts=name_parts)
    return {r["authorship_id"]: r for r in out.to_pyarrow().to_pylist()}


def test_a_name_common_by_its_parts_at_another_institution_is_not_enough_alone() -> None:
    most = decide.DEFAULTS["unique_name_parts_holders"]
    assert most > 0
    person = "openreview:~Kartik_Ahuja1"
    rare = _kartik(most / 10, -1.4)
    assert rare["f1#0"]["person_key"] == person
    assert rare["f1#0"]["cluster_evidence"].startswith("unique name;")
    common = _kartik(most * 10, -1.4)
    assert common["f1#0"]["rule"] == "singleton"
    # Without an institution to compare, the name alone still links it ...
    assert _kartik(most * 10, 0.0)["f1#0"]["person_key"] == person
    # ... and so it does with the guard turned off.
    off = _kartik(most * 10, -1.4, {"unique_name_parts_holders": 0})
    assert off["f1#0"]["person_key"] == person
