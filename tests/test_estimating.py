"""helpers.stats.estimating: the elasticity's estimating equation against statsmodels and brute force."""

import warnings

import numpy as np
import pytest
import statsmodels.api as sm
from statsmodels.discrete.discrete_model import NegativeBinomial

from helpers.stats import estimating
from helpers.stats.estimating import Equation
from helpers.stats.resampling import resample_weights


def data(seed, n=400, elasticity=0.6):
    rng = np.random.default_rng(seed)
    followers = np.where(rng.random(n) < 0.4, 0, np.floor(np.exp(rng.normal(2, 2, n))))
    tweets = rng.geometric(0.15, n).astype(float)
    mu = tweets * 0.3 * (1 + followers) ** elasticity * rng.gamma(1.0, 1.0, n)
    y = rng.poisson(mu).astype(float)
    X = np.column_stack([np.ones(n), np.log1p(followers)])
    return y, X, np.log(tweets)


@pytest.fixture(scope="module")
def nb():
    y, X, offset = data(1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = NegativeBinomial(y, X, loglike_method="nb2", offset=offset).fit(disp=0, maxiter=200)
    return Equation(y, X, offset, float(result.params[-1])), np.asarray(result.params[:2])


@pytest.fixture(scope="module")
def ppml():
    y, X, offset = data(1)
    result = sm.GLM(y, X, family=sm.families.Poisson(), offset=offset).fit(cov_type="HC0")
    return Equation(y, X, offset), result


def test_solve_finds_statsmodels_estimates(nb, ppml):
    eq, beta = nb
    solved = eq.solve(beta + [0.5, -0.2])
    np.testing.assert_allclose(solved, beta, atol=1e-5)  # statsmodels stops at a gradient of about 1e-6
    assert np.abs(eq.scores(solved).sum(axis=0)).max() < 1e-8
    eq, result = ppml
    np.testing.assert_allclose(eq.solve([0.0, 0.0]), result.params, atol=1e-7)
    assert np.abs(eq.scores(result.params).sum(axis=0)).max() < 1e-6


def test_hc0_is_statsmodels_hc0_for_ppml(ppml):
    eq, result = ppml
    np.testing.assert_allclose(eq.sandwich(result.params, "HC0"), result.cov_params(), rtol=1e-6)


def test_hc_corrections_grow_with_leverage_and_hats_sum_to_k(nb):
    eq, beta = nb
    assert eq.hat(beta).sum() == pytest.approx(2.0)
    var = [eq.sandwich(beta, kind)[1, 1] for kind in ("HC0", "HC2", "HC3")]
    assert var[0] < var[1] < var[2]
    assert eq.sandwich(beta, "HC1")[1, 1] == pytest.approx(var[0] * 400 / 398)


def test_weighted_crossproducts_are_each_rows_x_transpose_v_x():
    rng = np.random.default_rng(3)
    X, V = rng.normal(size=(50, 4)), rng.random((3, 50))
    expected = np.stack([X.T @ np.diag(v) @ X for v in V])
    np.testing.assert_allclose(estimating._weighted_crossproducts(X, V), expected, rtol=1e-12)


def test_weighted_solve_is_a_refit_on_the_resampled_accounts(nb):
    eq, beta = nb
    weights = next(resample_weights(len(eq.y), 3, seed=2))
    fast = eq.solve(beta, weights)
    for row, w in zip(fast, weights):
        drawn = np.repeat(np.arange(len(eq.y)), w.astype(np.int64))
        refit = Equation(eq.y[drawn], eq.X[drawn], eq.offset[drawn], eq.alpha).solve(beta)
        np.testing.assert_allclose(row, refit, atol=1e-6)


def test_jackknife_leaves_each_account_out(nb):
    eq, beta = nb
    left_out = eq.jackknife(beta, chunk=150)
    for i in (0, 57, 399):
        keep = np.arange(len(eq.y)) != i
        refit = Equation(eq.y[keep], eq.X[keep], eq.offset[keep], eq.alpha).solve(beta)
        np.testing.assert_allclose(left_out[i], refit, atol=1e-6)


def test_bell_mccaffrey_df_matches_the_n_by_n_formula(nb):
    eq, beta = nb
    v = eq.weight(beta)
    Z = eq.X * np.sqrt(v)[:, None]
    H = Z @ np.linalg.inv(Z.T @ Z) @ Z.T
    a = (Z @ np.linalg.inv(Z.T @ Z))[:, 1]
    D = np.diag(a**2 / (1 - np.diag(H)))
    Q = (np.eye(len(v)) - H) @ D @ (np.eye(len(v)) - H)
    assert eq.bell_mccaffrey_df(beta) == pytest.approx(np.trace(Q) ** 2 / np.trace(Q @ Q), rel=1e-8)


def test_restricted_fit_solves_the_intercept_equation_at_a_fixed_slope(nb):
    eq, beta = nb
    beta = eq.solve(beta)
    restricted = eq.restricted([beta[1], 0.0, 1.2])
    np.testing.assert_allclose(restricted[0], beta, atol=1e-6)  # at the estimate: the full solution
    M, g = eq.means(restricted)
    assert np.abs(((eq.y - M) * g).sum(axis=1)).max() < 1e-6


def test_wild_score_interval_ends_are_where_the_test_starts_to_reject(nb):
    eq, beta = nb
    low, high, p_zero = eq.wild_score_interval(beta, n_boot=499, seed=3)
    assert low < beta[1] < high and p_zero < 0.01
    signs = np.random.default_rng(3).choice([-1.0, 1.0], size=(499, len(eq.y)))
    p = eq.wild_p_values([low - 0.01, low + 0.01, high - 0.01, high + 0.01], signs)
    assert p[0] <= 0.05 < p[1] and p[2] > 0.05 >= p[3]
    hc3 = 2 * 1.96 * np.sqrt(eq.sandwich(beta, "HC3")[1, 1])
    assert 0.5 < (high - low) / hc3 < 2


def test_top_share_counts_at_least_one_account():
    assert estimating.top_share([5.0, 1, 1, 1]) == pytest.approx(5 / 8)
    assert estimating.top_share(np.ones(300)) == pytest.approx(3 / 300)


def dense_cr2_bm(Z, r, clusters, j=1):
    """CR2 and its Bell-McCaffrey df from n x n matrices and scipy's matrix square root (no low-rank shortcut)."""
    from scipy.linalg import sqrtm
    n = len(r)
    B = np.linalg.inv(Z.T @ Z)
    H = Z @ B @ Z.T
    meat = np.zeros((Z.shape[1], Z.shape[1]))
    P = []  # each cluster's p_g padded to n
    for label in np.unique(clusters):
        rows = np.flatnonzero(clusters == label)
        A = np.real(sqrtm(np.linalg.inv(np.eye(len(rows)) - H[np.ix_(rows, rows)])))
        u = Z[rows].T @ A @ r[rows]
        meat += np.outer(u, u)
        padded = np.zeros(n)
        padded[rows] = A @ Z[rows] @ B[:, j]
        P.append(padded)
    P = np.array(P)
    omega = P @ (np.eye(n) - H) @ P.T
    return B @ meat @ B, np.trace(omega) ** 2 / np.sum(omega**2)


def test_cr2_is_hc2_with_bell_mccaffrey_df_when_each_account_is_its_own_cluster(nb):
    eq, beta = nb
    beta = eq.solve(beta)
    cov, df = eq.cr2(beta, np.arange(len(eq.y)))
    np.testing.assert_allclose(cov, eq.sandwich(beta, "HC2"), rtol=1e-9)
    assert df == pytest.approx(eq.bell_mccaffrey_df(beta), rel=1e-9)


def test_cr2_of_ols_with_singleton_clusters_is_statsmodels_hc2():
    rng = np.random.default_rng(4)
    X = np.column_stack([np.ones(60), rng.normal(size=60)])
    y = X @ [1.0, 0.5] + rng.normal(size=60) * (1 + np.abs(X[:, 1]))
    ols = sm.OLS(y, X).fit(cov_type="HC2")
    cov, _ = estimating.cr2_bm(X, ols.resid, np.arange(60))
    np.testing.assert_allclose(cov, ols.cov_params(), rtol=1e-9)


def test_cr2_and_its_df_match_the_n_by_n_computation_for_ols_and_for_the_nb_equation(nb):
    rng = np.random.default_rng(5)
    n = 90
    clusters = rng.integers(0, 14, n)  # unequal clusters
    X = np.column_stack([np.ones(n), rng.normal(size=n) + 0.3 * clusters])
    y = X @ [1.0, 0.5] + rng.normal(size=14)[clusters] + rng.normal(size=n)
    resid = sm.OLS(y, X).fit().resid
    cov, df = estimating.cr2_bm(X, resid, clusters)
    dense_cov, dense_df = dense_cr2_bm(X, resid, clusters)
    np.testing.assert_allclose(cov, dense_cov, rtol=1e-9)
    assert df == pytest.approx(dense_df, rel=1e-9) and 1 < df < 13
    eq, beta = nb
    beta = eq.solve(beta)
    days = np.random.default_rng(6).integers(0, 40, len(eq.y))
    cov, df = eq.cr2(beta, days)
    Z, r = eq.working_regression(beta)
    np.testing.assert_allclose(Z * r[:, None], eq.scores(beta), rtol=1e-10)  # the scores are z_i r_i
    dense_cov, dense_df = dense_cr2_bm(Z, r, days)
    np.testing.assert_allclose(cov, dense_cov, rtol=1e-8)
    assert df == pytest.approx(dense_df, rel=1e-8)
    # coordination groups: a few clusters of several accounts, every other account alone (HC2's closed form)
    groups = np.where(np.arange(len(eq.y)) % 3 == 0, np.arange(len(eq.y)) % 7, 100 + np.arange(len(eq.y)))
    cov, df = eq.cr2(beta, groups)
    dense_cov, dense_df = dense_cr2_bm(Z, r, groups)
    np.testing.assert_allclose(cov, dense_cov, rtol=1e-8)
    assert df == pytest.approx(dense_df, rel=1e-8)


def test_within_cluster_correlation_is_the_mean_product_over_pairs_and_its_z_is_standard_under_independence():
    rng = np.random.default_rng(8)
    clusters = rng.integers(0, 30, 200)
    r = rng.normal(size=200) + 0.8 * rng.normal(size=30)[clusters]
    e = (r - r.mean()) / r.std()
    pairs = [(i, j) for i in range(200) for j in range(200) if i != j and clusters[i] == clusters[j]]
    products = [e[i] * e[j] for i, j in pairs]
    rho, z = estimating.within_cluster_correlation(r, clusters)
    assert rho == pytest.approx(np.mean(products), rel=1e-10)
    # its standard error under independence, from the residuals: sqrt(2 sum over ordered pairs of e_i^2 e_j^2)
    se = np.sqrt(2 * sum(e[i] ** 2 * e[j] ** 2 for i, j in pairs))
    assert z == pytest.approx(np.sum(products) / se, rel=1e-10) and rho > 0.2
    # independent residuals: z about standard normal (400 draws; 5% two-sided in 2-9% of them)
    draws = np.array([estimating.within_cluster_correlation(rng.standard_t(4, 300), rng.integers(0, 60, 300))[1]
                      for _ in range(400)])
    assert abs(draws.mean()) < 0.2 and 0.8 < draws.std() < 1.2 and 0.02 <= np.mean(np.abs(draws) > 1.96) <= 0.09
    assert np.isnan(estimating.within_cluster_correlation(r, np.arange(200))).all()


def test_cr2_df_of_a_mean_over_balanced_clusters_is_clusters_minus_one():
    # intercept only, 12 clusters of 5: Omega = m c^2 (I - J / G), so (tr Omega)^2 / tr(Omega^2) = G - 1 exactly
    rng = np.random.default_rng(7)
    y = rng.normal(size=60)
    cov, df = estimating.cr2_bm(np.ones((60, 1)), y - y.mean(), np.repeat(np.arange(12), 5), j=0)
    assert df == pytest.approx(11.0, rel=1e-12)
    # and CR2 of a mean over balanced clusters is the between-cluster variance of the cluster means / G
    means = y.reshape(12, 5).mean(axis=1)
    assert cov[0, 0] == pytest.approx(means.var(ddof=1) / 12, rel=1e-12)
