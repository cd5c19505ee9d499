"""The pandas way, as public analyses of the archive do it: the job `traction ingest` replaces.

Read the whole users and tweets files with ``pd.read_csv`` (ids as strings so
19-digit ids keep their digits), parse times and booleans, aggregate
engagement per account and write the account table. Run as its own process by
``benchmarks/run.py`` so its peak memory is measured from outside.

    python benchmarks/pandas_baseline.py USERS_CSV TWEETS_CSV OUT_PARQUET
"""

import sys

import pandas as pd

ID_COLUMNS = ["tweetid", "userid", "in_reply_to_userid", "in_reply_to_tweetid", "quoted_tweet_tweetid",
              "retweet_userid", "retweet_tweetid"]
ENGAGEMENT = ["like_count", "retweet_count", "reply_count", "quote_count"]


def main(users_csv, tweets_csv, out_parquet):
    users = pd.read_csv(users_csv, dtype={"userid": str})
    users["account_creation_date"] = pd.to_datetime(users["account_creation_date"])

    tweets = pd.read_csv(tweets_csv, dtype={c: str for c in ID_COLUMNS}, true_values=["True"],
                         false_values=["False"])
    tweets["tweet_time"] = pd.to_datetime(tweets["tweet_time"])
    tweets["account_creation_date"] = pd.to_datetime(tweets["account_creation_date"])
    if tweets["is_retweet"].dtype != bool:
        sys.exit(f"{tweets_csv}: is_retweet is not all True/False ({tweets['is_retweet'].dtype})")
    tweets["engagement"] = tweets[ENGAGEMENT].sum(axis=1)

    originals = tweets[~tweets["is_retweet"]]
    per_account = tweets.groupby("userid").agg(
        tweets=("tweetid", "size"), first_tweet=("tweet_time", "min"), last_tweet=("tweet_time", "max"))
    per_account = per_account.join(originals.groupby("userid").agg(
        originals=("tweetid", "size"), engagement=("engagement", "sum"),
        **{c: (c, "sum") for c in ENGAGEMENT}))
    accounts = users.merge(per_account, left_on="userid", right_index=True, how="left")
    accounts.to_parquet(out_parquet, index=False)
    print(f"{len(users):,} users, {len(tweets):,} tweets -> {len(accounts):,} accounts, "
          f"engagement {int(accounts['engagement'].sum()):,}")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
