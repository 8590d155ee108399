"""The OpenAlex snapshot source: layout discovery, the AI filter, the tables contract."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import duckdb
import pytest

from talentflow.sources.openalex_snapshot import (
    AIFilter,
    build_tables,
    discover,
    ingest_snapshot,
    write_parquet,
)
from talentflow.synth import generate

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("snap")
    generate(3_000, root / "data", seed=11, data_dir=DATA, block_slots=1_000)
    return root


def _db() -> duckdb.DuckDBPyConnection:
    db = duckdb.connect()
    db.execute("SET enable_progress_bar = false")
    return db


def _works(root: Path) -> list[dict]:
    return [
        json.loads(line)
        for p in sorted(root.glob("data/works/*/*.gz"))
        for line in gzip.decompress(p.read_bytes()).decode().splitlines()
    ]


def test_discover_finds_parts_from_any_level(snapshot: Path) -> None:
    parts = discover(snapshot)
    assert len(parts) == 3
    assert parts == discover(snapshot / "data") == discover(snapshot / "data" / "works")
    assert discover(snapshot, since="2099-01-01") == []
    with pytest.raises(FileNotFoundError, match="no OpenAlex snapshot"):
        discover(snapshot / "nowhere")


def test_ai_filter_keeps_exactly_the_ai_works(snapshot: Path) -> None:
    works = _works(snapshot)
    ai = {
        w["id"].rsplit("/", 1)[1]
        for w in works
        if any(c["id"] == "https://openalex.org/C154945302" for c in w["concepts"])
    }
    assert 0 < len(ai) < len(works)
    db = _db()
    report = build_tables(db, snapshot)
    assert report.works_read == len(works) and report.works_kept == len(ai)
    kept = {r[0] for r in db.execute("SELECT openalex_id FROM papers").fetchall()}
    assert kept == ai
    # Topics alone (no concepts) select the same works here.
    db2 = _db()
    only_topics = ingest_snapshot(db2, snapshot, ai_filter=AIFilter(concepts=()))
    assert only_topics.works_kept == len(ai)


def test_venue_list_filter(snapshot: Path) -> None:
    works = _works(snapshot)
    lancet = sum(w["primary_location"]["source"]["display_name"] == "The Lancet" for w in works)
    db = _db()
    report = ingest_snapshot(
        db, snapshot, ai_filter=AIFilter(subfields=(), concepts=(), venues=("the lancet",))
    )
    assert report.works_kept == lancet > 0


def test_rows_follow_the_authorships_contract(snapshot: Path) -> None:
    db = _db()
    build_tables(db, snapshot, ai_filter=AIFilter(keep_all=True))
    works = _works(snapshot)
    n_slots = sum(len(w["authorships"]) for w in works)
    assert db.execute("SELECT count(*) FROM authorships").fetchone()[0] == n_slots
    cols = {r[0] for r in db.execute("DESCRIBE authorships").fetchall()}
    assert cols >= {
        "authorship_id",
        "paper_id",
        "venue",
        "year",
        "source",
        "author_position",
        "author_name",
        "source_person_id",
        "orcid",
        "raw_affiliation",
        "affiliations",
        "email_domain",
        "aligned",
        "source_institution",
        "source_country",
        "source_ror",
        "source_file",
    }
    first = works[0]
    wid = first["id"].rsplit("/", 1)[1]
    row = db.execute(
        "SELECT author_name, source_person_id, raw_affiliation, source_country, source_file "
        "FROM authorships WHERE paper_id = ? AND author_position = 0",
        [f"openalex:{wid}"],
    ).fetchone()
    a = first["authorships"][0]
    assert row[0] == a["author"]["display_name"]
    assert row[1] == "openalex:" + a["author"]["id"].rsplit("/", 1)[1]
    assert row[2] == ("+".join(a["raw_affiliation_strings"]) or None)
    codes = [i["country_code"] for i in a["institutions"] if i["country_code"]]
    assert row[3] == ("+".join(codes) or None)
    assert row[4].startswith("works/updated_date=")


def test_bad_records_are_quarantined_with_position(tmp_path: Path) -> None:
    part = tmp_path / "works" / "updated_date=2024-01-01" / "part_000.gz"
    part.parent.mkdir(parents=True)
    good = {
        "id": "https://openalex.org/W1",
        "title": "A",
        "publication_year": 2020,
        "authorships": [],
        "concepts": [],
    }
    bad = {"title": "no id", "publication_year": 2020, "authorships": []}
    with gzip.open(part, "wt") as fh:
        fh.write(json.dumps(good) + "\n" + json.dumps(bad) + "\n")
    db = _db()
    report = ingest_snapshot(db, tmp_path, ai_filter=AIFilter(keep_all=True))
    assert (report.works_read, report.works_kept, report.quarantined) == (2, 1, 1)
    assert db.execute("SELECT file, record_index FROM quarantine").fetchall() == [
        ("works/updated_date=2024-01-01/part_000.gz", 1)
    ]


def test_parquet_partitions(snapshot: Path, tmp_path: Path) -> None:
    db = _db()
    build_tables(db, snapshot)
    write_parquet(db, tmp_path / "pq")
    years = {p.name for p in (tmp_path / "pq" / "authorships").iterdir()}
    assert years and all(y.startswith("year=") for y in years)
    back = db.execute(
        f"SELECT count(*) FROM read_parquet('{tmp_path}/pq/authorships/*/*.parquet')"
    ).fetchone()[0]
    assert back == db.execute("SELECT count(*) FROM authorships").fetchone()[0]
