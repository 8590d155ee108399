"""The scenario explorer's API and page in-process, on a store with synthetic careers."""

from __future__ import annotations

import csv
import io
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from talentflow.engines import connect
from talentflow.scenarios import LEVER_KINDS
from talentflow.web import create_app
from talentflow.web.explorer import SLIDERS, Explorer, Setting
from tests.test_web_store import make_store, scenario_store

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

pytestmark = pytest.mark.filterwarnings("ignore:fetch_arrow_table:DeprecationWarning")

NEUTRAL = {"grants": 1.0, "industry": 1.0, "visa": 1.0, "returns": 1.0, "startup": 1.0}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with TestClient(create_app(scenario_store(tmp_path_factory))) as c:
        yield c


def _chart(body: dict[str, Any], cid: str) -> dict[str, Any]:
    return next(c for c in body["charts"] if c["id"] == cid)


def _projected(chart: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in chart["rows"] if r["baseline"] is not None]


def test_default_view_is_the_baseline_with_assumptions(client: TestClient) -> None:
    body = client.get("/api/scenario").json()
    assert body["country"] == "CN" and body["years"] == 10 and body["levers"] == []
    assert [c["id"] for c in body["charts"]] == [
        "scenario-stock",
        "scenario-net",
        "scenario-effect",
    ]
    stock = _chart(body, "scenario-stock")
    rows = _projected(stock)
    assert len(rows) == 10
    assert [r["year"] for r in rows] == list(range(rows[0]["year"], rows[0]["year"] + 10))
    # observed years come first, then the projection
    observed = [r for r in stock["rows"] if r["observed"] is not None]
    assert observed and max(r["year"] for r in observed) < rows[0]["year"]
    for r in rows:
        assert r["scenario"] == pytest.approx(r["baseline"])
        assert r["baseline_low"] <= r["baseline"] <= r["baseline_high"]
        assert r["baseline_low"] < r["baseline_high"]  # parameter uncertainty is carried
    assert any("baseline" in a for a in body["assumptions"])
    assert any("100 draws" in a for a in body["assumptions"])
    assert any("never a nationality" in a for a in body["assumptions"])


def test_grants_raise_the_country_stock_and_are_stated(client: TestClient) -> None:
    body = client.get("/api/scenario", params={"country": "CN", "grants": 1.8}).json()
    assert body["levers"] == [
        {"kind": "attractiveness", "country": "CN", "factor": 1.8, "stages": ["student", "postdoc"]}
    ]
    assert body["assumptions"][0].startswith("attractiveness of CN for stages student, postdoc")
    last = _projected(_chart(body, "scenario-stock"))[-1]
    assert last["difference"] > 0 and last["difference_low"] > 0
    assert last["scenario_low"] <= last["scenario"] <= last["scenario_high"]
    effect = _chart(body, "scenario-effect")
    by_country = {r["country"]: r for r in effect["rows"]}
    assert by_country["CN"]["value"] == max(r["value"] for r in effect["rows"])
    assert "China" in _chart(body, "scenario-stock")["reading"]


def test_visa_restriction_lowers_inflow_to_the_country(client: TestClient) -> None:
    base = client.get("/api/scenario", params={"country": "US"}).json()
    cut = client.get(
        "/api/scenario", params={"country": "US", "visa": 0.5, "visa_from": "CN"}
    ).json()
    assert cut["levers"][0]["kind"] == "inflow" and cut["levers"][0]["origins"] == ["CN"]
    net_base = sum(r["scenario"] for r in _projected(_chart(base, "scenario-net")))
    net_cut = sum(r["scenario"] for r in _projected(_chart(cut, "scenario-net")))
    assert net_cut < net_base
    effect = {r["country"]: r["value"] for r in _chart(cut, "scenario-effect")["rows"]}
    assert effect["US"] < 0


def test_every_slider_maps_to_a_lever_kind() -> None:
    setting = Setting("CN", {s.key: 1.5 for s in SLIDERS}, "US", 5)
    levers = setting.levers()
    assert {lv.kind for lv in levers} == set(LEVER_KINDS)
    assert all(lv.country == "CN" and lv.factor == 1.5 for lv in levers)
    assert Setting("CN", dict(NEUTRAL), None, 5).levers() == []


def test_factors_snap_to_the_slider_grid_and_url_is_complete(client: TestClient) -> None:
    body = client.get("/api/scenario", params={"startup": 1.52, "years": 3}).json()
    assert body["startup"] == "1.5" and body["years"] == 3
    assert set(body) >= {"country", *NEUTRAL, "visa_from", "years"}
    assert len(_projected(_chart(body, "scenario-stock"))) == 3


@pytest.mark.parametrize(
    ("params", "name", "message"),
    [
        ({"grants": 3}, "grants", "less than or equal to 2"),
        ({"industry": 0.1}, "industry", "greater than or equal to 0.5"),
        ({"visa": "lots"}, "visa", "valid number"),
        ({"country": "ZZ"}, "country", "unknown country"),
        ({"country": "NZ"}, "country", "unknown country"),
        ({"country": "CN", "visa_from": "CN"}, "visa_from", "another modelled country"),
        ({"visa_from": "XX"}, "visa_from", "unknown country"),
        ({"years": 0}, "years", "greater than or equal to 1"),
        ({"years": 99}, "years", "less than or equal to 15"),
        ({"part": "everything"}, "part", "'stock', 'net_flow' or 'effect'"),
        ({"format": "csv"}, "part", "CSV needs one part"),
    ],
)
def test_bad_levers_are_422(
    client: TestClient, params: dict[str, Any], name: str, message: str
) -> None:
    r = client.get("/api/scenario", params=params)
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert detail[0]["loc"][-1] == name
    assert message in detail[0]["msg"]


def test_csv_download_matches_json(client: TestClient) -> None:
    params = {"country": "DE", "industry": 1.6, "part": "stock"}
    js = client.get("/api/scenario", params=params).json()
    r = client.get("/api/scenario", params={**params, "format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    assert r.text.startswith("# talentflow: ")  # metadata lines first
    rows = list(
        csv.DictReader(
            io.StringIO("\n".join(x for x in r.text.splitlines() if not x.startswith("#")))
        )
    )
    assert list(rows[0]) == js["columns"]
    assert len(rows) == len(js["rows"])
    assert float(rows[-1]["scenario"]) == pytest.approx(js["rows"][-1]["scenario"])


def test_figure_is_included_on_request(client: TestClient) -> None:
    plain = client.get("/api/scenario", params={"part": "net_flow"}).json()
    assert "figure" not in plain
    fig = client.get("/api/scenario", params={"part": "net_flow", "figure": True}).json()
    names = [t["name"] for t in fig["figure"]["data"]]
    assert "observed" in names and "baseline" in names and "scenario" in names
    assert any("band" in n for n in names)


def test_page_has_a_slider_per_lever_and_states_assumptions(client: TestClient) -> None:
    r = client.get("/scenarios", params={"country": "GB", "returns": 1.4})
    assert r.status_code == 200
    html = r.text
    for s in SLIDERS:
        assert f'name="{s.key}"' in html and s.label in html
    assert 'value="1.4"' in html
    assert "returns to GB" in html  # the lever's assumption, stated
    assert 'data-canonical="/scenarios?country=GB&amp;grants=1&amp;industry=1' in html
    for cid in ("scenario-stock", "scenario-net", "scenario-effect"):
        assert f'id="{cid}"' in html
    assert "Download CSV" in html and "Data table" in html
    assert client.get("/scenarios", params={"country": "ZZ"}).status_code == 422


def test_model_is_fitted_once_per_process(tmp_path_factory: pytest.TempPathFactory) -> None:
    ex = Explorer(scenario_store(tmp_path_factory), draws=20)
    assert ex.model() is ex.model()
    setting = Setting("US", {**NEUTRAL, "visa": 0.6}, None, 2)
    assert ex.scenario(setting) is ex.scenario(setting)  # cached per lever set
    assert ex.baseline(2) is ex.scenario(Setting("US", dict(NEUTRAL), None, 2))


def test_store_without_careers_is_a_clear_503(tmp_path: Path) -> None:
    db = make_store(tmp_path / "no-careers.duckdb")
    con = connect(db)
    con.drop_table("events")
    con.disconnect()
    with TestClient(create_app(db)) as c:
        r = c.get("/api/scenario")
        assert r.status_code == 503 and "events" in r.json()["detail"]
        page = c.get("/scenarios")
        assert page.status_code == 503 and "cannot be fitted" in page.text
        assert c.get("/api/meta").status_code == 200  # the rest of the dashboard lives


def test_warm_start_caches_pages_and_fits_the_model(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    import time

    app = create_app(scenario_store(tmp_path_factory), warm=True)
    with TestClient(app) as c:
        deadline = time.monotonic() + 120
        health = c.get("/healthz").json()
        while health["scenarios"] not in ("ready", "unavailable"):
            assert time.monotonic() < deadline, health
            time.sleep(0.1)
            health = c.get("/healthz").json()
        assert health["scenarios"] == "ready"
        assert health["pages"].endswith("overview pages cached")
        assert app.state.explorer.ready()
        # the default overview was rendered at start: its page is in the cache
        q = app.state.queries
        assert any(isinstance(k, tuple) and k[:2] == ("page", "overview.html") for k in q._cache)
        assert c.get("/api/scenario").status_code == 200


def test_preview_is_the_point_projection_without_bands(client: TestClient) -> None:
    params = {"country": "CN", "grants": 1.8}
    full = client.get("/api/scenario", params=params).json()
    quick = client.get("/api/scenario", params={**params, "preview": True}).json()
    assert quick["preview"] is True and quick["draws"] == 0 and full["preview"] is False
    assert quick["levers"] == full["levers"]
    q_last = _projected(_chart(quick, "scenario-stock"))[-1]
    f_last = _projected(_chart(full, "scenario-stock"))[-1]
    assert q_last["scenario_low"] == q_last["scenario"] == q_last["scenario_high"]
    assert q_last["difference"] > 0  # same direction as the banded answer
    # the point projection sits close to the mean over draws
    assert q_last["scenario"] == pytest.approx(f_last["scenario"], rel=0.1)
    assert "band" not in _chart(quick, "scenario-stock")["reading"]


def test_projections_at_once_are_bounded(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from talentflow.web import explorer as explorer_module

    monkeypatch.setattr(explorer_module, "BUSY_TIMEOUT", 0.05)
    app = create_app(scenario_store(tmp_path_factory))
    ex: Explorer = app.state.explorer
    ex.model()
    for _ in range(explorer_module.PROJECTIONS_AT_ONCE):  # every slot taken
        assert ex._slots.acquire(timeout=1)
    try:
        with TestClient(app) as c:
            r = c.get("/api/scenario", params={"country": "US", "visa": 0.55})
            assert r.status_code == 503 and "busy" in r.json()["detail"]
            # cached answers and point previews need no slot
            assert c.get("/api/scenario", params={"preview": True, "visa": 0.55}).status_code == 200
            assert c.get("/api/meta").status_code == 200
    finally:
        for _ in range(explorer_module.PROJECTIONS_AT_ONCE):
            ex._slots.release()
    with TestClient(app) as c:
        assert c.get("/api/scenario", params={"country": "US", "visa": 0.55}).status_code == 200
