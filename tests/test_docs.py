"""The docs say what the code does: every command and recorded parameter has its entry.

Also: the docs index links every page, every relative link resolves, and no page names a
machine-local path.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import duckdb
import pytest

from talentflow.cli.reference import commands, render
from tests.conftest import cut

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
SRC = ROOT / "src" / "talentflow"
STAGES = ("sources", "resolve", "identity", "careers", "indicators", "scenarios")
_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def _pages() -> list[Path]:
    return sorted(DOCS.glob("*.md"))


def _documented(name: str, text: str) -> bool:
    """``name`` is named in backticks, or heads a row of a parameter table."""
    escaped = re.escape(name)
    return bool(re.search(rf"`{escaped}`", text) or re.search(rf"^\|\s*{escaped}\s*\|", text, re.M))


def test_cli_reference_is_generated_from_the_commands() -> None:
    assert (DOCS / "cli.md").read_text(encoding="utf-8") == render(), (
        "docs/cli.md is stale: uv run python -m talentflow.cli.reference > docs/cli.md"
    )


def test_every_command_has_an_entry() -> None:
    page = (DOCS / "cli.md").read_text(encoding="utf-8")
    names = [name for name, _ in commands()]
    assert "talentflow build" in names and len(names) >= 15
    missing = [n for n in names if f"## `{n}`\n" not in page]
    assert not missing, missing


def _literal_recorded_names() -> dict[str, set[str]]:
    """Keys written as literals in every ``record_params(stage, {...})`` call of the package."""
    found: dict[str, set[str]] = {}
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "record_params"
                and len(node.args) == 2
                and isinstance(node.args[0], ast.Constant)
            ):
                continue
            names = found.setdefault(node.args[0].value, set())
            if isinstance(node.args[1], ast.Dict):
                names |= {
                    k.value
                    for k in node.args[1].keys
                    if isinstance(k, ast.Constant) and isinstance(k.value, str)
                }
    return found


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> dict[str, set[str]]:
    """Parameter names per stage: a whole build of a small real cut, plus every literal key."""
    from talentflow.pipeline import build

    root = tmp_path_factory.mktemp("docs-build")
    data = root / "data"
    cut(shared_data / "paperlists/iclr/iclr2018.json", data / "paperlists/iclr/iclr2018.json", 40)
    cut(shared_data / "openreview/iclr/iclr2021.json", data / "openreview/iclr/iclr2021.json", 40)
    build(data, root / "store.duckdb")
    with duckdb.connect(str(root / "store.duckdb"), read_only=True) as con:
        rows = con.sql("SELECT DISTINCT stage, name FROM build_params").fetchall()
    names: dict[str, set[str]] = {}
    for stage, name in rows:
        names.setdefault(stage, set()).add(name)
    for stage, literal in _literal_recorded_names().items():
        names.setdefault(stage, set()).update(literal)
    return names


def test_every_recorded_parameter_is_documented(recorded: dict[str, set[str]]) -> None:
    assert set(recorded) == set(STAGES)
    tables = (DOCS / "tables.md").read_text(encoding="utf-8")
    missing = {}
    for stage, names in recorded.items():
        page = (DOCS / f"{stage}.md").read_text(encoding="utf-8")
        gaps = sorted(n for n in names if not _documented(n, tables + page))
        if gaps:
            missing[stage] = gaps
    assert not missing, f"not in docs/tables.md nor the stage's page: {missing}"


def test_the_documented_check_can_fail() -> None:
    assert _documented("margin", "| margin | 1.0 | lead |")
    assert _documented("T", "`T` (last year)")
    assert not _documented("margin", "the margin of error")


def test_no_machine_local_paths() -> None:
    files = [*_pages(), ROOT / "README.md", *sorted((ROOT / "bench" / "results").glob("*.md"))]
    hits = [
        f"{f.relative_to(ROOT)}:{i}"
        for f in files
        for i, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"(?<![\w.])/(tmp|work)/", line)
    ]
    assert not hits, hits


def test_index_links_every_page_and_readme_links_index() -> None:
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    linked = {Path(t).name for t in _LINK.findall(index) if not t.startswith("http")}
    missing = [p.name for p in _pages() if p.name != "index.md" and p.name not in linked]
    assert not missing, f"docs/index.md does not link: {missing}"
    assert "(docs/index.md)" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_relative_link_resolves() -> None:
    files = [*_pages(), ROOT / "README.md", *sorted((ROOT / "bench" / "results").glob("*.md"))]
    broken = []
    for f in files:
        for target in _LINK.findall(f.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue
            path = target.split("#", 1)[0]
            if not (f.parent / path).exists():
                broken.append(f"{f.relative_to(ROOT)} -> {target}")
    assert not broken, broken


def test_no_data_files_among_the_docs() -> None:
    assert sorted(p.name for p in DOCS.iterdir() if p.suffix != ".md") == []
