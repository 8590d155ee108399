"""Benchmark: whole-corpus linkage time and peak memory of the identity stage.

Usage::

    uv run python bench/identity.py --db STORE [--threads 2] [--set second_round=0]
    uv run python bench/identity.py --db COPY --in-place --memory-limit 8GB --temp-dir DIR

By default, copies ``authorships`` and ``papers`` of a built store (sources and resolve
stages) into an in-memory DuckDB limited to ``--threads`` threads (no memory limit), runs the
identity stage, and prints the wall time, CPU time and peak resident memory of the process
(targets: < 3 min, < 8 GiB on 2 cores); the store is not modified. With ``--in-place`` the
stage runs on the store file itself, as ``bench/pipeline.py`` runs it (``memory_limit``,
``temp_directory``, ``preserve_insertion_order = false``): give it a copy, it is rewritten.
"""

from __future__ import annotations

import argparse
import json
import resource
import time

import ibis

from talentflow.context import StageContext
from talentflow.identity import stage
from talentflow.identity.evaluate import load_store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--in-place", action="store_true", help="run on the file itself (give a copy)"
    )
    parser.add_argument("--memory-limit", default=None, help="DuckDB memory_limit, e.g. 8GB")
    parser.add_argument("--temp-dir", default=None, help="DuckDB temp_directory for spilling")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a linkage parameter (repeatable), e.g. --set second_round=0",
    )
    args = parser.parse_args()
    if args.in_place:
        con = ibis.duckdb.connect(args.db)
        con.raw_sql("SET enable_progress_bar = false")
        con.raw_sql("SET preserve_insertion_order = false")
    else:
        # A previous identity run's person_id column is dropped by the stage itself.
        con, _, _ = load_store(args.db)
    con.raw_sql(f"SET threads = {args.threads}")
    if args.memory_limit:
        con.raw_sql(f"SET memory_limit = '{args.memory_limit}'")
    if args.temp_dir:
        con.raw_sql(f"SET temp_directory = '{args.temp_dir}'")
    n = con.table("authorships").count().execute()
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    params = {k: float(v) for k, v in (kv.split("=", 1) for kv in args.set)}
    stage.run(StageContext(con=con, previous=None, data_dir=None, params=params))
    wall = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    persons = con.table("persons").count().execute()
    rules = con.table("person_links").rule.value_counts().to_pyarrow().to_pylist()
    print(f"authorships: {n:,}  persons: {persons:,}")
    print("links by rule: " + ", ".join(f"{r['rule']}={r['rule_count']:,}" for r in rules))
    print(f"identity stage: wall {wall:.1f} s, cpu {cpu:.1f} s, threads {args.threads}")
    bp = con.table("build_params")
    stats = bp.filter((bp.stage == "identity") & (bp.name == "stats")).value.execute()
    if len(stats):
        st = json.loads(stats.iloc[-1])
        wall_s, cpu_s = st.pop("seconds", {}), st.pop("cpu_seconds", {})
        print(
            "phases (wall/cpu s): "
            + ", ".join(f"{k} {v}/{cpu_s.get(k, '?')}" for k, v in wall_s.items())
        )
        print("counts: " + ", ".join(f"{k} {v:,}" for k, v in st.items()))
    print(f"peak resident memory: {peak_gib:.2f} GiB")


if __name__ == "__main__":
    main()
