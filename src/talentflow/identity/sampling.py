"""Engine-independent pieces of training: a hash-chosen sample and rounded parameters.

splink samples rows for its u estimates with the engine's own hash (DuckDB's ``hash`` and
Spark's Murmur3 pick different rows), and EM sums floats in an order each engine chooses. Both
made the same input train a slightly different model on DuckDB and on Spark, and the last
digits of a weight can move a pair across a threshold or reorder two candidates. Here the
sample is chosen by the MD5 of the entity id, which every engine computes alike, and the
trained probabilities are rounded to :data:`SIGNIFICANT_DIGITS` before they are used.
"""

from __future__ import annotations

import math
from typing import Any

import ibis

#: Digits kept of each trained m/u probability (EM agrees to ~15 across engines).
SIGNIFICANT_DIGITS = 9
#: Decimal places kept of the match weights and probabilities decisions compare.
SCORE_DECIMALS = 10
#: Leading hex digits of the MD5 used to draw the sample (a 32-bit bucket).
_HEX = 8


def rows_for_pairs(max_pairs: float) -> float:
    """Rows whose all-pairs count is ``max_pairs`` (``r (r - 1) / 2 = max_pairs``)."""
    return 0.5 * (math.sqrt(8 * max_pairs + 1) + 1)


def hash_pick(ids: ibis.Value, n_rows: float, n_total: int, seed: int) -> ibis.Value:
    """Boolean: is this id among about ``n_rows`` of ``n_total``, chosen by the MD5 of
    ``id || '_' || seed``? True for every id when ``n_rows`` reaches ``n_total``.

    A row's membership depends only on its id, the seed and the two counts, so the same ids
    are picked on every engine and every run, and from any table that holds them.
    """
    if n_total == 0 or n_rows >= n_total:
        return ibis.literal(True)
    buckets = 16**_HEX
    threshold = max(1, round(n_rows / n_total * buckets))
    key = (ids.cast("string") + ibis.literal(f"_{seed}")).hexdigest("md5")
    # Fixed-width lower-case hex compares as text exactly as the numbers compare.
    return key.substr(0, _HEX) < ibis.literal(f"{threshold:0{_HEX}x}")


def hash_sample(
    table: ibis.Table, id_column: str, n_rows: float, seed: int, n_total: int | None = None
) -> ibis.Table:
    """About ``n_rows`` rows of ``table``, chosen by :func:`hash_pick` (all rows when
    ``n_rows`` reaches the table's size).

    ``n_total`` is the size of the set the sample is drawn from, when ``table`` holds only
    part of it (the rows of that part the full draw would pick); by default, ``table``'s size.
    """
    if n_total is None:
        n_total = int(table.count().execute())
    return table.filter(hash_pick(table[id_column], n_rows, n_total, seed))


def round_model(model: dict[str, Any], digits: int = SIGNIFICANT_DIGITS) -> dict[str, Any]:
    """A splink model (``save_model_to_json``) with every m and u rounded to ``digits``."""

    def rounded(value: Any) -> Any:
        return float(f"{value:.{digits}g}") if isinstance(value, float) else value

    out = {**model, "comparisons": []}
    for comparison in model["comparisons"]:
        levels = [
            {
                **level,
                **{k: rounded(level[k]) for k in ("m_probability", "u_probability") if k in level},
            }
            for level in comparison["comparison_levels"]
        ]
        out["comparisons"].append({**comparison, "comparison_levels": levels})
    return out


def round_scores(pairs: ibis.Table, decimals: int = SCORE_DECIMALS) -> ibis.Table:
    """Scored pairs with weights and probabilities rounded, so that thresholds, margins and
    orderings see the same numbers on every engine (ties then break on the ids)."""
    cols = [
        c
        for c in pairs.columns
        if c in ("match_weight", "match_probability") or c.startswith(("mw_", "bf_"))
    ]
    return pairs.mutate(**{c: pairs[c].cast("float64").round(decimals) for c in cols})
