"""Fetching from a local directory mirror, and choosing the data directory for a build."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from talentflow.sources.fetch import FetchProgress, cache_dir, fetch, resolve_data_dir

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

SUBSET = [
    "paperlists/iclr",  # a folder: 5 files
    "openreview/iclr/iclr2014.json",
    "openalex/works-sample-tu9-2022.json",  # mirror-only upstream, available here
    "registries/population/population.csv",
    "registries/ror-parser/lu.json",
]


def test_directory_mirror_copies_a_subset(tmp_path: Path) -> None:
    dest = tmp_path / "cache"
    events: list[FetchProgress] = []
    report = fetch(dest, mirror=str(DATA), only=SUBSET, progress=events.append)

    assert report.ok
    assert report.source == str(DATA)
    fetched = sorted(r.path for r in report.fetched)
    expected = sorted(
        [p.relative_to(DATA).as_posix() for p in (DATA / "paperlists/iclr").glob("*.json")]
        + SUBSET[1:]
    )
    assert fetched == expected
    for rel in fetched:
        assert (dest / rel).read_bytes() == (DATA / rel).read_bytes()
    assert sum(r.size for r in report.fetched) == sum((DATA / p).stat().st_size for p in fetched)
    assert {e.path for e in events if e.event == "done"} == set(fetched)
    assert not list(dest.rglob("*.part"))


def test_directory_mirror_missing_and_bad_files(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    good = "paperlists/colt/colt2012.json"
    (mirror / good).parent.mkdir(parents=True)
    shutil.copyfile(DATA / good, mirror / good)
    empty = "paperlists/colt/colt2013.json"
    (mirror / empty).write_bytes(b"")
    bad_utf8 = "paperlists/colt/colt2014.json"
    (mirror / bad_utf8).write_bytes(b'[{"title": "caf\xe9"}]')

    report = fetch(tmp_path / "cache", mirror=str(mirror), only=["paperlists/colt"])

    reasons = {r.path: r.reason for r in report.failed}
    assert reasons[empty].startswith("empty file")
    assert "UTF-8" in reasons[bad_utf8]
    assert "not in mirror" in reasons["paperlists/colt/colt2011.json"]
    assert [r.path for r in report.fetched] == [good]
    assert len(report.failed) == len(report.results) - 1
    assert not (tmp_path / "cache" / empty).exists()


def test_missing_mirror_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="mirror directory"):
        fetch(tmp_path / "cache", mirror=str(tmp_path / "nope"), only=["paperlists/iclr"])


def test_upstream_mode_reports_mirror_only_files_without_network(tmp_path: Path) -> None:
    report = fetch(tmp_path / "cache", only=["openalex"])
    assert report.ok
    assert [r.status for r in report.results] == ["unavailable"]


def test_resolve_data_dir_prefers_a_local_mirror(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TALENTFLOW_MIRROR", str(DATA))
    monkeypatch.setenv("TALENTFLOW_CACHE", str(tmp_path / "cache"))
    assert resolve_data_dir(None) == DATA
    assert not (tmp_path / "cache").exists()  # a local mirror is used in place, not copied

    monkeypatch.setenv("TALENTFLOW_MIRROR", str(tmp_path / "missing"))
    with pytest.raises(FileNotFoundError, match="TALENTFLOW_MIRROR"):
        resolve_data_dir(None)


def test_cache_dir_default_and_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TALENTFLOW_CACHE", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cache_dir() == tmp_path / ".cache" / "talentflow"
    monkeypatch.setenv("TALENTFLOW_CACHE", str(tmp_path / "c"))
    assert cache_dir() == tmp_path / "c"
