"""Export any store table to JSON Lines, CSV or Parquet (DuckDB's COPY, no Python row loops),
read through :class:`talentflow.read.StoreReader`."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import IO

from talentflow.read import StoreReader

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
    with StoreReader(db) as reader:
        if not reader.has(table):
            public = ", ".join(t for t in sorted(reader.tables) if t not in INTERNAL)
            raise ExportError(f"no table {table!r} in {db}; tables: {public}")
        suffix = ".jsonl" if output == "-" else Path(output).suffix.lower()
        if suffix not in FORMATS:
            raise ExportError(
                f"cannot tell the format of {output!r}: use one of {', '.join(FORMATS)}"
            )
        options = f"FORMAT {FORMATS[suffix]}" + (", HEADER" if suffix == ".csv" else "")
        if output != "-":
            target = Path(output)
            target.parent.mkdir(parents=True, exist_ok=True)
            return reader.copy_to(table, target, options)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "out.jsonl"
            count = reader.copy_to(table, path, options)
            with path.open("rb") as handle:
                assert stdout is not None
                shutil.copyfileobj(handle, stdout)
                stdout.flush()
        return count
