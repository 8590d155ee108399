"""Benchmark the resolver: gazetteer load time and distinct strings per second on one core.

Run::

    uv run python bench/resolve.py --data /work/shared/data

The strings are the real distinct (affiliation, domain) pairs of every paperlists file; each
is resolved once by a fresh resolver (no per-string cache hits), on one thread.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import duckdb

from talentflow.resolve import Resolver, load_gazetteer


def distinct_pairs(data: Path, limit: int) -> list[tuple[str, str | None]]:
    """Distinct (author affiliation, email domain) pairs of the paperlists files."""
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute("SET threads = 1")
    rows = con.execute(
        """
        SELECT aff, aff_domain FROM read_json(?, union_by_name = true,
            maximum_object_size = 536870912, columns = {aff: 'VARCHAR', aff_domain: 'VARCHAR'})
        WHERE aff IS NOT NULL
        """,
        [str(data / "paperlists" / "*" / "*.json")],
    ).fetchall()
    con.close()
    seen: dict[tuple[str, str | None], None] = {}
    for aff, dom in rows:
        affs = aff.split(";")
        doms = (dom or "").split(";")
        if len(doms) != len(affs):
            doms = [""] * len(affs)
        for a, d in zip(affs, doms, strict=True):
            if a.strip():
                seen.setdefault((a.strip(), d.strip() or None), None)
        if len(seen) >= limit:
            break
    return list(seen)[:limit]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data"
    )
    ap.add_argument("--limit", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    load_gazetteer(args.data)  # make sure the compiled cache exists
    t0 = time.perf_counter()
    gaz = load_gazetteer(args.data)
    load_s = time.perf_counter() - t0
    pairs = distinct_pairs(args.data, args.limit)
    rates, cpu_rates = [], []
    answered = 0
    for _ in range(args.repeat):
        resolver = Resolver(gaz)  # fresh: no cached parts from an earlier round
        t1, c1 = time.perf_counter(), time.process_time()
        answered = sum(resolver.resolve(a, d).country is not None for a, d in pairs)
        rates.append(len(pairs) / (time.perf_counter() - t1))
        cpu_rates.append(len(pairs) / max(1e-9, time.process_time() - c1))
    print(f"gazetteer load: {load_s:.3f} s ({len(gaz.keys)} keys, {len(gaz.entities)} entities)")
    print(f"distinct pairs: {len(pairs)} (answered {answered / max(1, len(pairs)):.3f})")
    print(
        f"strings/s on one core (wall clock): best {max(rates):,.0f}, "
        f"median {sorted(rates)[len(rates) // 2]:,.0f}"
    )
    print(
        f"strings/s per CPU-second (process time): best {max(cpu_rates):,.0f}, "
        f"median {sorted(cpu_rates)[len(cpu_rates) // 2]:,.0f}"
    )
    print(f"load average during the run: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
