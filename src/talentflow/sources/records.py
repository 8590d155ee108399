"""Loading raw JSON records of one file into the engine, keeping every bad record in quarantine.

The fast path hands the whole file to DuckDB's JSON reader. Only when DuckDB rejects a file
(truncated JSON, invalid UTF-8, an object where an array belongs) do we fall back to a tolerant
Python scan of *that file*, which keeps each record that parses and quarantines the rest with
its position and the reason.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
    decoder = json.JSONDecoder()
    if stripped.startswith("{") and allow_wrapper:
        # JSON Lines, or one wrapper object: decode value after value.
        _scan_values(stripped, decoder, records, loaded, wrapper=allow_wrapper)
    elif stripped.startswith("{"):
        loaded.table = None
        loaded.fatal = "expected a JSON array of records, found a JSON object"
        loaded.problems.append(Problem(None, loaded.fatal, _readable(stripped[:MAX_RAW])))
        return loaded
    elif stripped.startswith("["):
        _scan_array(stripped, decoder, records, loaded)
    else:
        loaded.table = None
        loaded.fatal = f"not JSON: file starts with {_readable(stripped[:20])!r}"
        loaded.problems.append(Problem(None, loaded.fatal, _readable(stripped[:MAX_RAW])))
        return loaded
    with tempfile.NamedTemporaryFile(
        "w", suffix=".jsonl", encoding="utf-8", delete=False
    ) as handle:
        for index, raw in records:
            handle.write(json.dumps({"i": index, "j": json.loads(raw)}, ensure_ascii=False))
            handle.write("\n")
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


def _record_ok(raw: str, index: int, loaded: LoadedFile, records: list[tuple[int, str]]) -> None:
    try:
        raw.encode("utf-8")
    except UnicodeEncodeError as exc:
        bad = raw[exc.start : exc.start + 1].encode("utf-8", "surrogateescape")
        loaded.problems.append(
            Problem(
                index,
                f"invalid UTF-8 (byte {bad!r} at character {exc.start} of the record)",
                _readable(raw[:MAX_RAW]),
            )
        )
        return
    records.append((index, raw))


def _scan_array(
    text: str, decoder: json.JSONDecoder, records: list[tuple[int, str]], loaded: LoadedFile
) -> None:
    pos, index, end = 1, 0, len(text)
    while True:
        while pos < end and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= end:
            loaded.problems.append(
                Problem(index, "truncated JSON: the array is not closed (file cut short?)", "")
            )
            return
        if text[pos] == "]":
            return
        try:
            _, new_pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            loaded.problems.append(
                Problem(
                    index,
                    f"malformed or truncated JSON at character {exc.pos}: {exc.msg}; "
                    "the rest of the file could not be read",
                    _readable(text[pos : pos + MAX_RAW]),
                )
            )
            return
        _record_ok(text[pos:new_pos], index, loaded, records)
        pos, index = new_pos, index + 1


def _scan_values(
    text: str,
    decoder: json.JSONDecoder,
    records: list[tuple[int, str]],
    loaded: LoadedFile,
    *,
    wrapper: str,
) -> None:
    pos, index, end = 0, 0, len(text)
    while True:
        while pos < end and text[pos] in " \t\r\n":
            pos += 1
        if pos >= end:
            return
        try:
            value, new_pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            line_end = text.find("\n", pos)
            line_end = end if line_end < 0 else line_end
            loaded.problems.append(
                Problem(
                    index,
                    f"malformed JSON line at character {exc.pos}: {exc.msg}",
                    _readable(text[pos:line_end][:MAX_RAW]),
                )
            )
            if line_end >= end:
                return
            pos, index = line_end + 1, index + 1
            continue
        if index == 0 and isinstance(value, dict) and isinstance(value.get(wrapper), list):
            for sub_index, item in enumerate(value[wrapper]):
                _record_ok(json.dumps(item, ensure_ascii=False), sub_index, loaded, records)
            return
        _record_ok(text[pos:new_pos], index, loaded, records)
        pos, index = new_pos, index + 1
