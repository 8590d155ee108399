"""The OpenAlex snapshot: ``works/updated_date=YYYY-MM-DD/part_NNN.gz`` (gzip JSON Lines).

The snapshot (``aws s3 sync s3://openalex/data/works <dir>/works --no-sign-request``) holds
hundreds of millions of works in the current schema. This module finds its part files, streams
them in batches through DuckDB's JSON reader (``read_json_objects`` over a list of files: no
per-record Python), keeps only AI work, and hands the kept records to the column mapping of
:mod:`talentflow.sources.openalex` (the single-file reader) -- so both readers produce exactly
the same ``raw_papers`` / ``raw_authorships`` rows, which the sources merge turns into
``papers`` / ``authorships`` (docs/tables.md).

The AI filter
-------------
A work is kept when **any** of these holds (each list can be emptied or replaced):

- one of its ``topics`` (or its ``primary_topic``) lies in an AI subfield: OpenAlex subfields
  1702 *Artificial Intelligence* and 1707 *Computer Vision and Pattern Recognition*;
- one of its ``concepts`` (the legacy taxonomy, still in the snapshot) is C154945302
  *Artificial intelligence*, C119857082 *Machine learning* or C108583219 *Deep learning*,
  with score >= ``min_concept_score`` (0.3);
- its ``primary_location.source.display_name`` is in ``venues`` (case-insensitive; empty by
  default, e.g. ``("Neural Information Processing Systems", ...)`` to keep a venue list).

The filter is recorded with the build parameters. When the engine is Spark the kept rows are
stored as Parquet partitions (``papers/year=...``, ``authorships/year=...``) that a cluster reads
from object storage (see docs/scale.md).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from talentflow.sources import openalex, schema
from talentflow.sources.records import MAX_RAW, RECORDS_DDL

AI_SUBFIELDS = (
    "https://openalex.org/subfields/1702",  # Artificial Intelligence
    "https://openalex.org/subfields/1707",  # Computer Vision and Pattern Recognition
)
AI_CONCEPTS = (
    "https://openalex.org/C154945302",  # Artificial intelligence
    "https://openalex.org/C119857082",  # Machine learning
    "https://openalex.org/C108583219",  # Deep learning
)
PART_GLOB = "updated_date=*/part_*.gz"
_DATE = re.compile(r"updated_date=(\d{4}-\d{2}-\d{2})")


@dataclass(frozen=True)
class AIFilter:
    """Which works count as AI (any criterion suffices; see the module docstring)."""

    subfields: tuple[str, ...] = AI_SUBFIELDS
    concepts: tuple[str, ...] = AI_CONCEPTS
    min_concept_score: float = 0.3
    venues: tuple[str, ...] = ()
    keep_all: bool = False

    def sql(self, j: str = "j") -> str:
        """A DuckDB boolean expression over the JSON record column ``j``."""
        if self.keep_all:
            return "TRUE"
        terms = []
        if self.subfields:
            ids = _sql_list(self.subfields)
            terms.append(
                f"list_has_any(coalesce(json_extract_string({j}, '$.topics[*].subfield.id'), []) "
                f"|| [{j} ->> '$.primary_topic.subfield.id'], {ids})"
            )
        if self.concepts:
            ids = _sql_list(self.concepts)
            terms.append(
                f"len(list_filter(coalesce(json_extract({j}, '$.concepts[*]'), []), "
                f"c -> list_contains({ids}, c ->> 'id') "
                f"AND TRY_CAST(c ->> 'score' AS DOUBLE) >= {float(self.min_concept_score)})) > 0"
            )
        if self.venues:
            names = _sql_list(tuple(v.lower() for v in self.venues))
            terms.append(
                f"list_contains({names}, lower({j} ->> '$.primary_location.source.display_name'))"
            )
        return "(" + " OR ".join(terms) + ")" if terms else "FALSE"


def _sql_list(values: tuple[str, ...]) -> str:
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]::VARCHAR[]"


@dataclass
class SnapshotReport:
    """What a snapshot ingest read and kept."""

    root: Path
    files: int = 0
    works_read: int = 0
    works_kept: int = 0
    quarantined: int = 0
    filter: dict[str, Any] = field(default_factory=dict)


def works_dir(root: str | Path) -> Path:
    """The ``works`` folder of a snapshot given its root, its ``data/`` folder or itself."""
    root = Path(root)
    for candidate in (root, root / "works", root / "data" / "works", root / "openalex" / "works"):
        if candidate.is_dir() and any(candidate.glob(PART_GLOB)):
            return candidate
    raise FileNotFoundError(
        f"no OpenAlex snapshot under {root}: expected works/{PART_GLOB} "
        "(aws s3 sync s3://openalex/data/works <dir>/works --no-sign-request)"
    )


def discover(root: str | Path, *, since: str | None = None) -> list[Path]:
    """The snapshot's part files, oldest ``updated_date`` first (optionally from ``since``)."""
    parts = sorted(works_dir(root).glob(PART_GLOB), key=lambda p: (_date(p), p.name))
    return [p for p in parts if since is None or _date(p) >= since]


def _date(path: Path) -> str:
    match = _DATE.search(str(path))
    return match.group(1) if match else ""


def batches(paths: list[Path], size: int) -> Iterator[list[Path]]:
    """Consecutive groups of ``size`` files (each group is one DuckDB scan)."""
    for i in range(0, len(paths), size):
        yield paths[i : i + size]


def ingest_snapshot(
    db: Any,
    root: str | Path,
    *,
    ai_filter: AIFilter | None = None,
    files_per_batch: int = 8,
    since: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> SnapshotReport:
    """Append the AI works of the snapshot at ``root`` to ``raw_papers`` / ``raw_authorships``.

    Parameters
    ----------
    db
        A raw DuckDB connection (``ctx.engine.connection``); the raw tables are created if missing.
    root
        The snapshot root, its ``data/`` folder or its ``works/`` folder.
    ai_filter
        Which works to keep (default :class:`AIFilter`).
    files_per_batch
        Part files per DuckDB scan; memory grows with it (each part is ~1-2 GB of JSON upstream).
    since
        Only parts with ``updated_date >= since`` (incremental updates).
    """
    ai_filter = ai_filter or AIFilter()
    paths = discover(root, since=since)
    wdir = works_dir(root)
    report = SnapshotReport(Path(root), files=len(paths), filter=asdict(ai_filter))
    for ddl in schema.ALL:
        db.execute(ddl)
    keep = ai_filter.sql("json")
    for number, group in enumerate(batches(paths, files_per_batch), 1):
        if progress is not None:
            progress(f"openalex snapshot batch {number}: {len(group)} file(s)")
        db.execute("DROP TABLE IF EXISTS _snap")
        db.execute(RECORDS_DDL.format(table="_snap"))
        # One scan per batch: per-file record numbers (quarantine positions) and the filter;
        # records that fail the filter keep only their number, for the count.
        db.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE _snap_all AS
            SELECT (row_number() OVER (PARTITION BY filename) - 1)::BIGINT AS record_index,
                   replace(filename, ?, '') AS rel_file,
                   CASE WHEN {keep} THEN json END AS j
            FROM read_json_objects(?, format='newline_delimited', filename=true,
                                   maximum_object_size=1073741824)
            """,
            [str(wdir.parent) + "/", [str(p) for p in group]],
        )
        read = db.execute("SELECT count(*) FROM _snap_all").fetchone()[0]
        db.execute(
            "INSERT INTO _snap SELECT record_index, j, rel_file FROM _snap_all WHERE j IS NOT NULL"
        )
        db.execute("DROP TABLE _snap_all")
        db.execute(
            f"CREATE OR REPLACE TEMP TABLE _snap_checked AS {openalex.validate_sql('_snap')}"
        )
        openalex.ingest(
            db,
            "(SELECT s.* FROM _snap s JOIN _snap_checked c USING (rel_file, record_index) "
            "WHERE c.problem IS NULL)",
        )
        kept, bad = db.execute(
            "SELECT count(*) FILTER (WHERE problem IS NULL), "
            "count(*) FILTER (WHERE problem IS NOT NULL) FROM _snap_checked"
        ).fetchone()
        db.execute(
            "INSERT INTO quarantine SELECT rel_file, record_index, c.problem, "
            f"left(s.j::VARCHAR, {MAX_RAW}) FROM _snap_checked c JOIN _snap s "
            "USING (rel_file, record_index) WHERE c.problem IS NOT NULL"
        )
        report.works_read += int(read or 0)
        report.works_kept += int(kept)
        report.quarantined += int(bad)
    for temp in ("_snap", "_snap_checked"):
        db.execute(f"DROP TABLE IF EXISTS {temp}")
    return report


def build_tables(
    db: Any,
    root: str | Path,
    *,
    ai_filter: AIFilter | None = None,
    files_per_batch: int = 8,
    progress: Callable[[str], None] | None = None,
) -> SnapshotReport:
    """Ingest the snapshot and merge into ``papers`` / ``authorships`` (the sources contract)."""
    from talentflow.sources.merge import merge

    report = ingest_snapshot(
        db, root, ai_filter=ai_filter, files_per_batch=files_per_batch, progress=progress
    )
    merge(db)
    for temp in ("_clusters", "_next", "_ranked"):
        db.execute(f"DROP TABLE IF EXISTS {temp}")
    return report


def write_parquet(
    db: Any, out_dir: str | Path, tables: tuple[str, ...] = ("papers", "authorships")
) -> list[Path]:
    """Store ``tables`` as Parquet partitioned by ``year`` (what a Spark cluster reads).

    ``out_dir`` may be a local folder or, with DuckDB's httpfs extension loaded and
    credentials set, an ``s3://`` prefix.
    """
    written = []
    for table in tables:
        target = f"{str(out_dir).rstrip('/')}/{table}"
        if "://" not in target:
            Path(target).mkdir(parents=True, exist_ok=True)
        db.execute(
            f"COPY {table} TO '{target}' (FORMAT parquet, PARTITION_BY (year), "
            "OVERWRITE_OR_IGNORE true)"
        )
        written.append(Path(target))
    return written


def read_parquet_into_spark(
    session: Any, parquet_dir: str, tables: tuple[str, ...] = ("papers", "authorships")
) -> None:
    """Register Parquet partitions written by :func:`write_parquet` as Spark tables."""
    for table in tables:
        frame = session.read.parquet(f"{parquet_dir.rstrip('/')}/{table}")
        frame.write.mode("overwrite").saveAsTable(table)


def filter_params(report: SnapshotReport) -> dict[str, Any]:
    """Build parameters to record (``ctx.record_params('sources', ...)``)."""
    return {
        "openalex_snapshot": str(report.root),
        "openalex_snapshot_files": report.files,
        "openalex_ai_filter": json.dumps(report.filter),
        "openalex_works_read": report.works_read,
        "openalex_works_kept": report.works_kept,
    }
