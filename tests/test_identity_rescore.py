"""The second scoring round (``identity/rescore.py``) on a small world built in code.

A person identified at Oxford in 2021-2022 moves to KAIST in 2023, where their papers carry
no id (a new year, as in the time split). Two of the new papers share two old co-authors
with them and are attached in the first round; a third shares no old co-author, only one new
co-author with each of the two: the first round leaves it apart, the second (the person
summarised with the two attached papers) attaches it. A namesake at Fudan with nothing shared
stays apart in both rounds.
"""

from __future__ import annotations

import random

import ibis
import pyarrow as pa
import pytest

from talentflow.identity import model, rescore
from talentflow.identity.link import link
from tests.test_identity_link import build_world, row, table

MOVER = "Lei Zhang"
TOPIC = {"nips2023:n3": "grasping manipulation", "nips2023:z1": "speech recognition"}
OLD = ("University of Oxford", "ox.ac.uk")


def _mover_rows(n3_year: int = 2023) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    old_papers = [
        (2021, ["Oliver Grant", "Ines Duarte"]),
        (2022, ["Oliver Grant", "Tomasz Nowak"]),
        (2022, ["Ines Duarte", "Tomasz Nowak"]),
    ]
    for k, (year, coauthors) in enumerate(old_papers):
        pid = f"iclr{year}:mv{k}"
        # The third OpenReview "Lei Zhang": a name of three holders (the unique-name rule
        # does not apply).
        rows.append(
            row(
                f"{pid}#0",
                MOVER,
                year=year,
                spid="openreview:~Lei_Zhang3",
                aff=OLD[0],
                domain=OLD[1],
            )
        )
        for j, name in enumerate(coauthors, start=1):
            spid = "openreview:~" + name.replace(" ", "_") + "1"
            rows.append(row(f"{pid}#{j}", name, year=year, spid=spid, aff=OLD[0], domain=OLD[1]))
    new_papers = {
        # two old co-authors each (no affiliation listed): attached in the first round
        "n1": (["Oliver Grant", "Ines Duarte", "Jisoo Park"], None, None),
        "n2": (["Oliver Grant", "Tomasz Nowak", "Minho Kim"], None, None),
        # the new institution, no old co-author, one new co-author shared with n1 and n2 each
        "n3": (["Jisoo Park", "Minho Kim"], "KAIST", "kaist.ac.kr"),
    }
    for key, (coauthors, aff, domain) in new_papers.items():
        pid = f"nips2023:{key}"
        year = n3_year if key == "n3" else 2023
        rows.append(row(f"{pid}#0", MOVER, year=year, venue="nips", aff=aff, domain=domain))
        for j, name in enumerate(coauthors, start=1):
            rows.append(row(f"{pid}#{j}", name, year=year, venue="nips", aff=aff, domain=domain))
    # A namesake elsewhere, with nothing shared.
    for j, name in enumerate([MOVER, "Qiang Zhao"]):
        rows.append(
            row(
                f"nips2023:z1#{j}",
                name,
                year=2023,
                venue="nips",
                aff="Fudan University",
                domain="fudan.edu.cn",
            )
        )
    return rows


def _bystanders(n: int = 300, seed: int = 3) -> list[dict[str, object]]:
    """Identified people with distinct names, alone on a paper each: the name frequencies
    then count a few hundred people, not the world's thirty (a name of three holders among
    thirty would be a common name)."""
    rng = random.Random(seed)
    syllables = ["ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "ze", "bo", "da", "fe"]
    names: set[str] = set()
    while len(names) < n:
        first = "".join(rng.choice(syllables) for _ in range(2)).title()
        last = "".join(rng.choice(syllables) for _ in range(3)).title()
        names.add(f"{first} {last}")
    return [
        row(f"iclr2022:b{k}#0", name, year=2022, spid=f"openreview:~{name.replace(' ', '_')}1")
        for k, name in enumerate(sorted(names))
    ]


def _mover_world(n3_year: int = 2023):
    w = build_world(labs="DF")
    extra = table(_mover_rows(n3_year) + _bystanders())
    authorships = pa.concat_tables([w.authorships, extra])
    titles = [
        # the KAIST paper on another topic (no shared title word with the others)
        {"paper_id": r["paper_id"], "title": f"On {TOPIC.get(r['paper_id'], 'segmentation')}"}
        for r in extra.to_pylist()
        if r["author_position"] == 0
    ]
    con = ibis.duckdb.connect()
    con.create_table("a", authorships.drop_columns(["truth"]))
    con.create_table("p", pa.concat_tables([w.papers, pa.Table.from_pylist(titles)]))
    return con


@pytest.fixture(scope="module")
def mover_world():
    return _mover_world()


#: Match weights (bits) of the comparison levels as the stage trained them on the real
#: corpus (build of 2026-12-06): people move there, so a different institution weighs about
#: -1.4 bits, not the -36 EM learns in a small world where nobody moves.
REAL_BITS = {
    ("name", "first-last exact"): 13.97,
    ("name", "same name, other order"): 13.45,
    ("name", "given name a prefix of the other"): 1.16,
    ("name", "near spelling (2 edits)"): 10.3,
    ("name", "All other comparisons"): -3.87,
    ("coauthors", "Array intersection size >= 2"): 8.64,
    ("coauthors", "Array intersection size >= 1"): 7.22,
    ("coauthors", "All other comparisons"): -0.48,
    ("institutions", "Array intersection size >= 1"): 6.61,
    ("institutions", "All other comparisons"): -1.42,
    ("domains", "Array intersection size >= 1"): 6.71,
    ("domains", "All other comparisons"): -1.52,
    ("countries", "Array intersection size >= 1"): 1.85,
    ("countries", "All other comparisons"): -2.29,
    ("venues", "Array intersection size >= 1"): 1.17,
    ("venues", "All other comparisons"): -0.34,
    ("years", "within a year"): 0.29,
    ("years", "within 4 years"): 0.33,
    ("years", "within 10 years"): -0.47,
    ("years", "All other comparisons"): -1.38,
    ("topics", "Array intersection size >= 3"): 3.74,
    ("topics", "Array intersection size >= 1"): 1.42,
    ("topics", "All other comparisons"): -0.23,
}


@pytest.fixture(scope="module")
def movers_model(mover_world) -> dict:
    """The stage's settings with the real corpus's weights (:data:`REAL_BITS`; levels not
    listed weigh nothing) and the prior the stage computes for this world (0.5 matches per
    unidentified record among all pairs of entities)."""
    a = mover_world.table("a")
    n_free = int(a.filter(a.source_person_id.isnull()).count().execute())
    n_entities = n_free + int(a.source_person_id.nunique().execute())
    return real_settings(0.5 * n_free / (n_entities * (n_entities - 1) / 2))


def real_settings(prior: float) -> dict:
    """The stage's settings with :data:`REAL_BITS` (levels not listed weigh nothing) and
    ``prior`` as the probability that two random entities match."""
    settings = model.settings(prior).create_settings_dict("duckdb")
    for comparison in settings["comparisons"]:
        for level in comparison["comparison_levels"]:
            if level.get("is_null_level"):
                continue
            bits = REAL_BITS.get((comparison["output_column_name"], level["label_for_charts"]), 0.0)
            level["u_probability"] = level["m_probability"] / 2**bits
    return settings


def _persons(con, model: dict, second_round: float, **params: float) -> dict[str, dict]:
    result = link(
        con,
        con.table("a"),
        con.table("p"),
        params={"second_round": second_round, **params},
        trained_model=model,
    )
    rows = result.assignments.to_pyarrow().to_pylist()
    result.drop(con)
    return {r["authorship_id"]: r for r in rows}


def test_second_round_attaches_a_new_year_record_through_attached_papers(
    mover_world, movers_model
) -> None:
    first_only = _persons(mover_world, movers_model, 0)
    both = _persons(mover_world, movers_model, 1)
    person = "openreview:~Lei_Zhang3"
    for rounds in (first_only, both):
        assert rounds["nips2023:n1#0"]["person_key"] == person
        assert rounds["nips2023:n2#0"]["person_key"] == person
    # The first round alone leaves the KAIST paper apart ...
    assert first_only["nips2023:n3#0"]["person_key"] != person
    # ... the second attaches it, and says so.
    assert both["nips2023:n3#0"]["person_key"] == person
    assert both["nips2023:n3#0"]["rule"] == "splink"
    assert both["nips2023:n3#0"]["cluster_evidence"].startswith("second round;")
    # Nothing the first round placed moves.
    moved = [
        k
        for k, r in first_only.items()
        if r["person_key"] != both[k]["person_key"] and k != "nips2023:n3#0"
    ]
    assert moved == []


def test_a_namesake_with_nothing_shared_stays_apart(mover_world, movers_model) -> None:
    both = _persons(mover_world, movers_model, 1)
    assert both["nips2023:z1#0"]["person_key"] == "nips2023:z1#0"
    assert both["nips2023:z1#0"]["rule"] == "singleton"


def test_cross_only_limits_every_blocking_rule() -> None:
    model = {
        "blocking_rules_to_generate_predictions": [
            {"blocking_rule": "l.name_fl = r.name_fl", "sql_dialect": "duckdb"},
            "l.bk_init = r.bk_init",
        ]
    }
    out = rescore.cross_only(model)
    rules = out["blocking_rules_to_generate_predictions"]
    assert rules[0]["blocking_rule"] == "(l.name_fl = r.name_fl) AND l.is_cluster <> r.is_cluster"
    assert rules[1] == "(l.bk_init = r.bk_init) AND l.is_cluster <> r.is_cluster"
    # the trained model itself is left as it was
    assert model["blocking_rules_to_generate_predictions"][1] == "l.bk_init = r.bk_init"


def test_second_round_only_outside_the_persons_years(mover_world, movers_model) -> None:
    # round2_outside_years: the KAIST paper of 2023, after the person's 2021-2022, still
    # joins in the second round; the same paper dated 2022, within the years the person's
    # ids cover, does not (without the condition it does).
    person = "openreview:~Lei_Zhang3"
    after = _persons(mover_world, movers_model, 1, round2_outside_years=1)
    assert after["nips2023:n3#0"]["person_key"] == person
    within_world = _mover_world(n3_year=2022)
    within = _persons(within_world, movers_model, 1, round2_outside_years=1)
    assert within["nips2023:n1#0"]["person_key"] == person
    assert within["nips2023:n3#0"]["person_key"] != person
    lenient = _persons(within_world, movers_model, 1, round2_outside_years=0)
    assert lenient["nips2023:n3#0"]["person_key"] == person
