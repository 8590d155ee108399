"""Bad input, incremental rebuilds and the atomic swap of the store."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from talentflow import pipeline
from talentflow.cli import app
from talentflow.pipeline import build
from talentflow.sources.stage import SourceError
from talentflow.store import building_path
from tests.conftest import rows


def _good(i: int) -> dict:
    return {
        "id": f"p{i}",
        "title": f"Paper number {i}",
        "author": f"A{i}; B{i}",
        "aff": "MIT; Tsinghua University",
        "aff_domain": "mit.edu; tsinghua.edu.cn",
    }


def _write(data: Path, rel: str, content: str | bytes) -> Path:
    path = data / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def _array(records: list) -> str:
    return json.dumps(records)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    _write(data, "paperlists/icml/icml2020.json", _array([_good(i) for i in range(5)]))
    return data


def test_truncated_json_keeps_records_before_the_cut(tmp_path, corpus):
    text = _array([_good(i) for i in range(10, 14)])
    _write(corpus, "paperlists/icml/icml2021.json", text[: len(text) - 30])
    db = tmp_path / "s.duckdb"
    build(corpus, db, stages=["sources"])
    log = rows(
        db,
        "SELECT status, records_kept, records_quarantined, message FROM ingest_log "
        "WHERE file = 'paperlists/icml/icml2021.json'",
    )[0]
    assert log[0] == "partial" and log[1] == 3 and log[2] == 1
    assert "truncated" in log[3] and "record 3" in log[3]
    q = rows(db, "SELECT file, record_index, reason FROM quarantine")
    assert q == [("paperlists/icml/icml2021.json", 3, q[0][2])]
    assert rows(db, "SELECT count(*) FROM papers WHERE year = 2021")[0][0] == 3


def test_object_where_array_expected(tmp_path, corpus):
    _write(corpus, "paperlists/icml/icml2021.json", json.dumps(_good(1)))
    db = tmp_path / "s.duckdb"
    build(corpus, db, stages=["sources"])
    status, message = rows(db, "SELECT status, message FROM ingest_log WHERE file LIKE '%2021%'")[0]
    assert status == "failed" and "expected a JSON array" in message
    assert rows(db, "SELECT count(*) FROM papers")[0][0] == 5  # the good file is kept


def test_wrong_field_types_are_quarantined_with_the_field_named(tmp_path, corpus):
    records = [
        _good(20),
        {**_good(21), "author": ["A", "B"]},
        {**_good(22), "aff": 7},
        "x",
        _good(23),
    ]
    _write(corpus, "paperlists/icml/icml2021.json", _array(records))
    db = tmp_path / "s.duckdb"
    build(corpus, db, stages=["sources"])
    q = rows(db, "SELECT record_index, reason FROM quarantine ORDER BY record_index")
    assert [r[0] for r in q] == [1, 2, 3]
    assert 'field "author" is ARRAY' in q[0][1]
    assert 'field "aff" is' in q[1][1] and "expected a string" in q[1][1]
    assert "not a JSON object" in q[2][1]
    assert rows(db, "SELECT count(*) FROM papers WHERE year = 2021")[0][0] == 2


def test_record_without_author_list_is_quarantined_in_an_otherwise_clean_file(tmp_path, corpus):
    """A missing field is no type at all: the fast path must still send the file to the careful one."""
    no_author = {k: v for k, v in _good(41).items() if k != "author"}
    _write(corpus, "paperlists/icml/icml2021.json", _array([_good(40), no_author, _good(42)]))
    db = tmp_path / "s.duckdb"
    build(corpus, db, stages=["sources"])
    assert rows(db, "SELECT record_index, reason FROM quarantine") == [
        (1, 'missing field "author"')
    ]
    assert rows(db, "SELECT status, records_kept FROM ingest_log WHERE file LIKE '%2021%'") == [
        ("partial", 2)
    ]


def test_invalid_utf8_quarantines_only_that_record(tmp_path, corpus):
    good = _array([_good(30)])[1:-1].encode()
    bad = _array([_good(31)])[1:-1].encode().replace(b"Paper", b"Pap\xff\xfer")
    _write(
        corpus,
        "paperlists/icml/icml2021.json",
        b"[" + good + b"," + bad + b"," + good.replace(b"30", b"32") + b"]",
    )
    db = tmp_path / "s.duckdb"
    build(corpus, db, stages=["sources"])
    q = rows(db, "SELECT record_index, reason FROM quarantine")
    assert len(q) == 1 and q[0][0] == 1 and "invalid UTF-8" in q[0][1]
    ids = sorted(r[0] for r in rows(db, "SELECT paper_id FROM papers WHERE year = 2021"))
    assert ids == ["paperlists:icml2021:p30", "paperlists:icml2021:p32"]


def test_empty_file_and_badly_named_file(tmp_path, corpus):
    _write(corpus, "paperlists/icml/icml2021.json", "")
    _write(corpus, "paperlists/icml/notes.json", "[]")
    db = tmp_path / "s.duckdb"
    build(corpus, db, stages=["sources"])
    log = dict(rows(db, "SELECT file, message FROM ingest_log WHERE status = 'failed'"))
    assert "empty file" in log["paperlists/icml/icml2021.json"]
    assert "does not follow" in log["paperlists/icml/notes.json"]


def test_directory_that_is_not_a_source(tmp_path):
    (tmp_path / "nothing").mkdir()
    with pytest.raises(SourceError, match="not a source directory"):
        build(tmp_path / "nothing", tmp_path / "s.duckdb", stages=["sources"])
    result = CliRunner().invoke(
        app, ["build", "--data", str(tmp_path / "nothing"), "--db", str(tmp_path / "s.duckdb")]
    )
    assert result.exit_code == 2  # a bad --data is a bad argument, not a failed build
    assert "not a source directory" in result.output
    assert "Traceback" not in result.output


def test_cli_build_reports_quarantine_with_exit_code_1(tmp_path, corpus):
    _write(corpus, "paperlists/icml/icml2021.json", '[{"id": 1, "author": 5}]')
    db = tmp_path / "s.duckdb"
    result = CliRunner().invoke(
        app, ["build", "--data", str(corpus), "--db", str(db), "--stage", "sources"]
    )
    assert result.exit_code == 1, result.output
    assert "paperlists/icml/icml2021.json" in result.output and "record 0" in result.output


def test_incremental_rebuild_reparses_only_changed_files(tmp_path, corpus):
    _write(corpus, "paperlists/icml/icml2021.json", _array([_good(40)]))
    db = tmp_path / "s.duckdb"
    build(corpus, db, stages=["sources"])
    before = rows(db, "SELECT * FROM authorships ORDER BY authorship_id")
    build(corpus, db, stages=["sources"])
    assert {r[0] for r in rows(db, "SELECT status FROM ingest_log")} == {"unchanged"}
    assert rows(db, "SELECT * FROM authorships ORDER BY authorship_id") == before
    _write(corpus, "paperlists/icml/icml2021.json", _array([_good(40), _good(41)]))
    build(corpus, db, stages=["sources"])
    status = dict(rows(db, "SELECT file, status FROM ingest_log"))
    assert status == {
        "paperlists/icml/icml2020.json": "unchanged",
        "paperlists/icml/icml2021.json": "ok",
    }
    assert rows(db, "SELECT count(*) FROM papers")[0][0] == 7


def test_failed_build_leaves_previous_store_intact(tmp_path, corpus, monkeypatch):
    db = tmp_path / "s.duckdb"
    build(corpus, db, stages=["sources"])
    before = rows(db, "SELECT * FROM authorships ORDER BY authorship_id")
    _write(corpus, "paperlists/icml/icml2021.json", _array([_good(50)]))

    def crash(ctx):
        raise RuntimeError("simulated crash in a later stage")

    monkeypatch.setattr(
        pipeline, "STAGES", [pipeline.STAGES[0], ("boom", "tests.test_sources_robustness")]
    )
    monkeypatch.setattr("tests.test_sources_robustness.run", crash, raising=False)
    with pytest.raises(RuntimeError, match="simulated crash"):
        build(corpus, db)
    assert rows(db, "SELECT * FROM authorships ORDER BY authorship_id") == before
    assert not building_path(db).exists()


def test_leftover_from_a_killed_build_is_ignored(tmp_path, corpus):
    db = tmp_path / "s.duckdb"
    build(corpus, db, stages=["sources"])
    # a hard kill leaves a half-written file behind; the store itself is untouched
    building_path(db).write_bytes(b"half-written garbage")
    assert rows(db, "SELECT count(*) FROM papers")[0][0] == 5
    build(corpus, db, stages=["sources"])
    assert rows(db, "SELECT count(*) FROM papers")[0][0] == 5
    assert not building_path(db).exists()


def test_export_formats_and_stdout(tmp_path, corpus):
    db = tmp_path / "s.duckdb"
    build(corpus, db, stages=["sources"])
    runner = CliRunner()
    for ext in ("jsonl", "csv", "parquet"):
        out = tmp_path / f"a.{ext}"
        result = runner.invoke(
            app, ["export", "authorships", "--db", str(db), "--output", str(out)]
        )
        assert result.exit_code == 0, result.output
        reader = {"jsonl": "read_json_auto", "csv": "read_csv_auto", "parquet": "read_parquet"}[ext]
        assert duckdb.sql(f"SELECT count(*) FROM {reader}('{out}')").fetchone()[0] == 10
    result = runner.invoke(app, ["export", "papers", "--db", str(db), "--output", "-"])
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 5 and {"paper_id", "title", "sources"} <= set(lines[0])
    bad = runner.invoke(app, ["export", "nope", "--db", str(db)])
    assert bad.exit_code == 2 and "no table 'nope'" in bad.output
    missing = runner.invoke(app, ["export", "papers", "--db", str(tmp_path / "none.duckdb")])
    assert missing.exit_code == 3


def test_stats_command(tmp_path, corpus):
    db = tmp_path / "s.duckdb"
    build(corpus, db, stages=["sources"])
    result = CliRunner().invoke(app, ["stats", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "authorships" in result.output and "icml" in result.output


def test_cut_short_gzip_keeps_the_records_before_the_cut(tmp_path, corpus):
    import gzip

    lines = "".join(
        json.dumps(
            {
                "id": f"https://openalex.org/W{i}",
                "title": f"Work {i} on learning",
                "publication_year": 2023,
                "authorships": [],
            }
        )
        + "\n"
        for i in range(200)
    )
    packed = gzip.compress(lines.encode())
    _write(corpus, "openalex/works/part_000.gz", packed[: len(packed) * 2 // 3])
    db = tmp_path / "s.duckdb"
    build(corpus, db, stages=["sources"])
    status, kept, message = rows(
        db, "SELECT status, records_kept, message FROM ingest_log WHERE source = 'openalex'"
    )[0]
    assert status == "partial" and 0 < kept < 200 and "record(s) quarantined" in message
    reasons = [r for (r,) in rows(db, "SELECT reason FROM quarantine")]
    assert any("truncated gzip" in r for r in reasons)
    works = rows(db, "SELECT count(*) FROM papers WHERE paper_id LIKE 'openalex:%'")[0][0]
    assert works == kept  # every record before the cut is kept


def test_unreadable_file_is_logged_not_read(tmp_path, corpus, monkeypatch):
    """A file without read permission (simulated: the tests run as root, who may read all)."""
    from talentflow.sources import records

    secret = _write(corpus, "paperlists/icml/icml2021.json", _array([_good(50)]))
    real_access = records.os.access
    monkeypatch.setattr(
        records.os, "access", lambda p, mode: Path(p) != secret and real_access(p, mode)
    )
    db = tmp_path / "s.duckdb"
    build(corpus, db, stages=["sources"])
    log = rows(db, "SELECT status, message FROM ingest_log WHERE file LIKE '%2021%'")
    assert log == [("failed", "cannot read: permission denied")]
    assert rows(db, "SELECT record_index, reason FROM quarantine") == [
        (None, "cannot read: permission denied")
    ]
    assert rows(db, "SELECT count(*) FROM papers")[0][0] == 5


def test_out_of_memory_while_reading_a_file_is_not_taken_for_a_bad_file(tmp_path: Path) -> None:
    # the tolerant record-by-record rescan is for malformed files; running out of memory
    # must surface (the build then names the stage and keeps the previous store)
    from talentflow.sources.records import load_records

    class OutOfMemoryDb:
        def execute(self, *args: object, **kwargs: object) -> None:
            raise duckdb.OutOfMemoryException("Out of Memory Error: failed to allocate")

    path = tmp_path / "works.json"
    path.write_text('[{"id": "W1"}]')
    with pytest.raises(duckdb.OutOfMemoryException):
        load_records(OutOfMemoryDb(), path, "t", "works.json")
