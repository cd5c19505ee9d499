"""The reference set of real campaigns: the shipped table, the two measures, the percentiles and the checks."""

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers import data, frames, schema, steps
from helpers.report import narrative
from helpers.stats import reference
from test_frames import USERS, TWEETS, tweet, write_table, write_work_dir

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def shared_csv(real_data):
    path = real_data / "cib_data" / "twitter-data.csv"
    if not path.is_file():
        pytest.skip(f"real data absent ({path})")
    return path


def hand_counted(shared_csv):
    """Per campaign, from the shared file read with the csv module: engagement per tweet row, followers per account."""
    with shared_csv.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    out = {}
    for row in rows:
        name = row["users_filename"].removesuffix("_users_csv_hashed.csv")
        engagement = sum(float(row[f"total_{c}_count"]) for c in ("like", "retweet", "reply", "quote"))
        out[name] = (engagement / int(row["tweets_count"]), float(row["total_follower_count"]) / int(row["accounts"]))
    return out


def test_the_shipped_table_is_what_the_shared_file_gives(shared_csv):
    shipped = data.reference_campaigns()[data.COLUMNS]
    pd.testing.assert_frame_equal(shipped, data.derive_reference(shared_csv), check_dtype=False)
    assert len(shipped) == 28 and shipped["tweet_rows"].sum() == 169_951_529  # the shared README's figures
    ecuador = data.reference_campaigns().set_index("campaign").loc["ecuador_082019"]
    assert ecuador["engagement_per_tweet_row"] == pytest.approx((46443 + 56637 + 29706 + 3082) / 700240)


def test_the_source_is_cited_in_the_file_and_the_docs():
    header = data.REFERENCE_CSV.read_text(encoding="utf-8").splitlines()[:3]
    assert all(line.startswith("#") for line in header)
    assert "simabasel/cib-data" in header[1]
    assert "simabasel/cib-data" in (ROOT / "docs" / "reference.md").read_text(encoding="utf-8")


def test_a_damaged_source_file_is_refused_with_its_row(tmp_path, shared_csv):
    text = shared_csv.read_text(encoding="utf-8-sig").splitlines()
    fields = next(csv.reader([text[0]]))
    rows = list(csv.reader(text[1:]))
    rows[2][fields.index("total_like_count")] = "12.5"
    bad = tmp_path / "bad.csv"
    with bad.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([fields, *rows])
    with pytest.raises(Exception, match=r"row 4: total_like_count is empty or not a whole number"):
        data.derive_reference(bad)


def accounts_frame(engagement_per_row=0.8, followers=(0, 3, 40, 900), seed=1):
    """A small accounts frame whose two measures are known."""
    rng = np.random.default_rng(seed)
    n = 200
    tweets = rng.integers(1, 30, n)
    return pd.DataFrame({"userid": [f"u{i}" for i in range(n)], "follower_count": rng.choice(followers, n),
                         "n_tweets": tweets, "n_original": tweets,
                         "engagement_all_rows": rng.poisson(engagement_per_row * tweets),
                         "engagement": 0})


@pytest.mark.parametrize("campaign", ["simulated_china_052020", "ecuador_082019", "ghana_nigeria_032020"])
def test_percentiles_equal_those_counted_by_hand_from_the_shared_file(shared_csv, campaign):
    by_hand = hand_counted(shared_csv)
    own = {"ecuador_082019": "ecuador_082019", "ghana_nigeria_032020": "032020"}.get(campaign)
    others = {name: values for name, values in by_hand.items() if name != own}
    entries = {e["id"]: e for e in reference.reference_tests(accounts_frame(), data.reference_campaigns(), campaign,
                                                             n_boot=199, seed=3)}
    for position, (measure, percentile) in enumerate([
            ("engagement_per_tweet_row_mean", "reference_percentile_engagement_per_tweet_row"),
            ("followers_per_account_mean", "reference_percentile_followers_per_account")]):
        got, base = entries[percentile], entries[measure]
        assert got["n"] == len(others) == (27 if own else 28)
        for key in ("estimate", "ci_low", "ci_high"):
            lower = sum(values[position] < base[key] for values in others.values())
            assert got[key] == lower / len(others), (percentile, key)
        assert got["ci_low"] <= got["estimate"] <= got["ci_high"]
        assert ("left out of its own comparison" in " ".join(got["warnings"])) == bool(own)


def test_engagement_per_tweet_row_counts_retweet_rows_as_the_archive_writes_them(tmp_path):
    # Some releases write the retweeted tweet's counts on retweet rows; the published totals sum them all.
    tweets = TWEETS + [tweet("8", "b", "2020-01-08 00:00", likes=4, retweets=9, rt_of="999")]
    loaded = frames.load(write_work_dir(tmp_path / "work", USERS, tweets))
    accounts = loaded.accounts.set_index("userid")
    assert accounts["engagement"].tolist() == [3, 5, 70, 0]  # original tweets only, as before
    assert accounts["engagement_all_rows"].tolist() == [3, 18, 70, 0]
    assert accounts["likes_all_rows"].tolist() == [1, 4, 10, 0]
    assert loaded.totals == {"accounts": 4, "tweet_rows": 8, "likes": 15, "retweets": 72, "replies": 3, "quotes": 1,
                             "followers": 6015}
    measure = reference.measure_entries(loaded.accounts, n_boot=99)[0]
    assert measure["id"] == "engagement_per_tweet_row_mean"
    assert measure["estimate"] == pytest.approx(91 / 8) and measure["n"] == 8


def test_totals_count_the_users_file_not_accounts_added_from_the_tweets(tmp_path):
    users = [dict(user, from_tweets_file=False) for user in USERS]
    users.append({"userid": "e", "follower_count": 7, "account_creation_date": "2020-01-01",
                  "from_tweets_file": True})
    loaded = frames.load(write_work_dir(tmp_path / "work", users, TWEETS))
    assert loaded.totals["accounts"] == 4 and loaded.totals["followers"] == 6015


def test_published_checks_state_both_numbers_and_the_tolerance_decides():
    shipped = data.reference_campaigns()
    totals = {"accounts": 1019, "tweet_rows": 700240, "likes": 46443, "retweets": 56637, "replies": 29706,
              "quotes": 3082 + 90, "followers": 139332}
    checks = reference.published_checks(totals, shipped, "Ecuador_082019")  # names are matched case-folded
    assert checks["quantity"].tolist() == reference.CHECKED
    assert checks.set_index("quantity").loc["quotes", ["ours", "published"]].tolist() == [3172, 3082]
    agreed = narrative.agreement(checks, 0.05).set_index("quantity")["agrees"]
    assert agreed.all()
    assert not narrative.agreement(checks, 0.01).set_index("quantity").loc["quotes", "agrees"]  # 2.9% off
    assert reference.published_checks(totals, shipped, "china_052020").empty  # not in the set


def test_a_users_file_is_checked_on_accounts_and_followers_only():
    checks = reference.published_checks({"accounts": 71, "tweet_rows": 0, "likes": None, "retweets": None,
                                         "replies": None, "quotes": None, "followers": 68464},
                                        data.reference_campaigns(), "ghana_nigeria_032020")
    assert checks["quantity"].tolist() == ["accounts", "followers"]
    assert checks["relative_difference"].tolist() == [0.0, 0.0]


def test_real_users_file_matches_its_published_totals_exactly(real_data, tmp_path):
    users = real_data / "twitter_io_users"
    if not (users / "ghana_nigeria_032020_users_csv_hashed_resaved.csv").is_file():
        pytest.skip("real users file absent")
    _, work = steps.load(str(users), "ghana_nigeria_032020", str(tmp_path / "work"))
    run = steps.engagement_vs_followers(work, n_boot=99)
    checks = pd.DataFrame(run.document["descriptives"]["published_checks"])
    assert checks[["quantity", "ours", "published"]].values.tolist() == [["accounts", 71, 71],
                                                                          ["followers", 68464, 68464]]
    tests = {e["id"]: e for e in run.document["tests"]}
    assert tests["reference_percentile_followers_per_account"]["n"] == 27
    assert tests["engagement_per_tweet_row_mean"]["warnings"] == ["skipped: none of the 71 accounts has a tweet row"]
    left = [row["campaign"] for row in run.document["descriptives"]["reference_set"] if row["left_out"]]
    assert left == ["032020"]


def test_an_account_table_has_followers_per_account_but_no_engagement_per_row(tmp_path):
    table = pd.DataFrame({"userid": ["a", "b", "c"], "follower_count": [10, 20, 60], "tweet_count": [4, 2, 1],
                          "like_total": [1, 0, 0], "retweet_total": [2, 0, 5], "reply_total": [0, 0, 0],
                          "quote_total": [0, 0, 0], "engagement_total": [3, 0, 5]})
    work = tmp_path / "work"
    work.mkdir()
    write_table(work / "accounts.parquet", schema.ACCOUNT_TABLE_COLUMNS, table.to_dict(orient="records"))
    (work / "load_report.json").write_text('{"form": "account_table", "campaign": "t"}')
    loaded = frames.load(work)
    entries = {e["id"]: e for e in reference.reference_tests(loaded.accounts, loaded.reference, "t", n_boot=99)}
    assert entries["followers_per_account_mean"]["estimate"] == pytest.approx(30.0)
    assert "account-level table" in entries["engagement_per_tweet_row_mean"]["warnings"][0]
    assert not entries["reference_percentile_engagement_per_tweet_row"]["converged"]
    assert loaded.totals["tweet_rows"] is None and loaded.totals["followers"] == 90
