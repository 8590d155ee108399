"""Benchmark the dashboard and API on a built store, on loopback only.

Measures (targets from issue 7):

- median API latency over a mix of endpoints and filters (target < 50 ms), cold and warm;
- overview page ready in headless Chromium: navigation to every chart drawn (target < 1.5 s);
- 50 concurrent clients for 30 s: requests, errors (target 0), latency percentiles;
- the scenario explorer: ``/api/scenario`` for a new slider state (one projection) and for a
  state seen before, and the explorer page redrawn in Chromium after a slider move.

The server warms up at start (overview pages of the largest countries, then the scenario
model is fitted once); the benchmark waits for that and reports how long it took, then measures
the steady state. ``cold`` figures are the first request of each filter after warm-up.

Usage::

    uv run python bench/web.py --db talentflow.duckdb [--clients 50] [--seconds 30] [--json out.json]

The server runs in a child process (``talentflow.web.serve`` on 127.0.0.1, a free port) so the
load generator does not share its interpreter. Every loop is bounded in time and count.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

HOST = "127.0.0.1"
MAX_REQUESTS = 200_000  # hard cap on the load test whatever the duration


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def start_server(db: Path, port: int) -> tuple[subprocess.Popen[bytes], dict[str, Any]]:
    """Start the server; wait until it answers and has warmed up (both bounded in time)."""
    code = f"from talentflow.web import serve; serve({str(db)!r}, host={HOST!r}, port={port})"
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-c", code])
    deadline = t0 + 600  # importing the stack and fitting are slow on a busy 2-core machine
    started = None
    while time.monotonic() < deadline:
        try:
            health = httpx.get(f"http://{HOST}:{port}/healthz", timeout=2).json()
        except (httpx.TransportError, ValueError):
            time.sleep(0.2)
            continue
        started = started or time.monotonic() - t0
        if health.get("scenarios") in ("ready", "unavailable"):
            return proc, {
                "listening_s": started,
                "warm_s": time.monotonic() - t0,
                **health,
            }
        time.sleep(0.5)
    proc.kill()
    raise SystemExit("server did not start and warm up within 600 s")


def api_urls(base: str) -> list[str]:
    meta = httpx.get(f"{base}/api/meta", timeout=30).json()
    codes = [c["code"] for c in meta["countries"]]
    lo, hi = meta["years"]
    focus = [c for c in ("CN", "US", "GB", "DE", "FR", "CA", "IN", "JP") if c in codes] or codes[:8]
    urls = []
    for i, c in enumerate(focus):
        s = max(lo, hi - 10 + i % 4)
        urls += [
            f"/api/overview?country={c}",
            f"/api/series?country={c}&start={s}&end={hi}&measure=stock_share",
            f"/api/retention?country={c}",
            f"/api/flows/bilateral?a={c}&start={s}&end={hi}",
            f"/api/flows/sectors?country={c}",
            f"/api/countries/{c}?year={hi - i % 3}",
        ]
    for y in range(max(lo, hi - 8), hi + 1):
        urls.append(f"/api/map?metric=stock_share&year={y}")
        urls.append(f"/api/map?metric=net_rate&year={y}")
    urls += ["/api/flows/top", "/api/meta", "/api/search?q=wang", "/api/search?q=university"]
    if meta["populations"]:
        urls += [f"/api/flows/origin-work?population={p}" for p in meta["populations"][-5:]]
        urls += [f"/api/flows/pathways?population={p}" for p in meta["populations"][-3:]]
    return urls


def latency(base: str, urls: list[str], rounds: int = 3) -> dict[str, Any]:
    """Sequential latency: the first round hits a cold cache, later rounds a warm one."""
    per_round: list[list[float]] = []
    with httpx.Client(base_url=base, timeout=60) as client:
        for _ in range(rounds):
            times = []
            for url in urls:
                t0 = time.perf_counter()
                r = client.get(url)
                times.append((time.perf_counter() - t0) * 1000)
                if r.status_code != 200:
                    raise SystemExit(f"{url}: HTTP {r.status_code} {r.text[:200]}")
            per_round.append(times)
    warm = [t for times in per_round[1:] for t in times]
    return {
        "requests": len(urls) * rounds,
        "cold_median_ms": statistics.median(per_round[0]),
        "cold_p95_ms": sorted(per_round[0])[int(0.95 * (len(urls) - 1))],
        "warm_median_ms": statistics.median(warm),
        "all_median_ms": statistics.median([t for times in per_round for t in times]),
    }


def page_ready(base: str) -> dict[str, Any]:
    """Overview page in headless Chromium: navigation to every figure drawn."""
    chromium = os.environ.get(
        "TALENTFLOW_CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium"
    )
    if not Path(chromium).exists():
        return {"skipped": "no chromium"}
    from playwright.sync_api import sync_playwright

    args = [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ]
    wait = "() => [...document.querySelectorAll('[data-figure]')].every(e => e.dataset.rendered)"
    out: dict[str, Any] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=args)
        context = browser.new_context()
        context.route(
            "**/*",
            lambda route: (
                route.continue_()
                if (httpx.URL(route.request.url).host in (HOST, "localhost"))
                else route.abort()
            ),
        )
        page = context.new_page()
        runs = []
        for country in ("CN", "US", "DE", "CN", "GB", "FR"):
            t0 = time.perf_counter()
            page.goto(f"{base}/?country={country}")
            page.wait_for_function(wait, timeout=30000)
            runs.append((time.perf_counter() - t0) * 1000)
        browser.close()
    out["first_visit_ms"] = runs[0]  # plotly.js (4.8 MB) fetched and compiled
    out["later_visits_median_ms"] = statistics.median(runs[1:])
    out["runs_ms"] = [round(r) for r in runs]
    return out


def scenario_latency(base: str) -> dict[str, Any]:
    """``/api/scenario``: new slider states (one projection each), then the same states again."""
    meta = httpx.get(f"{base}/api/scenario", timeout=300).json()
    groups = meta.get("groups", [])
    states = []
    for i, c in enumerate(groups[:4]):
        f = 0.6 + 0.1 * i
        states += [
            f"/api/scenario?country={c}&grants={1 + f / 2:.2f}",
            f"/api/scenario?country={c}&visa={f:.2f}",
            f"/api/scenario?country={c}&industry=1.3&startup=1.5",
        ]
    out: dict[str, Any] = {"draws": meta.get("draws"), "states": len(states)}
    with httpx.Client(base_url=base, timeout=300) as client:
        # the page asks for the point-estimate preview and the banded answer of a new state
        rounds = (
            ("preview_new_state", "&preview=true"),
            ("new_state", ""),
            ("seen_state", ""),
        )
        for label, extra in rounds:
            times = []
            for url in states:
                t0 = time.perf_counter()
                r = client.get(url + extra)
                times.append((time.perf_counter() - t0) * 1000)
                if r.status_code != 200:
                    raise SystemExit(f"{url}: HTTP {r.status_code} {r.text[:200]}")
            out[f"{label}_median_ms"] = statistics.median(times)
            out[f"{label}_max_ms"] = max(times)
    return out


def explorer_ready(base: str) -> dict[str, Any]:
    """Scenario page: load, then one slider move redrawn (a new projection) in Chromium."""
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get(
        "TALENTFLOW_CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium"
    )
    if not Path(chromium).exists():
        return {"skipped": "no chromium"}
    wait = "() => [...document.querySelectorAll('[data-figure]')].every(e => e.dataset.rendered)"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page()
        page.goto(f"{base}/")  # plotly.js fetched and compiled once, as for a visitor
        page.wait_for_function(wait, timeout=60000)
        t0 = time.perf_counter()
        page.goto(f"{base}/scenarios?country=US")
        page.wait_for_function(wait, timeout=60000)
        loaded = (time.perf_counter() - t0) * 1000
        t0 = time.perf_counter()
        page.eval_on_selector(
            "#returns",
            "e => { e.value = 1.65; e.dispatchEvent(new Event('change', {bubbles: true})); }",
        )
        # first redraw: the point-estimate preview; then the banded projection
        page.wait_for_function(
            "() => new URLSearchParams(location.search).get('returns') === '1.65'", timeout=60000
        )
        page.wait_for_function(wait, timeout=60000)
        first = (time.perf_counter() - t0) * 1000
        page.wait_for_function(
            "() => new URLSearchParams(document.querySelector('form.explorer').dataset.state"
            " || '').get('returns') === '1.65'",
            timeout=120000,
        )
        page.wait_for_function(wait, timeout=60000)
        banded = (time.perf_counter() - t0) * 1000
        browser.close()
    return {"page_ready_ms": loaded, "slider_first_redraw_ms": first, "slider_banded_ms": banded}


async def _load(base: str, urls: list[str], clients: int, seconds: float) -> dict[str, Any]:
    stop = time.monotonic() + seconds
    times: list[float] = []
    errors: list[str] = []
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:

        async def worker(i: int) -> None:
            k = i
            while time.monotonic() < stop and len(times) + len(errors) < MAX_REQUESTS:
                url = urls[k % len(urls)]
                k += 7
                t0 = time.perf_counter()
                try:
                    r = await client.get(url)
                    if r.status_code != 200:
                        errors.append(f"{url}: {r.status_code}")
                    else:
                        times.append((time.perf_counter() - t0) * 1000)
                except httpx.HTTPError as exc:
                    errors.append(f"{url}: {type(exc).__name__}")

        t0 = time.perf_counter()
        await asyncio.gather(*(worker(i) for i in range(clients)))
        elapsed = time.perf_counter() - t0
    times.sort()
    return {
        "clients": clients,
        "seconds": round(elapsed, 1),
        "requests": len(times) + len(errors),
        "errors": len(errors),
        "error_examples": errors[:5],
        "throughput_rps": round((len(times) + len(errors)) / elapsed, 1),
        "median_ms": statistics.median(times) if times else None,
        "p95_ms": times[int(0.95 * (len(times) - 1))] if times else None,
        "max_ms": times[-1] if times else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    parser.add_argument("--no-browser", action="store_true")
    ns = parser.parse_args()
    port = free_port()
    base = f"http://{HOST}:{port}"
    load_before = os.getloadavg()
    proc, startup = start_server(ns.db, port)
    try:
        urls = api_urls(base)
        results: dict[str, Any] = {
            "db": str(ns.db),
            "endpoints": len(urls),
            "loadavg_at_start": load_before,
            "startup": startup,
        }
        results["api_latency"] = latency(base, urls)
        if not ns.no_browser:
            results["overview_page"] = page_ready(base)
        if startup.get("scenarios") == "ready":
            results["scenario_api"] = scenario_latency(base)
            if not ns.no_browser:
                results["scenario_page"] = explorer_ready(base)
            # two explorer states (projected above, so cached) join the load mix
            urls += ["/api/scenario", "/api/scenario?country=US&visa=0.60"]
        results["load"] = asyncio.run(_load(base, urls, ns.clients, min(ns.seconds, 120.0)))
        results["loadavg_at_end"] = os.getloadavg()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    text = json.dumps(results, indent=2, default=lambda v: round(v, 2))
    print(text)
    if ns.json:
        ns.json.write_text(text)


if __name__ == "__main__":
    main()
