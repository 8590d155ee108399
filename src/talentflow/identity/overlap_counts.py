"""u counts of the array comparisons from an inverted index, not from every pair.

splink estimates u by evaluating each comparison on every pair of the sample (about a million
pairs). For an array comparison (levels: NULL, overlap of at least ``k`` for decreasing ``k``,
else) that means an array intersection per pair, and the co-author and topic comparisons were
most of the u estimate's time. Yet a pair's level only depends on how many elements the two
arrays share, and nearly all pairs share none: the pairs that share any are found by joining
the sample's (entity, element) rows on the element, and every other pair of two non-NULL
arrays is at the else level. The counts, hence the u values, are the same integers splink
counts (tested against splink's own estimate on both engines).

:func:`array_u_counts` hooks this into splink's estimate for the comparisons named, and
leaves every other comparison, the proportions and the bookkeeping to splink.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import ibis
import splink.internals.estimate_u as splink_estimate_u


def overlap_histogram(
    sample: ibis.Table, id_column: str, column: str
) -> tuple[int, dict[int, int]]:
    """``(n, {shared: pairs})``: ``n`` rows of ``sample`` with a non-NULL ``column``, and for
    each number of distinct shared elements (1 or more), how many pairs of those rows (two
    distinct ids, each pair once) share exactly that many. The other pairs share none.

    Elements that are NULL are not counted (as splink's intersection on DuckDB does not).
    """
    s = sample.filter(sample[column].notnull())
    n = int(s.count().execute())
    u = s.select(i=s[id_column], w=s[column].unnest())
    u = u.filter(u.w.notnull()).distinct()
    v = u.select(j=u.i, w2=u.w)
    pairs = u.join(v, (u.w == v.w2) & (u.i < v.j))
    shared = pairs.group_by(["i", "j"]).aggregate(k=pairs.w.count())
    hist = shared.group_by("k").aggregate(pairs=shared.count()).to_pyarrow().to_pylist()
    return n, {int(r["k"]): int(r["pairs"]) for r in hist}


def level_counts(n: int, histogram: dict[int, int], sizes: list[int]) -> list[int]:
    """Pairs of ``n`` non-NULL arrays per level: overlap ``>= sizes[0]``, ``>= sizes[1]``, ...
    (the first level a pair reaches), then the else level (the rest).

    Examples
    --------
    >>> level_counts(4, {1: 2, 3: 1}, [2, 1])
    [1, 2, 3]
    """
    counts = [0] * (len(sizes) + 1)
    for shared, pairs in histogram.items():
        level = next((i for i, size in enumerate(sizes) if shared >= size), len(sizes))
        counts[level] += pairs
    counts[-1] += n * (n - 1) // 2 - sum(histogram.values())
    return counts


def _overlap_levels(levels: list[Any], column: str, sizes: list[int]) -> bool:
    """Are ``levels`` (a comparison's, NULL level excluded) overlap levels of ``column`` of
    these ``sizes``, then an else level?"""
    if len(levels) != len(sizes) + 1 or not levels[-1]._is_else_level:
        return False
    return all(
        f"{column}_l" in level.sql_condition and level.sql_condition.endswith(f">= {size}")
        for level, size in zip(levels, sizes, strict=False)
    )


def _has_null_elements(sample: ibis.Table, column: str) -> bool:
    arr = sample[column]
    nulls = arr.filter(lambda x: x.isnull()).length().fill_null(0)
    return bool(sample.filter(nulls > 0).count().execute())


@contextmanager
def array_u_counts(con: Any, arrays: dict[str, tuple[str, list[int]]]) -> Iterator[None]:
    """Inside the block, splink's u estimate counts the comparisons of ``arrays`` here.

    ``arrays`` maps a comparison's output column name to ``(column, sizes)``: the array column
    and the overlap sizes of its levels, in the comparison's order, between its NULL level
    and its else level (see ``model.array_comparison``). Only a sample read whole (one chunk,
    no early stop) is counted here; a sample whose arrays hold a NULL element is left to splink.
    """
    original = splink_estimate_u._accumulate_u_counts_from_chunk_and_check_min_count

    def counted(**kw: Any) -> bool:
        comparison = kw["comparison"]
        spec = arrays.get(comparison.output_column_name)
        whole = kw["rhs_num_chunks"] == 1 and kw["min_count_per_level"] is None
        if spec is None or not whole or kw.get("probe_percent_of_max_pairs") is not None:
            return original(**kw)
        column, sizes = spec
        sample = con.table(kw["df_sample"].physical_name)
        id_column = kw["unique_id_input_column"].unquote().name
        levels = comparison._comparison_levels_excluding_null
        if not _overlap_levels(levels, column, sizes) or _has_null_elements(sample, column):
            return original(**kw)
        n, histogram = overlap_histogram(sample, id_column, column)
        counts = level_counts(n, histogram, sizes)
        kw["counts_accumulator"].update_from_chunk_counts(
            [
                {
                    "comparison_vector_value": level.comparison_vector_value,
                    "u_count": float(count),
                    "m_count": 0.0,
                    "output_column_name": comparison.output_column_name,
                }
                for level, count in zip(levels, counts, strict=True)
            ]
        )
        return False

    splink_estimate_u._accumulate_u_counts_from_chunk_and_check_min_count = counted
    try:
        yield
    finally:
        splink_estimate_u._accumulate_u_counts_from_chunk_and_check_min_count = original
