"""Were the accounts caught early? Account lifespan (creation to last tweet) and engagement by lifespan.

The archive gives no suspension date, so the last archived tweet stands in for it.
"""

import numpy as np
import pandas as pd

from helpers.results import skipped
from helpers.stats.resampling import (bootstrapped_entries, bootstrapped_entry, ratio_by_group, weighted_quantile,
                                      weighted_share)

EARLY_DAYS = 90  # "stopped within 90 days of creation" (share_accounts_lifespan_under_90_days)
LIFESPAN_BANDS = [(0, 30, "< 30 days"), (30, 90, "30-89 days"), (90, 180, "90-179 days"),
                  (180, 365, "180-364 days"), (365, 730, "1-2 years"), (730, np.inf, "2+ years")]


def lifespan_band(days: pd.Series) -> pd.Series:
    edges = [low for low, _, _ in LIFESPAN_BANDS] + [np.inf]
    labels = [label for _, _, label in LIFESPAN_BANDS]
    return pd.cut(days.clip(lower=0), edges, labels=labels, right=False, ordered=True)


def lifespan_tests(accounts, *, n_boot=999, seed=0) -> list[dict]:
    """Median lifespan and the share of accounts that stopped within EARLY_DAYS of creation."""
    known = accounts["lifespan_days"].dropna().to_numpy(float)
    method = "days from account creation to its last tweet, over accounts that tweeted"
    specs = [("lifespan_median_days", method + " (inverted-CDF median)", weighted_quantile(known, 0.5)),
             ("share_accounts_lifespan_under_90_days", f"{method}: share under {EARLY_DAYS} days",
              weighted_share(known < EARLY_DAYS))]
    if len(known) == 0:
        return [skipped(test_id, text, "needs tweet times and creation dates") for test_id, text, _ in specs]
    notes = []
    if (known < 0).any():
        notes.append(f"{int((known < 0).sum())} accounts tweet before their creation date (negative lifespan kept)")
    return [bootstrapped_entry(test_id, text, statistic, len(known), n=len(known), n_boot=n_boot, seed=seed,
                               warnings=notes) for test_id, text, statistic in specs]


def creation_tests(accounts, months=(), *, n_boot=999, seed=0) -> list[dict]:
    """The share of accounts created in each month ("YYYY-MM"), over accounts with a known creation date."""
    created = accounts["account_creation_date"].dropna()
    specs = [("accounts_created_share_" + month.replace("-", "_"), f"share of accounts whose "
              f"account_creation_date falls in {month} (UTC), over accounts with a known date",
              weighted_share((created.dt.strftime("%Y-%m") == month).to_numpy())) for month in months]
    if created.empty:
        return [skipped(test_id, text, "needs account creation dates") for test_id, text, _ in specs]
    unknown = len(accounts) - len(created)
    notes = [f"{unknown} accounts without a creation date left out"] if unknown else []
    return bootstrapped_entries([(*spec, len(created)) for spec in specs], len(created), n_boot=n_boot, seed=seed,
                                warnings=notes)


def lifespan_table(accounts, *, n_boot=999, seed=0) -> pd.DataFrame:
    """Engagement per tweet by lifespan band (accounts that tweeted)."""
    known = accounts.loc[accounts["lifespan_days"].notna(),
                         ["lifespan_days", "engagement", "n_original", "follower_count"]]
    frame = known.assign(lifespan=lifespan_band(known["lifespan_days"]))
    rows = []
    for band, group in frame.groupby("lifespan", observed=False, sort=True):
        mean, low, high = ratio_by_group(group, "engagement", "n_original", n_boot=n_boot, seed=seed)
        rows.append({"lifespan": str(band), "accounts": len(group), "tweets": int(group["n_original"].sum()),
                     "median_followers": group["follower_count"].median(),
                     "engagement_per_tweet": mean, "ci_low": low, "ci_high": high})
    return pd.DataFrame(rows)
