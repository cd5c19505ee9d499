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


ASKED = frames.Content(
    topics=(("hong_kong", ("香港", "hong kong", "#hongkong")), ("republicans", ("trump", "republican", "特朗普")),
            ("democrats", ("biden", "democrat", "民主党")), ("spanning", ("严惩 #香港",))),
    languages=("zh", "en"), days=("2020-01-02",))


@pytest.fixture()
def loaded(tmp_path):
    return frames.load(write_content(tmp_path / "work", ROWS), content=ASKED)


def test_account_counts_match_a_count_by_hand(loaded):
    counts = loaded.accounts.set_index("userid")
    columns = ["n_tweets", *frames.CONTENT_COUNTS, *ASKED.columns()]
    assert ASKED.columns() == ["n_topic_hong_kong", "n_topic_republicans", "n_topic_democrats", "n_topic_spanning",
                               "n_language_zh", "n_language_en", "n_from_2020_01_02"]
    # a: 香港 in text and hashtag (1 row); Trump (row 3); zh rows 1, 2; en row 3
    assert counts.loc["a", columns].to_list() == [3, 3, 1, 1, 0, 0, 2, 1, 3]
    # b: 'Hong Kong' in text and #HongKong, case-folded (row 5); Biden (row 6, und); the GOP is no keyword
    assert counts.loc["b", columns].to_list() == [3, 3, 1, 0, 1, 0, 1, 1, 3]
    # c: substrings: 'trumpet' contains 'trump'; 'Democrats' and 民主党; zh-cn is zh
    assert counts.loc["c", columns].to_list() == [2, 2, 0, 2, 2, 0, 1, 1, 2]
    # a keyword never spans the text and a hashtag (row 1's text ends 严惩, its first hashtag is #香港)
    assert counts["n_topic_spanning"].sum() == 0


def test_content_tests_report_shares_of_all_tweets_with_intervals(loaded):
    entries = content.content_tests(loaded.accounts, loaded.content, [("republicans", "democrats")], n_boot=199,
                                    seed=1)
    tests = {entry["id"]: entry for entry in entries}
    assert tests["language_zh_share_tweets"]["estimate"] == pytest.approx(4 / 8)
    assert tests["topic_hong_kong_share_tweets"]["estimate"] == pytest.approx(2 / 8)
    assert tests["topic_republicans_share_tweets"]["estimate"] == pytest.approx(3 / 8)
    assert tests["topic_democrats_share_tweets"]["estimate"] == pytest.approx(3 / 8)
    assert tests["topic_republicans_minus_democrats_share_tweets"]["estimate"] == pytest.approx(0)
    assert tests["topic_republicans_minus_democrats_share_tweets"]["p_value"] is not None
    assert tests["tweets_share_from_2020_01_02"]["estimate"] == 1.0
    for entry in entries:
        assert entry["ci_low"] <= entry["estimate"] <= entry["ci_high"]
        assert entry["n"] == 8


def test_nothing_asked_nothing_computed(tmp_path):
    loaded = frames.load(write_content(tmp_path / "work", ROWS))
    assert content.content_tests(loaded.accounts, loaded.content) == []
    assert not any(column.startswith(("n_topic", "n_language")) for column in loaded.accounts)


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


def test_without_tweets_the_entries_say_why(loaded):
    no_tweets = loaded.accounts.assign(n_tweets=0)
    entries = content.content_tests(no_tweets, ASKED, [("republicans", "democrats")])
    assert {entry["id"] for entry in entries} >= {"language_zh_share_tweets",
                                                   "topic_republicans_minus_democrats_share_tweets"}
    assert all(entry["estimate"] is None and not entry["converged"] for entry in entries)
    assert all("the campaign has no tweets" in " ".join(entry["warnings"]) for entry in entries)
