"""Clerical review of the links the evaluation calls wrong: sample, sheet and estimate."""

from __future__ import annotations

import pandas as pd
import pytest
from scipy.stats import beta

from talentflow.identity import evaluate, review
from tests.test_identity_evaluate import world_con


def _rows(n_new: int, wrong: dict[str, int], n_known: int = 10) -> pd.DataFrame:
    """Evaluation rows: ``n_known`` known people, ``n_new`` new ones of which ``wrong[s]``
    were attached to a person of stratum ``s``."""
    rows = [
        {"authorship_id": f"k{i}", "profile": True, "known": True, "ours_wrong_new": False,
         "attached_to": None, "person_key": f"K{i}", "cluster_evidence": ""}
        for i in range(n_known)
    ]  # fmt: skip
    i = 0
    for stratum, k in wrong.items():
        for _ in range(k):
            rows.append({"authorship_id": f"n{i}", "profile": True, "known": False,
                         "ours_wrong_new": True, "attached_to": stratum, "person_key": f"P{i}",
                         "cluster_evidence": ""})  # fmt: skip
            i += 1
    while i < n_new:
        rows.append({"authorship_id": f"n{i}", "profile": True, "known": False,
                     "ours_wrong_new": False, "attached_to": None, "person_key": f"P{i}",
                     "cluster_evidence": ""})  # fmt: skip
        i += 1
    # A hashed e-mail (not a profile) is never scored, wrong or not.
    rows.append({"authorship_id": "e0", "profile": False, "known": False, "ours_wrong_new": True,
                 "attached_to": "openreview", "person_key": "E", "cluster_evidence": ""})  # fmt: skip
    return pd.DataFrame(rows)


def test_estimate_weighs_each_stratum_by_its_share_of_new_people() -> None:
    rows = _rows(100, {"openreview": 4, "other ids": 6, "no ids": 10})
    labels = pd.DataFrame(
        {
            "authorship_id": ["n0", "n1", "n2", "n3", "n4", "n5", "n10", "n11"],
            "verdict": ["different", "unsure", "same", "same", "same", "same", "same", "same"],
        }
    )
    point, high, strata = review.estimate(rows, labels)
    by = {s.name: s for s in strata}
    # Unsure counts as wrong: 2 of 4 reviewed links to another profile.
    assert (by["openreview"].reviewed, by["openreview"].wrong) == (4, 2)
    assert by["other ids"].rate == 0.0 and by["no ids"].rate == 0.0
    assert point == pytest.approx(0.04 * 0.5)
    # Bonferroni over three strata: each bound at 1 - 0.05 / 3.
    each = 1 - 0.05 / 3
    expected = (
        0.04 * beta.ppf(each, 3, 2) + 0.06 * beta.ppf(each, 1, 2) + 0.10 * beta.ppf(each, 1, 2)
    )
    assert high == pytest.approx(expected)
    assert point < high


def test_a_stratum_nobody_reviewed_counts_as_all_wrong() -> None:
    rows = _rows(50, {"openreview": 2, "no ids": 3})
    labels = pd.DataFrame({"authorship_id": ["n0", "n1"], "verdict": ["same", "same"]})
    point, _, strata = review.estimate(rows, labels)
    assert point == pytest.approx(3 / 50)  # the unreviewed "no ids" links, all of them
    assert {s.name: s.upper for s in strata}["no ids"] == 1.0


def test_labels_from_another_run_or_unknown_verdicts_are_refused() -> None:
    rows = _rows(20, {"openreview": 2})
    with pytest.raises(ValueError, match="different runs"):
        review.estimate(rows, pd.DataFrame({"authorship_id": ["n9"], "verdict": ["same"]}))
    with pytest.raises(ValueError, match="no column verdict"):
        review.estimate(rows, pd.DataFrame({"authorship_id": ["n0"], "label": ["same"]}))
    with pytest.raises(ValueError, match="unknown verdicts"):
        review.estimate(rows, pd.DataFrame({"authorship_id": ["n0"], "verdict": ["maybe"]}))


def test_labels_of_links_taken_back_can_be_left_out_on_request(tmp_path, capsys) -> None:
    # The labelled run attached n0..n3 to another profile; this run took n3 back.
    rows = _rows(50, {"openreview": 3})
    labels = pd.DataFrame(
        {"authorship_id": ["n0", "n1", "n3"], "verdict": ["different", "same", "different"]}
    )
    with pytest.raises(ValueError, match="different runs"):
        review.estimate(rows, labels)
    point, _, strata = review.estimate(rows, labels, drop_unmade=True)
    assert {s.name: (s.reviewed, s.wrong) for s in strata}["openreview"] == (2, 1)
    assert point == pytest.approx(3 / 50 * 0.5)
    rows.to_parquet(tmp_path / "rows.parquet")
    labels.to_csv(tmp_path / "labels.csv", index=False)
    argv = ["--rows", str(tmp_path / "rows.parquet"), "--labels", str(tmp_path / "labels.csv")]
    # Without the option: a clear error naming the labels file, no traceback.
    with pytest.raises(SystemExit, match=r"labels\.csv: 1 labelled authorships"):
        review.main(argv)
    review.main([*argv, "--drop-unmade"])
    out = capsys.readouterr().out
    assert "left out 1 labels" in out and "reviewed 2, not the same human 1" in out


def test_sample_is_stratified_seeded_and_can_leave_out_a_first_sample() -> None:
    rows = _rows(200, {"openreview": 30, "other ids": 5, "no ids": 40})
    first = review.sample(rows, per_stratum=10, seed=1)
    assert first.attached_to.value_counts().to_dict() == {
        "openreview": 10, "other ids": 5, "no ids": 10
    }  # fmt: skip
    assert "e0" not in set(first.authorship_id)  # not a profile: not scored
    assert first.equals(review.sample(rows, per_stratum=10, seed=1))
    second = review.sample(rows, per_stratum=10, seed=2, exclude=first.authorship_id)
    assert not set(first.authorship_id) & set(second.authorship_id)
    assert list(second.review_id) == list(range(len(second)))


def test_evaluation_writes_a_sheet_of_the_links_it_calls_wrong(tmp_path) -> None:
    # Thresholds at zero make the new "Wei Wang" join an existing one: one wrong link.
    con = world_con()
    sheet = tmp_path / "sheet.txt"
    dump = tmp_path / "rows.parquet"
    scores, _ = evaluate.evaluate(
        con,
        con.table("authorships"),
        con.table("papers"),
        hide=("iclr2022",),
        params={"attach_threshold": 0.0, "margin": 0.0, "predict_threshold": 0.0},
        review_sheet=sheet,
        dump=dump,
    )
    assert scores[0].false_attach_new == pytest.approx(0.5)
    text = sheet.read_text()
    assert "#0 [openreview] n1#0 -> openreview:~Wei_Wang" in text
    assert "hidden:   iclr2022 | Wei Wang | openreview:~Wei_Wang9 | Fudan University" in text
    assert "attached: " in text and "co-authors: Qiang Zhao" in text
    template = pd.read_csv(sheet.with_suffix(".csv"))
    assert list(template.authorship_id) == ["n1#0"]
    # Filled in, the labels give the estimate: a wrong link confirmed is 1 of 2 new people.
    labels = template.assign(verdict="different")
    point, _, _ = review.estimate(pd.read_parquet(dump), labels)
    assert point == pytest.approx(0.5)


def test_sample_does_not_depend_on_row_order() -> None:
    rows = _rows(200, {"openreview": 30, "other ids": 5, "no ids": 40})
    shuffled = rows.sample(frac=1.0, random_state=7)
    a = review.sample(rows, per_stratum=10, seed=1)
    b = review.sample(shuffled, per_stratum=10, seed=1)
    assert list(a.authorship_id) == list(b.authorship_id)
