"""Designs (who the accounts are) and mechanisms (how their engagement is drawn) for the validation battery.

A design gives each account its follower count and number of original tweets:

- ``synthetic``: the simulator's accounts (``helpers.simulate.draw_accounts``; 70% of tweets original);
- ``ira``: the REAL accounts of BuzzFeed News' IRA table (followers_max, tweets), a few of
  them with 100,000+ followers; read only here and by the tests, never shipped.

Every mechanism keeps the mean log-linear, E[engagement of a tweet | f] = b (1 + f)^elasticity,
so the elasticity is the truth each estimator must cover, while the variance, the zeros and
the account effects differ: they are what an interval must not assume. Each mechanism is a
small function returning the account's per-tweet latent mean ``lam`` (the account effect
included), the per-tweet zero-inflation ``zero`` and the per-tweet NB2 dispersion ``alpha``
(0: Poisson); ``draw`` turns these into counts, per tweet or as account totals.
"""

from pathlib import Path

import numpy as np
import pandas as pd

from helpers import simulate

IRA_TABLE = Path(__file__).resolve().parents[2] / "shared" / "data" / "real" / "ira_buzzfeed" / \
    "ira_retweets_by_account.csv"
ORIGINAL_SHARE = 0.7  # the simulator's share of tweets that are not retweets
MEAN_PER_TWEET = 1.0  # b is set so an original tweet draws this much engagement on average


# --- designs: (followers, n_original) per account ---

def synthetic(n_accounts, rng):
    scenario = simulate.Scenario(scale=n_accounts / simulate.Scenario.accounts)
    accounts = simulate.draw_accounts(scenario, rng)
    return accounts["followers"].astype(float), rng.binomial(accounts["tweets"], ORIGINAL_SHARE).astype(float)


def ira_table(path=IRA_TABLE):
    table = pd.read_csv(path, usecols=["followers_max", "tweets"])
    return table["followers_max"].to_numpy(float), table["tweets"].to_numpy(float)


def ira(n_accounts, rng, path=IRA_TABLE):
    followers, tweets = ira_table(path)
    if n_accounts < len(followers):
        keep = np.sort(rng.choice(len(followers), n_accounts, replace=False))
        followers, tweets = followers[keep], tweets[keep]
    return followers, tweets


DESIGNS = {"synthetic": synthetic, "ira": ira}


# --- mechanisms: (lam, zero, alpha) given the log-linear per-tweet mean m ---

def nb2(m, followers, n, rng):
    """Correctly specified NB2 at the account level: a Gamma(1/2) account effect on Poisson tweets."""
    return m * rng.gamma(0.5, 2.0, len(m)), 0.0, 0.0


def simulator(m, followers, n, rng):
    """The simulator's engagement: 30% structural zeros, NB2 (alpha 2), 3% of tweets amplified 10x."""
    return m, 0.3, 2.0


def lognormal(m, followers, n, rng):
    """Heavy-tailed account effect exp(s Z - s^2/2), s = 0.5 + 0.1 log(1 + f): spread grows with followers."""
    s = 0.5 + 0.1 * np.log1p(followers)
    return m * np.exp(s * rng.standard_normal(len(m)) - s**2 / 2), 0.0, 0.0


def nb_dispersion(m, followers, n, rng):
    """Independent NB2 tweets whose dispersion grows with followers: alpha = 0.5 (1 + f)^0.3."""
    return m, 0.0, 0.5 * (1 + followers) ** 0.3


def variance_power(m, followers, n, rng):
    """Account totals with Var = M + 2 M^1.5 (M = n m): a Gamma effect of shape M^0.5 / 2."""
    shape = np.maximum((n * m) ** 0.5 / 2, 1e-3)
    return m * rng.gamma(shape, 1 / shape), 0.0, 0.0


def zero_inflated(m, followers, n, rng):
    """Structural zeros that fall with followers, logit^-1(1.5 - 0.5 log(1 + f)); NB2 (alpha 1) otherwise."""
    return m, 1 / (1 + np.exp(-(1.5 - 0.5 * np.log1p(followers)))), 1.0


MECHANISMS = {"nb2": nb2, "simulator": simulator, "lognormal": lognormal, "nb_dispersion": nb_dispersion,
              "variance_power": variance_power, "zero_inflated": zero_inflated}
AMPLIFIED = {"simulator": (0.03, 10.0)}  # share of tweets amplified, factor


def _nb_sum(size, mean, rng):
    """Sum of NB2 draws given their summed size and mean (0 where size is 0); Poisson where size is inf."""
    size, mean = np.broadcast_arrays(np.asarray(size, float), np.asarray(mean, float))
    out = np.zeros(size.shape)
    poisson = ~np.isfinite(size)  # inf, or inf * 0 (NaN) where there is nothing to sum
    out[poisson] = rng.poisson(mean[poisson])
    some = np.isfinite(size) & (size > 0) & (mean > 0)
    out[some] = rng.negative_binomial(size[some], size[some] / (size[some] + mean[some]))
    return out


def step(followers, elasticity):
    """Not log-linear: flat below STEP_AT followers, STEP_FACTOR times higher from there (``elasticity`` unused)."""
    return np.where(followers >= STEP_AT, STEP_FACTOR, 1.0)


STEP_AT, STEP_FACTOR = 1_000, 5.0
CURVES = {"log_linear": lambda followers, elasticity: (1 + followers) ** elasticity, "step": step}


def batches(followers, size, along, rng):
    """Batch of each account: ``size`` accounts adjacent in follower count (``along="followers"``), or at random."""
    order = np.argsort(followers, kind="stable") if along == "followers" else rng.permutation(len(followers))
    batch = np.empty(len(followers), np.int64)
    batch[order] = np.arange(len(followers)) // size
    return batch


def batch_effect(batch, shared, rng):
    """Each account's share of its batch's effect: one Gamma(1 / shared, shared) draw per batch (mean 1, variance
    ``shared``), the operator's content and bought audience, common to the batch's accounts."""
    return rng.gamma(1 / shared, shared, batch.max() + 1)[batch]


def draw(mechanism, followers, n_original, elasticity, rng, *, per_tweet=False, curve="log_linear", effect=None):
    """(account totals, per-tweet counts or None): engagement drawn by ``mechanism``.

    The per-tweet mean is b (1 + f)^elasticity (or another of ``CURVES``) with b set so that
    the design's mean per original tweet is MEAN_PER_TWEET; account totals are drawn directly
    (sums of independent tweets given the account), per-tweet counts only when asked. ``effect``
    (mean 1 per account, e.g. ``batch_effect``) multiplies each account's mean: the mean stays log-linear.
    """
    n = np.asarray(n_original, float)
    scale = CURVES[curve](followers, elasticity)
    m = MEAN_PER_TWEET * n.sum() / (n * scale).sum() * scale
    lam, zero, alpha = MECHANISMS[mechanism](m, followers, n, rng)
    if effect is not None:
        lam = lam * effect
    share, factor = AMPLIFIED.get(mechanism, (0.0, 1.0))
    zero, alpha = np.broadcast_to(zero, m.shape), np.broadcast_to(alpha, m.shape)
    base = lam / ((1 - zero) * (1 - share + share * factor))  # mean of a non-zero, non-amplified tweet
    size = np.where(alpha > 0, 1 / np.where(alpha > 0, alpha, 1), np.inf)
    if per_tweet:
        owner = np.repeat(np.arange(len(n)), n.astype(np.int64))
        amplified = rng.random(len(owner)) < share
        mean = base[owner] * np.where(amplified, factor, 1.0)
        counts = _nb_sum(size[owner], mean, rng) * (rng.random(len(owner)) >= zero[owner])
        return np.bincount(owner, counts, len(n)), counts
    kept = rng.binomial(n.astype(np.int64), 1 - zero)
    amplified = rng.binomial(kept, share)
    plain = kept - amplified
    with np.errstate(invalid="ignore"):  # inf * 0: no such tweets, a Poisson of mean 0
        totals = _nb_sum(size * plain, base * plain, rng) + \
            _nb_sum(size * amplified, base * factor * amplified, rng)
    return totals, None
