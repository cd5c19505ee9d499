"""Values that parse but cannot be true: negative counts are rejected, impossible dates flagged."""

import datetime

from helpers.ingest import archive
from test_archive import column, read, tweet_row, user_row, write_csv


def test_negative_counts_are_rejected_with_their_reason(tmp_path):
    write_csv(tmp_path / "c_users_csv_hashed.csv", [user_row("u1"), user_row("u2", followers="-5")])
    write_csv(tmp_path / "c_tweets_csv_hashed.csv", [tweet_row("1", "u1", like_count="-5"), tweet_row("2", "u1"),
                                                     tweet_row("3", "u1", retweet_count="0")])
    report = archive.ingest(tmp_path, "c", tmp_path / "out")
    rejected = read(tmp_path / "out", "rejected.parquet")
    assert list(zip(rejected["table"], rejected["source_line"], rejected["reason"])) == [
        ("users", 3, "follower_count is negative"), ("tweets", 2, "like_count is negative")]
    assert column(tmp_path / "out", "tweets.parquet", "tweetid") == ["2", "3"]
    assert column(tmp_path / "out", "accounts.parquet", "follower_count") == [10]
    assert report["totals"]["rows_read"] == 5 and report["totals"]["rows_rejected"] == 2


def test_dates_before_the_platform_or_after_today_are_flagged_with_examples(tmp_path):
    write_csv(tmp_path / "c_users_csv_hashed.csv", [user_row("u1", created="1970-01-01"), user_row("u2")])
    write_csv(tmp_path / "c_tweets_csv_hashed.csv", [
        tweet_row("1", "u1", tweet_time="1970-01-01 00:00"), tweet_row("2", "u1"),
        tweet_row("3", "u2", tweet_time="2006-03-21 00:00"), tweet_row("4", "u2", tweet_time="2099-01-01 10:00")])
    report = archive.ingest(tmp_path, "c", tmp_path / "out")
    today = datetime.date.today().isoformat()
    flagged = report["dates_out_of_range"]
    assert flagged["tweet_time"] == {"count": 2, "before": "2006-03-21", "after": today, "examples": [
        {"file": "c_tweets_csv_hashed.csv", "line": 2, "value": "1970-01-01 00:00:00"},
        {"file": "c_tweets_csv_hashed.csv", "line": 5, "value": "2099-01-01 10:00:00"}]}
    assert flagged["account_creation_date"]["count"] == 1
    assert flagged["account_creation_date"]["examples"] == [
        {"file": "c_users_csv_hashed.csv", "line": 2, "value": "1970-01-01"}]
    assert report["totals"]["tweets"] == 4  # flagged, still loaded
    assert "flagged: 2 tweet_time before 2006-03-21" in report.summary()


def test_plausible_dates_raise_no_flag(tmp_path):
    write_csv(tmp_path / "c_tweets_csv_hashed.csv", [tweet_row("1", "u1")])
    assert archive.ingest(tmp_path, "c", tmp_path / "out")["dates_out_of_range"] == {}


def test_a_run_whose_tweets_were_all_rejected_says_exactly_that(tmp_path):
    from helpers import frames
    from helpers import steps

    write_csv(tmp_path / "c_users_csv_hashed.csv", [user_row("u1"), user_row("u2")])
    write_csv(tmp_path / "c_tweets_csv_hashed.csv", [tweet_row(str(i), "u1", like_count="-1") for i in range(3)])
    archive.ingest(tmp_path, "c", tmp_path / "out")
    loaded = frames.load(tmp_path / "out")
    assert loaded.form == frames.FORM_USERS_ONLY
    assert loaded.warnings == ["no tweets loaded: every tweet row read was rejected (3; their reasons are in "
                               "rejected.parquet): engagement statistics are skipped"]
    steps.engagement_vs_followers(tmp_path / "out", n_boot=19)
    verdicts = {v.id: v for v in steps.narrative(tmp_path / "out").assessment.verdicts}  # the generic statement
    evidence = [verdicts[key].evidence for key in ("low_engagement", "caught_early", "coordinated")]
    assert all(e.startswith("No tweet was loaded: every tweet row read was rejected") for e in evidence), evidence
    assert not any("users file only" in v.evidence for v in verdicts.values())


def test_a_tweet_id_that_is_not_a_number_is_rejected_naming_the_field(tmp_path):
    write_csv(tmp_path / "c_tweets_csv_hashed.csv", [
        tweet_row("1", "u1"), tweet_row('"2"', "u1"), tweet_row("3\r", "u1"), tweet_row("1.01421E+18", "u1"),
        tweet_row(" 5 ", "u1")])
    report = archive.ingest(tmp_path, "c", tmp_path / "out")
    rejected = read(tmp_path / "out", "rejected.parquet")
    assert list(zip(rejected["source_line"], rejected["reason"])) == [
        (3, "tweetid is not a number"), (4, "tweetid is not a number")]
    assert column(tmp_path / "out", "tweets.parquet", "tweetid") == ["1", "1.01421E+18", " 5 "]  # rounded: kept, flagged
    assert report["totals"]["rows_read"] == 5 and report["totals"]["rows_rejected"] == 2
