"""helpers.stats.content over the content counts of helpers.frames: counts by hand, shares, the z-test."""

import numpy as np
import pytest

from helpers import frames
from helpers.stats import content
from test_frames import write_work_dir


def write_content(work_dir, rows):
    """rows: (tweetid, userid, language, text, hashtags) -> a work_dir with accounts and tweets tables."""
    users = [{"userid": u, "follower_count": 1, "account_creation_date": "2020-01-01"}
             for u in sorted({row[1] for row in rows})]
    tweets = [{"tweetid": t, "userid": u, "tweet_language": lang, "tweet_text": text, "hashtags": tags,
               "is_retweet": False, "tweet_time": "2020-01-02 00:00"} for t, u, lang, text, tags in rows]
    return write_work_dir(work_dir, users, tweets)


ROWS = [
    ("1", "a", "zh", "香港暴徒 必须严惩", ["香港", "暴徒"]),
    ("2", "a", "zh", "郭文贵是骗子", ["郭文贵"]),
    ("3", "a", "en", "Trump and the Republicans again", []),
    ("4", "b", "zh", "武汉 肺炎", ["肺炎"]),
    ("5", "b", "en", "Hong Kong rioters", ["HongKong"]),
    ("6", "b", "und", "Biden said; the GOP said", []),
    ("7", "c", "en", "Democrats and trumpet players", []),  # 'trumpet' is not Trump
    ("8", "c", "zh-cn", "特朗普 民主党", []),
]


@pytest.fixture()
def loaded(tmp_path):
    return frames.load(write_content(tmp_path / "work", ROWS))


def test_account_counts_match_a_count_by_hand(loaded):
    counts = loaded.accounts.set_index("userid")
    assert counts.loc["a", ["n_tweets", *frames.CONTENT_COUNTS]].to_dict() == {
        "n_tweets": 3, "n_chinese": 2, "n_english": 1, "n_hong_kong_hashtag": 1,
        "n_hong_kong": 1, "n_republican": 1, "n_democrat": 0, "n_with_text": 3,
    }
    assert counts.loc["b", "n_hong_kong_hashtag"] == 1  # hashtag HongKong, case-folded
    assert counts.loc["b", "n_republican"] == 1 and counts.loc["b", "n_democrat"] == 1
    assert counts.loc["c", "n_republican"] == 1  # 特朗普, not 'trumpet'
    assert counts.loc["c", "n_democrat"] == 2
    assert counts.loc["c", "n_chinese"] == 1


def test_content_tests_report_shares_of_all_tweets_with_intervals(loaded):
    entries = content.content_tests(loaded.accounts, n_boot=199, seed=1)
    tests = {entry["id"]: entry for entry in entries}
    assert tests["tweets_share_chinese"]["estimate"] == pytest.approx(4 / 8)
    assert tests["hong_kong_share_tweets"]["estimate"] == pytest.approx(2 / 8)
    assert tests["us_politics_republican_share"]["estimate"] == pytest.approx(3 / 8)
    assert tests["us_politics_democrat_share"]["estimate"] == pytest.approx(3 / 8)
    assert tests["us_politics_republican_minus_democrat_share"]["estimate"] == pytest.approx(0)
    for entry in entries:
        assert entry["ci_low"] <= entry["estimate"] <= entry["ci_high"]
        assert entry["n"] == 8


def test_keyword_lists_are_parameters(tmp_path):
    work_dir = write_content(tmp_path / "work", ROWS)
    loaded = frames.load(work_dir, content_patterns=frames.ContentPatterns(democrat_pattern=r"pelosi"))
    tests = {entry["id"]: entry for entry in content.content_tests(loaded.accounts, n_boot=99)}
    assert tests["us_politics_democrat_share"]["estimate"] == 0


def test_top_hashtags_are_case_folded_and_ranked(loaded):
    top = loaded.top_hashtags
    assert top.iloc[0]["tweets"] == 1
    assert set(top["hashtag"]) == {"香港", "暴徒", "郭文贵", "肺炎", "hongkong"}
    assert top["share_of_tweets"].max() == pytest.approx(1 / 8)


def test_ratio_z_test_small_for_a_clear_difference_large_for_none():
    rng = np.random.default_rng(2)
    tweets = rng.integers(1, 30, size=300)
    clear = rng.binomial(tweets, 0.2) - rng.binomial(tweets, 0.05)
    none = rng.binomial(tweets, 0.1) - rng.binomial(tweets, 0.1)
    assert content.ratio_z_test(clear, tweets) < 1e-6
    assert content.ratio_z_test(none, tweets) > 0.05


def test_ratio_z_test_rejects_at_about_five_percent_under_the_null():
    rng = np.random.default_rng(8)
    rejections = 0
    for _ in range(400):
        tweets = rng.integers(1, 40, size=200)
        lean = rng.normal(0, 0.05, size=200).clip(-0.09, 0.09)  # accounts differ, the network does not
        difference = rng.binomial(tweets, 0.1 + lean) - rng.binomial(tweets, 0.1 - lean)
        rejections += content.ratio_z_test(difference, tweets) < 0.05
    assert 0.025 <= rejections / 400 <= 0.08


def test_without_tweets_the_entries_say_why():
    entries = content.empty_entries("needs tweet-level data")
    assert {entry["id"] for entry in entries} >= {"tweets_share_chinese", "us_politics_republican_minus_democrat_share"}
    assert all(entry["estimate"] is None and not entry["converged"] for entry in entries)
