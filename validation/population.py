"""Coverage of the heavy-tailed descriptives, with the real IRA table as the population.

The 3,259 accounts of BuzzFeed News' IRA table are the population: their engagement per
tweet (ratio of sums), Gini coefficient and top-1% share are the truths. Each replicate
draws a sample of the same size with replacement (a campaign like the real one, the same
few giant accounts sometimes in, sometimes out) and computes the statistic and its
account-bootstrap intervals: percentile, BCa (acceleration from the closed-form
leave-one-out values) and studentized (each resample studentized by its own jackknife
standard error: delta method for the ratio, jackknife for the others), the last being
what ``helpers.stats.resampling`` reports.
"""

import numpy as np
import pandas as pd
from scipy import stats

from helpers.stats import resampling

STATISTICS = {
    "engagement_per_tweet_mean": lambda y, n: resampling.weighted_ratio(y, n, heavy_tailed=True),
    "gini_engagement_accounts": lambda y, n: resampling.weighted_gini(y),
    "top1pct_accounts_engagement_share": lambda y, n: resampling.weighted_top_share(y),
}


def population(path):
    table = pd.read_csv(path, usecols=["tweets", "retweets_received_total"])
    table = table[table["tweets"] > 0]
    return table["retweets_received_total"].to_numpy(float), table["tweets"].to_numpy(float)


def truths(y, n):
    ones = np.ones((1, len(y)))
    return {name: float(make(y, n)(ones)[0]) for name, make in STATISTICS.items()}


def bca_levels(estimate, replicates, leave_one_out, level=0.95):
    """Efron's BCa percentile levels: bias correction z0, acceleration from leave-one-out values."""
    below = (np.sum(replicates < estimate) + 0.5 * np.sum(replicates == estimate)) / len(replicates)
    z0 = stats.norm.ppf(np.clip(below, 1 / (2 * len(replicates)), 1 - 1 / (2 * len(replicates))))
    d = np.mean(leave_one_out) - leave_one_out
    accel = np.sum(d**3) / (6 * np.sum(d**2) ** 1.5)
    z = stats.norm.ppf([(1 - level) / 2, (1 + level) / 2])
    return stats.norm.cdf(z0 + (z0 + z) / (1 - accel * (z0 + z)))


def replicate(y, n, seed, n_boot=999):
    """{statistic: {"estimate", "percentile", "BCa", "studentized": (low, high)}} for one sample."""
    rng = np.random.default_rng([seed, 7])
    drawn = rng.integers(0, len(y), len(y))
    out = {}
    ones = np.ones((1, len(y)))
    for name, make in STATISTICS.items():
        statistic = make(y[drawn], n[drawn])
        estimate = float(statistic(ones)[0])
        reps = np.concatenate([statistic(w) for w in resampling.resample_weights(len(y), n_boot, seed)])
        reps = reps[np.isfinite(reps)]
        loo = statistic.leave_one_out(ones)[0] if hasattr(statistic, "leave_one_out") else \
            (y[drawn].sum() - y[drawn]) / (n[drawn].sum() - n[drawn])
        levels = bca_levels(estimate, reps, loo)
        _, studentized, _ = resampling.bootstrap(statistic, len(y), n_boot=n_boot, seed=seed)
        out[name] = {"estimate": estimate,
                     "percentile": [float(v) for v in np.quantile(reps, [0.025, 0.975])],
                     "BCa": [float(v) for v in np.quantile(reps, levels)],
                     "studentized": list(studentized)}
    return out


def summarise(records, truth):
    rows = []
    for name in STATISTICS:
        for kind in ("percentile", "BCa", "studentized"):
            ci = np.array([r[name][kind] for r in records])
            t = truth[name]
            rows.append({"statistic": name, "interval": kind, "replicates": len(ci), "truth": t,
                         "coverage": float(np.mean((ci[:, 0] <= t) & (t <= ci[:, 1]))),
                         "truth_above_interval": float(np.mean(t > ci[:, 1])),
                         "truth_below_interval": float(np.mean(t < ci[:, 0])),
                         "mean_width": float(np.mean(ci[:, 1] - ci[:, 0])),
                         "bias": float(np.mean([r[name]["estimate"] for r in records]) - t)})
    return rows
