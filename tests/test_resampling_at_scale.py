"""helpers.stats.resampling at scale (over LARGE accounts): each method against an independent computation.

The methods at scale are forced (``at_scale=True``) on a few thousand accounts, where a plain numpy
bootstrap loop (accounts drawn with ``Generator.choice``, statistics by numpy and scipy) is cheap. Intervals
must agree within Monte Carlo error: the tolerance of an endpoint is derived from the reference's own
replicates (the sd of a sample quantile of B draws, sqrt(a (1 - a) / B) / density, for both runs), not tuned.
"""

import json

import numpy as np
import pytest
from scipy import stats

from helpers.stats import resampling
from helpers.stats.resampling import bootstrap, bootstrap_many, resample_weights

N, B_OURS, B_REFERENCE, ALPHA = 3000, 999, 4000, 0.025


def campaign(seed=1, n=N):
    """Heavy-tailed engagement, most of it zero; per-account tweet counts; log-normal followers."""
    rng = np.random.default_rng(seed)
    engagement = np.round(rng.pareto(1.5, n) * 4) * (rng.random(n) < 0.45)
    tweets = rng.integers(1, 30, n).astype(float)
    followers = np.round(rng.lognormal(2, 2, n))
    return engagement, tweets, followers


def reference_replicates(function, columns, n_boot=B_REFERENCE, seed=123):
    """A plain bootstrap: ``function`` of the drawn accounts' rows, ``n_boot`` times."""
    rng = np.random.default_rng(seed)
    n = len(columns[0])
    return np.array([function(*(c[drawn] for c in columns)) for drawn in rng.integers(0, n, (n_boot, n))])


def endpoint_tolerance(replicates, quantile, spread=1.0):
    """4 sd of the difference of two Monte Carlo estimates of a quantile (ours: B_OURS draws; the
    reference's: its own), from the reference's density at that quantile; ``spread`` scales it (the se a
    studentized quantile is multiplied by)."""
    step = 0.01
    low, high = np.quantile(replicates, [quantile - step, quantile + step])
    per_probability = (high - low) / (2 * step)  # 1 / density
    sd = np.sqrt(quantile * (1 - quantile) * (1 / B_OURS + 1 / len(replicates))) * per_probability
    return 4 * sd * spread


def assert_percentile_agrees(ours, replicates):
    for endpoint, quantile in zip(ours, (ALPHA, 1 - ALPHA)):
        expected = np.quantile(replicates, quantile)
        assert abs(endpoint - expected) <= endpoint_tolerance(replicates, quantile) + 1e-12, (endpoint, expected)


def test_poisson_weights_follow_the_poisson_law():
    draws = resampling.poisson_weights(np.random.default_rng(0), (40, 100_000)).astype(int).ravel()
    observed = np.bincount(draws, minlength=7)[:7]
    expected = stats.poisson.pmf(np.arange(7), 1) * draws.size
    expected[-1] = stats.poisson.sf(5, 1) * draws.size  # 6 and over
    observed[-1] = (draws >= 6).sum()
    assert stats.chisquare(observed, expected).pvalue > 1e-3
    # the table's straddling cells are settled by more bits: every weight is a whole number
    assert np.isfinite(draws).all() and draws.min() == 0


def test_poisson_weights_through_an_index_buffer_are_the_same_draws():
    # the weights by a reused intp buffer against those by take's own cast, and against the table read by the
    # raw bits themselves (the first 16-bit word of the generator's first 64-bit draw)
    shape = (32, 1000)
    plain = resampling.poisson_weights(np.random.default_rng(7), shape)
    index = np.full(32 * 4096, -1, np.intp)
    out = np.full(shape, -1.0)
    buffered = resampling.poisson_weights(np.random.default_rng(7), shape, out, index)
    assert buffered is out and np.array_equal(buffered, plain)
    first = int(np.random.default_rng(7).bit_generator.random_raw(1)[0]) & 0xFFFF
    steps = np.round(stats.poisson.cdf(np.arange(13), 1) * 2.0**32)
    assert np.isfinite(resampling.POISSON_TABLE[first])  # a cell that does not straddle a step: 16 bits settle it
    assert plain[0, 0] == np.searchsorted(steps, first * 65536.0, side="right")


def test_shares_and_ratios_agree_with_a_plain_bootstrap():
    engagement, tweets, _ = campaign()
    share = bootstrap(resampling.weighted_share(engagement == 0), N, n_boot=B_OURS, seed=5, at_scale=True)
    assert_percentile_agrees(share[1], reference_replicates(lambda e: np.mean(e == 0), [engagement]))
    ratio = bootstrap(resampling.weighted_ratio(engagement, tweets), N, n_boot=B_OURS, seed=5, at_scale=True)
    assert ratio[0] == pytest.approx(engagement.sum() / tweets.sum(), rel=1e-12)
    assert_percentile_agrees(ratio[1], reference_replicates(lambda e, t: e.sum() / t.sum(), [engagement, tweets]))


def test_studentized_ratio_agrees_with_a_plain_bootstrap_t():
    engagement, tweets, _ = campaign()
    estimate = engagement.sum() / tweets.sum()

    def t_statistic(e, t):  # (ratio - estimate) / its delta-method se, as a resample computes it
        ratio = e.sum() / t.sum()
        return (ratio - estimate) / (np.sqrt(np.sum((e - ratio * t) ** 2)) / t.sum())
    t_values = reference_replicates(t_statistic, [engagement, tweets])
    se = np.sqrt(np.sum((engagement - estimate * tweets) ** 2)) / tweets.sum()
    ours = bootstrap(resampling.weighted_ratio(engagement, tweets, heavy_tailed=True), N, n_boot=B_OURS, seed=5,
                     at_scale=True)
    for endpoint, quantile in zip(ours[1], (1 - ALPHA, ALPHA)):  # low = estimate - t(1 - a) se
        expected = estimate - np.quantile(t_values, quantile) * se
        assert abs(endpoint - expected) <= endpoint_tolerance(t_values, quantile, se), (endpoint, expected)


def test_quantile_from_its_exact_law_agrees_with_a_plain_bootstrap():
    _, _, followers = campaign()
    for q in (0.5, 0.9):
        ours = bootstrap(resampling.weighted_quantile(followers, q), N, n_boot=B_OURS, seed=5, at_scale=True)
        replicates = reference_replicates(lambda f: np.quantile(f, q, method="inverted_cdf"), [followers])
        # a quantile of an integer variable: its replicates sit on few values, so compare ranks
        # within the observed values (the tolerance in probability, 4 sd, mapped back through the data)
        for endpoint, quantile in zip(ours[1], (ALPHA, 1 - ALPHA)):
            sd = np.sqrt(quantile * (1 - quantile) * (1 / B_OURS + 1 / len(replicates)))
            low, high = np.quantile(replicates, [max(quantile - 4 * sd, 0), min(quantile + 4 * sd, 1)])
            assert low <= endpoint <= high, (q, endpoint, low, high)


@pytest.mark.parametrize("make", [resampling.weighted_gini, resampling.weighted_top_share],
                         ids=["gini", "top1pct"])
def test_distinct_values_give_the_accounts_statistic_and_se(make):
    """Merging the accounts by value is exact: the same multinomial draws, counted per distinct value,
    give the per-account statistic and jackknife se."""
    engagement, _, _ = campaign(n=800)
    per_account = make(engagement)
    distinct, inverse = np.unique(engagement, return_inverse=True)
    merged = make(distinct)
    w = next(resample_weights(len(engagement), 5, seed=2))
    counts = np.stack([np.bincount(inverse, weights=row, minlength=len(distinct)) for row in w])
    value, se = per_account.studentize(w)
    merged_value, merged_se = merged.studentize(counts)
    np.testing.assert_allclose(merged_value, value, rtol=1e-10)
    np.testing.assert_allclose(merged_se, se, rtol=1e-8)


@pytest.mark.parametrize("make", [resampling.weighted_gini, resampling.weighted_top_share],
                         ids=["gini", "top1pct"])
def test_concentration_at_scale_agrees_with_todays_bootstrap(make):
    """Both are the same studentized bootstrap (different draws): their endpoints differ by Monte Carlo
    error alone. Reference: today's path with many resamples, its t statistics taken from the replicates."""
    engagement, _, _ = campaign()
    statistic = make(engagement)
    ours = bootstrap(statistic, N, n_boot=B_OURS, seed=5, at_scale=True)
    estimate, se = (float(v[0]) for v in statistic.studentize(np.ones((1, N))))
    t_values = np.concatenate([(v - estimate) / s for v, s in map(statistic.studentize,
                                                                      resample_weights(N, B_REFERENCE, seed=9))])
    for endpoint, quantile in zip(ours[1], (1 - ALPHA, ALPHA)):
        expected = np.clip(estimate - np.quantile(t_values, quantile) * se, 0, 1)
        assert abs(endpoint - expected) <= endpoint_tolerance(t_values, quantile, se), (endpoint, expected)


def test_grouped_jackknife_is_the_t_interval_of_scipy_leave_group_out_values():
    engagement, tweets, followers = campaign()
    rate = engagement / tweets
    estimate, (low, high), _ = bootstrap(resampling.rank_correlation(followers, rate, "spearman"), N,
                                         n_boot=B_OURS, seed=7, at_scale=True)
    groups = resampling.JACKKNIFE_GROUPS
    group = np.random.default_rng(7).permutation(N) % groups
    without = np.array([stats.spearmanr(followers[group != g], rate[group != g]).statistic for g in range(groups)])
    se = np.sqrt((groups - 1) / groups * np.sum((without - without.mean()) ** 2))
    half = stats.t.ppf(0.975, groups - 1) * se
    assert estimate == pytest.approx(stats.spearmanr(followers, rate).statistic, rel=1e-10)
    assert (low, high) == pytest.approx((estimate - half, estimate + half), rel=1e-9)


@pytest.mark.parametrize("method", ["spearman", "kendall"])
def test_rank_correlation_jackknife_width_agrees_with_a_plain_bootstrap(method):
    """A 20-group jackknife se has 19 df: its ratio to the true se lies within sqrt(chi2(19) / 19)'s
    0.05% and 99.95% points, widened by the reference's own Monte Carlo error (its sd: se / sqrt(2 B))."""
    engagement, tweets, followers = campaign()
    rate = engagement / tweets
    function = (lambda f, r: stats.spearmanr(f, r).statistic) if method == "spearman" else \
        (lambda f, r: stats.kendalltau(f, r).statistic)
    reference_se = reference_replicates(function, [followers, rate], n_boot=1000).std(ddof=1)
    _, (low, high), _ = bootstrap(resampling.rank_correlation(followers, rate, method), N, n_boot=B_OURS, seed=7,
                                  at_scale=True)
    ratio = (high - low) / 2 / stats.t.ppf(0.975, 19) / reference_se
    df = resampling.JACKKNIFE_GROUPS - 1
    widen = 4 / np.sqrt(2 * 1000)
    assert np.sqrt(stats.chi2.ppf(0.0005, df) / df) - widen <= ratio <= np.sqrt(stats.chi2.ppf(0.9995, df) / df) + widen


def test_same_seed_same_bytes_at_scale(monkeypatch):
    engagement, tweets, followers = campaign()
    statistics = [resampling.weighted_share(engagement == 0), resampling.weighted_ratio(engagement, tweets),
                  resampling.weighted_ratio(engagement, tweets, heavy_tailed=True),
                  resampling.weighted_quantile(followers, 0.5), resampling.weighted_gini(engagement),
                  resampling.weighted_top_share(engagement),
                  resampling.rank_correlation(followers, engagement / tweets, "spearman")]

    def run(seed):
        return json.dumps(bootstrap_many(statistics, N, n_boot=199, seed=seed, at_scale=True))
    first = run(3)
    assert first == run(3)
    assert first != run(4)
    monkeypatch.setattr(resampling, "THREADS", 1)  # the blocks shared out otherwise: the same bytes
    assert run(3) == first


def test_scale_is_chosen_by_the_number_of_accounts_and_named_in_the_method(monkeypatch):
    engagement, tweets, _ = campaign(n=400)
    ratio = resampling.weighted_ratio(engagement, tweets, heavy_tailed=True)
    monkeypatch.setattr(resampling, "LARGE", 400)  # at LARGE accounts, still the exact path
    exact = resampling.bootstrapped_entry("engagement_per_tweet_mean", "m", ratio, 400, n=400, n_boot=99, seed=0)
    assert exact["method"] == "m; account-bootstrap studentized 95% interval (99 resamples of 400 accounts)"
    monkeypatch.setattr(resampling, "LARGE", 399)
    scaled = resampling.bootstrapped_entry("engagement_per_tweet_mean", "m", ratio, 400, n=400, n_boot=99, seed=0)
    assert scaled["method"].endswith("(99 resamples of 400 accounts, Poisson(1) account weights)")
    assert scaled["estimate"] == pytest.approx(exact["estimate"], rel=1e-12) and scaled["ci_low"] != exact["ci_low"]


def test_permutation_p_at_scale_is_the_normal_limit_of_the_permutations(monkeypatch):
    """Over LARGE accounts the within-strata p-value comes from the permutation distribution's exact mean and
    variance; on a few thousand accounts it agrees with 4,000 permutations within their Monte Carlo error. Drawn
    in blocks of rows, the permutations are the same draws as in one."""
    from helpers.stats import descriptives
    rng = np.random.default_rng(2)
    followers = rng.lognormal(0, 1, N)
    rate = followers * 0.003 + rng.random(N)
    strata = rng.integers(0, 4, N)
    whole = descriptives.within_strata_permutation_p(followers, rate, strata, n_perm=4000, seed=1)
    monkeypatch.setattr(descriptives, "PERMUTED_CELLS", 5000)
    assert descriptives.within_strata_permutation_p(followers, rate, strata, n_perm=4000, seed=1) == whole
    monkeypatch.setattr(resampling, "LARGE", N - 1)
    limit = descriptives.within_strata_permutation_p(followers, rate, strata, seed=1)
    assert 0.05 < whole < 0.95 and abs(limit - whole) <= 4 * np.sqrt(whole * (1 - whole) / 4000)


def test_notebook_02s_resampling_calls_at_scale_run_and_repeat_to_the_byte(monkeypatch):
    """Every call notebook 02 makes that resamples, at scale (LARGE lowered) on the benchmark's synthetic
    frames: each names its method, and a second run gives the same bytes."""
    import importlib.util
    from pathlib import Path
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "bootstraps.py"
    spec = importlib.util.spec_from_file_location("bootstraps_benchmark", path)
    benchmark = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(benchmark)
    accounts, tweets = benchmark.synthetic_frames(4000, seed=3)
    monkeypatch.setattr(resampling, "LARGE", 1000)

    def run():
        out = {name: call() for name, call in benchmark.bootstrap_calls(accounts, tweets, 99, 0).items()}
        return {name: value.to_json() if hasattr(value, "to_json") else json.dumps(value) for name, value in out.items()}
    first = run()
    assert first == run()
    entries = [e for name, text in first.items() if not name.endswith("table") for e in json.loads(text)]
    scaled = ("Poisson(1) account weights", "distinct values", "exact binomial law", "delete-a-group jackknife")
    for e in entries:
        assert e["ci_low"] is not None and any(words in e["method"] for words in scaled), e["id"]
