"""helpers.engagement and helpers.bands: numbers checked against independent calculations."""

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from helpers import bands, engagement, frames
from test_frames import TWEETS, USERS, write_account_table, write_work_dir

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"


def by_id(entries):
    return {e["id"]: e for e in entries}


def pairwise_gini(x):
    x = np.asarray(x, float)
    return np.abs(x[:, None] - x[None, :]).sum() / (2 * len(x) ** 2 * x.mean())


def test_gini_of_known_vectors():
    assert engagement.weighted_gini([0, 0, 0, 1])(np.ones((1, 4)))[0] == pytest.approx(0.75)
    x = [0, 0, 1, 3, 6, 2, 2]
    assert engagement.weighted_gini(x)(np.ones((1, 7)))[0] == pytest.approx(pairwise_gini(x))
    assert engagement.weighted_gini([5, 5, 5])(np.ones((1, 3)))[0] == pytest.approx(0.0)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_weights_equal_repeating_the_accounts(seed):
    rng = np.random.default_rng(seed)
    x = rng.negative_binomial(0.5, 0.2, 60).astype(float)
    y = x + rng.poisson(2, 60)
    w = rng.integers(0, 3, size=(1, 60))
    drawn = np.repeat(np.arange(60), w[0])
    assert engagement.weighted_gini(x)(w)[0] == pytest.approx(pairwise_gini(x[drawn]))
    assert engagement.weighted_quantile(x, 0.5)(w)[0] == np.quantile(x[drawn], 0.5, method="inverted_cdf")
    assert engagement.weighted_quantile(x, 0.9)(w)[0] == np.quantile(x[drawn], 0.9, method="inverted_cdf")
    assert engagement.weighted_share(x == 0)(w)[0] == pytest.approx(np.mean(x[drawn] == 0))
    assert engagement.rank_correlation(x, y, "spearman")(w)[0] == pytest.approx(stats.spearmanr(x[drawn], y[drawn]).statistic)
    assert engagement.rank_correlation(x, y, "kendall")(w)[0] == pytest.approx(stats.kendalltau(x[drawn], y[drawn]).statistic)


def test_top_share_counts_the_boundary_unit_fractionally():
    x = np.arange(1, 201, dtype=float)  # top 1% of 200 units = the 2 largest
    assert engagement.weighted_top_share(x)(np.ones((1, 200)))[0] == pytest.approx((200 + 199) / x.sum())
    x = np.arange(1, 151, dtype=float)  # 1.5 units: 150 and half of 149
    assert engagement.weighted_top_share(x)(np.ones((1, 150)))[0] == pytest.approx((150 + 0.5 * 149) / x.sum())
    # tweets grouped into accounts: weight 2 on the account holding the largest tweet doubles it
    values, group = np.array([100.0, 1, 1, 1]), np.array([0, 1, 1, 1])
    share = engagement.weighted_top_share(values, top=0.4, group=group)(np.array([[2, 1]]))[0]  # 2 of 5 units
    assert share == pytest.approx(200 / 203)


def test_bootstrap_is_seeded_and_covers_the_estimate():
    rng = np.random.default_rng(0)
    num, den = rng.poisson(3, 500), rng.integers(1, 5, 500)
    stat = engagement.weighted_ratio(num, den)
    first = engagement.bootstrap(stat, 500, n_boot=199, seed=4)
    assert first == engagement.bootstrap(stat, 500, n_boot=199, seed=4)
    assert first != engagement.bootstrap(stat, 500, n_boot=199, seed=5)
    estimate, (low, high), warnings = first
    assert estimate == pytest.approx(num.sum() / den.sum())
    assert low < estimate < high and warnings == []
    # the interval width is close to the delta-method standard error of a ratio of sums
    r = num / den.mean() - estimate * den / den.mean()
    se = r.std(ddof=1) / math.sqrt(500)
    assert (high - low) / (2 * 1.96) == pytest.approx(se, rel=0.25)


@pytest.fixture
def loaded(tmp_path):
    return frames.load(write_work_dir(tmp_path / "w", USERS, TWEETS))


def test_engagement_entries_on_a_crafted_table(loaded):
    got = by_id(engagement.engagement_tests(loaded.accounts, loaded.tweets, n_boot=99))
    assert got["engagement_per_tweet_mean"]["estimate"] == pytest.approx(78 / 4)
    assert got["engagement_per_tweet_mean"]["n"] == 4
    assert got["likes_per_tweet_mean"]["estimate"] == pytest.approx(11 / 4)
    assert got["retweets_per_tweet_mean"]["estimate"] == pytest.approx(63 / 4)
    assert got["engagement_share_zero_tweets"]["estimate"] == pytest.approx(1 / 4)
    assert got["engagement_share_zero_accounts"]["estimate"] == 0.0
    assert got["gini_engagement_accounts"]["estimate"] == pytest.approx(pairwise_gini([3, 5, 70]))
    # top 1% of 4 tweets = 0.04 of the 70-engagement tweet
    assert got["top1pct_tweets_engagement_share"]["estimate"] == pytest.approx(0.04 * 70 / 78)
    for e in got.values():
        assert set(e) == set(("id question method estimate ci_low ci_high p_value p_holm n converged warnings").split())
        assert e["question"].endswith("?") and "resamples" in e["method"]


def test_follower_entries(loaded):
    got = by_id(engagement.follower_tests(loaded.accounts, n_boot=99))
    assert got["followers_share_zero"]["estimate"] == 0.25
    assert got["followers_share_under_10"]["estimate"] == 0.5
    assert got["followers_median"]["estimate"] == 3  # followers 0, 3, 12, 6000: inverted-CDF median


def test_rank_entries_match_scipy():
    rng = np.random.default_rng(3)
    followers = rng.integers(0, 1000, 80)
    accounts = pd.DataFrame({"follower_count": followers, "n_original": rng.integers(1, 6, 80)})
    accounts["engagement"] = rng.poisson(1 + followers / 100) * accounts["n_original"]
    got = by_id(engagement.rank_tests(accounts, n_boot=99))
    rate = accounts["engagement"] / accounts["n_original"]
    rho = stats.spearmanr(followers, rate)
    assert got["spearman_followers_engagement"]["estimate"] == pytest.approx(rho.statistic)
    assert got["spearman_followers_engagement"]["p_value"] == pytest.approx(rho.pvalue)
    tau = stats.kendalltau(followers, rate)
    assert got["kendall_followers_engagement"]["estimate"] == pytest.approx(tau.statistic)
    low, high = got["kendall_followers_engagement"]["ci_low"], got["kendall_followers_engagement"]["ci_high"]
    assert low < tau.statistic < high


def test_follower_bands_edges():
    got = bands.follower_band(pd.Series([0, 1, 9, 10, 99, 100, 999, 1000, 4999, 5000, 10**7, np.nan]))
    assert [None if pd.isna(b) else b for b in got] == [
        "0", "1-9", "1-9", "10-99", "10-99", "100-999", "100-999", "1,000-4,999", "1,000-4,999", "5,000+", "5,000+", None]


def test_band_table_and_amplification(loaded):
    table = bands.band_table(loaded.accounts, n_boot=99).set_index("band")
    assert table["accounts"].tolist() == [1, 1, 1, 0, 0, 1]
    assert table.loc["0", "engagement_per_tweet"] == pytest.approx(1.5)
    assert table.loc["10-99", "engagement_per_tweet"] == 5.0
    assert table.loc["5,000+", "retweet_to_like"] == 6.0
    assert np.isnan(table.loc["10-99", "retweet_to_like"])  # no likes: undefined, not infinite
    got = by_id(bands.amplification_tests(loaded.accounts, n_boot=99))
    assert got["in_network_retweet_share"]["estimate"] == pytest.approx(2 / 3)
    assert got["in_network_retweet_share"]["n"] == 3
    assert got["retweet_to_like_ratio"]["estimate"] == pytest.approx(63 / 11)
    assert got["share_tweets_over_5_retweets_per_like"]["estimate"] == pytest.approx(2 / 4)


def test_lifespan(loaded):
    got = by_id(bands.lifespan_tests(loaded.accounts, n_boot=99))
    # lifespans: a 30.5 days, b 37 days, c 2 days (d never tweeted)
    assert got["lifespan_median_days"]["estimate"] == pytest.approx(30.5)
    assert got["share_accounts_lifespan_under_90_days"]["estimate"] == 1.0
    table = bands.lifespan_table(loaded.accounts, n_boot=99).set_index("lifespan")
    assert table.loc["< 30 days", "accounts"] == 1 and table.loc["30-89 days", "tweets"] == 3


def test_account_table_skips_tweet_level_parts(tmp_path):
    rows = [{"userid": f"u{i}", "follower_count": i * 10, "tweet_count": 3, "retweet_total": i, "engagement_total": i}
            for i in range(6)]
    f = frames.load(write_account_table(tmp_path / "w", rows))
    got = by_id(engagement.engagement_tests(f.accounts, f.tweets, n_boot=99) + bands.amplification_tests(f.accounts, n_boot=99)
                + bands.lifespan_tests(f.accounts, n_boot=99))
    assert got["engagement_per_tweet_mean"]["estimate"] == pytest.approx(15 / 18)
    assert got["retweets_per_tweet_mean"]["estimate"] == pytest.approx(15 / 18)
    for skipped in ["likes_per_tweet_mean", "engagement_share_zero_tweets", "top1pct_tweets_engagement_share",
                    "in_network_retweet_share", "retweet_to_like_ratio", "lifespan_median_days"]:
        assert got[skipped]["estimate"] is None and got[skipped]["warnings"][0].startswith("skipped:"), skipped


def test_real_ira_table(tmp_path):
    path = REAL / "ira_buzzfeed" / "ira_retweets_by_account.csv"
    if not path.is_file():
        pytest.skip("real data absent")
    ira = pd.read_csv(path, dtype={"screen_name": str})
    rows = [{"userid": r.screen_name, "follower_count": int(r.followers_max), "tweet_count": int(r.tweets),
             "retweet_total": int(r.retweets_received_total), "engagement_total": int(r.retweets_received_total)}
            for r in ira.itertuples()]
    f = frames.load(write_account_table(tmp_path / "ira", rows))
    entries = (engagement.follower_tests(f.accounts, n_boot=199) + engagement.engagement_tests(f.accounts, n_boot=199)
               + engagement.rank_tests(f.accounts, n_boot=199))
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
    got = engagement.weighted_top_share(values)(w)
    kept = np.sort(values[values <= 700])[::-1]
    assert got[0] == pytest.approx((1000 + 999 + 998 + 997 + 996 + 995 + 994 + 993 + 992 + 991) / values.sum())
    assert got[1] == pytest.approx(kept[:7].sum() / kept.sum())  # 1% of 700 units = 7
