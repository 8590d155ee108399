"""Loading raw JSON records of one file into the engine, keeping every bad record in quarantine.

The fast path hands the whole file to DuckDB's JSON reader. Only when DuckDB rejects a file
(truncated JSON, invalid UTF-8, an object where an array belongs) do we fall back to a tolerant
Python scan of *that file*, which keeps each record that parses and quarantines the rest with
its position and the reason.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import stat
import tempfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

#: Longest raw text kept per quarantined record (the file itself is never modified).
MAX_RAW = 20_000


@dataclass
class Problem:
    """One quarantined record (``record_index`` is None when the whole file failed)."""

    record_index: int | None
    reason: str
    raw_record: str


@dataclass
class LoadedFile:
    """What was read from one file: a temp table of JSON records and the problems found."""

    table: str | None
    problems: list[Problem] = field(default_factory=list)
    fatal: str | None = None  # set when nothing of the file could be read


def file_problem(path: Path) -> str | None:
    """Why ``path`` cannot be read as a source file, or None when it can.

    Checked before reading, so a directory named like a file, a symbolic link loop, a file
    without read permission or a FIFO (whose open would block) is logged, never opened.
    """
    try:
        info = path.stat()
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "cannot read: a symbolic link loop"
        if path.is_symlink():
            return "cannot read: a broken symbolic link"
        return f"cannot read: {exc.strerror or exc}"
    if stat.S_ISDIR(info.st_mode):
        return "not a regular file: a directory"
    if not stat.S_ISREG(info.st_mode):
        return "not a regular file (a FIFO, socket or device): not read"
    if not os.access(path, os.R_OK):
        return "cannot read: permission denied"
    return None


def sha256_of(path: Path) -> str:
    """Hash of the file's bytes (the key of incremental ingest)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


RECORDS_DDL = (
    "CREATE TEMP TABLE IF NOT EXISTS {table} (record_index BIGINT, j JSON, rel_file VARCHAR)"
)


def load_records(
    db: Any, path: Path, table: str, rel: str, *, allow_wrapper: str | None = None
) -> LoadedFile:
    """Append the records of ``path`` to table ``table(record_index, j, rel_file)``.

    The table must exist (:data:`RECORDS_DDL` creates a temp one).

    ``allow_wrapper`` names a key whose array holds the records when the file is one JSON
    object (OpenAlex API pages: ``{"meta": ..., "results": [...]}``); such files may also be
    JSON Lines.
    """
    if path.stat().st_size == 0:
        return LoadedFile(None, fatal="empty file (0 bytes): expected a JSON array of records")
    fmt = "auto" if allow_wrapper else "array"
    try:
        inserted = db.execute(
            f"""INSERT INTO {table}
            SELECT (row_number() OVER () - 1)::BIGINT AS record_index, json AS j, ? AS rel_file
            FROM read_json_objects(?, format='{fmt}', maximum_object_size=1073741824)""",
            [rel, str(path)],
        ).fetchone()[0]
    except (duckdb.OutOfMemoryException, MemoryError):
        raise  # not a bad file: the tolerant rescan would need more memory still
    except Exception:  # DuckDB names the problem only vaguely: rescan tolerantly in Python
        return _load_tolerant(db, path, table, rel, allow_wrapper)
    if allow_wrapper and inserted == 1:
        _unwrap(db, table, rel, allow_wrapper)
    return LoadedFile(table)


def _unwrap(db: Any, table: str, rel: str, key: str) -> None:
    """Replace file ``rel``'s single wrapper object by the records of its ``key`` array."""
    wrapper = db.execute(
        f"SELECT json_type(j, '$.{key}') = 'ARRAY' FROM {table} WHERE rel_file = ?", [rel]
    ).fetchone()[0]
    if not wrapper:
        return
    db.execute(
        f"""CREATE OR REPLACE TEMP TABLE _one AS
        SELECT (generate_subscripts(arr, 1) - 1)::BIGINT AS record_index, unnest(arr) AS j,
          rel_file
        FROM (SELECT json_extract(j, '$.{key}[*]') AS arr, rel_file FROM {table}
              WHERE rel_file = ?)""",
        [rel],
    )
    db.execute(f"DELETE FROM {table} WHERE rel_file = ?", [rel])
    db.execute(f"INSERT INTO {table} SELECT record_index, j, rel_file FROM _one")
    db.execute("DROP TABLE _one")


def _load_tolerant(
    db: Any, path: Path, table: str, rel: str, allow_wrapper: str | None
) -> LoadedFile:
    data = path.read_bytes()
    loaded = LoadedFile(table)
    if data[:2] == GZIP_MAGIC:
        data = _gunzip(data, loaded)
    text = data.decode("utf-8", errors="surrogateescape")
    stripped = text.lstrip("\ufeff \t\r\n")
    records: list[tuple[int, str]] = []
    scan = _Scan(stripped, records, loaded, lambda raw: _json_valid(db, raw))
    if stripped.startswith("{") and allow_wrapper:
        # JSON Lines, or one wrapper object: decode value after value.
        scan.values(wrapper=allow_wrapper)
    elif stripped.startswith("{"):
        loaded.table = None
        loaded.fatal = "expected a JSON array of records, found a JSON object"
        loaded.problems.append(Problem(None, loaded.fatal, _readable(stripped[:MAX_RAW])))
        return loaded
    elif stripped.startswith("["):
        scan.array()
    else:
        loaded.table = None
        loaded.fatal = f"not JSON: file starts with {_readable(stripped[:20])!r}"
        loaded.problems.append(Problem(None, loaded.fatal, _readable(stripped[:MAX_RAW])))
        return loaded
    with tempfile.NamedTemporaryFile(
        "w", suffix=".jsonl", encoding="utf-8", delete=False
    ) as handle:
        for index, raw in records:
            # the record's own text (valid JSON, so a line break in it is whitespace): no
            # re-encoding, which would recurse as deep as the record is nested
            handle.write(f'{{"i": {index}, "j": {_one_line(raw)}}}\n')
        tmp_name = handle.name
    try:
        db.execute(
            f"""INSERT INTO {table}
            SELECT (json ->> 'i')::BIGINT AS record_index, json -> 'j' AS j, ? AS rel_file
            FROM read_json_objects(?, format='newline_delimited', maximum_object_size=1073741824)""",
            [rel, tmp_name],
        )
    finally:
        Path(tmp_name).unlink(missing_ok=True)
    return loaded


def _one_line(raw: str) -> str:
    return raw.replace("\r", " ").replace("\n", " ") if "\n" in raw or "\r" in raw else raw


def _json_valid(db: Any, raw: str) -> bool:
    """Whether DuckDB parses ``raw`` (used for records nested too deep for Python's parser)."""
    try:
        return bool(db.execute("SELECT json_valid(?)", [raw]).fetchone()[0])
    except Exception:  # any refusal means: not a record we can keep
        return False


GZIP_MAGIC = b"\x1f\x8b"


def _gunzip(data: bytes, loaded: LoadedFile) -> bytes:
    """The decompressed bytes of a gzip file; a cut-short file keeps what could be read."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data)
    except zlib.error as exc:
        loaded.problems.append(
            Problem(None, f"corrupt gzip data ({exc}): records after it are lost", "")
        )
        return b""
    if not inflater.eof:
        loaded.problems.append(
            Problem(None, "truncated gzip file: the records after the cut are lost", "")
        )
    return out


def _readable(text: str) -> str:
    """Text with undecodable bytes (kept as surrogates while scanning) shown as U+FFFD."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


#: One JSON token that matters for finding where a record ends: a string (possibly cut
#: short by the end of the text), a bracket or a comma.
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*(")?|[{}\[\],]', re.DOTALL)
#: Where the next record of an array of objects plausibly starts: ``},{`` (resynchronising
#: after a record whose brackets do not balance).
_NEXT_OBJECT = re.compile(r"\}\s*,\s*(?=\{)")


def record_end(text: str, pos: int) -> int | None:
    """Where the JSON value starting at ``pos`` ends, judged by its brackets and strings only.

    Iterative (any nesting depth) and tolerant of what a parser rejects inside the value (a
    NUL byte, a missing colon): the end is the bracket that closes the value's first one, or,
    for a scalar, the next comma or closing bracket. ``None`` when the text ends first.
    """
    depth = 0
    for match in _TOKEN.finditer(text, pos):
        token = match.group()
        if token[0] == '"':
            if match.group(1) is None:
                return None  # a string cut short by the end of the text
            continue
        if token in "{[":
            depth += 1
        elif token in "}]":
            depth -= 1
            if depth == 0:
                return match.end()
            if depth < 0:
                return match.start()
        elif depth == 0:  # a comma after a scalar
            return match.start()
    return None


class _Scan:
    """A tolerant pass over the text of one file: records that parse, problems for the rest.

    A bad record loses only itself: after a syntax error, a raw control character or invalid
    UTF-8 in record *k*, the scan resumes at record *k+1* (the end of record *k* is found by
    its brackets, :func:`record_end`, or else at the next ``},{``). Records nested too deep
    for Python's parser are checked by ``valid`` (DuckDB's parser) instead of crashing.
    """

    def __init__(
        self,
        text: str,
        records: list[tuple[int, str]],
        loaded: LoadedFile,
        valid: Any,
    ) -> None:
        self.text = text
        self.records = records
        self.loaded = loaded
        self.valid = valid
        self.decoder = json.JSONDecoder()

    def _problem(self, index: int | None, reason: str, raw: str) -> None:
        self.loaded.problems.append(Problem(index, reason, _readable(raw[:MAX_RAW])))

    def _keep(self, raw: str, index: int) -> None:
        try:
            raw.encode("utf-8")
        except UnicodeEncodeError as exc:
            bad = raw[exc.start : exc.start + 1].encode("utf-8", "surrogateescape")
            self._problem(
                index, f"invalid UTF-8 (byte {bad!r} at character {exc.start} of the record)", raw
            )
            return
        self.records.append((index, raw))

    def _decode(self, pos: int) -> tuple[int | None, str | None]:
        """(end, None) when the value at ``pos`` parses, else (None, reason)."""
        try:
            return self.decoder.raw_decode(self.text, pos)[1], None
        except json.JSONDecodeError as exc:
            msg = exc.msg
            if msg.startswith("Invalid control character"):
                msg = f"raw control character U+{ord(self.text[exc.pos]):04X} in a string"
            reason = f"malformed JSON at character {exc.pos} of the file: {msg}"
        except RecursionError:
            end = record_end(self.text, pos)
            if end is not None and self.valid(self.text[pos:end]):
                return end, None
            reason = "malformed JSON nested too deep to read"
        return None, reason

    def _skip_bad(self, pos: int, index: int, reason: str) -> int | None:
        """Quarantine the bad record at ``pos``; where the next one starts (None: nowhere)."""
        text = self.text
        stop = record_end(text, pos)
        if stop is None or stop <= pos or not self._resumes_at(stop):
            # the brackets do not say where the record ends (e.g. a quote is missing):
            # resume at the next object of the array
            found = (m.end() for m in _NEXT_OBJECT.finditer(text, pos + 1))
            stop = next((at for at in found if self._resumes_at(at)), None)
        if stop is None:
            self._problem(
                index,
                f"{reason}; the file ends inside this record (truncated?): nothing after it "
                "could be read",
                text[pos:],
            )
            return None
        self._problem(index, reason, self.text[pos:stop])
        return stop

    def _resumes_at(self, pos: int) -> bool:
        """Whether the array goes on sensibly at ``pos``: its end, or a record that parses
        and is followed by a comma or the array's last bracket."""
        text, end = self.text, len(self.text)
        while pos < end and text[pos] in " \t\r\n,":
            pos += 1
        if text[pos : pos + 1] != "]":
            try:
                _, pos = self.decoder.raw_decode(text, pos)
            except (json.JSONDecodeError, RecursionError):
                return False
            while pos < end and text[pos] in " \t\r\n":
                pos += 1
            if text[pos : pos + 1] == ",":
                return True
        return text[pos : pos + 1] == "]" and not text[pos + 1 :].strip()

    def array(self) -> None:
        """Scan a JSON array of records (the text starts with ``[``)."""
        text, pos, index, end = self.text, 1, 0, len(self.text)
        while True:
            while pos < end and text[pos] in " \t\r\n,":
                pos += 1
            if pos >= end:
                self._problem(
                    index, "truncated JSON: the array is not closed (file cut short?)", ""
                )
                return
            if text[pos] == "]":
                rest = text[pos + 1 :].strip()
                if rest:
                    self._problem(
                        None,
                        f"text after the end of the array at character {pos + 1}: ignored",
                        rest,
                    )
                return
            stop, reason = self._decode(pos)
            if reason is None and stop is not None:
                self._keep(text[pos:stop], index)
            else:
                stop = self._skip_bad(pos, index, reason or "malformed JSON")
                if stop is None:
                    return
            pos, index = stop, index + 1

    def values(self, *, wrapper: str) -> None:
        """Scan JSON Lines, or one object whose ``wrapper`` key holds the records."""
        text, pos, index, end = self.text, 0, 0, len(self.text)
        while True:
            while pos < end and text[pos] in " \t\r\n":
                pos += 1
            if pos >= end:
                return
            try:
                value, new_pos = self.decoder.raw_decode(text, pos)
            except (json.JSONDecodeError, RecursionError) as exc:
                line_end = text.find("\n", pos)
                line_end = end if line_end < 0 else line_end
                if isinstance(exc, RecursionError):
                    if self.valid(text[pos:line_end]):
                        self._keep(text[pos:line_end], index)
                        pos, index = line_end + 1, index + 1
                        continue
                    reason = "malformed JSON line nested too deep to read"
                else:
                    reason = f"malformed JSON line at character {exc.pos}: {exc.msg}"
                self._problem(index, reason, text[pos:line_end])
                if line_end >= end:
                    return
                pos, index = line_end + 1, index + 1
                continue
            if index == 0 and isinstance(value, dict) and isinstance(value.get(wrapper), list):
                for sub_index, item in enumerate(value[wrapper]):
                    self._keep(json.dumps(item, ensure_ascii=False), sub_index)
                return
            self._keep(text[pos:new_pos], index)
            pos, index = new_pos, index + 1
