"""Data shipped with the package: the reference set of real campaigns (``reference_campaigns.csv``).

The table holds the published per-campaign totals of 28 releases of Twitter's
Information Operations archive (October 2018 to April 2020), derived by
``derive_reference`` from ``twitter/twitter-data.csv`` of the public repository
simabasel/cib-data (computed there from the archive's full CSV files). Only the
columns traction compares with are kept; the file's header cites its source.
``python -m helpers.data PATH/twitter-data.csv`` rewrites it from that file.
"""

import sys
from pathlib import Path

import pandas as pd

from helpers.errors import TractionError

REFERENCE_CSV = Path(__file__).parent / "reference_campaigns.csv"
SOURCE = ("simabasel/cib-data, twitter/twitter-data.csv (made by its twitter/twitter-data.py from the "
          "archive's full CSV files); Twitter's Information Operations archive, releases 2018-10 to 2020-04")
# Integer columns and what they are: every sum is over ALL rows of the file it names.
COUNTS = {
    "accounts": "rows of the campaign's users file",
    "tweet_rows": "rows of its tweets file(s), retweets included",
    "likes": "like_count summed over all tweet rows",
    "retweets": "retweet_count summed over all tweet rows",
    "replies": "reply_count summed over all tweet rows",
    "quotes": "quote_count summed over all tweet rows",
    "followers": "follower_count summed over the users file",
}
COLUMNS = ["campaign", "aliases", "release", "attributed_country", *COUNTS, "first_tweet", "last_tweet"]
# Names the archive's own files use where the third-party table renamed the campaign (its file "032020_...").
ALIASES = {"032020": "ghana_nigeria_032020"}
_SOURCE_COLUMNS = {"accounts": "accounts", "tweet_rows": "tweets_count", "likes": "total_like_count",
                   "retweets": "total_retweet_count", "replies": "total_reply_count",
                   "quotes": "total_quote_count", "followers": "total_follower_count"}


def reference_campaigns() -> pd.DataFrame:
    """The shipped reference set, one row per campaign, with the two per-unit measures it is compared on.

    Adds ``engagement_per_tweet_row`` = (likes + retweets + replies + quotes) / tweet_rows and
    ``followers_per_account`` = followers / accounts.
    """
    frame = pd.read_csv(REFERENCE_CSV, comment="#", dtype={"campaign": str, "aliases": str, "release": str},
                        keep_default_na=False)
    if list(frame.columns) != COLUMNS:
        raise TractionError(f"{REFERENCE_CSV}: columns {list(frame.columns)}, expected {COLUMNS}")
    return with_measures(frame)


def with_measures(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    engagement = frame[["likes", "retweets", "replies", "quotes"]].sum(axis=1)
    frame["engagement_per_tweet_row"] = engagement / frame["tweet_rows"]
    frame["followers_per_account"] = frame["followers"] / frame["accounts"]
    return frame


def derive_reference(shared_csv) -> pd.DataFrame:
    """The reference table from the third party's ``twitter-data.csv`` (it starts with a UTF-8 BOM)."""
    path = Path(shared_csv)
    source = pd.read_csv(path, encoding="utf-8-sig")
    missing = sorted({"users_filename", "release_date", "attributed_country", "first_tweet", "last_tweet",
                      *_SOURCE_COLUMNS.values()} - set(source.columns))
    if missing:
        raise TractionError(f"{path}: missing column(s) {', '.join(missing)}")
    suffix = "_users_csv_hashed.csv"
    bad = source.loc[~source["users_filename"].str.endswith(suffix), "users_filename"]
    if len(bad):
        raise TractionError(f"{path}: users_filename {bad.iloc[0]!r} does not end in {suffix}")
    out = pd.DataFrame({"campaign": source["users_filename"].str.removesuffix(suffix)})
    out["aliases"] = out["campaign"].map(ALIASES).fillna("")
    out["release"] = source["release_date"].str.replace("_", "-", regex=False)
    out["attributed_country"] = source["attributed_country"]
    for ours, theirs in _SOURCE_COLUMNS.items():
        values = source[theirs]
        if values.isna().any() or (values != values.round()).any():
            row = int(values[values.isna() | (values != values.round())].index[0])
            raise TractionError(f"{path}: row {row + 2}: {theirs} is empty or not a whole number")
        out[ours] = values.astype("int64")
    out["first_tweet"], out["last_tweet"] = source["first_tweet"], source["last_tweet"]
    return out[COLUMNS]


def write_reference(frame: pd.DataFrame, path=REFERENCE_CSV) -> Path:
    header = [f"# Reference set: published per-campaign totals of {len(frame)} releases of Twitter's Information "
              "Operations archive.",
              f"# Source: {SOURCE}.",
              "# Derived by helpers.data.derive_reference; " + "; ".join(f"{k}: {v}" for k, v in COUNTS.items())
              + ". Dates are as published (UTC, to the minute)."]
    path = Path(path)
    path.write_text("\n".join(header) + "\n" + frame[COLUMNS].to_csv(index=False, lineterminator="\n"),
                    encoding="utf-8")
    return path

