"""A creation day whose accounts alone determine the slope (every other day's accounts share one follower
count) makes that day's H_gg singular (1 - s^2 = 0). Found by review 27: cr2_bm clamped 1 - s^2 at 1e-12, so
the day's p_g was multiplied by 1e6, the Satterthwaite df collapsed to ~1e-11 or NaN and the t interval was
+-1e145 or NaN, which _with_batches put into a converged entry. These tests failed at commit c82fddf."""

import warnings

import numpy as np
import pytest
import statsmodels.api as sm
from scipy.linalg import eigh

from helpers.stats import estimating, models


def one_day_holds_the_slope(seed):
    rng = np.random.default_rng(seed)
    n = 400
    day = np.where(np.arange(n) < 12, 0, 1 + np.arange(n) % 40)  # 41 days; only day 0 has followers
    followers = np.where(day == 0, rng.integers(10, 5000, n), 0)
    X = np.column_stack([np.ones(n), np.log1p(followers)])
    offset = np.log(rng.integers(1, 20, n))
    y = rng.poisson(np.exp(offset + 0.2 + 0.1 * X[:, 1])).astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = sm.GLM(y, X, family=sm.families.Poisson(), offset=offset).fit().params
    eq = estimating.Equation(y, X, offset)
    return eq, eq.solve(np.asarray(start)), day






@pytest.mark.parametrize("seed", [3, 4])  # 3: df 9e-12, interval +-4.8e145; 4: df NaN, interval NaN
def test_a_clustered_interval_that_cannot_be_used_never_replaces_the_entrys(seed):
    eq, beta, day = one_day_holds_the_slope(seed)
    account = estimating.hc3_bm_interval(eq, beta)
    entry = {"converged": True, "ci_low": account.low, "ci_high": account.high, "p_value": account.p_value,
             "warnings": []}
    out = models._with_batches(entry, eq, beta, {"batches": day, "groups": None})
    if out["converged"]:
        assert np.isfinite([out["ci_low"], out["ci_high"], out["p_value"]]).all()
        assert models.unusable(eq, beta, out["ci_low"], out["ci_high"]) is None



def test_cr2_df_with_a_singular_block_is_the_pseudo_inverse_one():
    """clubSandwich's matrix_power drops eigenvalues under 1e-12 (a pseudo-inverse square root); the df from dense
    n x n algebra with that convention is finite (about 26 here), where cr2_bm's is NaN."""
    rng = np.random.default_rng(1)
    n = 80
    x = np.where(np.arange(n) < 8, rng.normal(size=n), 0.0)
    X = np.column_stack([np.ones(n), x])
    clusters = np.where(np.arange(n) < 8, 0, 1 + np.arange(n) % 30)
    r = sm.OLS(X @ [1, .5] + rng.normal(size=n), X).fit().resid
    B = np.linalg.inv(X.T @ X)
    H = X @ B @ X.T
    M = np.zeros((n, n))
    for label in np.unique(clusters):
        g = np.flatnonzero(clusters == label)
        values, vectors = eigh(np.eye(len(g)) - H[np.ix_(g, g)])
        A = vectors @ np.diag(np.where(values > 1e-12, 1 / np.sqrt(np.clip(values, 1e-300, None)), 0)) @ vectors.T
        q = (np.eye(n) - H)[g, :].T @ (A @ X[g] @ B[:, 1])
        M += np.outer(q, q)
    dense_df = np.trace(M) ** 2 / np.trace(M @ M)
    _, df = estimating.cr2_bm(X, r, clusters)
    assert df == pytest.approx(dense_df, rel=1e-6)
