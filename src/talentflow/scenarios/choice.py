"""Conditional (McFadden) logit for destination choice, fitted by penalised Newton.

Each observation (a move) chooses one alternative among those available to it; the utility of
alternative ``j`` is ``x_ij @ beta``. The design is sparse (alternative constants, destination x
period deviations, 0/1 ties), so it is held as a SciPy sparse matrix with one row per
(observation, alternative) pair and the likelihood, gradient and Hessian are computed exactly
with sparse products. It agrees with ``statsmodels.discrete.conditional_models.ConditionalLogit``
(see ``tests/test_scenarios_choice.py``) but runs in well under a second on tens of thousands of
moves, where the statsmodels implementation loops over groups in Python. A ridge penalty on a
chosen subset of coefficients (the year deviations of attractiveness) keeps sparse years
identified; the covariance is the inverse penalised Hessian.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp


@dataclass
class ChoiceFit:
    """Estimates of a conditional logit."""

    params: np.ndarray
    cov: np.ndarray
    loglike: float
    n_obs: int
    converged: bool


def _probs(X: sp.csr_matrix, beta: np.ndarray, avail: np.ndarray) -> np.ndarray:
    n, J = avail.shape
    v = np.asarray(X @ beta).reshape(n, J)
    v = np.where(avail, v, -np.inf)
    v -= v.max(axis=1, keepdims=True)
    e = np.exp(v)
    return e / e.sum(axis=1, keepdims=True)


def fit_conditional_logit(
    X: sp.csr_matrix,
    chosen: np.ndarray,
    avail: np.ndarray,
    *,
    penalty: np.ndarray | None = None,
    max_iter: int = 100,
    tol: float = 1e-8,
    clusters: np.ndarray | None = None,
    weights: np.ndarray | None = None,
    cluster_pairs: sp.spmatrix | None = None,
) -> ChoiceFit:
    """Maximise the (penalised) conditional-logit likelihood.

    Parameters
    ----------
    X
        Sparse design, shape ``(n * J, k)``: row ``i * J + j`` holds the features of
        alternative ``j`` for observation ``i`` (rows of unavailable alternatives are ignored).
    chosen
        Index of the chosen alternative per observation, shape ``(n,)``.
    avail
        Boolean availability, shape ``(n, J)``; the chosen alternative must be available.
    penalty
        Ridge precision per coefficient (``0`` = unpenalised), shape ``(k,)``.
    clusters
        Cluster id per observation (e.g. the person): the covariance is then the
        cluster-robust sandwich ``H^-1 (sum_g s_g s_g') H^-1`` instead of ``H^-1``.
    weights
        Observations per row (a row then stands for that many identical observations, e.g.
        moves counted per cell): the likelihood, gradient and Hessian are weighted sums.
    cluster_pairs
        With ``weights``: sparse ``(n, n)``, entry ``(a, b)`` the sum over clusters of (the
        cluster's observations in row ``a``) x (in row ``b``); the sandwich's middle is then
        ``S' N S`` for the per-row scores ``S``, equal to ``sum_g s_g s_g'`` per observation.
    """
    n, J = avail.shape
    k = X.shape[1]
    if clusters is not None and weights is not None:
        raise ValueError("clusters assume one observation per row: with weights use cluster_pairs")
    if not avail[np.arange(n), chosen].all():
        raise ValueError("a chosen alternative is not available")
    X = sp.csr_matrix(X)
    pen = np.zeros(k) if penalty is None else np.asarray(penalty, dtype=float)
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    y = np.zeros((n, J))
    y[np.arange(n), chosen] = 1.0
    xy = np.asarray(X.T @ (y * w[:, None]).ravel()).ravel()
    # Sums within each observation: A (n, n*J) aggregates rows of the long design.
    A = sp.csr_matrix(
        (np.ones(n * J), (np.repeat(np.arange(n), J), np.arange(n * J))), shape=(n, n * J)
    )

    def objective(beta: np.ndarray) -> tuple[float, np.ndarray]:
        q = _probs(X, beta, avail)
        with np.errstate(divide="ignore"):
            ll = float((w * np.log(q[np.arange(n), chosen])).sum())
        return ll - 0.5 * float(pen @ beta**2), q

    beta = np.zeros(k)
    obj, q = objective(beta)
    converged = False
    H = np.eye(k)
    for _ in range(max_iter):
        grad = xy - np.asarray(X.T @ (q * w[:, None]).ravel()).ravel() - pen * beta
        H = _hessian(X, A, q, w, pen)
        # Tiny ridge so constant-free columns (never varying) do not make H singular.
        step = np.linalg.solve(H + 1e-9 * np.eye(k), grad)
        t = 1.0
        while True:
            new = beta + t * step
            new_obj, new_q = objective(new)
            if new_obj >= obj - 1e-12 or t < 1e-6:
                break
            t /= 2
        beta, q = new, new_q
        gain = new_obj - obj
        obj = new_obj
        if abs(gain) < tol and np.max(np.abs(t * step)) < 1e-6:
            converged = True
            break
    H = _hessian(X, A, q, w, pen)
    cov = np.linalg.pinv(H)
    if cluster_pairs is not None:
        r = (y - q).ravel()
        scores = (A @ (sp.diags(r) @ X)).toarray()  # (n, k), one observation of each row
        cov = cov @ (scores.T @ (sp.csr_matrix(cluster_pairs) @ scores)) @ cov
    elif clusters is not None:
        # Per-observation scores, summed within clusters.
        r = (y - q).ravel()
        scores = A @ (sp.diags(r) @ X)  # (n, k)
        codes = np.unique(np.asarray(clusters), return_inverse=True)[1]
        G = sp.csr_matrix((np.ones(n), (codes, np.arange(n))), shape=(codes.max() + 1, n))
        Sg = (G @ scores).toarray()
        cov = cov @ (Sg.T @ Sg) @ cov
    return ChoiceFit(params=beta, cov=cov, loglike=obj, n_obs=n, converged=converged)


def _hessian(
    X: sp.csr_matrix, A: sp.csr_matrix, q: np.ndarray, w: np.ndarray, pen: np.ndarray
) -> np.ndarray:
    """Negative Hessian of the weighted log-likelihood plus the ridge precision."""
    Xq = sp.diags(q.ravel()) @ X
    Z = A @ Xq  # expected features per observation
    Xwq = sp.diags((q * w[:, None]).ravel()) @ X
    return (X.T @ Xwq).toarray() - (Z.T @ sp.diags(w) @ Z).toarray() + np.diag(pen)


def nearest_psd(cov: np.ndarray) -> np.ndarray:
    """Symmetrise and lift tiny negative eigenvalues so Cholesky works."""
    c = (cov + cov.T) / 2
    vals, vecs = np.linalg.eigh(c)
    vals = np.clip(vals, 1e-12, None)
    return (vecs * vals) @ vecs.T
