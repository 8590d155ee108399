"""Reference data whatever folder the sources are in: data, fetch cache, shipped copy, missing."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from talentflow.cli import app
from talentflow.context import StageContext
from talentflow.engines import connect
from talentflow.reporting import build_notices
from talentflow.resolve import stage
from talentflow.resolve.reference import find_reference, packaged_registries
from tests.test_resolve_stage import _authorships

runner = CliRunner()


def flat(text: str) -> str:
    """CLI output with rich's line wrapping undone."""
    return " ".join(text.split())


@pytest.fixture
def empty_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh install: nothing fetched, no mirror."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("TALENTFLOW_CACHE", str(cache))
    monkeypatch.delenv("TALENTFLOW_MIRROR", raising=False)
    return cache


def _write_registry(root: Path, name: str, cc: str, domain: str) -> None:
    """A one-university registries folder (the registry's own format)."""
    uni = root / "university-domains"
    uni.mkdir(parents=True)
    rec = {"name": name, "alpha_two_code": cc, "domains": [domain], "country": cc}
    (uni / "world_universities_and_domains.json").write_text(json.dumps([rec]))


def test_fresh_install_uses_the_shipped_registries_and_says_labels_are_missing(
    empty_cache: Path, tmp_path: Path
):
    own = tmp_path / "my_openalex"  # a user's folder without registries/ or paperlists/
    own.mkdir()
    ref = find_reference(own)
    assert ref.registry_source == "package" and ref.labels_source == "missing"
    assert ref.registry_dir is not None
    assert (ref.registry_dir / "ror-parser" / "us.json").exists()
    missing = [n for n in ref.notes if n.startswith("reference data missing")]
    assert len(missing) == 1 and "talentflow fetch" in missing[0]
    # unpacked once into the resolve cache, then reused
    assert ref.registry_dir.parent == empty_cache / "resolve"
    assert packaged_registries() == ref.registry_dir


def test_resolve_without_data_knows_universities(empty_cache: Path):
    result = runner.invoke(app, ["resolve", "Columbia University"])
    assert result.exit_code == 0, result.output
    out = flat(result.output)
    assert "Columbia University (US, education)" in out
    assert "nothing recognised" not in out
    assert "no labelled paper lists" in out and "talentflow fetch" in out


def test_fetch_cache_registries_are_used_without_data(empty_cache: Path):
    _write_registry(
        empty_cache / "registries", "Zyxland Institute of Technology", "NZ", "zit.ac.nz"
    )
    ref = find_reference(None)
    assert ref.registry_source == "cache"
    result = runner.invoke(app, ["resolve", "Zyxland Institute of Technology"])
    assert result.exit_code == 0, result.output
    assert "Zyxland Institute of Technology (NZ" in flat(result.output)


def test_data_folder_beats_the_cache(empty_cache: Path, tmp_path: Path):
    _write_registry(empty_cache / "registries", "Cache University", "NZ", "cu.ac.nz")
    data = tmp_path / "data"
    _write_registry(data / "registries", "Data University", "FI", "du.fi")
    ref = find_reference(data)
    assert (ref.registry_source, ref.registry_dir) == ("data", data / "registries")


def test_missing_registries_are_reported(empty_cache: Path, tmp_path: Path):
    empty = tmp_path / "nothing"
    empty.mkdir()
    result = runner.invoke(app, ["resolve", "Tencent AI Lab, Seattle", "--registries", str(empty)])
    assert result.exit_code == 0, result.output
    # notes are printed unwrapped, so the path is whole
    assert f"reference data missing: no registries in {empty};" in result.output
    assert "country │ US" in flat(result.output)  # the curated labs still work


def test_build_records_missing_reference_data(empty_cache: Path, tmp_path: Path):
    own = tmp_path / "own"
    own.mkdir()
    db = tmp_path / "s.duckdb"
    con = connect(db)
    con.create_table("authorships", _authorships())
    stage.run(StageContext(con=con, previous=None, data_dir=own))
    params = dict(
        con.raw_sql("SELECT name, value FROM build_params WHERE stage = 'resolve'").fetchall()
    )
    aff = con.table("affiliations").to_pandas()
    con.disconnect()
    assert json.loads(params["reference_registries"]) == "package"
    assert json.loads(params["reference_labels"]) == "missing"
    notes = build_notices(db)
    assert len(notes) == 1 and "no labelled paper lists" in notes[0]
    assert {"hq_fallback", "other_parts"} <= set(aff.columns)


def test_methods_page_shows_missing_reference_data(tmp_path_factory: pytest.TempPathFactory):
    from talentflow.web import create_app
    from tests.test_web_store import shared_store

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
        from fastapi.testclient import TestClient

    db = tmp_path_factory.mktemp("ref") / "store.duckdb"
    shutil.copy(shared_store(tmp_path_factory), db)
    note = "reference data missing: no labelled paper lists; run `talentflow fetch`"
    with duckdb.connect(str(db)) as raw:
        raw.execute(
            "INSERT INTO build_params VALUES ('resolve', 'reference_notes', ?)",
            [json.dumps([note])],
        )
    with TestClient(create_app(db)) as client:
        page = client.get("/methods")
    assert page.status_code == 200
    assert "Reference data" in page.text and "talentflow fetch" in page.text
