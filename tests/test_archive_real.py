"""The real archive files in ../shared/data/real load (skipped when the folder is absent)."""

import csv
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from helpers.errors import TractionError
from helpers.ingest import archive

UNTOUCHED = ["china_082019_1", "CNHU_0621", "CNCC_0621", "venezuela_0621"]
GHANA = "ghana_nigeria_032020_users_csv_hashed_resaved.csv"


@pytest.fixture(scope="module")
def users_dir(real_data):
    return real_data / "twitter_io_users"


def rows(out, sql):
    con = duckdb.connect()
    return con.execute(sql.replace("{out}", str(out))).fetchall()


@pytest.mark.parametrize("campaign", UNTOUCHED)
def test_untouched_users_files_load_every_row_with_ids_byte_identical(tmp_path, campaign, users_dir):
    path = users_dir / f"{campaign}_users_csv_hashed.csv"
    with open(path, encoding="utf-8", newline="") as handle:
        expected = [(r["userid"], r["follower_count"]) for r in csv.DictReader(handle)]
    report = archive.ingest(users_dir, campaign, tmp_path, users_glob=path.name)
    loaded = rows(tmp_path, "SELECT userid, follower_count FROM '{out}/accounts.parquet' ORDER BY source_line")
    first_of_each = list(dict.fromkeys(expected))  # real files repeat some rows exactly: merged, not lost
    assert [u for u, _ in loaded] == [u for u, _ in first_of_each]
    assert [str(f) for _, f in loaded] == [f for _, f in first_of_each]
    entry = report["files"][0]
    assert entry["rows_read"] == entry["rows_loaded"] == len(expected) and entry["rows_rejected"] == 0
    assert entry["rows_merged_identical_duplicates"] == len(expected) - len(first_of_each)


def test_resaved_ghana_nigeria_file_loads_reordered_with_declared_mdy_dates(tmp_path, users_dir):
    with open(users_dir / GHANA, encoding="utf-8", newline="") as handle:
        expected = list(csv.DictReader(handle))
    report = archive.ingest(users_dir, "ghana_nigeria_032020", tmp_path, users_glob=GHANA, date_order="mdy")
    loaded = rows(tmp_path, "SELECT userid, account_creation_date, user_profile_description, follower_count "
                            "FROM '{out}/accounts.parquet' ORDER BY source_line")
    assert [r[0] for r in loaded] == [r["userid"] for r in expected]
    month, day, year = map(int, expected[0]["account_creation_date"].split("/"))
    assert loaded[0][1] == date(year, month, day) == date(2019, 7, 17)
    multi_line = [r["user_profile_description"] for r in expected if "\n" in r["user_profile_description"]]
    assert multi_line and all(text in [r[2] for r in loaded] for text in multi_line)
    assert [r[3] for r in loaded] == [int(r["follower_count"]) for r in expected]
    assert report["files"][0]["rows_rejected"] == 0 and report["files"][0]["date_order"] == "mdy"


def test_resaved_file_with_a_contradicted_date_order_stops_naming_a_value_and_the_order_that_fits(tmp_path,
                                                                                                 users_dir):
    with open(users_dir / GHANA, encoding="utf-8", newline="") as handle:
        first = next(csv.DictReader(handle))["account_creation_date"]  # 7/17/2019: no 17th month
    with pytest.raises(TractionError, match=rf"{GHANA}: line 2: account_creation_date '{first}' is not a d/m/yyyy "
                                            r"date: .* the file's dates fit mdy"):
        archive.ingest(users_dir, "ghana_nigeria_032020", tmp_path, users_glob=GHANA, date_order="dmy")


def test_resaved_file_is_found_by_its_campaign_name_too(tmp_path, users_dir):
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(users_dir / GHANA, data / GHANA)  # a copy in tmp only; never into the project
    report = archive.ingest(data, "ghana_nigeria_032020", tmp_path / "out")  # auto: 7/17/2019 is month first
    assert report["files"][0]["date_order"] == "mdy" and report["totals"]["accounts"] == report["files"][0]["rows_read"]


def test_real_ira_table_loads_through_the_account_table_form(tmp_path, ira_table):
    path = ira_table
    column_map = {"userid": "screen_name", "follower_count": "followers_max", "tweet_count": "tweets",
                  "retweet_total": "retweets_received_total"}
    report = archive.ingest_account_table(path, tmp_path, column_map)
    with open(path, encoding="utf-8", newline="") as handle:
        expected = list(csv.DictReader(handle))
    loaded = rows(tmp_path, "SELECT userid, follower_count, engagement_total FROM '{out}/accounts.parquet' "
                            "ORDER BY source_line")
    assert len(loaded) == len(expected) == 3259
    assert loaded[0] == ("TEN_GOP", 147767, 5986737)
    assert [r[2] for r in loaded] == [int(r["retweets_received_total"]) for r in expected]
    assert report["engagement_components_present"] == ["retweet_total"]
    assert report["engagement_components_missing"] == ["like_total", "reply_total", "quote_total"]
    assert report["files"][0]["rows_rejected"] == 0
