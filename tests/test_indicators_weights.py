"""Portable bootstrap weights and the replicate map-reduce, on every engine."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pytest

from talentflow.indicators import bootstrap as bs
from talentflow.indicators.replicates import replicate_sums
from talentflow.indicators.weights import MAX_WEIGHT, weights, with_weights


def test_weights_are_poisson_one_and_independent():
    keys = np.arange(100_000)
    w = weights(keys[:, None], np.arange(1, 41)[None, :], 20261129).astype(float)
    assert abs(w.mean() - 1) < 0.01 and abs(w.var() - 1) < 0.02
    # Poisson(1) frequencies of 0, 1, 2, 3
    freq = np.bincount(w.astype(int).ravel(), minlength=MAX_WEIGHT + 1) / w.size
    assert np.allclose(freq[:4], [0.3679, 0.3679, 0.1839, 0.0613], atol=0.003)
    # neighbouring persons and replicates are uncorrelated
    assert abs(np.corrcoef(w[:-1, 0], w[1:, 0])[0, 1]) < 0.02
    assert abs(np.corrcoef(w[:, 0], w[:, 1])[0, 1]) < 0.02
    # sums over blocks of persons vary as sums of independent weights (variance = size)
    sums = w[:, :].reshape(100, 1000, 40).sum(axis=1)
    assert 0.85 < sums.var() / 1000 < 1.15
    # another seed draws other weights
    other = weights(keys[:1000], 1, 1)
    assert (other != w[:1000, 0]).mean() > 0.4


def test_weights_are_the_same_on_the_engine(con):
    keys = np.r_[np.arange(300), [2**31 - 2, 2**31 + 5, 10**10]]
    grid = pd.DataFrame(
        {"key": np.repeat(keys, 7), "r": np.tile(np.arange(1, 8), len(keys))}
    ).astype("int64")
    t = con.create_table("grid", grid)
    got = with_weights(t, "key", {"w": t.r, "w5": 5}, 20261129).to_pandas()
    got = got.sort_values(["key", "r"]).reset_index(drop=True)
    assert (got["w"].to_numpy() == weights(got["key"], got["r"], 20261129)).all()
    assert (got["w5"].to_numpy() == weights(got["key"], 5, 20261129)).all()
    assert got["w"].sum() > 0.8 * len(got)  # not all zero


def test_replicate_sums_on_the_engine_equal_the_driver_bootstrap(con):
    rng = np.random.default_rng(3)
    n = 400
    frame = pd.DataFrame(
        {
            "cell": rng.integers(0, 12, n),
            "key": rng.integers(0, 60, n) * 7 + 3,  # keys need not be 0..n-1
            "value": rng.random(n),
        }
    )
    t = con.create_table("contrib", frame)
    got = replicate_sums(t, 13, 30, seed=9, block=8)
    assert got.shape == (13, 30) and (got[12] == 0).all()  # cell 12 holds nothing
    # the driver's bootstrap with the same keys and seed
    persons, pidx = np.unique(frame["key"], return_inverse=True)
    m = bs.PersonSums(frame["cell"], pidx, 13, len(persons), frame["value"]).matrix()
    expected = m @ bs.Weights(persons, 30, seed=9).block(0, 30).astype(np.float64)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_replicate_sums_name_missing_columns():
    t = ibis.memtable({"cell": [0], "key": [1]})
    with pytest.raises(ValueError, match="value"):
        replicate_sums(t, 1, 2, seed=0)


def test_bootstrap_on_the_engine_gives_the_driver_intervals(con):
    from talentflow.engines import engine_of

    rng = np.random.default_rng(4)
    n = 300
    cell, pidx = rng.integers(0, 6, n), rng.integers(0, 40, n)
    value = rng.random(n)
    num = bs.PersonSums(cell, pidx, 6, 40, value)
    den = bs.PersonSums(cell, pidx, 6, 40)

    def spec() -> bs.Spec:
        return bs.Spec(
            {"num": num, "den": den},
            lambda s: {"ratio": bs.safe_div(s["num"], s["den"]), "den": s["den"]},
            ci=("ratio", "den"),
        )

    keys = np.arange(40) * 3 + 11
    driver = bs.run({"t": spec()}, 40, replicates=30, seed=5, weights=bs.Weights(keys, 30, 5))
    engine = engine_of(con)
    there = bs.run(
        {"t": spec()}, 40, replicates=30, seed=5, weights=bs.Weights(keys, 30, 5), engine=engine
    )
    for k in ("ratio", "den"):
        np.testing.assert_array_equal(driver["t"].point[k], there["t"].point[k])
        np.testing.assert_allclose(driver["t"].low[k], there["t"].low[k], rtol=1e-6)
        np.testing.assert_allclose(driver["t"].high[k], there["t"].high[k], rtol=1e-6)
    assert np.isfinite(there["t"].low["ratio"]).all()
    assert not [t for t in con.list_tables() if t.startswith("_ind_contrib_")]  # dropped


def test_fast_draw_equals_the_reference_hash():
    from talentflow.indicators.weights import M, draw

    # keys near and beyond the modulus, and more keys than one chunk
    keys = np.r_[np.arange(70), [M - 1, M, M + 1, 2 * M, 2**40 + 3, 2**62], np.arange(5000) * 977]
    reps = np.arange(1, 34)
    for seed in (0, 1, 20261129, 2**40):
        got = draw(keys, reps, seed, chunk=1000)
        assert got.dtype == np.int8
        assert (got == weights(keys[:, None], reps[None, :], seed)).all()


def _random_specs(rng: np.random.Generator, n_persons: int) -> dict[str, bs.Spec]:
    cell = rng.integers(0, 40, 3000)
    pidx = rng.integers(0, n_persons, 3000)
    counts = bs.PersonSums(cell, pidx, 40, n_persons)
    fractions = bs.PersonSums(cell, pidx, 40, n_persons, rng.random(3000))

    def ratio(s: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {"n": s["n"], "mean": bs.safe_div(s["f"], s["n"])}

    shared = bs.Spec({"n": counts, "f": fractions}, ratio, ("n", "mean"))
    alone = bs.Spec({"n": counts}, lambda s: {"n": s["n"]}, ("n",))
    return {"shared": shared, "alone": alone}


def test_threaded_blocks_give_the_bits_of_one_thread():
    rng = np.random.default_rng(11)
    specs = _random_specs(rng, 500)
    keys = rng.permutation(10_000)[:500]
    runs = [
        bs.run(
            specs,
            500,
            replicates=53,
            seed=4,
            block=block,
            threads=threads,
            weights=bs.Weights(keys, 53, 4),
        )
        for block, threads in ((53, 1), (10, 1), (10, 2), (7, 3))
    ]
    for name in specs:
        for got in runs[1:]:
            for k in runs[0][name].point:
                assert np.array_equal(got[name].point[k], runs[0][name].point[k], equal_nan=True)
                assert np.array_equal(got[name].low[k], runs[0][name].low[k], equal_nan=True)
                assert np.array_equal(got[name].high[k], runs[0][name].high[k], equal_nan=True)
    assert np.isfinite(runs[0]["shared"].low["mean"]).any()


def test_kept_sums_are_multiplied_once_and_give_the_same_bits(monkeypatch):
    rng = np.random.default_rng(12)
    cell, pidx = rng.integers(0, 30, 2000), rng.integers(0, 300, 2000)
    shared = bs.PersonSums(cell, pidx, 30, 300, keep=True)
    other = bs.PersonSums(cell[::2], pidx[::2], 30, 300)

    def specs() -> dict[str, bs.Spec]:
        def share(s: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
            return {"share": bs.safe_div(s["part"], s["world"])}

        return {"t": bs.Spec({"part": other, "world": shared}, share, ("share",))}

    weights = bs.Weights(np.arange(300) * 7, 31, 3)
    plain = bs.run(specs(), 300, replicates=31, seed=3, block=8, weights=weights)
    built: list[tuple[int, int]] = []
    matrix = bs.PersonSums.matrix

    def counted(self: bs.PersonSums, dtype: type = np.float64) -> object:
        built.append(self.shape)
        return matrix(self, dtype)

    monkeypatch.setattr(bs.PersonSums, "matrix", counted)
    kept = bs.KeptSums()
    runs = [
        bs.run(specs(), 300, replicates=31, seed=3, block=8, weights=weights, kept=kept)
        for _ in range(3)
    ]
    # the kept matrix is built (and multiplied) by the first run only
    assert len(built) == 4 and kept.get(shared, weights) is not None
    # other weights do not read sums kept under these
    assert kept.get(shared, bs.Weights(np.arange(300), 31, 3)) is None
    for got in runs:
        for k in plain["t"].point:
            assert np.array_equal(got["t"].low[k], plain["t"].low[k], equal_nan=True)
            assert np.array_equal(got["t"].high[k], plain["t"].high[k], equal_nan=True)
    assert np.isfinite(plain["t"].low["share"]).any()


def test_percentiles_by_row_chunks_equal_one_sort():
    rng = np.random.default_rng(5)
    mat = rng.random((1000, 40)).astype(np.float32)
    mat[rng.random(mat.shape) < 0.1] = np.nan
    mat[3] = np.nan  # a cell with no defined replicate
    whole = bs._row_percentiles(mat)
    chunked = bs._percentiles(mat, rows=64)
    for a, b in zip(whole, chunked, strict=True):
        assert np.array_equal(a, b, equal_nan=True)
    assert np.isnan(whole[0][3]) and np.isfinite(whole[0][4])


def test_sub_weights_slice_the_full_panels_draws():
    keys = np.arange(40) * 3 + 1
    full = bs.Weights(keys, 12, 8)
    at = np.array([0, 5, 7, 39])
    sub = full.of(at)
    assert (sub.block(0, 12) == full.block(0, 12)[at]).all()
    alone = bs.Weights(keys[at], 12, 8)
    assert (sub.block(3, 9) == alone.block(3, 9)).all()
