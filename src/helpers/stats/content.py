"""What the accounts posted: the shares of tweet rows in the statement's languages, on its topics, and from its days.

The per-account counts come from ``helpers.frames`` (one DuckDB pass over
every tweet row, matched as ``frames.Content`` says). Shares are ratios of
sums over accounts; their intervals resample accounts, because tweets of one
account are not independent. All tweet rows count here, retweets included:
posting someone else's tweet is also pushing its narrative.
"""

import numpy as np
from scipy import stats

from helpers.frames import Content, day_column, language_column, topic_column
from helpers.results import skipped
from helpers.stats.resampling import bootstrapped_entries, weighted_ratio

ALL_ROWS = "all tweet rows, retweets included; ratio of sums over accounts"


def topic_id(name: str) -> str:
    return f"topic_{name}_share_tweets"


def difference_id(a: str, b: str) -> str:
    return f"topic_{a}_minus_{b}_share_tweets"


def language_id(code: str) -> str:
    return f"language_{code}_share_tweets"


def day_id(day: str) -> str:
    return "tweets_share_from_" + day.replace("-", "_")


def ratio_z_test(numerator, denominator) -> float | None:
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


def _specs(content: Content, differences):
    """(id, method, numerator column or pair of columns, reads the text) for every share asked for."""
    keywords = dict(content.topics)
    specs = [(topic_id(name), f"a keyword of the topic in the text or hashtags, case-insensitive substring "
              f"({', '.join(keywords[name])}); {ALL_ROWS}", topic_column(name), True) for name in keywords]
    specs += [(difference_id(a, b), f"difference of the shares of all tweet rows on each topic (keywords as for "
               f"{topic_id(a)} and {topic_id(b)}); p-value from a cluster-robust z-test of no difference",
               (topic_column(a), topic_column(b)), True) for a, b in differences]
    specs += [(language_id(code), f"tweet_language '{code}' or '{code}-*' (Twitter's language detection); "
               f"{ALL_ROWS}", language_column(code), False) for code in content.languages]
    specs += [(day_id(day), f"tweet_time on or after {day} (UTC); {ALL_ROWS}", day_column(day), False)
              for day in content.days]
    return specs


def content_tests(accounts, content: Content = Content(), differences=(), *, n_boot=999, seed=0) -> list[dict]:
    """The shares the statement asks for, over the accounts that tweeted (entries skipped without tweets).

    ``differences``: pairs of topic names whose shares are compared (``topic_A_minus_B_share_tweets``).
    """
    specs = _specs(content, differences)
    if not specs:
        return []
    tweet_level = accounts["n_with_text"].notna().all()
    tweeting = accounts.loc[accounts["n_tweets"] > 0] if tweet_level else accounts.iloc[:0]
    if tweeting.empty:
        reason = "the campaign has no tweets" if tweet_level else "needs tweet-level data"
        return [skipped(test_id, method, reason) for test_id, method, *_ in specs]
    tweets = tweeting["n_tweets"].to_numpy(float)
    ratios, p_values = [], {}
    for test_id, method, column, _ in specs:
        if isinstance(column, tuple):
            numerator = tweeting[column[0]].to_numpy(float) - tweeting[column[1]].to_numpy(float)
            p_values[test_id] = ratio_z_test(numerator, tweets)
        else:
            numerator = tweeting[column].to_numpy(float)
        ratios.append((test_id, method, weighted_ratio(numerator, tweets), int(tweets.sum())))
    tests = bootstrapped_entries(ratios, len(tweeting), n_boot=n_boot, seed=seed)
    for test in tests:
        test["p_value"] = p_values.get(test["id"], test["p_value"])
    return _text_notes(tests, tweeting, {test_id for test_id, *_, reads_text in specs if reads_text})


def _text_notes(tests, tweeting, text_matched):
    """Keyword shares read the text: a note when some rows have none (only their hashtags are searched)."""
    rows, with_text = int(tweeting["n_tweets"].sum()), int(tweeting["n_with_text"].sum())
    note = (f"{rows - with_text:,} of {rows:,} tweet rows have no text: only their hashtags were searched, so the "
            "share may be too low")
    return [{**test, "warnings": [*test["warnings"], note]} if test["id"] in text_matched and with_text < rows
            else test for test in tests]
