"""Two builds into one store, a build killed mid-way, readers during a build, exit codes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from talentflow.cli import app, main
from talentflow.pipeline import build
from talentflow.store import StoreBusy, building_path

#: A build in a child process that pauses when it reaches the merge of the sources stage:
#: it touches ``reached`` and waits there until ``go`` exists.
PAUSED_BUILD = """
import sys, time
from pathlib import Path
from talentflow.pipeline import build

data, db, reached, go = sys.argv[1:5]

def progress(message):
    if message.startswith("merge"):
        Path(reached).touch()
        while not Path(go).exists():
            time.sleep(0.05)

build(data, db, stages=["sources"], progress=progress)
print("built")
"""


def _corpus(root: Path, n: int) -> Path:
    records = [
        {"id": f"p{i}", "title": f"Paper number {i}", "author": f"A{i};B{i}", "aff": "MIT;MIT"}
        for i in range(n)
    ]
    path = root / "paperlists" / "icml" / "icml2020.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(records))
    return root


def _papers(db: Path) -> int:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT count(*) FROM raw_papers").fetchone()[0]
    finally:
        con.close()


def _start_paused(tmp_path: Path, data: Path, db: Path) -> tuple[subprocess.Popen, Path, Path]:
    reached, go = tmp_path / "reached", tmp_path / "go"
    child = subprocess.Popen(
        [sys.executable, "-c", PAUSED_BUILD, str(data), str(db), str(reached), str(go)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not reached.exists():
        assert child.poll() is None, child.communicate()
        assert time.monotonic() < deadline, "the paused build never reached the merge"
        time.sleep(0.05)
    return child, reached, go


@pytest.fixture
def store(tmp_path: Path) -> tuple[Path, Path]:
    """A store of 3 papers, and a corpus of 7 papers for the next build."""
    db = tmp_path / "store.duckdb"
    build(_corpus(tmp_path / "old", 3), db, stages=["sources"])
    return db, _corpus(tmp_path / "new", 7)


def test_a_second_build_is_refused_while_readers_keep_reading(tmp_path, store):
    db, data = store
    child, _, go = _start_paused(tmp_path, data, db)
    try:
        assert building_path(db).exists()
        second = CliRunner().invoke(
            app, ["build", "--data", str(data), "--db", str(db), "--stage", "sources"]
        )
        assert second.exit_code == 4
        message = " ".join(second.output.split())
        assert "another build into" in message and f"pid {child.pid}" in message
        assert "--wait" in message
        with pytest.raises(StoreBusy):
            build(data, db, stages=["sources"])
        # readers see the previous store meanwhile
        stats = CliRunner().invoke(app, ["stats", "--db", str(db)])
        assert stats.exit_code == 0, stats.output
        assert _papers(db) == 3
        exported = CliRunner().invoke(app, ["export", "raw_papers", "--db", str(db)])
        assert exported.exit_code == 0 and len(exported.stdout.splitlines()) == 3
    finally:
        go.touch()
        out, err = child.communicate(timeout=120)
    assert child.returncode == 0, err
    assert "built" in out
    assert _papers(db) == 7  # the first build's store, complete
    assert not building_path(db).exists()


def test_wait_builds_after_the_running_build(tmp_path, store):
    db, data = store
    child, _, go = _start_paused(tmp_path, data, db)
    waited: dict[str, object] = {}

    def second() -> None:
        t0 = time.monotonic()
        build(_corpus(tmp_path / "third", 5), db, stages=["sources"], wait=True)
        waited["seconds"] = time.monotonic() - t0

    thread = threading.Thread(target=second)
    thread.start()
    time.sleep(1.0)
    assert thread.is_alive()  # waiting for the lock
    go.touch()
    child.communicate(timeout=120)
    thread.join(timeout=120)
    assert child.returncode == 0
    assert waited["seconds"] >= 1.0
    assert _papers(db) == 5  # the waiting build ran after the first and replaced its store


def test_a_killed_build_leaves_the_previous_store_and_no_lock(tmp_path, store):
    db, data = store
    before = db.read_bytes()
    child, _, _ = _start_paused(tmp_path, data, db)
    os.kill(child.pid, signal.SIGKILL)
    child.communicate(timeout=60)
    assert db.read_bytes() == before
    assert _papers(db) == 3
    # the lock died with the process: the next build runs and swaps its store in
    build(data, db, stages=["sources"])
    assert _papers(db) == 7


def test_exit_codes_of_the_command(tmp_path, store, monkeypatch, capsys):
    db, _ = store

    def code(*args: str) -> int:
        with pytest.raises(SystemExit) as info:
            main(list(args))
        return int(info.value.code or 0)

    assert code("stats", "--db", str(db)) == 0
    assert code("stats", "--no-such-option") == 2
    assert code("stats", "--db", str(tmp_path / "missing.duckdb")) == 3
    assert (
        code("build", "--data", str(tmp_path / "nowhere"), "--db", str(db)) == 2
    )  # a --data without sources is a bad argument

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr("talentflow.reporting.print_stats", broken)
    capsys.readouterr()
    assert code("stats", "--db", str(db)) == 5  # never 1, which means "quarantined"
    err = capsys.readouterr().err
    assert "RuntimeError: a bug" in err and "unexpected error" in err


def test_a_stage_without_the_stages_it_reads_leaves_the_store_alone(tmp_path, store):
    """`--stage indicators` alone would start a new store holding nothing to compute from and
    swap it over a full one: it is refused as a bad argument, naming what to add."""
    from talentflow.pipeline import StageSelectionError, check_stages

    db, data = store
    before = db.read_bytes()
    result = CliRunner().invoke(
        app, ["build", "--data", str(data), "--db", str(db), "--stage", "indicators"]
    )
    assert result.exit_code == 2
    message = " ".join(result.output.split())
    assert "--stage sources --stage resolve --stage identity --stage careers" in message
    assert "not touched" in message
    assert db.read_bytes() == before and _papers(db) == 3
    with pytest.raises(StageSelectionError, match="unknown stage"):
        check_stages(["sources", "indicator"])
    check_stages(["sources", "resolve"])  # a prefix of the build order is a valid selection
    check_stages(None)
