"""Benchmark: every indicator with 200 bootstrap replicates (target: < 60 s on 2 cores).

Usage::

    uv run python bench/indicators.py --db /tmp/talentflow.duckdb     # a built store
    uv run python bench/indicators.py --simulate 50000                # simulated careers
    uv run python bench/indicators.py --stage COPY.duckdb --indicators-on engine

``--stage`` runs the whole indicators stage (coverage and the fixed venue panel included) on a
built store, which it rewrites (pass a copy), and prints its wall and CPU seconds (the
process's, DuckDB's threads included) and peak memory; ``--indicators-on`` and
``--bootstrap-on`` choose where the work runs (docs/indicators.md).

Reads the careers tables once, then times the indicator computation (panel, subfields,
bootstrap, suppression) separately from reading and writing.
"""

from __future__ import annotations

import argparse
import resource
import time

import pandas as pd

from talentflow.indicators.compute import IndicatorParams, compute


def _simulated(n_persons: int, seed: int) -> dict[str, pd.DataFrame]:
    from talentflow.careers.simulate import simulate_careers
    from talentflow.indicators.synthetic import (
        person_years_from_authorships,
        profile_from_person_years,
    )

    a = simulate_careers(n_persons, seed=seed).authorships
    py = person_years_from_authorships(a)
    papers = a.drop_duplicates("paper_id")[["paper_id", "venue", "year"]].assign(
        title="A study of large language models"
    )
    return {
        "person_years": py,
        "person_profile": profile_from_person_years(py),
        "authorships": a[["paper_id", "person_id", "venue", "year"]],
        "papers": papers,
    }


def _standin(db: str) -> dict[str, pd.DataFrame]:
    """Careers stand-in from a store with resolved authorships but no careers tables.

    person_id = the source's person id, else ORCID, else DBLP, else the lower-cased name (crude:
    homonyms merge); person_years by the modal country of each year
    (``talentflow.indicators.synthetic``). For benchmarking and a first look only.
    """
    from talentflow.indicators.synthetic import (
        person_years_from_authorships,
        profile_from_person_years,
    )
    from talentflow.store import open_store

    con = open_store(db)
    a = con.sql(
        """select paper_id, venue, year, country, sector, career_position,
                  coalesce(source_person_id, orcid, dblp, 'name:' || lower(trim(author_name)))
                      as person_id
           from authorships"""
    ).to_pandas()
    papers = con.sql("select paper_id, title, keywords, abstract, venue, year from papers")
    papers = papers.to_pandas()
    con.disconnect()
    py = person_years_from_authorships(a)
    return {
        "person_years": py,
        "person_profile": profile_from_person_years(py),
        "authorships": a[["paper_id", "person_id", "venue", "year"]],
        "papers": papers,
    }


def _stage(args: argparse.Namespace) -> None:
    """The indicators stage on the store ``args.stage``: wall, CPU and peak memory."""
    from talentflow.engines import connect
    from talentflow.pipeline import run_stages

    con = connect(args.stage)
    params = {
        "replicates": args.replicates,
        "subfields": args.subfields,
        "groupings": args.groupings,
        "stages": not args.no_stages,
        "indicators_on": args.indicators_on,
        "bootstrap_on": args.bootstrap_on,
    }
    t0, c0 = time.perf_counter(), time.process_time()
    run_stages(con, ["indicators"], data_dir=None, params={"indicators": params})
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    con.disconnect()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(
        f"indicators stage (indicators_on={args.indicators_on}, "
        f"bootstrap_on={args.bootstrap_on}, {args.replicates} replicates): {wall:.1f}s wall, "
        f"{cpu:.1f}s CPU; peak memory of the process {peak:.2f} GiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="a built store")
    parser.add_argument("--standin", help="a store with resolved authorships, no careers yet")
    parser.add_argument("--simulate", type=int, default=20000, help="persons to simulate")
    parser.add_argument("--save", help="write the indicator tables to this new DuckDB file")
    parser.add_argument("--replicates", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--subfields", default="all", help="subfield subsets (all, none, list)")
    parser.add_argument("--groupings", default="all", help="country groupings (all, none, list)")
    parser.add_argument("--no-stages", action="store_true", help="no stage:* subsets")
    parser.add_argument("--stage", help="run the whole stage on this store (it is rewritten)")
    parser.add_argument("--indicators-on", default="driver", help="driver or engine")
    parser.add_argument("--bootstrap-on", default="driver", help="driver or engine")
    args = parser.parse_args()
    if args.stage:
        _stage(args)
        return

    t0 = time.perf_counter()
    if args.db:
        from talentflow.indicators.stage import read_inputs
        from talentflow.store import open_store

        con = open_store(args.db)
        inputs = read_inputs(con)
        con.disconnect()
        source = args.db
    elif args.standin:
        inputs = _standin(args.standin)
        source = f"{args.standin} (careers stand-in)"
    else:
        inputs = _simulated(args.simulate, args.seed)
        source = f"simulated {args.simulate} persons"
    t_read = time.perf_counter() - t0
    sizes = ", ".join(f"{k} {len(v):,}" for k, v in inputs.items())
    print(f"input ({source}): {sizes}; read in {t_read:.1f}s")

    t1, c1 = time.perf_counter(), time.process_time()
    params = IndicatorParams.from_mapping(
        {
            "replicates": args.replicates,
            "subfields": args.subfields,
            "groupings": args.groupings,
            "stages": not args.no_stages,
        }
    )
    out = compute(inputs, params, consume=True)  # as the stage does: inputs freed once used
    t_compute, c_compute = time.perf_counter() - t1, time.process_time() - c1
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    for name, frame in out.items():
        sup = f", {frame['suppressed'].mean():.0%} suppressed" if "suppressed" in frame else ""
        print(f"  {name}: {len(frame):,} rows{sup}")
    print(
        f"indicators with {args.replicates} replicates: {t_compute:.1f}s wall, "
        f"{c_compute:.1f}s CPU (target < 60 s on 2 cores); peak memory of the process "
        f"(reading included) {peak:.2f} GiB"
    )
    if args.save:
        from talentflow.engines import connect
        from talentflow.indicators.stage import to_arrow

        con = connect(args.save)
        for name, frame in out.items():
            con.create_table(name, to_arrow(frame), overwrite=True)
        con.disconnect()


if __name__ == "__main__":
    main()
