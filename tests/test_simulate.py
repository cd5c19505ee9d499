"""The simulated takedown: archive layout, determinism, truth.json against the files, scenario options."""

import base64
import csv
import dataclasses
import io
import json
import re
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers import cli, defaults, simulate
from helpers.ingest import archive
from helpers.errors import TractionError
from helpers.schema import ENGAGEMENT_COLUMNS, TWEET_COLUMNS, USER_COLUMNS

SMALL = simulate.Scenario(scale=0.02)
# Enough established accounts that some pass 5,000 followers and carry numeric ids.
MIXED = simulate.Scenario(scale=0.02, established_share=0.2)


def _write(folder, scenario=SMALL, seed=7, campaign="sim"):
    truth = simulate.write_campaign(folder, campaign, scenario, seed=seed)
    return truth, folder / f"{campaign}_users_csv_hashed.csv", folder / f"{campaign}_tweets_csv_hashed.csv"


def _read(path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    truth, users, tweets = _write(tmp_path_factory.mktemp("small"))
    return truth, users, tweets, _read(users), _read(tweets)


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    truth, users, tweets = _write(tmp_path_factory.mktemp("mixed"), MIXED, seed=3)
    return truth, _read(users), _read(tweets)


def _engagement(tweets: pd.DataFrame) -> pd.Series:
    return sum(tweets[column].astype(int) for column in ENGAGEMENT_COLUMNS)


def test_headers_are_the_archive_columns_in_order(small):
    _, users, tweets, _, _ = small
    for path, columns in ((users, USER_COLUMNS), (tweets, TWEET_COLUMNS)):
        first = path.read_text(encoding="utf-8").split("\n", 1)[0]
        assert first == ",".join(f'"{name}"' for name in columns)


def test_every_field_is_double_quoted(small):
    _, users, tweets, _, _ = small
    for path in (users, tweets):
        text = path.read_text(encoding="utf-8")
        assert "\r" not in text and text.endswith("\n")
        rows = list(csv.reader(io.StringIO(text)))
        out = io.StringIO()
        csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(rows)
        assert out.getvalue() == text  # re-quoting every field reproduces the file byte for byte
        assert len({len(row) for row in rows}) == 1


def test_value_formats_match_the_archive(small):
    _, _, _, users, tweets = small
    assert users["account_creation_date"].str.fullmatch(r"\d{4}-\d\d-\d\d").all()
    assert users["follower_count"].str.fullmatch(r"\d+").all() and users["following_count"].str.fullmatch(r"\d+").all()
    assert tweets["tweet_time"].str.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d").all()
    assert tweets["tweet_time"].min() >= "2018-01-01 00:00" and tweets["tweet_time"].max() <= "2020-04-17 23:59"
    assert set(tweets["is_retweet"]) == {"True", "False"}
    assert set(tweets["latitude"]) == {"absent"} and set(tweets["longitude"]) == {"absent"}
    assert set(tweets["tweet_language"]) == {"zh", "en", "und"}
    for column in ("hashtags", "urls", "user_mentions"):
        assert tweets[column].str.fullmatch(r"\[([^\[\],]+(, [^\[\],]+)*)?\]").all(), column
    assert (tweets["hashtags"] == "[]").any() and tweets["hashtags"].str.contains(", ").any()
    for column in ENGAGEMENT_COLUMNS:
        assert tweets[column].str.fullmatch(r"\d+").all()
    assert tweets["tweetid"].str.fullmatch(r"\d{18,19}").all() and tweets["tweetid"].is_unique
    # The tweets file repeats the users file's columns for each tweet's author.
    merged = tweets[USER_COLUMNS + ["tweet_time"]].merge(users, on="userid", suffixes=("", "_user"))
    assert len(merged) == len(tweets)
    for column in USER_COLUMNS[1:]:
        assert (merged[column] == merged[column + "_user"]).all(), column
    # Each account's tweets lie between its creation day and the release's end.
    assert (merged["tweet_time"].str[:10] >= merged["account_creation_date"]).all()


def test_retweets_replies_and_quotes_are_written_as_the_archive_does(small):
    _, _, _, users, tweets = small
    screen = dict(zip(users["userid"], users["user_screen_name"]))
    retweets = tweets[tweets["is_retweet"] == "True"]
    originals = tweets[tweets["is_retweet"] == "False"]
    assert (retweets["retweet_userid"] != "").all() and (retweets["retweet_tweetid"] != "").all()
    assert (originals["retweet_userid"] == "").all() and (originals["retweet_tweetid"] == "").all()
    assert (retweets[ENGAGEMENT_COLUMNS] == "0").all().all()  # a retweet row's own counts
    assert (retweets["user_mentions"] == "[" + retweets["retweet_userid"] + "]").all()
    network = retweets[retweets["retweet_userid"].isin(screen)]
    assert len(network) > 0
    expected = "RT @" + network["retweet_userid"].map(screen) + ": "
    assert [t.startswith(e) for t, e in zip(network["tweet_text"], expected)] == [True] * len(network)
    assert (network["retweet_userid"] != network["userid"]).all()  # another network account, never itself
    # An in-network retweet points at an earlier original of its author and repeats its text.
    by_id = originals.set_index("tweetid")
    target = by_id.loc[network["retweet_tweetid"]]
    assert (target["userid"].to_numpy() == network["retweet_userid"].to_numpy()).all()
    assert (target["tweet_time"].to_numpy() <= network["tweet_time"].to_numpy()).all()
    assert [t.endswith(o) for t, o in zip(network["tweet_text"], target["tweet_text"])] == [True] * len(network)
    assert (target["hashtags"].to_numpy() == network["hashtags"].to_numpy()).all()
    replies = tweets[tweets["in_reply_to_tweetid"] != ""]
    assert len(replies) > 0 and (replies["in_reply_to_userid"] != "").all()
    assert replies["tweet_text"].str.startswith("@").all() and (replies["is_retweet"] == "False").all()
    quotes = tweets[tweets["quoted_tweet_tweetid"] != ""]
    assert len(quotes) > 0 and (quotes["is_retweet"] == "False").all()
    assert [t.endswith("/status/" + q) for t, q in zip(quotes["tweet_text"], quotes["quoted_tweet_tweetid"])] \
        == [True] * len(quotes)
    assert not ((tweets["in_reply_to_tweetid"] != "") & (tweets["quoted_tweet_tweetid"] != "")).any()


def test_ids_are_hashed_under_5000_followers_and_numeric_above(mixed):
    _, users, tweets = mixed
    followers = users["follower_count"].astype(int)
    hashed, numeric = users[followers < 5000], users[followers >= 5000]
    assert len(numeric) >= 3 and len(hashed) > 0
    assert numeric["userid"].str.fullmatch(r"\d{15,19}").all()
    assert (numeric["user_screen_name"] != numeric["userid"]).all()
    assert hashed["userid"].map(lambda value: len(base64.b64decode(value, validate=True))).eq(32).all()
    assert (hashed["user_display_name"] == hashed["userid"]).all()
    assert (hashed["user_screen_name"] == hashed["userid"]).all()
    assert users["userid"].is_unique
    assert set(tweets["userid"]) == set(users["userid"])


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    names = ["sim_users_csv_hashed.csv", "sim_tweets_csv_hashed.csv", "truth.json"]
    _write(tmp_path / "a", seed=11)
    _write(tmp_path / "b", seed=11)
    _write(tmp_path / "c", seed=12)
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert (tmp_path / "a" / names[1]).read_bytes() != (tmp_path / "c" / names[1]).read_bytes()


def test_counts_are_exact_at_any_scale(small):
    truth, _, _, users, tweets = small
    assert len(users) == round(23_750 * 0.02) == truth["totals"]["accounts"]
    assert len(tweets) == round(348_608 * 0.02) == truth["totals"]["tweets"]
    assert users["userid"].is_unique


def test_truth_totals_equal_counts_recomputed_from_the_files(small):
    truth, _, _, users, tweets = small
    totals = truth["totals"]
    retweet = tweets["is_retweet"] == "True"
    originals = tweets[~retweet]
    in_network = tweets["retweet_userid"].isin(users["userid"])
    followers = users["follower_count"].astype(int)
    engagement = _engagement(originals)
    expected = {
        "accounts": len(users), "tweets": len(tweets), "original_tweets": len(originals),
        "retweet_rows": int(retweet.sum()), "in_network_retweets": int((retweet & in_network).sum()),
        "replies": int((tweets["in_reply_to_tweetid"] != "").sum()),
        "in_network_replies": int(tweets["in_reply_to_userid"].isin(users["userid"]).sum()),
        "quotes": int((tweets["quoted_tweet_tweetid"] != "").sum()),
        "in_network_quotes": int(tweets["quoted_tweet_tweetid"].isin(originals["tweetid"]).sum()),
        "like_count_sum": int(originals["like_count"].astype(int).sum()),
        "retweet_count_sum": int(originals["retweet_count"].astype(int).sum()),
        "reply_count_sum": int(originals["reply_count"].astype(int).sum()),
        "quote_count_sum": int(originals["quote_count"].astype(int).sum()),
        "engagement_sum": int(engagement.sum()),
        "originals_with_zero_engagement": int((engagement == 0).sum()),
        "accounts_zero_followers": int((followers == 0).sum()),
        "accounts_under_10_followers": int((followers < 10).sum()),
        "accounts_hashed": int((followers < 5000).sum()),
        "accounts_created_since_recent_from": int((users["account_creation_date"] >= "2019-10-01").sum()),
        "rows_with_user_mentions": int((tweets["user_mentions"] != "[]").sum()),
        "first_tweet_time": tweets["tweet_time"].min(), "last_tweet_time": tweets["tweet_time"].max(),
        "language_counts": tweets["tweet_language"].value_counts().sort_index().to_dict(),
        "politics_mentions": {term: int(tweets["tweet_text"].str.contains(rf"\b{term}\b").sum())
                              for term in ("Trump", "Republicans", "Democrats", "Biden")},
    }
    for key, value in expected.items():
        assert totals[key] == value, key
    assert totals["mean_engagement_per_original"] == pytest.approx(engagement.mean())
    assert totals["mean_engagement_per_tweet"] == pytest.approx(engagement.sum() / len(tweets))
    assert totals["share_zero_followers"] == pytest.approx((followers == 0).mean())
    tags = tweets["hashtags"].str.strip("[]").str.split(", ").explode()
    assert totals["hashtag_counts"] == tags[tags != ""].value_counts().to_dict()
    last = tweets.groupby("userid")["tweet_time"].max().str[:10]
    created = users.set_index("userid")["account_creation_date"]
    lifespan = (pd.to_datetime(last) - pd.to_datetime(created[last.index])).dt.days
    assert totals["lifespan_days_median"] == lifespan.median()
    # truth.json on disk is what write_campaign returned, with every parameter used.
    assert json.loads((small[1].parent / "truth.json").read_text(encoding="utf-8")) == json.loads(json.dumps(truth))
    assert set(truth["scenario"]) == {field.name for field in dataclasses.fields(simulate.Scenario)}


def test_default_calibration_matches_the_published_release(small):
    totals = small[0]["totals"]
    assert 0.5 < totals["share_under_10_followers"] and totals["share_created_since_recent_from"] > 0.5
    assert totals["language_counts"]["zh"] > 0.6 * totals["tweets"]
    top = list(totals["hashtag_counts"])[:2]
    assert set(top) == {"香港", "郭文贵"}  # the release's two top hashtags
    assert totals["share_lifespan_under_30_days"] > 0.5


def test_zero_follower_share_lies_between_the_real_prc_users_files(small, real_data):
    files = [real_data / "twitter_io_users" / name for name in
             ("china_082019_1_users_csv_hashed.csv", "CNHU_0621_users_csv_hashed.csv")]
    if not all(path.is_file() for path in files):
        pytest.skip("real data folder absent")
    shares = [(_read(path)["follower_count"].astype(int) == 0).mean() for path in files]
    assert min(shares) < small[0]["totals"]["share_zero_followers"] < max(shares)


def test_mean_engagement_is_calibrated_per_tweet(tmp_path):
    # Low-variance scenario (Poisson-like, no follower effect) so the realised mean sits near its target.
    scenario = simulate.Scenario(scale=0.05, elasticity=0.0, dispersion=0.01, amplified_share=0.0)
    truth, _, _ = _write(tmp_path, scenario)
    assert truth["totals"]["mean_engagement_per_tweet"] == pytest.approx(0.81, abs=0.04)
    assert truth["engagement_intercept"] == pytest.approx(np.log(0.81 / (1 - scenario.retweet_share)))


def _poisson_slope(tweets: pd.DataFrame) -> float:
    """Slope of log E[engagement] on log(1 + followers), by Poisson pseudo-likelihood (consistent for the mean)."""
    import statsmodels.api as sm

    originals = tweets[tweets["is_retweet"] == "False"]
    x = np.log1p(originals["follower_count"].astype(float))
    return sm.GLM(_engagement(originals), sm.add_constant(x), family=sm.families.Poisson()).fit().params.iloc[1]


@pytest.mark.parametrize("elasticity", [0.0, 0.8])
def test_elasticity_sets_the_follower_engagement_relation_in_the_files(tmp_path, elasticity):
    scenario = simulate.Scenario(scale=0.03, elasticity=elasticity, established_share=0.05)
    _, _, tweets = _write(tmp_path, scenario, seed=0)
    assert _poisson_slope(_read(tweets)) == pytest.approx(elasticity, abs=0.12)


def test_amplification_inflates_retweets_not_likes(tmp_path):
    plain, _, _ = _write(tmp_path / "plain", simulate.Scenario(scale=0.02, amplified_share=0.0))
    heavy, _, _ = _write(tmp_path / "heavy", simulate.Scenario(scale=0.02, amplified_share=0.5))
    assert plain["totals"]["amplified_originals"] == 0 and heavy["totals"]["amplified_originals"] > 0
    ratio = {name: t["totals"]["retweet_count_sum"] / t["totals"]["like_count_sum"]
             for name, t in (("plain", plain), ("heavy", heavy))}
    assert ratio["plain"] < 0.6 < 2 < ratio["heavy"]


def test_scenario_options_change_the_output(tmp_path):
    base = _write(tmp_path / "base", simulate.Scenario(scale=0.02))[0]["totals"]
    zero = _write(tmp_path / "zero", simulate.Scenario(scale=0.02, zero_inflation=0.9))[0]["totals"]
    english = _write(tmp_path / "en", simulate.Scenario(scale=0.02, english_share=0.6))[0]["totals"]
    # Cells retweet their own members and decoys are network tweets whatever in_network_share says: off here.
    closed = _write(tmp_path / "out", simulate.Scenario(scale=0.02, in_network_share=0.0, coordinated_groups=0,
                                                       decoy_tweets=0))[0]["totals"]
    share = lambda t: t["originals_with_zero_engagement"] / t["original_tweets"]  # noqa: E731
    assert share(zero) > 0.9 > share(base)
    assert english["language_counts"]["en"] > 0.5 * english["tweets"] > base["language_counts"]["en"]
    assert sum(english["politics_mentions"].values()) > 3 * sum(base["politics_mentions"].values())
    assert closed["in_network_retweets"] == closed["in_network_replies"] == closed["in_network_quotes"] == 0
    assert base["in_network_retweets"] > 0.3 * base["retweet_rows"]


@pytest.mark.parametrize("change, message", [
    ({"english_share": 1.5}, "english_share"),
    ({"engagement_split": (0.5, 0.5, 0.5, 0.0)}, "engagement_split"),
    ({"scale": 0}, "scale"),
    ({"recent_from": "2019-13-01"}, "recent_from"),
])
def test_bad_scenario_raises_naming_the_parameter(change, message):
    with pytest.raises(TractionError, match=message):
        simulate.Scenario(**change)


def test_cli_exposes_every_scenario_parameter(tmp_path):
    options = {name for name, _, _ in cli.SCENARIO_OPTIONS}
    assert options == {field.name for field in dataclasses.fields(simulate.Scenario)}
    status = cli.main(["simulate", "--out", str(tmp_path), "--campaign", "x", "--scale", "0.01",
                       "--elasticity", "0", "--amplified-share", "0", "--engagement-split", "0.5,0.3,0.1,0.1"])
    truth = json.loads((tmp_path / "truth.json").read_text(encoding="utf-8"))
    assert status == 0 and (tmp_path / "x_tweets_csv_hashed.csv").is_file()
    assert truth["scenario"]["elasticity"] == 0 and truth["scenario"]["amplified_share"] == 0
    assert truth["scenario"]["engagement_split"] == [0.5, 0.3, 0.1, 0.1]
    assert cli.main(["simulate", "--out", str(tmp_path), "--zero-inflation", "2"]) == 2


def test_ensure_default_is_generated_once_and_reused(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACTION_DATA", str(tmp_path))
    monkeypatch.setitem(simulate.SIZES, "sample", 0.01)
    results = []
    threads = [threading.Thread(target=lambda: results.append(simulate.ensure_default("sample"))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    folder = tmp_path / "simulated" / "sample"
    assert results == [(folder, defaults.DEFAULT_CAMPAIGN)] * 2
    assert sorted(p.name for p in (tmp_path / "simulated").iterdir()) == ["sample"]  # no staging left behind
    tweets = folder / f"{defaults.DEFAULT_CAMPAIGN}_tweets_csv_hashed.csv"
    stamp = tweets.stat().st_mtime_ns
    assert simulate.ensure_default("sample") == (folder, defaults.DEFAULT_CAMPAIGN)
    assert tweets.stat().st_mtime_ns == stamp
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    assert truth["scenario"]["scale"] == 0.01 and truth["seed"] == defaults.DEFAULT_SEED
    # A copy made by an older generator or scenario is replaced.
    truth["generator_version"] = -1
    (folder / "truth.json").write_text(json.dumps(truth), encoding="utf-8")
    simulate.ensure_default("sample")
    assert json.loads((folder / "truth.json").read_text(encoding="utf-8"))["generator_version"] == simulate.GENERATOR_VERSION
    with pytest.raises(TractionError, match="huge"):
        simulate.ensure_default("huge")


def test_archive_ingest_loads_the_output_with_no_rejected_row(small, tmp_path):
    _, users, _, _, _ = small
    report = archive.ingest(users.parent, "sim", tmp_path / "work")
    assert report["totals"]["rows_rejected"] == 0
    assert report["totals"]["tweets"] == small[0]["totals"]["tweets"]
    assert report["totals"]["accounts"] == small[0]["totals"]["accounts"]
    assert report["simulated"] is True
