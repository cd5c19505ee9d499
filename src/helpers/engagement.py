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
from scipy import sparse, stats

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
    values = np.asarray(values, float)
    group = np.arange(len(values)) if group is None else np.asarray(group)
    order = np.argsort(-values, kind="stable")
    ordered, ordered_group = values[order], group[order]
    per_account_total = np.bincount(group, weights=values)
    per_account_units = np.bincount(group).astype(float)
    head = min(len(values), 3 * int(np.ceil(top * len(values))) + 100)  # the top share lies in the head

    def statistic(w):
        totals_v, totals_w = w @ per_account_total, w @ per_account_units
        out = np.full(len(w), np.nan)
        for i, row in enumerate(w):  # per resample, vectorised over the head of the ranking
            target = top * totals_w[i]
            for stop in (head, len(ordered)):
                unit_w = row[ordered_group[:stop]].astype(float)
                cum_w = np.cumsum(unit_w)
                if cum_w[-1] >= target - 1e-9:
                    break
            cum_v = np.cumsum(unit_w * ordered[:stop])
            j = int(np.argmax(cum_w >= target - 1e-9))
            before_w, before_v = (cum_w[j - 1], cum_v[j - 1]) if j else (0.0, 0.0)
            if totals_v[i]:
                out[i] = (before_v + (target - before_w) * ordered[j]) / totals_v[i]
        return out
    return statistic


def weighted_ranks(values, w):
    """Mid-ranks of each unit within each resample (units repeated ``w`` times), shape (k, n)."""
    uniques, inverse = np.unique(values, return_inverse=True)
    onehot = sparse.csr_array((np.ones(len(values)), (np.arange(len(values)), inverse)),
                              shape=(len(values), len(uniques)))
    per_value = (onehot.T @ w.T).T  # (k, distinct values): draws of each value
    midrank = np.cumsum(per_value, axis=1) - per_value + (per_value + 1) / 2
    return midrank[:, inverse]


def rank_correlation(x, y, method):
    """Spearman or Kendall (tau-b) correlation of each resample (the accounts drawn, with repeats)."""
    x, y = np.asarray(x, float), np.asarray(y, float)

    def spearman(w):  # Pearson correlation of mid-ranks, weighted by the draws
        w = w.astype(float)
        rx, ry = weighted_ranks(x, w), weighted_ranks(y, w)
        total = w.sum(axis=1, keepdims=True)
        dx = rx - (w * rx).sum(axis=1, keepdims=True) / total
        dy = ry - (w * ry).sum(axis=1, keepdims=True) / total
        with np.errstate(invalid="ignore", divide="ignore"):
            return (w * dx * dy).sum(axis=1) / np.sqrt((w * dx * dx).sum(axis=1) * (w * dy * dy).sum(axis=1))

    def kendall(w):
        out = np.empty(len(w))
        for i, row in enumerate(w):
            drawn = np.repeat(np.arange(len(x)), row)
            out[i] = stats.kendalltau(x[drawn], y[drawn]).statistic
        return out
    return {"spearman": spearman, "kendall": kendall}[method]


def bootstrap(statistic, n_accounts, *, n_boot=999, seed=0, level=LEVEL):
    """(estimate, (ci_low, ci_high), warnings): plug-in and percentile interval over account resamples."""
    return bootstrap_many([statistic], n_accounts, n_boot=n_boot, seed=seed, level=level)[0]


def bootstrap_many(statistics, n_accounts, *, n_boot=999, seed=0, level=LEVEL):
    """``bootstrap`` of several statistics of the same accounts over one pass of resamples."""
    if n_accounts == 0:
        return [(None, (None, None), ["no accounts"]) for _ in statistics]
    ones = np.ones((1, n_accounts), dtype=np.int64)
    estimates = [float(statistic(ones)[0]) for statistic in statistics]
    replicates = [[] for _ in statistics]
    for w in resample_weights(n_accounts, n_boot, seed):
        for store, statistic in zip(replicates, statistics):
            store.append(statistic(w))
    return [_percentile(estimate, np.concatenate(reps), level) for estimate, reps in zip(estimates, replicates)]


def _percentile(estimate, replicates, level):
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
    return bootstrapped_entries([(test_id, question, method, statistic, n)], n_accounts,
                                n_boot=n_boot, seed=seed, warnings=warnings)[0]


def bootstrapped_entries(specs, n_accounts, *, n_boot, seed, warnings=()):
    """Entries for ``(id, question, method, statistic, n)`` specs over the same accounts (one resampling pass)."""
    out = []
    outcomes = bootstrap_many([spec[3] for spec in specs], n_accounts, n_boot=n_boot, seed=seed)
    for (test_id, question, method, _, n), (estimate, ci, notes) in zip(specs, outcomes):
        if estimate is None:
            out.append(entry(test_id, question, method, n=n, converged=False,
                             warnings=[*warnings, "skipped: undefined on this data", *notes]))
        else:
            out.append(entry(test_id, question, f"{method}; {BOOT} ({n_boot} resamples of {n_accounts} accounts)",
                             estimate, ci, n=n, warnings=[*warnings, *notes]))
    return out


# --- the result entries ---

def follower_tests(accounts, *, n_boot=999, seed=0) -> list[dict]:
    known = accounts["follower_count"].dropna().to_numpy(float)
    n = len(known)
    specs = [
        ("followers_share_zero", "What share of the accounts had no followers?",
         "share of accounts with follower_count 0 (at suspension)", weighted_share(known == 0), n),
        ("followers_share_under_10", "What share of the accounts had fewer than 10 followers?",
         "share of accounts with follower_count below 10 (at suspension)", weighted_share(known < 10), n),
        ("followers_median", "What was the median follower count of an account?",
         "median follower_count (inverted-CDF: an observed value)", weighted_quantile(known, 0.5), n),
    ]
    return bootstrapped_entries(specs, n, n_boot=n_boot, seed=seed, warnings=_unknown_note(accounts))


def engagement_tests(accounts, tweets=None, *, n_boot=999, seed=0, tweets_note=None) -> list[dict]:
    """Engagement per tweet (sum and components), zero shares and concentration.

    ``tweets_note`` says the tweet frame is a sample; it goes into the entries computed from it.
    """
    active = accounts[accounts["n_original"] > 0]
    n_tweets, n_active = int(active["n_original"].sum()), len(active)
    per_tweet = "ratio of sums over accounts: total {} on original tweets / number of original tweets"
    totals = active["engagement"].to_numpy(float)
    posting = "accounts with at least one original tweet"
    specs = [("engagement_per_tweet_mean",
              "How much engagement (likes + retweets + replies + quotes) did an original tweet get on average?",
              per_tweet.format("engagement"), weighted_ratio(totals, active["n_original"]), n_tweets)]
    separate = []  # entries over another set of accounts, or skipped
    for column in COMPONENT_NAMES:
        test_id, question = f"{column}_per_tweet_mean", f"How many {column} did an original tweet get on average?"
        known = active[active[column].notna()]
        if known.empty:
            separate.append(skipped(test_id, question, per_tweet.format(column), f"the data has no {column} counts"))
        elif len(known) == n_active:
            specs.append((test_id, question, per_tweet.format(column),
                          weighted_ratio(known[column], known["n_original"]), n_tweets))
        else:
            separate.append(bootstrapped_entry(test_id, question, per_tweet.format(column),
                                               weighted_ratio(known[column], known["n_original"]), len(known),
                                               n=int(known["n_original"].sum()), n_boot=n_boot, seed=seed))
    zero_q = "What share of original tweets got no engagement at all?"
    zero_m = "original tweets with likes + retweets + replies + quotes = 0 / original tweets"
    if n_active and active["n_zero_engagement"].notna().all():
        specs.append(("engagement_share_zero_tweets", zero_q, zero_m,
                      weighted_ratio(active["n_zero_engagement"], active["n_original"]), n_tweets))
    else:
        separate.append(skipped("engagement_share_zero_tweets", zero_q, zero_m, "needs tweet-level data"))
    specs += [
        ("engagement_share_zero_accounts", "What share of the accounts that posted got no engagement on any tweet?",
         f"share of {posting} whose engagement total is 0", weighted_share(totals == 0), n_active),
        ("gini_engagement_accounts", "How unequally was engagement spread across accounts?",
         f"Gini coefficient of engagement totals across {posting}", weighted_gini(totals), n_active),
        ("top1pct_accounts_engagement_share", "What share of all engagement went to the top 1% of accounts?",
         f"share of engagement earned by the 1% of {posting} with most engagement", weighted_top_share(totals),
         n_active),
    ]
    entries = bootstrapped_entries(specs, n_active, n_boot=n_boot, seed=seed) + separate
    entries.append(top_tweets_entry(tweets, n_boot=n_boot, seed=seed, warnings=[tweets_note] if tweets_note else []))
    return entries


def top_tweets_entry(tweets, *, n_boot=999, seed=0, warnings=()) -> dict:
    test_id, question = "top1pct_tweets_engagement_share", "What share of all engagement went to the top 1% of tweets?"
    method = "share of engagement earned by the 1% of original tweets with most engagement"
    if tweets is None or tweets.empty:
        return skipped(test_id, question, method, "needs tweet-level data")
    codes, uniques = pd.factorize(tweets["userid"], sort=True)
    return bootstrapped_entry(test_id, question, method,
                               weighted_top_share(tweets["engagement"].to_numpy(float), group=codes),
                               len(uniques), n=len(tweets), n_boot=n_boot, seed=seed, warnings=warnings)


def rank_tests(accounts, *, n_boot=999, seed=0) -> list[dict]:
    """Spearman and Kendall association of follower count with engagement per original tweet."""
    usable = accounts[(accounts["n_original"] > 0) & accounts["follower_count"].notna()]
    x = usable["follower_count"].to_numpy(float)
    y = (usable["engagement"] / usable["n_original"]).to_numpy(float)
    question = "Did accounts with more followers get more engagement per tweet (rank association)?"
    methods = [("spearman", "Spearman's rho", stats.spearmanr), ("kendall", "Kendall's tau-b", stats.kendalltau)]
    specs = [(f"{method}_followers_engagement", question,
              f"{name} between an account's follower_count and its engagement per original tweet, over accounts "
              f"with at least one original tweet; p-value from scipy.stats.{test.__name__} (H0: no association)",
              rank_correlation(x, y, method), len(usable)) for method, name, test in methods]
    if len(usable) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return [skipped(*spec[:3], "fewer than 3 accounts or a constant variable") for spec in specs]
    out = bootstrapped_entries(specs, len(usable), n_boot=n_boot, seed=seed, warnings=_unknown_note(accounts))
    for result, (_, _, test) in zip(out, methods):
        result["p_value"] = float(test(x, y).pvalue)
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
