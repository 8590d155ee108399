"""Benchmark: fit the move model and project 10 years with 500 parameter draws (< 60 s, 2 cores).

    uv run python bench/scenarios.py --db talentflow.duckdb   # on a built store
    uv run python bench/scenarios.py --persons 40000          # on synthetic careers tables

Prints the time of each step; exits 1 when fit + projection exceed the budget.
"""

from __future__ import annotations

import argparse
import sys
import time

from talentflow.engines import connect
from talentflow.scenarios import Lever, Scenario, compare, fit_model, load_panel
from talentflow.scenarios.frames import panel_from_frames
from talentflow.scenarios.synthetic import synthetic_careers


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--db", help="a built store (default: synthetic careers)")
    ap.add_argument("--persons", type=int, default=40000)
    ap.add_argument("--years", type=int, default=10)
    ap.add_argument("--draws", type=int, default=500)
    ap.add_argument("--budget", type=float, default=60.0)
    args = ap.parse_args()

    t0 = time.perf_counter()
    if args.db:
        con = connect(args.db, read_only=True)
        panel = load_panel(con)
        source = args.db
    else:
        py, ev = synthetic_careers(args.persons, seed=0)
        panel = panel_from_frames(py, ev)
        source = f"synthetic careers ({args.persons} persons)"
    t1 = time.perf_counter()
    model = fit_model(panel)
    t2 = time.perf_counter()
    scenario = Scenario(
        name="bench", levers=[Lever("attractiveness", model.groups[1], 1.3, stages=("postdoc",))]
    )
    # compare() projects baseline and scenario: two 500-draw projections.
    compare(model, scenario, years=args.years, draws=args.draws, seed=0)
    t3 = time.perf_counter()
    total = t3 - t1
    print(f"source: {source}")
    person_years, moves = int(panel.stock()["n"].sum()), int(panel.flows()["n"].sum())
    print(f"person-years {person_years:,}, moves {moves:,}, groups {model.n_groups}")
    print(
        f"load {t1 - t0:.1f}s | fit {t2 - t1:.1f}s | baseline+scenario {args.years} years x "
        f"{args.draws} draws {t3 - t2:.1f}s | fit+projection {total:.1f}s "
        f"(budget {args.budget:.0f}s)"
    )
    return 0 if total <= args.budget else 1


if __name__ == "__main__":
    sys.exit(main())
