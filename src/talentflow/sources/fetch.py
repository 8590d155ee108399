"""Download the default corpus into a cache directory, resumably and verified.

Files come from their public homes (see :mod:`talentflow.sources.corpus`), or from a mirror: a
local directory (files are copied) or an HTTP base URL, both with the cache's relative layout.
Each file is written to ``<file>.part`` first (an interrupted HTTP download resumes from there
with a ``Range`` request when the server supports it), checked (a JSON file must parse, as an
array where one is expected) and only then moved into place atomically. A file that arrives
corrupt is downloaded once more from scratch, then reported and not kept. Files already present
and valid are skipped, so running ``fetch`` again completes an interrupted run.

This module never prints: callers pass a progress callback.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from talentflow.sources.corpus import CorpusFile, default_corpus, select

if TYPE_CHECKING:  # imported where a download starts: a build only asks for the cache dir
    import httpx

__all__ = [
    "FetchError",
    "FetchProgress",
    "FetchReport",
    "FileResult",
    "cache_dir",
    "fetch",
    "is_url",
    "resolve_data_dir",
    "validate_file",
]

Status = Literal["fetched", "present", "failed", "unavailable"]

_CHUNK = 1 << 16
_USER_AGENT = "talentflow-fetch (+https://github.com/papercopilot/paperlists)"


@dataclass(frozen=True)
class FetchProgress:
    """One progress event: a file starts, receives bytes, or is done.

    Attributes
    ----------
    path
        Relative path of the file.
    event
        ``start``, ``bytes`` or ``done``.
    received
        Bytes of this file held so far (including a resumed ``.part``).
    total
        Expected size in bytes when known.
    status
        For ``done``: the file's final status.
    """

    path: str
    event: Literal["start", "bytes", "done"]
    received: int = 0
    total: int | None = None
    status: Status | None = None


ProgressCallback = Callable[[FetchProgress], None]


@dataclass(frozen=True)
class FileResult:
    """What happened to one file.

    ``status`` is ``fetched`` (downloaded or copied now), ``present`` (already in the cache and
    valid), ``failed`` (not kept; see ``reason``) or ``unavailable`` (mirror-only file while
    fetching from upstream).
    """

    path: str
    status: Status
    size: int = 0
    reason: str = ""
    resumed_from: int = 0


@dataclass
class FetchReport:
    """Outcome of :func:`fetch`: one :class:`FileResult` per selected file."""

    dest: Path
    source: str
    results: list[FileResult] = field(default_factory=list)

    def _with(self, status: Status) -> list[FileResult]:
        return [r for r in self.results if r.status == status]

    @property
    def fetched(self) -> list[FileResult]:
        """Files downloaded or copied by this run."""
        return self._with("fetched")

    @property
    def present(self) -> list[FileResult]:
        """Files that were already in the cache and valid."""
        return self._with("present")

    @property
    def failed(self) -> list[FileResult]:
        """Files that could not be fetched (not kept), with the reason."""
        return self._with("failed")

    @property
    def unavailable(self) -> list[FileResult]:
        """Mirror-only files skipped because no mirror was given."""
        return self._with("unavailable")

    @property
    def ok(self) -> bool:
        """True when no file failed."""
        return not self.failed


class FetchError(RuntimeError):
    """Raised by :func:`resolve_data_dir` when no usable data could be fetched."""

    def __init__(self, message: str, report: FetchReport | None = None) -> None:
        super().__init__(message)
        self.report = report


class _Corrupt(Exception):
    """The file arrived but is not what it should be (reason in the message)."""


class _Permanent(Exception):
    """A failure this run will not fix (HTTP 404, missing in the mirror, retries exhausted).

    ``keep_part`` keeps the bytes received so far, so that the next run resumes.
    """

    def __init__(self, message: str, *, keep_part: bool = False) -> None:
        super().__init__(message)
        self.keep_part = keep_part


def is_url(mirror: str) -> bool:
    """Return True when ``mirror`` is an HTTP(S) base URL rather than a directory."""
    return mirror.startswith(("http://", "https://"))


def cache_dir() -> Path:
    """The default cache directory: ``$TALENTFLOW_CACHE`` or ``~/.cache/talentflow``."""
    env = os.environ.get("TALENTFLOW_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "talentflow"


def validate_file(path: Path, kind: str) -> None:
    """Check that a downloaded file is usable; raise ValueError with the reason if not.

    Parameters
    ----------
    path
        The file to check.
    kind
        ``json-array``, ``json``, ``csv`` or ``raw`` (see :class:`CorpusFile`).
    """
    if kind == "raw":
        return
    data = path.read_bytes()
    if not data.strip():
        raise ValueError("empty file")
    if kind == "csv":
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ValueError(f"invalid UTF-8 at byte {exc.start}") from None
        if "," not in text.splitlines()[0]:
            raise ValueError("no CSV header line")
        return
    try:
        value = json.loads(data)
    except UnicodeDecodeError as exc:
        raise ValueError(f"invalid UTF-8 at byte {exc.start}") from None
    except json.JSONDecodeError as exc:
        # An unterminated string always runs to the end of the data: the file was cut.
        cut = exc.pos >= len(data.rstrip()) or exc.msg.startswith("Unterminated string")
        what = "truncated JSON" if cut else "invalid JSON"
        raise ValueError(f"{what}: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    if kind == "json-array" and not isinstance(value, list):
        raise ValueError(f"expected a JSON array, got a JSON {type(value).__name__}")


class _Fetcher:
    """Fetches single files from one source into ``dest``; shared by the worker threads."""

    def __init__(
        self,
        *,
        dest: Path,
        mirror: str | None,
        progress: ProgressCallback | None,
        retries: int,
        backoff: float,
        timeout: float,
    ) -> None:
        self.dest = dest
        self.mirror = mirror
        self.progress = progress or (lambda _event: None)
        self.retries = retries
        self.backoff = backoff
        self.client: httpx.Client | None = None
        if mirror is None or is_url(mirror):
            import httpx

            self.client = httpx.Client(
                timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
                follow_redirects=True,
                headers={"User-Agent": _USER_AGENT, "Accept-Encoding": "identity"},
            )
        # Hosts that refused connections after all retries: later files fail fast.
        self._unreachable: set[str] = set()
        self._lock = threading.Lock()

    def close(self) -> None:
        if self.client is not None:
            self.client.close()

    def url_for(self, item: CorpusFile) -> str | None:
        if self.mirror is None:
            return item.url
        return self.mirror.rstrip("/") + "/" + item.path

    # One file, start to end.
    def run(self, item: CorpusFile) -> FileResult:
        final = self.dest / item.path
        part = final.with_name(final.name + ".part")
        self.progress(FetchProgress(item.path, "start"))
        result = self._run(item, final, part)
        self.progress(
            FetchProgress(item.path, "done", result.size, result.size or None, result.status)
        )
        return result

    def _run(self, item: CorpusFile, final: Path, part: Path) -> FileResult:
        if final.is_file():
            try:
                validate_file(final, item.kind)
                return FileResult(item.path, "present", final.stat().st_size)
            except (ValueError, OSError):
                pass  # a damaged file in the cache is fetched again
        if self.mirror is None and item.url is None:
            return FileResult(
                item.path, "unavailable", reason="no public raw URL; take it from a mirror"
            )
        final.parent.mkdir(parents=True, exist_ok=True)
        resumed_from = part.stat().st_size if part.is_file() else 0
        reason = ""
        # A corrupt file is fetched once more from scratch before it is reported.
        for attempt in range(2):
            try:
                self._get(item, part)
                validate_file(part, item.kind)
            except _Permanent as exc:
                if not exc.keep_part:
                    part.unlink(missing_ok=True)
                return FileResult(item.path, "failed", reason=str(exc))
            except (ValueError, _Corrupt) as exc:
                reason = str(exc) + (" (after a second download)" if attempt else "")
                part.unlink(missing_ok=True)
                continue
            size = part.stat().st_size
            with open(part, "rb+") as fh:
                os.fsync(fh.fileno())
            os.replace(part, final)
            return FileResult(item.path, "fetched", size, resumed_from=resumed_from)
        return FileResult(item.path, "failed", reason=reason)

    def _get(self, item: CorpusFile, part: Path) -> None:
        if self.mirror is not None and not is_url(self.mirror):
            self._copy(item, part)
        else:
            url = self.url_for(item)
            assert url is not None
            self._download(item.path, url, part)

    def _copy(self, item: CorpusFile, part: Path) -> None:
        assert self.mirror is not None
        src = Path(self.mirror).expanduser() / item.path
        if not src.is_file():
            raise _Permanent(f"not in mirror {self.mirror}")
        total = src.stat().st_size
        received = 0
        with open(src, "rb") as fin, open(part, "wb") as fout:
            while chunk := fin.read(_CHUNK):
                fout.write(chunk)
                received += len(chunk)
                self.progress(FetchProgress(item.path, "bytes", received, total))

    def _download(self, path: str, url: str, part: Path) -> None:
        import httpx

        assert self.client is not None
        host = httpx.URL(url).host
        last_error = ""
        for attempt in range(self.retries + 1):
            with self._lock:
                if host in self._unreachable:
                    raise _Permanent(
                        f"{host} unreachable: {last_error or 'connection failed'}", keep_part=True
                    )
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                self._download_once(path, url, part)
                return
            except httpx.HTTPStatusError as exc:
                code = exc.response.status_code
                last_error = f"HTTP {code} {exc.response.reason_phrase} for {url}"
                if code not in (408, 425, 429) and code < 500:
                    raise _Permanent(last_error) from None
            except httpx.TransportError as exc:
                # A dropped connection keeps the bytes received so far in .part: resume.
                last_error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                is_connect = isinstance(exc, httpx.ConnectError)
                if is_connect and attempt == self.retries:
                    with self._lock:
                        self._unreachable.add(host)
        raise _Permanent(f"gave up after {self.retries + 1} attempts: {last_error}", keep_part=True)

    def _download_once(self, path: str, url: str, part: Path) -> None:
        import httpx

        assert self.client is not None
        offset = part.stat().st_size if part.is_file() else 0
        headers = {"Range": f"bytes={offset}-"} if offset else {}
        with self.client.stream("GET", url, headers=headers) as response:
            if response.status_code == 416 and offset:
                # The .part may already be complete (or stale): let validation decide, and
                # the corrupt-retry starts over from scratch if it is not.
                return
            response.raise_for_status()
            encoded = response.headers.get("Content-Encoding", "identity") != "identity"
            if encoded and response.status_code == 206:
                raise _Corrupt("server sent a compressed partial response")
            if response.status_code == 206 and offset:
                start = _content_range_start(response.headers.get("Content-Range"))
                if start != offset:
                    raise _Corrupt(f"server resumed at byte {start}, expected {offset}")
                mode = "ab"
            else:
                offset, mode = 0, "wb"  # the server ignored Range: start over
            length = response.headers.get("Content-Length")
            total = offset + int(length) if length and length.isdigit() and not encoded else None
            received = offset
            # We ask for identity encoding; should a server compress anyway, store decoded bytes.
            # No chunk_size: httpx would buffer up to it and lose those bytes on a drop.
            chunks = response.iter_bytes() if encoded else response.iter_raw()
            with open(part, mode) as fh:
                for chunk in chunks:
                    fh.write(chunk)
                    received += len(chunk)
                    self.progress(FetchProgress(path, "bytes", received, total))
            if total is not None and received < total:
                raise httpx.ReadError(f"connection closed at byte {received} of {total}")


def _content_range_start(value: str | None) -> int | None:
    # "bytes 100-199/200" -> 100
    if not value or not value.startswith("bytes "):
        return None
    with contextlib.suppress(ValueError):
        return int(value[6:].split("-", 1)[0])
    return None


def fetch(
    dest: Path,
    *,
    mirror: str | None = None,
    only: list[str] | None = None,
    progress: ProgressCallback | None = None,
    files: list[CorpusFile] | None = None,
    workers: int = 4,
    retries: int = 4,
    backoff: float = 0.5,
    timeout: float = 60.0,
) -> FetchReport:
    """Download the default corpus (or part of it) into ``dest``.

    Parameters
    ----------
    dest
        Cache directory; files land at their relative corpus paths
        (``paperlists/nips/nips2018.json``, ...), so ``dest`` is a valid ``--data`` directory.
    mirror
        None for the upstream homes; a local directory to copy from; or an HTTP(S) base URL
        serving the same relative layout.
    only
        Patterns selecting files (folder prefix, exact path or glob; see
        :func:`talentflow.sources.corpus.select`). None for all.
    progress
        Called with a :class:`FetchProgress` per event, possibly from worker threads.
    files
        The corpus to use instead of :func:`~talentflow.sources.corpus.default_corpus`.
    workers
        Files fetched concurrently.
    retries
        Extra attempts after a dropped connection or a transient HTTP error, with
        exponential backoff starting at ``backoff`` seconds.
    timeout
        Seconds without progress before a connection counts as dropped.

    Returns
    -------
    FetchReport
        One result per selected file; ``report.ok`` is False when some file failed.

    Raises
    ------
    ValueError
        When an ``only`` pattern matches nothing.
    FileNotFoundError
        When ``mirror`` is neither a URL nor an existing directory.

    Examples
    --------
    >>> report = fetch(Path("cache"), mirror="../shared/data", only=["paperlists/nips"])
    ... # doctest: +SKIP
    >>> report.ok  # doctest: +SKIP
    True
    """
    if mirror is not None and mirror.startswith("file://"):
        mirror = mirror.removeprefix("file://")
    if mirror is not None and not is_url(mirror) and not Path(mirror).expanduser().is_dir():
        raise FileNotFoundError(f"mirror directory not found: {mirror}")
    selected = select(files if files is not None else default_corpus(), only)
    dest = Path(dest).expanduser()
    dest.mkdir(parents=True, exist_ok=True)
    fetcher = _Fetcher(
        dest=dest,
        mirror=mirror,
        progress=progress,
        retries=retries,
        backoff=backoff,
        timeout=timeout,
    )
    try:
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            results = list(pool.map(fetcher.run, selected))
    finally:
        fetcher.close()
    return FetchReport(dest=dest, source=mirror or "upstream", results=results)


def _missing(dest: Path, mirror: str | None) -> list[CorpusFile]:
    # Only files the chosen source can provide count as missing.
    return [
        f
        for f in default_corpus()
        if (mirror is not None or f.url is not None) and not (dest / f.path).is_file()
    ]


def resolve_data_dir(data: Path | None, *, progress: ProgressCallback | None = None) -> Path:
    """Return the data directory to build from when ``--data`` may be absent.

    Order: ``data`` when given; ``$TALENTFLOW_MIRROR`` when it is a local directory; else the
    cache directory (:func:`cache_dir`), first fetching into it any corpus file it lacks (from
    ``$TALENTFLOW_MIRROR`` when that is a URL, else from upstream).

    Parameters
    ----------
    data
        The ``--data`` option, or None.
    progress
        Passed to :func:`fetch` when a fetch is needed.

    Raises
    ------
    FetchError
        When a fetch was needed and left no paper-list or OpenReview file in the cache.
    FileNotFoundError
        When ``$TALENTFLOW_MIRROR`` names a directory that does not exist.
    """
    if data is not None:
        return Path(data)
    mirror = os.environ.get("TALENTFLOW_MIRROR") or None
    if mirror is not None and not is_url(mirror):
        local = Path(mirror.removeprefix("file://")).expanduser()
        if not local.is_dir():
            raise FileNotFoundError(f"TALENTFLOW_MIRROR is not a directory: {mirror}")
        return local
    cache = cache_dir()
    if _missing(cache, mirror):
        report = fetch(cache, mirror=mirror, progress=progress)
        sources = [cache / "paperlists", cache / "openreview"]
        if not any(any(d.rglob("*.json")) for d in sources if d.is_dir()):
            failed = "; ".join(f"{r.path}: {r.reason}" for r in report.failed[:3])
            raise FetchError(
                f"could not fetch the corpus into {cache}: {failed}. Offline, build from a "
                "local copy of the data instead: pass --data DIR, or set TALENTFLOW_MIRROR=DIR "
                "(a folder holding paperlists/, openreview/ ...)",
                report,
            )
    return cache
