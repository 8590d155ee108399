"""Decision rules on hand-made inputs, without splink: id fragments and the unique-name rule.

Fast: identifier clusters and features are computed by the stage's own code on a few rows,
and the scored pairs of the unique-name cases are written by hand (the rule reads only the
pair's probability, weights and the names' term frequencies).
"""

from __future__ import annotations

import math

import ibis
import pytest

from talentflow.identity import decide, features, identifiers
from tests.test_identity_link import row, table


def _identified(rows):
    """The stage's features, trusted ids and identifier clusters of ``rows``, on a new
    connection: ``(con, features, ids, clusters)``."""
    con = ibis.duckdb.connect()
    con.create_table("a", table(rows).drop_columns(["truth"]))
    a = con.table("a")
    names = con.create_table("names", features.name_table(con, a))
    feats = con.create_table("feats", features.authorship_features(a, names, None))
    ids = con.create_table("ids", identifiers.trusted_ids(identifiers.authorship_ids(a), feats))
    return con, feats, ids, identifiers.identifier_clusters(con, a, ids=ids)


def _strength(cl, ids):
    """Cluster strength told by joining the ids to every authorship (the reference)."""
    return (
        cl.join(ids, "authorship_id")
        .group_by("cluster_key")
        .aggregate(strong=(~ids.pid.startswith("email:")).max())
    )


def _assign(
    rows, pairs=None, params=None, *, profiles=False, venue_years=False
) -> dict[str, dict[str, object]]:
    """Run identifiers, features and ``decide.assign`` as the stage does; rows by authorship.

    ``profiles``: the fragments read the profile flag from the cluster names, as the linkage
    passes them; ``venue_years``: the entities' venue-years made once beforehand, as the
    linkage passes them."""
    con, feats, ids, cl = _identified(rows)
    clusters = con.create_table("clusters", cl.join(_strength(cl, ids), "cluster_key"))
    if pairs is not None:
        pairs = con.create_table("pairs", ibis.memtable(pairs))
    extra = {}
    if profiles:
        extra["profiles"] = features.cluster_names(feats, clusters).select("cluster_key", "profile")
    if venue_years:
        members = con.create_table("members", decide.members_table(feats, clusters))
        places = feats.select("authorship_id", "venue", "year")
        vy = decide.entity_venue_years(places, members, None)
        extra["venue_years"] = con.create_table("vy", vy)
        extra["members"] = members
    out = decide.assign(feats, clusters, pairs, params=params, **extra).to_pyarrow().to_pylist()
    return {r["authorship_id"]: r for r in out}


def test_cluster_strength_per_distinct_id_matches_the_join() -> None:
    """``identifier_clusters(strength=True)`` tells strength from the components: the same
    as joining the ids to every authorship, for an e-mail-only cluster, a profile cluster and
    a cluster whose profile and e-mail meet on one authorship."""
    rows = [
        row("e1#0", "Ada Byron", spid="email:aaa"),
        row("e2#0", "Ada Byron", spid="email:aaa"),
        row("p1#0", "Alan Turing", spid="openreview:~Alan_Turing1"),
        row("m1#0", "Grace Hopper", spid="email:ggg", orcid="0000-0001-0000-0001"),
        row("m2#0", "Grace Hopper", spid="email:ggg"),
        row("m3#0", "Grace Hopper", spid="email:hhh", orcid="0000-0001-0000-0001"),
    ]
    con, _, ids, _ = _identified(rows)
    a = con.table("a")
    fast = identifiers.identifier_clusters(con, a, ids=ids, strength=True)
    plain = identifiers.identifier_clusters(con, a, ids=ids)
    slow = plain.join(_strength(plain, ids), "cluster_key")
    got = {r["authorship_id"]: r for r in fast.to_pyarrow().to_pylist()}
    want = {r["authorship_id"]: r for r in slow.to_pyarrow().to_pylist()}
    assert got == want
    assert got["e1#0"]["strong"] is False
    assert got["p1#0"]["strong"] is True
    assert {got[k]["strong"] for k in ("m1#0", "m2#0", "m3#0")} == {True}
    assert len({got[k]["cluster_key"] for k in ("m1#0", "m2#0", "m3#0")}) == 1


def _paper(pid: str, year: int, people: list[tuple[str, str | None]], aff: str | None = None):
    """Rows of one paper: ``(name, id)`` per author, in order."""
    return [
        row(f"{pid}#{i}", name, year=year, spid=pid_, aff=aff)
        for i, (name, pid_) in enumerate(people)
    ]


ACL_GIMPEL = "acl:/k/kevin-gimpel/"
OR_GIMPEL = "openreview:~Kevin_Gimpel1"


@pytest.fixture(scope="module")
def fragments():
    rows = [
        # Kevin Gimpel: an ACL id on ACL papers, an OpenReview profile on ICLR papers, the
        # same co-authors (named without ids): one human.
        *_paper("q1", 2020, [("Kevin Gimpel", ACL_GIMPEL), ("Mohit Bansal", None)]),
        *_paper("q2", 2021, [("Kevin Gimpel", ACL_GIMPEL), ("Karen Livescu", None)]),
        *_paper("r1", 2022, [("Kevin Gimpel", OR_GIMPEL), ("Mohit Bansal", None)]),
        *_paper("r2", 2023, [("Kevin Gimpel", OR_GIMPEL), ("Karen Livescu", None)]),
        # Two OpenReview profiles of one name with shared co-authors: never merged.
        *_paper("s1", 2022, [("Yang Liu", "openreview:~Yang_Liu1"), ("Li Zhang", None)]),
        *_paper("s2", 2022, [("Yang Liu", "openreview:~Yang_Liu2"), ("Li Zhang", None)]),
        *_paper("s3", 2023, [("Yang Liu", "openreview:~Yang_Liu1"), ("Ke Xu", None)]),
        *_paper("s4", 2023, [("Yang Liu", "openreview:~Yang_Liu2"), ("Ke Xu", None)]),
        # An ACL "Yang Liu" sharing co-authors with both profiles: which one? Left alone.
        *_paper("s5", 2021, [("Yang Liu", "acl:/y/yang-liu/"), ("Li Zhang", None)]),
        *_paper("s6", 2021, [("Yang Liu", "acl:/y/yang-liu/"), ("Ke Xu", None)]),
        # One shared co-author and nothing else: not enough.
        *_paper("t1", 2020, [("Jun Xu", "acl:/j/jun-xu/"), ("Hang Li", None)], aff="Renmin"),
        *_paper("t2", 2022, [("Jun Xu", "openreview:~Jun_Xu1"), ("Hang Li", None)], aff="ETH"),
        # One shared co-author and the same institution: enough.
        *_paper("u1", 2020, [("Ana Costa", "acl:/a/ana-costa/"), ("Rui Lopes", None)], aff="IST"),
        *_paper("u2", 2022, [("Ana Costa", "openreview:~Ana_Costa1"), ("Rui Lopes", None)], "IST"),
    ]
    return _assign(rows)


def test_id_fragments_of_one_human_are_one_person(fragments) -> None:
    keys = {fragments[f"{p}#0"]["person_key"] for p in ("q1", "q2", "r1", "r2")}
    assert len(keys) == 1
    assert fragments["q1#0"]["rule"] == "identifier"
    assert "id fragment" in fragments["q1#0"]["cluster_evidence"]
    assert {fragments["u1#0"]["person_key"]} == {fragments["u2#0"]["person_key"]}


def test_fragments_with_profiles_from_cluster_names_decide_the_same() -> None:
    rows = [
        *_paper("q1", 2020, [("Kevin Gimpel", ACL_GIMPEL), ("Mohit Bansal", None)]),
        *_paper("r1", 2022, [("Kevin Gimpel", OR_GIMPEL), ("Mohit Bansal", None)]),
        *_paper("r2", 2023, [("Kevin Gimpel", OR_GIMPEL), ("Karen Livescu", None)]),
        *_paper("q2", 2021, [("Kevin Gimpel", ACL_GIMPEL), ("Karen Livescu", None)]),
        *_paper("u1", 2020, [("Ana Costa", "acl:/a/ana-costa/"), ("Rui Lopes", None)], aff="IST"),
        *_paper("u2", 2022, [("Ana Costa", "openreview:~Ana_Costa1"), ("Rui Lopes", None)], "IST"),
        *_paper("s1", 2022, [("Yang Liu", "openreview:~Yang_Liu1"), ("Li Zhang", None)]),
        *_paper("s5", 2021, [("Yang Liu", "acl:/y/yang-liu/"), ("Li Zhang", None)]),
    ]
    by_names = _assign(rows, profiles=True)
    assert by_names == _assign(rows)
    assert by_names["q1#0"]["person_key"] == by_names["r1#0"]["person_key"]
    assert "id fragment" in by_names["u1#0"]["cluster_evidence"]


def test_profiles_are_never_merged_and_ambiguous_fragments_stay_apart(fragments) -> None:
    keys = {p: fragments[f"{p}#0"]["person_key"] for p in ("s1", "s2", "s5")}
    assert len(set(keys.values())) == 3
    assert fragments["s1#0"]["person_key"] == fragments["s3#0"]["person_key"]
    assert fragments["t1#0"]["person_key"] != fragments["t2#0"]["person_key"]


def test_fragment_merging_can_be_turned_off() -> None:
    rows = [
        *_paper("q1", 2020, [("Kevin Gimpel", ACL_GIMPEL), ("Mohit Bansal", None)]),
        *_paper("q2", 2021, [("Kevin Gimpel", ACL_GIMPEL), ("Karen Livescu", None)]),
        *_paper("r1", 2022, [("Kevin Gimpel", OR_GIMPEL), ("Mohit Bansal", None)]),
        *_paper("r2", 2023, [("Kevin Gimpel", OR_GIMPEL), ("Karen Livescu", None)]),
    ]
    on = _assign(rows)
    off = _assign(rows, params={"fragment_coauthors": 0})
    assert on["q1#0"]["person_key"] == on["r1#0"]["person_key"]
    assert off["q1#0"]["person_key"] != off["r1#0"]["person_key"]


def _stub_world() -> list[dict]:
    """Jimeng Sun's placed profile, his stub profile and his ACL id sharing co-authors; a
    stub with one co-author in common; a stub whose co-authors two placed profiles share."""
    sun1, sun3 = "openreview:~Jimeng_Sun1", "openreview:~Jimeng_Sun3"
    return [
        *_paper("a1", 2021, [("Jimeng Sun", sun3), ("Cao Xiao", None), ("Fei Wang", None)], "UIUC"),
        *_paper("a2", 2022, [("Jimeng Sun", sun3), ("Cao Xiao", None)], aff="UIUC"),
        *_paper("b1", 2021, [("Jimeng Sun", sun1), ("Cao Xiao", None), ("Fei Wang", None)]),
        *_paper("c1", 2019, [("Jimeng Sun", "acl:/j/jimeng-sun/"), ("Cao Xiao", None)]),
        *_paper("c2", 2020, [("Jimeng Sun", "acl:/j/jimeng-sun/"), ("Fei Wang", None)]),
        # One co-author in common: not enough for a stub, which has no place to add.
        *_paper("d1", 2022, [("Mei Chen", "openreview:~Mei_Chen2"), ("Ed Li", None)], aff="MIT"),
        *_paper("d2", 2023, [("Mei Chen", "openreview:~Mei_Chen4"), ("Ed Li", None)]),
        # Two placed profiles share the stub's co-authors: whose? Left alone.
        *_paper("e1", 2022, [("Bo Han", "openreview:~Bo_Han1"), ("Tongliang Liu", None),
                             ("Gang Niu", None)], aff="HKBU"),
        *_paper("e2", 2022, [("Bo Han", "openreview:~Bo_Han2"), ("Tongliang Liu", None),
                             ("Gang Niu", None)], aff="RIKEN"),
        *_paper("e3", 2023, [("Bo Han", "openreview:~Bo_Han3"), ("Tongliang Liu", None),
                             ("Gang Niu", None)]),
    ]  # fmt: skip


def test_a_bare_profile_joins_the_profile_of_its_name_that_says_more() -> None:
    """A stub profile (an id and a name, no place on any record) is a fragment of the one
    profile of its name that says more and shares its co-authors; an ACL id that joined the
    stub follows it; a stub with one shared co-author, two placed candidates or another stub
    only stays apart; ``bare_profile_fragments=0`` keeps every stub apart."""
    rows = _stub_world()
    on = _assign(rows)
    key = on["a1#0"]["person_key"]
    assert on["b1#0"]["person_key"] == key
    assert "id fragment" in on["b1#0"]["cluster_evidence"]
    assert on["c1#0"]["person_key"] == on["c2#0"]["person_key"] == key
    assert on["d2#0"]["person_key"] != on["d1#0"]["person_key"]
    assert len({on[f"e{i}#0"]["person_key"] for i in (1, 2, 3)}) == 3
    off = _assign(rows, params={"bare_profile_fragments": 0})
    assert off["b1#0"]["person_key"] != off["a1#0"]["person_key"]


def _stub_fragments_on(con) -> list[dict]:
    from talentflow.identity.fragments import fragments
    from tests.test_identity_link import identified_on

    _, feats, ids, cl = identified_on(con, table(_stub_world()).drop_columns(["truth"]), "stub_")
    clusters = cl.join(_strength(cl, ids), "cluster_key")
    members = decide.members_table(feats, clusters)
    ent_papers = members.select("entity_id", "paper_id").distinct()
    got = fragments(feats, clusters, ent_papers, bare_profiles=True)
    return sorted(got.select("entity_id", "person_key").to_pyarrow().to_pylist(), key=str)


@pytest.mark.spark
def test_bare_profile_fragments_agree_on_duckdb_and_spark(spark_session_shared) -> None:
    on_duckdb = _stub_fragments_on(ibis.duckdb.connect())
    assert {r["entity_id"] for r in on_duckdb} == {"openreview:~Jimeng_Sun1", "acl:/j/jimeng-sun/"}
    assert {r["person_key"] for r in on_duckdb} == {"openreview:~Jimeng_Sun3"}
    assert _stub_fragments_on(ibis.pyspark.connect(spark_session_shared)) == on_duckdb


def _bridge_case(bridges: int, p: float = 0.95, params=None) -> dict[str, dict[str, object]]:
    """An ACL "Yoon Kim" and an OpenReview "Yoon Kim" with no co-author or place in common,
    and ``bridges`` unidentified "Yoon Kim" records each scored ``p`` against both."""
    rows = [
        *_paper("a1", 2019, [("Yoon Kim", "acl:/y/yoon-kim/"), ("Alexander Rush", None)]),
        *_paper("o1", 2022, [("Yoon Kim", "openreview:~Yoon_Kim1"), ("Jacob Andreas", None)]),
        *[row(f"f{k}#0", "Yoon Kim", year=2023) for k in range(bridges)],
    ]
    free = [f"f{k}#0" for k in range(bridges)]
    clusters = ["acl:/y/yoon-kim/", "openreview:~Yoon_Kim1"]
    pairs = {
        "entity_id_l": [f for f in free for _ in clusters],
        "entity_id_r": clusters * bridges,
        "is_cluster_l": [False] * 2 * bridges,
        "is_cluster_r": [True] * 2 * bridges,
        "match_probability": [p] * 2 * bridges,
        "match_weight": [math.log2(p / (1 - p))] * 2 * bridges,
    }
    return _assign(rows, pairs, params)


def test_a_fragment_and_a_profile_matching_the_same_records_are_one_person() -> None:
    # Two records that match both ids (each other's runner-up): merged, and the records
    # join the person instead of staying alone between two equal candidates.
    two = _bridge_case(2)
    assert two["a1#0"]["person_key"] == two["o1#0"]["person_key"] == "openreview:~Yoon_Kim1"
    assert "2 records matching both" in two["a1#0"]["cluster_evidence"]
    assert two["f0#0"]["person_key"] == "openreview:~Yoon_Kim1"
    # One such record, a weak score, or the rule turned off: apart.
    for case in (
        _bridge_case(1),
        _bridge_case(2, p=0.6),
        _bridge_case(2, params={"fragment_bridges": 0}),
    ):
        assert case["a1#0"]["person_key"] != case["o1#0"]["person_key"]
        assert case["f0#0"]["person_key"] not in {"openreview:~Yoon_Kim1", "acl:/y/yoon-kim/"}


def _unique_name_case(
    n_people_with_name: int, p: float, *, seen_once: bool = False, params=None
) -> dict[str, dict[str, object]]:
    """A free "Kartik Ahuja" scored against the one cluster of that name (hand-made pair)."""
    rows = [
        row("k1#0", "Kartik Ahuja", spid="openreview:~Kartik_Ahuja1", year=2021),
        row("k2#0", "Kartik Ahuja", spid="openreview:~Kartik_Ahuja1", year=2022),
        row("z1#0", "Zoe Brand", spid="openreview:~Zoe_Brand1", year=2022),
        row("z2#0", "Omar Haddad", spid="openreview:~Omar_Haddad1", year=2022),
        row("f1#0", "Kartik Ahuja", year=2023),
    ]
    if seen_once:
        rows = rows[1:]
    n_people = 3  # identified people in these rows
    tf = n_people_with_name / n_people
    return _assign(rows, _kartik_pair(p, tf), params)


def _kartik_pair(p: float, tf: float) -> dict[str, list]:
    """The hand-made scored pair of the free "Kartik Ahuja" ``f1#0`` and the person with ids:
    the exact name (term frequency ``tf``) at probability ``p``."""
    return {
        "entity_id_l": ["f1#0"],
        "entity_id_r": ["openreview:~Kartik_Ahuja1"],
        "is_cluster_l": [False],
        "is_cluster_r": [True],
        "match_probability": [p],
        "match_weight": [math.log2(p / (1 - p))],
        "mw_name": [13.9],
        "mw_tf_adj_name": [1.3],
        "tf_name_fl_l": [tf],
        "tf_name_fl_r": [tf],
    }


def test_a_unique_name_joins_its_only_holder() -> None:
    out = _unique_name_case(1, 0.05)
    assert out["f1#0"]["person_key"] == "openreview:~Kartik_Ahuja1"
    assert out["f1#0"]["cluster_evidence"].startswith("unique name")


def test_a_shared_name_or_a_weak_score_does_not_join_by_name_alone() -> None:
    shared = _unique_name_case(3, 0.05)
    assert shared["f1#0"]["rule"] == "singleton"
    weak = _unique_name_case(1, decide.DEFAULTS["unique_name_threshold"] / 2)
    assert weak["f1#0"]["rule"] == "singleton"


def test_a_unique_name_seen_once_elsewhere_is_not_enough() -> None:
    # One paper, at another venue (no venue weight in the pair): the name alone.
    once = _unique_name_case(1, 0.05, seen_once=True)
    assert once["f1#0"]["rule"] == "singleton"
    lenient = _unique_name_case(1, 0.05, seen_once=True, params={"unique_name_support": 0})
    assert lenient["f1#0"]["person_key"] == "openreview:~Kartik_Ahuja1"


def test_a_common_name_needs_more_shared_evidence() -> None:
    # Five identified "Wei Zhang"s; an ACL "Wei Zhang" shares two co-author names with one
    # of them (enough for a rare name, not for this one) and, in a second world, also an
    # institution.
    others = [
        row(f"o{k}#0", "Wei Zhang", spid=f"openreview:~Wei_Zhang{k}", year=2022, aff=f"Lab {k}")
        for k in range(2, 6)
    ]
    base = [
        *others,
        *_paper("w1", 2022, [("Wei Zhang", "openreview:~Wei_Zhang1"), ("Jun Li", None)], "A"),
        *_paper("w2", 2023, [("Wei Zhang", "openreview:~Wei_Zhang1"), ("Lei Wu", None)], "A"),
        *_paper("v1", 2020, [("Wei Zhang", "acl:/w/wei-zhang/"), ("Jun Li", None)], "B"),
    ]
    two_coauthors = [
        *base,
        *_paper("v2", 2021, [("Wei Zhang", "acl:/w/wei-zhang/"), ("Lei Wu", None)], "B"),
    ]
    and_a_place = [
        *base,
        *_paper("v2", 2021, [("Wei Zhang", "acl:/w/wei-zhang/"), ("Lei Wu", None)], "A"),
    ]
    apart = _assign(two_coauthors)
    assert apart["v1#0"]["person_key"] != apart["w1#0"]["person_key"]
    joined = _assign(and_a_place)
    assert joined["v1#0"]["person_key"] == joined["w1#0"]["person_key"]


def _name_counts(rows) -> dict[str, float]:
    """How many people hold each first-last name, as ``model.name_frequencies`` counts them."""
    from talentflow.identity import link, model

    con, feats, _, cl = _identified(rows)
    clusters = con.create_table("clusters", cl.mutate(strong=True))
    cluster_names = con.create_table("cn", features.cluster_names(feats, clusters))
    unclustered = feats.anti_join(clusters, "authorship_id")
    con.create_table("keys", link._entity_keys(unclustered, clusters, cluster_names))
    tf = con.table(model.name_frequencies(con, "keys")).to_pyarrow().to_pylist()
    n_people = con.table("keys").filter(ibis._.is_cluster).count().execute()
    return {r["name_fl"]: round(r["tf_name_fl"] * n_people, 6) for r in tf}


def test_openreview_numbers_count_the_holders_of_a_name() -> None:
    # One "Xing Liu" here, but OpenReview numbered her profile 5: the name is not rare, and
    # the unique-name rule must not attach a free "Xing Liu" to her on the name alone.
    rows = [
        row("x1#0", "Xing Liu", spid="openreview:~Xing_Liu5", year=2021),
        row("x2#0", "Xing Liu", spid="openreview:~Xing_Liu5", year=2022),
        row("k1#0", "Kartik Ahuja", spid="openreview:~Kartik_Ahuja1", year=2021),
        row("y1#0", "Yang Liu", spid="openreview:~Yang_Liu1", year=2021),
        row("y2#0", "Yang Liu", spid="acl:/y/yang-liu/", year=2020),
        row("f1#0", "Xing Liu", year=2023),
        row("f2#0", "Dana Roe", year=2023),
    ]
    counts = _name_counts(rows)
    assert counts["xing liu"] == 5
    assert counts["kartik ahuja"] == 1
    assert counts["yang liu"] == 2  # two identified people, both numbered below 2
    assert counts["dana roe"] == 0.5  # nobody identified: the floor
    # A profile number on a use the trust guard drops (a misaligned list put Omar Haddad's
    # profile on Kartik Ahuja) counts for Omar Haddad's name only.
    misaligned = [
        *rows,
        row("o1#0", "Omar Haddad", spid="openreview:~Omar_Haddad9", year=2020),
        row("o2#0", "Omar Haddad", spid="openreview:~Omar_Haddad9", year=2021),
        row("m1#1", "Kartik Ahuja", spid="openreview:~Omar_Haddad9", year=2022),
    ]
    counts = _name_counts(misaligned)
    assert (counts["kartik ahuja"], counts["omar haddad"]) == (1, 9)


def test_unique_name_holders_bounds_how_many_people_may_hold_the_name() -> None:
    # Two identified people hold the name: enough by default (the best of them, the margin
    # applying), not with holders 1; a name three people hold never.
    two = _unique_name_case(2, 0.05)
    assert two["f1#0"]["person_key"] == "openreview:~Kartik_Ahuja1"
    assert two["f1#0"]["cluster_evidence"].startswith("unique name")
    strict = _unique_name_case(2, 0.05, params={"unique_name_holders": 1})
    assert strict["f1#0"]["rule"] == "singleton"
    three = _unique_name_case(3, 0.05)
    assert three["f1#0"]["rule"] == "singleton"


def _same_year_case(
    free_year: int,
    free_country: str,
    p: float,
    conflict_below: float,
    params=None,
    venue: str = "nips",
):
    """A free "Kartik Ahuja" of ``free_year`` in ``free_country`` scored against the one
    "Kartik Ahuja" with ids, who published from Canada in 2021 and 2022 (hand-made pair)."""
    rows = [
        row(
            "k1#0",
            "Kartik Ahuja",
            spid="openreview:~Kartik_Ahuja1",
            year=2021,
            aff="Mila",
            country="Canada",
        ),
        row(
            "k2#0",
            "Kartik Ahuja",
            spid="openreview:~Kartik_Ahuja1",
            year=2022,
            aff="Mila",
            country="Canada",
        ),
        row("z1#0", "Zoe Brand", spid="openreview:~Zoe_Brand1", year=2022),
        row(
            "f1#0",
            "Kartik Ahuja",
            year=free_year,
            venue=venue,
            aff="Tsinghua University",
            country=free_country,
        ),
    ]
    pairs = _kartik_pair(p, 0.5)
    return _assign(rows, pairs, {"conflict_below": conflict_below, **(params or {})})["f1#0"]


def test_a_namesake_publishing_from_another_country_that_year_is_refused() -> None:
    # 2022 from China while the person published from Canada in 2022, nothing shared:
    # two people. The same weak pair a year later (no record of that year to contradict
    # it), or from Canada, joins by the unique-name rule.
    assert _same_year_case(2022, "China", 0.05, 0.5)["rule"] == "singleton"
    later = _same_year_case(2023, "China", 0.05, 0.5)
    assert later["person_key"] == "openreview:~Kartik_Ahuja1"
    same_country = _same_year_case(2022, "Canada", 0.05, 0.5)
    assert same_country["person_key"] == "openreview:~Kartik_Ahuja1"
    # Off, the conflict is not looked at.
    assert _same_year_case(2022, "China", 0.05, 0)["person_key"] == "openreview:~Kartik_Ahuja1"


def test_a_strong_pair_outweighs_a_country_conflict() -> None:
    # A pair at p 0.9 (co-authors, topics) is above conflict_below 0.5: a move or a second
    # affiliation the records do not name; it joins.
    strong = _same_year_case(2022, "China", 0.9, 0.5)
    assert strong["person_key"] == "openreview:~Kartik_Ahuja1"
    assert _same_year_case(2022, "China", 0.9, 0.95)["rule"] == "singleton"


def test_a_unique_name_within_the_persons_years_is_not_enough() -> None:
    # The person's ids cover 2021-2022: a record of 2022 without ids, with the name alone,
    # stays apart; one of 2023 (after) or 2020 (before) joins.
    on = {"unique_name_outside_years": 1}
    assert _same_year_case(2022, "Canada", 0.05, 0, on)["rule"] == "singleton"
    for year in (2020, 2023):
        joined = _same_year_case(year, "Canada", 0.05, 0, on)
        assert joined["person_key"] == "openreview:~Kartik_Ahuja1"
        assert joined["cluster_evidence"].startswith("unique name")
    off = _same_year_case(2022, "Canada", 0.05, 0, {"unique_name_outside_years": 0})
    assert off["person_key"] == "openreview:~Kartik_Ahuja1"


def _adopted_group(
    other_year: int, outside: float, venue: str = "nips", params=None, **kw
) -> dict[str, dict[str, object]]:
    """Free "Omar Haddad" records: f1 (2023) scores 0.9 against the person with ids
    (2021-2022), f2 (``other_year``) only against f1 (0.97): does f2 follow f1?"""
    rows = [
        row("o1#0", "Omar Haddad", spid="openreview:~Omar_Haddad1", year=2021),
        row("o2#0", "Omar Haddad", spid="openreview:~Omar_Haddad1", year=2022),
        row("f1#0", "Omar Haddad", year=2023),
        row("f2#0", "Omar Haddad", year=other_year, venue=venue),
    ]
    pairs = {
        "entity_id_l": ["f1#0", "f1#0"],
        "entity_id_r": ["openreview:~Omar_Haddad1", "f2#0"],
        "is_cluster_l": [False, False],
        "is_cluster_r": [True, False],
        "match_probability": [0.9, 0.97],
        "match_weight": [math.log2(0.9 / 0.1), math.log2(0.97 / 0.03)],
        "mw_name": [13.9, 13.9],
    }
    return _assign(rows, pairs, {"adopt_outside_years": outside, **(params or {})}, **kw)


def test_a_group_joins_through_a_linked_record_only_outside_the_persons_years() -> None:
    later = _adopted_group(2024, 1)
    assert later["f1#0"]["person_key"] == "openreview:~Omar_Haddad1"
    assert later["f2#0"]["person_key"] == "openreview:~Omar_Haddad1"
    assert later["f2#0"]["cluster_evidence"] == "via linked authorships"
    within = _adopted_group(2022, 1)
    assert within["f1#0"]["person_key"] == "openreview:~Omar_Haddad1"
    assert within["f2#0"]["person_key"] != "openreview:~Omar_Haddad1"
    assert _adopted_group(2022, 0)["f2#0"]["person_key"] == "openreview:~Omar_Haddad1"


def test_the_venue_year_guard_keeps_weak_links_off_a_persons_identified_venue_years() -> None:
    # The person has ids at ICLR 2021 and 2022: a record of ICLR 2022 without ids is not
    # theirs by the name alone (their ICLR 2022 papers carry the id); one of NeurIPS 2022
    # is.
    guard = {"venue_year_guard": 1}
    assert _same_year_case(2022, "Canada", 0.05, 0, guard, venue="iclr")["rule"] == "singleton"
    nips = _same_year_case(2022, "Canada", 0.05, 0, guard, venue="nips")
    assert nips["person_key"] == "openreview:~Kartik_Ahuja1"
    # A group follows a linked record only when none of its members is at such a venue-year.
    at_iclr = _adopted_group(2022, 0, venue="iclr", params=guard)
    assert at_iclr["f1#0"]["person_key"] == "openreview:~Omar_Haddad1"
    assert at_iclr["f2#0"]["person_key"] != "openreview:~Omar_Haddad1"
    at_nips = _adopted_group(2022, 0, venue="nips", params=guard)
    assert at_nips["f2#0"]["person_key"] == "openreview:~Omar_Haddad1"


@pytest.mark.parametrize("venue", ["iclr", "nips"])
def test_venue_years_made_once_decide_as_those_made_per_pass(venue: str) -> None:
    """The linkage makes the guard's venue-years once for both passes: the same decisions as
    the venue-years made by the pass itself."""
    guard = {"venue_year_guard": 1}
    once = _adopted_group(2022, 0, venue=venue, params=guard, venue_years=True)
    per_pass = _adopted_group(2022, 0, venue=venue, params=guard)
    assert once == per_pass
    followed = once["f2#0"]["person_key"] == "openreview:~Omar_Haddad1"
    assert followed == (venue == "nips")


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("evidence_on_acl", [True, False])
def test_equal_pairs_with_two_fragments_keep_the_smaller_fragments_pair(
    reverse: bool, evidence_on_acl: bool
) -> None:
    """A record scored alike against two merged fragments of one person keeps the pair of
    the fragment with the smaller id (its evidence is the one reported), whatever the order
    the pairs arrive in."""
    rows = [
        *_paper("a1", 2019, [("Yoon Kim", "acl:/y/yoon-kim/"), ("Alexander Rush", None)]),
        *_paper("o1", 2022, [("Yoon Kim", "openreview:~Yoon_Kim1"), ("Jacob Andreas", None)]),
        *[row(f"f{k}#0", "Yoon Kim", year=2023) for k in range(2)],
    ]
    clusters = ["acl:/y/yoon-kim/", "openreview:~Yoon_Kim1"]
    weights = [1.5, 0.0] if evidence_on_acl else [0.0, 1.5]
    if reverse:
        clusters, weights = clusters[::-1], weights[::-1]
    p = 0.95
    pairs = {
        "entity_id_l": [f for f in ("f0#0", "f1#0") for _ in clusters],
        "entity_id_r": clusters * 2,
        "is_cluster_l": [False] * 4,
        "is_cluster_r": [True] * 4,
        "match_probability": [p] * 4,
        "match_weight": [math.log2(p / (1 - p))] * 4,
        "mw_coauthors": weights * 2,
    }
    out = _assign(rows, pairs)["f0#0"]
    assert out["person_key"] == "openreview:~Yoon_Kim1"  # the merged person
    acl_weight = 1.5 if evidence_on_acl else 0.0
    assert f"coauthors:{acl_weight}" in out["cluster_evidence"]


def test_linkage_tables_cannot_take_a_decision_scratch_tables_name() -> None:
    """A linkage intermediate named like a decisions' scratch table would be dropped and
    rebuilt under the reader's feet (it changed the decisions silently): refused."""
    from talentflow.identity import link

    con = ibis.duckdb.connect()
    with pytest.raises(ValueError, match="scratch"):
        link._materialise(con, "venue_years", ibis.memtable({"a": [1]}), [])
    kept = link._materialise(con, "entity_venue_years", ibis.memtable({"a": [1]}), [])
    assert kept.count().execute() == 1
