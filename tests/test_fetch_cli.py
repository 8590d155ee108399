"""`talentflow fetch` through Typer's runner: help, listing, usage errors, a directory mirror."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from talentflow.cli import app

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
runner = CliRunner()


def test_help_documents_the_options() -> None:
    result = runner.invoke(app, ["fetch", "--help"])
    assert result.exit_code == 0
    for option in ("--mirror", "--only", "--dest", "--list"):
        assert option in result.output


def test_list_prints_paths_and_upstream_urls() -> None:
    result = runner.invoke(app, ["fetch", "--list", "--only", "openreview/nips"])
    assert result.exit_code == 0
    lines = result.stdout.strip().splitlines()
    assert len(lines) == len(list((DATA / "openreview/nips").glob("*.json")))
    path, url = lines[0].split("\t")
    assert path.startswith("openreview/nips/nips")
    assert url.endswith("/authors/" + path.removeprefix("openreview/"))


def test_directory_mirror_from_the_environment(tmp_path: Path) -> None:
    dest = tmp_path / "cache"
    result = runner.invoke(
        app,
        ["fetch", "--only", "paperlists/acl"],
        env={"TALENTFLOW_MIRROR": str(DATA), "TALENTFLOW_CACHE": str(dest)},
    )
    assert result.exit_code == 0, result.output
    for src in (DATA / "paperlists/acl").glob("*.json"):
        assert (dest / "paperlists/acl" / src.name).read_bytes() == src.read_bytes()
    assert "2 fetched" in result.output


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    typo = runner.invoke(app, ["fetch", "--dest", str(tmp_path), "--only", "paperlist/nips"])
    assert typo.exit_code == 2
    assert "paperlist/nips" in typo.output

    no_dir = runner.invoke(app, ["fetch", "--dest", str(tmp_path), "--mirror", str(tmp_path / "x")])
    assert no_dir.exit_code == 2
    assert "mirror directory not found" in no_dir.output

    bad_option = runner.invoke(app, ["fetch", "--workers", "0"])
    assert bad_option.exit_code == 2
    assert not list(tmp_path.iterdir())  # nothing was written
