"""A loopback OpenAlex API for tests: replays works and authors in the current schema.

Works are records of ../shared/data/openalex/works-sample-tu9-2022.json converted to the current
schema (``primary_location.source``, ``authorships[].raw_affiliation_strings``,
``institutions[]``); authors are built in the shape of the documented Author object
(``affiliations[].institution`` and ``affiliations[].years``). The server pages by cursor,
applies the filters the fetch sends (``from_updated_date``, ``openalex``, ``orcid``,
``publication_year``) and misbehaves on demand: 429 with Retry-After, 5xx, truncated bodies.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

SAMPLE = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "data"
    / "openalex"
    / "works-sample-tu9-2022.json"
)


def current_schema(work: dict[str, Any]) -> dict[str, Any]:
    """A 2022-schema work in the current schema (what the API serves today)."""
    out = {k: v for k, v in work.items() if k not in ("host_venue", "alternate_host_venues")}
    venue = work.get("host_venue") or {}
    out["primary_location"] = {
        "is_oa": venue.get("is_oa"),
        "source": {"id": venue.get("id"), "display_name": venue.get("display_name")},
    }
    out["authorships"] = [
        {
            "author_position": a.get("author_position"),
            "author": a.get("author"),
            "institutions": a.get("institutions") or [],
            "countries": sorted(
                {i["country_code"] for i in a.get("institutions") or [] if i.get("country_code")}
            ),
            "raw_author_name": (a.get("author") or {}).get("display_name"),
            "raw_affiliation_strings": [a["raw_affiliation_string"]]
            if a.get("raw_affiliation_string")
            else [],
        }
        for a in work.get("authorships") or []
    ]
    return out


def sample_works(n: int) -> list[dict[str, Any]]:
    """The first ``n`` works of the mirror's sample, in the current schema."""
    return [current_schema(w) for w in json.loads(SAMPLE.read_bytes())[:n]]


def author(
    aid: str, name: str, affiliations: list[tuple[str, str, str, list[int]]], orcid: str | None
) -> dict[str, Any]:
    """An Author object: ``affiliations`` as (institution id, name, country, years)."""
    return {
        "id": f"https://openalex.org/{aid}",
        "orcid": f"https://orcid.org/{orcid}" if orcid else None,
        "display_name": name,
        "works_count": 10,
        "affiliations": [
            {
                "institution": {
                    "id": f"https://openalex.org/{iid}",
                    "ror": f"https://ror.org/0{iid[1:].zfill(8)}"[:25],
                    "display_name": iname,
                    "country_code": cc,
                    "type": "education",
                    "lineage": [f"https://openalex.org/{iid}"],
                },
                "years": years,
            }
            for iid, iname, cc, years in affiliations
        ],
        "updated_date": "2024-01-10T00:00:00",
        "created_date": "2023-01-01",
    }


@dataclass
class Replay:
    """Server state: records per entity, page size, faults by request number, request log."""

    records: dict[str, list[dict[str, Any]]]
    page_size: int = 10
    url: str = ""
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    #: 1-based request number -> "429", "500", "truncate" or "400"
    faults: dict[int, str] = field(default_factory=dict)
    retry_after: str = "0"

    def served(self, entity: str, filt: str) -> list[dict[str, Any]]:
        """Records of ``entity`` matching filter ``filt`` (the keys the fetch sends)."""
        rows = self.records.get(entity, [])
        for part in filter(None, filt.split(",")):
            key, _, value = part.partition(":")
            values = value.split("|")
            if key == "from_updated_date":
                rows = [r for r in rows if r.get("updated_date", "")[:10] >= value]
            elif key == "openalex":
                rows = [r for r in rows if r["id"].rsplit("/", 1)[-1] in values]
            elif key == "orcid":
                rows = [r for r in rows if (r.get("orcid") or "").rsplit("/", 1)[-1] in values]
            elif key == "publication_year":
                first, _, last = value.partition("-")
                rows = [
                    r for r in rows if int(first) <= r["publication_year"] <= int(last or first)
                ]
        return rows

    def page(self, entity: str, params: dict[str, str]) -> bytes:
        rows = self.served(entity, params.get("filter", ""))
        cursor = params.get("cursor", "*")
        start = 0 if cursor == "*" else int(base64.b64decode(cursor))
        size = min(int(params.get("per-page", "25")), self.page_size)
        chunk = rows[start : start + size]
        end = start + size
        nxt = base64.b64encode(str(end).encode()).decode() if end < len(rows) else None
        meta = {
            "count": len(rows),
            "db_response_time_ms": 5,
            "page": None,
            "per_page": size,
            "next_cursor": nxt,
            "groups_count": None,
        }
        return json.dumps({"meta": meta, "results": chunk, "group_by": []}).encode()


def _handler(state: Replay) -> type[BaseHTTPRequestHandler]:
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # quiet
            pass

        def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            params = {k: v[0] for k, v in parse_qs(url.query).items()}
            entity = url.path.strip("/")
            with lock:
                state.requests.append((entity, params))
                fault = state.faults.pop(len(state.requests), None)
            if fault == "429":
                self._send(429, b'{"error": "rate limited"}', {"Retry-After": state.retry_after})
                return
            if fault == "500":
                self._send(500, b"internal error")
                return
            if fault == "400":
                self._send(400, b'{"error": "Invalid query parameters error."}')
                return
            if entity not in state.records:
                self._send(404, b'{"error": "not found"}')
                return
            body = state.page(entity, params)
            if fault == "truncate":
                body = body[: len(body) // 2]
            self._send(200, body)

    return Handler


@contextmanager
def loopback(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve ``handler`` on 127.0.0.1 (a thread, port 0); yield the base URL."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


@contextmanager
def replay_server(state: Replay) -> Iterator[Replay]:
    """Serve ``state`` on loopback for the duration of the block (``state.url`` is set)."""
    with loopback(_handler(state)) as url:
        state.url = url
        yield state
