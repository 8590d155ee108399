"""Portable bootstrap weights: Poisson(1) draws from a hash of (person, replicate, seed).

The weight of person ``key`` in replicate ``r`` is a pure function of ``(key, r, seed)`` in
integer arithmetic that every engine computes alike on 64-bit integers (additions,
multiplications and remainders of non-negative numbers whose products stay below 2^62), so
DuckDB, Spark and NumPy give the same weights bit for bit, whatever the order or partitioning
of the rows. The engines' own ``hash()`` functions differ between engines and are not used.

The hash: the three inputs, each reduced modulo the prime ``M = 2^31 - 1``, are mixed
linearly, then :data:`ROUNDS` rounds of ``x -> (x * x + c) mod M`` (a quadratic map, so
weights of neighbouring persons or replicates are not on a lattice as a purely linear
generator's would be) each followed by a MINSTD step ``x -> (A * x) mod M``. The weight is
the Poisson(1) quantile of ``x / M``, found by comparing the integer ``x`` with integer
thresholds ``floor(F(k) * M)`` (no floating point, so no rounding that could differ between
engines). Weights above :data:`MAX_WEIGHT` are not drawn (probability 1e-9 per draw).

:func:`with_weights` adds them to an Ibis table; :func:`weights` is the NumPy mirror (tests
and the driver-side bootstrap of tables not yet on the engine use it).
"""

from __future__ import annotations

import math
from typing import Any

import ibis
import numpy as np

#: The modulus (a Mersenne prime): every state is below 2^31, so a product of two is below
#: 2^62 and fits a signed 64-bit integer.
M = 2**31 - 1
#: Multipliers of the linear mix (key, replicate, seed) and the MINSTD step.
P_KEY, P_REP, P_SEED = 1_103_515_245 % M, 1_664_525, 69_069
A = 48_271
#: Additive constants of the quadratic rounds.
C = (1_013_904_223, 362_436_069, 521_288_629)
ROUNDS = len(C)
#: Largest weight drawn.
MAX_WEIGHT = 12


def _thresholds() -> tuple[int, ...]:
    """``floor(F(k) * M)`` for k = 0..MAX_WEIGHT-1, F the Poisson(1) CDF: the weight is the
    number of thresholds at or below the state."""
    out, term, cdf = [], math.exp(-1.0), 0.0
    for k in range(MAX_WEIGHT):
        cdf += term
        term /= k + 1
        out.append(math.floor(cdf * M))
    return tuple(out)


THRESHOLDS = _thresholds()


def weights(key: Any, replicate: Any, seed: int) -> np.ndarray:
    """Poisson(1) weights (int64) of persons ``key`` in replicates ``replicate`` (broadcast).

    ``key`` and ``replicate`` are non-negative integers (arrays); the same inputs give the
    same weights as :func:`weight_expr` on any engine.
    """
    key = np.asarray(key, np.int64)
    replicate = np.asarray(replicate, np.int64)
    x = (key % M) * P_KEY % M + (replicate % M) * P_REP % M + (int(seed) % M) * P_SEED % M
    x = x % M
    for c in C:
        x = (x * x + c) % M
    return np.searchsorted(np.asarray(THRESHOLDS, np.int64), x, side="right").astype(np.int64)


def draw(keys: np.ndarray, replicates: np.ndarray, seed: int, chunk: int = 1 << 14) -> np.ndarray:
    """int8 weights of persons ``keys`` (rows) in ``replicates`` (columns): :func:`weights`
    on the outer product, bit for bit, several times faster.

    The remainders modulo the Mersenne prime ``M`` are taken by folding the high bits
    (``x mod M = (x & M) + (x >> 31)``, twice, then one subtraction) instead of integer
    division, in place, a chunk of persons at a time (the chunk stays in cache).
    """
    keys = np.asarray(keys, np.int64)
    reps = np.asarray(replicates, np.int64)
    per_key = (keys % M) * P_KEY % M
    per_rep = ((reps % M) * P_REP % M + (int(seed) % M) * P_SEED % M) % M
    thresholds = np.asarray(THRESHOLDS, np.int64)
    out = np.empty((len(keys), len(reps)), np.int8)
    for a in range(0, len(keys), chunk):
        x = per_key[a : a + chunk, None] + per_rep[None, :]  # below 2M: no overflow
        tmp = np.empty_like(x)
        _fold(x, tmp)
        for c in C:
            np.multiply(x, x, out=x)  # below 2^62
            x += c
            _fold(x, tmp)
        out[a : a + chunk] = np.searchsorted(thresholds, x, side="right")
    return out


def _fold(x: np.ndarray, tmp: np.ndarray) -> None:
    """``x %= M`` in place for ``0 <= x < 2^63`` (``tmp``: scratch of the same shape)."""
    for _ in range(2):
        np.right_shift(x, 31, out=tmp)
        np.bitwise_and(x, M, out=x)
        x += tmp
    x -= M * (x >= M)


def with_weights(table: Any, key: str, replicates: dict[str, Any], seed: int) -> Any:
    """``table`` plus one int8 weight column per entry of ``replicates`` (column name ->
    replicate number or integer expression) for the person in column ``key``.

    The hash is built in steps (one projection per round) so that the SQL never repeats a
    sub-expression: written as one nested expression, each quadratic round would double it.
    """
    k = table[key].cast("int64") % M * P_KEY % M + (int(seed) % M) * P_SEED % M
    tmp = {name: f"_x_{i}" for i, name in enumerate(replicates)}
    t = table.mutate(
        **{tmp[name]: (k + (_int64(r) % M) * P_REP % M) % M for name, r in replicates.items()}
    )
    for c in C:
        t = t.mutate(**{x: (t[x] * t[x] + c) % M for x in tmp.values()})
    out = {}
    for name, x in tmp.items():
        # the number of thresholds at or below x: the first k with x below threshold k (a
        # CASE stops at the first match, two comparisons on average instead of twelve)
        branches = [(t[x] < th, ibis.literal(k, "int8")) for k, th in enumerate(THRESHOLDS)]
        out[name] = ibis.cases(*branches, else_=ibis.literal(MAX_WEIGHT, "int8"))
    return t.mutate(**out).drop(*tmp.values())


def _int64(value: Any) -> Any:
    return (value if hasattr(value, "cast") else ibis.literal(int(value))).cast("int64")
