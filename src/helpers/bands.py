"""Statistics by group: follower bands (dose-response), amplification, account lifespan.

Retweet rows carry no engagement of their own in the archive; here they are
amplification. Intervals resample accounts (within a band for band tables).
"""

import numpy as np
import pandas as pd

from helpers.engagement import bootstrap, bootstrapped_entry, weighted_quantile, weighted_ratio, weighted_share
from helpers.results import entry, skipped

# The last band starts at the archive's hashing threshold (ids hashed below 5,000 followers).
FOLLOWER_BANDS = [(0, 0, "0"), (1, 9, "1-9"), (10, 99, "10-99"), (100, 999, "100-999"),
                  (1_000, 4_999, "1,000-4,999"), (5_000, np.inf, "5,000+")]
LIFESPAN_BANDS = [(0, 30, "< 30 days"), (30, 90, "30-89 days"), (90, 180, "90-179 days"),
                  (180, 365, "180-364 days"), (365, 730, "1-2 years"), (730, np.inf, "2+ years")]
HEAVY_RATIO = 5  # "more than 5 retweets per like"


def follower_band(followers: pd.Series) -> pd.Series:
    """Band label per account (NaN for an unknown count), an ordered categorical."""
    labels = [label for _, _, label in FOLLOWER_BANDS]
    edges = [-0.5] + [high + 0.5 for _, high, _ in FOLLOWER_BANDS[:-1]] + [np.inf]
    return pd.cut(followers.astype(float), edges, labels=labels, ordered=True)


def lifespan_band(days: pd.Series) -> pd.Series:
    edges = [low for low, _, _ in LIFESPAN_BANDS] + [np.inf]
    labels = [label for _, _, label in LIFESPAN_BANDS]
    return pd.cut(days.clip(lower=0), edges, labels=labels, right=False, ordered=True)


def _ratio_with_ci(group, numerator, denominator, n_boot, seed):
    if group[denominator].sum() == 0 or group[numerator].isna().any():
        return np.nan, np.nan, np.nan
    estimate, (low, high), _ = bootstrap(weighted_ratio(group[numerator], group[denominator]), len(group),
                                         n_boot=n_boot, seed=seed)
    return estimate, low, high


def band_table(accounts, *, n_boot=999, seed=0) -> pd.DataFrame:
    """One row per follower band: accounts, tweets, engagement per tweet and retweet-to-like ratio with CIs."""
    frame = accounts.assign(band=follower_band(accounts["follower_count"]))
    rows = []
    for band, group in frame.groupby("band", observed=False, sort=True):
        mean, low, high = _ratio_with_ci(group, "engagement", "n_original", n_boot, seed)
        rtl, rtl_low, rtl_high = _ratio_with_ci(group, "retweets", "likes", n_boot, seed)
        heavy = group["n_retweet_heavy"].sum() / group["n_original"].sum() if group["n_original"].sum() else np.nan
        rows.append({"band": str(band), "accounts": len(group), "accounts_posting": int((group["n_original"] > 0).sum()),
                     "median_followers": group["follower_count"].median(),
                     "tweets": int(group["n_original"].sum()), "engagement": float(group["engagement"].sum()),
                     "engagement_per_tweet": mean, "ci_low": low, "ci_high": high,
                     "retweet_to_like": rtl, "retweet_to_like_ci_low": rtl_low, "retweet_to_like_ci_high": rtl_high,
                     "share_tweets_retweet_heavy": heavy})
    unknown = accounts["follower_count"].isna()
    if unknown.any():
        rows.append({"band": "unknown", "accounts": int(unknown.sum()),
                     "tweets": int(accounts.loc[unknown, "n_original"].sum())})
    return pd.DataFrame(rows)


def amplification_tests(accounts, *, n_boot=999, seed=0) -> list[dict]:
    """In-network retweet share, retweet-to-like ratio, share of retweet-heavy original tweets."""
    common = dict(n_boot=n_boot, seed=seed)
    out = []
    question = "What share of the accounts' retweets were retweets of tweets by accounts in the same takedown?"
    method = ("retweet rows whose retweet_tweetid is a tweetid in the dataset / all retweet rows (ratio of sums "
              "over accounts); the interval resamples accounts, not retweets, because one account's retweets "
              "are not independent (a Wilson interval over rows would be far too narrow)")
    retweeting = accounts[accounts["n_retweets"] > 0]
    if accounts["n_retweets"].isna().all():
        out.append(skipped("in_network_retweet_share", question, method, "needs tweet-level data"))
    elif retweeting.empty:
        out.append(entry("in_network_retweet_share", question, method, n=0, converged=False,
                         warnings=["skipped: the dataset has no retweet rows"]))
    else:
        out.append(_entry("in_network_retweet_share", question, method,
                          weighted_ratio(retweeting["n_retweets_in_network"], retweeting["n_retweets"]),
                          retweeting, n=int(retweeting["n_retweets"].sum()), **common))
    active = accounts[accounts["n_original"] > 0]
    question = "How many retweets did an original tweet get per like?"
    method = ("total retweet_count / total like_count over original tweets (ratio of sums over accounts); "
              "in-network retweets are not in retweet_count")
    if active[["likes", "retweets"]].isna().any().any() or active["likes"].sum() == 0:
        out.append(skipped("retweet_to_like_ratio", question, method, "needs like and retweet counts with likes > 0"))
    else:
        out.append(_entry("retweet_to_like_ratio", question, method,
                          weighted_ratio(active["retweets"], active["likes"]), active,
                          n=int(active["n_original"].sum()), **common))
    question = f"What share of original tweets got more than {HEAVY_RATIO} retweets per like?"
    method = (f"original tweets with retweet_count > {HEAVY_RATIO} x like_count / original tweets; a tweet with "
              "no likes counts when it has at least one retweet, a tweet with neither does not")
    if active["n_retweet_heavy"].isna().any() or active.empty:
        out.append(skipped("share_tweets_over_5_retweets_per_like", question, method, "needs tweet-level data"))
    else:
        out.append(_entry("share_tweets_over_5_retweets_per_like", question, method,
                          weighted_ratio(active["n_retweet_heavy"], active["n_original"]), active,
                          n=int(active["n_original"].sum()), **common))
    return out


def lifespan_tests(accounts, *, n_boot=999, seed=0) -> list[dict]:
    """Were the accounts caught early? Median lifespan and share under 90 days."""
    known = accounts["lifespan_days"].dropna().to_numpy(float)
    method = "days from account creation to its last tweet, over accounts that tweeted"
    ids = [("lifespan_median_days", "How long did an account live, from creation to its last tweet (median)?"),
           ("share_accounts_lifespan_under_90_days", "What share of the accounts stopped tweeting within 90 days of creation?")]
    if len(known) == 0:
        return [skipped(i, q, method, "needs tweet times and creation dates") for i, q in ids]
    notes = []
    if (known < 0).any():
        notes.append(f"{int((known < 0).sum())} accounts tweet before their creation date (negative lifespan kept)")
    statistics = [weighted_quantile(known, 0.5), weighted_share(known < 90)]
    return [_entry(i, q, method + ("" if s is statistics[1] else " (inverted-CDF median)"), s, known,
                   n=len(known), n_boot=n_boot, seed=seed, warnings=notes)
            for (i, q), s in zip(ids, statistics)]


def lifespan_table(accounts, *, n_boot=999, seed=0) -> pd.DataFrame:
    """Engagement per tweet by lifespan band (accounts that tweeted)."""
    known = accounts[accounts["lifespan_days"].notna()]
    frame = known.assign(lifespan=lifespan_band(known["lifespan_days"]))
    rows = []
    for band, group in frame.groupby("lifespan", observed=False, sort=True):
        mean, low, high = _ratio_with_ci(group, "engagement", "n_original", n_boot, seed)
        rows.append({"lifespan": str(band), "accounts": len(group), "tweets": int(group["n_original"].sum()),
                     "median_followers": group["follower_count"].median(),
                     "engagement_per_tweet": mean, "ci_low": low, "ci_high": high})
    return pd.DataFrame(rows)


def _entry(test_id, question, method, statistic, units, *, n, n_boot, seed, warnings=()):
    return bootstrapped_entry(test_id, question, method, statistic, len(units), n=n, n_boot=n_boot, seed=seed,
                              warnings=warnings)
