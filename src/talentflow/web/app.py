"""The FastAPI application: pages, the JSON API, static files and the security wrapping."""

from __future__ import annotations

import re
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import swagger_ui_bundle
from fastapi import FastAPI, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    Response,
)
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from talentflow import __version__
from talentflow.web import json_api, pages
from talentflow.web.assets import CSP, PLOTLY_JS, STATIC
from talentflow.web.explorer import ModelUnavailable
from talentflow.web.params import ParamError
from talentflow.web.store import LiveStore

#: Swagger UI from an installed package, for ``/docs``: the CSP forbids any CDN.
SWAGGER_UI = Path(str(swagger_ui_bundle.swagger_ui_path))
#: Longest URL served (a cap on what a request can ask for).
MAX_URL = 2048


#: Control characters (C0, DEL, C1): no name, code or search text holds one, and a NUL byte
#: reaches no query.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _has_control(scope: Scope) -> bool:
    """Whether the request's path or decoded query string holds a control character."""
    query = unquote_plus(scope.get("query_string", b"").decode("latin-1"))
    return bool(CONTROL.search(scope["path"]) or CONTROL.search(query))


class Guard:
    """ASGI middleware: GET/HEAD only, bounded URLs without control characters, security
    headers on every response (an unexpected error's 500 too)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal: Response | None = None
        if len(scope["path"]) + len(scope.get("query_string", b"")) > MAX_URL:
            refusal = PlainTextResponse("request URL too long", status_code=414)
        elif scope["method"] not in ("GET", "HEAD"):
            refusal = PlainTextResponse("read-only: GET only", status_code=405)
        elif _has_control(scope):
            refusal = PlainTextResponse(
                "control characters (such as a NUL byte) are not accepted in a URL",
                status_code=400,
            )
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                # a route may set a stricter policy of its own (the report: script hashes)
                if "content-security-policy" not in headers:
                    headers["Content-Security-Policy"] = CSP
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "no-referrer"
            await send(message)

        if refusal is not None:
            await refusal(scope, receive, send_with_headers)
            return
        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            # Starlette's outermost error handler would answer without our headers: answer
            # here, then let it log the error (it sends nothing once a response started)
            if not started:
                error = PlainTextResponse("Internal Server Error", status_code=500)
                await error(scope, receive, send_with_headers)
            raise


#: The API documentation page: Swagger UI's files from the installed package, started by a
#: script of our own (the CSP allows no inline script).
DOCS_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>talentflow API</title>
<link rel="stylesheet" href="/docs-assets/swagger-ui.css">
<link rel="stylesheet" href="/static/docs.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs-assets/swagger-ui-bundle.js"></script>
<script src="/static/docs.js"></script></body></html>
"""


def create_app(db_path: str | Path, *, warm: bool = False) -> FastAPI:
    """Build the web app on the store at ``db_path`` (opened read-only).

    With ``warm=True`` a background thread renders the overview pages of the largest
    countries and fits the scenario model at start-up (the dashboard serves meanwhile);
    ``GET /healthz`` reports its progress.

    Examples
    --------
    >>> from fastapi.testclient import TestClient  # doctest: +SKIP
    >>> TestClient(create_app("talentflow.duckdb")).get("/api/meta").json()  # doctest: +SKIP
    """
    status = {"pages": "cold", "scenarios": "cold"}

    def warm_up() -> None:
        # Overview pages first (what most visitors open), then the scenario model (~10 s).
        queries, explorer = app.state.queries, app.state.explorer
        status["pages"] = "warming"
        try:
            status["pages"] = f"{pages.prewarm(queries)} overview pages cached"
        except Exception as exc:  # a partial store: pages render (or explain) on request
            status["pages"] = f"not cached ({type(exc).__name__})"
        status["scenarios"] = "fitting"
        explorer.warm()
        status["scenarios"] = "ready" if explorer.ready() else "unavailable"

    def reopened() -> None:
        # a new build was swapped in: its pages and model are warmed again
        status.update(pages="cold", scenarios="cold")
        if warm:
            threading.Thread(target=warm_up, name="talentflow-warm", daemon=True).start()

    store = LiveStore(db_path, on_reopen=reopened)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if warm:
            threading.Thread(target=warm_up, name="talentflow-warm", daemon=True).start()
        yield
        store.close()

    app = FastAPI(
        title="talentflow",
        version=__version__,
        description="AI talent flows from open publication records: stocks, flows, retention and "
        "returns by country, each with a 95% interval. Read-only.",
        lifespan=lifespan,
        # served below from local files: the CSP forbids the CDN FastAPI's pages load from
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
    )
    store.attach(app.state)

    @app.middleware("http")
    async def follow_the_store(request: Request, call_next: Any) -> Response:
        store.refresh()  # at most one stat of the file per second
        response: Response = await call_next(request)
        return response

    app.add_middleware(Guard)

    @app.exception_handler(ParamError)
    async def param_error(request: Request, exc: ParamError) -> Response:
        if request.url.path.startswith("/api"):
            return JSONResponse({"detail": exc.detail()}, status_code=422)
        return pages.error_page(request, exc.name, exc.message, exc.status)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        # the API keeps FastAPI's 422 JSON; pages answer an HTML page saying what is valid
        if not pages.is_page(request.url.path):
            return await request_validation_exception_handler(request, exc)
        name, message = pages.explain_invalid(request.app.state.queries, exc.errors())
        return pages.error_page(request, name, message, 422)

    @app.exception_handler(ModelUnavailable)
    async def model_unavailable(request: Request, exc: ModelUnavailable) -> Response:
        if request.url.path.startswith("/api"):
            return JSONResponse({"detail": str(exc)}, status_code=503)
        return pages.templates.TemplateResponse(
            request,
            "error.html",
            {
                "title": "Scenario explorer unavailable",
                "message": str(exc),
                "countries": [],
                "canonical": "",
            },
            status_code=503,
        )

    @app.get("/assets/plotly.min.js", include_in_schema=False)
    def plotly_js() -> FileResponse:
        return FileResponse(
            PLOTLY_JS,
            media_type="text/javascript",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, Any]:
        return {"status": "ok", **status, "store": store.health()}

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(DOCS_HTML)

    # StaticFiles resolves paths inside this folder only (no traversal out of it).
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.mount("/docs-assets", StaticFiles(directory=SWAGGER_UI), name="docs-assets")
    app.include_router(json_api.router)
    app.include_router(pages.router)
    return app


def serve(db_path: str | Path, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve the dashboard and API on ``host:port`` (loopback by default) until interrupted.

    Parameters
    ----------
    db_path
        The store written by ``talentflow build``; opened read-only.
    host
        Interface to bind; the default keeps the server on this machine.
    port
        TCP port.
    """
    import uvicorn

    uvicorn.run(create_app(db_path, warm=True), host=host, port=port, log_level="warning")
