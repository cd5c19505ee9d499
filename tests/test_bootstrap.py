import numpy as np
import pytest

from helpers.bootstrap import bootstrap_ratio, resample_weights


def test_each_resample_draws_as_many_accounts_as_there_are():
    for weights in resample_weights(37, 250, seed=1):
        assert (weights.sum(axis=1) == 37).all()


def test_ratio_is_the_ratio_of_sums_and_the_interval_brackets_it():
    numerator = np.array([0, 1, 5, 2, 0, 9, 3, 0, 1, 4])
    denominator = np.array([3, 2, 6, 4, 1, 9, 5, 2, 2, 6])
    estimate, low, high = bootstrap_ratio(numerator, denominator, n_boot=499, seed=3)
    assert estimate == pytest.approx(25 / 40)
    assert low < estimate < high


def test_interval_covers_a_known_share_about_95_percent_of_the_time():
    rng = np.random.default_rng(11)
    covered = 0
    for replicate in range(200):
        tweets = rng.integers(1, 20, size=150)
        hits = rng.binomial(tweets, 0.3)
        _, low, high = bootstrap_ratio(hits, tweets, n_boot=299, seed=replicate)
        covered += low <= 0.3 <= high
    assert 0.88 <= covered / 200 <= 0.99


def test_clustered_data_get_wider_intervals_than_the_binomial_formula():
    rng = np.random.default_rng(5)
    tweets = np.full(200, 50)
    hits = tweets * rng.binomial(1, 0.4, size=200)  # accounts post all-or-nothing
    estimate, low, high = bootstrap_ratio(hits, tweets, n_boot=999, seed=0)
    naive_half_width = 1.96 * np.sqrt(estimate * (1 - estimate) / tweets.sum())
    assert (high - low) / 2 > 4 * naive_half_width


def test_p_value_is_small_for_a_clear_difference_and_large_for_none():
    rng = np.random.default_rng(2)
    tweets = rng.integers(1, 30, size=300)
    clear = rng.binomial(tweets, 0.2) - rng.binomial(tweets, 0.05)
    none = rng.binomial(tweets, 0.1) - rng.binomial(tweets, 0.1)
    assert bootstrap_ratio(clear, tweets, seed=1, p_value=True)[3] < 0.01
    assert bootstrap_ratio(none, tweets, seed=1, p_value=True)[3] > 0.05


def test_same_seed_same_interval_and_empty_input_is_undefined():
    data = (np.arange(20), np.arange(20) + 1)
    assert bootstrap_ratio(*data, seed=9) == bootstrap_ratio(*data, seed=9)
    assert bootstrap_ratio([], [], seed=0) == (None, None, None)
