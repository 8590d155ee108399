"""The sources stage: every known source folder under the data dir -> canonical tables.

Writes ``raw_papers`` / ``raw_authorships`` (one row per source record / slot, for incremental
reuse), ``ingest_log``, ``quarantine``, and the merged ``papers`` / ``authorships``.
Files whose SHA-256 matches the previous store's log are not parsed again: their rows are
copied from the previous store.
"""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from talentflow.context import StageContext
from talentflow.engines.duckdb import DuckDBEngine, unordered_inserts
from talentflow.sources import (
    author_lists,
    decisions,
    openalex,
    openalex_authors,
    openreview,
    openreview_venues,
    paperlists,
    schema,
)
from talentflow.sources.merge import MIN_TITLE, merge
from talentflow.sources.records import (
    MAX_RAW,
    RECORDS_DDL,
    LoadedFile,
    Problem,
    file_problem,
    load_records,
    sha256_of,
)

#: Folders under the data dir that hold sources; anything else (e.g. registries/) is not ingested.
#: The readers' version: bump it whenever a reader's rows for the same file change (a new
#: column, a field read differently). A rebuild reuses the previous store's rows of an
#: unchanged file only when that store was written by this version.
READER_VERSION = "2026-12-07: current OpenReview profile of a renamed or merged id"
SOURCE_FOLDERS = (paperlists.FOLDER, openreview.FOLDER, openreview_venues.FOLDER, openalex.FOLDER)
#: Folders of ``<venue>/<venue><year>.json`` files in the author-list formats.
VENUE_FOLDERS = (paperlists.FOLDER, openreview.FOLDER, openreview_venues.FOLDER)
VENUE_FILE = re.compile(r"^(?P<venue>[a-z0-9_-]+?)(?P<year>(19|20)\d\d)\.json$")


class SourceError(ValueError):
    """The data dir holds no source the build knows."""


@dataclass(frozen=True)
class SourceFile:
    """One input file, its source and (for author lists) venue and year."""

    path: Path
    rel: str
    source: str
    venue: str | None = None
    year: int | None = None
    problem: str | None = None


def venue_files(folder: Path, source: str, root: Path) -> list[SourceFile]:
    """The entries of one author-list folder (``<venue>/<venue><year>.json``), sorted.

    Every entry is listed: one that is not a readable regular file, or whose name does not
    follow the layout, carries its ``problem`` (logged, never read). ``rel`` is relative to
    ``root``.
    """
    files: list[SourceFile] = []
    entries = sorted(folder.iterdir()) if folder.is_dir() else []
    for top in entries:
        if top.name.startswith("."):
            continue
        inside = (
            sorted(p for p in top.iterdir() if not p.name.startswith(".")) if _is_dir(top) else []
        )
        for path in inside if _is_dir(top) else [top]:
            rel = path.relative_to(root).as_posix()
            problem = file_problem(path)
            match = VENUE_FILE.match(path.name)
            if problem is None and (match is None or match["venue"] != path.parent.name):
                problem = f"file name does not follow {source}/<venue>/<venue><year>.json"
            if problem is not None or match is None:
                files.append(SourceFile(path, rel, source, problem=problem))
            else:
                files.append(SourceFile(path, rel, source, match["venue"], int(match["year"])))
    return files


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:  # e.g. a symbolic link loop on some Python versions
        return False


def discover(data_dir: Path) -> list[SourceFile]:
    """List the input files under ``data_dir`` (sorted, so builds are deterministic).

    Entries that cannot be read as files (a directory named like a source file, a symbolic
    link loop, a file without read permission, a FIFO) are listed with their ``problem``, so
    the log names them instead of the build failing on them.
    """
    if not data_dir.is_dir():
        raise SourceError(f"data dir {data_dir} does not exist or is not a directory")
    present = [f for f in SOURCE_FOLDERS if (data_dir / f).is_dir()]
    if not present:
        raise SourceError(
            f"{data_dir} is not a source directory: it holds none of "
            + ", ".join(f"{f}/" for f in SOURCE_FOLDERS)
        )
    files: list[SourceFile] = []
    for folder in VENUE_FOLDERS:
        if folder in present:
            files += venue_files(data_dir / folder, folder, data_dir)
    if openalex.FOLDER in present:
        seen: set[Path] = set()
        for pattern in openalex.PATTERNS:
            for path in sorted((data_dir / openalex.FOLDER).rglob(pattern)):
                if path not in seen:
                    seen.add(path)
                    rel = path.relative_to(data_dir).as_posix()
                    problem = file_problem(path)
                    files.append(SourceFile(path, rel, openalex.SOURCE, problem=problem))
    return sorted(files, key=lambda f: f.rel)


LOG_COLUMNS = (
    "file",
    "source",
    "size",
    "sha256",
    "records_read",
    "records_kept",
    "records_quarantined",
    "ingested_at",
    "status",
    "message",
)


def _write_log(db: Any, rows: list[tuple]) -> None:
    """Append ``ingest_log`` rows (one insert for all files)."""
    if rows:
        db.register(
            "_log_rows",
            pa.Table.from_pylist([dict(zip(LOG_COLUMNS, r, strict=True)) for r in rows]),
        )
        db.execute(f"INSERT INTO ingest_log BY NAME SELECT {', '.join(LOG_COLUMNS)} FROM _log_rows")
        db.unregister("_log_rows")


def _quarantine(db: Any, rel: str, problems: list[Problem]) -> None:
    if problems:
        table = pa.table(
            {
                "file": [rel] * len(problems),
                "record_index": pa.array([p.record_index for p in problems], pa.int64()),
                "reason": [p.reason for p in problems],
                "raw_record": [p.raw_record for p in problems],
            }
        )
        db.register("_q", table)
        db.execute("INSERT INTO quarantine SELECT * FROM _q")
        db.unregister("_q")


FileResult = tuple[int, int, list[Problem], str | None]

#: Bytes of OpenAlex files (as stored, gzip or not) whose records are held in memory at once:
#: the snapshot layout is read batch by batch, so memory does not grow with the corpus.
OPENALEX_BATCH_BYTES = 64 << 20


def _batches(files: list[SourceFile], budget: int) -> list[list[SourceFile]]:
    """Consecutive groups of ``files`` of at most ``budget`` bytes (at least one file each)."""
    groups: list[list[SourceFile]] = []
    size = 0
    for f in files:
        bytes_ = f.path.stat().st_size
        if not groups or size + bytes_ > budget:
            groups.append([])
            size = 0
        groups[-1].append(f)
        size += bytes_
    return groups


#: In-memory database of the author lists' records between reading and splitting: unlike
#: temp tables, its tables are seen by the other connections that split them side by side.
STAGING = "_tf_staging"
_FORMATS = {
    paperlists.FOLDER: paperlists.FORMAT,
    openreview.FOLDER: openreview.FORMAT,
    openreview_venues.FOLDER: openreview_venues.FORMAT,
}


def _fast_table(source: str) -> str:
    return f"{STAGING}._fast_{source}"


def _split_author_lists(db: Any) -> None:
    """Split both author lists into the raw tables, each on its own connection, side by side.

    A source's records fit in few row groups, and DuckDB scans one row group with one thread:
    one source alone keeps one core busy. Two connections append to the same tables (appends
    do not conflict).
    """

    def split(source: str) -> None:
        cursor = db.cursor()
        try:
            author_lists.ingest(cursor, _fast_table(source), _FORMATS[source])
        finally:
            cursor.close()

    with unordered_inserts(db), ThreadPoolExecutor(max_workers=len(_FORMATS)) as pool:
        list(pool.map(split, _FORMATS))


def _split_source(
    db: Any,
    source: str,
    counts: dict[str, tuple[int, int]],
    bad_rows: dict[str, list[Problem]],
    recs: str = "_recs",
) -> None:
    """Validate the records of ``source`` in ``recs``; type OpenAlex works for the raw tables.

    The valid records of an author list join the rows of its fast path (:func:`_fast_table`),
    valid OpenAlex works the typed works of the batch (:data:`OPENALEX_WORKS`).
    Records read and kept per file go to ``counts``, the quarantined ones (with their raw
    text) to ``bad_rows``.
    """
    records = f"""(SELECT r.* FROM {recs} r JOIN _files USING (rel_file)
                   WHERE _files.source = '{source}')"""
    validate = (
        openalex.validate_sql(records)
        if source == openalex.SOURCE
        else author_lists.validate_sql(records, has_authors=_FORMATS[source].has_authors)
    )
    db.execute(f"CREATE OR REPLACE TEMP TABLE _checked AS {validate}")
    valid = """(SELECT c.* EXCLUDE (problem), f.venue, f.year
        FROM _checked c JOIN _files f USING (rel_file) WHERE c.problem IS NULL)"""
    if source == openalex.SOURCE:  # typed like the fast path's works, split with them
        db.execute(f"""INSERT INTO {OPENALEX_WORKS}
            SELECT r.rel_file, r.record_index, TRUE AS clean,
              {openalex.typed("r.j")} AS w
            FROM {recs} r JOIN _checked c USING (rel_file, record_index)
            WHERE c.problem IS NULL""")
    else:  # joins its fast path's rows, split later (:func:`_split_author_lists`)
        db.execute(
            f"INSERT INTO {_fast_table(source)} BY NAME {author_lists.valid_records_sql(valid)}"
        )
    for rel, kept, bad in db.execute(
        "SELECT rel_file, count(*) FILTER (WHERE problem IS NULL), "
        "count(*) FILTER (WHERE problem IS NOT NULL) FROM _checked GROUP BY rel_file"
    ).fetchall():
        counts[rel] = (kept, bad)
    # the raw text of bad records only (the checked table does not carry it)
    for rel, index, reason, raw in db.execute(
        "SELECT c.rel_file, c.record_index, c.problem, r.j::VARCHAR FROM _checked c "
        f"JOIN {recs} r USING (rel_file, record_index) "
        "WHERE c.problem IS NOT NULL ORDER BY c.rel_file, c.record_index"
    ).fetchall():
        bad_rows.setdefault(rel, []).append(Problem(index, reason, raw[:MAX_RAW]))


def ingest_files(db: Any, files: list[SourceFile], progress: Any) -> dict[str, FileResult]:
    """Parse ``files`` into the raw tables; per file (read, kept, problems, fatal message).

    Author lists first take the fast path (all clean files of a source in one typed read,
    :func:`author_lists.load_clean_files`); a file that is not clean is loaded on its own
    with each record's position (so a bad record is found and named). Validation and the
    splitting SQL then run once over all records of a source. OpenAlex files are loaded
    record by record too, in batches of about :data:`OPENALEX_BATCH_BYTES`, each validated
    and split before the next is read.
    """
    db.execute("DROP TABLE IF EXISTS _recs")
    db.execute(RECORDS_DDL.format(table="_recs"))
    db.execute(f"ATTACH IF NOT EXISTS ':memory:' AS {STAGING}")
    results: dict[str, FileResult] = {}
    loaded: dict[str, LoadedFile] = {}
    fast_counts: dict[str, int] = {}
    careful: list[SourceFile] = []
    for source, fmt in _FORMATS.items():
        mine = [f for f in files if f.source == source]
        clean = [f for f in mine if f.path.stat().st_size > 0]
        progress(f"read {source}: {len(clean)} files")
        # every author list gets its fast table (empty without clean files): the careful
        # path's valid records join it
        slow = author_lists.load_clean_files(
            db,
            [(str(f.path), f.rel, f.venue or "", f.year or 0) for f in clean],
            _fast_table(source),
            has_authors=fmt.has_authors,
        )
        careful += [f for f in mine if f.rel in slow or f not in clean]
        fast_counts.update(
            db.execute(
                f"SELECT rel_file, count(*) FROM {_fast_table(source)} GROUP BY rel_file"
            ).fetchall()
        )
    for number, f in enumerate(careful, 1):
        progress(f"read {number}/{len(careful)} {f.rel} (record by record)")
        loaded[f.rel] = load_records(db, f.path, "_recs", f.rel)
    meta = pa.table(
        {
            "rel_file": [f.rel for f in files],
            "source": [f.source for f in files],
            "venue": [f.venue or "" for f in files],
            "year": pa.array([f.year or 0 for f in files], pa.int32()),
        }
    )
    db.register("_files_arrow", meta)
    db.execute("CREATE OR REPLACE TEMP TABLE _files AS SELECT * FROM _files_arrow")
    db.unregister("_files_arrow")
    counts: dict[str, tuple[int, int]] = {rel: (n, 0) for rel, n in fast_counts.items()}
    bad_rows: dict[str, list[Problem]] = {}
    for source in _FORMATS:
        progress(f"validate {source}")
        _split_source(db, source, counts, bad_rows)
    progress("split the author lists")
    _split_author_lists(db)
    for source in _FORMATS:  # split: their records are no longer needed
        db.execute(f"DROP TABLE {_fast_table(source)}")
    db.execute("DELETE FROM _recs")
    works = [f for f in files if f.source == openalex.SOURCE]
    loaded |= _ingest_openalex(db, works, counts, bad_rows, progress)
    db.execute(f"DETACH {STAGING}")
    for f in files:
        load = loaded.get(f.rel, LoadedFile("_fast"))
        if load.fatal is not None:
            problems = load.problems or [Problem(None, load.fatal, "")]
            results[f.rel] = (0, 0, problems, load.fatal)
            continue
        kept, _ = counts.get(f.rel, (0, 0))
        problems = sorted(
            bad_rows.get(f.rel, []) + load.problems,
            key=lambda p: -1 if p.record_index is None else p.record_index,
        )
        results[f.rel] = (kept + len(problems), kept, problems, None)
    return results


#: Records of the OpenAlex batch being read, in the staging database: the connections that
#: read its files side by side all append to it.
OPENALEX_RECORDS = f"{STAGING}.openalex_records"
#: Typed works of the batch (``openalex.typed_read_sql``): what the raw tables are made from.
OPENALEX_WORKS = f"{STAGING}.openalex_works"


def _ingest_openalex(
    db: Any,
    works: list[SourceFile],
    counts: dict[str, tuple[int, int]],
    bad_rows: dict[str, list[Problem]],
    progress: Any,
) -> dict[str, LoadedFile]:
    """Read, validate and split the OpenAlex files, batch by batch.

    Each file is first read typed (``openalex.typed_read_sql``: one parse per record); a file
    that fails that read or has a record that is not clean is read again record by record
    and validated (:func:`_split_source`), which quarantines the bad records by position.
    The files of a batch are read two at a time, each on its own connection: DuckDB reads a
    gzip file with one thread, so one file at a time kept one core idle.
    """
    loaded: dict[str, LoadedFile] = {}
    db.execute(f"CREATE OR REPLACE TABLE {OPENALEX_RECORDS} AS SELECT * FROM _recs LIMIT 0")
    db.execute(
        f"CREATE OR REPLACE TABLE {OPENALEX_WORKS} (rel_file VARCHAR, record_index BIGINT, "
        f"clean BOOLEAN, w {openalex.WORK_TYPE})"
    )
    typed = f"INSERT INTO {OPENALEX_WORKS} {openalex.typed_read_sql()}"

    def read_typed(f: SourceFile) -> tuple[SourceFile, bool]:
        if f.path.stat().st_size == 0:  # the careful path names the empty file
            return f, False
        cursor = db.cursor()
        try:
            cursor.execute(typed, [f.rel, str(f.path)])
            return f, True
        except duckdb.OutOfMemoryException:
            raise  # not a bad file: the careful path would need more memory still
        except duckdb.Error:  # not plain typed JSON: the careful path says where and why
            return f, False
        finally:
            cursor.close()

    def read(f: SourceFile) -> tuple[str, LoadedFile]:
        cursor = db.cursor()
        try:
            return f.rel, load_records(
                cursor, f.path, OPENALEX_RECORDS, f.rel, allow_wrapper="results"
            )
        finally:
            cursor.close()

    done = 0
    with ThreadPoolExecutor(max_workers=2) as pool:
        for batch in _batches(works, OPENALEX_BATCH_BYTES):
            db.execute(f"DELETE FROM {OPENALEX_RECORDS}")
            db.execute(f"DELETE FROM {OPENALEX_WORKS}")
            progress(f"read {done + 1}-{done + len(batch)}/{len(works)}")
            careful = [f for f, ok in pool.map(read_typed, batch) if not ok]
            # one pass over the batch's typed works: each file's record count, and whether
            # every record is clean (a file with one that is not goes the careful way)
            files = db.execute(
                f"SELECT rel_file, count(*), bool_and(clean) FROM {OPENALEX_WORKS} "
                "GROUP BY rel_file"
            ).fetchall()
            unclean = {rel for rel, _, clean in files if not clean}
            counts.update((rel, (n, 0)) for rel, n, clean in files if clean)
            if unclean:
                db.execute(
                    f"DELETE FROM {OPENALEX_WORKS} WHERE rel_file IN (SELECT unnest(?))",
                    [sorted(unclean)],
                )
                careful += [f for f in batch if f.rel in unclean]
            if careful:
                progress(f"read {len(careful)} file(s) record by record")
                loaded.update(pool.map(read, careful))
                _split_source(db, openalex.SOURCE, counts, bad_rows, OPENALEX_RECORDS)
            openalex.ingest_works(db, OPENALEX_WORKS)
            done += len(batch)
    db.execute(f"DROP TABLE {OPENALEX_RECORDS}")
    db.execute(f"DROP TABLE {OPENALEX_WORKS}")
    return loaded


def _previous_hashes(previous: Any) -> dict[str, str]:
    """Checksums of the files whose rows the previous store holds, when it was written by
    this reader version (a store of another version is read again in full)."""
    if previous is None or "ingest_log" not in previous.list_tables():
        return {}
    if not {"raw_papers", "raw_authorships"} <= set(previous.list_tables()):
        return {}
    if _previous_reader(previous) != READER_VERSION:
        return {}
    rows = previous.con.execute(
        "SELECT file, sha256 FROM ingest_log WHERE status IN ('ok', 'partial', 'unchanged')"
    ).fetchall()
    return dict(rows)


def _previous_reader(previous: Any) -> str | None:
    """The reader version that wrote the previous store (None before versions were kept)."""
    if "build_params" not in previous.list_tables():
        return None
    row = previous.con.execute(
        "SELECT value FROM build_params WHERE stage = 'sources' AND name = 'reader_version'"
    ).fetchone()
    return None if row is None else json.loads(row[0])


def _copy_previous(db: Any, previous: Any, files: list[str]) -> None:
    """Copy the rows of unchanged files from the previous store (Arrow, no re-parse)."""
    if not files:
        return
    old = previous.con
    for table in ("raw_papers", "raw_authorships", "quarantine"):
        column = "file" if table == "quarantine" else "source_file"
        arrow = old.execute(
            f"SELECT * FROM {table} WHERE {column} IN (SELECT unnest(?))", [files]
        ).arrow()
        db.register("_prev", arrow)
        db.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _prev")
        db.unregister("_prev")
    log = old.execute("SELECT * FROM ingest_log WHERE file IN (SELECT unnest(?))", [files]).arrow()
    db.register("_prev", log)
    db.execute("""INSERT INTO ingest_log BY NAME
        SELECT * EXCLUDE (status, ingested_at), 'unchanged' AS status, now() AS ingested_at
        FROM _prev""")
    db.unregister("_prev")


def _author_histories(db: Any, data_dir: Path, now: datetime) -> list[tuple]:
    """Read ``openalex_authors/`` into ``author_affiliations``; its ``ingest_log`` rows."""
    log: list[tuple] = []
    for rel, read, kept, problems, fatal in openalex_authors.ingest(db, data_dir):
        _quarantine(db, rel, problems)
        path = data_dir / rel
        status = "ok" if not problems else ("partial" if kept else "failed")
        message = fatal or (
            f"{len(problems)} record(s) quarantined: {problems[0].reason}" if problems else None
        )
        log.append(
            (
                rel,
                openalex_authors.SOURCE,
                path.stat().st_size,
                sha256_of(path),
                read,
                kept,
                len(problems),
                now,
                status,
                message,
            )
        )
    return log


def run(ctx: StageContext) -> None:
    """Ingest every file under ``ctx.data_dir`` and merge sources into papers/authorships."""
    if ctx.data_dir is None:
        raise SourceError("the sources stage needs a data dir")
    if not isinstance(ctx.engine, DuckDBEngine):
        # DuckDB's JSON reader parses the files; a Spark build copies the tables in after
        raise SourceError(f"the sources stage runs on DuckDB, not on {ctx.engine.name}")
    db = ctx.engine.connection
    for ddl in schema.ALL:
        db.execute(ddl)
    files = discover(ctx.data_dir)
    known = _previous_hashes(ctx.previous)
    reuse: list[str] = []
    todo: list[tuple[SourceFile, int, str]] = []
    for found in files:
        f, size, sha = found, 0, ""
        if f.problem is None:
            try:
                size, sha = f.path.stat().st_size, sha256_of(f.path)
            except OSError as exc:  # unreadable after all: logged, not read
                f = replace(f, problem=f"cannot read: {exc.strerror or exc}")
        if f.problem is None and known.get(f.rel) == sha:
            reuse.append(f.rel)
        else:
            todo.append((f, size, sha))
    if ctx.previous is not None:
        _copy_previous(db, ctx.previous, reuse)
    parse = [f for f, _, _ in todo if f.problem is None]
    results = ingest_files(db, parse, ctx.progress) if parse else {}
    log: list[tuple] = []
    now = datetime.now(UTC)
    for f, size, sha in todo:
        if f.problem is not None:
            _quarantine(db, f.rel, [Problem(None, f.problem, "")])
            log.append((f.rel, f.source, size, sha, 0, 0, 1, now, "failed", f.problem))
            continue
        read, kept, problems, fatal = results[f.rel]
        _quarantine(db, f.rel, problems)
        message = fatal
        if problems and fatal is None:
            first = problems[0]
            where = "" if first.record_index is None else f" (record {first.record_index})"
            message = f"{len(problems)} record(s) quarantined; first{where}: {first.reason}"
        status = "ok" if not problems else ("partial" if kept else "failed")
        log.append((f.rel, f.source, size, sha, read, kept, len(problems), now, status, message))
    log += _author_histories(db, ctx.data_dir, now)
    _write_log(db, log)
    ctx.progress("merge sources")
    merge(db)
    # never guessed: such papers' decision is 'unknown'; the CLI warns after the build
    unmapped = decisions.unmapped(db)
    for temp in ("_recs", "_checked", "_files", "_clusters", "_next", "_ranked"):
        db.execute(f"DROP TABLE IF EXISTS {temp}")
    ctx.record_params(
        "sources",
        {
            "data_dir": str(ctx.data_dir),
            "files": len(files),
            "files_reused": len(reuse),
            "reader_version": READER_VERSION,
            "title_dedup_min_chars": MIN_TITLE,
            "unmapped_statuses": unmapped,
        },
    )
