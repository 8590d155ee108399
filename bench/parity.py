"""Build the same corpus on DuckDB and on Spark and compare every table row for row.

    uv run python bench/parity.py --authorships 1000000 --out /tmp/parity

Uses the synthetic corpus of ``bench/pipeline.py`` (generated once under ``--corpus-root``),
runs the default ``build()`` (every stage, the stages' default parameters, bootstrap
included) on each engine, prints both build times and, per table, ``same`` or what differs:
Spark local mode on the 1M slice should give the same tables as DuckDB.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import ibis

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--authorships", type=int, default=1_000_000)
    ap.add_argument("--corpus-root", type=Path, default=Path("/tmp/talentflow-bench"))
    ap.add_argument("--out", type=Path, default=Path("/tmp/talentflow-parity"))
    ap.add_argument("--spark-master", default="local[2]")
    ap.add_argument("--driver-memory", default="10g")
    ap.add_argument("--replicates", type=int, default=None, help="default: the stage's")
    args = ap.parse_args()
    sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
    from pipeline import ensure_corpus
    from tests.test_scale_engines import _assert_same_table

    from talentflow.pipeline import build

    corpus = ensure_corpus(args.corpus_root, args.authorships, 0)
    args.out.mkdir(parents=True, exist_ok=True)
    params = {} if args.replicates is None else {"indicators": {"replicates": args.replicates}}
    stages = None  # every stage
    stores = {}
    for engine in ("duckdb", "spark"):
        stores[engine] = args.out / f"{engine}.duckdb"
        extra = {}
        if engine == "spark":
            extra = {
                "spark_master": args.spark_master,
                "spark_conf": {
                    "spark.driver.memory": args.driver_memory,
                    "spark.sql.shuffle.partitions": "8",
                },
            }
        t0 = time.perf_counter()
        build(corpus, stores[engine], params=params, stages=stages, engine=engine, **extra)
        print(f"{engine} build: {time.perf_counter() - t0:.1f} s", flush=True)
    left_db = ibis.duckdb.connect(str(stores["duckdb"]), read_only=True)
    right_db = ibis.duckdb.connect(str(stores["spark"]), read_only=True)
    differ = 0
    for name in sorted(set(left_db.list_tables()) - {"build_info", "build_params"}):
        skip = ["ingested_at"] if name == "ingest_log" else []
        left = left_db.table(name)
        right = right_db.table(name).select(*left.columns)
        try:
            _assert_same_table(left.drop(*skip), right.drop(*skip), name)
            print(f"same     {name} ({left.count().execute():,} rows)")
        except AssertionError as exc:
            differ += 1
            print(f"DIFFERS  {name}: {str(exc)[:300]}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
