"""Export any store table to JSON Lines, CSV or Parquet (DuckDB's COPY, no Python row loops)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import IO

from talentflow.store import open_store

FORMATS = {".jsonl": "JSON", ".json": "JSON", ".csv": "CSV", ".parquet": "PARQUET"}
#: Working tables of the build that are not part of the public contract.
INTERNAL = {"raw_papers", "raw_authorships"}


class ExportError(ValueError):
    """Unknown table or output format."""


def export_table(
    db: str | Path, table: str, output: str, *, stdout: IO[bytes] | None = None
) -> int:
    """Write ``table`` of store ``db`` to ``output`` (``-``: JSON Lines on ``stdout``).

    Returns the number of rows written.
    """
    con = open_store(db)
    try:
        tables = sorted(con.list_tables())
        if table not in tables:
            public = ", ".join(t for t in tables if t not in INTERNAL)
            raise ExportError(f"no table {table!r} in {db}; tables: {public}")
        suffix = ".jsonl" if output == "-" else Path(output).suffix.lower()
        if suffix not in FORMATS:
            raise ExportError(
                f"cannot tell the format of {output!r}: use one of {', '.join(FORMATS)}"
            )
        options = f"FORMAT {FORMATS[suffix]}" + (", HEADER" if suffix == ".csv" else "")
        raw = con.con
        count = raw.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
        if output == "-":
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "out.jsonl"
                raw.execute(f"COPY \"{table}\" TO '{path}' ({options})")
                with path.open("rb") as handle:
                    assert stdout is not None
                    shutil.copyfileobj(handle, stdout)
                    stdout.flush()
        else:
            target = Path(output)
            target.parent.mkdir(parents=True, exist_ok=True)
            escaped = str(target).replace("'", "''")
            raw.execute(f"COPY \"{table}\" TO '{escaped}' ({options})")
        return int(count)
    finally:
        con.disconnect()
