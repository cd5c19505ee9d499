"""What the accounts posted: language, Hong Kong narratives, US-politics mentions.

The per-account counts come from ``helpers.frames`` (one DuckDB pass over
every tweet row, matched by ``frames.ContentPatterns``). Shares are ratios of
sums over accounts; their intervals resample accounts, because tweets of one
account are not independent. All tweet rows count here, retweets included:
posting someone else's tweet is also pushing its narrative.
"""

import numpy as np
from scipy import stats

from helpers.results import skipped
from helpers.stats.resampling import bootstrapped_entries, weighted_ratio

ALL_ROWS = "all tweet rows, retweets included; ratio of sums over accounts"
# (id, method, numerator column of the accounts frame)
SHARES = [
    ("tweets_share_chinese", f"tweet_language starting 'zh' (Twitter's language detection); {ALL_ROWS}", "n_chinese"),
    ("tweets_share_english", f"tweet_language 'en'; {ALL_ROWS}", "n_english"),
    ("hong_kong_share_tweets", f"a Hong Kong hashtag or keyword in the text; {ALL_ROWS}", "n_hong_kong"),
    ("hong_kong_hashtag_share_tweets", f"hashtag in the Hong Kong list; {ALL_ROWS}", "n_hong_kong_hashtag"),
    ("us_politics_republican_share", f"keyword match in the text; {ALL_ROWS}", "n_republican"),
    ("us_politics_democrat_share", f"keyword match in the text; {ALL_ROWS}", "n_democrat"),
]
TEXT_MATCHED = ("hong_kong_share_tweets", "us_politics_republican_share", "us_politics_democrat_share",
                "us_politics_republican_minus_democrat_share")  # ids whose matching reads tweet_text
DIFFERENCE = ("us_politics_republican_minus_democrat_share",
              "difference of the shares of all tweets naming each side (keyword match, Chinese and English); "
              "p-value from a cluster-robust z-test of no difference")


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


def content_tests(accounts, *, n_boot=999, seed=0) -> list[dict]:
    """Language, Hong Kong and US-politics shares over the accounts that tweeted (entries skipped without tweets)."""
    columns = accounts.columns.intersection(["n_tweets", *(column for *_, column in SHARES), "n_with_text"])
    tweeting = (accounts.loc[accounts["n_tweets"] > 0, columns] if accounts["n_chinese"].notna().all()
                else accounts.iloc[:0])
    if tweeting.empty:
        reason = "the campaign has no tweets" if accounts["n_chinese"].notna().all() else "needs tweet-level data"
        return empty_entries(reason)
    tweets = tweeting["n_tweets"].to_numpy(float)
    specs = [(test_id, method, weighted_ratio(tweeting[column].to_numpy(float), tweets), int(tweets.sum()))
             for test_id, method, column in SHARES]
    difference = tweeting["n_republican"].to_numpy(float) - tweeting["n_democrat"].to_numpy(float)
    specs.append((*DIFFERENCE, weighted_ratio(difference, tweets), int(tweets.sum())))
    tests = bootstrapped_entries(specs, len(tweeting), n_boot=n_boot, seed=seed)
    tests[-1]["p_value"] = ratio_z_test(difference, tweets)
    return _text_notes(tests, tweeting)


def _text_notes(tests, tweeting):
    """Keyword shares need text: skipped when no row has any, a note when some rows have none."""
    if "n_with_text" not in tweeting:
        return tests
    rows, with_text = int(tweeting["n_tweets"].sum()), int(tweeting["n_with_text"].sum())
    out = []
    for test in tests:
        if test["id"] in TEXT_MATCHED and with_text == 0:
            test = skipped(test["id"], test["method"], f"no tweet row has text (tweet_text is empty in all {rows:,} "
                           "rows), so keywords cannot be matched")
        elif test["id"] in TEXT_MATCHED and with_text < rows:
            test = {**test, "warnings": [*test["warnings"], f"{rows - with_text:,} of {rows:,} tweet rows have no "
                                         "text and count as not matching"]}
        out.append(test)
    return out


def empty_entries(reason: str) -> list:
    """The entries of ``content_tests`` for data without tweets: present, not computed, saying why."""
    return [skipped(test_id, method, reason) for test_id, method, *_ in SHARES + [DIFFERENCE]]
