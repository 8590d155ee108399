"""The labelled evaluation (hide OpenReview ids of a venue-year, relink, score) on a small world.

The world of ``test_identity_link``: every lab member has OpenReview ids from 2021 on, so with
iclr2022 hidden each of them is *known* elsewhere (2021, 2023). Added to the hidden year: a
fourth "Wei Wang" with a profile of his own, at a lab nobody else is at (a *new* person whose
name exact-name matching would attach to an existing Wei Wang), and a new person with a unique
name.
"""

from __future__ import annotations

import ibis
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from talentflow.identity import evaluate
from tests.test_identity_link import build_world, row, table

NEWCOMERS = [
    row(
        "n1#0",
        "Wei Wang",
        year=2022,
        spid="openreview:~Wei_Wang9",
        aff="Fudan University",
        domain="fudan.edu.cn",
    ),
    row(
        "n1#1",
        "Qiang Zhao",
        year=2022,
        spid="openreview:~Qiang_Zhao1",
        aff="Fudan University",
        domain="fudan.edu.cn",
    ),
]


def world_con(extra: list[dict[str, object]] | None = None):
    """A connection holding the world of labs A-D and ``extra`` rows (by default the
    newcomers) as ``authorships``, and ``papers``."""
    w = build_world(labs="ABCD")
    rows = table(NEWCOMERS if extra is None else extra)
    authorships = pa.concat_tables([w.authorships, rows]).drop_columns(["truth"])
    con = ibis.duckdb.connect()
    con.create_table("authorships", authorships)
    con.create_table("papers", w.papers)
    return con


@pytest.fixture(scope="module")
def scored():
    con = world_con()
    scores, info = evaluate.evaluate(
        con, con.table("authorships"), con.table("papers"), hide=("iclr2022",)
    )
    return {s.method: s for s in scores}, info, con


def test_populations_follow_the_hidden_ids(scored) -> None:
    scores, info, _ = scored
    ours = scores["splink linkage"]
    # iclr2022 of labs A-D: 2 papers x 3 authors x 4 labs, all known from 2021/2023.
    assert ours.n_known == 24
    assert ours.n_new == 2
    assert info["hidden"] == ["iclr2022"]


def test_linkage_recovers_hidden_people_and_keeps_newcomers_apart(scored) -> None:
    scores, _, _ = scored
    ours, base = scores["splink linkage"], scores["exact name"]
    assert ours.recall_known >= 0.95
    assert ours.false_attach_new == 0.0
    # Exact names attach the new Wei Wang to one of the three existing ones.
    assert base.false_attach_new == pytest.approx(0.5)
    assert base.false_attach_new_profile == pytest.approx(0.5)


def test_evaluation_leaves_no_tables_behind(scored) -> None:
    _, _, con = scored
    left = [t for t in con.list_tables() if t.startswith(("_eval", "_identity"))]
    assert left == []
    assert con.table("authorships").count().execute() == 4 * 6 * 2 * 3 + 2


def test_breakdown_separates_where_links_went() -> None:
    import pandas as pd

    def r(known, ok, attached_to=None, kind=None, rule="splink", ev=None):
        return {
            "profile": True,
            "known": known,
            "ours_ok": ok,
            "ours_wrong_new": attached_to is not None,
            "attached_to": attached_to,
            "person_kind": kind,
            "rule": rule,
            "cluster_evidence": ev,
            "base_ok": False,
            "base_wrong_new": False,
            "base_attached_to": None,
        }

    df = pd.DataFrame(
        [
            r(True, True, kind="openreview"),
            r(True, False, rule="singleton"),
            r(True, False, kind="other ids", ev="name:14.0;coauthors:7.3"),
            r(True, False, kind=None),
            r(False, False, "openreview", "openreview", ev="name:14.0;coauthors:8.8;venues:1"),
            r(False, False, "openreview", "openreview", ev="unique name;name:14;coauthors:-0.5"),
            r(False, False, "other ids", "other ids", ev="name:14.0;coauthors:7.3"),
            r(False, False, rule="singleton"),
        ]
    )
    scores, b = evaluate.scores_of(df)
    ours = scores[0]
    assert ours.recall_known == pytest.approx(0.25)
    assert ours.false_attach_new_profile == pytest.approx(0.5)
    assert b["new to another profile: shared co-authors"] == pytest.approx(0.25)
    assert b["new to another profile: unique name alone"] == pytest.approx(0.25)
    assert b["new to other ids: shared co-authors"] == pytest.approx(0.25)
    assert b["known missed: left alone"] == pytest.approx(0.25)
    assert b["known missed: a person with ids"] == pytest.approx(0.25)
    assert b["known missed: hidden only"] == pytest.approx(0.25)


def test_identified_only_evaluates_the_records_that_have_a_truth() -> None:
    con = world_con()
    a = con.table("authorships")
    every = a.to_pyarrow().to_pylist()
    with_ids = [r for r in every if r["source_person_id"] or r["orcid"] or r["dblp"]]
    # The world has id-less rows (before 2021): they are what the mode leaves out.
    assert 0 < len(with_ids) < len(every)
    kept = evaluate.identified(a).to_pyarrow()
    assert sorted(kept["authorship_id"].to_pylist()) == sorted(r["authorship_id"] for r in with_ids)
    scores, info = evaluate.evaluate(con, a, None, hide=("iclr2022",), identified_only=True)
    ours = {s.method: s for s in scores}["splink linkage"]
    # The hidden rows all had ids: the same populations as on the whole corpus.
    assert (ours.n_known, ours.n_new) == (24, 2)
    assert info["corpus"] == "identified authorships only"
    assert ours.false_attach_new == 0.0


def _unscored_run(unscored: tuple[str, ...]):
    con = world_con()
    scores, info = evaluate.evaluate(
        con, con.table("authorships"), con.table("papers"), hide=("iclr2022",), unscored=unscored
    )
    return {s.method: s for s in scores}, info


def test_unscored_years_stand_for_unidentified_records() -> None:
    # Every id outside the hidden year hidden too (2021 and 2023 unscored; 2018-2020 have
    # none): the truth still knows who everyone is, exact names have nothing to attach to.
    scores, info = _unscored_run(("iclr2021", "iclr2023"))
    assert info["unscored"] == ["iclr2021", "iclr2023"]
    for s in scores.values():
        assert (s.n_known, s.n_new) == (24, 2)
    assert scores["exact name"].recall_known == 0.0
    assert scores["exact name"].false_attach_new == 0.0
    # 2021 unscored only: its records, now without ids, still reach their people (through
    # the 2023 profiles) and the newcomers stay apart.
    scores, _ = _unscored_run(("iclr2021",))
    ours = scores["splink linkage"]
    assert (ours.n_known, ours.n_new) == (24, 2)
    # (22 of 24 here: fewer ids to learn from than with 2021 visible)
    assert ours.recall_known >= 0.9
    assert ours.false_attach_new == 0.0


# --- time split: the newest year linked with earlier years only -------------------------

#: Newcomers of 2023 (the hidden year), a record of another venue of 2023 and one of 2024:
#: the last two are neither earlier nor hidden, so a time split leaves them out.
FUTURE = [
    row(
        "f1#0",
        "Wei Wang",
        year=2023,
        spid="openreview:~Wei_Wang9",
        aff="Fudan University",
        domain="fudan.edu.cn",
    ),
    row(
        "f1#1",
        "Qiang Zhao",
        year=2023,
        spid="openreview:~Qiang_Zhao1",
        aff="Fudan University",
        domain="fudan.edu.cn",
    ),
    row("e1#0", "Amelia Hart", year=2023, venue="emnlp", spid="openreview:~Amelia_Hart1"),
    row("l1#0", "Amelia Hart", year=2024, venue="iclr", spid="openreview:~Amelia_Hart1"),
]


def future_con():
    return world_con(FUTURE)


def _ids(t: ibis.Table) -> set[str]:
    return set(t.select("authorship_id").to_pyarrow()["authorship_id"].to_pylist())


def test_time_split_keeps_earlier_years_and_the_hidden_venue_years_only() -> None:
    con = future_con()
    a = con.table("authorships")
    earlier, corpus, year = evaluate.time_split(a, ("iclr2023",))
    assert year == 2023
    every = a.to_pyarrow().to_pylist()
    assert _ids(earlier) == {r["authorship_id"] for r in every if r["year"] < 2023}
    hidden = {r["authorship_id"] for r in every if (r["venue"], r["year"]) == ("iclr", 2023)}
    assert _ids(corpus) == _ids(earlier) | hidden
    # Another venue of the same year and a later year are in neither.
    assert not {"e1#0", "l1#0"} & _ids(corpus)
    with pytest.raises(ValueError, match="one year"):
        evaluate.time_split(a, ("iclr2023", "iclr2022"))


def _without_uid(model: dict) -> dict:
    return {k: v for k, v in model.items() if k != "linker_uid"}


@pytest.fixture(scope="module")
def future_run():
    con = future_con()
    a = con.table("authorships")
    scores, info = evaluate.evaluate(con, a, con.table("papers"), hide=("iclr2023",), future=True)
    return {s.method: s for s in scores}, info, con


def test_time_split_scores_the_hidden_year_against_earlier_people(future_run) -> None:
    scores, info, con = future_run
    ours = scores["splink linkage"]
    every = con.table("authorships").to_pyarrow().to_pylist()
    # Known: a hidden (iclr2023) profile seen with its id before 2023. Amelia Hart's emnlp2023
    # and 2024 records do not make anyone known (not earlier), and are not scored.
    seen = {r["source_person_id"] for r in every if r["year"] < 2023 and r["source_person_id"]}
    hidden = [r for r in every if (r["venue"], r["year"]) == ("iclr", 2023)]
    known = sum(r["source_person_id"] in seen for r in hidden)
    assert (ours.n_known, ours.n_new) == (known, len(hidden) - known)
    assert len(hidden) - known > 0
    assert info["time split: linked with years before"] == 2023
    assert info["time split: training authorships"] == 4 * 5 * 2 * 3
    assert ours.recall_known >= 0.9
    # No new person goes to someone with ids (the new Wei Wang stays apart); lab members new
    # to ids join their own unidentified papers of 2018-2020 ("no ids", the same human).
    assert ours.false_attach_new_ids == 0.0
    assert scores["exact name"].false_attach_new_ids > 0.0


def test_time_split_model_is_trained_on_earlier_years_alone(future_run) -> None:
    from talentflow.identity.link import link

    _, info, con = future_run
    a = con.table("authorships")
    earlier, _, _ = evaluate.time_split(a, ("iclr2023",))
    alone = link(con, earlier, con.table("papers"))
    trained = alone.model
    alone.drop(con)
    assert _without_uid(info["model"]) == _without_uid(trained)
    # Training on the masked corpus with the hidden year (the plain evaluation) gives
    # another model: the time split's is not that one.
    _, plain = evaluate.evaluate(con, a, con.table("papers"), hide=("iclr2023",))
    assert _without_uid(plain["model"]) != _without_uid(trained)


def test_review_labels_give_the_fragmentation_aware_reading() -> None:
    import pandas as pd

    con = world_con()
    a = con.table("authorships")
    # Every reviewed link to another profile was wrong, none of the others: the reading
    # is the share attached to another profile (here none) and at most its bound.
    labels = pd.DataFrame(
        {
            "attached_to": ["openreview", "other ids", "no ids"],
            "verdict": ["different", "same", "same"],
        }
    )
    scores, info = evaluate.evaluate(con, a, con.table("papers"), hide=("iclr2022",), labels=labels)
    point, high = info["new wrongly attached, fragmentation-aware (review rates; upper 95%)"]
    assert point == 0.0 and high == 0.0
    assert scores[0].false_attach_new == 0.0


def test_dump_links_writes_every_assignment_and_the_cross_pairs(tmp_path) -> None:
    con = world_con()
    a = con.table("authorships")
    evaluate.evaluate(con, a, con.table("papers"), hide=("iclr2022",), dump_links=tmp_path)
    assignments = pq.read_table(tmp_path / "assignments.parquet").to_pylist()
    # every authorship, each with a person key and the rule that put it there
    assert len(assignments) == a.count().execute()
    assert all(r["person_key"] and r["rule"] for r in assignments)
    pairs = pq.read_table(tmp_path / "pairs.parquet")
    assert pairs.num_rows > 0
    # only pairs of a free entity and a cluster, as the decisions rank them
    left, right = pairs.column("is_cluster_l").to_pylist(), pairs.column("is_cluster_r").to_pylist()
    assert all(x != y for x, y in zip(left, right, strict=True))
