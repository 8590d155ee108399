"""A known person's new year, on a small world built in code (``identity/decide.py``).

"Lei Zhang" (the third OpenReview Lei Zhang: a name of three holders, so the unique-name rule
does not apply) is identified at Oxford in 2021-2022. Her 2023 papers carry no id and list a
new institution (KAIST), domain and country, which weigh against her; the model is the real
corpus's weights with a prior as low as the real corpus's, so a new institution sinks a pair
below ``attach_threshold``:

- ``n1`` (at another new place) keeps one old co-author: the exact name and a shared co-author attach it
  (``coauthor_name_threshold``);
- ``g1`` and ``g2`` share no old co-author, only two new ones with each other (a group of
  unidentified records); each alone is too weak, the group as one person joins her
  (``group_threshold``);
- a namesake at Fudan, on two papers grouped the same way, shares nothing with her and stays
  apart, alone and as a group.
"""

from __future__ import annotations

import copy

import ibis
import pyarrow as pa
import pytest

from talentflow.identity.link import link
from tests.test_identity_link import row, table
from tests.test_identity_rescore import _bystanders, real_settings

NAME = "Lei Zhang"
PERSON = "openreview:~Lei_Zhang3"
OLD = ("University of Oxford", "ox.ac.uk")
NEW = ("KAIST", "kaist.ac.kr")
OTHER_NEW = ("Seoul National University", "snu.ac.kr")
FUDAN = ("Fudan University", "fudan.edu.cn")
#: Log2 prior odds of a match. The real corpus's is about -19 bits, but there three holders
#: of a name are few among some 60,000 identified people; here they are many among 300, and
#: the exact name weighs 7.5 bits less (term frequency): -12 leaves the pairs' odds about as
#: the real corpus has them (one shared co-author and a new place: p about 0.25).
PRIOR_BITS = -12.0


def _paper(
    pid: str, year: int, authors: list[tuple[str, str | None]], place: tuple[str, str] | None
) -> list[dict[str, object]]:
    aff, domain = place if place else (None, None)
    return [
        row(
            f"{pid}#{j}",
            name,
            year=year,
            venue=pid.split(":", maxsplit=1)[0][:-4],
            spid=spid,
            aff=aff,
            domain=domain,
        )
        for j, (name, spid) in enumerate(authors)
    ]


def _ids(name: str) -> str:
    return "openreview:~" + name.replace(" ", "_") + "1"


def _rows() -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    old = [
        ("iclr2021:o1", 2021, ["Oliver Grant", "Ines Duarte"]),
        ("iclr2022:o2", 2022, ["Oliver Grant", "Tomasz Nowak"]),
        ("iclr2022:o3", 2022, ["Ines Duarte", "Tomasz Nowak"]),
    ]
    for pid, year, coauthors in old:
        authors = [(NAME, PERSON)] + [(c, _ids(c)) for c in coauthors]
        rows += _paper(pid, year, authors, OLD)
    # Other holders of the name (three in all), elsewhere, with other co-authors.
    rows += _paper(
        "iclr2021:h2",
        2021,
        [(NAME, "openreview:~Lei_Zhang1"), ("Ana Ruiz", _ids("Ana Ruiz"))],
        None,
    )
    rows += _paper(
        "iclr2022:h3", 2022, [(NAME, "openreview:~Lei_Zhang2"), ("Bo Chen", _ids("Bo Chen"))], None
    )
    # 2023: no ids anywhere.
    rows += _paper(
        "nips2023:n1", 2023, [(NAME, None), ("Oliver Grant", None), ("Ha Eun", None)], OTHER_NEW
    )
    for pid in ("iclr2023:g1", "iclr2023:g2"):
        rows += _paper(pid, 2023, [(NAME, None), ("Jisoo Park", None), ("Minho Kim", None)], None)
    for pid in ("iclr2023:z1", "iclr2023:z2"):
        rows += _paper(pid, 2023, [(NAME, None), ("Qiang Zhao", None), ("Yu Sun", None)], FUDAN)
    return rows


#: Titles: the person's old and new papers on one topic, the namesake's on another.
TITLES = {
    "z": "Speech recognition with streaming transducers",
    "n": "Protein folding from sequence",
    "h": "Graph networks for molecules",
}


@pytest.fixture(scope="module")
def world():
    extra = table(_rows() + _bystanders())
    titles = [
        {
            "paper_id": r["paper_id"],
            "title": TITLES.get(
                r["paper_id"].split(":")[1][0], "Semantic segmentation with sparse labels"
            ),
        }
        for r in extra.to_pylist()
        if r["author_position"] == 0
    ]
    con = ibis.duckdb.connect()
    con.create_table("a", extra.drop_columns(["truth"]))
    con.create_table("p", pa.Table.from_pylist(titles))
    return con


@pytest.fixture(scope="module")
def real_model() -> dict:
    """The stage's settings with the real corpus's weights and a prior of :data:`PRIOR_BITS`."""
    return real_settings(2.0**PRIOR_BITS)


def _persons(con, trained: dict, **params: float) -> dict[str, dict]:
    result = link(
        con, con.table("a"), con.table("p"), params=params, trained_model=copy.deepcopy(trained)
    )
    rows = result.assignments.to_pyarrow().to_pylist()
    result.drop(con)
    return {r["authorship_id"]: r for r in rows}


@pytest.fixture(scope="module")
def runs(world, real_model) -> dict[str, dict[str, dict]]:
    """The linkage with the group rule on (off by default), with the defaults, and without
    both rules."""
    return {
        "on": _persons(world, real_model, group_threshold=0.1),
        "no group": _persons(world, real_model),
        "off": _persons(world, real_model, coauthor_name_threshold=1.0, group_threshold=1.0),
    }


def test_an_old_coauthor_on_the_exact_name_attaches_a_new_year_paper(runs) -> None:
    on, off = runs["on"], runs["off"]
    assert on["nips2023:n1#0"]["person_key"] == PERSON
    assert on["nips2023:n1#0"]["cluster_evidence"].startswith("shared co-author;")
    # below attach_threshold: without the rule the paper stays apart
    assert on["nips2023:n1#0"]["match_probability"] < 0.5
    assert off["nips2023:n1#0"]["person_key"] != PERSON


def test_a_group_of_new_year_papers_joins_its_one_best_candidate(runs) -> None:
    on, off = runs["on"], runs["no group"]
    for pid in ("iclr2023:g1#0", "iclr2023:g2#0"):
        assert on[pid]["person_key"] == PERSON
        assert on[pid]["cluster_evidence"].startswith("group of unidentified authorships")
        # the two are one group without it, but nobody's
        assert off[pid]["person_key"] == off["iclr2023:g1#0"]["person_key"] != PERSON


def test_a_namesake_sharing_nothing_stays_apart(runs) -> None:
    on = runs["on"]
    holders = {PERSON, "openreview:~Lei_Zhang1", "openreview:~Lei_Zhang2"}
    for pid in ("iclr2023:z1#0", "iclr2023:z2#0"):
        assert on[pid]["person_key"] not in holders
    # ... and her co-authors' records are not pulled along
    assert on["iclr2023:z1#1"]["person_key"] != on["nips2023:n1#1"]["person_key"]
