"""Count models of engagement on follower count: elasticities, hurdle, model checks, quantile regressions.

``fit_engagement_models(accounts, tweets)`` fits, on the tidy frames of
``helpers.frames``:

- account level, engagement ~ log(1 + followers) with log(original tweets) as
  offset: NB2 by ML (dispersion estimated; the PRIMARY elasticity, see below) and
  Poisson quasi-ML (PPML);
- tweet level (original tweets): NB2 with inference clustered by account, and a
  two-part hurdle (logit of any engagement; zero-truncated NB2 of the positive
  counts), both parts clustered by account;
- the elasticity's intervals come from the estimating equation over accounts
  (``helpers.stats.estimating``) by the method the validation battery chose
  (HC3 with Bell-McCaffrey degrees of freedom; docs/statistics.md), never from a
  variance curve the data may not follow; a fit carried by a few accounts is marked fragile, and a fit whose
  interval is degenerate, whose standard error explodes or whose fitted means
  underflow is reported as not converged, with the reason;
- the difference PPML - NB, a check of the log-linear mean (both are consistent
  when it is right: their intervals should overlap), and the primary elasticity without the top 1% and the top 10
  accounts by engagement (sensitivity);
- checks: LR test of overdispersion, AIC/BIC table, rootogram; quantile
  regression of log(1 + engagement per tweet) at the median and the 90th
  percentile, with no interval where the quantile sits on a mass point.

The primary elasticity is the account-level NB: its mean equation is unbiased
whatever the variance (like PPML's), but each account's weight in it is bounded
(about 1/alpha), where PPML weighs accounts by their engagement, so a dozen large
accounts cannot carry it; and it exists for account tables as well as archives.

The returned :class:`EngagementModels` holds the results-contract entries
(``.tests``), the comparison table and the fitted statsmodels results.
"""

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from helpers import results
from helpers.errors import TractionError
from helpers.stats import estimating, fitting
from helpers.stats.dose_response import follower_band

# Above this many tweets the tweet-level models use a seeded sample of whole accounts.
MAX_TWEET_ROWS = 500_000
Z95 = float(stats.norm.ppf(0.975))
# Fragile: more than this share of a fit's weight in its top 1% of accounts, per estimator. PPML's is the
# largest cut at which every battery cell whose coverage was convincingly under 0.90 on a seen seed set had
# most fits above it (`validation/battery.py`, fragile_cuts); no NB cell fell short, so theirs stay at the
# first choice. On a third seed set no cell fell short unmarked, a check too weak to tell 0.23 from 0.30
# (docs/statistics.md#the-fragile-mark).
FRAGILE_LEVERAGE = {"elasticity_nb_account": 0.30, "elasticity_nb_tweet_clustered": 0.30,
                    "elasticity_ppml_account": 0.23}
# Guards: a converged fit is still unusable when its interval is wider than this (an elasticity
# of +-MAX_HALF_WIDTH spans every plausible value) or its fitted means leave float range.
MAX_HALF_WIDTH = 10.0
TINY_MEAN = 1e-300
# The shape check: band indicators need this many accounts to enter; the log-linear curve is rejected at this
# level, chosen on seeds 1-20 of 12 log-linear cells and 6 step cells: at 0.05 the HC3 Wald test (and a wild
# score test) raised up to 20-25% false alarms in a lognormal cell, at 0.01 at most 10% (docs/statistics.md).
SHAPE_MIN_BAND = 20
# Batches: the interval clustered by creation week (or day) needs this many clusters; wider than the account-level
# interval by this factor, it replaces it and the entry warns clustered: (set before measuring; docs/statistics.md).
# So it does when the residuals are correlated within a week (or group) by at least RESIDUAL_CORRELATION, with a z
# of at least RESIDUAL_Z (one-sided p < 0.001): chosen on seeds 1-20 of the batch cells, where in four cells without
# a shared effect |z| stayed at most 2.8 (its variance from the residuals) and cells with one fired in 12-100%.
BATCH_MIN_CLUSTERS = 30
BATCH_WIDER = 1.25
RESIDUAL_CORRELATION = 0.05
RESIDUAL_Z = 3.09
SHAPE_LEVEL = 0.01
SENSITIVITY_TOP = {"elasticity_nb_account_without_top1pct": 0.01, "elasticity_nb_account_without_top10": 10}
ROOTOGRAM_CELLS = 2_000_000  # pmf cells computed at once (16 MB) in EngagementModels.rootogram

# Every elasticity's interval, chosen on the validation battery's choice seeds over HC0-HC2, HC2 with
# Bell-McCaffrey df, the wild score bootstrap and pairs bootstraps (docs/statistics.md).
_INTERVAL = ("95% t interval from the HC3 sandwich of the estimating equation over accounts (each account's "
             "score inflated by its leverage, 1 / (1 - h)^2, close to the leave-one-account-out jackknife) with Bell "
             "and McCaffrey's Satterthwaite degrees of freedom (few when a few accounts carry the variance); no "
             "assumption on how the variance grows; p-value from the same t")
_ACCOUNT = "log(original tweets) offset; estimate is the elasticity (log-follower coefficient); "
METHODS = {
    "elasticity_nb_account": (
        "PRIMARY. Account level: negative binomial (NB2, ML, dispersion estimated) of engagement on "
        "log(1 + followers), " + _ACCOUNT + _INTERVAL),
    "elasticity_ppml_account": (
        "Account level: Poisson quasi-ML (PPML) of engagement on log(1 + followers), " + _ACCOUNT
        + _INTERVAL),
    "elasticity_nb_tweet_clustered": (
        "Tweet level: negative binomial (NB2, ML) of engagement per original tweet on "
        "log(1 + followers); inference clustered by account: "
        + _INTERVAL),
    "elasticity_ppml_minus_nb": (
        "Account level: PPML's elasticity minus the NB's; the interval holds the differences both 95% "
        "intervals allow (low_PPML - high_NB to high_PPML - low_NB; at least 90% by Bonferroni), so it "
        "excludes 0 exactly when the two intervals do not overlap. Both are consistent when the log-linear "
        "mean is right, so an interval excluding 0 says it is misspecified and the dose-response by "
        "follower band is the description to read"),
    "elasticity_nb_account_without_top1pct": (
        "Sensitivity, not an estimate: the primary elasticity refitted without the 1% of accounts "
        "with most engagement (dropping accounts by their outcome biases it toward 0); "),
    "elasticity_nb_account_without_top10": (
        "Sensitivity, not an estimate: the primary elasticity refitted without the 10 accounts with "
        "most engagement (dropping accounts by their outcome biases it toward 0); "),
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
        "Quantile regression (median) of log(1 + engagement per tweet) on log(1 + followers); no "
        "interval where the median sits on a mass point of the outcome"),
    "quantreg_p90_followers": (
        "Quantile regression (90th percentile) of log(1 + engagement per tweet) on "
        "log(1 + followers); no interval where the quantile sits on a mass point of the outcome"),
}
for _id in SENSITIVITY_TOP:
    METHODS[_id] += _INTERVAL
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


def _account_data(accounts, groups=None):
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
    return {"y": engagement[use], "X": _design(followers[use]), "followers": followers[use],
            "offset": np.log(n_original[use]), "notes": notes, "batches": _creation_days(accounts, use),
            "groups": _coordination_groups(accounts, use, groups)}


def _creation_days(accounts, use):
    """Each used account's creation day, counted from Monday 5 January 1970 (NaN where unknown), or None when the
    table has no creation dates."""
    if "account_creation_date" not in accounts.columns:
        return None
    created = pd.to_datetime(accounts["account_creation_date"], errors="coerce", utc=True)[use]
    if created.isna().all():
        return None
    return ((created - pd.Timestamp("1970-01-05", tz="UTC")) / pd.Timedelta(days=1)).to_numpy(float)


def batch_codes(days, units=None):
    """(unit, clusters' name, integer codes, clusters counted): the first of ``units`` (default BATCH_UNITS:
    creation week, else creation day) with at least BATCH_MIN_CLUSTERS clusters of known date, or the last. An
    account of unknown date is alone in its cluster, and not counted (review 30: 30 undated accounts made a
    release of 3 weeks pass for 33)."""
    units = units or BATCH_UNITS
    for by, width, name in units:
        codes = pd.factorize(np.floor(days / width))[0]  # NaN -> -1
        alone = codes < 0
        counted = int(codes.max()) + 1
        codes[alone] = counted + np.arange(alone.sum())
        if counted >= BATCH_MIN_CLUSTERS:
            break
    return by, name, codes, counted


def _coordination_groups(accounts, use, groups):
    """Each used account's coordination group (``groups``: userid, group, as ``Coordination.accounts``) as an
    integer code, an account in no group alone; None when no coordination was measured."""
    if groups is None:
        return None
    position = pd.Index(groups["userid"].astype(str)).get_indexer(accounts["userid"][use].astype(str))
    inside = position >= 0
    codes = np.empty(len(position), np.int64)
    codes[inside] = pd.factorize(groups["group"].to_numpy()[position[inside]])[0]
    codes[~inside] = codes[inside].max(initial=-1) + 1 + np.arange((~inside).sum())
    return codes


def groups_counted(codes):
    """How many coordination groups hold two or more of the modelled accounts: what counts toward
    BATCH_MIN_CLUSTERS (every other account is alone, review 30)."""
    return int((np.bincount(codes) >= 2).sum())


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
    return {"y": engagement[use], "X": _design(followers[use]), "followers": followers[use], "offset": None,
            "groups": groups[use], "notes": notes}


def _entry(test_id, n, notes, *, fit=None, estimate=None, se=None, p_value=None, why=None):
    converged = fit is not None and fit.converged and estimate is not None and why is None
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


def _equation(fit, data, *, alpha=None, per_tweet=False):
    """The estimating equation of a converged fit, over the accounts it used."""
    if per_tweet:  # tweets of one account share its followers: the equation sums them per account
        codes = np.unique(data["groups"], return_inverse=True)[1]
        counts = np.bincount(codes)
        y = np.bincount(codes, weights=data["y"])
        first = np.unique(codes, return_index=True)[1]
        X, offset, per = data["X"][first], np.log(counts), counts.astype(float)
    else:
        y, X, offset, per = data["y"], data["X"], data["offset"], 1.0
    alpha = float(np.asarray(fit.result.params)[-1]) if alpha is None else alpha
    return estimating.Equation(y, X, offset, alpha, per)


def _interval(eq, beta):
    """(low, high, p at 0, covariance for the fitted curves) of the elasticity."""
    found = estimating.hc3_bm_interval(eq, beta)
    return found.low, found.high, found.p_value, found.cov


def unusable(eq, beta, low, high):
    """Why a converged fit's elasticity cannot be used (degenerate interval, exploding standard
    error, fitted means out of float range), or None."""
    M, _ = eq.means(beta)
    if not np.all(np.isfinite(M)):
        return f"fitted means overflow for {int((~np.isfinite(M)).sum())} accounts"
    if np.any(M < TINY_MEAN):
        return (f"fitted means underflow (below {TINY_MEAN:g}) for {int((M < TINY_MEAN).sum())} accounts: "
                "the fit runs off to a boundary")
    if not (np.isfinite(low) and np.isfinite(high)):
        return "degenerate interval: the data cannot bound the elasticity (an infinite end)"
    if not high > low:
        return f"degenerate interval: zero width ({low:.4g} to {high:.4g})"
    if (high - low) / 2 > MAX_HALF_WIDTH:
        return (f"exploding standard error: the interval {low:.4g} to {high:.4g} is wider than "
                f"+-{MAX_HALF_WIDTH:g}, every plausible elasticity")
    return None


def leverage_note(eq, beta, cut):
    """(share of the fit's weight in its top 1% of accounts, warnings: the note and, above
    ``cut`` (the estimator's FRAGILE_LEVERAGE), the fragile marker)."""
    share = estimating.top_share(eq.weight(beta))
    top = max(1, int(np.ceil(0.01 * len(eq.y))))
    notes = [f"leverage: {share:.1%} of the fit's weight (minus the derivative of its estimating "
             f"equation) is in the top 1% of accounts ({top} of {len(eq.y)})"]
    if share > cut:
        notes.append(f"{results.FRAGILE} {share:.1%} of the fit's weight is in its top {top} accounts (more "
                     f"than {cut:.0%}): the validation battery found no interval that covers "
                     "when so few accounts carry a fit, so no verdict rests on this entry alone")
    return share, notes


def _elasticity_entry(test_id, fit, eq, notes):
    if fit is None or not fit.converged:
        return _entry(test_id, 0 if fit is None else fit.n, notes, fit=fit,
                      why="model did not converge: no estimate")
    beta = np.asarray(fit.result.params)[:2]
    low, high, p_value, cov = _interval(eq, beta)
    fit.cov = cov
    # the sensitivity refits are account-level NB fits: the NB cut
    _, lever = leverage_note(eq, beta, FRAGILE_LEVERAGE.get(test_id, FRAGILE_LEVERAGE["elasticity_nb_account"]))
    hc0 = float(np.sqrt(eq.sandwich(beta, "HC0")[1, 1]))
    why = unusable(eq, beta, low, high)
    out = _entry(test_id, fit.n, list(notes) + lever + [f"HC0 standard error {hc0:.4g} (for comparison)"],
                 fit=fit, estimate=beta[1], why=why and f"not usable although the optimiser converged: {why}")
    if out["converged"]:
        out["ci_low"], out["ci_high"], out["p_value"] = float(low), float(high), float(p_value)
    return out



def band_indicators(followers):
    """(n, b) 0/1 columns, one per follower band (``dose_response.FOLLOWER_BANDS``) holding at least
    SHAPE_MIN_BAND accounts, the most populous of them left out as the reference; and their labels."""
    bands = follower_band(pd.Series(followers))
    counts = bands.value_counts()
    kept = [band for band in bands.cat.categories if counts[band] >= SHAPE_MIN_BAND]
    kept = [band for band in kept if band != counts[kept].idxmax()] if kept else []
    columns = np.column_stack([(bands == band).to_numpy(float) for band in kept]) if kept else np.empty((len(bands), 0))
    return columns, kept


@dataclass
class ShapeCheck:
    """The Wald test of follower-band terms added beside log(1 + followers) in one account-level fit."""

    statistic: float  # F: the Wald chi-square over its q degrees of freedom
    q: int
    df: int  # denominator degrees of freedom: accounts minus coefficients
    p_value: float
    bands: list


def shape_check(eq, beta, followers):
    """Are follower-band indicators, beside the log-linear slope, zero? (None when it cannot be asked.)

    The same estimating equation (same offset, same alpha held at its estimate) with the band columns added,
    solved from ``beta``; the extra terms' Wald statistic uses the HC3 sandwich the elasticity's interval
    uses, against F(q, n - k). NB and PPML project a step onto nearly the same slope, so comparing the two
    (``elasticity_ppml_minus_nb``) has almost no power against it; this has. Rejected at SHAPE_LEVEL.
    """
    extra, bands = band_indicators(followers)
    if not extra.shape[1]:
        return None
    wide = estimating.Equation(eq.y, np.column_stack([eq.X, extra]), eq.offset, eq.alpha, eq.per)
    solved = wide.solve(np.append(beta, np.zeros(extra.shape[1])))
    if not np.all(np.isfinite(solved)):
        return None
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        cov = wide.sandwich(solved, "HC3")[2:, 2:]
    terms = solved[2:]
    try:
        chi2 = float(terms @ np.linalg.solve(cov, terms))
    except np.linalg.LinAlgError:
        return None
    q, df = len(terms), len(eq.y) - wide.X.shape[1]
    if not (np.isfinite(chi2) and chi2 >= 0 and df > 0):
        return None
    return ShapeCheck(chi2 / q, q, df, float(stats.f.sf(chi2 / q, q, df)), bands)


def _shape_warnings(check, estimator):
    if check is None:
        return [f"shape check not computed: too few accounts per follower band, or the {estimator} fit with "
                "band terms did not solve"]
    found = (f"follower-band terms ({', '.join(check.bands)}; the most populous band the reference) beside "
             f"log(1 + followers) in the same {estimator} equation: Wald F = {check.statistic:.3g} on {check.q} "
             f"and {check.df} df (HC3), p = {check.p_value:.2g}")
    if check.p_value >= SHAPE_LEVEL:
        return [f"shape check: {found}"]
    return [f"{results.MISSPECIFIED} the log-linear curve does not fit: {found}; read the association by "
            "follower band, not one elasticity"]


@dataclass
class BatchInterval:
    """The elasticity's interval with accounts clustered by creation week or day, or by coordination group."""

    low: float
    high: float
    clusters: int
    ratio: float  # its width over the account-level interval's
    p_value: float  # at 0, from the same t
    df: float
    method: str  # BATCH_METHODS' key
    units: str = "days"  # what a cluster is, as the notes name it

    def describe(self):
        return f"{self.clusters} {self.units}, {self.method}, t on {self.df:.3g} df"


# The sandwiches tried for the interval clustered by creation day (validation/reduced.py chose BATCH_METHOD on days).
BATCH_METHODS = {"CR1": "CR1 sandwich, times G / (G - 1) (n - 1) / (n - k), t on G - 1 df (Cameron and Miller)",
                 "CR2": "CR2 sandwich (Bell and McCaffrey), t on its Satterthwaite df (Pustejovsky and Tipton)"}
BATCH_METHOD = "CR2"


def batch_interval(eq, beta, batches, low, high, method=BATCH_METHOD, units="days", counted=None):
    """The elasticity's interval with each batch a cluster (``BATCH_METHODS[method]``), scores summed per batch;
    None with under BATCH_MIN_CLUSTERS batches (``counted``: those that count, when not every cluster does, e.g.
    accounts alone). Accounts an operator made in one week, or runs as one coordinated group, share its content
    and its bought followers, so their engagement is not independent, and an interval over accounts is then too
    narrow."""
    codes = np.unique(batches, return_inverse=True)[1]
    clusters = int(codes.max()) + 1
    counted = clusters if counted is None else counted
    if counted < BATCH_MIN_CLUSTERS:
        return None
    if method == "CR2":
        found = estimating.cr2_bm_interval(eq, beta, codes)
        return BatchInterval(found.low, found.high, counted, (found.high - found.low) / (high - low),
                             found.p_value, float(found.df), method, units)
    scores = eq.scores(beta)
    summed = np.column_stack([np.bincount(codes, weights=scores[:, j], minlength=clusters)
                              for j in range(scores.shape[1])])
    n, k = eq.X.shape
    bread = np.linalg.inv(eq.information(beta))
    cov = bread @ (summed.T @ summed) @ bread * clusters / (clusters - 1) * (n - 1) / (n - k)
    se, df = float(np.sqrt(cov[1, 1])), clusters - 1
    half = float(stats.t.ppf(0.975, df) * se)
    p_value = float(2 * stats.t.sf(abs(beta[1]) / se, df))
    return BatchInterval(beta[1] - half, beta[1] + half, counted, 2 * half / (high - low), p_value, float(df),
                         method, units)


# Creation batches, in order of preference: (the unit clustered by, a results.CLUSTERED_BY key; its width in days;
# what its clusters are called). The week was chosen over the day on seeds 1-40 (validation/reduced.py definition):
# batches made over 3-7 days split across days, and clustered by day the reported interval covered 230 of 280
# replicates with a shared effect, by week 253, with no warning without one in either (docs/statistics.md).
BATCH_UNITS = (("creation week", 7, "weeks"), ("creation day", 1, "days"))


def _with_batches(entry, eq, beta, acc, units=None):
    """The account-level entry with a note for each way batches can be seen: accounts made in the same creation
    week (``batch_codes``; ``units``: its choice of units), and accounts in the same coordination group (the others
    alone). A clustering fires when its interval is BATCH_WIDER times as wide or more, or the residuals are
    correlated within its clusters (RESIDUAL_CORRELATION, RESIDUAL_Z). Then the entry warns ``clustered:``, and
    reports the widest of the account-level interval and every clustered one (interval and p-value), so every
    reader (the report's verdict too) uses the interval that holds, never a narrower one (review 30)."""
    if not entry["converged"]:
        return entry
    low, high, usable, fired = entry["ci_low"], entry["ci_high"], [], []
    residuals = eq.working_regression(beta)[1]
    for key, prefix in (("batches", "batches"), ("groups", "coordination groups")):
        if acc[key] is None:
            if key == "batches":
                entry["warnings"].append("batches cannot be seen: the account table has no creation dates, so "
                                         "the interval assumes accounts independent")
            continue
        if key == "batches":
            by, units_named, codes, counted = batch_codes(acc[key], units)
        else:
            by, codes = "coordination group", acc[key]
            counted = groups_counted(codes)
            units_named = "coordination groups of 2 or more accounts, every other account alone"
        found = batch_interval(eq, beta, codes, low, high, units=units_named, counted=counted)
        if found is None:
            entry["warnings"].append(f"{prefix}: {counted} {units_named.split(',')[0]}, fewer than "
                                     f"{BATCH_MIN_CLUSTERS}: no interval clustered by {by}")
            continue
        rho, z = estimating.within_cluster_correlation(residuals, codes)
        text = (f"interval with accounts clustered by {by} ({found.describe()}): {found.low:.4g} to "
                f"{found.high:.4g}, {found.ratio:.2f} times as wide")
        correlation = f"residuals correlated {rho:.2g} within a {by} (z = {z:.3g})"
        why = unusable(eq, beta, found.low, found.high) if np.isfinite(found.ratio) else "its width is not a number"
        if why is not None:  # e.g. one day's accounts alone determine the slope: nothing to replace the interval with
            entry["warnings"].append(f"{prefix}: the interval clustered by {by} cannot be used ({why}); the "
                                     f"account-level interval is kept and assumes accounts independent; {correlation}")
            continue
        usable.append((found, by, prefix, text, correlation))
        if found.ratio >= BATCH_WIDER or (rho >= RESIDUAL_CORRELATION and z >= RESIDUAL_Z):
            fired.append(usable[-1])
    if not fired:
        entry["warnings"] += [f"{prefix}: {text}; {correlation}" for _, _, prefix, text, correlation in usable]
        return entry
    found, by, _, text, correlation = max(fired, key=lambda candidate: candidate[0].ratio)
    widest = max(usable, key=lambda candidate: candidate[0].ratio)
    entry["warnings"] += [f"{prefix}: {other_text}; {other_correlation}"
                          for _, other_by, prefix, other_text, other_correlation in usable if other_by != by]
    reported = (results.clustered_reported(widest[1]) if widest[0].ratio > 1 else results.CLUSTERED_KEPT)
    entry["warnings"].append(f"{results.CLUSTERED} the accounts appear to {results.CLUSTERED_BY[by]}: the {text} as "
                             f"the account-level interval ({low:.4g} to {high:.4g}, p = {entry['p_value']:.2g}), "
                             f"which assumes accounts independent; {correlation}; {reported}")
    if widest[0].ratio > 1:
        entry["ci_low"], entry["ci_high"] = float(widest[0].low), float(widest[0].high)
        entry["p_value"] = widest[0].p_value
    return entry


def _misspecification_entry(entries, notes):
    """PPML's elasticity minus the NB's, with the differences both 95% intervals allow.

    The interval [low_P - high_N, high_P - low_N] covers the true difference whenever both
    intervals cover (at least 90% by Bonferroni); it excludes 0 exactly when they do not
    overlap, which is when the log-linear mean is called misspecified. A formal test of the
    difference (its jackknife variance) raised false alarms far above its level on the
    battery's log-linear mechanisms, where PPML's few heavy accounts carry it (docs/statistics.md).
    """
    test_id = "elasticity_ppml_minus_nb"
    nb, ppml = entries["elasticity_nb_account"], entries["elasticity_ppml_account"]
    if not (nb["converged"] and ppml["converged"]) or nb["ci_low"] is None or ppml["ci_low"] is None:
        return results.entry(test_id, METHODS[test_id], n=nb["n"], converged=False,
                             warnings=[*notes, "needs both account-level elasticities with intervals"])
    difference = ppml["estimate"] - nb["estimate"]
    low, high = ppml["ci_low"] - nb["ci_high"], ppml["ci_high"] - nb["ci_low"]
    warnings = list(notes)
    if low > 0 or high < 0:
        warnings.append(
            f"misspecified: the log-linear mean does not fit (PPML {ppml['estimate']:.3g}, 95% CI "
            f"{ppml['ci_low']:.3g} to {ppml['ci_high']:.3g}; NB {nb['estimate']:.3g}, {nb['ci_low']:.3g} to "
            f"{nb['ci_high']:.3g}); read the dose-response by follower band, not one elasticity")
        if results.fragile(ppml):
            warnings.append("PPML's interval is fragile: part of the gap may be its undercoverage")
    return results.entry(test_id, METHODS[test_id], difference, (low, high), n=nb["n"], warnings=warnings)


def _sensitivity_entries(acc, fits, seconds):
    """The primary elasticity refitted without the top accounts by engagement."""
    return [_without_top(acc, fits["nb_account"], test_id, top, seconds) for test_id, top in SENSITIVITY_TOP.items()]


def _without_top(acc, full_fit, test_id, top, seconds):
    """The account-level NB refitted, from the whole fit, without the ``top`` accounts by engagement (an int: that
    many; a float: that share)."""
    order = np.argsort(-acc["y"], kind="stable")
    k = int(np.ceil(top * len(order))) if isinstance(top, float) else top
    if len(order) - k < 10 or not full_fit.converged:
        return _entry(test_id, max(len(order) - k, 0), [],
                      why="skipped: too few accounts, or the full NB fit did not converge")
    keep = np.sort(order[k:])
    y, X, offset = acc["y"][keep], acc["X"][keep], acc["offset"][keep]
    full = np.asarray(full_fit.result.params)
    fit = _timed(seconds, test_id, fitting.fit_nb, y, X, offset=offset, start=full)
    note = f"without the {k} accounts with most engagement ({acc['y'][order[:k]].sum():.0f} of " \
           f"{acc['y'].sum():.0f} engagements)"
    eq = _equation(fit, {"y": y, "X": X, "offset": offset}) if fit.converged else None
    return _elasticity_entry(test_id, fit, eq, [note])


def primary_elasticity(accounts, *, without_top: int | float = 0) -> dict:
    """The primary elasticity (account-level NB) refitted on an accounts frame exactly as ``fit_engagement_models``
    fits it: its results entry, for exploring from a step's frames without running the step again.

    ``without_top`` first leaves out the top accounts by engagement (an int: that many; a float: that share), as the
    sensitivity entries do; the entry's id is the registered measure of that option (10 and 0.01 have one), else the
    primary's, with the accounts left out said in its warnings.
    """
    acc, seconds = _account_data(accounts), {}
    y, X, offset = acc["y"], acc["X"], acc["offset"]
    ppml = fitting.fit_poisson(y, X, offset=offset, robust="nonrobust")
    nb = fitting.fit_nb(y, X, offset=offset, start=_start(ppml, y, X, offset))
    if not without_top:
        return _elasticity_entry("elasticity_nb_account", nb, _equation(nb, acc) if nb.converged else None,
                                 acc["notes"])
    test_id = {top: test_id for test_id, top in SENSITIVITY_TOP.items()}.get(without_top, "elasticity_nb_account")
    return _without_top(acc, nb, test_id, without_top, seconds)


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
    equations: dict = field(default_factory=dict, repr=False)  # fit name -> estimating.Equation

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
        counts = np.arange(max_count + 1)[:, None]
        # the counts x means pmf in blocks of means: at the account level of 2.5M accounts it would be 1 GB whole
        block = max(1, ROOTOGRAM_CELLS // len(counts))
        expected = sum(stats.nbinom.pmf(counts, size, size / (size + mu_values[None, start:start + block]))
                       @ mu_counts[start:start + block] for start in range(0, len(mu_values), block))
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
        ok = all(part.converged for part in parts) and parts[0].n > 0
        n = parts[0].n
        k = sum(len(part.result.params) for part in parts) if ok else np.nan
        llf = sum(float(part.result.llf) for part in parts) if ok else np.nan
        rows.append({"model": label, "level": level, "n": n, "n_params": k, "loglik": llf,
                     "aic": 2 * k - 2 * llf, "bic": k * np.log(n) - 2 * llf if ok else np.nan,
                     "converged": ok})
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
    elif not len(y):  # nothing to fit; the fit itself says why
        return np.append(np.zeros(X.shape[1]), 1.0)
    else:
        beta = np.zeros(X.shape[1])
        beta[0] = np.log(max(y.sum(), 1) / np.exp(offset).sum() if offset is not None
                         else max(y.mean(), 1e-6))
    mu = np.exp(X @ beta + (0 if offset is None else offset))
    return np.append(beta, fitting.moment_alpha(y, mu))


def _quantile_entries(fits, notes, data, seconds):
    entries = []
    bands = follower_band(pd.Series(data["followers"])).cat.codes.to_numpy()
    for test_id, q in (("quantreg_median_followers", 0.5), ("quantreg_p90_followers", 0.9)):
        name = f"quantreg_{q:g}"
        fit, bse = _timed(seconds, name, fitting.fit_quantile, data["y_log"], data["X"], q,
                          groups=data.get("groups"), bands=bands)
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


def fit_engagement_models(accounts, tweets=None, *, seed=0, max_tweet_rows=MAX_TWEET_ROWS, groups=None):
    """Fit the count models of engagement on log(1 + followers); see the module docstring.

    ``accounts`` and ``tweets`` follow the tidy-frame contract of ``helpers.frames``;
    with ``tweets=None`` (an account table or a users file) the tweet-level entries are present,
    unconverged, with the reason in ``warnings``. ``seed`` only matters above
    ``max_tweet_rows`` tweets (the seeded sample of whole accounts). ``groups``: the coordinated accounts
    (userid, group; ``Coordination.accounts``), for the account-level elasticities' interval clustered by
    coordination group; None when no coordination was measured.
    """
    fits, seconds, equations = {}, {}, {}
    acc = _account_data(accounts, groups)
    y, X, offset, notes = acc["y"], acc["X"], acc["offset"], acc["notes"]
    # its statsmodels covariance is never read (the interval is the equation's), so the cheap one
    fits["ppml_account"] = _timed(seconds, "ppml_account", fitting.fit_poisson, y, X, offset=offset,
                                  robust="nonrobust")
    fits["nb_account"] = _timed(seconds, "nb_account", fitting.fit_nb, y, X, offset=offset,
                                start=_start(fits["ppml_account"], y, X, offset))
    for name, alpha in (("ppml_account", 0.0), ("nb_account", None)):
        if fits[name].converged:
            equations[name] = _equation(fits[name], acc, alpha=alpha)
    tests = [_timed(seconds, f"{test_id}_interval", _elasticity_entry, test_id, fits[name], equations.get(name),
                    notes)
             for test_id, name in (("elasticity_nb_account", "nb_account"),
                                   ("elasticity_ppml_account", "ppml_account"))]
    for entry, name, estimator in ((tests[0], "nb_account", "NB"), (tests[1], "ppml_account", "PPML")):
        if entry["converged"]:
            beta = np.asarray(fits[name].result.params)[:2]
            _with_batches(entry, equations[name], beta, acc)
            entry["warnings"] += _shape_warnings(
                _timed(seconds, f"{name}_shape", shape_check, equations[name], beta, acc["followers"]), estimator)
    tests += [_overdispersion_entry(fits, notes),
              _misspecification_entry({entry["id"]: entry for entry in tests}, notes)]
    tests += _sensitivity_entries(acc, fits, seconds)
    data = {"account": acc}
    if tweets is None:
        why = "skipped: no tweet-level data (an account table, a users file only, or every tweet row rejected)"
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
        if fits["nb_tweet"].converged:
            equations["nb_tweet"] = _equation(fits["nb_tweet"], tw, per_tweet=True)
        tests.append(_timed(seconds, "elasticity_nb_tweet_clustered_interval", _elasticity_entry,
                            "elasticity_nb_tweet_clustered", fits["nb_tweet"], equations.get("nb_tweet"), notes))
        tests += _hurdle_entries(fits, tw, seconds)
        tw["y_log"] = np.log1p(y)
        tests += _quantile_entries(fits, notes, tw, seconds)
    return EngagementModels(tests, _comparison(fits), fits, data, seconds, equations)


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
