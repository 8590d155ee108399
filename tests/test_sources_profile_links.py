"""Google Scholar and LinkedIn profile links: read per author, and one human's two profiles
joined by them (``sources/author_lists.py``, ``identity/identifiers.py``)."""

from __future__ import annotations

import json

import duckdb
import ibis
import pyarrow as pa

from talentflow.identity.identifiers import components, identifier_clusters
from talentflow.pipeline import build
from tests.conftest import rows

PAPER = {
    "id": "p1",
    "title": "A paper on links",
    "author": "Amit Daniely;Ann Lee;Bo Chen",
    "authorids": "~Amit_Daniely2;~Ann_Lee1;~Bo_Chen1",
    # profile fields in or_profile order: the renamed first author comes last
    "or_profile": "~Ann_Lee1;~Bo_Chen1;~Amit_Daniely1",
    "aff": "MIT;Stanford University;Hebrew University",
    "google_scholar": (
        "https://scholar.google.com/citations?user=AbCdEfGhIjKl&hl=en;"
        "https://scholar.google.com/citations?hl=en;"
        "jUtYwE0AAAAJ"
    ),
    "linkedin": "https://www.linkedin.com/in/Ann-Lee-42/;https://www.linkedin.com/feed;amit-d-1/",
}


def _write(tmp_path, records: list[dict]) -> None:
    path = tmp_path / "data" / "openreview" / "nips" / "nips2023.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(records))


def test_reader_gives_each_author_their_own_profile_links(tmp_path) -> None:
    _write(tmp_path, [PAPER])
    db = tmp_path / "s.duckdb"
    build(tmp_path / "data", db, stages=["sources"])
    got = rows(
        db,
        """SELECT author_name, raw_affiliation, scholar, linkedin FROM authorships
           ORDER BY author_position""",
    )
    assert got == [
        # a bare Scholar id, moved back to its author with the other profile fields
        ("Amit Daniely", "Hebrew University", "scholar:jUtYwE0AAAAJ", "linkedin:amit-d-1"),
        ("Ann Lee", "MIT", "scholar:AbCdEfGhIjKl", "linkedin:ann-lee-42"),
        # a Scholar page without a user and LinkedIn's feed name nobody
        ("Bo Chen", "Stanford University", None, None),
    ]


def test_two_profiles_of_one_human_join_through_a_link_and_keep_their_key() -> None:
    a = ibis.memtable(
        {
            "authorship_id": ["x#0", "y#0", "z#0", "w#0"],
            "source_person_id": [
                "openreview:~Amit_Daniely2",
                "openreview:~Amit_Daniely1",
                "openreview:~Ann_Lee1",
                None,
            ],
            "scholar": [
                "scholar:jUtYwE0AAAAJ",
                "scholar:jUtYwE0AAAAJ",
                None,
                "scholar:zzzzzzzzzzzz",
            ],
            "linkedin": [None, None, "linkedin:ann-lee-42", None],
        }
    )
    con = ibis.duckdb.connect()
    got = identifier_clusters(con, a).execute().set_index("authorship_id").cluster_key
    # one cluster, keyed by its smallest OpenReview id, not by the Scholar id
    assert got["x#0"] == got["y#0"] == "openreview:~Amit_Daniely1"
    assert got["z#0"] == "openreview:~Ann_Lee1"
    # a link alone still makes a cluster, keyed by it
    assert got["w#0"] == "scholar:zzzzzzzzzzzz"


def test_components_key_by_the_smallest_id_that_is_not_a_link() -> None:
    pairs = pa.table({"a": ["linkedin:a", "dblp:9/9"], "b": ["openreview:~B1", "scholar:0"]})
    got = {r["node"]: r["component"] for r in components(pairs).to_pylist()}
    assert got["linkedin:a"] == "openreview:~B1"
    assert got["scholar:0"] == "dblp:9/9"


def test_a_store_of_another_reader_version_is_read_again(tmp_path) -> None:
    _write(tmp_path, [PAPER])
    db = tmp_path / "s.duckdb"
    build(tmp_path / "data", db, stages=["sources"])
    build(tmp_path / "data", db, stages=["sources"])

    def reused() -> int:
        return rows(
            db,
            """SELECT value FROM build_params
               WHERE stage = 'sources' AND name = 'files_reused'""",
        )[0][0]

    assert reused() == "1"  # the same reader: the file's rows are copied, not parsed
    # A store written by an older reader (here: its version changed by hand; stores from
    # before versions were kept have none) gets every file read again.
    con = duckdb.connect(str(db))
    con.execute(
        "UPDATE build_params SET value = '\"old\"' "
        "WHERE stage = 'sources' AND name = 'reader_version'"
    )
    con.execute("UPDATE raw_authorships SET scholar = NULL")
    con.close()
    build(tmp_path / "data", db, stages=["sources"])
    assert reused() == "0"
    assert rows(db, "SELECT count(scholar) FROM authorships")[0][0] == 2
