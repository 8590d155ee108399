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
