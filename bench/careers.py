"""Benchmark and accuracy check of the careers stage.

Usage::

    uv run python bench/careers.py --persons 20000          # simulated corpus
    uv run python bench/careers.py --db /tmp/store.duckdb   # a built store (read-only copy)

Prints the stage time, the event counts by kind, and (simulated) precision/recall of moves.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import ibis

from talentflow.careers import stage
from talentflow.careers.evaluate import score_moves
from talentflow.careers.simulate import simulate_careers
from talentflow.pipeline import StageContext


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--db", type=Path, help="run on a copy of this built store instead")
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
        n = con.table("authorships").count().execute()
        t0 = time.perf_counter()
        stage.run(StageContext(con=con, previous=None, data_dir=None))
        elapsed = time.perf_counter() - t0
        print(f"careers stage on {n:,} authorships: {elapsed:.1f}s")
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
