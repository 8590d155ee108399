"""Ingest benchmark: the sources stage against a raw DuckDB scan of the same files.

    uv run python bench/ingest.py --data ../shared/data

Prints the time of a raw DuckDB JSON scan of every source file (the reference, run in the same
process), the ingest time (hash, read, validate and split every file into the raw tables), the
whole sources stage (ingest, then the cross-source merge into papers/authorships and the
write of the store), and their ratios to the scan (target for ingest: at most 3).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import duckdb

from talentflow.pipeline import build
from talentflow.sources.stage import discover


def raw_scan(files: list[Path]) -> tuple[float, float]:
    """Reference: DuckDB parses every file and extracts the author field of every record."""
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    t0, c0 = time.perf_counter(), time.process_time()
    rows = 0
    for path in files:
        fmt = "auto" if "openalex" in path.parts else "array"
        rows += con.execute(
            f"SELECT count(json ->> 'author') + count(json ->> 'id') FROM read_json_objects(?, format='{fmt}')",
            [str(path)],
        ).fetchone()[0]
    return time.perf_counter() - t0, time.process_time() - c0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    files = [f.path for f in discover(args.data)]
    raw_scan(files[:3])  # warm the JSON reader and the page cache
    scans, builds, merges, scan_cpu, build_cpu = [], [], [], [], []
    ingests, ingest_cpu = [], []
    for _ in range(args.repeat):
        wall, cpu = raw_scan(files)
        scans.append(wall)
        scan_cpu.append(cpu)
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
            total = time.perf_counter() - t0
            build_cpu.append(time.process_time() - c0)
            builds.append(total)
            split_done = marks.get("merge sources", (t0 + total, c0))
            merges.append(t0 + total - split_done[0])
            ingests.append(split_done[0] - t0)
            ingest_cpu.append(split_done[1] - c0)
    scan, stage, merge, ingest = min(scans), min(builds), min(merges), min(ingests)
    print(f"files: {len(files)}")
    print(f"raw DuckDB scan:        {scan:6.2f} s")
    print(f"ingest (read, validate, split into raw tables): {ingest:6.2f} s")
    print(
        f"sources stage (ingest + cross-source merge + write): {stage:6.2f} s "
        f"(merge and write {merge:.2f} s)"
    )
    print(f"ratio ingest/scan: {ingest / scan:6.2f}  (target <= 3)")
    print(f"ratio stage/scan:  {stage / scan:6.2f}")
    # CPU time (all threads of this process) is steadier than wall time on a shared machine
    print(
        f"CPU time: scan {min(scan_cpu):.2f} s, ingest {min(ingest_cpu):.2f} s "
        f"(ratio {min(ingest_cpu) / min(scan_cpu):.2f}), stage {min(build_cpu):.2f} s "
        f"(ratio {min(build_cpu) / min(scan_cpu):.2f})"
    )


if __name__ == "__main__":
    main()
