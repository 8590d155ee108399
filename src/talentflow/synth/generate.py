"""Generate a synthetic corpus of any size in the OpenAlex snapshot layout.

Layout written under ``out_dir``::

    works/manifest                                  # like OpenAlex's: entries with record counts
    works/updated_date=2025-01-01/part_000.gz       # gzip JSON Lines, one work per line
    works/updated_date=2025-01-01/part_001.gz
    ...
    synth.meta                                      # seed, parameters, counts (JSON)

Blocks of ``block_slots`` author slots are drawn and written one at a time (memory is bounded
by the block, not the corpus); block ``b`` uses the generator seeded with ``(seed, b)``, so a
corpus is reproducible and any block can be regenerated alone.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from talentflow.synth.careers import Sampler, SynthParams, draw_block
from talentflow.synth.pool import load_pools
from talentflow.synth.snapshot import register_pools, write_part

PARTS_PER_DATE = 4
#: Generation metadata beside ``works/`` (not ``*.json``: source globs must not pick it up).
META_FILE = "synth.meta"
FIRST_DATE = date(2025, 1, 1)


@dataclass
class SynthReport:
    """What a generation wrote."""

    out_dir: Path
    n_authorships: int
    n_works: int
    n_persons: int
    n_parts: int
    seconds: float
    params: dict[str, Any] = field(default_factory=dict)


def default_data_dir() -> Path:
    """``../shared/data`` beside the project root (where CI and the demo keep the mirror)."""
    return Path(__file__).resolve().parents[4] / "shared" / "data"


def generate(
    n_authorships: int,
    out_dir: str | Path,
    *,
    seed: int = 0,
    data_dir: str | Path | None = None,
    block_slots: int = 500_000,
    params: SynthParams | None = None,
    threads: int | None = None,
    progress: Any = None,
) -> SynthReport:
    """Write a synthetic OpenAlex-layout corpus of ``n_authorships`` author slots.

    Parameters
    ----------
    n_authorships
        Total author slots (authorships) over all works.
    out_dir
        Folder to write; ``works/`` inside it is replaced.
    seed
        Seed of every draw (same seed, size and parameters -> the same corpus).
    data_dir
        The real data mirror the string pools come from (default ``../shared/data``).
    block_slots
        Author slots per part file (bounds memory).
    params
        Distribution parameters (defaults in :class:`SynthParams`).

    Examples
    --------
    >>> import tempfile
    >>> report = generate(2_000, tempfile.mkdtemp(), seed=1)  # doctest: +SKIP
    >>> report.n_authorships
    2000
    """
    if n_authorships <= 0:
        raise ValueError("n_authorships must be positive")
    t0 = time.perf_counter()
    params = params or SynthParams()
    out_dir = Path(out_dir)
    works_dir = out_dir / "works"
    if works_dir.exists():
        for old in sorted(works_dir.glob("updated_date=*/part_*.gz")):
            old.unlink()
        (works_dir / "manifest").unlink(missing_ok=True)
    works_dir.mkdir(parents=True, exist_ok=True)
    pools = load_pools(data_dir or default_data_dir())
    sampler = Sampler.from_pools(pools, params)
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    register_pools(con, pools)

    n_blocks = -(-n_authorships // block_slots)
    entries: list[dict[str, Any]] = []
    person_offset = work_offset = 0
    for b in range(n_blocks):
        n = min(block_slots, n_authorships - b * block_slots)
        rng = np.random.default_rng([seed, b])
        slots, works, n_persons = draw_block(
            n,
            person_offset=person_offset,
            work_offset=work_offset,
            sampler=sampler,
            params=params,
            rng=rng,
        )
        day = (FIRST_DATE + timedelta(days=b // PARTS_PER_DATE)).isoformat()
        path = works_dir / f"updated_date={day}" / f"part_{b % PARTS_PER_DATE:03d}.gz"
        n_works = write_part(con, slots, works, path, day)
        entries.append(
            {
                "url": str(path.relative_to(out_dir)),
                "meta": {"content_length": path.stat().st_size, "record_count": n_works},
            }
        )
        person_offset += n_persons
        work_offset += n_works
        if progress is not None:
            progress(f"block {b + 1}/{n_blocks}: {n:,} slots, {n_works:,} works")
    con.close()
    manifest = {
        "entries": entries,
        "meta": {
            "content_length": sum(e["meta"]["content_length"] for e in entries),
            "record_count": work_offset,
        },
    }
    (works_dir / "manifest").write_text(json.dumps(manifest, indent=1))
    report = SynthReport(
        out_dir=out_dir,
        n_authorships=n_authorships,
        n_works=work_offset,
        n_persons=person_offset,
        n_parts=len(entries),
        seconds=time.perf_counter() - t0,
        params={"seed": seed, "block_slots": block_slots, **asdict(params)},
    )
    info = {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(report).items()}
    (out_dir / META_FILE).write_text(json.dumps(info, indent=1))
    return report
