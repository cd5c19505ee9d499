"""Account (cluster) bootstrap: the resampling weights every interval in traction uses.

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
