"""The sparse conditional logit agrees with statsmodels' ConditionalLogit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from statsmodels.discrete.conditional_models import ConditionalLogit

from talentflow.scenarios.choice import fit_conditional_logit


def _data(n: int = 400, J: int = 4, seed: int = 0):
    rng = np.random.default_rng(seed)
    beta = np.array([0.5, -0.3, 0.2, 1.2])  # 3 constants (alt 0 is the reference) + a tie
    tie = rng.random((n, J)) < 0.3
    avail = np.ones((n, J), dtype=bool)
    avail[np.arange(n), rng.integers(0, J, n)] = False  # one unavailable alternative each
    X = np.zeros((n, J, 4))
    for j in range(1, J):
        X[:, j, j - 1] = 1.0
    X[:, :, 3] = tie
    u = X @ beta + rng.gumbel(size=(n, J))
    u[~avail] = -np.inf
    chosen = u.argmax(axis=1)
    return X, chosen, avail


def test_matches_statsmodels_conditional_logit():
    X, chosen, avail = _data()
    n, J, k = X.shape
    ours = fit_conditional_logit(sp.csr_matrix(X.reshape(n * J, k)), chosen, avail)
    assert ours.converged
    # statsmodels: long format with only the available alternatives, grouped by observation
    i, j = np.nonzero(avail)
    long = pd.DataFrame(X[i, j], columns=[f"x{c}" for c in range(k)])
    y = (chosen[i] == j).astype(float)
    res = ConditionalLogit(y, long.to_numpy(), groups=i).fit(disp=False)
    np.testing.assert_allclose(ours.params, res.params, atol=1e-4)
    np.testing.assert_allclose(np.sqrt(np.diag(ours.cov)), res.bse, rtol=1e-3)


def test_penalty_shrinks_and_cluster_covariance_is_wider_for_duplicated_people():
    X, chosen, avail = _data(seed=3)
    n, J, k = X.shape
    Xs = sp.csr_matrix(X.reshape(n * J, k))
    free = fit_conditional_logit(Xs, chosen, avail)
    pen = fit_conditional_logit(Xs, chosen, avail, penalty=np.full(k, 100.0))
    assert np.all(np.abs(pen.params) < np.abs(free.params))
    # Every choice made twice by the same person: naive SEs shrink by sqrt(2), clustered do not.
    X2 = sp.vstack([Xs, Xs]).tocsr()
    twice = fit_conditional_logit(
        X2,
        np.concatenate([chosen, chosen]),
        np.vstack([avail, avail]),
        clusters=np.concatenate([np.arange(n), np.arange(n)]),
    )
    np.testing.assert_allclose(twice.params, free.params, atol=1e-6)
    np.testing.assert_allclose(np.diag(twice.cov), np.diag(free.cov), rtol=0.35)


def test_unavailable_choice_is_an_error():
    X, chosen, avail = _data(n=20)
    n, J, k = X.shape
    avail[0, chosen[0]] = False
    try:
        fit_conditional_logit(sp.csr_matrix(X.reshape(n * J, k)), chosen, avail)
    except ValueError as exc:
        assert "not available" in str(exc)
    else:
        raise AssertionError("expected a ValueError")
