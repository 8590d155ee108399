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
        "AND list_contains(sources, 'openreview')"
    ).fetchone()[0]
    assert both > 10_000
    ids = con.execute("SELECT count(*), count(DISTINCT authorship_id) FROM authorships").fetchone()
    assert ids[0] == ids[1]


def test_decisions_and_tiers_on_the_real_mirror(real_sources_store, shared_data):
    con = duckdb.connect(str(real_sources_store), read_only=True)

    def count(venue: str, year: int, where: str) -> int:
        return con.execute(
            f"SELECT count(*) FROM papers WHERE venue = ? AND year = ? AND {where}", [venue, year]
        ).fetchone()[0]

    # ICLR 2023: counted independently from the metadata file's statuses
    statuses = [
        r["status"]
        for r in json.loads(
            (shared_data / "openreview_venues/iclr/iclr2023.json").read_text(encoding="utf-8")
        )
    ]
    accepted = sum(s in {"Poster", "Top-25%", "Top-5%"} for s in statuses)
    assert count("iclr", 2023, "decision = 'accepted'") == accepted
    assert 1_500 <= accepted <= 1_650
    assert count("iclr", 2023, "decision IN ('rejected', 'withdrawn')") >= 3_200
    # NeurIPS 2023: orals of both tracks are its top tier; metadata gives its titles
    assert count("nips", 2023, "tier = 'top'") == 77
    assert count("nips", 2023, "title IS NOT NULL") >= 0.95 * count("nips", 2023, "TRUE")
    # a tier only for accepted papers, and every status value mapped
    assert (
        con.execute(
            "SELECT count(*) FROM papers WHERE tier IS NOT NULL AND decision <> 'accepted'"
        ).fetchone()[0]
        == 0
    )
    (unmapped,) = con.execute(
        "SELECT value FROM build_params WHERE stage = 'sources' AND name = 'unmapped_statuses'"
    ).fetchone()
    assert json.loads(unmapped) == {}
