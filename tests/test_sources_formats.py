"""The source readers on real records cut from ../shared/data, and on small records built here."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import duckdb
import pytest

from talentflow.pipeline import build
from tests.conftest import cut, rows


def _paper(author: str, aff: str, **fields: str) -> dict:
    return {
        "id": fields.pop("id", "p1"),
        "title": fields.pop("title", "A paper"),
        "author": author,
        "aff": aff,
        **fields,
    }


@pytest.fixture
def iclr_pair(tmp_path: Path, shared_data: Path) -> tuple[Path, list[dict], list[dict]]:
    """20 real ICLR 2021 papers from paperlists and the same papers from OpenReview."""
    data = tmp_path / "data"
    pl = cut(
        shared_data / "paperlists/iclr/iclr2021.json", data / "paperlists/iclr/iclr2021.json", 20
    )
    ids = {r["id"] for r in pl}
    orv = [
        r
        for r in json.loads((shared_data / "openreview/iclr/iclr2021.json").read_text())
        if r["id"] in ids
    ]
    (data / "openreview/iclr").mkdir(parents=True)
    (data / "openreview/iclr/iclr2021.json").write_text(json.dumps(orv))
    return data, pl, orv


def test_paperlists_real_file_splits_authors_and_keeps_raw_strings(tmp_path, shared_data):
    data = tmp_path / "data"
    records = cut(
        shared_data / "paperlists/nips/nips2018.json", data / "paperlists/nips/nips2018.json", 30
    )
    db = tmp_path / "s.duckdb"
    build(data, db, stages=["sources"])
    expected = sum(len(r["author"].split(";")) for r in records)
    assert rows(db, "SELECT count(*) FROM authorships")[0][0] == expected
    first = records[0]
    names = [n.strip() for n in first["author"].split(";")]
    affs = [a.strip() for a in first["aff"].split(";")]
    got = rows(
        db,
        f"""SELECT author_position, author_name, raw_affiliation, email_domain, venue, year
                       FROM authorships WHERE paper_id = 'paperlists:nips2018:{first["id"]}'
                       ORDER BY author_position""",
    )
    assert [g[1] for g in got] == names
    assert [g[2] for g in got] == affs
    assert {(g[4], g[5]) for g in got} == {("nips", 2018)}
    assert [g[0] for g in got] == list(range(len(names)))
    # upstream labels are kept beside the raw string (evaluation data for the resolver)
    labelled = rows(db, "SELECT count(label_country) FROM authorships")[0][0]
    assert labelled > 0


def test_identifiers_are_namespaced(tmp_path):
    data = tmp_path / "data"
    (data / "paperlists/acl").mkdir(parents=True)
    (data / "paperlists/acl/acl2022.json").write_text(
        json.dumps(
            [
                _paper(
                    "A B; C D; E F; G H",
                    "U1; U2; U3; U4",
                    authorids="/a/a-b/; ~C_D1; 12345; someone@example.org",
                )
            ]
        )
    )
    db = tmp_path / "s.duckdb"
    build(data, db, stages=["sources"])
    ids = [
        r[0] for r in rows(db, "SELECT source_person_id FROM authorships ORDER BY author_position")
    ]
    assert ids[:3] == ["acl:/a/a-b/", "openreview:~C_D1", "ieee:12345"]
    assert ids[3].startswith("email:") and "example.org" not in ids[3]


def test_one_dblp_page_or_orcid_written_several_ways_is_one_id(tmp_path):
    data = tmp_path / "data"
    (data / "openreview/iclr").mkdir(parents=True)
    dblp = [
        "175/8873",
        "175/8873.html",
        "https://dblp.uni-trier.de/pid/175/8873",
        "https://dblp.org/pid/175/8873.html",
        "http://dblp.uni-trier.de/pers/hd/z/Zhang:Quanshi",
        "https://dblp.uni-trier.de/pers/z/Zhang:Quanshi",
        "145/0008/",
        "",
    ]
    n = len(dblp)
    (data / "openreview/iclr/iclr2023.json").write_text(
        json.dumps(
            [
                _paper(
                    ";".join(f"A{k} B" for k in range(n)),
                    ";".join("U" for _ in range(n)),
                    authorids=";".join(f"~A{k}_B1" for k in range(n)),
                    dblp=";".join(dblp),
                    orcid=";".join(["0009-0005-6671-705x", "0009-0005-6671-705X"] + [""] * (n - 2)),
                )
            ]
        )
    )
    db = tmp_path / "s.duckdb"
    build(data, db, stages=["sources"])
    got = rows(db, "SELECT dblp, orcid FROM authorships ORDER BY author_position")
    assert [g[0] for g in got] == (
        ["dblp:175/8873"] * 4 + ["dblp:pers/z/Zhang:Quanshi"] * 2 + ["dblp:145/0008", None]
    )
    assert [g[1] for g in got][:2] == ["0009-0005-6671-705X"] * 2


def test_plus_splits_multi_affiliations_and_misaligned_lists_are_marked(tmp_path):
    data = tmp_path / "data"
    (data / "paperlists/corl").mkdir(parents=True)
    (data / "paperlists/corl/corl2022.json").write_text(
        json.dumps(
            [
                _paper("A; B", "MIT+Google; Stanford", id="ok", aff_domain="mit.edu; stanford.edu"),
                # three affiliations for two authors: no alignment is guessed
                _paper("C; D", "X; Y; Z", id="bad", aff_domain="x.org; y.org"),
            ]
        )
    )
    db = tmp_path / "s.duckdb"
    build(data, db, stages=["sources"])
    ok = rows(
        db,
        """SELECT affiliations, aligned, email_domain FROM authorships
                      WHERE paper_id LIKE '%:ok' ORDER BY author_position""",
    )
    assert ok[0] == (["MIT", "Google"], True, "mit.edu")
    assert ok[1] == (["Stanford"], True, "stanford.edu")
    bad = rows(
        db,
        """SELECT raw_affiliation, aligned, misaligned_fields, email_domain
                       FROM authorships WHERE paper_id LIKE '%:bad' ORDER BY author_position""",
    )
    assert all(r[0] is None and r[1] is False and r[2] == ["aff"] for r in bad)
    assert [r[3] for r in bad] == ["x.org", "y.org"]  # the aligned list is still used


def test_same_openreview_id_is_one_paper_with_field_sources(tmp_path, iclr_pair):
    data, pl, orv = iclr_pair
    assert orv, "the cut should find the same papers in OpenReview"
    db = tmp_path / "s.duckdb"
    build(data, db, stages=["sources"])
    assert rows(db, "SELECT count(*) FROM papers")[0][0] == len(pl)
    paper = orv[0]
    row = rows(
        db,
        f"""SELECT title, sources, field_sources, n_authors FROM papers
                        WHERE paper_id = 'openreview:{paper["id"]}'""",
    )[0]
    title = next(r["title"] for r in pl if r["id"] == paper["id"])
    assert row[0] == title
    assert sorted(row[1]) == ["openreview", "paperlists"]
    provenance = json.loads(row[2])
    assert provenance["title"] == "paperlists" and provenance["authors"] == "openreview"
    assert row[3] == len(paper["author"].split(";"))
    slots = rows(
        db,
        f"""SELECT source_person_id FROM authorships
                          WHERE paper_id = 'openreview:{paper["id"]}' ORDER BY author_position""",
    )
    assert [s[0] for s in slots] == ["openreview:" + a for a in paper["authorids"].split(";")]


def test_same_title_and_year_is_one_paper_across_sources(tmp_path):
    data = tmp_path / "data"
    (data / "paperlists/icml").mkdir(parents=True)
    (data / "paperlists/icml/icml2019.json").write_text(
        json.dumps(
            [
                _paper(
                    "Ada Lovelace; Alan Turing",
                    "Univ A; Univ B",
                    id="42",
                    title="Attention Is Mostly What You Need: A Study",
                ),
            ]
        )
    )
    (data / "openalex").mkdir()
    (data / "openalex/works.jsonl").write_text(
        json.dumps(
            {
                "id": "https://openalex.org/W1",
                "title": "Attention is mostly what you need - a study",
                "publication_year": 2019,
                "authorships": [
                    {
                        "author": {"id": "https://openalex.org/A9", "display_name": "Ada Lovelace"},
                        "raw_affiliation_strings": ["Univ A"],
                        "institutions": [{"display_name": "University A", "country_code": "GB"}],
                    }
                ],
            }
        )
        + "\n"
    )
    db = tmp_path / "s.duckdb"
    build(data, db, stages=["sources"])
    papers = rows(db, "SELECT paper_id, sources, openalex_id FROM papers")
    assert len(papers) == 1
    assert sorted(papers[0][1]) == ["openalex", "paperlists"] and papers[0][2] == "W1"


def _current_work(wid: str, year: int) -> dict:
    return {
        "id": f"https://openalex.org/{wid}",
        "display_name": f"Work {wid} on learning",
        "publication_year": year,
        "primary_location": {"source": {"display_name": "NeurIPS"}},
        "topics": [{"display_name": "Machine learning"}],
        "authorships": [
            {
                "author": {
                    "id": "https://openalex.org/A1",
                    "display_name": "X Y",
                    "orcid": "https://orcid.org/0000-0002-1825-0097",
                },
                "raw_affiliation_strings": [
                    "Tsinghua University, Beijing",
                    "Microsoft Research Asia",
                ],
                "institutions": [
                    {
                        "display_name": "Tsinghua University",
                        "country_code": "CN",
                        "ror": "https://ror.org/03cve4549",
                    },
                    {"display_name": "Microsoft Research Asia", "country_code": "CN"},
                ],
            },
            {
                "author": {"id": "https://openalex.org/A2", "display_name": "Z W"},
                "raw_affiliation_strings": [],
                "institutions": [],
            },
        ],
    }


def test_openalex_current_schema_jsonl_gz_and_api_page(tmp_path):
    data = tmp_path / "data"
    (data / "openalex/part").mkdir(parents=True)
    with gzip.open(data / "openalex/part/part_000.gz", "wt") as handle:
        handle.write(json.dumps(_current_work("W10", 2023)) + "\n")
        handle.write(json.dumps(_current_work("W11", 2024)) + "\n")
    (data / "openalex/page.json").write_text(
        json.dumps({"meta": {"count": 1}, "results": [_current_work("W12", 2022)]})
    )
    db = tmp_path / "s.duckdb"
    build(data, db, stages=["sources"])
    assert rows(db, "SELECT count(*) FROM papers")[0][0] == 3
    row = rows(
        db,
        """SELECT source_person_id, orcid, affiliations, source_country, source_ror
                       FROM authorships WHERE paper_id = 'openalex:W10' AND author_position = 0""",
    )[0]
    assert row[0] == "openalex:A1" and row[1] == "0000-0002-1825-0097"
    assert row[2] == ["Tsinghua University, Beijing", "Microsoft Research Asia"]
    assert row[3] == "CN+CN" and row[4] == "https://ror.org/03cve4549"
    assert rows(db, "SELECT venue_name, keywords FROM papers WHERE paper_id='openalex:W11'")[0] == (
        "NeurIPS",
        "Machine learning",
    )


def test_openalex_2022_sample(tmp_path, shared_data):
    data = tmp_path / "data"
    (data / "openalex").mkdir(parents=True)
    sample = shared_data / "openalex/works-sample-tu9-2022.json"
    (data / "openalex" / sample.name).write_bytes(sample.read_bytes())
    works = json.loads(sample.read_text())
    db = tmp_path / "s.duckdb"
    build(data, db, stages=["sources"])
    assert rows(db, "SELECT count(*) FROM raw_papers")[0][0] == len(works)
    slots = sum(len(w["authorships"]) for w in works)
    assert rows(db, "SELECT count(*) FROM raw_authorships")[0][0] == slots
    first = works[0]["authorships"][0]
    row = rows(
        db,
        f"""SELECT raw_affiliation, source_country FROM raw_authorships
        WHERE rec_key = 'openalex:{works[0]["id"].rsplit("/", 1)[1]}' AND author_position = 0""",
    )[0]
    assert row == (first["raw_affiliation_string"], first["institutions"][0]["country_code"])


def test_openalex_typed_read_and_record_by_record_give_the_same_rows(tmp_path, monkeypatch):
    """Clean files are parsed once, typed; a file with a bad record, a field of another shape
    or a wrapper object is read again record by record. Both paths give the same rows."""
    from talentflow.sources import openalex, stage

    data = tmp_path / "data"
    (data / "openalex").mkdir(parents=True)
    with gzip.open(data / "openalex/clean.jsonl.gz", "wt") as handle:
        handle.writelines(json.dumps(_current_work(w, 2023)) + "\n" for w in ("W1", "W2", "W1"))
    bad = [
        _current_work("W3", 2021),
        {"id": 7, "publication_year": 2020},
        _current_work("W4", 2022),
    ]
    (data / "openalex/bad.jsonl").write_text("".join(json.dumps(w) + "\n" for w in bad))
    odd = _current_work("W5", 2020) | {"primary_location": "NeurIPS", "publication_year": "2020"}
    (data / "openalex/shape.jsonl").write_text(json.dumps(odd) + "\n")
    (data / "openalex/page.json").write_text(
        json.dumps({"meta": {"count": 1}, "results": [_current_work("W6", 2022)]})
    )
    (data / "openalex/empty.json").write_text("")
    careful: list[str] = []
    load = stage.load_records
    monkeypatch.setattr(
        stage,
        "load_records",
        lambda db, path, *a, **k: careful.append(path.name) or load(db, path, *a, **k),
    )
    typed, every = tmp_path / "typed.duckdb", tmp_path / "careful.duckdb"
    build(data, typed, stages=["sources"])
    assert sorted(careful) == ["bad.jsonl", "empty.json", "page.json", "shape.jsonl"]
    status = dict(rows(typed, "SELECT file, status FROM ingest_log"))
    assert status["openalex/empty.json"] == "failed" and status["openalex/clean.jsonl.gz"] == "ok"
    assert rows(typed, "SELECT file, record_index, reason FROM quarantine ORDER BY file") == [
        ("openalex/bad.jsonl", 1, 'missing or non-string field "id"'),
        ("openalex/empty.json", None, "empty file (0 bytes): expected a JSON array of records"),
    ]
    # the same corpus with every typed read failing
    monkeypatch.setattr(
        openalex,
        "typed_read_sql",
        lambda param="?": "SELECT ?, ?, error('typed read switched off'), NULL",
    )
    careful.clear()
    build(data, every, stages=["sources"])
    assert sorted(careful) == [
        "bad.jsonl",
        "clean.jsonl.gz",
        "empty.json",
        "page.json",
        "shape.jsonl",
    ]
    con = duckdb.connect(str(typed))
    try:
        con.execute(f"ATTACH '{every}' AS every (READ_ONLY)")
        for table in ("raw_papers", "raw_authorships", "quarantine", "papers", "authorships"):
            n = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            assert n > 0
            for a, b in ((table, f"every.{table}"), (f"every.{table}", table)):
                diff = con.execute(f"SELECT count(*) FROM (FROM {a} EXCEPT ALL FROM {b})")
                assert diff.fetchone()[0] == 0, (table, a)
    finally:
        con.close()
    assert (
        rows(typed, "SELECT count(*) FROM raw_papers WHERE rec_key LIKE 'openalex:W1~%'")[0][0] == 1
    )


@pytest.mark.parametrize("budget", [1, 1 << 30], ids=["one-file-batches", "one-batch"])
def test_openalex_files_in_batches_give_the_same_papers(tmp_path, monkeypatch, budget):
    """OpenAlex files are read in batches (memory bounded by the batch, not the corpus); a work
    repeated in another batch still gets its own raw key and is merged into one paper."""
    from talentflow.sources import stage

    monkeypatch.setattr(stage, "OPENALEX_BATCH_BYTES", budget)
    data = tmp_path / "data"
    works = data / "openalex/works/updated_date=2025-01-01"
    works.mkdir(parents=True)
    for number, ids in enumerate((["W1", "W2"], ["W3", "W1"], ["W4"])):
        with gzip.open(works / f"part_{number:03d}.gz", "wt") as handle:
            handle.writelines(json.dumps(_current_work(w, 2023)) + "\n" for w in ids)
    (works / "part_003.gz").write_bytes(
        gzip.compress(b'{"id": "https://openalex.org/W5"}\nnot json\n')
    )
    db = tmp_path / "s.duckdb"
    build(data, db, stages=["sources"])
    keys = [k for (k,) in rows(db, "SELECT rec_key FROM raw_papers ORDER BY rec_key")]
    assert len(keys) == len(set(keys)) == 5
    assert sum(k.startswith("openalex:W1") for k in keys) == 2
    papers = rows(db, "SELECT paper_id FROM papers ORDER BY paper_id")
    assert papers == [(f"openalex:W{i}",) for i in range(1, 5)]
    assert rows(db, "SELECT count(*) FROM authorships")[0][0] == 8
    log = dict(rows(db, "SELECT file, records_kept FROM ingest_log"))
    assert [log[f"openalex/works/updated_date=2025-01-01/part_{n:03d}.gz"] for n in range(4)] == [
        2,
        2,
        1,
        0,
    ]
    quarantined = rows(db, "SELECT file, record_index FROM quarantine ORDER BY record_index")
    assert [q[0].endswith("part_003.gz") for q in quarantined] == [True, True]
