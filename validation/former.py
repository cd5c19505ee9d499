"""The interval traction shipped before the validation battery: a model-based working-variance sandwich.

Var(engagement) = mu + kappa mu^2 / n_original + tau mu^2, kappa and tau fitted by weighted
moments. Right when the variance curve is right (the simulator's), wrong elsewhere: the battery
keeps it as the "model" candidate, and tests/test_validation.py shows the coverage check
failing on it under a mechanism it does not fit. Not part of ``helpers``.
"""

import numpy as np
from scipy import optimize


def working_variance_cov_of(y, X, offset, params, alpha):
    """Covariance of (intercept, elasticity) under the working variance around a fit's means."""
    mu = np.exp(X @ params[:X.shape[1]] + offset)
    exposure = np.exp(offset)
    score_weight = 1 / (1 + alpha * mu) if alpha else np.ones_like(mu)
    kappa, tau = working_variance(y, mu, exposure)
    return working_variance_cov(X, mu, mu + kappa * mu**2 / exposure + tau * mu**2, score_weight)


def working_variance(y, mu, exposure, *, iterations=5):
    """Moment estimates (kappa, tau) >= 0 of Var(y) = mu + kappa mu^2/exposure + tau mu^2.

    For an account's engagement summed over ``exposure`` original tweets, kappa
    is the per-tweet overdispersion (tweets independent given the account) and
    tau the between-account one (the NB2 term). They solve the regression of
    (y - mu)^2 - mu on (mu^2/exposure, mu^2), nonnegative, weighted by
    1/Var(y)^2 (iterated from Poisson weights): pooled over every account, so a
    handful of high-follower accounts cannot set them alone.
    """
    Q = np.column_stack([mu**2 / exposure, mu**2])
    u = (y - mu) ** 2 - mu
    theta = np.zeros(2)
    for _ in range(iterations):
        root_weight = 1 / (mu + Q @ theta)
        theta = optimize.nnls(Q * root_weight[:, None], u * root_weight)[0]
    return theta


def working_variance_cov(X, mu, variance, score_weight):
    """Sandwich covariance of the mean parameters under a working variance.

    Score of observation i: x_i (y_i - mu_i) score_weight_i (1 for Poisson,
    1 / (1 + alpha mu_i) for NB2 at fixed alpha); bread is its expected
    information X' diag(mu score_weight) X, meat X' diag(variance score_weight^2) X.
    Unlike HC0, whose meat uses each account's own squared residual, this does not
    shrink when the few accounts that carry a fit happen to sit close to it.
    """
    bread = np.linalg.inv(X.T @ (X * (mu * score_weight)[:, None]))
    meat = X.T @ (X * (variance * score_weight**2)[:, None])
    return bread @ meat @ bread
