"""Account (cluster) bootstrap for ratios of sums.

Tweets of one account share its followers, its operator and its audience, so
resampling tweets would understate the uncertainty; we resample accounts.
"""

import numpy as np


def resample_weights(n_accounts: int, n_boot: int, seed: int):
    """Yield (chunk, n_accounts) arrays: how often each account is drawn in each resample."""
    rng = np.random.default_rng(seed)
    chunk = max(1, min(100, 4_000_000 // max(n_accounts, 1)))  # bounds memory at ~32 MB a chunk
    for start in range(0, n_boot, chunk):
        size = min(chunk, n_boot - start)
        draws = rng.integers(0, n_accounts, size=(size, n_accounts))
        offsets = np.arange(size)[:, None] * n_accounts
        yield np.bincount((draws + offsets).ravel(), minlength=size * n_accounts).reshape(size, n_accounts)


def bootstrap_ratio(numerator, denominator, *, n_boot=999, seed=0, level=0.95, p_value=False):
    """sum(numerator) / sum(denominator) with a percentile interval from resampling accounts.

    Each array holds one value per account. With ``p_value=True`` also returns
    a two-sided bootstrap p-value for ratio = 0 (twice the smaller tail share).
    Returns floats, or None for an undefined ratio (no denominator).
    """
    numerator = np.asarray(numerator, float)
    denominator = np.asarray(denominator, float)
    total = denominator.sum()
    if len(numerator) == 0 or total == 0:
        return (None, None, None, None) if p_value else (None, None, None)
    estimate = numerator.sum() / total
    replicates = []
    for weights in resample_weights(len(numerator), n_boot, seed):
        with np.errstate(invalid="ignore", divide="ignore"):
            replicates.append((weights @ numerator) / (weights @ denominator))
    replicates = np.concatenate(replicates)
    replicates = replicates[np.isfinite(replicates)]
    alpha = (1 - level) / 2
    low, high = np.quantile(replicates, [alpha, 1 - alpha])
    result = (float(estimate), float(low), float(high))
    if p_value:
        tail = min(np.mean(replicates <= 0), np.mean(replicates >= 0))
        result += (float(min(1.0, 2 * tail)),)
    return result
