"""helpers.frames: account and original-tweet frames from Parquet tables written per schema.py."""

import json
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from helpers import frames, schema
from helpers.errors import TractionError


def write_table(path: Path, columns: dict, rows: list[dict]):
    """Write ``rows`` as Parquet with exactly the schema's columns and types (absent keys -> NULL)."""
    con = duckdb.connect()
    con.execute("CREATE TABLE t (" + ", ".join(f'"{c}" {t}' for c, t in columns.items()) + ")")
    if rows:
        given = pd.DataFrame(rows)  # noqa: F841 (read by DuckDB's replacement scan)
        con.execute("INSERT INTO t BY NAME SELECT * FROM given")
    con.execute(f"COPY t TO '{path}' (FORMAT parquet)")


def write_work_dir(work_dir: Path, users: list[dict], tweets: list[dict] | None, report: dict | None = None):
    work_dir.mkdir(parents=True, exist_ok=True)
    write_table(work_dir / "accounts.parquet", schema.ACCOUNTS_SCHEMA, users)
    if tweets is not None:
        write_table(work_dir / "tweets.parquet", schema.TWEETS_SCHEMA, tweets)
    if report is not None:
        (work_dir / "load_report.json").write_text(json.dumps(report))
    return work_dir


def tweet(tweetid, userid, time, *, likes=0, retweets=0, replies=0, quotes=0, rt_of=None):
    return {"tweetid": tweetid, "userid": userid, "tweet_time": time, "is_retweet": rt_of is not None,
            "retweet_tweetid": rt_of, "like_count": likes, "retweet_count": retweets,
            "reply_count": replies, "quote_count": quotes}


USERS = [
    {"userid": "a", "follower_count": 0, "account_creation_date": "2020-01-01"},
    {"userid": "b", "follower_count": 12, "account_creation_date": "2019-12-01"},
    {"userid": "c", "follower_count": 6000, "account_creation_date": "2018-01-01"},
    {"userid": "d", "follower_count": 3, "account_creation_date": "2020-02-01"},  # never tweets
]
TWEETS = [
    tweet("1", "a", "2020-01-11 00:00", likes=1, retweets=2),
    tweet("2", "a", "2020-01-31 12:00"),
    tweet("3", "b", "2020-01-05 00:00", rt_of="1"),  # in-network retweet
    tweet("4", "b", "2020-01-06 00:00", rt_of="999"),  # out of network
    tweet("5", "b", "2020-01-07 00:00", likes=0, retweets=1, replies=3, quotes=1),
    tweet("6", "c", "2018-01-02 00:00", likes=10, retweets=60),  # 60 > 5*10: retweet-heavy
    tweet("7", "c", "2018-01-03 00:00", rt_of="5"),
]


@pytest.fixture
def work_dir(tmp_path):
    return write_work_dir(tmp_path / "work", USERS, TWEETS)


def test_counts_are_int32_unless_one_does_not_fit(tmp_path):
    small = frames.load(write_work_dir(tmp_path / "small", USERS, TWEETS)).accounts
    assert small["likes"].dtype == np.int32 and small["n_tweets"].dtype == np.int32
    # two tweets of one account with 2 billion likes each: their sum does not fit in int32
    huge = [tweet("1", "a", "2020-01-11 00:00", likes=2_000_000_000), tweet("2", "a", "2020-01-12 00:00",
                                                                          likes=2_000_000_000)]
    big = frames.load(write_work_dir(tmp_path / "big", USERS, huge)).accounts.set_index("userid")
    assert big["likes"].dtype == np.int64 and big.loc["a", "likes"] == 4_000_000_000
    assert big.loc["a", "engagement"] == 4_000_000_000


def test_accounts_frame_aggregates_original_tweets_only(work_dir):
    f = frames.load(work_dir)
    assert f.form == "archive" and f.warnings == []
    acc = f.accounts.set_index("userid")
    assert list(acc.index) == ["a", "b", "c", "d"]
    assert acc["n_tweets"].tolist() == [2, 3, 2, 0]
    assert acc["n_original"].tolist() == [2, 1, 1, 0]
    assert acc["n_retweets"].tolist() == [0, 2, 1, 0]
    assert acc["engagement"].tolist() == [3, 5, 70, 0]
    assert acc["likes"].tolist() == [1, 0, 10, 0] and acc["quotes"].tolist() == [0, 1, 0, 0]
    assert acc["n_retweets_in_network"].tolist() == [0, 1, 1, 0]
    assert acc["n_zero_engagement"].tolist() == [1, 0, 0, 0]
    # retweets > 5 x likes: tweet 1 (2 > 5), no; tweet 5 (1 > 0) yes; tweet 6 (60 > 50) yes
    assert acc["n_retweet_heavy"].tolist() == [0, 1, 1, 0]
    assert acc["follower_count"].dtype == np.int64
    assert acc.loc["a", "lifespan_days"] == pytest.approx(30.5)
    assert np.isnan(acc.loc["d", "lifespan_days"])
    assert acc.loc["c", "first_tweet_time"] == pd.Timestamp("2018-01-02")


def test_tweet_frame_holds_original_tweets_with_followers(work_dir):
    tw = frames.load(work_dir).tweets
    assert len(tw) == 4
    assert tw["userid"].tolist() == ["a", "a", "b", "c"]
    assert tw["engagement"].tolist() == [3, 0, 5, 70]
    assert tw["follower_count"].tolist() == [0, 0, 12, 6000]
    assert list(tw.columns) == ["userid", "follower_count", "likes", "retweets", "replies", "quotes",
                                "engagement", "tweet_time"]


def test_max_tweets_samples_whole_accounts_deterministically(tmp_path):
    users = [{"userid": f"u{i}", "follower_count": i, "account_creation_date": "2020-01-01"} for i in range(40)]
    tweets = [tweet(f"{i}-{k}", f"u{i}", "2020-02-01 00:00", likes=k) for i in range(40) for k in range(3)]
    wd = write_work_dir(tmp_path / "w", users, tweets)
    first = frames.load(wd, max_tweets=30, seed=5)
    again = frames.load(wd, max_tweets=30, seed=5)
    other = frames.load(wd, max_tweets=30, seed=6)
    assert len(first.tweets) == 30  # 10 whole accounts of 3 tweets
    assert first.tweets.groupby("userid").size().eq(3).all()
    pd.testing.assert_frame_equal(first.tweets, again.tweets)
    assert set(first.tweets.userid) != set(other.tweets.userid)
    assert len(first.accounts) == 40  # account statistics keep everyone
    assert any("10 of 40 accounts, 30 of 120 original tweets" in w for w in first.warnings)


def test_unknown_followers_and_orphan_tweeters_are_kept_and_reported(tmp_path):
    users = [{"userid": "a", "follower_count": None, "account_creation_date": "2020-01-01"}]
    tweets = [tweet("1", "a", "2020-01-02 00:00", likes=1), tweet("2", "z", "2020-01-02 00:00", likes=2)]
    f = frames.load(write_work_dir(tmp_path / "w", users, tweets))
    assert f.accounts["userid"].tolist() == ["a", "z"]
    assert f.accounts["follower_count"].isna().all()
    assert f.accounts["engagement"].tolist() == [1, 2]
    assert any("1 accounts tweet in tweets.parquet but are missing" in w for w in f.warnings)
    assert any("2 accounts have an unknown follower count" in w for w in f.warnings)


def test_empty_counts_are_read_as_zero_with_a_warning(tmp_path):
    tweets = [tweet("1", "a", "2020-01-02 00:00", likes=4) | {"reply_count": None}]
    f = frames.load(write_work_dir(tmp_path / "w", USERS[:1], tweets))
    assert f.accounts["engagement"].tolist() == [4]
    assert f.warnings == ["tweets.parquet: 1 original tweets with an empty engagement count, read as 0"]


def test_missing_tables_say_run_notebook_01(tmp_path):
    with pytest.raises(TractionError, match=r"run 01_load.ipynb first \(work_dir="):
        frames.load(tmp_path)


def test_duplicate_userid_is_refused_with_its_lines(tmp_path):
    users = [{"userid": "a", "follower_count": 1, "source_line": 2},
             {"userid": "a", "follower_count": 2, "source_line": 7}]
    with pytest.raises(TractionError, match=r"userid 'a' appears 2 times \(source lines \[2, 7\]\)"):
        frames.load(write_work_dir(tmp_path / "w", users, TWEETS))


def test_missing_column_is_named(tmp_path):
    wd = tmp_path / "w"
    wd.mkdir()
    duckdb.connect().execute(f"COPY (SELECT 'a' AS userid) TO '{wd / 'accounts.parquet'}' (FORMAT parquet)")
    with pytest.raises(TractionError, match="missing column.*follower_count"):
        frames.load(wd)


def test_users_only_form(tmp_path):
    f = frames.load(write_work_dir(tmp_path / "w", USERS, None))
    assert f.form == "users_only" and f.tweets is None
    assert f.accounts["n_original"].tolist() == [0, 0, 0, 0]


def write_account_table(work_dir: Path, rows: list[dict]):
    work_dir.mkdir(parents=True, exist_ok=True)
    write_table(work_dir / "accounts.parquet", schema.ACCOUNT_TABLE_COLUMNS, rows)
    (work_dir / "load_report.json").write_text(json.dumps({"form": "account_table", "campaign": "t"}))
    return work_dir


def test_account_table_form(tmp_path):
    rows = [{"userid": "x", "follower_count": 10, "tweet_count": 4, "retweet_total": 8, "engagement_total": 8},
            {"userid": "y", "follower_count": 0, "tweet_count": 2, "retweet_total": 0, "engagement_total": 0}]
    f = frames.load(write_account_table(tmp_path / "w", rows))
    assert f.form == "account_table" and f.tweets is None
    assert f.accounts["n_original"].tolist() == [4, 2]
    assert f.accounts["engagement"].tolist() == [8, 0]
    assert f.accounts["retweets"].tolist() == [8.0, 0.0]
    assert f.accounts["likes"].isna().all() and f.accounts["lifespan_days"].isna().all()
    assert f.report["campaign"] == "t"


def test_empty_tweets_table_is_the_users_only_form(tmp_path):
    f = frames.load(write_work_dir(tmp_path / "w", USERS, []))
    assert f.form == "users_only" and f.tweets is None


def test_the_connection_is_bounded_and_prints_no_progress_bar():
    """DuckDB's progress bar wrote to stderr for every query over 2 s, piped or not (2,300 lines in a 37M-tweet step's
    log); the budget and the spill limit are set."""
    con = frames.connect()
    settings = dict(con.execute("SELECT name, value FROM duckdb_settings() WHERE name IN ('enable_progress_bar', "
                                "'memory_limit', 'max_temp_directory_size')").fetchall())
    con.close()
    assert settings["enable_progress_bar"] == "false"
    assert settings["memory_limit"] != duckdb.connect().execute("SELECT current_setting('memory_limit')").fetchone()[0]
    assert settings["max_temp_directory_size"] not in ("", "0 bytes")
