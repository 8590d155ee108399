"""Google Scholar and LinkedIn profile links, and OpenReview's current profile of a renamed or
merged id: read per author, and one human's two profile ids joined by them
(``sources/author_lists.py``, ``identity/identifiers.py``)."""

from __future__ import annotations

import json

import duckdb
import ibis
import pyarrow as pa
import pytest

from talentflow.identity import features
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


def test_reader_gives_a_renamed_author_their_current_profile(tmp_path) -> None:
    # A second record without or_profile: nothing to read there, and nothing is guessed.
    other = {**PAPER, "id": "p2", "title": "Another paper"}
    del other["or_profile"]
    _write(tmp_path, [PAPER, other])
    db = tmp_path / "s.duckdb"
    build(tmp_path / "data", db, stages=["sources"])
    got = rows(
        db,
        """SELECT paper_id, author_name, source_person_id, current_profile FROM authorships
           ORDER BY paper_id, author_position""",
    )
    current = [(r[0][-2:], r[1], r[3]) for r in got]
    assert current == [
        # OpenReview lists ~Amit_Daniely2 under the profile it became, ~Amit_Daniely1
        ("p1", "Amit Daniely", "openreview:~Amit_Daniely1"),
        # an id that is its profile's current id names no other
        ("p1", "Ann Lee", None),
        ("p1", "Bo Chen", None),
        ("p2", "Amit Daniely", None),
        ("p2", "Ann Lee", None),
        ("p2", "Bo Chen", None),
    ]
    assert got[0][2] == "openreview:~Amit_Daniely2"


def test_a_renamed_profile_joins_its_current_one_unless_the_name_clashes() -> None:
    a = ibis.memtable(
        {
            "authorship_id": ["x#0", "y#0", "z#0"],
            "paper_id": ["x", "y", "z"],
            "venue": ["corl", "corl", "corl"],
            "year": [2022, 2023, 2022],
            "author_name": ["Shilei Chu", "Shilei Chu", "Wei Zhang"],
            "source_person_id": [
                "openreview:~Shilei_Chu2",
                "openreview:~Shilei_CHU1",
                "openreview:~Wei_Zhang7",
            ],
            "current_profile": ["openreview:~Shilei_CHU1", None, "openreview:~Shilei_CHU1"],
        }
    )
    con = ibis.duckdb.connect()
    feats = features.authorship_features(a, features.name_table(con, a), None)
    got = identifier_clusters(con, a, feats).execute().set_index("authorship_id").cluster_key
    assert got["x#0"] == got["y#0"] == "openreview:~Shilei_CHU1"
    # a current profile that names someone else (a misplaced entry) joins nobody
    assert got["z#0"] == "openreview:~Wei_Zhang7"


def test_renamed_records_never_take_a_profile_its_own_records() -> None:
    # Three records renamed "Johannes Gasteiger" name the profile that two records of
    # "Johannes Klicpera" carry: the names clash, so nothing is joined, and the profile's own
    # records stay one person (an alias never outvotes the id's own uses).
    a = ibis.memtable(
        {
            "authorship_id": ["a#0", "b#0", "c#0", "d#0", "e#0", "f#1"],
            "paper_id": ["a", "b", "c", "d", "e", "f"],
            "venue": ["iclr"] * 6,
            "year": [2021, 2022, 2023, 2023, 2023, 2023],
            "author_name": ["Johannes Klicpera"] * 2 + ["Johannes Gasteiger"] * 3 + ["Ann Lee"],
            "source_person_id": ["openreview:~Johannes_Klicpera1"] * 2
            + ["openreview:~Johannes_Gasteiger1"] * 3
            + ["openreview:~Ann_Lee1"],
            "current_profile": [None, None] + ["openreview:~Johannes_Klicpera1"] * 3 + [None],
        }
    )
    con = ibis.duckdb.connect()
    feats = features.authorship_features(a, features.name_table(con, a), None)
    got = identifier_clusters(con, a, feats).execute().set_index("authorship_id").cluster_key
    assert got["a#0"] == got["b#0"] == "openreview:~Johannes_Klicpera1"
    assert got["c#0"] == got["d#0"] == got["e#0"] == "openreview:~Johannes_Gasteiger1"


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


def _renamed_world() -> ibis.Table:
    return ibis.memtable(
        {
            "authorship_id": ["a#0", "b#0", "c#0", "d#0", "e#0", "f#0", "g#0", "h#0"],
            "paper_id": ["a", "b", "c", "d", "e", "f", "g", "h"],
            "venue": ["iclr"] * 8,
            "year": [2021, 2022, 2023, 2023, 2023, 2022, 2023, 2023],
            "author_name": ["Johannes Klicpera"] * 2
            + ["Johannes Gasteiger"] * 3
            + ["Shilei Chu", "Wei Zhang", "Wei Zhang"],
            "source_person_id": ["openreview:~Johannes_Klicpera1"] * 2
            + ["openreview:~Johannes_Gasteiger1"] * 3
            + ["openreview:~Shilei_Chu1", "openreview:~Wei_Zhang7", "openreview:~Wei_Zhang7"],
            "current_profile": [None, None]
            + ["openreview:~Johannes_Klicpera1"] * 3
            + [None, "openreview:~Shilei_Chu1", "openreview:~Shilei_Chu1"],
        }
    )


def test_a_renamed_profile_joins_its_current_ones_person_not_its_cluster() -> None:
    # Renamed "Johannes Gasteiger" records name the profile "Johannes Klicpera" records
    # carry: a new surname, the same given name. The clusters stay apart (each keeps its
    # name for matching records), and the rename links put them under one person key. An
    # alias sharing neither name part ("Wei Zhang" -> "Shilei Chu") links nothing.
    from talentflow.identity import identifiers

    a = _renamed_world()
    con = ibis.duckdb.connect()
    feats = features.authorship_features(a, features.name_table(con, a), None)
    checked = identifiers.checked_uses(identifiers.authorship_ids(a), feats)
    ids = identifiers.kept(checked)
    clusters = identifier_clusters(con, a, ids=ids)
    got = clusters.execute().set_index("authorship_id").cluster_key
    assert got["a#0"] == got["b#0"] == "openreview:~Johannes_Klicpera1"
    assert got["c#0"] == got["d#0"] == got["e#0"] == "openreview:~Johannes_Gasteiger1"
    renamed = identifiers.renamed_uses(checked)
    assert set(renamed.execute().authorship_id) == {"c#0", "d#0", "e#0"}
    links = identifiers.rename_links(renamed, ids, clusters).execute()
    assert links[["entity_id", "person_key"]].values.tolist() == [
        ["openreview:~Johannes_Klicpera1", "openreview:~Johannes_Gasteiger1"]
    ]


def test_the_stage_puts_a_renamed_profile_with_its_current_one() -> None:
    from talentflow.context import StageContext
    from talentflow.identity import stage

    con = ibis.duckdb.connect()
    con.create_table("authorships", _renamed_world().to_pyarrow())
    stage.run(StageContext(con=con, previous=None, data_dir=None))
    t = con.table("authorships").select("authorship_id", "person_id").execute()
    person = t.set_index("authorship_id").person_id
    assert person["a#0"] == person["b#0"] == person["c#0"] == person["e#0"]
    assert person["g#0"] == person["h#0"] != person["f#0"]
    assert person["f#0"] != person["a#0"]
    off = ibis.duckdb.connect()
    off.create_table("authorships", _renamed_world().to_pyarrow())
    stage.run(StageContext(con=off, previous=None, data_dir=None, params={"renamed_profiles": 0}))
    t = off.table("authorships").select("authorship_id", "person_id").execute()
    person = t.set_index("authorship_id").person_id
    assert person["a#0"] != person["c#0"]


def _rename_links_on(con) -> list[dict[str, str]]:
    from talentflow.identity import identifiers
    from tests.test_identity_link import identified_on

    a, feats, ids, clusters = identified_on(con, _renamed_world().to_pyarrow(), "ren_")
    checked = identifiers.checked_uses(identifiers.authorship_ids(a), feats)
    renamed = identifiers.renamed_uses(checked)
    links = identifiers.rename_links(renamed, ids, clusters)
    return sorted(links.select("entity_id", "person_key").to_pyarrow().to_pylist(), key=str)


@pytest.mark.spark
def test_rename_links_agree_on_duckdb_and_spark(spark_session_shared) -> None:
    spark_con = ibis.pyspark.connect(spark_session_shared)
    on_duckdb = _rename_links_on(ibis.duckdb.connect())
    assert on_duckdb == [
        {
            "entity_id": "openreview:~Johannes_Klicpera1",
            "person_key": "openreview:~Johannes_Gasteiger1",
        }
    ]
    assert _rename_links_on(spark_con) == on_duckdb


def test_a_fragment_of_a_renamed_profile_joins_the_current_ones_person() -> None:
    from talentflow.identity.decide import with_renames

    frags = ibis.memtable(
        {
            # an ACL id that joined the renamed profile, and one that joined someone else
            "entity_id": ["acl:/j/johannes-klicpera/", "acl:/a/ann-lee/"],
            "person_key": ["openreview:~Johannes_Klicpera1", "openreview:~Ann_Lee1"],
            "cluster_evidence": ["id fragment", "id fragment"],
        }
    )
    renames = ibis.memtable(
        {
            "entity_id": ["openreview:~Johannes_Klicpera1"],
            "person_key": ["openreview:~Johannes_Gasteiger1"],
            "cluster_evidence": ["renamed profile"],
        }
    )
    got = with_renames(frags, renames).execute().set_index("entity_id").person_key.to_dict()
    assert got == {
        "acl:/j/johannes-klicpera/": "openreview:~Johannes_Gasteiger1",
        "acl:/a/ann-lee/": "openreview:~Ann_Lee1",
        "openreview:~Johannes_Klicpera1": "openreview:~Johannes_Gasteiger1",
    }
    assert with_renames(None, renames).execute().shape[0] == 1
