"""The download path for real: an HTTP server on 127.0.0.1 serving files of ../shared/data.

The server supports Range requests and can misbehave on demand: drop the connection mid-body,
serve truncated JSON, serve an object where an array is expected, or ignore Range.
"""

from __future__ import annotations

import json
import shutil
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from typer.testing import CliRunner

from talentflow.cli import app
from talentflow.sources import fetch as fetch_module
from talentflow.sources.corpus import default_corpus, select
from talentflow.sources.fetch import FetchError, FetchProgress, fetch, resolve_data_dir
from tests.openalex_replay import loopback

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

# Small real files of every kind: paper lists, OpenReview records, a CSV registry.
SUBSET = [
    "paperlists/iclr/iclr2013.json",
    "paperlists/colt/colt2011.json",
    "openreview/iclr/iclr2013.json",
    "openreview/iclr/iclr2017.json",
    "registries/country-codes/country-codes.csv",
]
BIG = "openreview/iclr/iclr2017.json"  # 165 kB: several chunks, so a drop lands mid-body


@dataclass
class Loopback:
    """A misbehaving-on-demand static file server; ``url`` is its base URL."""

    root: Path
    url: str = ""
    requests: list[tuple[str, str | None]] = field(default_factory=list)
    drop_first: set[str] = field(default_factory=set)  # cut the body once, then behave
    truncate: dict[str, int] = field(default_factory=dict)  # path -> times to serve truncated
    override: dict[str, bytes] = field(default_factory=dict)  # path -> body served instead
    ranges: bool = True
    dropped_at: dict[str, int] = field(default_factory=dict)

    def hits(self, path: str) -> list[str | None]:
        """Range headers of every request for ``path``, in order."""
        return [rng for p, rng in self.requests if p == path]


def _handler(state: Loopback) -> type[BaseHTTPRequestHandler]:
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            path = self.path.lstrip("/")
            rng = self.headers.get("Range")
            with lock:
                state.requests.append((path, rng))
                drop = path in state.drop_first
                state.drop_first.discard(path)
                truncate = state.truncate.get(path, 0) > 0
                if truncate:
                    state.truncate[path] -= 1
            file = state.root / path
            if path in state.override:
                body = state.override[path]
            elif file.is_file():
                body = file.read_bytes()
            else:
                self.send_error(404)
                return
            if truncate:
                body = body[: len(body) // 2]
            start = 0
            if rng and state.ranges:
                start = int(rng.removeprefix("bytes=").split("-")[0])
                if start >= len(body):
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(body)}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
            else:
                self.send_response(200)
            payload = body[start:]
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if drop:
                cut = len(payload) // 3
                self.wfile.write(payload[:cut])
                self.wfile.flush()
                state.dropped_at[path] = start + cut
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self.wfile.write(payload)

    return Handler


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Loopback]:
    root = tmp_path / "served"
    for rel in SUBSET:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(DATA / rel, root / rel)
    state = Loopback(root)
    with loopback(_handler(state)) as url:
        state.url = url
        yield state


def _same(dest: Path, rel: str) -> bool:
    return (dest / rel).read_bytes() == (DATA / rel).read_bytes()


def test_full_fetch_of_a_subset_then_rerun_skips(server: Loopback, tmp_path: Path) -> None:
    dest = tmp_path / "cache"
    events: list[FetchProgress] = []
    report = fetch(dest, mirror=server.url, only=SUBSET, progress=events.append)

    assert report.ok
    assert sorted(r.path for r in report.fetched) == sorted(SUBSET)
    assert all(_same(dest, rel) for rel in SUBSET)
    assert not list(dest.rglob("*.part"))
    done = {e.path: e for e in events if e.event == "done"}
    assert set(done) == set(SUBSET)
    assert all(done[p].received == (DATA / p).stat().st_size for p in SUBSET)
    assert {e.path for e in events if e.event == "bytes"} == set(SUBSET)

    n_requests = len(server.requests)
    again = fetch(dest, mirror=server.url, only=SUBSET)
    assert sorted(r.path for r in again.present) == sorted(SUBSET)
    assert not again.fetched
    assert len(server.requests) == n_requests  # nothing downloaded again


def test_resume_after_a_dropped_connection(server: Loopback, tmp_path: Path) -> None:
    dest = tmp_path / "cache"
    server.drop_first.add(BIG)
    report = fetch(dest, mirror=server.url, only=[BIG], backoff=0.01)

    assert report.ok, report.failed
    assert _same(dest, BIG)
    first, second = server.hits(BIG)
    assert first is None
    # The retry asked only for the bytes after the drop.
    assert server.dropped_at[BIG] > 0
    assert second == f"bytes={server.dropped_at[BIG]}-"


def test_resume_a_part_left_by_an_earlier_run(server: Loopback, tmp_path: Path) -> None:
    dest = tmp_path / "cache"
    part = dest / (BIG + ".part")
    part.parent.mkdir(parents=True)
    part.write_bytes((DATA / BIG).read_bytes()[:5000])

    report = fetch(dest, mirror=server.url, only=[BIG])

    assert report.ok
    assert report.fetched[0].resumed_from == 5000
    assert server.hits(BIG) == ["bytes=5000-"]
    assert _same(dest, BIG)
    assert not part.exists()


def test_server_ignoring_range_restarts_the_file(server: Loopback, tmp_path: Path) -> None:
    dest = tmp_path / "cache"
    server.ranges = False
    part = dest / (BIG + ".part")
    part.parent.mkdir(parents=True)
    part.write_bytes(b"stale bytes from another version")

    report = fetch(dest, mirror=server.url, only=[BIG])

    assert report.ok
    assert _same(dest, BIG)  # the stale prefix was not kept


def test_corrupt_file_is_retried_once_then_reported_and_not_kept(
    server: Loopback, tmp_path: Path
) -> None:
    dest = tmp_path / "cache"
    bad = "paperlists/colt/colt2011.json"
    server.truncate[bad] = 99  # always truncated

    report = fetch(dest, mirror=server.url, only=SUBSET)

    assert [r.path for r in report.failed] == [bad]
    assert "truncated JSON" in report.failed[0].reason
    assert len(server.hits(bad)) == 2  # one retry from scratch
    assert not (dest / bad).exists()
    assert not (dest / (bad + ".part")).exists()
    kept = [rel for rel in SUBSET if rel != bad]
    assert all(_same(dest, rel) for rel in kept)


def test_corrupt_once_then_good_is_kept(server: Loopback, tmp_path: Path) -> None:
    dest = tmp_path / "cache"
    rel = "paperlists/iclr/iclr2013.json"
    server.truncate[rel] = 1

    report = fetch(dest, mirror=server.url, only=[rel])

    assert report.ok
    assert _same(dest, rel)
    assert len(server.hits(rel)) == 2


def test_object_where_an_array_is_expected_is_rejected(server: Loopback, tmp_path: Path) -> None:
    rel = "openreview/iclr/iclr2013.json"
    server.override[rel] = json.dumps({"papers": []}).encode()

    report = fetch(tmp_path / "cache", mirror=server.url, only=[rel])

    assert not report.ok
    assert "expected a JSON array" in report.failed[0].reason
    assert not (tmp_path / "cache" / rel).exists()


def test_missing_file_is_a_failure_without_retries(server: Loopback, tmp_path: Path) -> None:
    rel = "paperlists/nips/nips2018.json"  # in the corpus, not on this server
    report = fetch(tmp_path / "cache", mirror=server.url, only=[rel, SUBSET[0]])

    assert [r.path for r in report.failed] == [rel]
    assert "HTTP 404" in report.failed[0].reason
    assert len(server.hits(rel)) == 1
    assert _same(tmp_path / "cache", SUBSET[0])


def test_damaged_cached_file_is_fetched_again(server: Loopback, tmp_path: Path) -> None:
    dest = tmp_path / "cache"
    rel = SUBSET[0]
    (dest / rel).parent.mkdir(parents=True)
    (dest / rel).write_bytes(b'[{"title": "cut')

    report = fetch(dest, mirror=server.url, only=[rel])

    assert [r.path for r in report.fetched] == [rel]
    assert _same(dest, rel)


def test_unreachable_server_fails_fast(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    report = fetch(
        tmp_path / "cache",
        mirror=f"http://127.0.0.1:{port}",
        only=SUBSET,
        retries=1,
        backoff=0.01,
        workers=1,
    )
    assert len(report.failed) == len(SUBSET)
    assert "ConnectError" in report.failed[0].reason
    assert all("unreachable" in r.reason for r in report.failed[1:])


def test_resolve_data_dir_fetches_into_an_empty_cache(
    server: Loopback, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    subset = select(default_corpus(), SUBSET)
    monkeypatch.setattr(fetch_module, "default_corpus", lambda: subset)
    cache = tmp_path / "cache"
    monkeypatch.setenv("TALENTFLOW_CACHE", str(cache))
    monkeypatch.setenv("TALENTFLOW_MIRROR", server.url)

    assert resolve_data_dir(None) == cache
    assert all(_same(cache, rel) for rel in SUBSET)
    n_requests = len(server.requests)
    assert resolve_data_dir(None) == cache  # complete cache: no fetch
    assert len(server.requests) == n_requests

    explicit = tmp_path / "elsewhere"
    assert resolve_data_dir(explicit) == explicit


def test_resolve_data_dir_raises_when_nothing_could_be_fetched(
    server: Loopback, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    absent = select(default_corpus(), ["paperlists/nips/nips2018.json"])
    monkeypatch.setattr(fetch_module, "default_corpus", lambda: absent)
    monkeypatch.setenv("TALENTFLOW_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("TALENTFLOW_MIRROR", server.url)

    with pytest.raises(FetchError, match="HTTP 404") as info:
        resolve_data_dir(None)
    assert info.value.report is not None
    assert len(info.value.report.failed) == 1
    # the offline way out is named
    assert "--data DIR" in str(info.value) and "TALENTFLOW_MIRROR=DIR" in str(info.value)
    result = CliRunner().invoke(app, ["demo", "--no-serve", "--db", str(tmp_path / "d.duckdb")])
    assert result.exit_code == 4
    text = " ".join(result.output.split())
    assert "--data DIR" in text and "TALENTFLOW_MIRROR=DIR" in text


def test_cli_fetch_over_http_exit_codes(server: Loopback, tmp_path: Path) -> None:
    runner = CliRunner()
    dest = tmp_path / "cache"
    ok = runner.invoke(
        app, ["fetch", "--dest", str(dest), "--mirror", server.url, "--only", "paperlists/iclr"]
    )
    # Only iclr2013 is on this server: the rest of paperlists/iclr fails with 404.
    assert ok.exit_code == 1, ok.output
    assert "paperlists/iclr/iclr2017.json" in ok.output
    assert _same(dest, "paperlists/iclr/iclr2013.json")

    good = runner.invoke(
        app,
        ["fetch", "--dest", str(dest), "--only", SUBSET[1], "--only", SUBSET[2]],
        env={"TALENTFLOW_MIRROR": server.url},
    )
    assert good.exit_code == 0, good.output
    assert _same(dest, SUBSET[1])
    assert _same(dest, SUBSET[2])

    server.truncate[SUBSET[3]] = 99
    bad = runner.invoke(
        app, ["fetch", "--dest", str(dest), "--mirror", server.url, "--only", SUBSET[3]]
    )
    assert bad.exit_code == 1
    assert SUBSET[3] in bad.output
    assert "truncated JSON" in bad.output
