"""Two fixes to Ibis 12's PySpark SQL compiler, so string expressions mean what they mean on
DuckDB.

- ``strip``/``lstrip``/``rstrip`` compile to ``TRIM(' \\t\\n\\r\\v\\f' FROM x)``; Spark reads the
  unknown escapes ``\\v`` and ``\\f`` as the letters ``v`` and ``f`` and trims those too
  (``fujitsu`` -> ``ujitsu``, ``fr`` -> ``r``, an e-mail hash ending in ``f`` loses it).
- ``split(delimiter)`` compiles to Spark's ``split``, which reads the delimiter as a regular
  expression (``split(".")`` splits at every character).

Both made the identity stage's features, hence person ids, differ between engines. The fixes
replace the compiler's rules for these operations (the class is shared by every PySpark
backend in the process) and are idempotent; importing this module applies them.
"""

from __future__ import annotations

from typing import Any

import sqlglot.expressions as sge
from ibis.backends.sql.compilers.pyspark import PySparkCompiler

#: Java's ``\\s`` is Python's ``string.whitespace``: space, \\t, \\n, \\x0b, \\f, \\r.
_LEADING = r"^\s+"
_TRAILING = r"\s+$"


def _strip(pattern: str) -> Any:
    def visit(self: PySparkCompiler, op: Any, *, arg: sge.Expression) -> sge.Expression:
        return self.f.regexp_replace(arg, sge.convert(pattern), sge.convert(""))

    return visit


def _split(self: PySparkCompiler, op: Any, *, arg: sge.Expression, delimiter: Any) -> Any:
    # Quote the delimiter (\Q...\E) so Spark's regular expression matches it literally.
    quoted = self.f.concat(sge.convert(r"\Q"), delimiter, sge.convert(r"\E"))
    return self.f.split(arg, quoted)


def apply() -> None:
    """Install the fixed rules on :class:`PySparkCompiler` (safe to call more than once)."""
    PySparkCompiler.visit_Strip = _strip(f"{_LEADING}|{_TRAILING}")
    PySparkCompiler.visit_LStrip = _strip(_LEADING)
    PySparkCompiler.visit_RStrip = _strip(_TRAILING)
    PySparkCompiler.visit_StringSplit = _split


apply()
