"""Benchmark and accuracy check of the careers stage.

Usage::

    uv run python bench/careers.py --persons 20000          # simulated corpus
    uv run python bench/careers.py --db /tmp/store.duckdb   # a built store (read-only copy)
    uv run python bench/careers.py --db STORE --stage-only  # the stage alone, wall and CPU

Prints the time of the whole careers stage and of the event detection alone (observations,
tenures and events at both levels, materialised), the event counts by kind, and (simulated)
precision/recall of moves. ``--threads 2`` caps DuckDB at two threads (the 2-core target).
CPU seconds are the process's (DuckDB's threads included).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import ibis

from talentflow.careers import stage
from talentflow.careers.build import prepare, temp_table, tenures_and_events
from talentflow.careers.evaluate import score_moves
from talentflow.careers.params import CareerParams
from talentflow.careers.simulate import simulate_careers
from talentflow.context import StageContext


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--db", type=Path, help="run on a copy of this built store instead")
    parser.add_argument("--threads", type=int, default=2, help="DuckDB threads (default 2)")
    parser.add_argument(
        "--stage-only", action="store_true", help="time the whole stage only (no event counts)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.duckdb"
        truth = None
        if args.db:
            shutil.copy(args.db, path)
            con = ibis.duckdb.connect(str(path))
        else:
            t0 = time.perf_counter()
            corpus = simulate_careers(args.persons, seed=args.seed)
            print(f"simulated {args.persons} persons in {time.perf_counter() - t0:.1f}s")
            truth = corpus.true_moves
            con = ibis.duckdb.connect(str(path))
            con.create_table("authorships", ibis.memtable(corpus.authorships))
        con.raw_sql(f"SET threads = {args.threads}")
        n = con.table("authorships").count().execute()
        if args.stage_only:
            t0, c0 = time.perf_counter(), time.process_time()
            stage.run(StageContext(con=con, previous=None, data_dir=None))
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            print(f"careers stage on {n:,} authorships: {wall:.1f}s wall, {cpu:.1f}s cpu")
            con.disconnect()
            return
        t0 = time.perf_counter()
        inputs = prepare(con, stage.careers_input(con.table("authorships"))[0])
        t1 = time.perf_counter()
        _tenures, events = tenures_and_events(inputs, CareerParams())
        temp_table(con, events["country"].union(events["institution"]), "bench_events")
        t2 = time.perf_counter()
        print(
            f"event detection alone on {n:,} authorships ({args.threads} threads): "
            f"{t2 - t0:.1f}s (observations and ranks {t1 - t0:.1f}s, tenures and events "
            f"at both levels {t2 - t1:.1f}s)"
        )
        t0, c0 = time.perf_counter(), time.process_time()
        stage.run(StageContext(con=con, previous=None, data_dir=None))
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
        print(
            f"whole careers stage (person-years, profiles, writes): {elapsed:.1f}s wall, "
            f"{cpu:.1f}s cpu"
        )
        events = con.table("events").to_pandas()
        print(events.groupby(["level", "kind"]).size().to_string())
        if truth is not None:
            score = score_moves(events[events["level"] == "country"], truth)
            print(
                f"moves: precision {score.precision:.3f}, recall {score.recall:.3f} "
                f"({score.n_detected} detected, {score.n_true} observable true), "
                f"kind accuracy {score.kind_accuracy:.3f}"
            )
        con.disconnect()


if __name__ == "__main__":
    main()
