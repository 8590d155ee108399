"""The web app on every store the build can produce, and on hostile input.

Two stores built by the real pipeline: one from a corpus with no records at all (every table
empty) and one from 60 real papers (no moves, so no flows). Every page and every API operation
answers without a server error, fuzzed over the OpenAPI schema too; control characters are
refused; every response carries the security headers; no machine path is shown; the server
follows a store swapped in by a build.
"""

from __future__ import annotations

import json
import os
import shutil
import warnings
from pathlib import Path

import pytest
import schemathesis

from talentflow.pipeline import build
from talentflow.web import create_app
from tests.conftest import cut
from tests.test_web_schema import fuzz

with warnings.catch_warnings():
    # Starlette warns (at import) that its TestClient moves off httpx; it works as documented.
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

#: Examples per API operation and store (bounded: the run must stay short on 2 cores).
EXAMPLES_PER_OPERATION = 8
PAGES = [
    "/",
    "/map",
    "/map?metric=net_rate",
    "/map?metric=retention",
    "/flows",
    "/country",
    "/country/US",
    "/compare",
    "/labs",
    "/labs?group=all",
    "/report",
    "/methods",
    "/search?q=li",
    "/institution?name=MIT",
]
HEADERS = ("content-security-policy", "x-content-type-options", "referrer-policy")


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("web-robust")
    empty = root / "empty-data"
    (empty / "paperlists" / "icml").mkdir(parents=True)
    (empty / "paperlists" / "icml" / "icml2020.json").write_text("[]")
    small = root / "small-data"
    cut(shared_data / "paperlists/iclr/iclr2018.json", small / "paperlists/iclr/iclr2018.json", 30)
    cut(shared_data / "openreview/iclr/iclr2021.json", small / "openreview/iclr/iclr2021.json", 30)
    out = {}
    for name, data in (("empty", empty), ("small", small)):
        out[name] = root / f"{name}.duckdb"
        build(data, out[name])
    return out


@pytest.fixture(scope="module", params=["empty", "small"])
def client(request: pytest.FixtureRequest, stores: dict[str, Path]) -> TestClient:
    return TestClient(create_app(stores[request.param]), raise_server_exceptions=False)


def _unavailable_model(path: str, status: int) -> bool:
    """The scenario explorer says 503 when the store cannot fit its model (documented)."""
    return status == 503 and (path.startswith("/api/scenario") or path == "/scenarios")


def test_every_page_and_operation_answers(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    paths = [p.replace("{person_id}", "nobody") for p in spec["paths"]]
    for path in [*PAGES, "/scenarios", *paths]:
        response = client.get(path)
        assert response.status_code < 500 or _unavailable_model(path, response.status_code), (
            path,
            response.status_code,
            response.text[:300],
        )
        assert all(h in response.headers for h in HEADERS), path


def test_fuzzed_requests_find_no_server_error(client: TestClient) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 12
    seen: dict[str, set[int]] = {}
    for operation in operations:
        fuzz(
            operation,
            seen.setdefault(operation.label, set()),
            examples=EXAMPLES_PER_OPERATION,
            tolerated=_unavailable_model,
        )
    assert all(codes for codes in seen.values()), seen
    # the generator reached answers, not only rejections
    assert sum(200 in codes for codes in seen.values()) >= len(seen) // 3, seen


@pytest.mark.parametrize(
    "url",
    [
        "/api/search?q=%00",
        "/api/search?q=a%01b",
        "/api/institutions?name=%00",
        "/api/institutions?name=MIT%0A",
        "/search?q=%00",
        "/institution?name=%00",
        "/institution?name=a%7Fb",
        "/api/series?country=C%00N",
        "/country/U%00S",
        "/api/persons/p%1b1",
    ],
)
def test_control_characters_are_refused(client: TestClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 400, (url, response.status_code, response.text[:200])
    assert "control characters" in response.text
    assert all(h in response.headers for h in HEADERS)


def test_an_unexpected_error_still_carries_the_security_headers(stores: dict[str, Path]) -> None:
    app = create_app(stores["small"])

    def broken() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/broken", broken)
    response = TestClient(app, raise_server_exceptions=False).get("/broken")
    assert response.status_code == 500
    assert all(h in response.headers for h in HEADERS)


def test_no_machine_paths_in_the_api(client: TestClient, stores: dict[str, Path]) -> None:
    root = str(stores["small"].parent)
    for url in ("/api/meta", "/api/methods", "/methods"):
        text = client.get(url).text
        assert root not in text, url
        assert "/tmp/" not in text and "/home/" not in text, url
    params = client.get("/api/methods").json()["build_params"]
    data_dir = next(
        p["value"] for p in params if p["stage"] == "sources" and p["name"] == "data_dir"
    )
    assert json.loads(data_dir) in ("empty-data", "small-data")  # the folder's name only


def test_docs_are_served_from_local_files(client: TestClient) -> None:
    html = client.get("/docs").text
    assert "cdn" not in html.lower() and "http" not in html.lower()
    for asset in (
        "/docs-assets/swagger-ui-bundle.js",
        "/docs-assets/swagger-ui.css",
        "/static/docs.js",
    ):
        assert asset in html
        assert client.get(asset).status_code == 200
    assert client.get("/redoc").status_code == 404  # its page would load a CDN script


def test_the_server_follows_a_store_swapped_in(tmp_path: Path, stores: dict[str, Path]) -> None:
    db = tmp_path / "live.duckdb"
    shutil.copy(stores["empty"], db)
    app = create_app(db)
    client = TestClient(app)
    assert client.get("/api/methods").json()["coverage"] == []
    health = client.get("/healthz").json()["store"]
    assert health["reopened"] == 0 and health["serving"] == "current"
    # what a build does: a new file beside it, renamed over it
    shutil.copy(stores["small"], tmp_path / "live.duckdb.building")
    os.replace(tmp_path / "live.duckdb.building", db)
    app.state.store.check_every = 0
    assert client.get("/api/methods").json()["coverage"] != []
    health = client.get("/healthz").json()["store"]
    assert health["reopened"] == 1 and health["serving"] == "current"
    # a file that is not a store: the previous one is still served, and /healthz says so
    (tmp_path / "junk").write_bytes(b"not a database")
    os.replace(tmp_path / "junk", db)
    assert client.get("/api/methods").json()["coverage"] != []
    health = client.get("/healthz").json()["store"]
    assert health["serving"] == "previous" and "not a DuckDB store" in health["note"]
