"""What the accounts posted: language, Hong Kong narratives, US-politics mentions.

Counts come from DuckDB over ``tweets.parquet`` (one pass, grouped by account),
so the tweet table never enters pandas. Shares are ratios of sums over
accounts; their intervals come from resampling accounts, because tweets of one
account are not independent. All tweet rows count here, retweets included:
posting someone else's tweet is also pushing its narrative.
"""

from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from helpers.bootstrap import bootstrap_ratio

# Keyword lists are parameters of `measure`; these defaults follow the topics
# Twitter named for the June 2020 PRC release (Hong Kong, Guo Wengui, COVID-19).
HONG_KONG_HASHTAGS = ("香港", "hongkong", "hong_kong", "守護香港", "守护香港", "暴徒", "港独", "反送中", "hkpolice", "standwithhongkong")
HONG_KONG_PATTERN = r"香港|hong ?kong|港独|港獨|暴徒|反送中"
REPUBLICAN_PATTERN = r"\btrump\b|republican|\bgop\b|特朗普|川普|共和党|共和黨"
DEMOCRAT_PATTERN = r"\bbiden\b|democrat|拜登|民主党|民主黨"


@dataclass
class ContentResults:
    """Per-account counts and the result entries computed from them."""

    account_counts: pd.DataFrame
    tests: list = field(default_factory=list)
    top_hashtags: pd.DataFrame | None = None

    def summary(self) -> pd.DataFrame:
        columns = ["id", "estimate", "ci_low", "ci_high", "n"]
        return pd.DataFrame(self.tests)[columns]


def account_counts(tweets_path, *, hong_kong_hashtags=HONG_KONG_HASHTAGS, hong_kong_pattern=HONG_KONG_PATTERN,
                   republican_pattern=REPUBLICAN_PATTERN, democrat_pattern=DEMOCRAT_PATTERN) -> pd.DataFrame:
    """One row per account: tweets, and tweets in Chinese / on Hong Kong / naming each US party."""
    sql = """
        SELECT userid,
               count(*) AS n_tweets,
               count(*) FILTER (WHERE lower(tweet_language) LIKE 'zh%') AS n_chinese,
               count(*) FILTER (WHERE lower(tweet_language) = 'en') AS n_english,
               count(*) FILTER (WHERE list_has_any(list_transform(hashtags, lambda h: lower(h)), $tags))
                   AS n_hong_kong_hashtag,
               count(*) FILTER (WHERE list_has_any(list_transform(hashtags, lambda h: lower(h)), $tags)
                                   OR regexp_matches(lower(tweet_text), $hk)) AS n_hong_kong,
               count(*) FILTER (WHERE regexp_matches(lower(tweet_text), $rep)) AS n_republican,
               count(*) FILTER (WHERE regexp_matches(lower(tweet_text), $dem)) AS n_democrat
        FROM read_parquet($path)
        GROUP BY userid
        ORDER BY userid
    """
    params = {
        "path": str(tweets_path),
        "tags": [tag.lower() for tag in hong_kong_hashtags],
        "hk": hong_kong_pattern,
        "rep": republican_pattern,
        "dem": democrat_pattern,
    }
    with duckdb.connect() as con:
        return con.execute(sql, params).df()


def top_hashtags(tweets_path, limit=20) -> pd.DataFrame:
    """The most used hashtags (case-folded), with their share of all tweets."""
    sql = """
        WITH total AS (SELECT count(*) AS n FROM read_parquet($path)),
             tags AS (SELECT DISTINCT tweetid, lower(unnest(hashtags)) AS hashtag FROM read_parquet($path))
        SELECT hashtag, count(*) AS tweets, count(*) / any_value(total.n) AS share_of_tweets
        FROM tags, total
        GROUP BY hashtag
        ORDER BY tweets DESC, hashtag
        LIMIT $limit
    """
    with duckdb.connect() as con:
        return con.execute(sql, {"path": str(tweets_path), "limit": limit}).df()


def _share_entry(test_id, question, method, counts, numerator, denominator, *, n_boot, seed):
    num = counts[numerator].to_numpy(float)
    den = counts[denominator].to_numpy(float)
    estimate, low, high = bootstrap_ratio(num, den, n_boot=n_boot, seed=seed)
    return {"id": test_id, "question": question, "method": method, "estimate": estimate, "ci_low": low,
            "ci_high": high, "p_value": None, "p_holm": None, "n": int(den.sum()), "converged": True, "warnings": []}


def _difference_entry(counts, *, n_boot, seed):
    """Republican-side minus Democratic-side mention share, with an account-bootstrap interval and p-value."""
    rep = counts["n_republican"].to_numpy(float)
    dem = counts["n_democrat"].to_numpy(float)
    tweets = counts["n_tweets"].to_numpy(float)
    estimate, low, high, p_value = bootstrap_ratio(rep - dem, tweets, n_boot=n_boot, seed=seed, p_value=True)
    return {
        "id": "us_politics_republican_minus_democrat_share",
        "question": "Did the accounts name Trump and the Republicans more often than Biden and the Democrats?",
        "method": "difference of the shares of all tweets naming each side (keyword match, Chinese and English); "
                  "account-bootstrap percentile interval and two-sided bootstrap p-value",
        "estimate": estimate, "ci_low": low, "ci_high": high, "p_value": p_value, "p_holm": None,
        "n": int(tweets.sum()), "converged": True, "warnings": [],
    }


def measure(work_dir, *, n_boot=999, seed=0, **patterns) -> ContentResults:
    """Language, Hong Kong and US-politics shares of a loaded campaign (needs tweets.parquet)."""
    tweets_path = Path(work_dir) / "tweets.parquet"
    counts = account_counts(tweets_path, **patterns)
    if counts.empty:
        return ContentResults(counts)
    all_rows = "all tweet rows, retweets included; ratio of sums over accounts, account-bootstrap percentile interval"
    specs = [
        ("tweets_share_chinese", "What share of the tweets was in Chinese?",
         f"tweet_language starting 'zh' (Twitter's language detection); {all_rows}", "n_chinese"),
        ("tweets_share_english", "What share of the tweets was in English?",
         f"tweet_language 'en'; {all_rows}", "n_english"),
        ("hong_kong_share_tweets", "What share of the tweets was about Hong Kong?",
         f"a Hong Kong hashtag or keyword in the text; {all_rows}", "n_hong_kong"),
        ("hong_kong_hashtag_share_tweets", "What share of the tweets carried a Hong Kong hashtag?",
         f"hashtag in the Hong Kong list; {all_rows}", "n_hong_kong_hashtag"),
        ("us_politics_republican_share", "What share of the tweets named Trump or the Republicans?",
         f"keyword match in the text; {all_rows}", "n_republican"),
        ("us_politics_democrat_share", "What share of the tweets named Biden or the Democrats?",
         f"keyword match in the text; {all_rows}", "n_democrat"),
    ]
    tests = [
        _share_entry(test_id, question, method, counts, numerator, "n_tweets", n_boot=n_boot, seed=seed)
        for test_id, question, method, numerator in specs
    ]
    tests.append(_difference_entry(counts, n_boot=n_boot, seed=seed))
    return ContentResults(counts, tests, top_hashtags(tweets_path))


def empty_entries(reason: str) -> list:
    """Entries for data without tweets (account-table form): present, unfitted, and saying why."""
    ids = ["tweets_share_chinese", "hong_kong_share_tweets", "us_politics_republican_minus_democrat_share"]
    return [{"id": test_id, "question": "", "method": "", "estimate": None, "ci_low": None, "ci_high": None,
             "p_value": None, "p_holm": None, "n": 0, "converged": False, "warnings": [reason]} for test_id in ids]

