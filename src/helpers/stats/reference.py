"""Low compared with what: a campaign against the reference set of real campaigns' published totals.

The reference set (``helpers.data``, handed in as a frame) gives, for 28 real
campaigns, totals only, so the comparison uses the two per-unit measures those
totals define:

- ``engagement_per_tweet_row_mean``: likes + retweets + replies + quotes summed
  over ALL tweet rows (retweets included, as the archive writes them) divided by
  the number of tweet rows;
- ``followers_per_account_mean``: summed follower counts divided by the accounts.

Each has an account-bootstrap interval. Its reference percentile is the share of
reference campaigns whose value lies strictly below the campaign's (n = the
campaign count); a campaign that is itself in the set is left out of its own
comparison. The percentile's interval is the percentile at each end of the
measure's interval: the share-below is a non-decreasing step function of the
measure, so these are the bootstrap percentile interval of the percentile
itself. The reference values are published figures and carry no interval.

``published_checks`` compares our totals with the published ones when the
campaign is in the set (the report applies a stated relative tolerance).
"""

import numpy as np
import pandas as pd

from helpers.results import entry, skipped
from helpers.stats.resampling import BOOT, bootstrapped_entries, weighted_ratio

ENGAGEMENT, FOLLOWERS = "engagement_per_tweet_row_mean", "followers_per_account_mean"
# measure id -> (percentile id, reference column, what the measure is, in words)
PERCENTILES = {
    ENGAGEMENT: ("reference_percentile_engagement_per_tweet_row", "engagement_per_tweet_row",
                 "engagement per tweet row"),
    FOLLOWERS: ("reference_percentile_followers_per_account", "followers_per_account",
                "followers per account"),
}
CHECKED = ["accounts", "tweet_rows", "likes", "retweets", "replies", "quotes", "followers"]


def find_campaign(reference: pd.DataFrame, campaign) -> pd.Series | None:
    """The reference row of ``campaign``, matched on its name or an alias (case-folded), or None."""
    name = str(campaign or "").strip().lower()
    if reference is None or not name:
        return None
    aliases = reference["aliases"].fillna("").str.lower().str.split(";")
    hit = reference[(reference["campaign"].str.lower() == name) | aliases.apply(lambda values: name in values)]
    return None if hit.empty else hit.iloc[0]


def comparison_set(reference: pd.DataFrame, campaign) -> tuple[pd.DataFrame, list[str]]:
    """The reference campaigns a campaign is compared with (itself left out), and a note when one is."""
    own = find_campaign(reference, campaign)
    if own is None:
        return reference, []
    used = reference[reference["campaign"] != own["campaign"]]
    return used, [f"{campaign} is in the reference set (as {own['campaign']}, release {own['release']}) and is "
                  f"left out of its own comparison: compared with the other {len(used)} campaigns"]


def measure_entries(accounts, *, n_boot=999, seed=0) -> list[dict]:
    """``engagement_per_tweet_row_mean`` and ``followers_per_account_mean`` with account-bootstrap intervals."""
    out = []
    method = ("ratio of sums over accounts: likes + retweets + replies + quotes summed over all tweet rows "
              "(retweets included, as the archive writes them) / tweet rows; the published totals' definition")
    if accounts["engagement_all_rows"].isna().all():
        out.append(skipped(ENGAGEMENT, method, "needs tweet rows: an account-level table does not say whether "
                           "its totals count retweet rows"))
    else:
        active = accounts.loc[(accounts["n_tweets"] > 0) & accounts["engagement_all_rows"].notna(),
                              ["n_tweets", "engagement_all_rows"]]
        if active.empty:
            out.append(skipped(ENGAGEMENT, method, f"none of the {len(accounts):,} accounts has a tweet row"))
        else:
            out += bootstrapped_entries([(ENGAGEMENT, method, weighted_ratio(active["engagement_all_rows"],
                                                                             active["n_tweets"]),
                                          int(active["n_tweets"].sum()))], len(active), n_boot=n_boot, seed=seed)
    known = accounts["follower_count"].dropna().to_numpy(float)
    method = "mean follower_count (at suspension) over accounts with a known count; the published totals' definition"
    unknown = len(accounts) - len(known)
    notes = [f"{unknown} accounts with unknown follower count left out"] if unknown else []
    if len(known) == 0:
        out.append(skipped(FOLLOWERS, method, "no account has a known follower count"))
    else:
        out += bootstrapped_entries([(FOLLOWERS, method, weighted_ratio(known, np.ones_like(known)), len(known))],
                                    len(known), n_boot=n_boot, seed=seed, warnings=notes)
    return out


def share_below(values, x) -> float:
    """Share of ``values`` strictly below ``x``."""
    values = np.asarray(values, float)
    return float(np.mean(values < x))


def percentile_entry(measure: dict, used: pd.DataFrame, notes=()) -> dict:
    """Where the measure's estimate, and each end of its interval, falls among the reference campaigns."""
    test_id, column, words = PERCENTILES[measure["id"]]
    method = (f"share of the {len(used)} reference campaigns (published totals, helpers.data) whose {words} is "
              f"below this campaign's; interval: that share at each end of the {measure['id']} interval "
              f"({BOOT} mapped through the non-decreasing share-below)")
    if not measure["converged"] or measure["estimate"] is None or measure["ci_low"] is None:
        return skipped(test_id, method, f"{measure['id']} has no estimate with an interval")
    values = used[column].to_numpy(float)
    return entry(test_id, method, share_below(values, measure["estimate"]),
                 (share_below(values, measure["ci_low"]), share_below(values, measure["ci_high"])),
                 n=len(used), warnings=list(notes))


def reference_tests(accounts, reference: pd.DataFrame, campaign, *, n_boot=999, seed=0) -> list[dict]:
    """The two measures and their reference percentiles (see the module docstring)."""
    measures = measure_entries(accounts, n_boot=n_boot, seed=seed)
    used, notes = comparison_set(reference, campaign)
    return measures + [percentile_entry(measure, used, notes) for measure in measures]


def reference_table(reference: pd.DataFrame, campaign) -> pd.DataFrame:
    """The reference set with its two measures and whether each campaign was left out of this comparison."""
    own = find_campaign(reference, campaign)
    columns = ["campaign", "release", "attributed_country", "accounts", "tweet_rows",
               "engagement_per_tweet_row", "followers_per_account"]
    table = reference[columns].copy()
    table["left_out"] = table["campaign"] == (own["campaign"] if own is not None else None)
    return table


def published_checks(totals: dict, reference: pd.DataFrame, campaign) -> pd.DataFrame:
    """Our totals beside the published ones, for a campaign in the reference set (empty otherwise).

    Only the totals this data has are compared (a users file has no tweet rows to count).
    """
    own = find_campaign(reference, campaign)
    columns = ["quantity", "ours", "published", "relative_difference"]
    if own is None:
        return pd.DataFrame(columns=columns)
    rows = []
    has_tweets = bool(totals.get("tweet_rows"))
    for quantity in CHECKED:
        ours, published = totals.get(quantity), int(own[quantity])
        if ours is None or (quantity not in ("accounts", "followers") and not has_tweets):
            continue
        difference = (ours - published) / published if published else (0.0 if ours == 0 else np.inf)
        rows.append({"quantity": quantity, "ours": int(ours), "published": published,
                     "relative_difference": float(difference)})
    return pd.DataFrame(rows, columns=columns)
