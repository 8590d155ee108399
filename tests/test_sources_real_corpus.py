"""Acceptance on the real mirror: every file ingested, the expected number of author slots."""

from __future__ import annotations

import json

import duckdb

from talentflow.sources.stage import discover


def test_every_file_of_the_mirror_is_ingested(real_sources_store, shared_data):
    con = duckdb.connect(str(real_sources_store), read_only=True)
    files = discover(shared_data)
    log = dict(con.execute("SELECT file, status FROM ingest_log").fetchall())
    assert set(log) == {f.rel for f in files}
    assert set(log.values()) == {"ok"}
    assert con.execute("SELECT count(*) FROM quarantine").fetchone()[0] == 0


def test_author_slot_counts_before_and_after_deduplication(real_sources_store, shared_data):
    con = duckdb.connect(str(real_sources_store), read_only=True)
    slots = dict(con.execute("SELECT source, count(*) FROM raw_authorships GROUP BY 1").fetchall())
    # counted independently of talentflow: split the author field of every record
    expected = {"paperlists": 0, "openreview": 0}
    for source in expected:
        for path in sorted((shared_data / source).glob("*/*.json")):
            for record in json.loads(path.read_text(encoding="utf-8")):
                names = (record.get("author") or "").strip()
                expected[source] += len(names.split(";")) if names else 0
    assert slots["paperlists"] == expected["paperlists"]
    assert slots["openreview"] == expected["openreview"]
    assert 220_000 < slots["paperlists"] < 225_000 and 190_000 < slots["openreview"] < 194_000
    # the same papers in both sources are merged: fewer slots after than before
    merged = con.execute("SELECT count(*) FROM authorships").fetchone()[0]
    assert merged < sum(slots.values())
    both = con.execute(
        "SELECT count(*) FROM papers WHERE list_contains(sources, 'paperlists') "
        "AND list_contains(sources, 'openreview')").fetchone()[0]
    assert both > 10_000
    ids = con.execute("SELECT count(*), count(DISTINCT authorship_id) FROM authorships").fetchone()
    assert ids[0] == ids[1]
