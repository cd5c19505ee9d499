"""Finding a campaign's files in folders and zips as people make them."""

import zipfile

import pytest

from helpers.errors import TractionError
from helpers.ingest import archive
from test_archive import column, tweet_row, user_row, write_csv


def zip_of(target, members: dict):
    with zipfile.ZipFile(target, "w") as archive_file:
        for name, data in members.items():
            archive_file.writestr(name, data)


def test_macos_metadata_in_a_zip_is_ignored(tmp_path):
    tweets = write_csv(tmp_path / "t.csv", [tweet_row("1", "u1")]).read_bytes()
    zip_of(tmp_path / "data.zip", {"c_tweets_csv_hashed.csv": tweets, "__MACOSX/._c_tweets_csv_hashed.csv":
                                   b"\x00\x05\x16\x07Mac OS X resource fork", "__MACOSX/c_users_csv_hashed.csv": b"x"})
    (tmp_path / "t.csv").unlink()
    (tmp_path / "._c_users_csv_hashed.csv").write_bytes(b"\x00\x05\x16\x07")  # beside the files, too
    report = archive.ingest(tmp_path, "c", tmp_path / "out")
    assert [f["path"] for f in report["files"]] == ["data.zip/c_tweets_csv_hashed.csv"]
    assert report["totals"]["tweets"] == 1


def test_a_pattern_matches_per_path_segment(tmp_path):
    tweets = write_csv(tmp_path / "t.csv", [tweet_row("1", "u1")]).read_bytes()
    (tmp_path / "t.csv").unlink()
    zip_of(tmp_path / "c_tweets_csv_hashed.zip", {"c_tweets_csv_hashed.csv": tweets, "readme.csv": b"about,this\n"})
    report = archive.ingest(tmp_path, "c", tmp_path / "out")
    assert [f["path"] for f in report["files"]] == ["c_tweets_csv_hashed.zip/c_tweets_csv_hashed.csv"]
    assert archive._matches("x.zip/sub/c_tweets_1.csv", "sub/c_tweets_*.csv")
    assert not archive._matches("c_tweets_csv_hashed.zip/readme.csv", "c_tweets_csv_*.csv")


def test_a_broken_zip_of_another_campaign_is_skipped_with_a_note(tmp_path):
    write_csv(tmp_path / "c_users_csv_hashed.csv", [user_row("u1")])
    (tmp_path / "other_052020.zip").write_bytes(b"PK\x03\x04 cut short")
    report = archive.ingest(tmp_path, "c", tmp_path / "out")
    assert report["notes"] == ["skipped other_052020.zip: not a readable zip file"]
    assert "note: skipped other_052020.zip" in report.summary()


def test_a_broken_zip_of_this_campaign_stops_with_its_name(tmp_path):
    write_csv(tmp_path / "c_users_csv_hashed.csv", [user_row("u1")])
    (tmp_path / "c_tweets.zip").write_bytes(b"PK\x03\x04 cut short")
    with pytest.raises(TractionError, match=r"c_tweets.zip: not a readable zip file .*download it again"):
        archive.ingest(tmp_path, "c", tmp_path / "out")


def test_the_same_file_plain_and_zipped_is_read_once_and_said(tmp_path):
    users = write_csv(tmp_path / "c_users_csv_hashed.csv", [user_row(f"u{i}") for i in range(3)])
    tweets = write_csv(tmp_path / "c_tweets_csv_hashed.csv", [tweet_row(str(i), f"u{i % 3}") for i in range(7)])
    zip_of(tmp_path / "c.zip", {users.name: users.read_bytes(), tweets.name: tweets.read_bytes()})
    report = archive.ingest(tmp_path, "c", tmp_path / "out")
    assert [f["path"] for f in report["files"]] == [users.name, tweets.name]
    assert report["notes"] == [f"{users.name} is also in c.zip: the same file, read once",
                               f"{tweets.name} is also in c.zip: the same file, read once"]
    totals = report["totals"]
    assert (totals["rows_read"], totals["rows_loaded"], totals["accounts"], totals["tweets"]) == (10, 10, 3, 7)
    assert len(column(tmp_path / "out", "tweets.parquet", "tweetid")) == 7


def test_one_name_with_two_contents_is_refused(tmp_path):
    users = write_csv(tmp_path / "c_users_csv_hashed.csv", [user_row("u1")])
    zip_of(tmp_path / "c.zip", {users.name: users.read_bytes().replace(b"u1", b"u2")})
    with pytest.raises(TractionError, match=r"c_users_csv_hashed.csv and c.zip/c_users_csv_hashed.csv have one "
                                            r"name but different contents"):
        archive.ingest(tmp_path, "c", tmp_path / "out")


@pytest.mark.parametrize("layout", ["two zips", "one zip twice"])
def test_the_same_file_in_two_zips_or_twice_in_one_is_read_once_and_said(tmp_path, layout):
    # before: read twice, no note, both entries said "loaded 7" while tweets.parquet held 7 from the first only
    users = write_csv(tmp_path / "c_users_csv_hashed.csv", [user_row(f"u{i}") for i in range(3)])
    tweets = write_csv(tmp_path / "c_tweets_csv_hashed.csv", [tweet_row(str(i), f"u{i % 3}") for i in range(7)])
    data = tweets.read_bytes()
    tweets.unlink()
    if layout == "two zips":
        zip_of(tmp_path / "a.zip", {tweets.name: data})
        zip_of(tmp_path / "b.zip", {tweets.name: data})
        expected_note = f"a.zip/{tweets.name} is also in b.zip: the same file, read once"
    else:
        zip_of(tmp_path / "a.zip", {tweets.name: data, f"copy/{tweets.name}": data})
        expected_note = f"a.zip/{tweets.name} is also in a.zip/copy/{tweets.name}: the same file, read once"
    report = archive.ingest(tmp_path, "c", tmp_path / "out")
    assert [f["path"] for f in report["files"]] == [users.name, f"a.zip/{tweets.name}"]
    assert report["notes"] == [expected_note]
    tweets_loaded = sum(f["rows_loaded"] for f in report["files"] if f["kind"] == "tweets")
    assert tweets_loaded == len(column(tmp_path / "out", "tweets.parquet", "tweetid")) == 7
    totals = report["totals"]
    assert (totals["rows_read"], totals["rows_loaded"], totals["tweets"]) == (10, 10, 7)


def test_one_name_with_two_contents_in_two_zips_is_refused(tmp_path):
    tweets = write_csv(tmp_path / "c_tweets_csv_hashed.csv", [tweet_row("1", "u1")])
    data = tweets.read_bytes()
    tweets.unlink()
    zip_of(tmp_path / "a.zip", {tweets.name: data})
    zip_of(tmp_path / "b.zip", {tweets.name: data.replace(b'"1"', b'"2"', 1)})
    with pytest.raises(TractionError, match=r"a.zip/c_tweets_csv_hashed.csv and b.zip/c_tweets_csv_hashed.csv have "
                                            r"one name but different contents"):
        archive.ingest(tmp_path, "c", tmp_path / "out")
