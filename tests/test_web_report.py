"""``talentflow report``: one self-contained HTML file that draws offline."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Route, sync_playwright
from typer.testing import CliRunner

from talentflow.cli import app
from talentflow.cli.app import EXIT_NO_STORE
from tests.test_web_store import shared_store

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("web-report")
    db = shared_store(tmp_path_factory)
    out = tmp / "out" / "report.html"
    result = CliRunner().invoke(
        app, ["report", "--db", str(db), "--output", str(out), "--country", "us"]
    )
    assert result.exit_code == 0, result.output
    return out


def test_report_is_one_self_contained_file(report: Path) -> None:
    html = report.read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]+src=", html)
    assert not re.search(r"<link[^>]+href=", html)
    assert "plotly.js v" in html  # plotly.js inlined
    assert '"world_110m"' in html  # map geometry inlined
    for section in ("Overview", "World map", "Flows", "Methods and data"):
        assert f">{section}</h2>" in html
    assert "United States" in html
    # a store without recorded evidence reads papers only, and says so
    assert "Careers read from papers in the covered venues only" in html


def test_report_rejects_bad_filters(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    db = shared_store(tmp_path_factory)
    runner = CliRunner()
    bad = runner.invoke(
        app, ["report", "--db", str(db), "--output", str(tmp_path / "r.html"), "--country", "XX"]
    )
    assert bad.exit_code == 2 and "unknown country" in bad.output
    inverted = runner.invoke(app, ["report", "--db", str(db), "--start", "2020", "--end", "2010"])
    assert inverted.exit_code == 2 and "inverted" in inverted.output
    missing = runner.invoke(app, ["report", "--db", str(tmp_path / "none.duckdb")])
    assert missing.exit_code == EXIT_NO_STORE
    assert (
        runner.invoke(app, ["serve", "--db", str(tmp_path / "none.duckdb")]).exit_code
        == EXIT_NO_STORE
    )


@pytest.mark.browser
def test_report_draws_offline(report: Path) -> None:
    outside: list[str] = []

    def route(r: Route) -> None:
        if r.request.url.startswith("file:"):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.route("**/*", route)
        # Generous: a 5 MB page with plotly.js inlined, on small CI machines.
        context.set_default_timeout(120_000)
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(report.as_uri())
        page.wait_for_function(
            "() => [...document.querySelectorAll('[data-figure]')].every(e => e.dataset.rendered)",
            timeout=120_000,
        )
        n = page.locator("[data-figure]").count()
        assert n >= 8
        assert page.locator(".main-svg").count() >= n
        assert page.locator(".choroplethlocation").count() >= 5  # map drawn from inlined geometry
        assert page.locator(".slider-container").count() == 1  # year slider on the map
        browser.close()
    assert errors == []
    assert outside == []
