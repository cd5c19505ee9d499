"""helpers.stats.resampling: the account-bootstrap kit against direct calculations."""

import math

import numpy as np
import pytest
from scipy import stats

from helpers.stats import resampling
from helpers.stats.resampling import bootstrap, resample_weights, weighted_ratio


def test_each_resample_draws_as_many_accounts_as_there_are():
    for weights in resample_weights(37, 250, seed=1):
        assert (weights.sum(axis=1) == 37).all()


def test_chunks_stay_bounded_for_many_accounts():
    first = next(resample_weights(1_000_000, 999, seed=0))
    assert first.shape == (4, 1_000_000)


def test_same_seed_same_weights():
    a = np.concatenate(list(resample_weights(50, 120, seed=4)))
    b = np.concatenate(list(resample_weights(50, 120, seed=4)))
    assert (a == b).all() and a.shape == (120, 50)


def test_ratio_interval_covers_a_known_share_about_95_percent_of_the_time():
    rng = np.random.default_rng(11)
    covered = 0
    for replicate in range(200):
        tweets = rng.integers(1, 20, size=150)
        hits = rng.binomial(tweets, 0.3)
        _, (low, high), _ = bootstrap(weighted_ratio(hits, tweets), 150, n_boot=299, seed=replicate)
        covered += low <= 0.3 <= high
    assert 0.88 <= covered / 200 <= 0.99


def test_clustered_data_get_wider_intervals_than_the_binomial_formula():
    rng = np.random.default_rng(5)
    tweets = np.full(200, 50)
    hits = tweets * rng.binomial(1, 0.4, size=200)  # accounts post all-or-nothing
    estimate, (low, high), _ = bootstrap(weighted_ratio(hits, tweets), 200, n_boot=999, seed=0)
    naive_half_width = 1.96 * np.sqrt(estimate * (1 - estimate) / tweets.sum())
    assert (high - low) / 2 > 4 * naive_half_width


def pairwise_gini(x):
    x = np.asarray(x, float)
    return np.abs(x[:, None] - x[None, :]).sum() / (2 * len(x) ** 2 * x.mean())


def test_gini_of_known_vectors():
    assert resampling.weighted_gini([0, 0, 0, 1])(np.ones((1, 4)))[0] == pytest.approx(0.75)
    x = [0, 0, 1, 3, 6, 2, 2]
    assert resampling.weighted_gini(x)(np.ones((1, 7)))[0] == pytest.approx(pairwise_gini(x))
    assert resampling.weighted_gini([5, 5, 5])(np.ones((1, 3)))[0] == pytest.approx(0.0)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_weights_equal_repeating_the_accounts(seed):
    rng = np.random.default_rng(seed)
    x = rng.negative_binomial(0.5, 0.2, 60).astype(float)
    y = x + rng.poisson(2, 60)
    w = rng.integers(0, 3, size=(1, 60))
    drawn = np.repeat(np.arange(60), w[0])
    assert resampling.weighted_gini(x)(w)[0] == pytest.approx(pairwise_gini(x[drawn]))
    assert resampling.weighted_quantile(x, 0.5)(w)[0] == np.quantile(x[drawn], 0.5, method="inverted_cdf")
    assert resampling.weighted_quantile(x, 0.9)(w)[0] == np.quantile(x[drawn], 0.9, method="inverted_cdf")
    assert resampling.weighted_share(x == 0)(w)[0] == pytest.approx(np.mean(x[drawn] == 0))
    assert resampling.rank_correlation(x, y, "spearman")(w)[0] == pytest.approx(stats.spearmanr(x[drawn], y[drawn]).statistic)
    assert resampling.rank_correlation(x, y, "kendall")(w)[0] == pytest.approx(stats.kendalltau(x[drawn], y[drawn]).statistic)


def test_top_share_counts_the_boundary_unit_fractionally():
    x = np.arange(1, 201, dtype=float)  # top 1% of 200 units = the 2 largest
    assert resampling.weighted_top_share(x)(np.ones((1, 200)))[0] == pytest.approx((200 + 199) / x.sum())
    x = np.arange(1, 151, dtype=float)  # 1.5 units: 150 and half of 149
    assert resampling.weighted_top_share(x)(np.ones((1, 150)))[0] == pytest.approx((150 + 0.5 * 149) / x.sum())
    # tweets grouped into accounts: weight 2 on the account holding the largest tweet doubles it
    values, group = np.array([100.0, 1, 1, 1]), np.array([0, 1, 1, 1])
    share = resampling.weighted_top_share(values, top=0.4, group=group)(np.array([[2, 1]]))[0]  # 2 of 5 units
    assert share == pytest.approx(200 / 203)


def test_bootstrap_is_seeded_and_covers_the_estimate():
    rng = np.random.default_rng(0)
    num, den = rng.poisson(3, 500), rng.integers(1, 5, 500)
    stat = resampling.weighted_ratio(num, den)
    first = resampling.bootstrap(stat, 500, n_boot=199, seed=4)
    assert first == resampling.bootstrap(stat, 500, n_boot=199, seed=4)
    assert first != resampling.bootstrap(stat, 500, n_boot=199, seed=5)
    estimate, (low, high), warnings = first
    assert estimate == pytest.approx(num.sum() / den.sum())
    assert low < estimate < high and warnings == []
    # the interval width is close to the delta-method standard error of a ratio of sums
    r = num / den.mean() - estimate * den / den.mean()
    se = r.std(ddof=1) / math.sqrt(500)
    assert (high - low) / (2 * 1.96) == pytest.approx(se, rel=0.25)


@pytest.mark.parametrize("make", [lambda x, d: resampling.weighted_gini(x),
                                  lambda x, d: resampling.weighted_top_share(x),
                                  lambda x, d: resampling.weighted_top_share(x, top=0.1)],
                         ids=["gini", "top1pct", "top10pct"])
def test_leave_one_out_values_are_the_statistic_with_one_draw_less(make):
    rng = np.random.default_rng(8)
    x = rng.negative_binomial(0.3, 0.01, 150).astype(float)
    statistic = make(x, rng.integers(1, 9, 150).astype(float))
    w = rng.integers(0, 3, (3, 150)).astype(float)
    w[2, np.argsort(-x)[:110]] = 0  # the largest accounts not drawn: the top lies beyond the usual head
    fast = statistic.leave_one_out(w)
    for b in range(3):
        for i in np.flatnonzero(w[b])[::7]:
            fewer = w[b].copy()
            fewer[i] -= 1
            assert fast[b, i] == pytest.approx(statistic(fewer[None, :])[0], rel=1e-12, abs=1e-15)


def test_heavy_tailed_statistics_get_studentized_intervals_and_say_so():
    assert resampling.interval_kind(resampling.weighted_ratio([1.0], [1.0], heavy_tailed=True)) == "studentized"
    assert resampling.interval_kind(resampling.weighted_ratio([1.0], [1.0])) == "percentile"
    assert resampling.interval_kind(resampling.weighted_gini([1.0])) == "studentized"
    assert resampling.interval_kind(resampling.weighted_share([True])) == "percentile"
    assert resampling.interval_kind(resampling.weighted_top_share([1.0, 2.0], group=[0, 0])) == "percentile"
    entry = resampling.bootstrapped_entry("engagement_per_tweet_mean", "m", resampling.weighted_ratio(
        np.arange(40.0), np.ones(40), heavy_tailed=True), 40, n=40, n_boot=99, seed=0)
    assert "account-bootstrap studentized 95% interval" in entry["method"]


def test_studentized_interval_reaches_further_toward_a_heavy_tail_than_percentile():
    # One account holds most of the engagement: resamples without it pull the percentile
    # interval down; studentizing by each resample's own standard error widens the upper end.
    rng = np.random.default_rng(2)
    engagement = rng.poisson(1.0, 400).astype(float)
    engagement[0] = 3000
    tweets = rng.integers(1, 5, 400).astype(float)
    statistic = resampling.weighted_ratio(engagement, tweets, heavy_tailed=True)
    estimate, (low, high), _ = resampling.bootstrap(statistic, 400, n_boot=999, seed=1)
    replicates = np.concatenate([statistic(w) for w in resample_weights(400, 999, 1)])
    p_low, p_high = np.quantile(replicates, [0.025, 0.975])
    assert high > p_high and low < estimate < high
    # the delta-method standard error of a ratio of sums
    residual = engagement - estimate * tweets
    value, se = statistic.studentize(np.ones((1, 400)))
    assert value[0] == pytest.approx(estimate)
    se = se[0]
    assert se == pytest.approx(np.sqrt(np.sum(residual**2)) / tweets.sum())


def test_jackknife_se_of_the_gini_is_the_leave_one_out_spread():
    x = np.random.default_rng(4).negative_binomial(0.5, 0.05, 300).astype(float)
    statistic = resampling.weighted_gini(x)
    loo = statistic(np.ones((300, 300)) - np.eye(300))  # row i: account i left out
    expected = np.sqrt(299 / 300 * np.sum((loo - loo.mean()) ** 2))
    gini, se = statistic.studentize(np.ones((1, 300)))
    assert se[0] == pytest.approx(expected, rel=1e-10)
    assert gini[0] == pytest.approx(statistic(np.ones((1, 300)))[0], rel=1e-12)
    w = next(resample_weights(300, 5, seed=1))
    np.testing.assert_allclose(statistic.studentize(w)[0], statistic(w), rtol=1e-12)


def test_studentized_intervals_of_bounded_statistics_stay_within_their_bounds():
    engagement = np.zeros(300)
    engagement[:2] = [5e6, 1e6]  # two accounts hold everything: Gini and top share near 1
    engagement[2:40] = 1
    for statistic in (resampling.weighted_gini(engagement), resampling.weighted_top_share(engagement)):
        _, (low, high), _ = resampling.bootstrap(statistic, 300, n_boot=499, seed=3)
        assert 0 <= low <= high <= 1


def test_a_ratio_without_its_held_matrix_gives_the_same_studentized_values(monkeypatch):
    rng = np.random.default_rng(5)
    numerator, denominator = rng.pareto(1.2, 500) * 10, rng.integers(1, 30, 500).astype(float)
    weights = next(resample_weights(500, 7, seed=3))
    held = weighted_ratio(numerator, denominator, heavy_tailed=True).studentize(weights)
    monkeypatch.setattr(resampling, "HOLD_ROWS", 100)  # 500 accounts: above it, no matrix held
    unheld = weighted_ratio(numerator, denominator, heavy_tailed=True).studentize(weights)
    for a, b in zip(held, unheld):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    assert held[1].min() > 0


def test_top_share_of_accounts_alone_equals_it_grouped_one_unit_per_account():
    rng = np.random.default_rng(8)
    values = np.round(rng.pareto(1.1, 400) * 5)  # ties, and a heavy tail
    weights = next(resample_weights(400, 9, seed=2))
    alone, grouped = resampling.weighted_top_share(values), resampling.weighted_top_share(values, group=np.arange(400))
    np.testing.assert_array_equal(alone(weights), grouped(weights))
    np.testing.assert_array_equal(alone.leave_one_out(weights), grouped.leave_one_out(weights))
    for a, b in zip(alone.studentize(weights), grouped.studentize(weights)):
        np.testing.assert_array_equal(a, b)
