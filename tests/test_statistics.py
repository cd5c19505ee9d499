"""helpers.stats: descriptives, dose-response, amplification and lifespan checked against independent calculations."""

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from helpers import frames
from helpers.stats import amplification, descriptives, dose_response, lifespan, resampling
from test_frames import TWEETS, USERS, write_account_table, write_work_dir


def by_id(entries):
    return {e["id"]: e for e in entries}


def pairwise_gini(x):
    x = np.asarray(x, float)
    return np.abs(x[:, None] - x[None, :]).sum() / (2 * len(x) ** 2 * x.mean())


@pytest.fixture
def loaded(tmp_path):
    return frames.load(write_work_dir(tmp_path / "w", USERS, TWEETS))


def test_engagement_entries_on_a_crafted_table(loaded):
    got = by_id(descriptives.engagement_tests(loaded.accounts, loaded.tweets, n_boot=99))
    assert got["engagement_per_tweet_mean"]["estimate"] == pytest.approx(78 / 4)
    assert got["engagement_per_tweet_mean"]["n"] == 4
    assert got["likes_per_tweet_mean"]["estimate"] == pytest.approx(11 / 4)
    assert got["retweets_per_tweet_mean"]["estimate"] == pytest.approx(63 / 4)
    assert got["engagement_share_zero_tweets"]["estimate"] == pytest.approx(1 / 4)
    assert got["engagement_share_zero_accounts"]["estimate"] == 0.0
    assert got["gini_engagement_accounts"]["estimate"] == pytest.approx(pairwise_gini([3, 5, 70]))
    # top 1% of 4 tweets = 0.04 of the 70-engagement tweet
    assert got["top1pct_tweets_engagement_share"]["estimate"] == pytest.approx(0.04 * 70 / 78)
    # sensitivity: without the top 1% (1 of 3 posting accounts, the one with 70) and the top 10 (all of them)
    without = got["engagement_per_tweet_mean_without_top1pct"]
    assert without["estimate"] == pytest.approx(8 / 3) and without["n"] == 3
    assert without["warnings"] == ["without the top 1 accounts, which earned 70 of 78 engagements"]
    assert got["engagement_per_tweet_mean_without_top10"]["converged"] is False
    for e in got.values():
        assert set(e) == set(("id question method estimate ci_low ci_high p_value p_holm n converged warnings").split())
        assert e["question"].endswith("?")
        assert "resamples" in e["method"] or e["warnings"][0].startswith("skipped:")


def test_follower_entries(loaded):
    got = by_id(descriptives.follower_tests(loaded.accounts, n_boot=99))
    assert got["followers_share_zero"]["estimate"] == 0.25
    assert got["followers_share_under_10"]["estimate"] == 0.5
    assert got["followers_median"]["estimate"] == 3  # followers 0, 3, 12, 6000: inverted-CDF median


def test_rank_entries_match_scipy():
    rng = np.random.default_rng(3)
    followers = rng.integers(0, 1000, 80)
    accounts = pd.DataFrame({"follower_count": followers, "n_original": rng.integers(1, 6, 80)})
    accounts["engagement"] = rng.poisson(1 + followers / 100) * accounts["n_original"]
    got = by_id(descriptives.rank_tests(accounts, n_boot=99))
    rate = accounts["engagement"] / accounts["n_original"]
    rho = stats.spearmanr(followers, rate)
    assert got["spearman_followers_engagement"]["estimate"] == pytest.approx(rho.statistic)
    assert got["spearman_followers_engagement"]["p_value"] == pytest.approx(rho.pvalue)
    tau = stats.kendalltau(followers, rate)
    assert got["kendall_followers_engagement"]["estimate"] == pytest.approx(tau.statistic)
    low, high = got["kendall_followers_engagement"]["ci_low"], got["kendall_followers_engagement"]["ci_high"]
    assert low < tau.statistic < high


def exposure_confounded_accounts(seed, n=1500):
    """No association at equal exposure, but tweet counts rise with followers: per-tweet rates of accounts with
    few tweets are more often 0, which ranks them low without moving their mean."""
    rng = np.random.default_rng(seed)
    followers = np.floor(np.exp(rng.normal(4, 2, n)))
    tweets = np.maximum(1, rng.poisson(np.exp(0.4 * np.log1p(followers))))
    return pd.DataFrame({"follower_count": followers, "n_original": tweets,
                         "engagement": rng.negative_binomial(0.5, 0.5 / (0.5 + 0.3 * tweets))})


def test_the_rank_correlation_within_tweet_strata_matches_scipy_and_ignores_exposure():
    accounts = exposure_confounded_accounts(4)
    got = by_id(descriptives.rank_tests(accounts, n_boot=199))
    x, n = accounts["follower_count"].to_numpy(float), accounts["n_original"].to_numpy(float)
    rate = accounts["engagement"].to_numpy(float) / n
    strata = np.floor(np.log2(n))
    kept = [s for s in np.unique(strata) if (strata == s).sum() >= descriptives.MIN_STRATUM]
    rhos = [stats.spearmanr(x[strata == s], rate[strata == s]).statistic for s in kept]
    sizes = [(strata == s).sum() for s in kept]
    within = got["spearman_followers_engagement_within_tweet_strata"]
    assert within["estimate"] == pytest.approx(np.average(rhos, weights=sizes), rel=1e-9)
    assert within["n"] == sum(sizes)
    # the overall rank correlation sees an association that is only exposure; within strata there is none
    assert got["spearman_followers_engagement"]["ci_low"] > 0
    assert within["ci_low"] < 0 < within["ci_high"] and within["p_value"] > 0.05
    # the permutation p-value against a slow one: followers shuffled within strata, scipy's rho per stratum
    rng = np.random.default_rng(0)
    observed = abs(within["estimate"])
    null = []
    for _ in range(400):
        shuffled = x.copy()
        for s in kept:
            index = np.flatnonzero(strata == s)
            shuffled[index] = rng.permutation(x[index])
        null.append(abs(np.average([stats.spearmanr(shuffled[strata == s], rate[strata == s]).statistic
                                    for s in kept], weights=sizes)))
    assert within["p_value"] == pytest.approx(np.mean(np.array(null) >= observed), abs=0.07)


def test_follower_bands_edges():
    got = dose_response.follower_band(pd.Series([0, 1, 9, 10, 99, 100, 999, 1000, 4999, 5000, 10**7, np.nan]))
    assert [None if pd.isna(b) else b for b in got] == [
        "0", "1-9", "1-9", "10-99", "10-99", "100-999", "100-999", "1,000-4,999", "1,000-4,999", "5,000+", "5,000+", None]


def test_band_table_and_amplification(loaded):
    table = dose_response.band_table(loaded.accounts, n_boot=99).set_index("band")
    assert table["accounts"].tolist() == [1, 1, 1, 0, 0, 1]
    assert table.loc["0", "engagement_per_tweet"] == pytest.approx(1.5)
    assert table.loc["10-99", "engagement_per_tweet"] == 5.0
    assert table.loc["5,000+", "retweet_to_like"] == 6.0
    assert np.isnan(table.loc["10-99", "retweet_to_like"])  # no likes: undefined, not infinite
    got = by_id(amplification.amplification_tests(loaded.accounts, n_boot=99))
    assert got["in_network_retweet_share"]["estimate"] == pytest.approx(2 / 3)
    assert got["in_network_retweet_share"]["n"] == 3
    assert got["retweet_to_like_ratio"]["estimate"] == pytest.approx(63 / 11)
    assert got["share_tweets_over_5_retweets_per_like"]["estimate"] == pytest.approx(2 / 4)


def test_lifespan(loaded):
    got = by_id(lifespan.lifespan_tests(loaded.accounts, n_boot=99))
    # lifespans: a 30.5 days, b 37 days, c 2 days (d never tweeted)
    assert got["lifespan_median_days"]["estimate"] == pytest.approx(30.5)
    assert got["share_accounts_lifespan_under_90_days"]["estimate"] == 1.0
    table = lifespan.lifespan_table(loaded.accounts, n_boot=99).set_index("lifespan")
    assert table.loc["< 30 days", "accounts"] == 1 and table.loc["30-89 days", "tweets"] == 3


def test_account_table_skips_tweet_level_parts(tmp_path):
    rows = [{"userid": f"u{i}", "follower_count": i * 10, "tweet_count": 3, "retweet_total": i, "engagement_total": i}
            for i in range(6)]
    f = frames.load(write_account_table(tmp_path / "w", rows))
    got = by_id(descriptives.engagement_tests(f.accounts, f.tweets, n_boot=99) + amplification.amplification_tests(f.accounts, n_boot=99)
                + lifespan.lifespan_tests(f.accounts, n_boot=99))
    assert got["engagement_per_tweet_mean"]["estimate"] == pytest.approx(15 / 18)
    assert got["retweets_per_tweet_mean"]["estimate"] == pytest.approx(15 / 18)
    for skipped in ["likes_per_tweet_mean", "engagement_share_zero_tweets", "top1pct_tweets_engagement_share",
                    "in_network_retweet_share", "retweet_to_like_ratio", "lifespan_median_days"]:
        assert got[skipped]["estimate"] is None and got[skipped]["warnings"][0].startswith("skipped:"), skipped


def test_real_ira_table(tmp_path, ira_table):
    path = ira_table
    ira = pd.read_csv(path, dtype={"screen_name": str})
    rows = [{"userid": r.screen_name, "follower_count": int(r.followers_max), "tweet_count": int(r.tweets),
             "retweet_total": int(r.retweets_received_total), "engagement_total": int(r.retweets_received_total)}
            for r in ira.itertuples()]
    f = frames.load(write_account_table(tmp_path / "ira", rows))
    entries = (descriptives.follower_tests(f.accounts, n_boot=199) + descriptives.engagement_tests(f.accounts, n_boot=199)
               + descriptives.rank_tests(f.accounts, n_boot=199))
    got = by_id(entries)
    active = ira[ira["tweets"] > 0]
    assert got["engagement_per_tweet_mean"]["estimate"] == pytest.approx(
        active["retweets_received_total"].sum() / active["tweets"].sum())
    assert got["engagement_share_zero_accounts"]["estimate"] == pytest.approx(
        (active["retweets_received_total"] == 0).mean())
    assert 0.5 < got["engagement_share_zero_accounts"]["estimate"] < 0.56  # README: 52.5% received none
    assert got["gini_engagement_accounts"]["estimate"] > 0.9  # very heavy tail
    assert got["spearman_followers_engagement"]["estimate"] == pytest.approx(
        stats.spearmanr(active["followers_max"], active["retweets_received_total"] / active["tweets"]).statistic)
    for e in entries:
        if e["converged"]:
            assert all(v is not None and math.isfinite(v) for v in (e["estimate"], e["ci_low"], e["ci_high"])), e["id"]


def test_top_share_beyond_the_head_of_the_ranking_matches_the_direct_sum():
    rng = np.random.default_rng(7)
    values = rng.permutation(np.arange(1, 1001, dtype=float))
    w = np.ones((2, 1000), dtype=np.int64)
    w[1, values > 700] = 0  # the 300 largest units are not drawn: the top 1% lies outside the scanned head
    got = resampling.weighted_top_share(values)(w)
    kept = np.sort(values[values <= 700])[::-1]
    assert got[0] == pytest.approx((1000 + 999 + 998 + 997 + 996 + 995 + 994 + 993 + 992 + 991) / values.sum())
    assert got[1] == pytest.approx(kept[:7].sum() / kept.sum())  # 1% of 700 units = 7


def test_heavy_tailed_entries_are_fragile_when_a_few_accounts_hold_most_engagement():
    from helpers.results import fragile

    def accounts(engagement):
        return pd.DataFrame({"follower_count": np.arange(300), "n_original": 2, "engagement": engagement,
                             "n_zero_engagement": 0, "likes": engagement, "retweets": 0, "replies": 0, "quotes": 0})
    even = by_id(descriptives.engagement_tests(accounts(3 + np.arange(300) % 4), None, n_boot=99))
    assert not any(fragile(even[test_id]) for test_id in descriptives.HEAVY_TAILED)
    giants = np.where(np.arange(300) < 3, 10_000, 2)  # the top 1% (3 accounts) hold 98% of engagement
    got = by_id(descriptives.engagement_tests(accounts(giants), None, n_boot=99))
    assert got["top1pct_accounts_engagement_share"]["estimate"] == pytest.approx(30_000 / (30_000 + 594))
    for test_id in descriptives.HEAVY_TAILED:
        assert fragile(got[test_id]), test_id
        assert "account-bootstrap studentized 95% interval" in got[test_id]["method"]
    assert not fragile(got["engagement_share_zero_accounts"])


def test_lorenz_points_are_the_corners_of_the_curve_over_every_unit():
    values = np.array([5, 0, 1, 0, 20, 5, 1, 0, 5], float)
    points = descriptives.lorenz_points(values)
    assert len(points) == 5  # the origin and one corner per distinct value
    every_unit = np.arange(len(values) + 1) / len(values)
    curve = np.concatenate([[0], np.cumsum(np.sort(values))]) / values.sum()
    np.testing.assert_allclose(np.interp(every_unit, points["population_share"], points["engagement_share"]), curve,
                               atol=1e-12)


def test_the_score_test_within_tweet_strata_is_its_formula_and_its_p_value_the_exact_permutation_one():
    import itertools
    followers = np.array([0, 3, 40, 7, 150, 2, 900, 12.0])
    tweets = np.array([1, 1, 1, 1, 4, 5, 6, 7.0])
    engagement = np.array([0, 2, 5, 1, 30, 2, 60, 9.0])
    strata = descriptives.exposure_strata(tweets)  # 1 | 4-7: two strata of four accounts
    found = descriptives.within_strata_score_test(followers, engagement, tweets, strata, n_perm=20_000, seed=3)
    frame = pd.DataFrame({"x": np.log1p(followers), "y": engagement, "n": tweets, "s": strata})
    frame["mu"] = frame["n"] * frame.groupby("s")["y"].transform("sum") / frame.groupby("s")["n"].transform("sum")
    alpha = max(0.0, ((frame["y"] - frame["mu"]) ** 2 - frame["mu"]).sum() / (frame["mu"] ** 2).sum())
    frame["e"] = (frame["y"] - frame["mu"]) / (1 + alpha * frame["mu"])

    e, codes = frame["e"].to_numpy(), np.unique(strata, return_inverse=True)[1]

    def statistic(x):
        c = x - (np.bincount(codes, weights=x) / np.bincount(codes))[codes]
        return (c * e).sum() / np.sqrt((c**2 * e**2).sum())
    observed = statistic(frame["x"].to_numpy())
    assert found.statistic == pytest.approx(observed, rel=1e-12) and found.accounts == 8
    # every arrangement of followers within the two strata (4! x 4!): the exact permutation p-value
    first, second = np.flatnonzero(strata == 0), np.flatnonzero(strata != 0)
    exceed = []
    for a, b in itertools.product(itertools.permutations(first), itertools.permutations(second)):
        x = frame["x"].to_numpy().copy()
        x[first], x[second] = frame["x"].to_numpy()[list(a)], frame["x"].to_numpy()[list(b)]
        exceed.append(abs(statistic(x)) >= abs(observed) - 1e-12)
    assert 0.02 < np.mean(exceed) < 0.5  # a p-value the test can get wrong
    assert found.p_value == pytest.approx(np.mean(exceed), abs=0.01)  # 20,000 draws: Monte Carlo error < 0.004


def _top_by_full_sort(accounts, by, n):
    """The top table as the whole frame sorted would give it (the definition top_accounts must keep)."""
    ordered = accounts.sort_values([by, "userid"], ascending=[False, True], na_position="last", kind="stable")
    table = ordered.head(n)
    table = table.assign(engagement_per_tweet=table["engagement"] / table["n_original"].where(table["n_original"] > 0))
    return table[descriptives.TOP_COLUMNS].reset_index(drop=True)


@given(values=st.lists(st.one_of(st.none(), st.integers(0, 4)), min_size=0, max_size=60), n=st.integers(1, 25),
       nullable=st.booleans())
@settings(max_examples=300, deadline=None)
def test_top_accounts_equal_the_whole_frame_sorted(values, n, nullable):
    # few distinct values: ties at the cut and unknowns (last) are the cases a shortcut could get wrong
    followers = pd.array(values, dtype="Int64") if nullable else pd.Series(values, dtype="float64")
    accounts = pd.DataFrame({"userid": [f"u{(7 * i) % 61:02d}" for i in range(len(values))],
                             "follower_count": followers, "n_tweets": 3, "n_original": np.arange(len(values)) % 3,
                             "engagement": np.arange(len(values))[::-1] % 5})
    for by in ("follower_count", "engagement"):
        pd.testing.assert_frame_equal(descriptives.top_accounts(accounts, by, n), _top_by_full_sort(accounts, by, n))
