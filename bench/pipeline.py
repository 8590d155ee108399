"""Benchmark the build on a synthetic OpenAlex-layout corpus of N author slots.

    uv run python bench/pipeline.py --authorships 1000000 --engine duckdb
    uv run python bench/pipeline.py --authorships 1000000 --engine spark --spark-master 'local[2]'

Generates (or reuses) ``<corpus-root>/n<N>/openalex/works/...`` with ``talentflow.synth``, links
the registries of the real mirror beside it (the resolve stage reads them), then runs

1. a raw DuckDB scan of the same files (``read_json`` of every part, counting author slots),
2. importing the code of every stage once in a child of its own (``startup``: a build imports
   it once), then each pipeline stage in its own child process on one store, its code imported
   before the clock starts (wall time, CPU time, peak RSS of the child:
   ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` at its end),
3. the raw scan again, so that the ratio's denominator (the mean of the two scans) sees the
   same machine load as the build,

and prints a table plus the ratio of the whole build to the raw scan. By default this is the
default build: every stage of ``STAGES`` (scenarios included) with each stage's default
parameters, which are those of ``talentflow build`` (bootstrap replicates included); the
parameters the stages recorded (``build_params``) are printed, and ``--bootstrap`` or
``--stages`` make a run that is not the default say so. ``--json`` writes the figures,
load averages before and after included. CPU seconds are reported beside wall seconds because
a shared machine's wall time says little; throughput per core is slots / CPU seconds.

With ``--engine spark`` the sources stage (DuckDB JSON parsing) runs on DuckDB, its tables
are copied into a Spark session, and the other stages run there; peak memory is then the
Python driver's only (the JVM's heap is bounded by ``spark.driver.memory``).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
GIB = 1 << 30


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _limits(db: Any, memory_limit: str | None, temp_dir: str | None, threads: int | None) -> None:
    """DuckDB settings that let larger-than-memory work spill instead of failing."""
    if memory_limit:
        db.execute(f"SET memory_limit = '{memory_limit}'")
    if temp_dir:
        db.execute(f"SET temp_directory = '{temp_dir}'")
    if threads:
        db.execute(f"SET threads = {int(threads)}")
    # No SET preserve_insertion_order here: the stages set it around their own inserts, as in
    # `talentflow build`; setting it for the whole connection measured a build nobody runs.


def oom_hint(exc: BaseException, memory_limit: str | None) -> str | None:
    """A clear message with a setting to try when DuckDB ran out of memory."""
    text = str(exc)
    if (
        "Out of Memory" not in text
        and "OutOfMemory" not in text
        and not isinstance(exc, MemoryError)
    ):
        return None
    return (
        f"DuckDB ran out of memory (memory_limit={memory_limit or 'default 80% of RAM'}). "
        "Let it spill to disk: --memory-limit 8GB --temp-dir /fast/disk/duckdb_tmp "
        "(SET memory_limit='8GB'; SET temp_directory='...'; SET preserve_insertion_order=false), "
        "lower --threads, or use --engine spark for corpora beyond one machine."
    )


def load_code(stages: list[str]) -> None:
    """Import what the stages run (the engine backends and each stage's module).

    A build is one process that imports the code once; the bench runs each stage in a child
    of its own, so each child imports this before its clock starts, and the cost of importing
    it once is measured by itself (:func:`startup`) and added once to the build's total.
    """
    import importlib

    import ibis
    import pandas  # noqa: F401  # Ibis imports it on a stage's first fetch; a build pays it once
    import pyarrow  # noqa: F401

    from talentflow.pipeline import STAGES

    ibis.duckdb  # noqa: B018  # loads the backend (Ibis imports backends on first use)
    modules = dict(STAGES)
    for stage in stages:
        importlib.import_module(modules[stage])


def startup(stages: list[str]) -> dict[str, Any]:
    """Import the code of every stage once, as ``talentflow build`` does."""
    load_code(stages)
    return {}


def _child(fn: Any, args: tuple[Any, ...], out: Path, warm: list[str] | None = None) -> None:
    import duckdb  # noqa: F401  # before the clock in every child, the raw scan's included

    if warm:
        load_code(warm)
    t0, c0 = time.perf_counter(), _cpu()
    result: dict[str, Any] = {}
    try:
        result = fn(*args) or {}
        result["ok"] = True
    except BaseException as exc:
        result = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:2000]}
        hint = oom_hint(
            exc, args[-1].get("memory_limit") if args and isinstance(args[-1], dict) else None
        )
        if hint:
            result["hint"] = hint
    result["wall_s"] = time.perf_counter() - t0
    result["cpu_s"] = _cpu() - c0
    result["peak_rss_gib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / GIB
    out.write_text(json.dumps(result))


def in_child(fn: Any, *args: Any, warm: list[str] | None = None) -> dict[str, Any]:
    """Run ``fn(*args)`` in a fresh process; its timings and peak memory.

    ``warm``: stages whose code the child imports before its clock starts (see
    :func:`load_code`).
    """
    out = Path(os.environ.get("TMPDIR", "/tmp")) / f"tf-bench-{os.getpid()}-{time.time_ns()}.json"
    proc = mp.get_context("spawn").Process(target=_child, args=(fn, args, out, warm))
    proc.start()
    proc.join()
    if not out.exists():
        return {"ok": False, "error": f"child died (exit {proc.exitcode}; killed for memory?)"}
    result = json.loads(out.read_text())
    out.unlink()
    return result


def raw_scan(corpus: str, opts: dict[str, Any]) -> dict[str, Any]:
    import duckdb

    db = duckdb.connect()
    db.execute("SET enable_progress_bar = false")
    _limits(db, opts.get("memory_limit"), opts.get("temp_dir"), opts.get("threads"))
    works, slots = db.execute(
        "SELECT count(*), sum(len(authorships)) FROM read_json(?, format='newline_delimited')",
        [f"{corpus}/openalex/works/updated_date=*/part_*.gz"],
    ).fetchone()
    return {"works": works, "slots": int(slots)}


def stage_duckdb(db_path: str, stage: str, data_dir: str, opts: dict[str, Any]) -> dict[str, Any]:
    import ibis

    from talentflow.pipeline import run_stages

    con = ibis.duckdb.connect(db_path)
    con.raw_sql("SET enable_progress_bar = false")
    _limits(con.con, opts.get("memory_limit"), opts.get("temp_dir"), opts.get("threads"))
    timings = run_stages(con, [stage], data_dir=data_dir, params=opts.get("params"))
    rows = {t: con.table(t).count().execute() for t in con.list_tables() if not t.startswith("_")}
    bp = con.table("build_params").to_pandas() if "build_params" in rows else None
    recorded = {} if bp is None else {r.name: r.value for r in bp.itertuples() if r.stage == stage}
    con.disconnect()
    return {"timings": timings, "rows": rows, "params": recorded}


def stages_spark(
    db_path: str, stages: list[str], data_dir: str, opts: dict[str, Any]
) -> dict[str, Any]:
    import ibis

    from talentflow.engines import engine_of
    from talentflow.engines.spark import connect_spark
    from talentflow.pipeline import run_stages

    duck = ibis.duckdb.connect(db_path, read_only=True)
    con = connect_spark(
        opts.get("warehouse"), master=opts.get("spark_master"), conf=opts.get("spark_conf", {})
    )
    t0 = time.perf_counter()
    engine_of(duck).copy_tables(engine_of(con), ["papers", "authorships"])
    copy_s = time.perf_counter() - t0
    timings = {}
    for stage in stages:
        timings.update(run_stages(con, [stage], data_dir=data_dir, params=opts.get("params")))
    return {"timings": {"copy_to_spark": copy_s, **timings}}


def _print_scan(label: str, scan: dict[str, Any]) -> None:
    print(
        f"{label}: {scan.get('wall_s', 0):.1f}s wall, {scan.get('cpu_s', 0):.1f}s cpu, "
        f"{scan.get('peak_rss_gib', 0):.2f} GiB, slots={scan.get('slots')}"
    )


def ensure_corpus(root: Path, n: int, seed: int) -> Path:
    """``root/n<N>`` with ``openalex/works`` (generated once) and a link to the registries."""
    corpus = root / f"n{n}"
    meta = corpus / "openalex" / "synth.meta"
    fresh = True
    if meta.exists():
        info = json.loads(meta.read_text())
        fresh = info.get("n_authorships") != n or info.get("params", {}).get("seed") != seed
    if fresh:
        from talentflow.synth import generate

        t0 = time.perf_counter()
        report = generate(n, corpus / "openalex", seed=seed, data_dir=DATA, progress=print)
        print(f"generated {n:,} slots in {time.perf_counter() - t0:.0f}s")
        del report
    registries = corpus / "registries"
    if not registries.exists():
        registries.symlink_to(DATA / "registries")
    return corpus


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--authorships", type=int, required=True)
    ap.add_argument("--engine", choices=("duckdb", "spark"), default="duckdb")
    ap.add_argument("--corpus-root", type=Path, default=Path("/tmp/talentflow-bench"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--stages", nargs="*", default=None, help="default: every stage in STAGES")
    ap.add_argument("--memory-limit", default=None, help="DuckDB memory_limit, e.g. 8GB")
    ap.add_argument("--temp-dir", default=None, help="DuckDB temp_directory for spilling")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--spark-master", default="local[*]")
    ap.add_argument("--spark-conf", action="append", default=[], help="key=value (repeatable)")
    ap.add_argument(
        "--bootstrap",
        type=int,
        default=None,
        help="indicators: bootstrap replicates (default: the stage's default, as a build runs)",
    )
    ap.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = ap.parse_args(argv)

    from talentflow.pipeline import STAGES

    stages = args.stages or [name for name, _ in STAGES]
    corpus = ensure_corpus(args.corpus_root, args.authorships, args.seed)
    opts = {
        "memory_limit": args.memory_limit,
        "temp_dir": args.temp_dir,
        "threads": args.threads,
        "spark_master": args.spark_master,
        "spark_conf": dict(kv.split("=", 1) for kv in args.spark_conf),
        "warehouse": str(corpus / "spark-warehouse"),
        "params": {} if args.bootstrap is None else {"indicators": {"replicates": args.bootstrap}},
    }
    db_path = corpus / f"bench-{args.engine}.duckdb"
    db_path.unlink(missing_ok=True)

    results: dict[str, Any] = {
        "authorships": args.authorships,
        "engine": args.engine,
        "cpus": os.cpu_count(),
        "bootstrap": args.bootstrap,
        "load_before": os.getloadavg(),
    }
    print(f"load average before: {' '.join(f'{x:.2f}' for x in results['load_before'])}")
    scan = in_child(raw_scan, str(corpus), opts)
    results["raw_scan"] = scan
    _print_scan("raw scan", scan)
    per_stage: dict[str, Any] = {}
    # importing the code, once, as a build does (each stage's child imports it before its clock)
    r = in_child(startup, stages)
    per_stage["startup"] = r
    print(
        f"{'startup':>12}: {r.get('wall_s', 0):8.1f}s wall {r.get('cpu_s', 0):8.1f}s cpu "
        f"{r.get('peak_rss_gib', 0):6.2f} GiB  {'ok' if r['ok'] else r.get('error')}"
    )
    duck_stages = stages if args.engine == "duckdb" else [s for s in stages if s == "sources"]
    for stage in duck_stages:
        r = in_child(stage_duckdb, str(db_path), stage, str(corpus), opts, warm=[stage])
        per_stage[stage] = r
        print(
            f"{stage:>12}: {r.get('wall_s', 0):8.1f}s wall {r.get('cpu_s', 0):8.1f}s cpu "
            f"{r.get('peak_rss_gib', 0):6.2f} GiB  {'ok' if r['ok'] else r.get('error')}"
        )
        if r.get("hint"):
            print(f"  hint: {r['hint']}")
        if not r["ok"]:
            break
    if args.engine == "spark" and all(r["ok"] for r in per_stage.values()):
        rest = [s for s in stages if s != "sources"]
        r = in_child(stages_spark, str(db_path), rest, str(corpus), opts, warm=rest)
        per_stage["spark"] = r
        print(
            f"{'spark':>12}: {r.get('wall_s', 0):8.1f}s wall, driver {r.get('cpu_s', 0):.1f}s cpu "
            f"{r.get('peak_rss_gib', 0):.2f} GiB {r.get('timings')} "
            f"{'ok' if r['ok'] else r.get('error')}"
        )
    results["stages"] = per_stage
    scan_after = in_child(raw_scan, str(corpus), opts)
    results["raw_scan_after"] = scan_after
    _print_scan("raw scan after", scan_after)
    scan_wall = (scan.get("wall_s", 0) + scan_after.get("wall_s", 0)) / 2
    scan_cpu = (scan.get("cpu_s", 0) + scan_after.get("cpu_s", 0)) / 2
    build_wall = sum(r.get("wall_s", 0) for r in per_stage.values())
    build_cpu = sum(r.get("cpu_s", 0) for r in per_stage.values())
    peak = max([r.get("peak_rss_gib", 0) for r in per_stage.values()] or [0])
    results.update(
        default_build=args.stages is None and args.bootstrap is None,
        recorded_params={k: r.get("params") for k, r in per_stage.items() if r.get("params")},
        build_wall_s=build_wall,
        build_cpu_s=build_cpu,
        peak_rss_gib=peak,
        raw_scan_wall_s=scan_wall,
        ratio_wall=build_wall / max(scan_wall, 1e-9),
        ratio_cpu=build_cpu / max(scan_cpu, 1e-9),
        load_after=os.getloadavg(),
    )
    for stage in ("indicators", "scenarios"):
        got = per_stage.get(stage, {}).get("params")
        if got:
            shown = {k: got[k] for k in ("replicates", "draws", "skipped") if k in got}
            print(f"  {stage} ran with {shown or got}")
    kind = "default build" if results["default_build"] else "NOT the default build"
    print(
        f"build ({kind}): {build_wall:.1f}s wall, {build_cpu:.1f}s cpu, peak {peak:.2f} GiB; "
        f"build/raw scan (mean of {scan.get('wall_s', 0):.1f}s and "
        f"{scan_after.get('wall_s', 0):.1f}s) = {results['ratio_wall']:.1f}x wall, "
        f"{results['ratio_cpu']:.1f}x cpu; "
        f"throughput {args.authorships / max(build_cpu, 1e-9):,.0f} slots per cpu-second; "
        f"load average after: {' '.join(f'{x:.2f}' for x in results['load_after'])}"
    )
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str))
    return 0 if all(r["ok"] for r in per_stage.values()) else 1


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main())
