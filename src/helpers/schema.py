"""Column contracts shared by the simulator, the ingest and the statistics.

The archive's CSV layouts are Twitter's (Information Operations archive,
2019-2021 releases). The Parquet layouts are ours: ``archive`` writes them,
``frames`` reads them. Types are DuckDB type names.
"""

# Users file, as Twitter published it (column order of the 2019+ releases).
USER_COLUMNS = [
    "userid",
    "user_display_name",
    "user_screen_name",
    "user_reported_location",
    "user_profile_description",
    "user_profile_url",
    "follower_count",
    "following_count",
    "account_creation_date",
    "account_language",
]

# Tweets file, as Twitter published it. Some releases lack ``poll_choices``.
TWEET_COLUMNS = [
    "tweetid",
    "userid",
    "user_display_name",
    "user_screen_name",
    "user_reported_location",
    "user_profile_description",
    "user_profile_url",
    "follower_count",
    "following_count",
    "account_creation_date",
    "account_language",
    "tweet_language",
    "tweet_text",
    "tweet_time",
    "tweet_client_name",
    "in_reply_to_userid",
    "in_reply_to_tweetid",
    "quoted_tweet_tweetid",
    "is_retweet",
    "retweet_userid",
    "retweet_tweetid",
    "latitude",
    "longitude",
    "quote_count",
    "reply_count",
    "like_count",
    "retweet_count",
    "hashtags",
    "urls",
    "user_mentions",
    "poll_choices",
]

OPTIONAL_TWEET_COLUMNS = ["poll_choices"]

ENGAGEMENT_COLUMNS = ["like_count", "retweet_count", "reply_count", "quote_count"]

# accounts.parquet: one row per account.
ACCOUNTS_SCHEMA = {
    "userid": "VARCHAR",
    "user_display_name": "VARCHAR",
    "user_screen_name": "VARCHAR",
    "user_reported_location": "VARCHAR",
    "user_profile_description": "VARCHAR",
    "user_profile_url": "VARCHAR",
    "follower_count": "BIGINT",
    "following_count": "BIGINT",
    "account_creation_date": "DATE",
    "account_language": "VARCHAR",
    "userid_hashed": "BOOLEAN",  # anonymised (accounts under 5,000 followers)
    "id_damaged": "BOOLEAN",  # an id a spreadsheet rounded to scientific notation
    "from_tweets_file": "BOOLEAN",  # absent from the users file, taken from its tweets
    "source_file": "VARCHAR",
    "source_line": "BIGINT",
}

# tweets.parquet: one row per tweet (retweets included, flagged by is_retweet).
TWEETS_SCHEMA = {
    "tweetid": "VARCHAR",
    "userid": "VARCHAR",
    "tweet_language": "VARCHAR",
    "tweet_text": "VARCHAR",
    "tweet_time": "TIMESTAMP",  # UTC, no offset in the archive
    "tweet_client_name": "VARCHAR",
    "in_reply_to_userid": "VARCHAR",
    "in_reply_to_tweetid": "VARCHAR",
    "quoted_tweet_tweetid": "VARCHAR",
    "is_retweet": "BOOLEAN",
    "retweet_userid": "VARCHAR",
    "retweet_tweetid": "VARCHAR",
    "latitude": "DOUBLE",  # NULL where the archive says 'absent'
    "longitude": "DOUBLE",
    "quote_count": "BIGINT",
    "reply_count": "BIGINT",
    "like_count": "BIGINT",
    "retweet_count": "BIGINT",
    "hashtags": "VARCHAR[]",
    "urls": "VARCHAR[]",
    "user_mentions": "VARCHAR[]",
    "poll_choices": "VARCHAR[]",
    "id_damaged": "BOOLEAN",
    "source_file": "VARCHAR",
    "source_line": "BIGINT",
}

# rejected.parquet: every row read but not loaded.
REJECTED_SCHEMA = {
    "table": "VARCHAR",  # 'users' or 'tweets'
    "source_file": "VARCHAR",
    "source_line": "BIGINT",  # 1-based physical line where the record starts
    "source_last_line": "BIGINT",  # ... and where it ends
    "raw": "VARCHAR",
    "reason": "VARCHAR",
}

# Account-level table form (data published only in aggregate): accounts.parquet
# then carries these columns instead of the tweet-derived ones, and no
# tweets.parquet is written.
ACCOUNT_TABLE_COLUMNS = {
    "userid": "VARCHAR",
    "follower_count": "BIGINT",
    "tweet_count": "BIGINT",
    "like_total": "BIGINT",
    "retweet_total": "BIGINT",
    "reply_total": "BIGINT",
    "quote_total": "BIGINT",
    "engagement_total": "BIGINT",
}
