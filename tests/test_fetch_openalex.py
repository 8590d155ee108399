"""`talentflow fetch openalex` against a loopback OpenAlex API (tests/openalex_replay.py).

Pages in the current schema, cursor paging, 429 with Retry-After, a 500 mid-way, a truncated
page, a request budget, a resumed fetch (same pages as an uninterrupted one), an incremental
run that finds nothing new (one request), updated works replacing their older copies, author
histories, and a build that reads what was fetched. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from talentflow.cli import app
from talentflow.sources.openalex_api import (
    AUTHORS_FOLDER,
    STATE_FILE,
    Client,
    OpenAlexError,
    Politeness,
    WorkFilter,
    author_queries,
    fetch_authors,
    fetch_works,
)
from tests.openalex_replay import Replay, author, replay_server, sample_works

N_WORKS = 45  # 5 pages of 10
FILTER = "primary_location.source.id:S1,publication_year:2017-2023"


def _client(url: str, sleeps: list[float] | None = None, **kw: object) -> Client:
    waits = sleeps if sleeps is not None else []
    return Client(url, Politeness(mailto="me@example.org", base_delay=0.001, **kw), waits.append)  # type: ignore[arg-type]


def _pages(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*.json"))
    }


def _ids(folder: Path) -> list[str]:
    return [
        r["id"]
        for p in sorted(folder.rglob("*.json"))
        for r in json.loads(p.read_bytes())["results"]
    ]


def test_pages_survive_rate_limit_server_error_and_truncation(tmp_path: Path) -> None:
    works = sample_works(N_WORKS)
    state = Replay({"works": works}, faults={2: "429", 4: "500", 6: "truncate"}, retry_after="3")
    sleeps: list[float] = []
    with replay_server(state), _client(state.url, sleeps) as client:
        report = fetch_works(
            client, tmp_path, WorkFilter(raw=FILTER), name="tu9", today="2024-02-01"
        )
    assert report.complete and report.stopped is None
    folder = tmp_path / "openalex" / "api" / "tu9"
    pages = _pages(folder)
    assert list(pages) == [f"run-0001/q000-p{i:05d}.json" for i in range(1, 6)]
    # every work once, in server order; the truncated body was retried and never written
    assert _ids(folder) == [w["id"] for w in works]
    assert all(json.loads(b)["meta"]["count"] == N_WORKS for b in pages.values())
    # 5 pages + 3 retries; Retry-After (3 s) honoured, the others back off from base_delay
    assert report.requests == 8 == len(state.requests)
    assert sleeps[0] == 3.0 and sleeps[1:] == [0.001, 0.001]
    assert next(w[0] for w in report.waits) == "HTTP 429 (rate limited)"
    assert all(p.get("mailto") == "me@example.org" for _, p in state.requests)
    assert all(p["per-page"] == "200" and p["filter"] == FILTER for _, p in state.requests)
    assert state.requests[0][1]["cursor"] == "*"
    assert not list(folder.rglob("*.tmp"))


def test_interrupted_fetch_resumes_to_the_same_pages(tmp_path: Path) -> None:
    state = Replay({"works": sample_works(N_WORKS)})
    with replay_server(state):
        with _client(state.url) as client:
            whole = fetch_works(client, tmp_path / "a", WorkFilter(raw=FILTER), name="x")
        assert whole.complete
        # a budget of 2 requests stops after two pages; the state keeps the cursor
        with _client(state.url, max_requests=2) as client:
            part = fetch_works(client, tmp_path / "b", WorkFilter(raw=FILTER), name="x")
        assert not part.complete and "budget" in (part.stopped or "")
        assert part.pages_written == ["run-0001/q000-p00001.json", "run-0001/q000-p00002.json"]
        saved = json.loads((tmp_path / "b/openalex/api/x" / STATE_FILE).read_text())
        assert saved["runs"][0]["done"] is False and saved["runs"][0]["cursor"] != "*"
        before = len(state.requests)
        with _client(state.url) as client:
            rest = fetch_works(client, tmp_path / "b", WorkFilter(raw=FILTER), name="x")
    assert rest.complete and rest.run == 1
    # the resumed fetch starts at the saved cursor, not from the beginning
    assert state.requests[before][1]["cursor"] == saved["runs"][0]["cursor"]
    assert len(rest.pages_written) == 3
    assert _pages(tmp_path / "a/openalex/api/x") == _pages(tmp_path / "b/openalex/api/x")


def test_second_run_downloads_nothing_new_then_takes_updates(tmp_path: Path) -> None:
    works = sample_works(N_WORKS)
    state = Replay({"works": works})
    folder = tmp_path / "openalex" / "api" / "x"
    with replay_server(state):
        with _client(state.url) as client:
            first = fetch_works(
                client, tmp_path, WorkFilter(raw=FILTER), name="x", today="2024-03-01"
            )
        before = _pages(folder)
        n = len(state.requests)
        with _client(state.url) as client:
            again = fetch_works(
                client, tmp_path, WorkFilter(raw=FILTER), name="x", today="2024-03-02"
            )
        # one check request, filtered by the day the last finished run started
        assert len(state.requests) == n + 1
        assert state.requests[-1][1]["filter"] == FILTER + ",from_updated_date:2024-03-01"
        assert again.complete and again.pages_written == [] and again.records == 0
        assert _pages(folder) == before
        # an update upstream: that work comes again and replaces its older copy
        works[12] = dict(works[12], title="Revised title", updated_date="2024-03-05T10:00:00")
        with _client(state.url) as client:
            third = fetch_works(
                client, tmp_path, WorkFilter(raw=FILTER), name="x", today="2024-03-09"
            )
    assert first.complete and third.run == 3 and third.incremental_since == "2024-03-02"
    assert third.pages_written == ["run-0003/q000-p00001.json"] and third.superseded == 1
    ids = _ids(folder)
    assert len(ids) == N_WORKS == len(set(ids))
    newest = json.loads((folder / "run-0003/q000-p00001.json").read_bytes())["results"]
    assert [w["title"] for w in newest] == ["Revised title"]


def test_client_errors_are_not_retried_and_give_up_is_bounded(tmp_path: Path) -> None:
    state = Replay({"works": sample_works(5)}, faults={1: "400"})
    with replay_server(state), _client(state.url) as client:
        report = fetch_works(client, tmp_path, WorkFilter(raw="bogus:1"), name="x")
    assert not report.complete and "HTTP 400" in (report.stopped or "")
    assert len(state.requests) == 1
    state = Replay({"works": []}, faults=dict.fromkeys(range(1, 10), "500"))
    with replay_server(state), _client(state.url, max_attempts=3) as client:
        report = fetch_works(client, tmp_path, WorkFilter(raw=FILTER), name="y")
    assert "gave up after 3 attempts" in (report.stopped or "") and len(state.requests) == 3


def test_friendly_options_build_the_filter() -> None:
    queries = WorkFilter(
        sources=("https://openalex.org/S4306420609", "s123"),
        years="2019-2023",
        concepts=("C154945302",),
        topics=("T10028",),
        institutions=("I4577782",),
        authors=tuple(f"A{i}" for i in range(1, 61)),
    ).queries()
    assert len(queries) == 2  # 60 authors, 50 per query
    assert queries[0].startswith(
        "primary_location.source.id:S4306420609|S123,publication_year:2019-2023,"
        "concepts.id:C154945302,topics.id:T10028,authorships.institutions.id:I4577782,"
        "authorships.author.id:A1|A10|"
    )
    assert queries[1].split("authorships.author.id:")[1].count("|") == 9  # 10 left
    with pytest.raises(ValueError, match="YYYY"):
        WorkFilter(years="2019-20").queries()
    with pytest.raises(ValueError, match="needs a lookup"):
        WorkFilter(sources=("NeurIPS",)).queries()
    assert author_queries(
        ["A1", "https://openalex.org/A2"], ["https://orcid.org/0000-0001-2345-678x"]
    ) == [
        "openalex:A1|A2",
        "orcid:0000-0001-2345-678X",
    ]


def test_source_name_lookup_needs_an_exact_match(tmp_path: Path) -> None:
    sources = [
        {"id": "https://openalex.org/S1", "display_name": "Neural Information Processing Systems"},
        {"id": "https://openalex.org/S2", "display_name": "Neural Computation"},
    ]
    state = Replay({"sources": sources, "works": sample_works(3)})
    with replay_server(state), _client(state.url) as client:
        queries = WorkFilter(sources=("neural information processing systems",)).queries(client)
        assert queries == ["primary_location.source.id:S1"]
        with pytest.raises(OpenAlexError, match="Neural Computation \\(S2\\)"):
            WorkFilter(sources=("Neural",)).queries(client)


AUTHORS = [
    author(
        "A1",
        "Wei Zhang",
        [
            ("I1", "Tsinghua University", "CN", [2016, 2017, 2021, 2022]),
            ("I2", "Stanford University", "US", [2018, 2019, 2020]),
        ],
        None,
    ),
    author(
        "A2",
        "Ana Souza",
        [("I3", "Technical University of Berlin", "DE", [2019, 2020])],
        "0000-0002-1825-0097",
    ),
]


def test_author_histories_fetched_and_read_by_a_build(tmp_path: Path) -> None:
    state = Replay({"authors": AUTHORS, "works": sample_works(12)})
    with replay_server(state), _client(state.url) as client:
        works = fetch_works(client, tmp_path, WorkFilter(raw=FILTER), name="w")
        hist = fetch_authors(client, tmp_path, ["A1"], ["0000-0002-1825-0097"], name="h")
    assert works.complete and hist.complete and hist.records == 2
    assert [p["filter"] for e, p in state.requests if e == "authors"] == [
        "openalex:A1",
        "orcid:0000-0002-1825-0097",
    ]
    assert (tmp_path / AUTHORS_FOLDER / "h" / "run-0001" / "q000-p00001.json").is_file()
    # a bad author record is quarantined by position, the rest kept
    (tmp_path / AUTHORS_FOLDER / "bad.jsonl").write_text(
        '{"id": 5}\n' + json.dumps(AUTHORS[1]) + "\n"
    )
    from talentflow.pipeline import build

    db = tmp_path / "s.duckdb"
    build(tmp_path, db, stages=["sources"])
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert (
            con.execute("SELECT count(*) FROM raw_papers WHERE source='openalex'").fetchone()[0]
            == 12
        )
        # the current schema's fields reach the raw tables (raw strings for our resolver,
        # OpenAlex's own institutions kept apart)
        slots = con.execute(
            "SELECT count(*), count(raw_affiliation), count(source_country) FROM raw_authorships "
            "WHERE source = 'openalex'"
        ).fetchone()
        expected = [
            (
                len(a["raw_affiliation_strings"]) > 0,
                any(i.get("country_code") for i in a["institutions"]),
            )
            for w in sample_works(12)
            for a in w["authorships"]
        ]
        assert slots == (
            len(expected),
            sum(r for r, _ in expected),
            sum(i for _, i in expected),
        )
        venues = con.execute(
            "SELECT count(*) FROM raw_papers WHERE source = 'openalex' AND venue_name IS NOT NULL"
        ).fetchone()[0]
        assert venues == sum(
            1 for w in sample_works(12) if w["primary_location"]["source"]["display_name"]
        )
        rows = con.execute(
            "SELECT author_id, country, year, institution_type, orcid FROM author_affiliations "
            "ORDER BY author_id, year"
        ).fetchall()
        assert [(a, c, y) for a, c, y, _, _ in rows] == [
            ("A1", "CN", 2016),
            ("A1", "CN", 2017),
            ("A1", "US", 2018),
            ("A1", "US", 2019),
            ("A1", "US", 2020),
            ("A1", "CN", 2021),
            ("A1", "CN", 2022),
            ("A2", "DE", 2019),
            ("A2", "DE", 2020),
        ]
        assert rows[-1][4] == "0000-0002-1825-0097" and rows[0][3] == "education"
        q = con.execute("SELECT file, record_index, reason FROM quarantine").fetchall()
        assert q == [("openalex_authors/bad.jsonl", 0, 'missing or non-string field "id"')]
        log = dict(
            con.execute(
                "SELECT file, status FROM ingest_log WHERE source='openalex_authors'"
            ).fetchall()
        )
        assert log == {
            "openalex_authors/bad.jsonl": "partial",
            "openalex_authors/h/run-0001/q000-p00001.json": "ok",
            "openalex_authors/h/run-0001/q001-p00001.json": "ok",
        }
    finally:
        con.close()


def test_cli_fetch_openalex_budget_then_resume(tmp_path: Path) -> None:
    state = Replay({"works": sample_works(25)})
    runner = CliRunner()
    with replay_server(state):
        args = [
            "fetch",
            "openalex",
            "--filter",
            FILTER,
            "--data",
            str(tmp_path),
            "--api-url",
            state.url,
            "--mailto",
            "me@example.org",
            "--retry-delay",
            "0",
            "--name",
            "cli",
        ]
        stopped = runner.invoke(app, [*args, "--max-requests", "1"])
        assert stopped.exit_code == 1, stopped.output
        assert "stopped" in stopped.output and "1 page(s)" in stopped.output
        done = runner.invoke(app, args)
        assert done.exit_code == 0, done.output
        assert "2 page(s)" in done.output
        again = runner.invoke(app, args)
        assert again.exit_code == 0 and "nothing new" in again.output
        bad = runner.invoke(
            app, ["fetch", "openalex", "--data", str(tmp_path), "--api-url", state.url]
        )
        assert bad.exit_code == 2 and "give a filter" in bad.output
    assert len(_ids(tmp_path / "openalex/api/cli")) == 25


def test_a_record_two_queries_find_is_written_once(tmp_path: Path) -> None:
    # A2 is asked for by id and by ORCID: two queries, one record
    state = Replay({"authors": AUTHORS})
    with replay_server(state), _client(state.url) as client:
        report = fetch_authors(client, tmp_path, ["A1", "A2"], ["0000-0002-1825-0097"], name="d")
    assert report.complete and report.repeated == 1 and report.records == 2
    assert report.pages_written == ["run-0001/q000-p00001.json"]  # the second page was all repeats
    assert sorted(_ids(tmp_path / AUTHORS_FOLDER / "d")) == [
        "https://openalex.org/A1",
        "https://openalex.org/A2",
    ]
    # works of authors in two chunks: a work of both is kept in the first chunk's page only
    works = sample_works(N_WORKS)
    state = Replay({"works": works})
    two = [FILTER, FILTER + ",publication_year:2017-2023"]  # the server returns the same works
    from talentflow.sources.openalex_api import fetch_pages

    with replay_server(state), _client(state.url) as client:
        again = fetch_pages(client, "works", two, tmp_path / "w")
    assert again.complete and again.repeated == N_WORKS and again.records == N_WORKS
    assert len(_ids(tmp_path / "w")) == N_WORKS


def test_cli_takes_the_authors_of_a_store(tmp_path: Path) -> None:
    db = tmp_path / "store.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE persons (person_id VARCHAR, known_ids VARCHAR[])")
    con.execute(
        "INSERT INTO persons VALUES ('P1', ['openalex:A2', 'dblp:x']), "
        "('P2', ['orcid:0000-0002-1825-0097']), ('P3', ['openreview:~X1']), ('P4', [])"
    )
    con.close()
    state = Replay({"authors": AUTHORS, "works": sample_works(5)})
    runner = CliRunner()
    with replay_server(state):
        common = ["--data", str(tmp_path / "d"), "--api-url", state.url, "--db", str(db)]
        works = runner.invoke(app, ["fetch", "openalex", *common, "--year", "2017-2023"])
        authors = runner.invoke(app, ["fetch", "openalex-authors", *common, "--author", "A1"])
        missing = runner.invoke(
            app,
            [
                "fetch",
                "openalex-authors",
                "--data",
                str(tmp_path),
                "--db",
                str(tmp_path / "none.duckdb"),
            ],
        )
    assert works.exit_code == 0, works.output
    assert authors.exit_code == 0, authors.output
    filters = [(entity, p["filter"]) for entity, p in state.requests]
    assert filters == [
        ("works", "publication_year:2017-2023,authorships.author.id:A2"),
        ("authors", "openalex:A1|A2"),
        ("authors", "orcid:0000-0002-1825-0097"),
    ]
    assert "2 authors" in authors.output and "1 record(s) already written" in authors.output
    assert missing.exit_code == 2 and "store not found" in missing.output


def test_retry_after_in_seconds_or_as_a_date() -> None:
    from datetime import UTC, datetime, timedelta
    from email.utils import format_datetime

    from talentflow.sources.openalex_api import _retry_after

    assert _retry_after("7") == 7.0 and _retry_after("-3") == 0.0
    assert _retry_after(None) is None and _retry_after("soon") is None
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 25 <= (_retry_after(later) or 0) <= 30
