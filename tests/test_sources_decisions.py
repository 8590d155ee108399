"""Decisions and tiers: the status table value by value, and papers built from small sources."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from talentflow.pipeline import build
from talentflow.sources import decisions
from tests.conftest import rows

#: What each status value means, written out here independently of the package's CSV.
EXPECTED: dict[str, tuple[str, str | None]] = {
    "Oral": ("accepted", "top"),
    "Talk": ("accepted", "top"),
    "Top-5%": ("accepted", "top"),
    "notable-top-5%": ("accepted", "top"),
    "Accept (Oral)": ("accepted", "top"),
    "Award": ("accepted", "top"),
    "Best Paper": ("accepted", "top"),
    "Outstanding Paper": ("accepted", "top"),
    "Spotlight": ("accepted", "highlight"),
    "Top-25%": ("accepted", "highlight"),
    "notable-top-25%": ("accepted", "highlight"),
    "Accept (Spotlight)": ("accepted", "highlight"),
    "Highlight": ("accepted", "highlight"),
    "Highlighted": ("accepted", "highlight"),
    "Poster": ("accepted", "standard"),
    "Accept": ("accepted", "standard"),
    "Accept (Poster)": ("accepted", "standard"),
    "Main": ("accepted", "standard"),
    "Long": ("accepted", "standard"),
    "Short": ("accepted", "standard"),
    "Long Main": ("accepted", "standard"),
    "Short Main": ("accepted", "standard"),
    "Findings": ("accepted", "standard"),
    "Long Findings": ("accepted", "standard"),
    "Short Findings": ("accepted", "standard"),
    "Technical": ("accepted", "standard"),
    "Industry": ("accepted", "standard"),
    "System Demonstrations": ("accepted", "standard"),
    "Demo": ("accepted", "standard"),
    "Reject": ("rejected", None),
    "Rejected": ("rejected", None),
    "Desk Reject": ("rejected", None),
    "Workshop": ("rejected", None),
    "Poster Workshop": ("rejected", None),
    "Oral Workshop": ("rejected", None),
    "Withdraw": ("withdrawn", None),
    "Withdrawn": ("withdrawn", None),
    "Desk Withdrawn": ("withdrawn", None),
    "Active": ("unknown", None),
}


@pytest.mark.parametrize(("status", "expected"), EXPECTED.items(), ids=list(EXPECTED))
def test_each_status_value_has_its_decision_and_tier(status, expected):
    got = decisions.classify(status)
    assert (got.decision, got.tier) == expected
    assert got.meaning and got.meaning != "status not in the table"


def test_the_table_holds_exactly_the_values_tested_here():
    assert set(decisions.table()) == {decisions.normalise(s) for s in EXPECTED}


@pytest.mark.parametrize("status", ["  top-5% ", "LONG   FINDINGS", "poster"])
def test_case_and_spacing_do_not_matter(status):
    assert decisions.classify(status).decision == "accepted"


@pytest.mark.parametrize("status", [None, "", "  ", "Accepted with minor revisions", "Maybe"])
def test_missing_or_unknown_values_are_unknown_never_guessed(status):
    got = decisions.classify(status)
    assert (got.decision, got.tier) == ("unknown", None)


def _write(path: Path, records: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(records), encoding="utf-8")


def _authors(forum: str, name: str) -> dict:
    return {"id": forum, "author": name, "authorids": f"~{name.replace(' ', '_')}1",
            "aff": "MIT", "aff_domain": "mit.edu"}  # fmt: skip


@pytest.fixture
def venue_build(tmp_path: Path) -> Path:
    """OpenReview author records of five submissions, four of them with paper metadata."""
    data = tmp_path / "data"
    _write(data / "openreview/iclr/iclr2023.json", [
        _authors("f1", "Ada Lovelace"), _authors("f2", "Alan Turing"),
        _authors("f3", "Grace Hopper"), _authors("f4", "Edsger Dijkstra"),
        _authors("f5", "Barbara Liskov"),
    ])  # fmt: skip
    _write(data / "openreview_venues/iclr/iclr2023.json", [
        {"id": "f1", "title": "Large Language Models Are Oral", "track": "main",
         "status": "Top-5%", "keywords": "large language models;alignment"},
        {"id": "f2", "title": "A Rejected Submission", "track": "main", "status": "Reject"},
        {"id": "f3", "title": "A Withdrawn Submission", "track": "main", "status": "Withdraw"},
        {"id": "f4", "title": "An Odd Status", "track": "main", "status": "Maybe Later",
         "primary_area": "optimization"},
    ])  # fmt: skip
    db = tmp_path / "s.duckdb"
    build(data, db, stages=["sources"])
    return db


def test_metadata_joins_the_author_records_on_the_forum_id(venue_build):
    got = {r[0]: r[1:] for r in rows(venue_build, """
        SELECT paper_id, title, keywords, status, decision, tier, primary_area, n_authors
        FROM papers""")}  # fmt: skip
    assert set(got) == {f"openreview:f{i}" for i in range(1, 6)}
    assert got["openreview:f1"] == (
        "Large Language Models Are Oral", "large language models;alignment", "Top-5%",
        "accepted", "top", None, 1,
    )  # fmt: skip
    assert got["openreview:f2"][3:5] == ("rejected", None)
    assert got["openreview:f3"][3:5] == ("withdrawn", None)
    # an unmapped status is kept as given but decides nothing
    assert got["openreview:f4"][2:6] == ("Maybe Later", "unknown", None, "optimization")
    # no metadata: no title, no decision
    assert got["openreview:f5"][0] is None and got["openreview:f5"][3] == "unknown"
    # metadata adds no author slots: one slot per author record
    assert rows(venue_build, "SELECT count(*) FROM authorships")[0][0] == 5


def test_unmapped_statuses_are_counted_in_the_build_params(venue_build):
    (value,) = rows(venue_build, """SELECT value FROM build_params
        WHERE stage = 'sources' AND name = 'unmapped_statuses'""")[0]  # fmt: skip
    assert json.loads(value) == {"Maybe Later": 1}


def test_the_build_command_warns_about_unmapped_statuses_without_failing(tmp_path):
    from typer.testing import CliRunner

    from talentflow.cli import app

    data = tmp_path / "data"
    _write(data / "openreview_venues/colm/colm2024.json", [
        {"id": "x", "title": "An Odd Decision", "status": "Maybe Later"},
        {"id": "y", "title": "A Normal Decision", "status": "Poster"},
    ])  # fmt: skip
    result = CliRunner().invoke(
        app, ["build", "--data", str(data), "--db", str(tmp_path / "s.duckdb"),
              "--stage", "sources"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert "1 paper(s) have a status the decision table does not know" in out
    assert "'Maybe Later' (1)" in out


def test_the_venue_decision_wins_over_the_paper_list_status(tmp_path):
    data = tmp_path / "data"
    _write(data / "paperlists/nips/nips2023.json", [
        {"id": "f1", "title": "Same Paper In Two Sources", "status": "Poster",
         "author": "Ada Lovelace", "aff": "MIT", "authorids": "~Ada_Lovelace1"},
    ])  # fmt: skip
    _write(data / "openreview_venues/nips/nips2023.json", [
        {"id": "f1", "title": "Same Paper In Two Sources", "track": "main", "status": "Spotlight"},
    ])  # fmt: skip
    db = tmp_path / "s.duckdb"
    build(data, db, stages=["sources"])
    assert rows(db, "SELECT status, decision, tier, sources FROM papers") == [
        ("Spotlight", "accepted", "highlight", ["openreview_venues", "paperlists"])
    ]


def test_a_bad_metadata_record_is_quarantined_and_the_rest_kept(tmp_path):
    data = tmp_path / "data"
    _write(data / "openreview_venues/corl/corl2023.json", [
        {"id": "a", "title": "Fine Robot Paper", "track": "main", "status": "Oral"},
        {"id": "b", "title": 42, "track": "main", "status": "Poster"},
        {"id": "c", "title": "Another Fine Robot Paper", "track": "main", "status": "Poster"},
    ])  # fmt: skip
    db = tmp_path / "s.duckdb"
    build(data, db, stages=["sources"])
    assert rows(db, "SELECT paper_id, decision FROM papers ORDER BY 1") == [
        ("openreview:a", "accepted"), ("openreview:c", "accepted"),
    ]  # fmt: skip
    (bad,) = rows(db, "SELECT file, record_index, reason FROM quarantine")
    assert bad[0] == "openreview_venues/corl/corl2023.json" and bad[1] == 1
    assert '"title"' in bad[2]
    assert rows(db, "SELECT status FROM ingest_log")[0][0] == "partial"


def test_docs_list_every_status_value_of_the_table():
    docs = (Path(__file__).resolve().parents[1] / "docs" / "sources.md").read_text("utf-8")
    section = docs.split("## Decisions and tiers", 1)[1].split("\n## ", 1)[0]
    table_rows = [
        line for line in section.splitlines() if line.startswith("| ") and "---" not in line
    ]
    documented: dict[str, tuple[str, str | None]] = {}
    for row in table_rows[1:]:
        values, decision, tier = (cell.strip() for cell in row.strip("|").split("|"))
        for value in values.split(", "):
            documented[decisions.normalise(value)] = (decision, tier or None)
    assert documented == {k: (d.decision, d.tier) for k, d in decisions.table().items()}
