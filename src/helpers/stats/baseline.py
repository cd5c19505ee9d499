"""Low compared with ordinary accounts: the campaign's engagement relative to baseline accounts of the same size.

The campaign's accounts and the baseline's enter one account-level count model
with a group indicator,

    E[engagement_i] = n_original_i * exp(a + b log(1 + followers_i) + g * campaign_i),

so exp(g) is the campaign's engagement per original tweet relative to baseline
accounts with the same follower count (``baseline_engagement_ratio``). It is
fitted by NB2 maximum likelihood (Poisson quasi-ML when the NB fails) with the
checked fitters of ``helpers.stats.fitting``; its interval is the t interval of g,
exponentiated, from the estimating equation over accounts with the HC3 sandwich
and Bell-McCaffrey degrees of freedom (``helpers.stats.estimating``, the method
the elasticities use), which assumes nothing about how the variance grows in
either group (coverage: docs/reference.md). The model assumes one elasticity b
for both groups; the slopes fitted to each group alone are given in the entry's
warnings, beside the ratio without the follower adjustment.
"""

import numpy as np

from helpers.results import entry, skipped
from helpers.stats import estimating, fitting

RATIO = "baseline_engagement_ratio"
METHOD = ("account level: negative binomial (NB2, ML; Poisson quasi-ML if it fails) of engagement on "
          "log(1 + followers) and a campaign indicator over the campaign's and the baseline's accounts, "
          "log(original tweets) offset; estimate exp(indicator coefficient); 95% t interval from the HC3 "
          "sandwich of the estimating equation over accounts with Bell-McCaffrey degrees of freedom")


def _usable(accounts):
    """Accounts with original tweets (the exposure) and known followers and engagement."""
    keep = (accounts["n_original"] > 0) & accounts["follower_count"].notna() & accounts["engagement"].notna()
    return accounts.loc[keep, ["follower_count", "n_original", "engagement"]].astype(float)


def _per_tweet(frame):
    return frame["engagement"].sum() / frame["n_original"].sum()


def fit_group_model(campaign, baseline):
    """(fit, name, interval): the pooled model of the module docstring; ``interval`` (of the log ratio) or None."""
    y = np.concatenate([campaign["engagement"], baseline["engagement"]])
    followers = np.concatenate([campaign["follower_count"], baseline["follower_count"]])
    exposure = np.concatenate([campaign["n_original"], baseline["n_original"]])
    group = np.concatenate([np.ones(len(campaign)), np.zeros(len(baseline))])
    X = np.column_stack([np.ones(len(y)), np.log1p(followers), group])
    offset = np.log(exposure)
    poisson = fitting.fit_poisson(y, X, offset=offset)
    fit, name, interval = poisson, "Poisson quasi-ML", None
    if poisson.converged:
        beta = np.asarray(poisson.result.params)
        start = np.append(beta, fitting.moment_alpha(y, np.exp(X @ beta + offset)))
        nb = fitting.fit_nb(y, X, start=start, offset=offset)
        if nb.converged:
            fit, name = nb, "negative binomial"
        else:
            fit.warnings += ["negative binomial rejected, Poisson quasi-ML used: " + "; ".join(nb.warnings)]
    if fit.converged:
        params = np.asarray(fit.result.params)
        alpha = float(params[-1]) if name == "negative binomial" else 0.0
        found = estimating.hc3_bm_interval(estimating.Equation(y, X, offset, alpha), params[:3], j=2)
        if np.isfinite(found.se) and found.se > 0 and np.isfinite(found.df) and found.df > 0:
            fit.cov, interval = found.cov, found
            fit.warnings.append(f"standard error of the log ratio {found.se:.4g} (HC3, {found.df:.1f} Bell-McCaffrey "
                                f"degrees of freedom; model-based: "
                                f"{np.sqrt(np.asarray(fit.result.cov_params())[2, 2]):.4g})")
        else:
            fit.converged = False
            fit.warnings.append("the HC3 sandwich of the log ratio is not finite and positive")
    return fit, name, interval


def _slope(frame):
    """The elasticity fitted to one group alone (Poisson quasi-ML), or None."""
    fit = fitting.fit_poisson(frame["engagement"].to_numpy(), np.column_stack(
        [np.ones(len(frame)), np.log1p(frame["follower_count"].to_numpy())]), offset=np.log(frame["n_original"]))
    return float(np.asarray(fit.result.params)[1]) if fit.converged else None


def baseline_tests(accounts, baseline=None, *, baseline_name="the baseline") -> list[dict]:
    """``baseline_engagement_ratio`` (skipped, saying why, without a baseline)."""
    if baseline is None:
        return [skipped(RATIO, METHOD, "no baseline accounts were given (parameter baseline)")]
    campaign, base = _usable(accounts), _usable(baseline)
    for frame, who in ((campaign, "the campaign"), (base, baseline_name)):
        if len(frame) < 2 or frame["engagement"].sum() == 0:
            return [skipped(RATIO, METHOD, f"{who} has {len(frame)} accounts with original tweets and known "
                            "followers, and needs at least 2 with some engagement")]
    fit, name, interval = fit_group_model(campaign, base)
    n = len(campaign) + len(base)
    notes = [f"{len(campaign):,} campaign accounts and {len(base):,} accounts of {baseline_name} with original "
             "tweets and a known follower count"]
    slopes = [_slope(campaign), _slope(base)]
    if None not in slopes:
        notes.append(f"elasticity fitted to each group alone (Poisson quasi-ML): campaign {slopes[0]:.3g}, "
                     f"baseline {slopes[1]:.3g}; the ratio assumes one")
    notes.append(f"without adjusting for followers: {_per_tweet(campaign):.4g} engagements per original tweet "
                 f"against {_per_tweet(base):.4g} (ratio {_per_tweet(campaign) / _per_tweet(base):.4g})")
    if not fit.converged:
        return [entry(RATIO, METHOD, n=n, converged=False, warnings=notes + fit.warnings + ["model did not converge"])]
    return [entry(RATIO, f"{METHOD} (fitted: {name})", float(np.exp(interval.estimate)),
                  (float(np.exp(interval.low)), float(np.exp(interval.high))), n=n,
                  p_value=interval.p_value, warnings=notes + fit.warnings)]
