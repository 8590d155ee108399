"""OpenAlex through its API: works and author records paged by cursor into the data folder.

A fetch is a list of filter strings (one per query; a long OR list is split into queries of
at most :data:`MAX_OR` values) fetched with ``cursor=*`` and ``per-page=200`` into one folder
per fetch name::

    DIR/openalex/api/<name>/fetch.state                     what was asked, where it stopped
    DIR/openalex/api/<name>/run-0001/q000-p00001.json       API pages as received
    DIR/openalex_authors/<name>/...                         the same for author records

Pages are written atomically (a temporary file, then ``os.replace``) and the state file is
rewritten after each page, so an interrupted fetch continues from the last cursor and gives
the same pages as one that was not interrupted. A fetch whose last run finished starts an
incremental run filtered by ``from_updated_date`` (the day the last finished run started);
works or authors it brings replace their older copies in earlier pages, so a build sees each
record once. Politeness: the ``mailto`` parameter (OpenAlex's polite pool), a request budget,
and retries with exponential backoff on 429 (``Retry-After`` honoured), 5xx, dropped
connections and pages that do not parse (truncated bodies are retried, never written).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported when a client is made: `talentflow build` never is
    import httpx

DEFAULT_API_URL = "https://api.openalex.org"
PER_PAGE = 200
#: Values OR-ed in one filter (the API accepts up to 50 ids in one list request).
MAX_OR = 50
STATE_FILE = "fetch.state"
#: Where works pages go under the data folder (read by the OpenAlex source).
WORKS_FOLDER = "openalex/api"
#: Where author records go (read into ``author_affiliations``).
AUTHORS_FOLDER = "openalex_authors"

_SHORT_ID = re.compile(r"^(?:https?://openalex\.org/)?([WASICTPF]\d+)$", re.IGNORECASE)
_ORCID = re.compile(r"(\d{4}-\d{4}-\d{4}-\d{3}[\dXx])")


class OpenAlexError(RuntimeError):
    """A request that failed for good (after its retries), or an unusable answer."""


class BudgetExhausted(OpenAlexError):
    """The request budget (``max_requests``) is spent; the fetch can be resumed."""


@dataclass(frozen=True)
class Politeness:
    """How a client treats the API.

    Parameters
    ----------
    mailto
        E-mail sent as ``mailto`` (OpenAlex's polite pool) and in the User-Agent.
    api_key
        Sent as ``api_key`` when given (some filters, e.g. ``from_updated_date``, may need one).
    max_requests
        Budget of HTTP requests for this client, retries included; ``None``: no limit.
    max_attempts
        Attempts per request before giving up.
    base_delay, max_delay
        Backoff: ``base_delay * 2**attempt`` seconds, at most ``max_delay``; a ``Retry-After``
        header is honoured up to ``max_delay``.
    timeout
        Seconds per request.
    """

    mailto: str | None = None
    api_key: str | None = None
    max_requests: int | None = None
    max_attempts: int = 6
    base_delay: float = 1.0
    max_delay: float = 60.0
    timeout: float = 60.0


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


@dataclass
class Client:
    """A small JSON client for the OpenAlex API with retries, backoff and a budget.

    ``sleep`` is called for every wait (tests pass a recorder); ``requests`` counts requests
    sent and ``waits`` lists each retry's reason and delay.
    """

    base_url: str = DEFAULT_API_URL
    politeness: Politeness = field(default_factory=Politeness)
    sleep: Callable[[float], None] = time.sleep
    requests: int = 0
    waits: list[tuple[str, float]] = field(default_factory=list)
    _http: httpx.Client | None = None

    def __post_init__(self) -> None:
        import httpx

        agent = "talentflow"
        if self.politeness.mailto:
            agent += f" (mailto:{self.politeness.mailto})"
        self._http = httpx.Client(
            timeout=self.politeness.timeout, headers={"User-Agent": agent}, follow_redirects=True
        )

    def close(self) -> None:
        """Close the connection pool."""
        if self._http is not None:
            self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _params(self, params: dict[str, Any]) -> dict[str, Any]:
        out = dict(params)
        if self.politeness.mailto:
            out["mailto"] = self.politeness.mailto
        if self.politeness.api_key:
            out["api_key"] = self.politeness.api_key
        return out

    def get_page(self, path: str, params: dict[str, Any]) -> tuple[bytes, dict[str, Any]]:
        """GET a list page; return its bytes as received and the parsed page.

        A page must be a JSON object with a ``results`` array and a ``meta`` object;
        anything else (a truncated body) is retried like a server error.
        """
        import httpx

        assert self._http is not None
        url = self.base_url.rstrip("/") + "/" + path.lstrip("/")
        p = self.politeness
        reason = ""
        for attempt in range(p.max_attempts):
            if p.max_requests is not None and self.requests >= p.max_requests:
                raise BudgetExhausted(f"request budget of {p.max_requests} spent")
            self.requests += 1
            delay = p.base_delay * 2**attempt
            try:
                response = self._http.get(url, params=self._params(params))
            except httpx.TransportError as exc:
                reason = f"{type(exc).__name__}: {exc}"
            else:
                status = response.status_code
                if status == 429:
                    reason = "HTTP 429 (rate limited)"
                    after = _retry_after(response.headers.get("Retry-After"))
                    delay = after if after is not None else delay
                elif status >= 500 or status == 408:
                    reason = f"HTTP {status}"
                elif status >= 400:
                    raise OpenAlexError(
                        f"{url}: HTTP {status}: {response.text[:300].strip()} (params {params})"
                    )
                else:
                    body = response.content
                    page = _parse_page(body)
                    if isinstance(page, dict):
                        return body, page
                    reason = page
            if attempt + 1 < p.max_attempts:
                wait = min(delay, p.max_delay)
                self.waits.append((reason, wait))
                self.sleep(wait)
        raise OpenAlexError(f"{url}: gave up after {p.max_attempts} attempts; last: {reason}")


def _parse_page(body: bytes) -> dict[str, Any] | str:
    """The page, or the reason it is unusable."""
    try:
        page = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return f"truncated or invalid JSON ({exc})"
    if not isinstance(page, dict) or not isinstance(page.get("results"), list):
        return "not an API list page (no results array)"
    if not isinstance(page.get("meta"), dict):
        return "not an API list page (no meta object)"
    return page


# -- filters ------------------------------------------------------------------------------


def short_id(value: str, kind: str) -> str | None:
    """``S123`` from ``S123``/``s123``/``https://openalex.org/S123`` of ``kind``, else None."""
    match = _SHORT_ID.match(value.strip())
    if match is None or match.group(1)[0].upper() != kind:
        return None
    return match.group(1).upper()


def years_filter(years: str) -> str:
    """``publication_year:`` value from ``2020`` or ``2018-2023`` (checked)."""
    if not re.fullmatch(r"(19|20)\d\d(-(19|20)\d\d)?", years.strip()):
        raise ValueError(f"--year takes YYYY or YYYY-YYYY, got {years!r}")
    first, _, last = years.strip().partition("-")
    if last and int(last) < int(first):
        raise ValueError(f"--year range {years!r} ends before it starts")
    return years.strip()


def chunks(values: Sequence[str], size: int = MAX_OR) -> list[list[str]]:
    """``values`` in consecutive lists of at most ``size``."""
    return [list(values[i : i + size]) for i in range(0, len(values), size)]


def lookup_id(client: Client, entity: str, kind: str, value: str) -> str:
    """The id of a source or institution given by id or by its exact display name.

    A name is looked up with ``display_name.search`` and must match one result's
    ``display_name`` exactly (case aside); otherwise the error lists the candidates.
    """
    found = short_id(value, kind)
    if found is not None:
        return found
    params = {"filter": f"display_name.search:{value}", "per-page": 25}
    _, page = client.get_page(f"/{entity}", params)
    exact = [
        r for r in page["results"] if str(r.get("display_name", "")).casefold() == value.casefold()
    ]
    ids = {short_id(str(r.get("id", "")), kind) for r in exact} - {None}
    if len(ids) == 1:
        return ids.pop()  # type: ignore[return-value]
    candidates = ", ".join(
        f"{r.get('display_name')} ({short_id(str(r.get('id', '')), kind)})"
        for r in page["results"][:8]
    )
    what = "several" if len(ids) > 1 else "no"
    raise OpenAlexError(
        f"{entity} name {value!r} matches {what} {entity} exactly; pass an id "
        f"({kind}...). Candidates: {candidates or 'none'}"
    )


@dataclass(frozen=True)
class WorkFilter:
    """Friendlier options for a works filter; each list is OR-ed, the options AND-ed."""

    raw: str | None = None
    sources: tuple[str, ...] = ()
    years: str | None = None
    concepts: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    institutions: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()

    def queries(self, client: Client | None = None) -> list[str]:
        """The filter strings of the fetch (names of sources/institutions looked up)."""
        parts: list[str] = []
        if self.raw:
            parts.append(self.raw.strip().strip(","))
        if self.sources:
            ids = [self._id(client, "sources", "S", s) for s in self.sources]
            parts.append("primary_location.source.id:" + "|".join(ids))
        if self.years:
            parts.append("publication_year:" + years_filter(self.years))
        for option, key, kind, values in (
            ("--concept", "concepts.id", "C", self.concepts),
            ("--topic", "topics.id", "T", self.topics),
        ):
            if values:
                found = {v: short_id(v, kind) for v in values}
                bad = [v for v, i in found.items() if i is None]
                if bad:
                    raise ValueError(f"{option} takes {kind}... ids, got {', '.join(bad)}")
                parts.append(f"{key}:" + "|".join(i for i in found.values() if i))
        if self.institutions:
            ids = [self._id(client, "institutions", "I", s) for s in self.institutions]
            parts.append("authorships.institutions.id:" + "|".join(ids))
        base = ",".join(parts)
        if not self.authors:
            if not base:
                raise ValueError("give a filter: --filter or at least one of the options")
            return [base]
        # a long author list is split: one query per chunk, each AND-ed with the rest
        return [
            ",".join(p for p in (base, "authorships.author.id:" + "|".join(c)) if p)
            for c in chunks(sorted(set(self.authors)))
        ]

    @staticmethod
    def _id(client: Client | None, entity: str, kind: str, value: str) -> str:
        found = short_id(value, kind)
        if found is not None:
            return found
        if client is None:
            raise ValueError(f"{entity} name {value!r} needs a lookup (no client given)")
        return lookup_id(client, entity, kind, value)


def author_queries(author_ids: Iterable[str], orcids: Iterable[str] = ()) -> list[str]:
    """Author filters for OpenAlex ids (``openalex:A1|A2``) and ORCID iDs, :data:`MAX_OR` each."""
    ids = sorted({i for i in (short_id(a, "A") for a in author_ids) if i})
    found = (_ORCID.search(o) for o in orcids)
    orc = sorted({m.group(1).upper() for m in found if m})
    return ["openalex:" + "|".join(c) for c in chunks(ids)] + [
        "orcid:" + "|".join(c) for c in chunks(orc)
    ]


def store_authors(db_path: str | Path) -> tuple[list[str], list[str]]:
    """OpenAlex author ids and ORCID iDs of the persons of a built store.

    Read from ``persons.known_ids`` (``openalex:A...``, ``orcid:...``): ids given by the
    sources and ids the identity stage linked to a person.
    """
    import duckdb

    con = duckdb.connect(str(db_path), read_only=True)
    try:
        rows = con.execute(
            "SELECT DISTINCT k FROM (SELECT unnest(known_ids) AS k FROM persons) "
            "WHERE k LIKE 'openalex:A%' OR k LIKE 'orcid:%' ORDER BY k"
        ).fetchall()
    finally:
        con.close()
    keys = [r[0] for r in rows]
    ids = [k.removeprefix("openalex:") for k in keys if k.startswith("openalex:")]
    return ids, [k.removeprefix("orcid:") for k in keys if k.startswith("orcid:")]


# -- paging into the data folder -----------------------------------------------------------


@dataclass
class PagesReport:
    """What one call of :func:`fetch_pages` did."""

    folder: Path
    run: int
    incremental_since: str | None
    pages_written: list[str] = field(default_factory=list)
    records: int = 0
    requests: int = 0
    superseded: int = 0
    repeated: int = 0  # records an earlier query of the same run had written (left out)
    complete: bool = False
    stopped: str | None = None  # why the run stopped before its end (budget, error)
    waits: list[tuple[str, float]] = field(default_factory=list)


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _load_state(folder: Path, entity: str, queries: list[str]) -> dict[str, Any]:
    path = folder / STATE_FILE
    if not path.is_file():
        return {"entity": entity, "queries": queries, "runs": []}
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise OpenAlexError(
            f"{path}: unreadable fetch state ({exc}); remove it to start over"
        ) from None
    if state.get("entity") != entity or state.get("queries") != queries:
        raise OpenAlexError(
            f"{folder} holds a fetch of another filter ({state.get('entity')}: "
            f"{'; '.join(state.get('queries', []))[:200]}); choose another --name"
        )
    return dict(state)


def _save_state(folder: Path, state: dict[str, Any]) -> None:
    _write_atomic(folder / STATE_FILE, json.dumps(state, indent=1).encode())


def _ids_of(path: Path) -> list[str]:
    return [str(r.get("id")) for r in json.loads(path.read_bytes())["results"]]


def _ids_before(folder: Path, run: int, query: int) -> set[str]:
    """Ids of the records the queries before ``query`` of run ``run`` wrote."""
    pages = sorted((folder / f"run-{run:04d}").glob("q*.json"))
    return {i for p in pages if int(p.name[1:4]) < query for i in _ids_of(p)}


def _supersede(folder: Path, run: int) -> int:
    """Drop from earlier runs' pages the records run ``run`` fetched again; count them."""
    newer = {i for p in sorted((folder / f"run-{run:04d}").glob("*.json")) for i in _ids_of(p)}
    dropped = 0
    for older in range(1, run):
        for page_path in sorted((folder / f"run-{older:04d}").glob("*.json")):
            page = json.loads(page_path.read_bytes())
            kept = [r for r in page["results"] if str(r.get("id")) not in newer]
            if len(kept) == len(page["results"]):
                continue
            dropped += len(page["results"]) - len(kept)
            if kept:
                page["results"] = kept
                _write_atomic(page_path, json.dumps(page).encode())
            else:
                page_path.unlink()
    return dropped


def fetch_pages(
    client: Client,
    entity: str,
    queries: list[str],
    folder: Path,
    *,
    today: str | None = None,
) -> PagesReport:
    """Fetch every page of ``queries`` on ``/{entity}`` into ``folder``; resumable.

    Continues the last run when it did not finish, else starts a new run; a run after a
    finished one adds ``from_updated_date:<start day of the last finished run>`` to each
    query. ``today`` (``YYYY-MM-DD``, default the UTC date) is the day recorded as this run's
    start. Never raises for a stop mid-way (budget, a request that failed for good): the
    report says why, and the next call continues from there.
    """
    if not queries:
        raise ValueError("nothing to fetch: no queries")
    folder.mkdir(parents=True, exist_ok=True)
    state = _load_state(folder, entity, queries)
    runs: list[dict[str, Any]] = state["runs"]
    if not runs or runs[-1]["done"]:
        since = runs[-1]["started"] if runs else None
        runs.append(
            {
                "run": len(runs) + 1,
                "started": today or datetime.now(UTC).date().isoformat(),
                "from_updated_date": since,
                "query": 0,
                "page": 0,
                "cursor": "*",
                "done": False,
            }
        )
        _save_state(folder, state)
    run = runs[-1]
    report = PagesReport(folder, run["run"], run["from_updated_date"])
    start = client.requests
    earlier: tuple[int, set[str]] = (-1, set())
    try:
        while run["query"] < len(queries):
            query = queries[run["query"]]
            if run["from_updated_date"]:
                query += f",from_updated_date:{run['from_updated_date']}"
            params = {"filter": query, "per-page": PER_PAGE, "cursor": run["cursor"]}
            body, page = client.get_page(f"/{entity}", params)
            served = page["results"]
            results = served
            if served and run["query"] > 0:
                # a record that an earlier query of this run wrote (a work of authors in two
                # chunks) is kept once: the page is written without it
                if earlier[0] != run["query"]:
                    earlier = (run["query"], _ids_before(folder, run["run"], run["query"]))
                results = [r for r in served if str(r.get("id")) not in earlier[1]]
                if len(results) < len(served):
                    report.repeated += len(served) - len(results)
                    body = json.dumps(dict(page, results=results)).encode()
            if results:
                name = f"run-{run['run']:04d}/q{run['query']:03d}-p{run['page'] + 1:05d}.json"
                _write_atomic(folder / name, body)
                report.pages_written.append(name)
                report.records += len(results)
                run["page"] += 1
            cursor = page["meta"].get("next_cursor")
            if served and cursor:
                run["cursor"] = cursor
            else:  # this query is done
                run.update(query=run["query"] + 1, page=0, cursor="*")
            _save_state(folder, state)
        run["done"] = True
        run["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
        _save_state(folder, state)
        report.complete = True
        if run["run"] > 1:
            report.superseded = _supersede(folder, run["run"])
    except OpenAlexError as exc:
        report.stopped = str(exc)
    report.requests = client.requests - start
    report.waits = list(client.waits)
    return report


def fetch_name(queries: list[str]) -> str:
    """Default folder name of a fetch: the first filter's words and a hash of all filters."""
    words = re.sub(r"[^a-z0-9]+", "-", queries[0].lower()).strip("-")[:40].rstrip("-")
    digest = hashlib.sha1("\n".join(queries).encode()).hexdigest()[:8]
    return f"{words or 'fetch'}-{digest}"


def fetch_works(
    client: Client,
    data_dir: Path,
    works: WorkFilter,
    *,
    name: str | None = None,
    today: str | None = None,
) -> PagesReport:
    """Fetch the works of ``works`` into ``data_dir/openalex/api/<name>/`` (see module doc)."""
    queries = works.queries(client)
    return fetch_pages(
        client,
        "works",
        queries,
        data_dir / WORKS_FOLDER / (name or fetch_name(queries)),
        today=today,
    )


def fetch_authors(
    client: Client,
    data_dir: Path,
    author_ids: Iterable[str],
    orcids: Iterable[str] = (),
    *,
    name: str | None = None,
    today: str | None = None,
) -> PagesReport:
    """Fetch author records (with ``affiliations[].years``) into ``data_dir/openalex_authors/``."""
    queries = author_queries(author_ids, orcids)
    if not queries:
        raise ValueError("no OpenAlex author ids or ORCID iDs to fetch")
    return fetch_pages(
        client,
        "authors",
        queries,
        data_dir / AUTHORS_FOLDER / (name or fetch_name(queries)),
        today=today,
    )
