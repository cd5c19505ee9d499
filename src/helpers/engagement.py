"""Descriptive statistics of followers and engagement, with account-bootstrap intervals.

Every interval resamples ACCOUNTS (tweets of one account share its followers
and its operator) with ``helpers.bootstrap.resample_weights`` and is a
percentile interval. A statistic is written once, as a function of a
(resamples x accounts) weight matrix; the plug-in estimate is the same
function at unit weights, so estimate and interval cannot disagree on the
definition. Quantiles use the inverted-CDF definition (an observed value).
"""

import numpy as np
import pandas as pd
from scipy import stats

from helpers.bootstrap import resample_weights
from helpers.results import entry, skipped

LEVEL = 0.95
BOOT = "account-bootstrap percentile 95% interval"
COMPONENT_NAMES = {"likes": "likes", "retweets": "retweets", "replies": "replies", "quotes": "quotes"}


# --- statistics of weighted values: each takes a (k, n) weight matrix, returns k values ---

def weighted_share(indicator):
    indicator = np.asarray(indicator, float)
    return lambda w: (w @ indicator) / w.sum(axis=1)


def weighted_ratio(numerator, denominator):
    numerator, denominator = np.asarray(numerator, float), np.asarray(denominator, float)

    def statistic(w):
        with np.errstate(invalid="ignore", divide="ignore"):
            return (w @ numerator) / (w @ denominator)
    return statistic


def weighted_quantile(values, q):
    """Smallest value whose weighted CDF reaches q (numpy's 'inverted_cdf')."""
    order = np.argsort(values, kind="stable")
    ordered = np.asarray(values, float)[order]

    def statistic(w):
        cum = np.cumsum(w[:, order], axis=1)
        return ordered[np.argmax(cum >= q * cum[:, -1:] - 1e-9 * cum[:, -1:], axis=1)]
    return statistic


def weighted_gini(values):
    """Gini = 1 - sum over the Lorenz steps of (dP)(L_i + L_{i-1}): mean |x_i - x_j| / (2 mean)."""
    order = np.argsort(values, kind="stable")
    ordered = np.asarray(values, float)[order]

    def statistic(w):
        w = w[:, order].astype(float)
        population = np.cumsum(w, axis=1) / w.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            lorenz = np.cumsum(w * ordered, axis=1) / (w @ ordered)[:, None]
        dp = np.diff(population, axis=1, prepend=0)
        previous = np.concatenate([np.zeros((len(w), 1)), lorenz[:, :-1]], axis=1)
        return 1 - (dp * (lorenz + previous)).sum(axis=1)
    return statistic


def weighted_top_share(values, top=0.01, group=None):
    """Share of the total held by the top ``top`` of units (the boundary unit counted fractionally).

    ``group`` maps units (e.g. tweets) to the resampled accounts; default: units are accounts.
    """
    order = np.argsort(-np.asarray(values, float), kind="stable")
    ordered = np.asarray(values, float)[order]
    group = np.arange(len(ordered)) if group is None else np.asarray(group)[order]

    def statistic(w):
        out = np.empty(len(w))
        for i, row in enumerate(w):  # one pass per resample, vectorised over units
            unit_w = row[group].astype(float)
            cum_w, cum_v = np.cumsum(unit_w), np.cumsum(unit_w * ordered)
            target = top * cum_w[-1]
            j = int(np.argmax(cum_w >= target - 1e-9))
            before_w, before_v = (cum_w[j - 1], cum_v[j - 1]) if j else (0.0, 0.0)
            out[i] = (before_v + (target - before_w) * ordered[j]) / cum_v[-1] if cum_v[-1] else np.nan
        return out
    return statistic


def rank_correlation(x, y, method):
    """Spearman or Kendall (tau-b) correlation of each resample (the accounts drawn, with repeats)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    correlate = {"spearman": stats.spearmanr, "kendall": stats.kendalltau}[method]

    def statistic(w):
        out = np.empty(len(w))
        for i, row in enumerate(w):
            drawn = np.repeat(np.arange(len(x)), row)
            out[i] = correlate(x[drawn], y[drawn]).statistic
        return out
    return statistic


def bootstrap(statistic, n_accounts, *, n_boot=999, seed=0, level=LEVEL):
    """(estimate, (ci_low, ci_high), warnings): plug-in and percentile interval over account resamples."""
    if n_accounts == 0:
        return None, (None, None), ["no accounts"]
    estimate = float(statistic(np.ones((1, n_accounts), dtype=np.int64))[0])
    replicates = np.concatenate([statistic(w) for w in resample_weights(n_accounts, n_boot, seed)])
    finite = replicates[np.isfinite(replicates)]
    warnings = []
    if len(finite) < len(replicates):
        warnings.append(f"{len(replicates) - len(finite)} of {len(replicates)} resamples left the "
                        "statistic undefined and were dropped")
    if not np.isfinite(estimate) or len(finite) < 0.9 * len(replicates):
        return (estimate if np.isfinite(estimate) else None), (None, None), warnings + ["no interval"]
    alpha = (1 - level) / 2
    low, high = np.quantile(finite, [alpha, 1 - alpha])
    return estimate, (float(low), float(high)), warnings


def bootstrapped_entry(test_id, question, method, statistic, n_accounts, *, n, n_boot, seed, warnings=()):
    """A result entry whose estimate and interval come from ``bootstrap``."""
    estimate, ci, notes = bootstrap(statistic, n_accounts, n_boot=n_boot, seed=seed)
    if estimate is None:
        return entry(test_id, question, method, n=n, converged=False,
                     warnings=[*warnings, "skipped: undefined on this data", *notes])
    return entry(test_id, question, f"{method}; {BOOT} ({n_boot} resamples of {n_accounts} accounts)",
                 estimate, ci, n=n, warnings=[*warnings, *notes])


# --- the result entries ---

def follower_tests(accounts, *, n_boot=999, seed=0) -> list[dict]:
    known = accounts["follower_count"].dropna().to_numpy(float)
    notes = _unknown_note(accounts)
    common = dict(n=len(known), n_boot=n_boot, seed=seed, warnings=notes)
    return [
        bootstrapped_entry("followers_share_zero", "What share of the accounts had no followers?",
                            "share of accounts with follower_count 0 (at suspension)",
                            weighted_share(known == 0), len(known), **common),
        bootstrapped_entry("followers_share_under_10", "What share of the accounts had fewer than 10 followers?",
                            "share of accounts with follower_count below 10 (at suspension)",
                            weighted_share(known < 10), len(known), **common),
        bootstrapped_entry("followers_median", "What was the median follower count of an account?",
                            "median follower_count (inverted-CDF: an observed value)",
                            weighted_quantile(known, 0.5), len(known), **common),
    ]


def engagement_tests(accounts, tweets=None, *, n_boot=999, seed=0) -> list[dict]:
    """Engagement per tweet (sum and components), zero shares and concentration."""
    active = accounts[accounts["n_original"] > 0]
    n_tweets = int(active["n_original"].sum())
    per_tweet = "ratio of sums over accounts: total {} on original tweets / number of original tweets"
    common = dict(n_boot=n_boot, seed=seed)
    out = [bootstrapped_entry(
        "engagement_per_tweet_mean", "How much engagement (likes + retweets + replies + quotes) did an original tweet get on average?",
        per_tweet.format("engagement"), weighted_ratio(active["engagement"], active["n_original"]),
        len(active), n=n_tweets, **common)]
    for column in COMPONENT_NAMES:
        test_id = f"{column}_per_tweet_mean"
        question = f"How many {column} did an original tweet get on average?"
        known = active[active[column].notna()]
        if known.empty:
            out.append(skipped(test_id, question, per_tweet.format(column), f"the data has no {column} counts"))
            continue
        out.append(bootstrapped_entry(test_id, question, per_tweet.format(column),
                                       weighted_ratio(known[column], known["n_original"]), len(known),
                                       n=int(known["n_original"].sum()), **common))
    zero_tweets_q = "What share of original tweets got no engagement at all?"
    zero_tweets_m = "original tweets with likes + retweets + replies + quotes = 0 / original tweets"
    if active["n_zero_engagement"].notna().all() and len(active):
        out.append(bootstrapped_entry("engagement_share_zero_tweets", zero_tweets_q, zero_tweets_m,
                                       weighted_ratio(active["n_zero_engagement"], active["n_original"]),
                                       len(active), n=n_tweets, **common))
    else:
        out.append(skipped("engagement_share_zero_tweets", zero_tweets_q, zero_tweets_m, "needs tweet-level data"))
    totals = active["engagement"].to_numpy(float)
    accounts_note = "accounts with at least one original tweet"
    out += [
        bootstrapped_entry("engagement_share_zero_accounts",
                            "What share of the accounts that posted got no engagement on any tweet?",
                            f"share of {accounts_note} whose engagement total is 0",
                            weighted_share(totals == 0), len(active), n=len(active), **common),
        bootstrapped_entry("gini_engagement_accounts", "How unequally was engagement spread across accounts?",
                            f"Gini coefficient of engagement totals across {accounts_note}",
                            weighted_gini(totals), len(active), n=len(active), **common),
        bootstrapped_entry("top1pct_accounts_engagement_share",
                            "What share of all engagement went to the top 1% of accounts?",
                            f"share of engagement earned by the 1% of {accounts_note} with most engagement",
                            weighted_top_share(totals), len(active), n=len(active), **common),
    ]
    out.append(top_tweets_entry(tweets, n_boot=n_boot, seed=seed))
    return out


def top_tweets_entry(tweets, *, n_boot=999, seed=0) -> dict:
    test_id, question = "top1pct_tweets_engagement_share", "What share of all engagement went to the top 1% of tweets?"
    method = "share of engagement earned by the 1% of original tweets with most engagement"
    if tweets is None or tweets.empty:
        return skipped(test_id, question, method, "needs tweet-level data")
    codes, uniques = pd.factorize(tweets["userid"], sort=True)
    return bootstrapped_entry(test_id, question, method,
                               weighted_top_share(tweets["engagement"].to_numpy(float), group=codes),
                               len(uniques), n=len(tweets), n_boot=n_boot, seed=seed)


def rank_tests(accounts, *, n_boot=999, seed=0) -> list[dict]:
    """Spearman and Kendall association of follower count with engagement per original tweet."""
    usable = accounts[(accounts["n_original"] > 0) & accounts["follower_count"].notna()]
    x = usable["follower_count"].to_numpy(float)
    y = (usable["engagement"] / usable["n_original"]).to_numpy(float)
    out = []
    for method, name, scipy_name in [("spearman", "Spearman's rho", "spearmanr"),
                                     ("kendall", "Kendall's tau-b", "kendalltau")]:
        test_id = f"{method}_followers_engagement"
        question = "Did accounts with more followers get more engagement per tweet (rank association)?"
        description = (f"{name} between an account's follower_count and its engagement per original tweet, "
                       f"over accounts with at least one original tweet; p-value from scipy.stats.{scipy_name} "
                       "(H0: no association)")
        if len(usable) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
            out.append(skipped(test_id, question, description, "fewer than 3 accounts or a constant variable"))
            continue
        result = bootstrapped_entry(test_id, question, description, rank_correlation(x, y, method),
                                     len(usable), n=len(usable), n_boot=n_boot, seed=seed,
                                     warnings=_unknown_note(accounts))
        result["p_value"] = float(getattr(stats, scipy_name)(x, y).pvalue)
        out.append(result)
    return out


def _unknown_note(accounts):
    unknown = int(accounts["follower_count"].isna().sum())
    return [f"{unknown} accounts with unknown follower count left out"] if unknown else []


# --- descriptive tables ---

QUANTILES = [0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1.0]


def follower_quantiles(accounts) -> pd.DataFrame:
    known = accounts["follower_count"].dropna()
    values = np.quantile(known, QUANTILES, method="inverted_cdf") if len(known) else [np.nan] * len(QUANTILES)
    return pd.DataFrame({"quantile": QUANTILES, "follower_count": values})


def engagement_quantiles(accounts, tweets=None) -> pd.DataFrame:
    """Quantiles of engagement per original tweet, per account (total) and per account's tweet (mean)."""
    active = accounts[accounts["n_original"] > 0]

    def q(values):
        return np.quantile(values, QUANTILES, method="inverted_cdf") if len(values) else [np.nan] * len(QUANTILES)
    table = pd.DataFrame({"quantile": QUANTILES,
                          "per_tweet": q(tweets["engagement"]) if tweets is not None else np.nan,
                          "per_account_total": q(active["engagement"]),
                          "per_account_mean_per_tweet": q(active["engagement"] / active["n_original"])})
    return table


def lorenz_points(values) -> pd.DataFrame:
    """Lorenz curve: cumulative share of units (poorest first) against their cumulative share of the total."""
    ordered = np.sort(np.asarray(values, float))
    total = ordered.sum()
    return pd.DataFrame({"population_share": np.arange(len(ordered) + 1) / max(len(ordered), 1),
                         "engagement_share": np.concatenate([[0.0], np.cumsum(ordered) / total]) if total else np.nan})
