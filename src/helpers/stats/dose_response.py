"""Dose-response: engagement per original tweet and the retweet-to-like ratio by follower band.

A band table shows the shape of engagement against followers without assuming
a model: a ratio of sums per band, each with an account-bootstrap interval
resampled within the band.
"""

import numpy as np
import pandas as pd

from helpers.stats.resampling import ratios_by_group

# The last band starts at the archive's hashing threshold (ids hashed below 5,000 followers).
FOLLOWER_BANDS = [(0, 0, "0"), (1, 9, "1-9"), (10, 99, "10-99"), (100, 999, "100-999"),
                  (1_000, 4_999, "1,000-4,999"), (5_000, np.inf, "5,000+")]


def follower_band(followers: pd.Series) -> pd.Series:
    """Band label per account (NaN for an unknown count), an ordered categorical."""
    labels = [label for _, _, label in FOLLOWER_BANDS]
    edges = [-0.5] + [high + 0.5 for _, high, _ in FOLLOWER_BANDS[:-1]] + [np.inf]
    return pd.cut(followers.astype(float), edges, labels=labels, ordered=True)


def band_table(accounts, *, n_boot=999, seed=0) -> pd.DataFrame:
    """One row per follower band: accounts, tweets, engagement per tweet and retweet-to-like ratio with CIs."""
    used = ["follower_count", "n_original", "engagement", "retweets", "likes", "n_retweet_heavy"]
    frame = accounts[used].assign(band=follower_band(accounts["follower_count"]))  # not a copy of every column
    common = dict(n_boot=n_boot, seed=seed)
    rows = []
    for band, group in frame.groupby("band", observed=False, sort=True):
        (mean, low, high), (rtl, rtl_low, rtl_high) = ratios_by_group(
            group, [("engagement", "n_original", True), ("retweets", "likes", False)], **common)
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
