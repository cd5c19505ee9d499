"""Descriptive statistics of followers and engagement, with account-bootstrap intervals.

The release's counts; follower shares and median; engagement per account and
per original tweet (sum and each
component), zero shares, concentration (Gini, top 1% of accounts and of
tweets); rank association of followers with engagement per tweet; and the
quantile tables and Lorenz points the report shows. Intervals come from
``helpers.stats.resampling``.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from helpers.results import ENGAGEMENT_COMPONENTS, FRAGILE, entry, family_id, skipped
from helpers.stats.resampling import (bootstrapped_entries, bootstrapped_entry, rank_correlation, weighted_gini,
                                      scaled, weighted_quantile, weighted_ratio, weighted_share, weighted_top_share)

COMPONENTS = ENGAGEMENT_COMPONENTS


def follower_tests(accounts, *, lines=(), n_boot=999, seed=0) -> list[dict]:
    """Shares with no followers and under 10 (and under each of ``lines``), and the median follower count."""
    known = accounts["follower_count"].dropna().to_numpy(float)
    n = len(known)
    specs = [
        ("followers_share_zero", "share of accounts with follower_count 0 (at suspension)",
         weighted_share(known == 0), n),
        ("followers_share_under_10", "share of accounts with follower_count below 10 (at suspension)",
         weighted_share(known < 10), n),
        ("followers_median", "median follower_count (inverted-CDF: an observed value)",
         weighted_quantile(known, 0.5), n),
    ]
    specs += [(family_id("followers_share_under_{N}", N=line), f"share of accounts with follower_count below {line} (at "
               "suspension)", weighted_share(known < line), n) for line in sorted(set(lines) - {10})]
    return bootstrapped_entries(specs, n, n_boot=n_boot, seed=seed, warnings=_unknown_note(accounts))


def count_entries(accounts, totals: dict, *, tweet_rows=True) -> list[dict]:
    """The release's counts as they are (a census: no interval): accounts and tweet rows as the published
    totals count them, accounts with a tweet row, accounts with no followers. ``tweet_rows``: whether the data
    has a tweets file (a users file alone counts no tweets: its tweet counts are not 0 but unknown)."""
    tweet_level = tweet_rows and accounts["n_with_text"].notna().all()
    specs = [("accounts", "rows of the users file (the published totals' accounts)", totals.get("accounts"),
              "needs a users file"),
             ("tweets", "rows of the tweets files, retweets included (the published totals' tweets)",
              totals.get("tweet_rows") if tweet_level else None, "needs a tweets file"),
             ("accounts_with_tweets", "accounts with at least one tweet row",
              int((accounts["n_tweets"] > 0).sum()) if tweet_level else None, "needs a tweets file"),
             ("accounts_followers_zero", "accounts with follower_count 0 (at suspension)",
              int((accounts["follower_count"] == 0).sum()), "")]
    return [entry(test_id, method, value, n=value) if value is not None else skipped(test_id, method, reason)
            for test_id, method, value, reason in specs]


def per_account_engagement_tests(accounts, *, n_boot=999, seed=0) -> list[dict]:
    """Engagement summed over all tweet rows per account: over every account, and over those that tweeted."""
    method = ("ratio of sums over accounts: likes + retweets + replies + quotes summed over all tweet rows "
              "(retweets included) / {}")
    specs = [("engagement_per_account_mean", "accounts"),
             ("engagement_per_account_with_tweets_mean", "accounts with a tweet row")]
    if accounts["engagement_all_rows"].isna().all():
        return [skipped(test_id, method.format(words), "needs tweet rows: an account-level table does not say "
                        "whether its totals count retweet rows") for test_id, words in specs]
    out = []
    for (test_id, words), chosen in zip(specs, (accounts, accounts[accounts["n_tweets"] > 0])):
        totals = chosen["engagement_all_rows"].to_numpy(float)
        out.append(bootstrapped_entry(test_id, method.format(words), weighted_ratio(totals, np.ones_like(totals),
                                      heavy_tailed=True), len(chosen), n=len(chosen), n_boot=n_boot, seed=seed)
                   if len(chosen) else skipped(test_id, method.format(words), "no account has a tweet row"))
    return out


def engagement_tests(accounts, tweets=None, *, n_boot=999, seed=0, tweets_note=None) -> list[dict]:
    """Engagement per tweet (sum and components), zero shares and concentration.

    ``tweets_note`` says the tweet frame is a sample; it goes into the entries computed from it.
    """
    # Only the columns used: a row filter copies every column it keeps (0.4 GB each at 2.5M accounts).
    active = accounts.loc[accounts["n_original"] > 0, ["n_original", "engagement", "n_zero_engagement", *COMPONENTS]]
    n_tweets, n_active = int(active["n_original"].sum()), len(active)
    per_tweet = "ratio of sums over accounts: total {} on original tweets / number of original tweets"
    totals = active["engagement"].to_numpy(float)
    # one float copy of the tweet counts for every ratio, and no row filter where every count is known:
    # each ratio holds its arrays through the bootstrap (19 MB apiece at 2.3M accounts)
    tweet_counts = active["n_original"].to_numpy(float)
    posting = "accounts with at least one original tweet"
    specs = [("engagement_per_tweet_mean", per_tweet.format("engagement"),
              weighted_ratio(totals, tweet_counts, heavy_tailed=True), n_tweets)]
    separate = []  # entries over another set of accounts, or skipped
    for column, test_id in COMPONENTS.items():
        n_known = int(active[column].notna().sum())
        if not n_known:
            separate.append(skipped(test_id, per_tweet.format(column), f"the data has no {column} counts"))
        elif n_known == n_active:
            specs.append((test_id, per_tweet.format(column),
                          weighted_ratio(active[column], tweet_counts, heavy_tailed=True), n_tweets))
        else:
            known = active[active[column].notna()]
            separate.append(bootstrapped_entry(test_id, per_tweet.format(column),
                                               weighted_ratio(known[column], known["n_original"], heavy_tailed=True),
                                               len(known),
                                               n=int(known["n_original"].sum()), n_boot=n_boot, seed=seed))
    zero_m = "original tweets with likes + retweets + replies + quotes = 0 / original tweets"
    if n_active and active["n_zero_engagement"].notna().all():
        specs.append(("engagement_share_zero_tweets", zero_m,
                      weighted_ratio(active["n_zero_engagement"], tweet_counts), n_tweets))
    else:
        separate.append(skipped("engagement_share_zero_tweets", zero_m, "needs tweet-level data"))
    specs += [
        ("engagement_share_zero_accounts", f"share of {posting} whose engagement total is 0",
         weighted_share(totals == 0), n_active),
        ("gini_engagement_accounts", f"Gini coefficient of engagement totals across {posting}",
         weighted_gini(totals), n_active),
        ("top1pct_accounts_engagement_share", f"share of engagement earned by the 1% of {posting} with most "
         "engagement", weighted_top_share(totals), n_active),
    ]
    entries = bootstrapped_entries(specs, n_active, n_boot=n_boot, seed=seed) + separate
    _mark_concentrated(entries)
    entries += without_top_entries(active, n_boot=n_boot, seed=seed)
    entries.append(top_tweets_entry(tweets, n_boot=n_boot, seed=seed, warnings=[tweets_note] if tweets_note else []))
    return entries


# Above this share of engagement in the top 1% of accounts, the heavy-tailed entries are fragile.
CONCENTRATED = 0.5
HEAVY_TAILED = ("engagement_per_tweet_mean", "gini_engagement_accounts", "top1pct_accounts_engagement_share")


def _mark_concentrated(entries):
    """Mark the heavy-tailed entries fragile when the top 1% of accounts hold most of the engagement.

    Resampling the real IRA table (top 1%: most of its retweets) as a population, their
    studentized 95% intervals still fell short of 0.90 coverage (docs/statistics.md): a sample
    that misses one of a dozen giant accounts cannot know how far off it is.
    """
    by_id = {e["id"]: e for e in entries}
    top = by_id.get("top1pct_accounts_engagement_share")
    if not top or top["estimate"] is None or top["estimate"] <= CONCENTRATED:
        return
    for test_id in HEAVY_TAILED:
        if by_id.get(test_id) and by_id[test_id]["estimate"] is not None:
            by_id[test_id]["warnings"].append(
                f"{FRAGILE} the top 1% of accounts hold {top['estimate']:.1%} of all engagement (more than "
                f"{CONCENTRATED:.0%}): intervals of means and concentration undercover when a handful of accounts "
                "hold most of it, so no verdict rests on this entry alone; see the sensitivity entries without "
                "the top accounts")


# Sensitivity: the mean without the accounts with most engagement (a share, or a number of accounts).
WITHOUT_TOP = {"engagement_per_tweet_mean_without_top1pct": 0.01, "engagement_per_tweet_mean_without_top10": 10}


def without_top_entries(active, *, n_boot=999, seed=0) -> list[dict]:
    """Engagement per original tweet without the 1% and the 10 accounts with most engagement."""
    out = []
    order = np.argsort(-active["engagement"].to_numpy(float), kind="stable")
    for test_id, top in WITHOUT_TOP.items():
        k = int(np.ceil(top * len(order))) if isinstance(top, float) else top
        method = (f"sensitivity: ratio of sums over accounts, total engagement on original tweets / number of "
                  f"original tweets, without the {'1% of accounts' if isinstance(top, float) else f'{top} accounts'}"
                  " with most engagement")
        rest = active.iloc[np.sort(order[k:])]
        if rest.empty:
            out.append(skipped(test_id, method, f"no accounts left without the top {k}"))
            continue
        dropped = active.iloc[order[:k]]["engagement"].sum()
        note = f"without the top {k} accounts, which earned {dropped:.0f} of {active['engagement'].sum():.0f} engagements"
        out.append(bootstrapped_entry(test_id, method, weighted_ratio(rest["engagement"], rest["n_original"],
                                                                      heavy_tailed=True),
                                      len(rest), n=int(rest["n_original"].sum()), n_boot=n_boot, seed=seed,
                                      warnings=[note]))
    return out


def top_tweets_entry(tweets, *, n_boot=999, seed=0, warnings=()) -> dict:
    test_id = "top1pct_tweets_engagement_share"
    method = "share of engagement earned by the 1% of original tweets with most engagement"
    if tweets is None or tweets.empty:
        return skipped(test_id, method, "needs tweet-level data")
    codes, uniques = pd.factorize(tweets["userid"], sort=True)
    return bootstrapped_entry(test_id, method,
                               weighted_top_share(tweets["engagement"].to_numpy(float), group=codes),
                               len(uniques), n=len(tweets), n_boot=n_boot, seed=seed, warnings=warnings)


# Strata of exposure for the rank correlation within them: original tweets in [2^k, 2^(k+1)), so the
# per-tweet rates compared within one stratum rest on tweet counts at most twice apart; smaller strata are left out.
MIN_STRATUM = 10


def exposure_strata(n_original):
    """Stratum of each account by its original tweets: floor(log2(n)), so n = 1, 2-3, 4-7, ..."""
    return np.floor(np.log2(np.asarray(n_original, float))).astype(np.int64)


def within_strata_spearman(x, y, strata):
    """Spearman's rho of ``x`` and ``y`` within each stratum, averaged with the strata's (drawn) accounts as
    weights: a statistic of (resamples, accounts) weights, like ``rank_correlation``'s.

    Why: under no association, a per-tweet rate over few tweets is more often 0 and more spread than one
    over many, which moves its rank but not its mean; where tweet counts rise with followers that alone makes
    the overall rank correlation positive. Within a stratum the counts are at most twice apart.
    """
    codes, sizes = np.unique(strata, return_counts=True)
    parts = [(index, rank_correlation(x[index], y[index], "spearman"))
             for code, size in zip(codes, sizes) if size >= MIN_STRATUM
             for index in [np.flatnonzero(strata == code)]]

    def statistic(w):
        total, weight = np.zeros(len(w)), np.zeros(len(w))
        for index, rho in parts:
            drawn = w[:, index]
            value = rho(drawn)
            ok = np.isfinite(value)
            total += np.where(ok, value * drawn.sum(axis=1), 0.0)
            weight += np.where(ok, drawn.sum(axis=1), 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            return total / weight
    statistic.strata = len(parts)
    statistic.accounts = int(sum(len(index) for index, _ in parts))
    return statistic


def rank_tests(accounts, *, n_boot=999, seed=0) -> list[dict]:
    """Spearman and Kendall association of follower count with engagement per original tweet."""
    usable = accounts.loc[(accounts["n_original"] > 0) & accounts["follower_count"].notna(),
                          ["follower_count", "engagement", "n_original"]]
    x = usable["follower_count"].to_numpy(float)
    y = (usable["engagement"] / usable["n_original"]).to_numpy(float)
    methods = [("spearman_followers_engagement", "spearman", "Spearman's rho", stats.spearmanr),
               ("kendall_followers_engagement", "kendall", "Kendall's tau-b", stats.kendalltau)]
    specs = [(test_id,
              f"{name} between an account's follower_count and its engagement per original tweet, over accounts "
              f"with at least one original tweet; p-value from scipy.stats.{test.__name__} (H0: no association)",
              rank_correlation(x, y, method), len(usable)) for test_id, method, name, test in methods]
    if len(usable) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return [skipped(*spec[:2], "fewer than 3 accounts or a constant variable") for spec in specs]
    out = bootstrapped_entries(specs, len(usable), n_boot=n_boot, seed=seed, warnings=_unknown_note(accounts))
    for result, (*_, test) in zip(out, methods):
        result["p_value"] = float(test(x, y).pvalue)
    return out + [_within_strata_entry(x, y, usable["n_original"].to_numpy(float), n_boot, seed, accounts)]


WITHIN_STRATA = "spearman_followers_engagement_within_tweet_strata"


def _within_strata_entry(x, y, n_original, n_boot, seed, accounts):
    """Spearman within strata of original tweets (``within_strata_spearman``), with an account-bootstrap
    percentile interval and the permutation p-value of followers shuffled within each stratum."""
    strata = exposure_strata(n_original)
    statistic = within_strata_spearman(x, y, strata)
    permutations = (PERMUTATION_LIMIT if scaled(len(x)) else f"{PERMUTATIONS} permutations") + \
        " of followers within each stratum"
    method = (f"Spearman's rho between follower_count and engagement per original tweet within strata of original "
              f"tweets (1, 2-3, 4-7, ...: counts at most twice apart; strata under {MIN_STRATUM} accounts left "
              f"out), averaged with the strata's accounts as weights; p-value from {permutations} (H0: no "
              "association at equal exposure)")
    if not statistic.strata:
        return skipped(WITHIN_STRATA, method, f"no stratum of original tweets holds {MIN_STRATUM} accounts")
    kept = f"{statistic.accounts} of {len(x)} accounts in {statistic.strata} strata of original tweets"
    result = bootstrapped_entries([(WITHIN_STRATA, method, statistic, statistic.accounts)], len(x), n_boot=n_boot,
                                  seed=seed, warnings=[*_unknown_note(accounts), kept])[0]
    if result["converged"]:
        result["p_value"] = within_strata_permutation_p(x, y, strata, seed=seed)
    return result


PERMUTATIONS = 999
PERMUTATION_LIMIT = ("the normal limit of the permutation distribution (each stratum's rho has permutation mean 0 "
                     "and variance 1 / (accounts - 1))")
PERMUTED_CELLS = 4_000_000  # permutations of a large stratum are drawn this many ranks at a time (32 MB)


def within_strata_permutation_p(x, y, strata, *, n_perm=PERMUTATIONS, seed=0):
    """Two-sided p-value of ``within_strata_spearman`` when followers are permuted within each stratum: exact
    (up to Monte Carlo error) when, at equal exposure, an account's engagement does not depend on its followers.
    A permutation keeps each stratum's ranks, so each rho is the permuted x-ranks against the fixed y-ranks.

    Over ``resampling.LARGE`` accounts, from the permutation distribution's normal limit instead (Hoeffding's
    combinatorial central limit theorem; at a million accounts 999 permutations would take minutes): a rho of
    centred ranks, sum a_i b_pi(i) / sqrt(sum a^2 sum b^2), has permutation mean 0 and variance 1 / (m - 1)."""
    rng = np.random.default_rng(seed)
    at_scale = scaled(len(x))
    observed, null, variance, weight = 0.0, np.zeros(n_perm), 0.0, 0
    for code in np.unique(strata):
        index = np.flatnonzero(strata == code)
        rank_x, rank_y = stats.rankdata(x[index]), stats.rankdata(y[index])
        rank_x, rank_y = rank_x - rank_x.mean(), rank_y - rank_y.mean()
        scale = np.sqrt((rank_x @ rank_x) * (rank_y @ rank_y))
        if len(index) < MIN_STRATUM or not scale > 0:
            continue  # as within_strata_spearman: too small, or a constant variable (rho undefined)
        observed += len(index) * (rank_x @ rank_y) / scale
        weight += len(index)
        if at_scale:
            variance += len(index) ** 2 / (len(index) - 1)
            continue
        rows = max(1, PERMUTED_CELLS // len(index))  # rng.permuted shuffles row after row: the same draws in blocks
        null += len(index) * np.concatenate([rng.permuted(np.tile(rank_x, (min(rows, n_perm - start), 1)), axis=1)
                                             @ rank_y for start in range(0, n_perm, rows)]) / scale
    if not weight:
        return None
    if at_scale:
        return float(2 * stats.norm.sf(abs(observed) / np.sqrt(variance)))
    observed, null = observed / weight, null / weight
    return float((1 + np.sum(np.abs(null) >= abs(observed) - 1e-12)) / (n_perm + 1))


@dataclass
class ScoreTest:
    """``within_strata_score_test``'s result: the one-step elasticity at equal exposure and its permutation test."""

    slope: float  # one scoring step from no association: the score over the information
    se: float  # the score's robust standard error over the information, so slope / se is the statistic
    statistic: float
    critical: float  # the permutation null's 95th percentile of |statistic|
    p_value: float
    accounts: int


def within_strata_score_test(followers, engagement, n_original, strata, *, n_perm=PERMUTATIONS, seed=0):
    """The studentized score test of no association between log(1 + followers) and engagement at equal exposure,
    its null drawn by permuting followers within each stratum of ``strata`` (a ``ScoreTest``, or None when no
    stratum can be used).

    Under H0 an account's expected engagement is its original tweets times its stratum's rate (rho_s, the
    stratum's engagement over its tweets), whatever its followers. Each account's residual is
    e_i = (y_i - mu_i) / (1 + alpha mu_i), mu_i = n_i rho_s: the negative binomial score's weight bounds what one
    heavy account adds (alpha the NB2 dispersion's moment estimate under H0). The score is sum_i c_i e_i, c_i the
    account's log(1 + followers) centred in its stratum, and the statistic the score over
    sqrt(sum_i c_i^2 e_i^2): studentized, so its permutation null stays right (asymptotically) when the spread or
    the zeros of engagement, not its mean, change with followers, where a rank statistic's does not (DiCiccio and
    Romano 2017). Strata with fewer than 2 accounts or no engagement add nothing.

    Not claim 4's corroboration: under no association its size on 3,000-account designs was 3-11% at the 5% level
    (over 5% where the spread or the zeros change with followers), so it measures, in ``validation/reduced.py``,
    what a fallback respecting exposure can do; the within-strata Spearman keeps its veto-only role
    (docs/statistics.md).
    """
    x = np.log1p(np.asarray(followers, float))
    y, n = np.asarray(engagement, float), np.asarray(n_original, float)
    codes = np.unique(strata, return_inverse=True)[1]
    rate = np.bincount(codes, weights=y) / np.bincount(codes, weights=n)
    mean = n * rate[codes]
    alpha = max(0.0, float(np.sum((y - mean) ** 2 - mean) / np.sum(mean**2))) if np.sum(mean**2) > 0 else 0.0
    residual, weight = (y - mean) / (1 + alpha * mean), mean / (1 + alpha * mean)
    rng = np.random.default_rng(seed)
    score = square = information = 0.0
    null_score, null_square, used = np.zeros(n_perm), np.zeros(n_perm), 0
    for code in range(len(rate)):
        index = np.flatnonzero(codes == code)
        if len(index) < 2 or not rate[code] > 0:
            continue
        centred, e = x[index] - x[index].mean(), residual[index]
        score += centred @ e
        square += centred**2 @ e**2
        information += centred**2 @ weight[index]
        drawn = rng.permuted(np.tile(centred, (n_perm, 1)), axis=1)
        null_score += drawn @ e
        null_square += drawn**2 @ e**2
        used += len(index)
    if not (square > 0 and information > 0):
        return None
    with np.errstate(invalid="ignore", divide="ignore"):
        observed, null = score / np.sqrt(square), np.abs(np.nan_to_num(null_score / np.sqrt(null_square)))
    p_value = (1 + np.sum(null >= abs(observed) - 1e-12)) / (n_perm + 1)
    return ScoreTest(score / information, np.sqrt(square) / information, float(observed),
                     float(np.quantile(null, 0.95)), float(p_value), used)


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
    active = accounts.loc[accounts["n_original"] > 0, ["engagement", "n_original"]]

    def q(values):
        return np.quantile(values, QUANTILES, method="inverted_cdf") if len(values) else [np.nan] * len(QUANTILES)
    table = pd.DataFrame({"quantile": QUANTILES,
                          "per_tweet": q(tweets["engagement"]) if tweets is not None else np.nan,
                          "per_account_total": q(active["engagement"]),
                          "per_account_mean_per_tweet": q(active["engagement"] / active["n_original"])})
    return table


def lorenz_points(values) -> pd.DataFrame:
    """Lorenz curve: cumulative share of units (poorest first) against their cumulative share of the total.

    One vertex where the value changes: along a run of equal values the curve is straight, so these are
    all of its corners (at 2.5M accounts, a few thousand points instead of 2.5M)."""
    distinct, counts = np.unique(np.asarray(values, float), return_counts=True)
    units = np.concatenate([[0], np.cumsum(counts)])
    summed = np.concatenate([[0.0], np.cumsum(distinct * counts)])
    total = summed[-1]
    return pd.DataFrame({"population_share": units / max(units[-1], 1),
                         "engagement_share": summed / total if total else np.nan})


TOP_ACCOUNTS = 20
TOP_COLUMNS = ["userid", "follower_count", "n_tweets", "n_original", "engagement", "engagement_per_tweet"]


def top_accounts(accounts: pd.DataFrame, by: str, n: int = TOP_ACCOUNTS) -> pd.DataFrame:
    """The ``n`` accounts with the most ``by`` (``engagement`` or ``follower_count``; ties by userid, unknown
    last), with engagement per original tweet."""
    # only the rows that can be among the first n are sorted: a sort of all 2.5M accounts' keys with their userids
    # peaked at 0.45-0.56 GB over the frames at the Turkey size, and the allocator kept half of it
    values = accounts[by]
    known = values.dropna()
    if 0 < n <= len(known) and isinstance(values.dtype, np.dtype) and values.dtype.kind in "iuf":
        candidates = accounts.iloc[np.flatnonzero((values >= known.nlargest(n).iloc[-1]).to_numpy())]
    else:  # unknown values come last, after every known one (and other dtypes are sorted whole)
        candidates = accounts
    keys = candidates[[by, "userid"]].reset_index(drop=True)
    first = keys.sort_values([by, "userid"], ascending=[False, True], na_position="last", kind="stable").index[:n]
    table = candidates.iloc[first]
    table = table.assign(engagement_per_tweet=table["engagement"] / table["n_original"].where(table["n_original"] > 0))
    return table[TOP_COLUMNS].reset_index(drop=True)
