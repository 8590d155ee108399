"""Ingest benchmark: the sources stage against raw DuckDB scans of the same files.

    uv run python bench/ingest.py --data ../shared/data

Prints, in the same process, two references and the ingest measured against them:

- **full scan** (the reference of the target): DuckDB's own JSON reader loading every field of
  every record of every file into an in-memory table (``read_json_auto``, one call per source
  folder with ``union_by_name``; OpenAlex files one by one, their formats differ). This is
  what "DuckDB scans the files" costs when nothing is left unread, which an ingest cannot do
  with less.
- **light scan** (the reference until 2026-11-29): every record split out as JSON text and two
  fields (``author``, ``id``) extracted; the other fields are never parsed.

then the ingest time (hash, read, validate and split every file into the raw tables), the
whole sources stage (ingest, then the cross-source merge into papers/authorships and the
write of the store), and their ratios (target for ingest: at most 3 times the full scan).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb

from talentflow.pipeline import build
from talentflow.sources.stage import SourceFile, discover


def _timed(work: Callable[[duckdb.DuckDBPyConnection], None]) -> tuple[float, float]:
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    t0, c0 = time.perf_counter(), time.process_time()
    work(con)
    return time.perf_counter() - t0, time.process_time() - c0


def full_scan(files: list[SourceFile]) -> tuple[float, float]:
    """Reference: DuckDB reads every field of every record into memory (wall, CPU seconds)."""

    def work(con: duckdb.DuckDBPyConnection) -> None:
        for folder in ("paperlists", "openreview", "openreview_venues"):
            paths = [str(f.path) for f in files if f.source == folder and f.path.stat().st_size]
            if paths:
                con.execute(
                    "CREATE OR REPLACE TEMP TABLE scan AS SELECT * FROM read_json_auto(?, "
                    "format='array', union_by_name=true, maximum_object_size=1073741824)",
                    [paths],
                )
        for f in files:
            if f.source == "openalex":
                con.execute(
                    "CREATE OR REPLACE TEMP TABLE scan AS SELECT * FROM read_json_auto(?, "
                    "format='auto', maximum_object_size=1073741824)",
                    [str(f.path)],
                )

    return _timed(work)


def light_scan(files: list[SourceFile]) -> tuple[float, float]:
    """The earlier reference: records as JSON text, ``author`` and ``id`` extracted."""

    def work(con: duckdb.DuckDBPyConnection) -> None:
        for f in files:
            fmt = "auto" if f.source == "openalex" else "array"
            con.execute(
                "SELECT count(json ->> 'author') + count(json ->> 'id') "
                f"FROM read_json_objects(?, format='{fmt}')",
                [str(f.path)],
            ).fetchone()

    return _timed(work)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    files = discover(args.data)
    light_scan(files)  # warm the JSON reader and the page cache
    runs: dict[str, list[tuple[float, float]]] = {}
    for _ in range(args.repeat):
        runs.setdefault("full", []).append(full_scan(files))
        runs.setdefault("light", []).append(light_scan(files))
        with tempfile.TemporaryDirectory() as tmp:
            marks: dict[str, tuple[float, float]] = {}
            t0, c0 = time.perf_counter(), time.process_time()
            build(
                args.data,
                Path(tmp) / "bench.duckdb",
                stages=["sources"],
                progress=lambda m, marks=marks: marks.setdefault(
                    m, (time.perf_counter(), time.process_time())
                ),
            )
            end = (time.perf_counter(), time.process_time())
            split = marks.get("merge sources", end)
            runs.setdefault("ingest", []).append((split[0] - t0, split[1] - c0))
            runs.setdefault("stage", []).append((end[0] - t0, end[1] - c0))
    # the best of the repeats, wall and CPU (all threads of this process) separately: CPU time
    # is steadier than wall time on a shared machine
    best = {k: (min(w for w, _ in v), min(c for _, c in v)) for k, v in runs.items()}
    full, light = best["full"], best["light"]
    print(f"files: {len(files)}")
    print(f"{'':58s} {'wall':>7s} {'CPU':>7s}   ratio to full scan / to light scan (wall, CPU)")
    labels = {
        "full": "full scan (DuckDB reads every field, the reference)",
        "light": "light scan (records as text, two fields extracted)",
        "ingest": "ingest (hash, read, validate, split into raw tables)",
        "stage": "sources stage (ingest + cross-source merge + write)",
    }
    for key, label in labels.items():
        wall, cpu = best[key]
        print(
            f"{label:58s} {wall:6.2f}s {cpu:6.2f}s   "
            f"{wall / full[0]:5.2f} {cpu / full[1]:5.2f} / {wall / light[0]:5.2f} {cpu / light[1]:5.2f}"
        )
    print(
        f"ratio ingest / full scan: {best['ingest'][0] / full[0]:.2f} wall, "
        f"{best['ingest'][1] / full[1]:.2f} CPU  (target <= 3)"
    )


if __name__ == "__main__":
    main()
