import numpy as np

from helpers.bootstrap import resample_weights
from helpers.engagement import bootstrap, weighted_ratio


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
