"""The subfield rules: behaviour on chosen titles, and precision on the labelled sample."""

from __future__ import annotations

import pandas as pd
import pytest

from talentflow.indicators.subfields import SUBFIELDS, classify, evaluate, labelled_sample


def tag(title: str, venue: str = "nips", year: int = 2023, **extra: str) -> tuple[str, str]:
    df = pd.DataFrame(
        {
            "paper_id": ["p"],
            "title": [title],
            "venue": [venue],
            "year": [year],
            **{k: [v] for k, v in extra.items()},
        }
    )
    row = classify(df).iloc[0]
    return row.subfield, row.rule


@pytest.mark.parametrize(
    ("title", "venue", "year", "expected"),
    [
        ("Aligning Large Language Models with Human Feedback", "icml", 2024, "llm"),
        ("RoBERTa Probing for Syntax", "acl", 2021, "llm"),
        ("Kernel Mean Embeddings in a Reproducing Kernel Hilbert Space", "nips", 2021, "other_ml"),
        ("Recurrent Neural Network Language Models", "nips", 2015, "nlp"),  # before the LLM era
        ("Recurrent Neural Network Language Models", "nips", 2021, "llm"),
        ("Deep Reinforcement Learning for Image Inpainting", "cvpr", 2019, "vision"),
        ("Deep Reinforcement Learning for Atari", "nips", 2018, "rl"),
        ("Legged Locomotion with Reinforcement Learning", "nips", 2021, "robotics"),
        ("Minimax Lower Bounds for Estimation", "icml", 2017, "theory"),
        ("A Benchmark for Model Metrology", "colm", 2024, "llm"),  # weak venue default
        ("Sample Complexity of Something", "colt", 2023, "theory"),
        ("Graph Neural Networks for Molecules", "nips", 2021, "other_ml"),
        ("Learning Privacy Policies of Apps", "www", 2024, "other_ml"),
    ],
)
def test_rules(title, venue, year, expected):
    assert tag(title, venue, year)[0] == expected


def test_rule_names_the_evidence():
    subfield, rule = tag("Watermarks for LLMs")
    assert subfield == "llm" and rule == "llm:text:llms"
    assert tag("Face Alignment", venue="iccv")[1] == "vision:venue:iccv"
    assert tag("")[1] == "other_ml:default"


def test_abstract_only_counts_for_llm_vocabulary():
    assert tag("A new method", abstract="We fine-tune large language models.")[0] == "llm"
    # an incidental "images" in the abstract does not make a paper vision
    assert tag("A new method", abstract="Experiments on images and text.")[0] == "other_ml"


def test_missing_titles_and_llm_era_flag():
    df = pd.DataFrame(
        {
            "paper_id": ["a", "b"],
            "title": [None, "BERT"],
            "venue": ["nips", "nips"],
            "year": [2022, 2018],
        }
    )
    out = classify(df, llm_era_start=2019).set_index("paper_id")
    assert out.loc["a", "subfield"] == "other_ml"
    assert out.loc["b", "subfield"] == "llm" and not out.loc["b", "is_llm_era"]
    assert set(out.columns) == {"subfield", "is_llm_era", "rule"}


def test_labelled_sample_is_documented_and_complete():
    sample = labelled_sample()
    assert len(sample) >= 300
    assert set(sample["label"]) == set(SUBFIELDS)
    assert sample["title"].str.len().gt(0).all()


def test_precision_on_labelled_sample():
    ev = evaluate().set_index("subfield")
    assert ev.loc["llm", "precision"] >= 0.85
    assert ev.loc["all", "precision"] >= 0.8  # accuracy
    for s in SUBFIELDS:
        assert ev.loc[s, "precision"] >= 0.75, s


def test_classify_is_row_order_invariant():
    sample = labelled_sample().assign(paper_id=lambda d: d.index.astype(str))
    a = classify(sample).set_index("paper_id").sort_index()
    b = classify(sample.sample(frac=1, random_state=3)).set_index("paper_id").sort_index()
    pd.testing.assert_frame_equal(a, b)
