"""Fault injection: every kind of malformed input under every source folder, one full build each.

Each source folder (paperlists/, openreview/, openreview_venues/, openalex/) gets one file per
fault (a truncated file, an object where an array belongs, invalid UTF-8, a raw NUL byte, a
syntax error mid-file, deep nesting, 0 bytes, a directory named like a file, a symbolic link
loop, a FIFO, a huge string). The build must finish with exit code 1, keep every valid record of
every file, and quarantine each bad one with its file, its position and the reason.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from talentflow.cli import app

#: Nesting depth of the deep record: far beyond what Python's recursive JSON parser reads.
DEEP = 100_000
#: Length of the huge string (a valid record: kept, not quarantined).
HUGE = 2_000_000


def _author_list(i: int) -> dict:
    return {
        "id": f"r{i}",
        "title": f"Paper number {i} on learning",
        "author": f"Ann Lee{i};Bo Chen{i}",
        "aff": "MIT;Tsinghua University",
        "aff_domain": "mit.edu;tsinghua.edu.cn",
        "aff_unique_norm": "Massachusetts Institute of Technology;Tsinghua University",
        "aff_unique_index": "0;1",
        "aff_country_unique": "United States;China",
        "aff_country_unique_index": "0;1",
    }


def _venue_record(i: int) -> dict:
    return {
        "id": f"r{i}",
        "title": f"Paper number {i} on learning",
        "track": "main",
        "keywords": "learning;graphs",
        "status": "Poster",
    }


def _work(i: int) -> dict:
    return {
        "id": f"https://openalex.org/W{i}",
        "title": f"Work number {i} on learning",
        "publication_year": 2020,
        "authorships": [
            {
                "author": {"id": f"https://openalex.org/A{i}", "display_name": f"Ann Lee{i}"},
                "raw_affiliation_string": "MIT",
                "institutions": [{"display_name": "MIT", "country_code": "US"}],
            }
        ],
    }


@dataclass
class Case:
    """One file: its bytes (or a kind of non-file), the ids kept and the positions quarantined."""

    kept: list[int]
    bad: dict[int | None, str] = field(default_factory=dict)  # position -> words of the reason
    content: bytes | None = None
    kind: str = "file"  # "file", "directory", "loop" or "fifo"


def _records(parts: list[bytes]) -> bytes:
    return b"[" + b", ".join(parts) + b"]"


def _cases(record: object, folder: str) -> dict[str, Case]:
    """The faults, each over records 0..4 made by ``record(i)``."""

    def enc(i: int) -> bytes:
        return json.dumps(record(i)).encode()  # type: ignore[operator]

    good = [enc(i) for i in range(5)]
    nul = enc(1).replace(b"number", b"num\x00ber", 1)
    syntax = enc(1).replace(b'"title": ', b'"title" ', 1)
    utf8 = enc(1).replace(b"number", b"num\xff\xfeber", 1)
    deep = b"[" * DEEP + b"]" * DEEP
    huge_record = dict(record(1))  # type: ignore[operator]
    huge_record["title"] = "x" * HUGE
    whole = _records(good)
    return {
        "truncated": Case([0, 1, 2], {3: "truncated"}, whole[: whole.index(good[3]) + 20]),
        "object": Case([], {None: "expected a JSON array"}, enc(0))
        if folder != "openalex"
        # OpenAlex files may be one object (JSON Lines, or an API page): an object where the
        # page's array of results belongs is one record that is not a work
        else Case([], {0: 'field "id"'}, b'{"meta": {"count": 1}, "results": ' + enc(0) + b"}"),
        "utf8": Case([0, 2, 3, 4], {1: "invalid UTF-8"}, _records([good[0], utf8, *good[2:]])),
        "nul": Case(
            [0, 2, 3, 4], {1: "raw control character U+0000"}, _records([good[0], nul, *good[2:]])
        ),
        "syntax": Case([0, 2, 3, 4], {1: "malformed JSON"}, _records([good[0], syntax, *good[2:]])),
        "deep": Case([0, 2, 3, 4], {1: "not a JSON object"}, _records([good[0], deep, *good[2:]])),
        # deep nesting in a file the tolerant reader has to scan (another record is bad too)
        "deep_and_nul": Case(
            [0, 2, 4],
            {1: "not a JSON object", 3: "raw control character U+0000"},
            _records([good[0], deep, good[2], nul.replace(b"r1", b"r3"), good[4]]),
        ),
        "empty": Case([], {None: "empty file"}, b""),
        "directory": Case([], {None: "directory"}, kind="directory"),
        "loop": Case([], {None: "symbolic link loop"}, kind="loop"),
        # opening a FIFO would block the build: it is logged, never opened
        "fifo": Case([], {None: "not a regular file"}, kind="fifo"),
        "huge": Case(
            [0, 1, 2, 3, 4], {}, _records([good[0], json.dumps(huge_record).encode(), *good[2:]])
        ),
    }


def _place(path: Path, case: Case) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if case.kind == "directory":
        path.mkdir()
    elif case.kind == "loop":
        os.symlink(path.name, path)
    elif case.kind == "fifo":
        os.mkfifo(path)
    else:
        assert case.content is not None
        path.write_bytes(case.content)


#: Per source folder: how a fault's file is named, and how each record is made.
FOLDERS = {
    "paperlists": (lambda n, year: f"paperlists/icml/icml{year}.json", _author_list),
    "openreview": (lambda n, year: f"openreview/iclr/iclr{year}.json", _author_list),
    "openreview_venues": (
        lambda n, year: f"openreview_venues/iclr/iclr{year}.json",
        _venue_record,
    ),
    "openalex": (lambda n, year: f"openalex/faults/{n}.json", _work),
}


def _position(index: int | tuple | None) -> int:
    index = index[0] if isinstance(index, tuple) else index
    return -1 if index is None else index


def _rows(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


@pytest.mark.parametrize("folder", sorted(FOLDERS))
def test_every_fault_is_quarantined_and_every_valid_record_kept(tmp_path: Path, folder: str):
    name_of, record = FOLDERS[folder]
    data = tmp_path / "data"
    cases = _cases(record, folder)
    files = {}
    for year, (name, case) in enumerate(cases.items(), start=2001):
        rel = name_of(name, year)
        _place(data / rel, case)
        files[rel] = case
    # a clean file beside them
    clean = name_of("clean", 2020)
    (data / clean).write_bytes(_records([json.dumps(record(i + 10)).encode() for i in range(3)]))
    db = tmp_path / "store.duckdb"
    result = CliRunner().invoke(app, ["build", "--data", str(data), "--db", str(db)])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    log = {
        r[0]: r[1:] for r in _rows(db, "SELECT file, status, records_kept, message FROM ingest_log")
    }
    assert log[clean][:2] == ("ok", 3)
    for rel, case in files.items():
        status, kept, message = log[rel]
        expected_status = "ok" if not case.bad else ("partial" if case.kept else "failed")
        assert (status, kept) == (expected_status, len(case.kept)), (rel, log[rel])
        quarantined = _rows(
            db,
            "SELECT record_index, reason FROM quarantine WHERE file = ? "
            "ORDER BY record_index NULLS FIRST",
            [rel],
        )
        assert sorted(quarantined, key=_position) == quarantined, rel
        assert [q[0] for q in quarantined] == sorted(case.bad, key=_position), rel
        for index, reason in quarantined:
            assert case.bad[index].lower() in reason.lower(), (rel, index, reason)
        if case.bad:
            assert message, rel
        # records are numbered by their id (r3, W3): the kept ones are exactly the valid ones
        ids = _rows(db, "SELECT record_id FROM raw_papers WHERE source_file = ?", [rel])
        assert sorted(int(re.match(r"[rW]?(\d+)", r[0])[1]) for r in ids) == case.kept, rel
    # the build went through every stage (paper metadata alone has no authors to link)
    assert _rows(db, "SELECT count(*) FROM build_info WHERE key = 'finished'") == [(1,)]
    persons = _rows(db, "SELECT count(*) FROM persons")[0][0]
    assert persons > 0 if folder != "openreview_venues" else persons == 0
