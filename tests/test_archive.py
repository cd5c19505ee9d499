"""Archive ingest on small handwritten files: each quirk, line numbers, accounting, cache, errors."""

import csv
import hashlib
import io
import json
import zipfile
from datetime import date, datetime

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import schema
from helpers.ingest import archive
from helpers.ingest import scan as archive_scan
from helpers.cli import main
from helpers.errors import TractionError

USER_HEADER = ",".join(schema.USER_COLUMNS)


def user_row(userid, followers="10", created="2019-07-17", description="", **extra):
    values = {"userid": userid, "user_display_name": f"name {userid}", "user_screen_name": f"sn_{userid}",
              "user_reported_location": "", "user_profile_description": description, "user_profile_url": "",
              "follower_count": followers, "following_count": "5", "account_creation_date": created,
              "account_language": "en", **extra}
    return values


def tweet_row(tweetid, userid, **extra):
    values = {c: "" for c in schema.TWEET_COLUMNS}
    values.update(user_row(userid))
    values.update(tweetid=tweetid, tweet_language="en", tweet_text=f"text {tweetid}",
                  tweet_time="2020-03-01 12:30", tweet_client_name="Twitter Web App", is_retweet="False",
                  latitude="absent", longitude="absent", quote_count="0", reply_count="1", like_count="2",
                  retweet_count="3", hashtags="[]", urls="[]", user_mentions="[]", poll_choices="")
    values.update(extra)
    return values


def write_csv(path, rows, columns=None, newline="\n"):
    """A CSV quoted the way Twitter quoted its files (every field)."""
    columns = columns or list(rows[0])
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, columns, quoting=csv.QUOTE_ALL, lineterminator=newline, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8", newline="")
    return path


def read(out, name):
    con = duckdb.connect()
    return con.execute(f"SELECT * FROM read_parquet('{out / name}')").fetch_df()


def column(out, name, col):
    """A column as Python values (DATE stays datetime.date)."""
    return [row[0] for row in duckdb.connect().execute(f"SELECT {col} FROM read_parquet('{out / name}')").fetchall()]


def report_of(out):
    return json.loads((out / "load_report.json").read_text())


def test_users_only_campaign_loads_with_an_empty_tweets_table(tmp_path):
    write_csv(tmp_path / "c_users_csv_hashed.csv", [user_row("123"), user_row("abc+/=", followers="")])
    report = archive.ingest(tmp_path, "c", tmp_path / "out")
    accounts = read(tmp_path / "out", "accounts.parquet")
    assert list(accounts.columns) == list(schema.ACCOUNTS_SCHEMA)
    assert accounts["userid"].tolist() == ["123", "abc+/="]
    assert accounts["userid_hashed"].tolist() == [False, True]
    assert accounts["follower_count"].isna().tolist() == [False, True]  # empty count is unknown, not 0
    assert accounts["source_line"].tolist() == [2, 3]
    tweets = read(tmp_path / "out", "tweets.parquet")
    assert len(tweets) == 0 and list(tweets.columns) == list(schema.TWEETS_SCHEMA)
    assert report["form"] == "archive" and report["simulated"] is False
    assert report["files"][0]["rows_read"] == 2 and report["files"][0]["sha256"]
    assert report["users_without_tweets"] == 2
    on_disk = report_of(tmp_path / "out")
    for key in ("campaign", "form", "data_dir", "simulated", "files", "accounts_tweeting_not_in_users",
                "users_without_tweets", "totals"):
        assert key in on_disk


def test_tweet_quirks_are_normalised(tmp_path):
    rows = [
        tweet_row("1", "u1", is_retweet="True", hashtags="[hk, china]", latitude="present", longitude="present"),
        tweet_row("2", "u1", is_retweet="false", like_count="", urls="['http://a.b/x,y', 'http://c.d']",
                  latitude="22.5", longitude="114.1"),
        tweet_row("3", "u2", is_retweet="true", user_mentions='["m1", "m2"]', hashtags="",
                  tweet_text='line one, with comma\nline "two"\n\nend', tweet_time="2020-03-02 01:02:03"),
        tweet_row("1.01421E+18", "u2", is_retweet="False", retweet_tweetid="1.35e+18"),
    ]
    columns = [c for c in schema.TWEET_COLUMNS if c != "poll_choices"]  # a release without poll_choices
    columns = columns[::-1]  # and another column order: matched by name
    write_csv(tmp_path / "c_tweets_csv_hashed.csv", rows, columns)
    report = archive.ingest(tmp_path, "c", tmp_path / "out")
    tweets = read(tmp_path / "out", "tweets.parquet")
    assert tweets["tweetid"].tolist() == ["1", "2", "3", "1.01421E+18"]
    assert tweets["is_retweet"].tolist() == [True, False, True, False]
    assert tweets["hashtags"][0].tolist() == ["hk", "china"] and tweets["hashtags"][1].tolist() == []
    assert tweets["hashtags"].isna()[2]  # empty field: unknown, not an empty list
    assert tweets["urls"][1].tolist() == ["http://a.b/x,y", "http://c.d"]
    assert tweets["user_mentions"][2].tolist() == ["m1", "m2"]
    assert tweets["latitude"].isna().tolist() == [True, False, True, True]
    assert tweets["longitude"][1] == pytest.approx(114.1)
    assert tweets["like_count"].isna().tolist() == [False, True, False, False]
    assert tweets["tweet_text"][2] == 'line one, with comma\nline "two"\n\nend'
    assert tweets["tweet_time"][2] == datetime(2020, 3, 2, 1, 2, 3)
    assert tweets["tweet_time"][0] == datetime(2020, 3, 1, 12, 30)
    assert tweets["poll_choices"].isna().all()
    assert tweets["id_damaged"].tolist() == [False, False, False, True]
    assert tweets["source_line"].tolist() == [2, 3, 4, 8]  # tweet 3 spans four lines
    assert report["tweets_id_damaged_by_column"]["tweetid"] == 1
    assert report["tweets_id_damaged_by_column"]["retweet_tweetid"] == 1
    assert report["totals"]["tweets_coordinates_present_withheld"] == 1
    assert report["files"][0]["columns_missing"] == ["poll_choices"]


def test_rejected_rows_keep_their_line_raw_text_and_reason(tmp_path):
    users = [user_row("a", description="multi\nline\nbio"), user_row("b", followers="lots"),
             user_row("c", created="2019-02-30", description='say "hi"\r\nbye'), user_row("d"),
             user_row("", followers="3")]
    path = write_csv(tmp_path / "c_users_csv_hashed.csv", users, newline="\r\n")
    text = path.read_bytes().decode("utf-8")
    # a structural fault after multi-line records: too many fields, then a blank line
    text = text.replace('"d",', '"d","extra",', 1) + "\r\n" + '"e","E","e","","","","1","2","2019-01-01","en"\r\n'
    path.write_text(text, encoding="utf-8", newline="")
    report = archive.ingest(tmp_path, "c", tmp_path / "out")
    rejected = read(tmp_path / "out", "rejected.parquet").set_index("source_line")
    physical = text.split("\n")
    assert sorted(rejected.index) == [5, 6, 8, 9]
    assert rejected.loc[5, "reason"] == "follower_count is not an integer"
    assert rejected.loc[5, "raw"] == physical[4].rstrip("\r")
    assert rejected.loc[6, "reason"] == "account_creation_date is not a YYYY-MM-DD date"
    assert rejected.loc[6, "raw"] == "\n".join(physical[5:7]).rstrip("\r")  # '\r\n' kept inside the field
    assert rejected.loc[8, "reason"] == "csv: too many columns"
    assert rejected.loc[8, "raw"].startswith('"d","extra",')
    assert rejected.loc[9, "reason"] == "userid is empty"
    assert set(rejected["table"]) == {"users"}
    accounts = read(tmp_path / "out", "accounts.parquet")
    assert accounts["userid"].tolist() == ["a", "e"]
    assert accounts["user_profile_description"][0] == "multi\nline\nbio"  # LF inside, CRLF ends (Excel)
    assert accounts["source_line"].tolist() == [2, 11]  # after the blank line 10
    entry = report["files"][0]
    assert entry["rows_read"] == 6 and entry["blank_lines"] == 1
    assert entry["rows_read"] == entry["rows_loaded"] + entry["rows_rejected"]
    assert entry["rejected_by_reason"]["csv: too many columns"] == 1


def test_rows_read_equal_loaded_plus_rejected_for_every_file(tmp_path):
    write_csv(tmp_path / "c_users_csv_hashed.csv", [user_row("u1"), user_row("u1", followers="11"),
                                                    user_row("u2", followers="x"), user_row("u1")])
    write_csv(tmp_path / "c_tweets_csv_hashed_1.csv", [tweet_row("1", "u1"), tweet_row("2", "u9", like_count="2.5")])
    write_csv(tmp_path / "c_tweets_csv_hashed_2.csv", [tweet_row("3", "u1"), tweet_row("3", "u1"),
                                                       tweet_row("4", "u1", tweet_time="")])
    report = archive.ingest(tmp_path, "c", tmp_path / "out")
    rejected = read(tmp_path / "out", "rejected.parquet")
    for entry in report["files"]:
        assert entry["rows_read"] == entry["rows_loaded"] + entry["rows_rejected"]
        assert entry["rows_rejected"] == (rejected["source_file"] == entry["path"]).sum()
    by_file = {e["path"]: e for e in report["files"]}
    assert by_file["c_users_csv_hashed.csv"]["rejected_by_reason"] == {
        "duplicate userid with different values": 1, "follower_count is not an integer": 1}
    assert by_file["c_users_csv_hashed.csv"]["rows_merged_identical_duplicates"] == 1  # the 2nd exact u1
    assert by_file["c_tweets_csv_hashed_2.csv"]["rejected_by_reason"] == {"tweet_time is empty": 1}
    assert by_file["c_tweets_csv_hashed_2.csv"]["rows_merged_identical_duplicates"] == 1
    assert report["totals"]["rows_read"] == 9 and report["totals"]["rows_loaded"] == 5
    assert column(tmp_path / "out", "accounts.parquet", "follower_count") == [10]
    assert column(tmp_path / "out", "tweets.parquet", "tweetid") == ["1", "3"]


def test_accounts_that_tweet_but_are_not_in_the_users_file_are_added(tmp_path):
    write_csv(tmp_path / "c_users_csv_hashed.csv", [user_row("u1"), user_row("u2")])
    write_csv(tmp_path / "c_tweets_csv_hashed.csv", [
        tweet_row("1", "u1"), tweet_row("2", "u3", follower_count="7"), tweet_row("3", "u3", follower_count="8")])
    report = archive.ingest(tmp_path, "c", tmp_path / "out")
    accounts = read(tmp_path / "out", "accounts.parquet")
    assert accounts["userid"].tolist() == ["u1", "u2", "u3"]
    assert accounts["from_tweets_file"].tolist() == [False, False, True]
    added = accounts.iloc[2]
    assert added["follower_count"] == 8 and added["source_line"] == 4  # its last tweet in file order
    assert report["accounts_tweeting_not_in_users"] == {"count": 1, "examples": ["u3"]}
    assert report["users_without_tweets"] == 1


def test_multi_part_and_zipped_files_are_found_in_part_order(tmp_path):
    for part in (10, 2, 1):
        write_csv(tmp_path / f"c_tweets_csv_hashed_part{part}.csv", [tweet_row(str(part), "u1")])
    users = write_csv(tmp_path / "staging.csv", [user_row("u1")])
    with zipfile.ZipFile(tmp_path / "c_users.zip", "w") as archive_file:
        archive_file.write(users, "c_users_csv_hashed.csv")
    users.unlink()
    (tmp_path / "other_tweets_csv_hashed.csv").write_text("not ours")
    report = archive.ingest(tmp_path, "c", tmp_path / "out")
    assert [f["path"] for f in report["files"]] == [
        "c_users.zip/c_users_csv_hashed.csv", "c_tweets_csv_hashed_part1.csv",
        "c_tweets_csv_hashed_part2.csv", "c_tweets_csv_hashed_part10.csv"]
    assert read(tmp_path / "out", "tweets.parquet")["tweetid"].tolist() == ["1", "2", "10"]
    assert report["totals"]["accounts_from_tweets_file"] == 0


def test_explicit_globs_pick_other_naming(tmp_path):
    write_csv(tmp_path / "2021_release_accounts.csv", [user_row("u1")])
    write_csv(tmp_path / "2021_release_tweets_a.csv", [tweet_row("1", "u1")])
    report = archive.ingest(tmp_path, "r2021", tmp_path / "out", users_glob="*_accounts.csv",
                            tweets_glob="*_tweets_*.csv")
    assert [f["kind"] for f in report["files"]] == ["users", "tweets"]


@pytest.mark.parametrize("declared, dates, expected", [
    ("mdy", ["7/8/2019", "1/2/2020"], [date(2019, 7, 8), date(2020, 1, 2)]),
    ("dmy", ["7/8/2019", "1/2/2020"], [date(2019, 8, 7), date(2020, 2, 1)]),
    ("auto", ["7/8/2019", "7/17/2019"], [date(2019, 7, 8), date(2019, 7, 17)]),  # 17 > 12: month first
    ("auto", ["8/7/2019", "17/7/2019"], [date(2019, 7, 8), date(2019, 7, 17)]),
])
def test_slash_dates_follow_one_order_per_file(tmp_path, declared, dates, expected):
    write_csv(tmp_path / "c_users_csv_hashed.csv", [user_row(f"u{i}", created=d) for i, d in enumerate(dates)])
    report = archive.ingest(tmp_path, "c", tmp_path / "out", date_order=declared)
    assert column(tmp_path / "out", "accounts.parquet", "account_creation_date") == expected
    assert report["files"][0]["date_order"] in ("mdy", "dmy")


def test_ambiguous_slash_dates_need_a_declared_order(tmp_path):
    write_csv(tmp_path / "c_users_csv_hashed.csv", [user_row("u1", created="7/8/2019")])
    with pytest.raises(TractionError, match=r"c_users_csv_hashed.csv: .*declare date_order"):
        archive.ingest(tmp_path, "c", tmp_path / "out")


def test_slash_tweet_times_from_a_resaved_tweets_file(tmp_path):
    write_csv(tmp_path / "c_tweets_csv_hashed.csv", [
        tweet_row("1", "u1", tweet_time="3/14/2020 9:05", account_creation_date="12/1/2019")])
    archive.ingest(tmp_path, "c", tmp_path / "out")
    assert read(tmp_path / "out", "tweets.parquet")["tweet_time"][0] == datetime(2020, 3, 14, 9, 5)


def test_second_run_uses_the_cache_and_changed_input_invalidates_it(tmp_path):
    users = write_csv(tmp_path / "c_users_csv_hashed.csv", [user_row("u1")])
    out = tmp_path / "out"
    first = archive.ingest(tmp_path, "c", out)
    stamp = (out / "accounts.parquet").stat().st_mtime_ns
    (out / ".accounts.parquet.deadbeef.tmp").write_text("half-written by a killed run")
    (out / ".ingest-tmp-stale").mkdir()
    (out / ".ingest-tmp-stale" / "accounts.parquet").write_text("junk")
    second = archive.ingest(tmp_path, "c", out)
    assert second.from_cache and not first.from_cache
    assert not (out / ".ingest-tmp-stale").exists() and not (out / ".accounts.parquet.deadbeef.tmp").exists()
    assert second == first and (out / "accounts.parquet").stat().st_mtime_ns == stamp
    write_csv(users, [user_row("u1"), user_row("u2")])
    third = archive.ingest(tmp_path, "c", out)
    assert not third.from_cache and third["totals"]["accounts"] == 2
    assert len(read(out, "accounts.parquet")) == 2


def test_a_run_killed_before_its_report_is_not_trusted(tmp_path):
    write_csv(tmp_path / "c_users_csv_hashed.csv", [user_row("u1")])
    out = tmp_path / "out"
    archive.ingest(tmp_path, "c", out)
    (out / "load_report.json").unlink()  # what a kill between the Parquet moves and the report leaves
    assert not archive.ingest(tmp_path, "c", out).from_cache


def test_same_input_gives_byte_identical_outputs(tmp_path):
    write_csv(tmp_path / "c_users_csv_hashed.csv", [user_row("u1"), user_row("u2", followers="x")])
    write_csv(tmp_path / "c_tweets_csv_hashed.csv", [tweet_row(str(i), f"u{i % 3}") for i in range(50)])
    archive.ingest(tmp_path, "c", tmp_path / "a")
    archive.ingest(tmp_path, "c", tmp_path / "b")
    for name in ("accounts.parquet", "tweets.parquet", "rejected.parquet", "load_report.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


# ---- bad input: a clear message naming the file and the problem ------------------


def test_missing_folder(tmp_path):
    with pytest.raises(TractionError, match="data folder not found: .*nowhere"):
        archive.ingest(tmp_path / "nowhere", "c", tmp_path / "out")


def test_no_files_for_the_campaign_lists_what_was_found(tmp_path):
    write_csv(tmp_path / "other_users_csv_hashed.csv", [user_row("u1")])
    with pytest.raises(TractionError, match=r"no files for campaign 'c'.*found: other_users_csv_hashed.csv"):
        archive.ingest(tmp_path, "c", tmp_path / "out")


def test_missing_required_column_is_named_with_the_columns_present(tmp_path):
    row = user_row("u1")
    del row["follower_count"]
    write_csv(tmp_path / "c_users_csv_hashed.csv", [row])
    with pytest.raises(TractionError, match=r"c_users_csv_hashed.csv: missing required column 'follower_count'; "
                                            r"columns present: userid, user_display_name"):
        archive.ingest(tmp_path, "c", tmp_path / "out")


@pytest.mark.parametrize("content, message", [
    ("", "the file is empty"),
    ("\n\n", "the file is empty"),
    (USER_HEADER + "\n", "the file has a header but no data rows"),
])
def test_empty_files(tmp_path, content, message):
    (tmp_path / "c_users_csv_hashed.csv").write_text(content)
    with pytest.raises(TractionError, match=f"c_users_csv_hashed.csv: {message}"):
        archive.ingest(tmp_path, "c", tmp_path / "out")


def test_bytes_that_are_not_utf8_are_reported_with_their_line(tmp_path):
    path = write_csv(tmp_path / "c_users_csv_hashed.csv", [user_row("u1", description="a\nb"), user_row("u2")])
    path.write_bytes(path.read_bytes().replace(b'"name u2"', b'"name \xe9"'))
    with pytest.raises(TractionError, match=r"c_users_csv_hashed.csv: line 4: bytes that are not UTF-8"):
        archive.ingest(tmp_path, "c", tmp_path / "out")


def test_bad_date_order_parameter(tmp_path):
    with pytest.raises(TractionError, match="date_order must be one of"):
        archive.ingest(tmp_path, "c", tmp_path / "out", date_order="ydm")


def test_a_stray_quote_inside_a_quoted_field_rejects_that_record_only(tmp_path):
    path = write_csv(tmp_path / "c_users_csv_hashed.csv", [user_row("u1"), user_row("u2")])
    bad = '"u3","x"y","s","","","","1","1","2019-01-01","en"'
    path.write_text(path.read_text() + bad + "\n")
    report = archive.ingest(tmp_path, "c", tmp_path / "out")
    assert column(tmp_path / "out", "accounts.parquet", "userid") == ["u1", "u2"]
    rejected = read(tmp_path / "out", "rejected.parquet")
    assert rejected["source_line"].tolist() == [4] and rejected["raw"].tolist() == [bad]
    assert rejected["reason"].tolist() == ["unbalanced quote from line 4; 1 record rejected"]
    assert report["files"][0]["damage"] == [{"first_line": 4, "last_line": 4, "records_rejected": 1,
                                             "reason": "unbalanced quote from line 4; 1 record rejected"}]


def test_mixed_record_endings_load_every_record(tmp_path):
    path = tmp_path / "c_users_csv_hashed.csv"
    path.write_bytes((USER_HEADER + '\r\n"u1","a","b","","","","1","2","2019-01-01","en"\n'
                      '"u2","a","b","","","","1","2","2019-01-01","en"\r\n').encode())
    report = archive.ingest(tmp_path, "c", tmp_path / "out")
    assert column(tmp_path / "out", "accounts.parquet", "userid") == ["u1", "u2"]
    assert column(tmp_path / "out", "accounts.parquet", "source_line") == [2, 3]
    assert report["files"][0]["rows_read"] == 2 and report["files"][0]["damage"] == []


# ---- account-level table --------------------------------------------------------


def test_account_table_maps_columns_and_sums_the_known_engagement(tmp_path):
    path = tmp_path / "agg.csv"
    path.write_text("name,followers,tweets,rts,likes\nA,10,3,5,1\nB,,2,0,\nA,1,1,1,1\nC,x,1,1,1\n")
    report = archive.ingest_account_table(path, tmp_path / "out", {
        "userid": "name", "follower_count": "followers", "tweet_count": "tweets",
        "retweet_total": "rts", "like_total": "likes"})
    accounts = read(tmp_path / "out", "accounts.parquet")
    assert accounts["userid"].tolist() == ["A", "B"]
    assert accounts["engagement_total"][0] == 6 and accounts["engagement_total"].isna().tolist() == [False, True]
    assert report["engagement_components_missing"] == ["reply_total", "quote_total"]
    assert report["files"][0]["rejected_by_reason"] == {
        "duplicate userid with different values": 1, "follower_count is not an integer": 1}
    assert not (tmp_path / "out" / "tweets.parquet").exists()


def test_account_table_missing_mapped_column(tmp_path):
    path = tmp_path / "agg.csv"
    path.write_text("name,followers\nA,1\n")
    with pytest.raises(TractionError, match=r"agg.csv: missing required column 'follower_count' \(mapped to "
                                            r"'followers_max'\); columns present: name, followers"):
        archive.ingest_account_table(path, tmp_path / "out", {"userid": "name", "follower_count": "followers_max"})


# ---- command line -----------------------------------------------------------------


def test_cli_ingest_prints_a_summary(tmp_path, capsys):
    write_csv(tmp_path / "c_users_csv_hashed.csv", [user_row("u1")])
    assert main(["ingest", "--data-dir", str(tmp_path), "--campaign", "c", "--out", str(tmp_path / "o")]) == 0
    assert "c_users_csv_hashed.csv: read 1, loaded 1, rejected 0" in capsys.readouterr().out
    assert (tmp_path / "o" / "load_report.json").is_file()


def test_cli_ingest_bad_input_exits_2_with_the_message(tmp_path, capsys):
    assert main(["ingest", "--data-dir", str(tmp_path / "none"), "--campaign", "c", "--out", str(tmp_path)]) == 2
    assert "data folder not found" in capsys.readouterr().err


# ---- the byte scan and the paths it chooses ------------------------------------------


@pytest.mark.parametrize("body, single_line, records, blank", [
    (b'"a","b"\n"1","2"\n"3","4"\n', True, 2, 0),
    (b'"a","b"\n"1","2"\n"3","4"', True, 2, 0),  # no final newline
    (b'"a","b"\r\n"1","2"\r\n', True, 1, 0),
    (b'"a","b"\n"1","x\ny"\n"3","4"\n', False, 2, 0),  # a record spans two lines
    (b'"a","b"\n"1","2"\n\n"3","4"\n', False, 2, 1),  # a blank line
    (b'"a","b"\n"1","x\ry"\n"3","4"\n', False, 2, 0),  # a CR alone: DuckDB could end a record there
])
def test_scan_counts_records_and_says_when_record_k_is_on_line_k_plus_1(tmp_path, body, single_line, records, blank):
    path = tmp_path / "f.csv"
    path.write_bytes(body)
    found = archive_scan.scan_file(path, "f.csv")
    assert (found.single_line, found.records, found.blank_lines) == (single_line, records, blank)
    assert found.sha256 == hashlib.sha256(body).hexdigest()


def test_scan_checks_utf8_across_chunk_borders(tmp_path, monkeypatch):
    monkeypatch.setattr(archive_scan, "CHUNK", 7)  # every multi-byte character may straddle a chunk
    path = tmp_path / "f.csv"
    path.write_bytes('"a"\n"香港人"\n"ok"\n'.encode() + b'"\xe9"\n')
    with pytest.raises(TractionError, match=r"f.csv: line 4: bytes that are not UTF-8"):
        archive_scan.scan_file(path, "f.csv")
    path.write_bytes('"a"\n"香港人"\n"ok"\n'.encode())
    assert archive_scan.scan_file(path, "f.csv").records == 2


QUICK_BYTES = st.lists(st.sampled_from([b"a", b"\n", b"\r", b"\x00", b"\xef", b"\xbb", b"\xbf", b"\xef\xbb", "，".encode(),
                                          archive_scan.BOM]), max_size=40).map(b"".join)


@settings(max_examples=300, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=QUICK_BYTES, chunk=st.integers(3, 9))
def test_quick_scan_finds_nul_bytes_and_marks_after_the_first_byte_across_chunk_borders(tmp_path, monkeypatch,
                                                                                        data, chunk):
    # the bytes, chunk by chunk, against the whole file read at once by bytes' own methods
    monkeypatch.setattr(archive_scan, "CHUNK", chunk)
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    found = archive_scan.quick_scan(path)
    assert found.stray == (b"\x00" in data or archive_scan.BOM in data[1:])
    assert found.lines == data.count(b"\n") + (bool(data) and not data.endswith(b"\n"))
    assert found.sha256 == hashlib.sha256(data).hexdigest()


def test_read_records_returns_whole_records_without_their_line_ending(tmp_path, monkeypatch):
    monkeypatch.setattr(archive_scan, "CHUNK", 5)
    path = tmp_path / "f.csv"
    path.write_bytes(b'"h"\r\n"one"\r\n"two\r\nlines, ""q"""\r\n"x"\n"last"')
    texts = archive_scan.read_records(path, [3, 2, 6, 5])
    assert texts == {2: '"one"', 3: '"two\r\nlines, ""q"""', 5: '"x"', 6: '"last"'}


def test_one_line_records_with_rejects_get_their_lines_from_a_second_pass(tmp_path):
    rows = [tweet_row(str(i), "u1") for i in range(1, 7)]
    rows[2]["like_count"] = "many"
    rows[4]["tweet_time"] = "yesterday"
    path = write_csv(tmp_path / "c_tweets_csv_hashed.csv", rows)
    assert archive_scan.scan_file(path, "x").single_line  # the fast path: no record map
    report = archive.ingest(tmp_path, "c", tmp_path / "out")
    rejected = read(tmp_path / "out", "rejected.parquet")
    physical = path.read_text().split("\n")
    assert rejected["source_line"].tolist() == [4, 6]
    assert rejected["raw"].tolist() == [physical[3], physical[5]]
    assert rejected["reason"].tolist() == ["like_count is not an integer", "tweet_time is not a YYYY-MM-DD date"]
    assert column(tmp_path / "out", "tweets.parquet", "source_line") == [2, 3, 5, 7]
    assert report["files"][0]["rows_read"] == 6 and report["files"][0]["rows_loaded"] == 4


def test_a_record_duckdb_rejects_in_a_one_line_file_shifts_no_line_number(tmp_path):
    path = write_csv(tmp_path / "c_users_csv_hashed.csv", [user_row(f"u{i}") for i in range(1, 6)])
    text = path.read_text().replace('"u2",', '"u2","extra",', 1)
    path.write_text(text)
    archive.ingest(tmp_path, "c", tmp_path / "out")
    rejected = read(tmp_path / "out", "rejected.parquet")
    assert rejected["source_line"].tolist() == [3] and rejected["reason"].tolist() == ["csv: too many columns"]
    assert rejected["raw"][0] == text.split("\n")[2]
    accounts = read(tmp_path / "out", "accounts.parquet")
    assert accounts["userid"].tolist() == ["u1", "u3", "u4", "u5"]
    assert accounts["source_line"].tolist() == [2, 4, 5, 6]


def test_a_lone_cr_inside_a_quoted_field_is_kept_and_lines_stay_exact(tmp_path):
    write_csv(tmp_path / "c_users_csv_hashed.csv", [user_row("u1", description="a\rb"), user_row("u2")])
    archive.ingest(tmp_path, "c", tmp_path / "out")
    accounts = read(tmp_path / "out", "accounts.parquet")
    assert accounts["user_profile_description"][0] == "a\rb"
    assert accounts["source_line"].tolist() == [2, 3]


def test_a_stray_quote_before_other_records_costs_its_own_record(tmp_path):
    path = write_csv(tmp_path / "c_users_csv_hashed.csv", [user_row("u1"), user_row("u2"), user_row("u4")])
    path.write_text(path.read_text().replace('"u2","name u2"', '"u2","name "u2"', 1))
    assert archive_scan.scan_file(path, "x").unbalanced_quotes
    report = archive.ingest(tmp_path, "c", tmp_path / "out")
    assert column(tmp_path / "out", "accounts.parquet", "userid") == ["u1", "u4"]
    assert column(tmp_path / "out", "accounts.parquet", "source_line") == [2, 4]
    rejected = read(tmp_path / "out", "rejected.parquet")
    assert rejected["source_line"].tolist() == [3] and rejected["raw"][0] == path.read_text().split("\n")[2]
    assert report["files"][0]["rows_read"] == 3 and report["files"][0]["rows_loaded"] == 2


def count_passes(monkeypatch):
    """Which files were streamed (by label) and which went through the record-map scan."""
    from helpers.ingest import scan, stream

    passes = {"stream": [], "record_map": []}
    run, scan_file = stream.run, scan.scan_file
    monkeypatch.setattr(stream, "run", lambda con, select, label, *a, **k: passes["stream"].append(label) or
                        run(con, select, label, *a, **k))
    monkeypatch.setattr(scan, "scan_file", lambda path, label, *a, **k: passes["record_map"].append(label) or
                        scan_file(path, label, *a, **k))
    return passes


def test_a_clean_file_is_read_once_even_with_multi_line_records(tmp_path, monkeypatch):
    write_csv(tmp_path / "c_users_csv_hashed.csv", [user_row("u1", description="two\nlines")])
    write_csv(tmp_path / "c_tweets_csv_hashed.csv", [
        tweet_row("1", "u1", latitude="present"), tweet_row("2", "u1", tweet_text="a\nb\r\nc", latitude="present"),
        tweet_row("3", "u1", latitude="present")])
    passes = count_passes(monkeypatch)
    report = archive.ingest(tmp_path, "c", tmp_path / "out")
    assert passes == {"stream": ["c_users_csv_hashed.csv", "c_tweets_csv_hashed.csv"], "record_map": []}
    assert report["files"][1]["rows_loaded"] == 3 and report["totals"]["tweets_coordinates_present_withheld"] == 3
    assert column(tmp_path / "out", "tweets.parquet", "source_line") == [2, 3, 6]
    assert column(tmp_path / "out", "accounts.parquet", "source_line") == [2]


def test_a_newline_where_none_is_expected_is_numbered_by_the_record_map(tmp_path, monkeypatch):
    # the fast path counts newlines in free-text columns only; one elsewhere fails its line check
    path = write_csv(tmp_path / "c_tweets_csv_hashed.csv", [
        tweet_row("1", "u1"), tweet_row("2", "u1", hashtags="[a,\nb]"), tweet_row("3", "u1", like_count="x")])
    passes = count_passes(monkeypatch)
    archive.ingest(tmp_path, "c", tmp_path / "out")
    assert passes["record_map"] == ["c_tweets_csv_hashed.csv"]
    assert column(tmp_path / "out", "tweets.parquet", "source_line") == [2, 3]
    assert read(tmp_path / "out", "tweets.parquet")["hashtags"][1].tolist() == ["a", "\nb"]  # spaces trimmed only
    rejected = read(tmp_path / "out", "rejected.parquet")
    assert rejected["source_line"].tolist() == [5] and rejected["raw"][0] == path.read_text().split("\n")[4]


# ---- losses seen on real re-saved files ---------------------------------------------


def test_rounded_tweet_ids_that_collide_load_unless_the_whole_row_repeats(tmp_path):
    rounded = "1.01421E+18"  # what a spreadsheet shows for 1014210000000000001 and its neighbours
    rows = [tweet_row(rounded, "u1", tweet_text="first"), tweet_row(rounded, "u1", tweet_text="second"),
            tweet_row(rounded, "u1", tweet_text="first"),  # the same row again: merged
            tweet_row(rounded, "u2", tweet_text="third", like_count="9"),
            tweet_row("7", "u1"), tweet_row("7", "u1", like_count="5")]  # an intact id still identifies its row
    write_csv(tmp_path / "c_users_csv_hashed.csv", [user_row("u1"), user_row("u2")])
    write_csv(tmp_path / "c_tweets_csv_hashed.csv", rows)
    report = archive.ingest(tmp_path, "c", tmp_path / "out")
    tweets = read(tmp_path / "out", "tweets.parquet")
    assert tweets["tweet_text"].tolist() == ["first", "second", "third", "text 7"]
    assert tweets["id_damaged"].tolist() == [True, True, True, False]
    assert tweets["source_line"].tolist() == [2, 3, 5, 6]
    entry = report["files"][1]
    assert entry["rejected_by_reason"] == {"duplicate tweetid with different values": 1}
    assert entry["rows_merged_identical_duplicates"] == 1
    assert entry["rows_read"] == entry["rows_loaded"] + entry["rows_rejected"] == 6
    assert report["totals"]["tweets_id_damaged"] == 3
    assert read(tmp_path / "out", "rejected.parquet")["source_line"].tolist() == [7]


def test_rounded_user_ids_follow_the_same_rule(tmp_path):
    rounded = "1.23457E+17"
    write_csv(tmp_path / "c_users_csv_hashed.csv", [
        user_row(rounded, followers="6000"), user_row(rounded, followers="9000"), user_row(rounded, followers="6000"),
        user_row("u1"), user_row("u1", followers="11")])
    report = archive.ingest(tmp_path, "c", tmp_path / "out")
    accounts = read(tmp_path / "out", "accounts.parquet")
    assert accounts["userid"].tolist() == [rounded, rounded, "u1"]
    assert accounts["follower_count"].tolist() == [6000, 9000, 10]
    assert accounts["id_damaged"].tolist() == [True, True, False]
    assert accounts["userid_hashed"].tolist() == [False, False, True]
    entry = report["files"][0]
    assert entry["rejected_by_reason"] == {"duplicate userid with different values": 1}
    assert entry["rows_merged_identical_duplicates"] == 1 and report["totals"]["accounts_id_damaged"] == 2


@pytest.mark.parametrize("declared, dates, bad, fits", [
    ("dmy", ["7/8/2019", "10/25/2019", "3/4/2019"], "10/25/2019", "mdy"),
    ("mdy", ["25/10/2019", "7/8/2019"], "25/10/2019", "dmy"),
    ("ymd", ["7/17/2019", "7/8/2019"], "7/17/2019", "mdy"),
])
def test_a_declared_date_order_the_data_contradicts_stops_with_the_value_and_the_order_that_fits(
        tmp_path, declared, dates, bad, fits):
    write_csv(tmp_path / "c_users_csv_hashed.csv", [user_row(f"u{i}", created=d) for i, d in enumerate(dates)])
    with pytest.raises(TractionError) as error:
        archive.ingest(tmp_path, "c", tmp_path / "out", date_order=declared)
    message = str(error.value)
    assert message.startswith("c_users_csv_hashed.csv: line ")
    assert f"account_creation_date {bad!r}" in message and f"the file's dates fit {fits}" in message
    assert f"declared date order {declared!r}" in message
    assert not (tmp_path / "out" / "accounts.parquet").exists()


def test_a_contradicted_order_in_a_tweets_file_names_the_tweet_time(tmp_path):
    write_csv(tmp_path / "c_tweets_csv_hashed.csv", [
        tweet_row("1", "u1", tweet_time="3/14/2020 9:05", account_creation_date="1/2/2019"),
        tweet_row("2", "u1", tweet_time="3/4/2020 9:05", account_creation_date="1/2/2019")])
    with pytest.raises(TractionError, match=r"c_tweets_csv_hashed.csv: line 2: tweet_time '3/14/2020 9:05' .*"
                                            r"the file's dates fit mdy"):
        archive.ingest(tmp_path, "c", tmp_path / "out", date_order="dmy")


def test_dates_that_fit_no_order_stay_row_rejects_under_a_declared_order(tmp_path):
    write_csv(tmp_path / "c_users_csv_hashed.csv", [user_row("u1", created="7/8/2019"),
                                                    user_row("u2", created="yesterday")])
    report = archive.ingest(tmp_path, "c", tmp_path / "out", date_order="dmy")
    assert report["files"][0]["rejected_by_reason"] == {"account_creation_date is not a d/m/yyyy date": 1}


def test_every_missing_required_column_is_named(tmp_path):
    row = user_row("u1")
    for name in ("follower_count", "account_language", "user_screen_name"):
        del row[name]
    write_csv(tmp_path / "c_users_csv_hashed.csv", [row])
    with pytest.raises(TractionError, match=r"c_users_csv_hashed.csv: missing required columns 'user_screen_name', "
                                            r"'follower_count', 'account_language'; columns present: userid, "):
        archive.ingest(tmp_path, "c", tmp_path / "out")


def test_a_run_killed_midway_leaves_its_work_folder_and_the_next_run_removes_it(tmp_path):
    import subprocess
    import sys
    import time

    write_csv(tmp_path / "c_users_csv_hashed.csv", [user_row("u1")])
    write_csv(tmp_path / "c_tweets_csv_hashed.csv", [tweet_row(str(i), "u1") for i in range(200)])
    out, midway = tmp_path / "out", tmp_path / "midway"
    # the first run stops for good after writing the users' staged table (as a kill -9 would find it)
    script = (f"import time\nfrom helpers.ingest import archive, stream\nrun = stream.run\n"
              f"def stalled(*a, **k):\n    result = run(*a, **k)\n    open({str(midway)!r}, 'w').close()\n"
              f"    time.sleep(600)\nstream.run = stalled\narchive.ingest({str(tmp_path)!r}, 'c', {str(out)!r})\n")
    first = subprocess.Popen([sys.executable, "-c", script])
    second = None
    try:
        deadline = time.monotonic() + 120
        while not midway.exists():
            assert first.poll() is None and time.monotonic() < deadline, "the first run never got midway"
            time.sleep(0.05)
        work, = out.glob(".ingest-tmp-*")
        assert any(work.iterdir())  # half-written staging
        # a second run waits for the live one instead of removing its folder
        second = subprocess.Popen([sys.executable, "-m", "helpers", "ingest", "--data-dir", str(tmp_path),
                                   "--campaign", "c", "--out", str(out)], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        time.sleep(3)
        assert second.poll() is None and work.is_dir()
    finally:
        first.kill()
        first.wait()
    stdout, stderr = second.communicate(timeout=120)
    assert second.returncode == 0, stderr
    assert "waiting for another ingest" in stderr and "read 200, loaded 200" in stdout
    assert not list(out.glob(".ingest-tmp-*")) and report_of(out)["totals"]["tweets"] == 200
