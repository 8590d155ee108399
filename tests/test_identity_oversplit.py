"""Over-splitting: hide every id of a sample of OpenReview humans and count their records."""

from __future__ import annotations

import ibis
import pandas as pd
import pytest

from talentflow.identity import oversplit, review
from talentflow.identity.truth import write_truth
from tests.test_identity_evaluate import world_con


def _humans(con, fraction: float, seed: int) -> set[str]:
    a = con.table("authorships")
    truth = write_truth(con, a)
    picked = oversplit.sampled_humans(a, truth, fraction, seed).to_pyarrow()
    return set(picked["cluster_key"].to_pylist())


def test_sample_is_a_stable_hash_share_of_profile_holders() -> None:
    con = world_con()
    every = _humans(con, 1.0, 1)
    # Labs A-D: 20 members with profiles (three Wei Wangs among them) and two newcomers.
    assert len(every) == 22
    assert _humans(con, 0.0, 1) == set()
    half = _humans(con, 0.5, 1)
    assert 0 < len(half) < 22
    assert _humans(con, 0.5, 1) == half
    assert _humans(con, 0.5, 2) != half
    with pytest.raises(ValueError, match="between 0 and 1"):
        _humans(con, 1.5, 1)


def test_scores_count_records_per_human_and_wrong_merges() -> None:
    def r(aid, human, person, merged=None, name="X", other=None):
        return {
            "authorship_id": aid,
            "author_name": name,
            "year": 2022,
            "cluster_key": human,
            "person_key": person,
            "rule": "splink",
            "merged_with": merged,
            "other_key": other,
        }

    df = pd.DataFrame(
        [
            # h1: four authorships in three records, one of them another profile holder's.
            r("a1", "h1", "P1"),
            r("a2", "h1", "P1"),
            r("a3", "h1", "P2"),
            r("a4", "h1", "Q", "openreview", other="openreview:~Y1"),
            # h2: one record; h3: a single authorship with someone known by an ACL id.
            r("b1", "h2", "P3"),
            r("b2", "h2", "P3"),
            r("c1", "h3", "R", "other ids", other="acl:/x/y/"),
        ]
    )
    got = oversplit.scores_of(df)
    assert got["humans"] == 3
    assert got["records per human (mean)"] == pytest.approx((3 + 1 + 1) / 3, abs=1e-3)
    assert got["records per human with 2+ authorships (mean)"] == pytest.approx(2.0)
    assert got["share of humans in one record"] == pytest.approx(2 / 3, abs=1e-3)
    assert got["wrong merges (truth)"] == pytest.approx(2 / 7, abs=1e-4)
    assert got["wrong merges: with openreview"] == pytest.approx(1 / 7, abs=1e-4)
    assert got["wrong merges: with other ids, acl"] == pytest.approx(1 / 7, abs=1e-4)
    assert got["most records"][0] == "X (3 of 4)"
    labels = pd.DataFrame(
        {
            "attached_to": ["openreview", "openreview", "other ids"],
            "verdict": ["same", "different", "same"],
        }
    )
    point, high = got_rates = oversplit.scores_of(df, labels)[
        "wrong merges, fragmentation-aware (review rates; upper 95%)"
    ]
    assert point == pytest.approx(1 / 7 * 0.5, abs=1e-4)
    assert high == pytest.approx(
        review.transferred({"openreview": 1 / 7, "other ids": 1 / 7}, labels)[1], abs=1e-4
    )
    assert got_rates[0] < got_rates[1]


def test_hidden_humans_are_relinked_without_wrong_merges() -> None:
    con = world_con()
    a = con.table("authorships")
    found = oversplit.evaluate(con, a, con.table("papers"), fraction=0.5, seed=3)
    left = [t for t in con.list_tables() if t.startswith(("_eval", "_identity"))]
    assert left == []
    hidden = _humans(con, 0.5, 3)
    assert found["humans"] == len(hidden) > 0
    # Every authorship of a hidden human is scored (all years, all venues).
    assert found["authorships"] > found["humans"]
    # The labs are far apart (no shared co-author, institution or domain across labs), and
    # the three Wei Wangs never share a lab: a human's records are found, never merged.
    assert found["wrong merges (truth)"] == 0.0
    assert found["records per human (mean)"] <= 1.5


def test_cli_prints_the_oversplit_figures(tmp_path, capsys) -> None:
    from talentflow.identity import evaluate

    db = tmp_path / "store.duckdb"
    src = world_con()
    con = ibis.duckdb.connect(str(db))
    con.create_table("authorships", src.table("authorships").to_pyarrow())
    con.create_table("papers", src.table("papers").to_pyarrow())
    con.disconnect()
    evaluate.main(["--db", str(db), "--oversplit", "0.5", "--oversplit-seed", "3"])
    out = capsys.readouterr().out
    assert "records per human (mean)" in out
    assert "'seed': 3" in out


def test_review_sheet_shows_whom_a_hidden_human_was_merged_with(tmp_path) -> None:
    # Thresholds at zero merge hidden humans with namesakes: wrong merges to review.
    con = world_con()
    a = con.table("authorships")
    sheet = tmp_path / "sheet.txt"
    dump = tmp_path / "rows.parquet"
    found = oversplit.evaluate(
        con,
        a,
        con.table("papers"),
        fraction=0.5,
        seed=1,
        params={
            "attach_threshold": 0.0,
            "margin": 0.0,
            "predict_threshold": 0.0,
            "pair_threshold": 0.0,
        },
        dump=dump,
        review_sheet=sheet,
        review_per_stratum=3,
    )
    assert found["wrong merges (truth)"] > 0
    rows = pd.read_parquet(dump)
    template = pd.read_csv(sheet.with_suffix(".csv"))
    assert 0 < len(template) <= 3 * len(review.STRATA)
    assert set(template.authorship_id) <= set(rows[rows.merged_with.notna()].authorship_id)
    assert set(template.attached_to) <= {"openreview", "other ids"}
    text = sheet.read_text()
    human = dict(zip(rows.authorship_id, rows.cluster_key, strict=True))
    ids = dict(zip(a.authorship_id.to_pandas(), a.source_person_id.to_pandas(), strict=True))
    for block in text.strip().split("\n\n"):
        head, *lines = block.splitlines()
        picked = head.split()[2]
        attached = [x for x in lines if x.startswith("  attached: ")]
        # Shown as attached: records of other humans only, never the hidden human's own.
        assert attached
        own = {i for i, h in human.items() if h == human[picked]}
        own_ids = {ids[i] for i in own if ids[i]}
        assert not any(f"| {pid} " in x for x in attached for pid in own_ids)
    # Labelled, the review reads this run's wrong merges by its own rates.
    labels = template.assign(verdict="different")
    again = oversplit.scores_of(rows, labels)
    point, _ = again["wrong merges, fragmentation-aware (review rates; upper 95%)"]
    assert point == pytest.approx(found["wrong merges (truth)"], abs=1e-4)


def test_bare_profiles_hold_an_id_and_a_name_only() -> None:
    a = ibis.memtable(
        {
            "authorship_id": ["s1", "s2", "b1", "b2", "d1", "d2", "e1"],
            "source_person_id": [
                "openreview:~Jimeng_Sun3", "openreview:~Jimeng_Sun3",
                "openreview:~Jimeng_Sun1", "openreview:~Jimeng_Sun1",
                "openreview:~Ann_Lee1", None, "openreview:~Bo_Li9",
            ],
            "raw_affiliation": ["UIUC", None, None, " ", None, None, None],
            "email_domain": [None, "illinois.edu", None, None, None, None, None],
            "dblp": [None, None, None, None, None, "dblp:12/34", None],
        }
    )  # fmt: skip
    truth = ibis.memtable(
        {
            "authorship_id": ["s1", "s2", "b1", "b2", "d1", "d2", "e1"],
            # ~Ann_Lee1 is empty on its own record, but its human has a DBLP id elsewhere.
            "cluster_key": ["S3", "S3", "S1", "S1", "A", "A", "B"],
        }
    )
    got = set(oversplit.bare_profiles(a, truth).to_pyarrow()["cluster_key"].to_pylist())
    assert got == {"S1", "B"}


def test_merges_with_bare_profiles_are_counted_apart() -> None:
    a = ibis.memtable(
        {
            "authorship_id": ["h1", "h2", "h3", "o1", "p1", "q1", "r1"],
            "author_name": ["Jimeng Sun"] * 4 + ["Wei Li"] * 3,
            "year": [2022, 2023, 2024, 2021, 2022, 2022, 2023],
            "source_person_id": [None, None, None, "openreview:~Jimeng_Sun1",
                                 "openreview:~Wei_Li2", None, "openreview:~Wei_Li5"],
            "raw_affiliation": [None, None, None, None, "Tsinghua", None, None],
        }
    )  # fmt: skip
    truth = ibis.memtable(
        {
            # h*: the hidden human (ids emptied); o1: a bare stub profile; p1: a profile with
            # a place; q1 is the hidden human of the second record, Wei Li; r1 another hidden
            # Wei Li whose own profile is bare.
            "authorship_id": ["h1", "h2", "h3", "o1", "p1", "q1", "r1"],
            "cluster_key": ["H", "H", "H", "O", "P", "Q", "R"],
        }
    )
    assignments = ibis.memtable(
        {
            "authorship_id": ["h1", "h2", "h3", "o1", "p1", "q1", "r1"],
            "person_key": ["O", "O", "H3", "O", "P", "P", "P"],
            "rule": ["splink", "splink", "singleton", "identifier", "identifier", "splink",
                     "splink"],
            "cluster_evidence": [None] * 7,
        }
    )  # fmt: skip
    humans = ibis.memtable({"cluster_key": ["H", "Q", "R"]})
    rows = oversplit.human_rows(a, truth, assignments, humans).to_pandas()
    by = rows.set_index("authorship_id")
    assert by.loc[["h1", "h2", "q1", "r1"], "merged_with"].tolist() == ["openreview"] * 4
    assert by.loc[["h1", "h2"], "bare_profile"].all()
    assert not by.loc[["q1", "r1", "h3"], "bare_profile"].any()
    assert by.own_bare.tolist() == [a == "r1" for a in by.index]
    got = oversplit.scores_of(rows)
    assert got["wrong merges: with openreview"] == pytest.approx(4 / 5)
    assert got["wrong merges: with openreview, bare profiles only"] == pytest.approx(2 / 5)
    assert got["wrong merges: with a profile that says more than a name"] == pytest.approx(2 / 5)
    # q1 only: r1's own profile is bare, h1 and h2 merged with a bare one.
    assert got["wrong merges: between profiles that both say more than a name"] == pytest.approx(
        1 / 5
    )
