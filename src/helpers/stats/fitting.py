"""Checked maximum-likelihood fits for the count models of ``helpers.models``.

statsmodels' default settings diverge on heavy-tailed engagement counts (its
NB starts from a Poisson fit that overflows; Newton can report "converged" on
NaN). Each fitter here starts from the Poisson quasi-ML solution and a moment
estimate of the dispersion, tries a list of optimisers in turn, and accepts a
result only when it passes :func:`problem`. statsmodels' warnings are captured
and returned as text, never printed.
"""

import gc
import warnings
from collections import Counter
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np
import statsmodels.api as sm
from scipy.optimize import linprog
from statsmodels.discrete.discrete_model import Logit, NegativeBinomial
from statsmodels.discrete.truncated_model import TruncatedLFNegativeBinomialP
from statsmodels.regression.quantile_regression import QuantReg

from helpers.stats.estimating import Equation

# Above this the NB2 dispersion is numerically a divergence, not an estimate.
MAX_ALPHA = 1e4
# Largest mean score (log-likelihood gradient per observation) accepted at a solution.
MAX_GRADIENT = 1e-4
# A quantile sits on a mass point when, in some follower band of at least MIN_BAND
# observations, the value at that quantile is shared by at least MASS_SHARE of them:
# there the outcome has no density and the quantile regression's interval no meaning.
MASS_SHARE = 0.05
MIN_BAND = 20


@dataclass
class Fit:
    """One model's outcome: the statsmodels result if it passed the checks."""

    result: object = None
    converged: bool = False
    warnings: list = field(default_factory=list)
    n: int = 0
    cov: object = None  # covariance of the mean parameters when not the result's own


def problem(result, *, has_alpha=False, has_llf=True):
    """Why ``result`` cannot be trusted, or None when it passes every check."""
    retvals = getattr(result, "mle_retvals", None)
    if retvals is not None and not retvals.get("converged", False):
        return "optimiser did not converge"
    if getattr(result, "converged", True) is False:
        return "IRLS did not converge"
    params = np.asarray(result.params, dtype=float)
    if not np.all(np.isfinite(params)):
        return "non-finite parameter estimates"
    if has_llf and not np.isfinite(result.llf):
        return "non-finite log-likelihood"
    cov = np.asarray(result.cov_params(), dtype=float)
    if not np.all(np.isfinite(cov)):
        return "non-finite standard errors (Hessian not invertible)"
    if np.linalg.eigvalsh((cov + cov.T) / 2).min() <= 0:
        return "covariance matrix not positive definite"
    if has_alpha and not 0 < params[-1] < MAX_ALPHA:
        return f"dispersion alpha = {params[-1]:.3g} outside (0, {MAX_ALPHA:g})"
    if retvals is not None:  # Nelder-Mead stops on simplex size, not on a zero gradient
        gradient = np.abs(result.model.score(params)).max() / result.nobs
        if not gradient < MAX_GRADIENT:
            return f"not a maximum: mean score {gradient:.2g} at the solution"
    return None


def _released(result):
    """``result`` without statsmodels' per-observation arrays (``remove_data``), its log-likelihood, standard
    errors and covariance read first, which is all traction reads of an accepted fit: at 2.3M accounts a
    GLM result held 0.65 GB."""
    result.llf, result.bse, result.cov_params()  # cached before the data go
    result.remove_data()
    return result


def _collected(fit):
    """``fit``, after a garbage collection: statsmodels' models and results refer to each other, so the
    per-row arrays of a fit's intermediate results outlive it until the cyclic collector runs, which
    counts objects, not bytes (at 2.3M accounts the PPML fit left 0.96 GB behind)."""
    gc.collect()
    return fit


def _captured_text(caught):
    counts = Counter(f"{w.category.__name__}: {w.message}" for w in caught)
    return [text if k == 1 else f"{text} (x{k})" for text, k in counts.items()]


def _fit_in_turn(model, attempts, fit_kwds, *, has_alpha=False, n=0):
    """Try ``(method, maxiter, start)`` attempts in order; keep the first that passes."""
    notes = []
    for method, maxiter, start in attempts:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                start = start() if callable(start) else start  # computed only when reached
                result = model.fit(
                    start_params=start, method=method, maxiter=maxiter, disp=0, **fit_kwds
                )
                why = problem(result, has_alpha=has_alpha)
            except Exception as exc:  # a failed optimiser must not stop the others
                why = f"{type(exc).__name__}: {exc}"
        if why is None:
            return _collected(Fit(_released(result), True, notes + _captured_text(caught), n))
        notes.append(f"{method} (maxiter {maxiter}) rejected: {why}")
    return _collected(Fit(None, False, notes, n))


def _no_estimate(y):
    """A Fit explaining why there is nothing to estimate, or None when there is."""
    if len(y) == 0:
        return Fit(None, False, ["no observations to fit"], 0)
    if not np.any(y > 0):
        return Fit(None, False, ["every count is zero: the mean runs to zero and the "
                                 "maximum-likelihood estimate does not exist"], len(y))
    return None


def _cov(groups, robust):
    if groups is not None:
        return {"cov_type": "cluster", "cov_kwds": {"groups": groups}}
    return {"cov_type": robust}


def moment_alpha(y, mu):
    """Cameron-Trivedi moment estimate of the NB2 dispersion, clipped to a safe start."""
    if not len(y) or not np.sum(mu**2) > 0:
        return 1.0
    alpha = np.sum((y - mu) ** 2 - y) / np.sum(mu**2)
    return float(np.clip(alpha, 0.01, 100.0)) if np.isfinite(alpha) else 1.0


def fit_poisson(y, X, *, offset=None, groups=None, robust="HC0"):
    """Poisson quasi-ML (PPML): Newton from the estimating equation's solution, then IRLS; robust or
    cluster-robust errors (``robust="nonrobust"`` where only the estimate is read).

    Newton first, because statsmodels' IRLS fits a weighted least squares per step and their arrays pile up
    until the cyclic collector runs: at 2.3M accounts IRLS held 1.2-1.5 GB above its data, Newton 0.2 GB.
    ``X``'s first column is the constant.
    """
    if (empty := _no_estimate(y)) is not None:
        return empty
    model = sm.GLM(y, X, family=sm.families.Poisson(), offset=offset)
    attempts = [("newton", 100, lambda: _poisson_start(y, X, offset)), ("IRLS", 100, None)]
    return _fit_in_turn(model, attempts, _cov(groups, robust), n=len(y))


def _poisson_start(y, X, offset):
    """The Poisson equation solved by the damped Newton of ``Equation.solve`` from the constant-rate fit, or
    None (statsmodels' own start) when that fails."""
    offset = np.zeros(len(y)) if offset is None else offset
    start = np.zeros(X.shape[1])
    start[0] = np.log(y.sum() / np.exp(offset).sum())
    solved = Equation(y, X, offset, 0.0).solve(start)
    return solved if np.all(np.isfinite(solved)) else None


def fit_nb(y, X, *, start, offset=None, groups=None, robust="HC0"):
    """NB2 by ML with the dispersion estimated; ``start`` = [betas, alpha].

    Newton, then BFGS from ``start``; BFGS from a moment alpha clipped at its floor can
    stall near alpha = 0, where Newton diverges, so then BFGS from alpha = 1, and Newton
    from the best alpha of a grid of profile likelihoods (the mean equation solved at
    each alpha), before Nelder-Mead.
    """
    if (empty := _no_estimate(y)) is not None:
        return empty
    model = NegativeBinomial(y, X, loglike_method="nb2", offset=offset)
    unit_alpha = np.append(np.asarray(start, float)[:-1], 1.0)
    attempts = [("newton", 100, start), ("bfgs", 2000, start), ("bfgs", 2000, unit_alpha),
                ("newton", 100, lambda: _profile_start(model, y, X, offset, start)), ("nm", 20000, start)]
    return _fit_in_turn(model, attempts, _cov(groups, robust), has_alpha=True, n=len(y))


def _profile_start(model, y, X, offset, start, grid=np.logspace(-6, 2, 17)):
    """[betas, alpha] at the alpha of ``grid`` whose profile log-likelihood is highest."""
    best, beta = None, np.asarray(start, float)[:-1]
    for alpha in grid:
        solved = Equation(y, X, np.zeros(len(y)) if offset is None else offset, alpha).solve(beta)
        if not np.all(np.isfinite(solved)):
            continue
        params = np.append(solved, alpha)
        loglike = model.loglike(params)
        if np.isfinite(loglike) and (best is None or loglike > best[0]):
            best, beta = (loglike, params), solved
    return start if best is None else best[1]


def fit_logit(y_any, X, *, groups):
    """Logit of any engagement, cluster-robust errors."""
    model = Logit(y_any, X)
    start = np.zeros(X.shape[1])
    start[0] = np.log(max(y_any.mean(), 1e-6) / max(1 - y_any.mean(), 1e-6))
    attempts = [("newton", 100, start), ("bfgs", 2000, start)]
    return _fit_in_turn(model, attempts, _cov(groups, None), n=len(y_any))


def fit_truncated_nb(y_pos, X, *, start, groups):
    """Zero-truncated NB2 of the positive counts, cluster-robust errors.

    BFGS first: Newton on this model uses numerical Hessians and is slow.
    """
    model = TruncatedLFNegativeBinomialP(y_pos, X, p=2)
    attempts = [("bfgs", 2000, start), ("nm", 20000, start)]
    return _fit_in_turn(model, attempts, _cov(groups, None), has_alpha=True, n=len(y_pos))


def mass_point(y, q, bands):
    """Why the ``q``-th quantile of ``y`` sits on a mass point in some band of ``bands``, or None."""
    for band in np.unique(bands):
        values = y[bands == band]
        if len(values) < MIN_BAND:
            continue
        at = np.quantile(values, q, method="inverted_cdf")
        share = float(np.mean(values == at))
        if share >= MASS_SHARE:
            return (f"in a follower band of {len(values)} observations the {q:.0%} quantile is {at:.4g}, a value "
                    f"{share:.1%} of them share (a mass point such as zero engagement): the outcome has no "
                    "density there, so no interval or p-value")
    return None


def fit_quantile(y, X, q, *, groups=None, bands=None):
    """Quantile regression at ``q``; errors clustered by ``groups`` when given.

    The mass-point rule comes first: when the quantile sits on a mass point of ``y`` in
    one of the ``bands`` (``mass_point``) there is no interval to compute (None), and
    the slope is the exact solution of the linear programme (``exact_quantile``), not
    statsmodels' IRLS, whose density estimate at the quantile divides by a zero
    bandwidth there and fails the fit. Otherwise QuantReg; the clustered covariance keeps
    statsmodels' kernel estimate of the density at the quantile (``sparsity``) and
    replaces its per-observation score sum by per-cluster sums, the cluster analogue of
    its "robust" estimator.
    """
    on_mass = mass_point(y, q, np.zeros(len(y)) if bands is None else bands)
    if on_mass:
        return exact_quantile(y, X, q, notes=[on_mass]), None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = QuantReg(y, X).fit(q=q, max_iter=5000)
            why = problem(result, has_llf=False)  # QuantReg has no likelihood
        except Exception as exc:
            result, why = None, f"{type(exc).__name__}: {exc}"
    notes = _captured_text(caught)
    if any("IterationLimitWarning" in text for text in notes):
        why = "iteration limit reached"
    if why is not None:
        return Fit(None, False, notes + [f"QuantReg rejected: {why}"], len(y)), None
    if groups is None:
        return Fit(result, True, notes, len(y)), np.asarray(result.bse)
    psi = q - (np.asarray(result.resid) < 0)
    _, codes = np.unique(groups, return_inverse=True)
    cluster_scores = np.column_stack(
        [np.bincount(codes, weights=X[:, j] * psi) for j in range(X.shape[1])]
    )
    xtxi = np.linalg.pinv(X.T @ X)
    n_clusters = len(cluster_scores)
    meat = cluster_scores.T @ cluster_scores * n_clusters / max(n_clusters - 1, 1)
    cov = result.sparsity**2 * xtxi @ meat @ xtxi
    return Fit(result, True, notes, len(y)), np.sqrt(np.diag(cov))


def exact_quantile(y, X, q, *, notes=()):
    """The ``q``-th regression quantile solved exactly, a Fit whose ``result.params`` are the coefficients.

    Koenker's dual linear programme, max y'a subject to X'a = (1 - q) X'1 and 0 <= a <= 1, has k
    equality constraints whatever n, and the primal coefficients are minus its constraints' marginals
    (HiGHS reports them); no density estimate, so no interval, which a mass point has none of anyway.
    """
    y, X = np.asarray(y, float), np.asarray(X, float)
    solved = linprog(-y, A_eq=X.T, b_eq=(1 - q) * X.sum(axis=0), bounds=(0, 1), method="highs")
    if solved.status != 0:
        return Fit(None, False, [*notes, f"exact quantile regression failed: {solved.message}"], len(y))
    return Fit(SimpleNamespace(params=-np.asarray(solved.eqlin.marginals)), True, list(notes), len(y))
