"""Notebook 02's bootstraps at the Turkey size, on synthetic account frames: wall and CPU per call.

    python benchmarks/bootstraps.py [--accounts 2517500] [--n-boot 999] [--seed 0]
    python benchmarks/bootstraps.py --default-sample   # intervals below and at scale, side by side

Times the calls ``helpers.stats.analysis.analyse`` makes that resample accounts (the follower and
engagement entries, the rank correlations, amplification, per-account engagement, lifespan, the follower
and lifespan band tables), in that order, on an account frame shaped like the Turkey release's (2.5M
accounts, 37M tweets: heavy-tailed tweets and engagement, most tweets with none, a fifth of the accounts
with no followers) and a tweet frame of the whole accounts that hold its first 2M original tweets, as
``frames.load(max_tweets=2_000_000)`` keeps. Run it under ``/usr/bin/time -v`` for the peak RSS; each
call prints one JSON line, then the total.

``--default-sample`` runs the same calls on the default sample's frames twice, as they are (every set of
accounts under ``resampling.LARGE``) and with the methods at scale forced, and prints each entry's two
intervals and how far apart their ends are, in half-widths of the first: two percentile bootstraps of 999
resamples differ there by about 0.06 half-widths (1 sd, for a statistic near normal), from Monte Carlo alone.
"""

import argparse
import json
import time

import numpy as np
import pandas as pd

from helpers import frames, steps
from helpers.stats import amplification, descriptives, dose_response, lifespan, resampling

TURKEY_ACCOUNTS = 2_517_500
TWEETS_PER_ACCOUNT = 36_952_448 / TURKEY_ACCOUNTS
MAX_TWEETS = 2_000_000  # frames.load's default tweet sample


def synthetic_frames(n_accounts: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(accounts, tweets) with the columns and shapes of ``frames.load``'s, at ``n_accounts`` accounts."""
    rng = np.random.default_rng(seed)
    n = n_accounts
    n_tweets = np.maximum(0, np.round(rng.lognormal(np.log(TWEETS_PER_ACCOUNT) - 1.0, 1.4, n)) - 1).astype(np.int32)
    n_original = rng.binomial(n_tweets, 0.6).astype(np.int32)
    n_retweets = n_tweets - n_original
    followers = np.where(rng.random(n) < 0.2, 0, np.round(rng.lognormal(3.0, 2.0, n))).astype(np.int64)
    # engagement per original tweet: most accounts earn next to nothing, a few (Pareto tail) a great deal
    rate = 0.05 * (rng.pareto(1.3, n) + 0.05) * (1 + followers / 1_000)
    engaged = rng.poisson(np.minimum(n_original * rate, 1e8))
    parts = rng.multinomial(1, [0.6, 0.25, 0.1, 0.05], size=n).argmax(axis=1)  # the component most of it goes to
    components = {}
    for k, name in enumerate(["likes", "retweets", "replies", "quotes"]):
        share = np.where(parts == k, 0.7, 0.1)
        components[name] = rng.binomial(engaged, share).astype(np.int32)
    engagement = sum(components.values()).astype(np.int32)
    zero_share = np.exp(-np.minimum(rate * 3, 50))
    created = pd.Timestamp("2010-01-01") + pd.to_timedelta(rng.integers(0, 3_000, n), unit="D")
    lifespan_days = rng.exponential(400, n) + rng.random(n)
    last = created + pd.to_timedelta(lifespan_days, unit="D")
    accounts = pd.DataFrame({
        "userid": [f"u{i:08d}" for i in range(n)], "follower_count": followers, "n_tweets": n_tweets,
        "n_original": n_original, "n_retweets": n_retweets.astype(np.int32), **components,
        "engagement": engagement, "account_creation_date": created,
        "first_tweet_time": created, "last_tweet_time": last,
        "lifespan_days": np.where(n_tweets > 0, lifespan_days, np.nan),
        "n_retweets_in_network": rng.binomial(n_retweets, 0.3).astype(np.int32),
        "n_zero_engagement": rng.binomial(n_original, zero_share).astype(np.int32),
        "n_retweet_heavy": rng.binomial(n_original, 0.02).astype(np.int32),
        "n_with_text": n_tweets})
    for name in components:
        accounts[f"{name}_all_rows"] = components[name] + rng.poisson(0.2 * n_retweets).astype(np.int32)
    accounts["engagement_all_rows"] = sum(accounts[f"{name}_all_rows"] for name in components)
    # the tweet frame: whole accounts (in a seeded order) until MAX_TWEETS original tweets, as frames._tweets
    order = rng.permutation(np.flatnonzero(n_original > 0))
    kept = order[np.cumsum(n_original[order]) <= MAX_TWEETS]
    kept.sort()
    rows = np.repeat(kept, n_original[kept])
    per_tweet = rng.poisson(np.minimum(rate[rows], 1e6))
    tweets = pd.DataFrame({"userid": accounts["userid"].to_numpy()[rows], "follower_count": followers[rows],
                           "engagement": per_tweet})
    return accounts, tweets


def bootstrap_calls(accounts, tweets, n_boot, seed):
    """The resampling calls of ``analysis.analyse``, by name (the statement's optional measures left out)."""
    common = dict(n_boot=n_boot, seed=seed)
    return {
        "follower_tests": lambda: descriptives.follower_tests(accounts, **common),
        "engagement_tests": lambda: descriptives.engagement_tests(accounts, tweets, **common),
        "rank_tests": lambda: descriptives.rank_tests(accounts, **common),
        "amplification_tests": lambda: amplification.amplification_tests(accounts, **common),
        "per_account_engagement_tests": lambda: descriptives.per_account_engagement_tests(accounts, **common),
        "lifespan_tests": lambda: lifespan.lifespan_tests(accounts, **common),
        "band_table": lambda: dose_response.band_table(accounts, **common),
        "lifespan_table": lambda: lifespan.lifespan_table(accounts, **common),
    }


def compare_on_default_sample(n_boot, seed):
    """Each entry's interval below and at scale on the default sample (``--default-sample``)."""
    _, work_dir = steps.load()
    loaded = frames.load(work_dir, max_tweets=2_000_000, seed=seed)
    calls = [name for name in bootstrap_calls(None, None, n_boot, seed) if not name.endswith("table")]

    def entries():
        made = bootstrap_calls(loaded.accounts, loaded.tweets, n_boot, seed)
        return {e["id"]: e for name in calls for e in made[name]()}
    exact = entries()
    resampling.LARGE = 0
    scaled = entries()
    for test_id, before in exact.items():
        after = scaled[test_id]
        if before["ci_low"] is None or after["ci_low"] is None:
            print(json.dumps({"id": test_id, "exact": None}))
            continue
        half = (before["ci_high"] - before["ci_low"]) / 2
        gap = max(abs(after["ci_low"] - before["ci_low"]), abs(after["ci_high"] - before["ci_high"]))
        apart = gap / half if half else (0.0 if gap == 0 else float("inf"))
        method = after["method"].rsplit("; ", 1)[-1]
        print(json.dumps({"id": test_id, "exact": [round(before["ci_low"], 5), round(before["ci_high"], 5)],
                          "at_scale": [round(after["ci_low"], 5), round(after["ci_high"], 5)],
                          "ends_apart_in_half_widths": round(apart, 3), "at_scale_by": method}), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=TURKEY_ACCOUNTS)
    parser.add_argument("--n-boot", type=int, default=999)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", nargs="*", help="time only these calls")
    parser.add_argument("--default-sample", action="store_true", help="intervals below and at scale, side by side")
    args = parser.parse_args()
    if args.default_sample:
        return compare_on_default_sample(args.n_boot, args.seed)
    started = time.time()
    accounts, tweets = synthetic_frames(args.accounts, args.seed)
    print(json.dumps({"frames": round(time.time() - started, 1), "accounts": len(accounts),
                      "active": int((accounts["n_original"] > 0).sum()), "tweet_frame_rows": len(tweets)}), flush=True)
    wall_total, cpu_total = 0.0, 0.0
    for name, call in bootstrap_calls(accounts, tweets, args.n_boot, args.seed).items():
        if args.only and name not in args.only:
            continue
        wall, cpu = time.time(), time.process_time()
        out = call()
        wall, cpu = time.time() - wall, time.process_time() - cpu
        wall_total, cpu_total = wall_total + wall, cpu_total + cpu
        print(json.dumps({"call": name, "wall": round(wall, 1), "cpu": round(cpu, 1), "results": len(out)}), flush=True)
    print(json.dumps({"bootstraps_wall": round(wall_total, 1), "bootstraps_cpu": round(cpu_total, 1),
                      "n_boot": args.n_boot}), flush=True)


if __name__ == "__main__":
    main()
