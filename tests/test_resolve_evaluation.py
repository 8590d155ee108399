"""Labelled slots, the held-out split, the baseline and the scoring of the evaluation."""

from __future__ import annotations

import json

import pytest

from talentflow.resolve.builder import build_gazetteer
from talentflow.resolve.calibration import calibrate_gazetteer, country_correct
from talentflow.resolve.evaluate import Baseline, evaluate, same_institution
from talentflow.resolve.labels import read_labelled, split_of


@pytest.fixture(scope="module")
def small_gaz():
    # Curated labs, aliases and place names only: compiles in well under a second.
    return build_gazetteer(None)


def test_split_holds_out_families_and_years():
    assert split_of("iccv", 2019) == "test"
    assert split_of("nips", 2017) == "test"
    assert split_of("nips", 2016) == "train"
    assert split_of("coling", 2020) == "calibration"
    assert split_of("cvpr", 2018) == "train"
    # the fresh held-out split: the newest labelled year of two venues
    assert split_of("cvpr", 2019) == "fresh" and split_of("acl", 2022) == "fresh"
    assert split_of("acl", 2021) == "train"
    # the second fresh split: newest year of the three largest families still in train
    assert {split_of("nips", 2018), split_of("aistats", 2025), split_of("corl", 2025)} == {"fresh2"}
    assert split_of("aistats", 2023) == "train" and split_of("corl", 2024) == "train"


def test_read_labelled_aligns_indices(tmp_path):
    papers = [
        {
            "author": "A;B;C",
            "aff": "Tsinghua University+MIT;;Stanford University",
            "aff_domain": "tsinghua.edu.cn;;stanford.edu",
            "aff_unique_norm": "Tsinghua University;Massachusetts Institute of Technology;;Stanford University",
            "aff_unique_index": "0+1;2;3",
            "aff_country_unique": "China;United States",
            # the country index skips the author without an affiliation
            "aff_country_unique_index": "0+1;1",
        },
        {  # misaligned: two authors, one affiliation -> skipped
            "author": "D;E",
            "aff": "Oxford",
            "aff_unique_norm": "University of Oxford",
            "aff_unique_index": "0",
            "aff_country_unique": "United Kingdom",
            "aff_country_unique_index": "0",
        },
        {"author": "F", "aff": "Somewhere"},  # unlabelled -> skipped
    ]
    (tmp_path / "nips").mkdir()
    (tmp_path / "nips" / "nips2017.json").write_text(json.dumps(papers))
    slots = read_labelled(tmp_path)
    assert len(slots) == 2
    first, second = slots
    assert first.institutions == ("Tsinghua University", "Massachusetts Institute of Technology")
    assert first.countries == ("China", "United States")
    assert first.domain == "tsinghua.edu.cn" and first.split == "test"
    assert second.affiliation == "Stanford University" and second.countries == ("United States",)


def test_country_correct_counts_greater_china_as_china():
    assert country_correct("HK", "CN") and country_correct("TW", "CN")
    assert not country_correct("CN", "HK")
    assert not country_correct(None, "US") and not country_correct("US", None)


def test_baseline_last_country_else_tld(small_gaz):
    base = Baseline(small_gaz)
    assert base.country("University of Oxford, UK + Federal University, Brazil", None) == "BR"
    assert base.country("MIT", "mit.edu") == "US"
    assert base.country("Some Lab", "foo.ac.jp") == "JP"
    assert base.country("Some Lab", "gmail.com") is None
    assert base.country("Tencent AI Lab", None) is None


def test_same_institution_uses_aliases(small_gaz):
    assert same_institution(small_gaz, "Meta", "Facebook AI Research")
    assert same_institution(small_gaz, "Google", "google")
    assert not same_institution(small_gaz, "Google", "Microsoft")
    assert not same_institution(small_gaz, None, "Microsoft")


def test_evaluate_and_calibrate_on_handmade_slots(small_gaz, tmp_path):
    papers = [
        {
            "author": "A;B;C",
            "aff": "Tencent AI Lab, Seattle;Microsoft Research Asia;Nowhere Institute",
            "aff_domain": ";;gmail.com",
            "aff_unique_norm": "Tencent;Microsoft;Nowhere Institute",
            "aff_unique_index": "0;1;2",
            "aff_country_unique": "United States;China;France",
            "aff_country_unique_index": "0;1;2",
        }
    ]
    (tmp_path / "coling").mkdir()
    (tmp_path / "coling" / "coling2020.json").write_text(json.dumps(papers))
    slots = read_labelled(tmp_path)
    scores = evaluate(small_gaz, slots)
    d = scores.as_dict()
    assert d["slots"] == 3
    assert d["country_accuracy"] == pytest.approx(2 / 3)
    assert d["answered"] == pytest.approx(2 / 3)
    assert d["institution_match"] == pytest.approx(2 / 3)
    table = calibrate_gazetteer(small_gaz, slots)
    assert table and all(0 < v < 1 for v in table.values())
