"""Count models of engagement on follower count: elasticities, hurdle, model checks, quantile regressions.

``fit_engagement_models(accounts, tweets)`` fits, on the tidy frames of
``helpers.frames``:

- account level, engagement ~ log(1 + followers) with log(original tweets) as
  offset: NB2 by ML (dispersion estimated) and Poisson quasi-ML (PPML), both
  with working-variance sandwich errors (``fitting.working_variance_cov``):
  the HC0 sandwich undercovers when a few high-follower accounts carry the fit
  (coverage measured in docs/statistics.md);
- tweet level (original tweets): NB2 with errors clustered by account, and a
  two-part hurdle (logit of any engagement; zero-truncated NB2 of the positive
  counts), both parts clustered by account;
- checks: LR test of overdispersion, AIC/BIC table, rootogram; quantile
  regression of log(1 + engagement per tweet) at the median and the 90th percentile.

The returned :class:`EngagementModels` holds the results-contract entries
(``.tests``), the comparison table and the fitted statsmodels results.
"""

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from helpers import results
from helpers.stats import fitting
from helpers.errors import TractionError

# Above this many tweets the tweet-level models use a seeded sample of whole accounts.
MAX_TWEET_ROWS = 500_000
Z95 = float(stats.norm.ppf(0.975))

_WORKING_VARIANCE = (
    "95% Wald interval from a sandwich whose meat is the working variance "
    "Var(engagement) = mu + kappa mu^2 / n_original + tau mu^2 (kappa: per-tweet, tau: "
    "between-account overdispersion, both >= 0, pooled over accounts by weighted moments) "
    "instead of each account's squared residual (HC0, which undercovers when a few "
    "high-follower accounts carry the fit)")
METHODS = {
    "elasticity_nb_account": (
        "Account level: negative binomial (NB2, ML, dispersion estimated) of engagement on "
        "log(1 + followers), log(original tweets) offset; estimate is the elasticity "
        "(log-follower coefficient); " + _WORKING_VARIANCE),
    "elasticity_ppml_account": (
        "Account level: Poisson quasi-ML (PPML) of engagement on log(1 + followers), "
        "log(original tweets) offset; distribution-free check of the NB's estimate; "
        + _WORKING_VARIANCE),
    "elasticity_nb_tweet_clustered": (
        "Tweet level: negative binomial (NB2, ML) of engagement per original tweet on "
        "log(1 + followers), errors clustered by account"),
    "hurdle_any_logit_followers": (
        "Hurdle part 1, tweet level: logit of engagement > 0 on log(1 + followers), errors "
        "clustered by account; estimate is the log-odds coefficient"),
    "hurdle_positive_nb_followers": (
        "Hurdle part 2, tweet level: zero-truncated NB2 of positive engagement on "
        "log(1 + followers), errors clustered by account"),
    "overdispersion_test": (
        "Account level: likelihood-ratio test of NB2 alpha = 0 against the Poisson fit, "
        "chi-bar-squared p-value (alpha on the boundary); estimate is alpha"),
    "quantreg_median_followers": (
        "Quantile regression (median) of log(1 + engagement per tweet) on log(1 + followers)"),
    "quantreg_p90_followers": (
        "Quantile regression (90th percentile) of log(1 + engagement per tweet) on "
        "log(1 + followers)"),
}
TWEET_LEVEL = ("elasticity_nb_tweet_clustered", "hurdle_any_logit_followers",
               "hurdle_positive_nb_followers")
# model_comparison rows: label, level, the fits whose log-likelihoods add up.
COMPARED = [
    ("Poisson (account)", "account", ("ppml_account",)),
    ("NB (account)", "account", ("nb_account",)),
    ("Poisson (tweet)", "tweet", ("poisson_tweet",)),
    ("NB (tweet)", "tweet", ("nb_tweet",)),
    ("Hurdle: logit + truncated NB (tweet)", "tweet", ("hurdle_logit", "hurdle_truncated_nb")),
]
CURVES = [("NB (account)", "nb_account"), ("PPML (account)", "ppml_account"),
          ("NB (tweet)", "nb_tweet")]


def _column(frame, name, column):
    if column not in frame.columns:
        raise TractionError(f"{name} frame: missing column '{column}'")
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    negative = np.flatnonzero(values < 0)
    if len(negative):
        row = frame.iloc[negative[0]]
        raise TractionError(f"{name} frame: column '{column}' is negative ({values[negative[0]]:g}) "
                            f"for userid {row.get('userid')!r} (row {negative[0]})")
    return values


def _design(followers):
    return np.column_stack([np.ones(len(followers)), np.log1p(followers)])


def _account_data(accounts):
    if "userid" not in accounts.columns:
        raise TractionError("accounts frame: missing column 'userid'")
    followers = _column(accounts, "accounts", "follower_count")
    n_original = _column(accounts, "accounts", "n_original")
    engagement = _column(accounts, "accounts", "engagement")
    notes = []
    unknown = np.isnan(followers) | np.isnan(engagement) | np.isnan(n_original)
    if unknown.any():
        notes.append(f"{int(unknown.sum())} of {len(accounts)} accounts excluded: unknown "
                     "follower count, engagement or tweet count")
    silent = ~unknown & (n_original == 0)
    if silent.any():
        notes.append(f"{int(silent.sum())} of {len(accounts)} accounts excluded: no original "
                     "tweets (no exposure)")
    use = ~unknown & (n_original > 0)
    return {"y": engagement[use], "X": _design(followers[use]),
            "offset": np.log(n_original[use]), "notes": notes}


def _tweet_data(tweets, max_rows, seed):
    if "userid" not in tweets.columns:
        raise TractionError("tweets frame: missing column 'userid'")
    followers = _column(tweets, "tweets", "follower_count")
    engagement = _column(tweets, "tweets", "engagement")
    notes = []
    use = ~(np.isnan(followers) | np.isnan(engagement))
    if not use.all():
        notes.append(f"{int((~use).sum())} of {len(tweets)} tweets excluded: unknown follower "
                     "count or engagement")
    groups = pd.factorize(tweets["userid"])[0]
    if use.sum() > max_rows:
        sizes = np.bincount(groups[use], minlength=groups.max() + 1)
        order = np.random.default_rng(seed).permutation(len(sizes))
        kept = order[np.cumsum(sizes[order]) <= max_rows]
        use &= np.isin(groups, kept)
        notes.append(f"tweet-level models fitted on {int(use.sum())} tweets of "
                     f"{len(kept)} accounts, a seeded (seed {seed}) sample of whole accounts "
                     f"under max_tweet_rows = {max_rows}")
    return {"y": engagement[use], "X": _design(followers[use]), "offset": None,
            "groups": groups[use], "notes": notes}


def _entry(test_id, n, notes, *, fit=None, estimate=None, se=None, p_value=None, why=None):
    converged = fit is not None and fit.converged and estimate is not None
    warnings = list(notes) + (fit.warnings if fit else []) + ([why] if why else [])
    out = results.entry(test_id, METHODS[test_id], n=int(n), converged=bool(converged), warnings=warnings)
    if not converged:
        return out
    out["estimate"] = float(estimate)
    if se is not None and np.isfinite(se):
        out["ci_low"], out["ci_high"] = float(estimate - Z95 * se), float(estimate + Z95 * se)
        if p_value is None:
            p_value = 2 * stats.norm.sf(abs(estimate / se)) if se > 0 else None
    out["p_value"] = None if p_value is None else float(p_value)
    return out


def _slope_entry(test_id, fit, notes):
    if not fit.converged:
        return _entry(test_id, fit.n, notes, fit=fit, why="model did not converge: no estimate")
    params = np.asarray(fit.result.params)
    cov = fit.cov if fit.cov is not None else np.asarray(fit.result.cov_params())
    return _entry(test_id, fit.n, notes, fit=fit, estimate=params[1], se=np.sqrt(cov[1, 1]))


def _working_variance_covs(fits, acc):
    """Set ``.cov`` of the account-level fits from the working variance around their means."""
    y, X, exposure = acc["y"], acc["X"], np.exp(acc["offset"])
    for name in ("ppml_account", "nb_account"):
        fit = fits[name]
        if not fit.converged:
            continue
        params = np.asarray(fit.result.params)
        mu = np.exp(X @ params[:X.shape[1]] + acc["offset"])
        score_weight = 1 / (1 + params[-1] * mu) if name == "nb_account" else np.ones_like(mu)
        kappa, tau = fitting.working_variance(y, mu, exposure)
        variance = mu + kappa * mu**2 / exposure + tau * mu**2
        cov = fitting.working_variance_cov(X, mu, variance, score_weight)
        if not (np.all(np.isfinite(cov)) and cov[1, 1] > 0):
            fit.converged = False
            fit.warnings.append("working-variance covariance not finite or not positive")
            continue
        hc0 = float(np.sqrt(np.asarray(fit.result.cov_params())[1, 1]))
        fit.cov = cov
        fit.warnings.append(f"working variance: kappa = {kappa:.4g}, tau = {tau:.4g}; standard "
                            f"error of the elasticity {np.sqrt(cov[1, 1]):.4g} (HC0: {hc0:.4g})")


def _overdispersion_entry(fits, notes):
    nb, poisson = fits["nb_account"], fits["ppml_account"]
    if not (nb.converged and poisson.converged):
        return _entry("overdispersion_test", nb.n, notes, fit=nb,
                      why="needs both the account-level NB and Poisson fits, which did not converge")
    alpha, se = float(nb.result.params[-1]), float(nb.result.bse[-1])
    lr = 2 * (nb.result.llf - poisson.result.llf)
    p_value = 0.5 * stats.chi2.sf(lr, 1) if lr > 0 else 1.0
    entry = _entry("overdispersion_test", nb.n, notes, fit=nb, estimate=alpha, p_value=p_value)
    if np.isfinite(se) and se > 0:  # interval on the log scale keeps alpha positive
        half = Z95 * se / alpha
        entry["ci_low"], entry["ci_high"] = alpha * float(np.exp(-half)), alpha * float(np.exp(half))
    return entry


def _skipped(test_id, why):
    return _entry(test_id, 0, [], why=why)


@dataclass
class EngagementModels:
    """Fitted count models; ``.tests`` are results-contract entries (``p_holm`` left None)."""

    tests: list
    model_comparison: pd.DataFrame
    fits: dict  # name -> fitting.Fit (``.result`` is the statsmodels result or None)
    data: dict = field(repr=False)  # level -> y, X, offset (groups) used in the fits
    fit_seconds: dict = field(default_factory=dict)

    def test(self, test_id):
        """The entry with id ``test_id``."""
        return next(entry for entry in self.tests if entry["id"] == test_id)

    def rootogram(self, max_count=None, level=None):
        """Observed vs NB-expected frequencies of counts 0..max_count, then a tail row.

        Columns: count, observed, expected, tail (True on the last row, which
        holds counts above ``max_count``); both frequency columns sum to n.
        ``level`` is "tweet" (default when the tweet NB converged) or "account".
        """
        level = level or ("tweet" if self.fits.get("nb_tweet", fitting.Fit()).converged
                          else "account")
        fit = self.fits.get(f"nb_{level}")
        if fit is None or not fit.converged:
            raise TractionError(f"rootogram: the {level}-level NB model did not converge")
        data = self.data[level]
        y, params = data["y"], np.asarray(fit.result.params)
        mu = np.exp(data["X"] @ params[:-1] + (0 if data["offset"] is None else data["offset"]))
        if max_count is None:
            max_count = int(np.clip(np.quantile(y, 0.95), 10, 50))
        mu_values, mu_counts = np.unique(mu, return_counts=True)  # tweets share their account's mu
        size = 1 / params[-1]
        counts = np.arange(max_count + 1)
        pmf = stats.nbinom.pmf(counts[:, None], size, size / (size + mu_values[None, :]))
        expected = pmf @ mu_counts
        observed = np.bincount(np.minimum(y.astype(np.int64), max_count + 1),
                               minlength=max_count + 2)
        return pd.DataFrame({
            "count": np.arange(max_count + 2),
            "observed": observed.astype(np.int64),
            "expected": np.append(expected, len(y) - expected.sum()),
            "tail": np.arange(max_count + 2) == max_count + 1,
        })

    def fitted_curve(self, followers_grid):
        """Mean engagement per original tweet over ``followers_grid``, per converged model.

        Columns: follower_count, model, mean_engagement_per_tweet, ci_low, ci_high
        (95% delta-method band; NaN for the hurdle, whose mean combines two fits).
        """
        grid = np.asarray(followers_grid, dtype=float)
        X = _design(grid)
        parts = []
        for label, name in CURVES:
            fit = self.fits.get(name)
            if fit is None or not fit.converged:
                continue
            beta = np.asarray(fit.result.params)[:2]
            cov = (fit.cov if fit.cov is not None else np.asarray(fit.result.cov_params()))[:2, :2]
            eta, se = X @ beta, np.sqrt(np.einsum("ij,jk,ik->i", X, cov, X))
            with np.errstate(over="ignore"):  # far out on the grid a band may pass float range: inf, drawn clipped
                parts.append(pd.DataFrame({"follower_count": grid, "model": label,
                                           "mean_engagement_per_tweet": np.exp(eta),
                                           "ci_low": np.exp(eta - Z95 * se),
                                           "ci_high": np.exp(eta + Z95 * se)}))
        logit, positive = self.fits.get("hurdle_logit"), self.fits.get("hurdle_truncated_nb")
        if logit is not None and logit.converged and positive.converged:
            p_any = 1 / (1 + np.exp(-(X @ np.asarray(logit.result.params))))
            params = np.asarray(positive.result.params)
            mu, alpha = np.exp(X @ params[:-1]), params[-1]
            p_zero = (1 + alpha * mu) ** (-1 / alpha)
            parts.append(pd.DataFrame({"follower_count": grid, "model": "Hurdle (tweet)",
                                       "mean_engagement_per_tweet": p_any * mu / (1 - p_zero),
                                       "ci_low": np.nan, "ci_high": np.nan}))
        columns = ["follower_count", "model", "mean_engagement_per_tweet", "ci_low", "ci_high"]
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)

    def summary(self):
        """A readable text report of every test entry and the model comparison."""
        table = pd.DataFrame(self.tests)[["id", "estimate", "ci_low", "ci_high", "p_value", "n",
                                          "converged"]]
        lines = ["Engagement count models", "", table.to_string(index=False, float_format="%.4g"),
                 "", "Model comparison (lower AIC/BIC is better; same level only)",
                 self.model_comparison.to_string(index=False, float_format="%.6g"), "", "Warnings"]
        lines += [f"  {e['id']}: {w}" for e in self.tests for w in e["warnings"]]
        return "\n".join(lines)

    def to_dict(self):
        """JSON-ready: {"tests": [...], "model_comparison": [records, NaN as None]}."""
        records = self.model_comparison.astype(object).where(self.model_comparison.notna(), None)
        return {"tests": [dict(entry) for entry in self.tests],
                "model_comparison": records.to_dict(orient="records")}


def _comparison(fits):
    rows = []
    for label, level, names in COMPARED:
        parts = [fits[name] for name in names if name in fits]
        if len(parts) < len(names):
            continue
        ok = all(part.converged for part in parts)
        n = parts[0].n
        k = sum(len(part.result.params) for part in parts) if ok else np.nan
        llf = sum(float(part.result.llf) for part in parts) if ok else np.nan
        rows.append({"model": label, "level": level, "n": n, "n_params": k, "loglik": llf,
                     "aic": 2 * k - 2 * llf, "bic": k * np.log(n) - 2 * llf, "converged": ok})
    return pd.DataFrame(rows, columns=["model", "level", "n", "n_params", "loglik", "aic", "bic",
                                       "converged"])


def _timed(seconds, name, fitter, *args, **kwargs):
    start = time.perf_counter()
    out = fitter(*args, **kwargs)
    seconds[name] = time.perf_counter() - start
    return out


def _start(poisson, y, X, offset=None):
    """NB start: the Poisson quasi-ML betas and a moment estimate of alpha."""
    if poisson.converged:
        beta = np.asarray(poisson.result.params)
    else:
        beta = np.zeros(X.shape[1])
        beta[0] = np.log(max(y.sum(), 1) / np.exp(offset).sum() if offset is not None
                         else max(y.mean(), 1e-6))
    mu = np.exp(X @ beta + (0 if offset is None else offset))
    return np.append(beta, fitting.moment_alpha(y, mu))


def _quantile_entries(fits, notes, data, seconds):
    entries = []
    for test_id, q in (("quantreg_median_followers", 0.5), ("quantreg_p90_followers", 0.9)):
        name = f"quantreg_{q:g}"
        fit, bse = _timed(seconds, name, fitting.fit_quantile, data["y_log"], data["X"], q,
                          groups=data.get("groups"))
        fits[name] = fit
        extra = list(notes) + ([] if data.get("groups") is not None else
                               ["account level: engagement per original tweet of each account"])
        if not fit.converged:
            entries.append(_entry(test_id, fit.n, extra, fit=fit,
                                  why="model did not converge: no estimate"))
            continue
        estimate = float(np.asarray(fit.result.params)[1])
        entries.append(_entry(test_id, fit.n, extra, fit=fit, estimate=estimate,
                              se=None if bse is None else bse[1]))
    return entries


def fit_engagement_models(accounts, tweets=None, *, seed=0, max_tweet_rows=MAX_TWEET_ROWS):
    """Fit the count models of engagement on log(1 + followers); see the module docstring.

    ``accounts`` and ``tweets`` follow the tidy-frame contract of ``helpers.frames``;
    with ``tweets=None`` (account-table form) the tweet-level entries are present,
    unconverged, with the reason in ``warnings``. ``seed`` only matters above
    ``max_tweet_rows`` tweets (the seeded sample of whole accounts).
    """
    fits, seconds = {}, {}
    acc = _account_data(accounts)
    y, X, offset, notes = acc["y"], acc["X"], acc["offset"], acc["notes"]
    fits["ppml_account"] = _timed(seconds, "ppml_account", fitting.fit_poisson, y, X,
                                  offset=offset)
    fits["nb_account"] = _timed(seconds, "nb_account", fitting.fit_nb, y, X, offset=offset,
                                start=_start(fits["ppml_account"], y, X, offset))
    _timed(seconds, "account_working_variance", _working_variance_covs, fits, acc)
    tests = [_slope_entry("elasticity_nb_account", fits["nb_account"], notes),
             _slope_entry("elasticity_ppml_account", fits["ppml_account"], notes),
             _overdispersion_entry(fits, notes)]
    data = {"account": acc}
    if tweets is None:
        why = "skipped: no tweet-level data (account-table form)"
        tests += [_skipped(test_id, why) for test_id in TWEET_LEVEL]
        acc["y_log"] = np.log1p(y / np.exp(offset))
        tests += _quantile_entries(fits, notes, acc, seconds)
    else:
        tw = data["tweet"] = _tweet_data(tweets, max_tweet_rows, seed)
        y, X, groups, notes = tw["y"], tw["X"], tw["groups"], tw["notes"]
        fits["poisson_tweet"] = _timed(seconds, "poisson_tweet", fitting.fit_poisson, y, X,
                                       groups=groups)
        start = _start(fits["poisson_tweet"], y, X)
        fits["nb_tweet"] = _timed(seconds, "nb_tweet", fitting.fit_nb, y, X, start=start,
                                  groups=groups)
        tests.append(_slope_entry("elasticity_nb_tweet_clustered", fits["nb_tweet"], notes))
        tests += _hurdle_entries(fits, tw, seconds)
        tw["y_log"] = np.log1p(y)
        tests += _quantile_entries(fits, notes, tw, seconds)
    return EngagementModels(tests, _comparison(fits), fits, data, seconds)


def _hurdle_entries(fits, tw, seconds):
    y, X, groups, notes = tw["y"], tw["X"], tw["groups"], tw["notes"]
    positive = y > 0
    if positive.all() or not positive.any():
        why = "skipped: every tweet has engagement" if positive.all() else \
            "skipped: no tweet has engagement"
        return [_skipped(test_id, why) for test_id in TWEET_LEVEL[1:]]
    fits["hurdle_logit"] = _timed(seconds, "hurdle_logit", fitting.fit_logit,
                                  positive.astype(float), X, groups=groups)
    nb = fits["nb_tweet"]
    start = np.asarray(nb.result.params) if nb.converged else _start(fits["poisson_tweet"], y, X)
    fits["hurdle_truncated_nb"] = _timed(
        seconds, "hurdle_truncated_nb", fitting.fit_truncated_nb, y[positive], X[positive],
        start=start, groups=groups[positive])
    return [_slope_entry("hurdle_any_logit_followers", fits["hurdle_logit"], notes),
            _slope_entry("hurdle_positive_nb_followers", fits["hurdle_truncated_nb"], notes)]
