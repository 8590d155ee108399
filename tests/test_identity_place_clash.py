"""Evidence against a weak link from the person's venue-year (``identity/place_clash.py``).

"Yu Liu" (person ``P``) has identified papers at NeurIPS 2023 from SenseTime. Records without
ids were attached to P by the weak rules; the rule takes back the ones that name another
institution at the same venue-year, unless the e-mail domain agrees or P's institution is on
the record's own paper.
"""

from __future__ import annotations

import ibis
import pandas as pd

from talentflow.identity.evidence import REFUSED
from talentflow.identity.place_clash import refuse_place_clashes

P = "openreview:~Yu_Liu3"
UNIQUE = "unique name;name:13.5"


def _run(
    records: list[tuple],
    extra_members: dict[str, str] | None = None,
    more_domains: dict[str, str] | None = None,
) -> pd.DataFrame:
    """``records``: (authorship_id, person_key, rule, p, evidence, paper, venue, year,
    institution, domain). Every record is its own entity unless ``extra_members`` maps it to
    another entity id; ``more_domains`` gives a record a second e-mail domain (a place row
    more, as :func:`place_clash.places_of` makes)."""
    con = ibis.duckdb.connect()
    cols = ["authorship_id", "person_key", "rule", "match_probability", "cluster_evidence"]
    asg = pd.DataFrame([r[:5] for r in records], columns=cols)
    places = pd.DataFrame(
        [(r[0], r[5], r[6], r[7], r[8], r[9]) for r in records]
        + [
            (r[0], r[5], r[6], r[7], r[8], (more_domains or {})[r[0]])
            for r in records
            if r[0] in (more_domains or {})
        ],
        columns=["authorship_id", "paper_id", "venue", "year", "institution", "domain"],
    )
    entity = {r[0]: (extra_members or {}).get(r[0], r[0]) for r in records}
    for aid, key, rule, *_ in records:
        if rule == "identifier":
            entity[aid] = key
    members = pd.DataFrame({"authorship_id": list(entity), "entity_id": list(entity.values())})
    out = refuse_place_clashes(
        con.create_table(
            "asg", asg.astype({"match_probability": "float64", "cluster_evidence": "string"})
        ),
        con.create_table(
            "places", places.astype({"year": "int64", "institution": "string", "domain": "string"})
        ),
        con.create_table("members", members),
        attach_threshold=0.5,
    ).execute()
    return out.set_index("authorship_id")


def _anchor(aid: str, paper: str, venue: str = "neurips", inst: str = "SenseTime") -> tuple:
    return (aid, P, "identifier", None, None, paper, venue, 2023, inst, "sensetime.com")


def _weak(
    aid: str,
    paper: str,
    place: tuple[str | None, str | None],
    *,
    venue: str = "neurips",
    year: int = 2023,
    evidence: str = UNIQUE,
    p: float = 0.02,
) -> tuple:
    """A record attached to P (by the unique-name rule unless ``evidence`` says otherwise)."""
    return (aid, P, "splink", p, evidence, paper, venue, year, *place)


def _bystander(aid: str, paper: str, inst: str) -> tuple:
    """A co-author's slot on ``paper``, not attached to P."""
    return (aid, "other", "singleton", None, None, paper, "neurips", 2023, inst, None)


def test_a_second_domain_of_the_record_keeps_the_link() -> None:
    """A record that lists two positions (MBZUAI+SenseTime) shares the person's domain through
    its second one."""
    mbzuai = ("Mohamed bin Zayed University of Artificial Intelligence", "mbzuai.ac.ae")
    records = [_anchor("a1", "p1"), _weak("w1", "p2", mbzuai)]
    assert _run(records).loc["w1", "person_key"] == "w1"
    kept = _run(records, more_domains={"w1": "sensetime.com"})
    assert kept.loc["w1", "person_key"] == P


def test_places_hold_one_row_per_domain() -> None:
    from talentflow.identity.place_clash import places_of

    con = ibis.duckdb.connect()
    feats = pd.DataFrame(
        {
            "authorship_id": ["x", "y"],
            "paper_id": ["p", "q"],
            "venue": ["colm", "colm"],
            "year": [2025, 2025],
            "domain": ["mbzuai.ac.ae", "cmu.edu"],
            "more_domains": [["petuum.com"], None],
        }
    )
    auth = pd.DataFrame(
        {"authorship_id": ["x", "y"], "venue": ["colm"] * 2, "institution": ["MBZUAI", "CMU"]}
    )
    rows = places_of(con.create_table("a", auth), con.create_table("f", feats)).execute()
    got = sorted(zip(rows.authorship_id, rows.domain, strict=True))
    assert got == [("x", "mbzuai.ac.ae"), ("x", "petuum.com"), ("y", "cmu.edu")]


def test_a_weak_link_to_another_institution_of_the_venue_year_is_taken_back() -> None:
    donghua = ("Donghua University", "dhu.edu.cn")
    out = _run([_anchor("a1", "p1"), _weak("w1", "p2", donghua), _bystander("b", "p2", donghua[0])])
    assert out.loc["w1", "person_key"] == "w1"
    assert out.loc["w1", "rule"] == "singleton"
    assert pd.isna(out.loc["w1", "match_probability"])
    assert out.loc["w1", "cluster_evidence"] == REFUSED + P
    assert out.loc["a1", "person_key"] == P


def test_the_same_domain_or_the_persons_institution_on_the_paper_keeps_the_link() -> None:
    out = _run(
        [
            _anchor("a1", "p1"),
            # The same e-mail domain: the institution was resolved differently.
            _weak("w1", "p2", ("SenseTime Research", "sensetime.com")),
            # SenseTime is on the record's own paper (a co-author's slot).
            _weak("w2", "p3", ("Zhejiang University", "zju.edu.cn"), evidence="second round;x"),
            _bystander("b", "p3", "SenseTime"),
        ]
    )
    assert out.loc["w1", "person_key"] == P
    assert out.loc["w2", "person_key"] == P


def test_only_weak_links_at_the_same_venue_year_are_checked() -> None:
    alibaba = ("Alibaba Group", "alibaba-inc.com")
    bytedance = ("ByteDance", "bytedance.com")
    out = _run(
        [
            _anchor("a1", "p1"),
            # At another venue of the year: people move between submission rounds.
            _weak("w1", "p2", alibaba, venue="icml"),
            # At another year.
            _weak("w2", "p3", alibaba, year=2022),
            # A plain link at attach_threshold is evidence of its own, not checked.
            _weak("s1", "p4", bytedance, evidence="name:13.5;coauthors:8.0", p=0.9),
            # Adopted with its group through a linked record: weak, checked (against s1).
            _weak("g1", "p5", bytedance, evidence="via linked authorships", p=0.3),
            # No institution resolved: nothing to compare.
            _weak("w3", "p6", (None, None)),
            # Adopted, at another place than a1 and s1: taken back.
            _weak("g2", "p7", alibaba, evidence="via linked authorships", p=0.3),
        ]
    )
    for aid in ("w1", "w2", "s1", "w3", "g1"):
        assert out.loc[aid, "person_key"] == P, aid
    assert out.loc["g2", "person_key"] == "g2"


def test_a_weak_link_needs_an_anchored_place_to_clash_with() -> None:
    out = _run(
        [
            # The person's only records of the venue-year are weak themselves, or have no
            # institution.
            _weak("w1", "p1", ("SenseTime", None)),
            _weak("w2", "p2", ("Fudan University", None)),
            ("x1", P, "identifier", None, None, "p0", "neurips", 2023, None, None),
        ]
    )
    assert (out.person_key == P).all()


def test_a_refused_cluster_of_hashed_emails_leaves_whole() -> None:
    mail = "email:abc"
    fudan = ("Fudan University", "fudan.edu.cn")
    out = _run(
        [_anchor("a1", "p1"), _weak("e1", "p2", fudan), _weak("e2", "p3", fudan, venue="iclr")],
        extra_members={"e1": mail, "e2": mail},
    )
    assert out.loc["e1", "person_key"] == mail
    assert out.loc["e2", "person_key"] == mail
    assert set(out.loc[["e1", "e2"], "rule"]) == {"identifier"}
