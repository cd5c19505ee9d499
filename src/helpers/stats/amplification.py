"""Amplification inside the released network: in-network retweets and retweet-heavy tweets.

Retweet rows carry no engagement of their own in the archive; here they are
amplification. The retweet-heavy count per account (``n_retweet_heavy``:
original tweets with more than ``frames.RETWEET_HEAVY_RATIO`` retweets per
like) is aggregated by ``helpers.frames`` over every tweet.
"""

from helpers.frames import RETWEET_HEAVY_RATIO
from helpers.results import entry, skipped
from helpers.stats.resampling import bootstrapped_entries, bootstrapped_entry, weighted_ratio


def amplification_tests(accounts, *, n_boot=999, seed=0) -> list[dict]:
    """In-network retweet share, retweet-to-like ratio, share of retweet-heavy original tweets."""
    common = dict(n_boot=n_boot, seed=seed)
    out = []
    method = ("retweet rows whose retweet_tweetid is a tweetid in the dataset / all retweet rows (ratio of sums "
              "over accounts); the interval resamples accounts, not retweets, because one account's retweets "
              "are not independent (a Wilson interval over rows would be far too narrow)")
    retweeting = accounts.loc[accounts["n_retweets"] > 0, ["n_retweets", "n_retweets_in_network"]]
    if accounts["n_retweets"].isna().all():
        out.append(skipped("in_network_retweet_share", method, "needs tweet-level data"))
    elif retweeting.empty:
        out.append(entry("in_network_retweet_share", method, n=0, converged=False,
                         warnings=["skipped: the dataset has no retweet rows"]))
    else:
        out.append(bootstrapped_entry("in_network_retweet_share", method,
                                      weighted_ratio(retweeting["n_retweets_in_network"], retweeting["n_retweets"]),
                                      len(retweeting), n=int(retweeting["n_retweets"].sum()), **common))
    active = accounts.loc[accounts["n_original"] > 0, ["n_original", "likes", "retweets", "n_retweet_heavy"]]
    tweets = int(active["n_original"].sum())
    over_active = []  # entries over the same accounts, in order: skipped ones, or specs for one resampling pass
    method = ("total retweet_count / total like_count over original tweets (ratio of sums over accounts); "
              "in-network retweets are not in retweet_count")
    if active[["likes", "retweets"]].isna().any().any() or active["likes"].sum() == 0:
        over_active.append(skipped("retweet_to_like_ratio", method, "needs like and retweet counts with likes > 0"))
    else:
        over_active.append(("retweet_to_like_ratio", method, weighted_ratio(active["retweets"], active["likes"]),
                            tweets))
    method = (f"original tweets with retweet_count > {RETWEET_HEAVY_RATIO} x like_count / original tweets; a tweet "
              "with no likes counts when it has at least one retweet, a tweet with neither does not")
    if active["n_retweet_heavy"].isna().any() or active.empty:
        over_active.append(skipped("share_tweets_over_5_retweets_per_like", method, "needs tweet-level data"))
    else:
        over_active.append(("share_tweets_over_5_retweets_per_like", method,
                            weighted_ratio(active["n_retweet_heavy"], active["n_original"]), tweets))
    specs = [spec for spec in over_active if isinstance(spec, tuple)]
    computed = iter(bootstrapped_entries(specs, len(active), **common) if specs else [])
    return out + [next(computed) if isinstance(spec, tuple) else spec for spec in over_active]
