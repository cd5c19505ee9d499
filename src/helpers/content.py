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
import numpy as np
import pandas as pd
from scipy import stats

from helpers.engagement import bootstrapped_entries, weighted_ratio
from helpers.results import skipped

# Keyword lists are parameters of `measure`; these defaults follow the topics
# Twitter named for the June 2020 PRC release (Hong Kong, Guo Wengui, COVID-19).
HONG_KONG_HASHTAGS = ("香港", "hongkong", "hong_kong", "守護香港", "守护香港", "暴徒", "港独", "反送中", "hkpolice", "standwithhongkong")
HONG_KONG_PATTERN = r"香港|hong ?kong|港独|港獨|暴徒|反送中"
REPUBLICAN_PATTERN = r"\btrump\b|republican|\bgop\b|特朗普|川普|共和党|共和黨"
DEMOCRAT_PATTERN = r"\bbiden\b|democrat|拜登|民主党|民主黨"


ALL_ROWS = "all tweet rows, retweets included; ratio of sums over accounts"
# (id, question, method, numerator column of account_counts)
SHARES = [
    ("tweets_share_chinese", "What share of the tweets was in Chinese?",
     f"tweet_language starting 'zh' (Twitter's language detection); {ALL_ROWS}", "n_chinese"),
    ("tweets_share_english", "What share of the tweets was in English?",
     f"tweet_language 'en'; {ALL_ROWS}", "n_english"),
    ("hong_kong_share_tweets", "What share of the tweets was about Hong Kong?",
     f"a Hong Kong hashtag or keyword in the text; {ALL_ROWS}", "n_hong_kong"),
    ("hong_kong_hashtag_share_tweets", "What share of the tweets carried a Hong Kong hashtag?",
     f"hashtag in the Hong Kong list; {ALL_ROWS}", "n_hong_kong_hashtag"),
    ("us_politics_republican_share", "What share of the tweets named Trump or the Republicans?",
     f"keyword match in the text; {ALL_ROWS}", "n_republican"),
    ("us_politics_democrat_share", "What share of the tweets named Biden or the Democrats?",
     f"keyword match in the text; {ALL_ROWS}", "n_democrat"),
]
DIFFERENCE = ("us_politics_republican_minus_democrat_share",
              "Did the accounts name Trump and the Republicans more often than Biden and the Democrats?",
              "difference of the shares of all tweets naming each side (keyword match, Chinese and English); "
              "p-value from a cluster-robust z-test of no difference", None)


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


def ratio_z_test(numerator, denominator) -> float:
    """Two-sided p-value for sum(numerator)/sum(denominator) = 0, with a cluster-robust (linearised) variance.

    Each array holds one value per account, so the variance allows for tweets of one account being alike.
    """
    numerator, denominator = np.asarray(numerator, float), np.asarray(denominator, float)
    n, total = len(numerator), denominator.sum()
    if n < 2 or total == 0:
        return None
    ratio = numerator.sum() / total
    variance = n / (n - 1) * np.sum((numerator - ratio * denominator) ** 2) / total**2
    if variance == 0:
        return None if ratio == 0 else 0.0
    return float(2 * stats.norm.sf(abs(ratio) / np.sqrt(variance)))


def measure(work_dir, *, n_boot=999, seed=0, **patterns) -> ContentResults:
    """Language, Hong Kong and US-politics shares of a loaded campaign (needs tweets.parquet)."""
    tweets_path = Path(work_dir) / "tweets.parquet"
    counts = account_counts(tweets_path, **patterns)
    if counts.empty:
        return ContentResults(counts, empty_entries("the campaign has no tweets"))
    tweets = counts["n_tweets"].to_numpy(float)
    shares = [(test_id, question, method, weighted_ratio(counts[numerator].to_numpy(float), tweets), int(tweets.sum()))
              for test_id, question, method, numerator in SHARES]
    difference = counts["n_republican"].to_numpy(float) - counts["n_democrat"].to_numpy(float)
    shares.append(DIFFERENCE[:3] + (weighted_ratio(difference, tweets), int(tweets.sum())))
    tests = bootstrapped_entries(shares, len(counts), n_boot=n_boot, seed=seed)
    tests[-1]["p_value"] = ratio_z_test(difference, tweets)
    return ContentResults(counts, tests, top_hashtags(tweets_path))


def empty_entries(reason: str) -> list:
    """The entries of ``measure`` for data without tweets (account-table form): present, not computed, saying why."""
    return [skipped(test_id, question, method, reason) for test_id, question, method, _ in SHARES + [DIFFERENCE]]
