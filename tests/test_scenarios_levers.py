"""Scenario files and levers: parsing, validation, the parameters each lever names."""

from __future__ import annotations

from pathlib import Path

import pytest

from talentflow.scenarios import LEVER_KINDS, Lever, Scenario, ScenarioError

EXAMPLES = Path(__file__).resolve().parents[1] / "src" / "talentflow" / "scenarios" / "examples"


def test_shipped_examples_parse_and_cover_the_four_policies():
    files = sorted(EXAMPLES.glob("*.toml"))
    assert len(files) >= 4
    kinds = set()
    for f in files:
        s = Scenario.from_toml(f)
        assert s.levers and s.name
        assert len(s.assumptions()) == len(s.levers)
        kinds |= {lv.kind for lv in s.levers}
    assert {"attractiveness", "retention", "inflow", "academia_to_industry"} <= kinds


def test_roundtrip_and_describe(tmp_path):
    s = Scenario(
        name="x",
        levers=[
            Lever("inflow", "us", 0.6, origins=("cn", "IN")),
            Lever("attractiveness", "CN", 1.5, stages=("student",), from_year=2027),
        ],
    )
    again = Scenario.from_dict(s.to_dict())
    assert again.levers == s.levers
    assert again.levers[0].country == "US" and again.levers[0].origins == ("CN", "IN")
    text = s.assumptions()
    assert "0.6" in text[0] and "CN, IN" in text[0]
    assert "from 2027" in text[1] and "x0.667" in text[1]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("[[lever]]\nkind='teleport'\ncountry='US'\nfactor=2\n", "unknown lever kind"),
        ("[[lever]]\nkind='inflow'\ncountry='USA'\nfactor=2\n", "alpha-2"),
        ("[[lever]]\nkind='inflow'\ncountry='US'\nfactor=-1\n", "between 0.01 and 100"),
        ("[[lever]]\nkind='inflow'\ncountry='US'\nfactor=1e308\n", "between 0.01 and 100"),
        ("[[lever]]\nkind='inflow'\ncountry='US'\nfactor=1.2\nfrom_year=99999\n", "between 1900"),
        ("[[lever]]\nkind='inflow'\ncountry='US'\nfactor=1.2\nfrom_year='x'\n", "whole year"),
        ("[[lever]]\nkind='inflow'\ncountry='US'\nfactor=1.2\norigins='CN'\n", "list of"),
        ("[[lever]]\nkind='inflow'\ncountry='US'\n", "missing"),
        ("[[lever]]\nkind='retention'\ncountry='US'\nfactor=1.2\nsector='space'\n", "sector"),
        ("[[lever]]\nkind='retention'\ncountry='US'\nfactor=1.2\nstages=['king']\n", "stage"),
        ("[[lever]]\nkind='inflow'\ncountry='US'\nfactor=1\ncolour='red'\n", "unknown lever key"),
        ("name='empty'\n", "at least one"),
        ("name = [\n", "not valid TOML"),
    ],
)
def test_invalid_files_say_what_is_wrong(tmp_path, body, message):
    f = tmp_path / "bad.toml"
    f.write_text(body)
    with pytest.raises(ScenarioError, match=message):
        Scenario.from_toml(f)


def test_scenario_file_that_is_not_utf8_is_refused_with_the_byte_named(tmp_path):
    f = tmp_path / "bad.toml"
    f.write_bytes(b"name = '\xff'\n")
    with pytest.raises(ScenarioError, match=r"not UTF-8 text \(byte b'\\xff' at offset 8\)"):
        Scenario.from_toml(f)


def test_every_kind_is_documented():
    doc = (Path(__file__).resolve().parents[1] / "docs" / "scenarios.md").read_text()
    for kind in LEVER_KINDS:
        assert f"`{kind}`" in doc
