"""``talentflow resolve``: JSON lines in and out, bad lines, and the one-string explanation."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from talentflow.cli import app

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
runner = CliRunner()


def test_jsonl_file_to_file_with_bad_lines(tmp_path):
    src = tmp_path / "in.jsonl"
    lines = [
        json.dumps({"id": 1, "affiliation": "Tencent AI Lab, Seattle", "domain": None}),
        "this is not json",
        json.dumps({"id": 3, "affiliation": "Microsoft Research Asia", "domain": "microsoft.com"}),
        json.dumps([1, 2]),
        json.dumps({"id": 5, "affiliation": 42}),
        "",
        json.dumps(
            {"id": 7, "affiliation": "Dept. of CS\u0000\u0007, Tsinghua Univ.", "domain": None}
        ),
        json.dumps({"id": 8, "affiliation": "", "domain": "gmail.com"}),
        json.dumps({"id": 9, "affiliation": "x" * 200_000, "domain": None}),
    ]
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = runner.invoke(
        app, ["resolve", "--input", str(src), "--output", str(out), "--data", str(SHARED_DATA)]
    )
    assert result.exit_code == 1, result.output
    assert "line 2" in result.output and "line 4" in result.output and "line 5" in result.output
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == [1, 3, 7, 8, 9]
    by = {r["id"]: r for r in rows}
    assert by[1]["country"] == "US" and by[1]["affiliation"] == "Tencent AI Lab, Seattle"
    assert by[3]["country"] == "CN" and by[3]["institution"] == "Microsoft"
    assert by[7]["country"] == "CN"
    assert by[8]["country"] is None and by[8]["confidence"] == 0.0
    assert by[9]["country"] is None
    for r in rows:
        assert set(r) >= {
            "institution",
            "institution_id",
            "country",
            "countries",
            "sector",
            "confidence",
            "evidence",
        }
        assert isinstance(r["countries"], list) and isinstance(r["evidence"], list)


def test_jsonl_stdin_to_stdout():
    stdin = json.dumps({"id": "a", "affiliation": "Google Research, Zurich", "domain": None}) + "\n"
    result = runner.invoke(
        app, ["resolve", "--input", "-", "--output", "-", "--data", str(SHARED_DATA)], input=stdin
    )
    assert result.exit_code == 0, result.output
    row = json.loads(next(line for line in result.stdout.splitlines() if line.startswith("{")))
    assert row["id"] == "a" and row["country"] == "CH"


def test_single_string_explains():
    result = runner.invoke(app, ["resolve", "Tencent AI Lab, Seattle", "--data", str(SHARED_DATA)])
    assert result.exit_code == 0, result.output
    assert "US" in result.stdout
    assert "seattle" in result.stdout.lower() and "Tencent" in result.stdout


def test_usage_errors():
    result = runner.invoke(app, ["resolve"])
    assert result.exit_code == 2
    result = runner.invoke(app, ["resolve", "--input", "/nonexistent/file.jsonl"])
    assert result.exit_code == 2


def test_deeply_nested_line_is_reported_and_later_lines_still_resolved(tmp_path):
    src = tmp_path / "in.jsonl"
    lines = [
        json.dumps({"id": 1, "affiliation": "MIT", "domain": "mit.edu"}),
        "[" * 100_000 + "]" * 100_000,
        '{"id": 3, "affiliation": ' + "[" * 50_000 + "]" * 50_000 + "}",
        json.dumps({"id": 4, "affiliation": "Tsinghua University", "domain": None}),
    ]
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["resolve", "--input", str(src), "--output", str(out)])
    assert result.exit_code == 1, result.output
    text = " ".join(result.output.split())
    assert "line 2: JSON nested too deep to read" in text
    assert "line 3: JSON nested too deep to read" in text
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == [1, 4]
