"""How a value reads in a table cell (pages and the report share it)."""

from __future__ import annotations

from typing import Any

from talentflow.web.charts import clean


def cell(value: Any, column: str = "") -> str:
    """A table cell: numbers readable, missing values as n/a; years (a ``column`` ending in
    ``year``) as plain integers (2021, not 2,021)."""
    value = clean(value)
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if column.endswith("year") and isinstance(value, int | float) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, float):
        if value.is_integer() and abs(value) >= 1:
            return f"{value:,.0f}"
        if abs(value) < 1:
            return f"{value:.3f}"
        return f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 10000 else str(value)
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    return str(value)
