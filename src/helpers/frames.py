"""Tidy pandas frames (one row per account, one per original tweet) from the Parquet tables.

DuckDB does the aggregation over ``tweets.parquet`` (releases reach 37M rows),
so pandas only ever holds one row per account and, for the per-tweet frame,
the few columns the models need, capped by ``max_tweets``.

``accounts`` columns (frames contract): userid, follower_count, n_tweets,
n_original, n_retweets, likes, retweets, replies, quotes, engagement (summed
over ORIGINAL tweets only), account_creation_date, first_tweet_time,
last_tweet_time, lifespan_days; plus, for the amplification statistics,
n_retweets_in_network (retweet rows whose retweeted tweet is in the dataset),
n_zero_engagement (original tweets with no engagement) and n_retweet_heavy
(original tweets with retweets > RETWEET_HEAVY_RATIO x likes); and, for the
content statistics, tweet rows (retweets included) with any text
(n_with_text) and, for what the statement under test asks (``Content``), in
each of its languages (n_language_CODE), on each of its topics
(n_topic_NAME: a keyword in the text or hashtags) and posted on or after each
of its days (n_from_YYYY_MM_DD); and, for the
comparison with the reference set of real campaigns (whose published totals
sum the counts over every row), the four counts and their sum over ALL tweet
rows, retweets included as the archive writes them (likes_all_rows,
retweets_all_rows, replies_all_rows, quotes_all_rows, engagement_all_rows).
``follower_count`` is int64 when every account's count is
known, else float64 with NaN (and a warning).

``Frames.totals`` are the campaign's totals in the published figures' terms
(accounts and summed followers of the users file, tweet rows, the four counts
over all rows); ``Frames.reference`` is the shipped reference set
(``helpers.data``). ``load_baseline`` loads another run's accounts as a
baseline for the count models.

This module is the only one after the ingest that reads files: statistics take
its frames.
"""

import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from helpers import data, schema
from helpers.results import ALL_TWEETS_REJECTED
from helpers.errors import TractionError

FORM_ARCHIVE = "archive"  # accounts + tweets
FORM_USERS_ONLY = "users_only"  # a campaign with only a users file, or whose tweet rows were all rejected
FORM_ACCOUNT_TABLE = "account_table"  # data published only in aggregate

COMPONENTS = {"likes": "like_count", "retweets": "retweet_count",
              "replies": "reply_count", "quotes": "quote_count"}
RETWEET_HEAVY_RATIO = 5  # n_retweet_heavy: original tweets with more than this many retweets per like
TOP_HASHTAGS = 20
ALL_ROWS = [f"{name}_all_rows" for name in COMPONENTS]  # likes_all_rows, ...: sums over all tweet rows
TOTALS = ["accounts", "tweet_rows", *COMPONENTS, "followers"]  # the published figures' totals


@dataclass(frozen=True)
class Content:
    """What the per-account content counts match, as the statement under test asks: its topics (name and
    keywords, matched case-insensitively as substrings of the text or of a '#hashtag'), its language codes
    (the code or CODE-*) and its days (tweet rows on or after YYYY-MM-DD)."""

    topics: tuple = ()  # ((name, (keyword, ...)), ...)
    languages: tuple = ()
    days: tuple = ()

    def columns(self) -> list[str]:
        return ([topic_column(name) for name, _ in self.topics] + [language_column(code) for code in self.languages]
                + [day_column(day) for day in self.days])


def topic_column(name: str) -> str:
    return f"n_topic_{name}"


def language_column(code: str) -> str:
    return f"n_language_{code}"


def day_column(day: str) -> str:
    return "n_from_" + day.replace("-", "_")


@dataclass
class Frames:
    accounts: pd.DataFrame
    tweets: pd.DataFrame | None
    form: str
    warnings: list[str] = field(default_factory=list)
    report: dict = field(default_factory=dict)  # load_report.json, {} when absent
    tweets_sample_note: str | None = None  # set when `tweets` holds a sample of whole accounts
    top_hashtags: pd.DataFrame | None = None  # hashtag, tweets, share_of_tweets (all tweet rows)
    content: Content = field(default_factory=Content)
    totals: dict = field(default_factory=dict)  # TOTALS -> int, or None where the form lacks it
    reference: pd.DataFrame | None = None  # the reference set of real campaigns (helpers.data)
    traces: "Traces | None" = None  # coordination traces of every tweet row (archive form only)

    @property
    def campaign(self) -> str:
        return str(self.report.get("campaign") or "")


# DuckDB's share of notebook 02's memory: the frames of a 37M-tweet release (2.5M accounts) hold about
# 0.6 GB beside it, and the whole step must stay under 2 GB; beyond this DuckDB spills to disk.
MEMORY_LIMIT = "768MB"


def connect() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with a bounded memory budget that spills to disk."""
    con = duckdb.connect()
    spill = Path(tempfile.gettempdir()) / "traction-duckdb"
    con.execute(f"SET temp_directory = '{_quote(spill)}'")
    con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    # DuckDB's default lets a spill take 90% of the free disk, which starves every other process when a
    # query outgrows it; half stops the query with DuckDB's error instead.
    spill.mkdir(parents=True, exist_ok=True)
    con.execute(f"SET max_temp_directory_size = '{shutil.disk_usage(spill).free // 2 // 2**20}MB'")
    con.execute("SET preserve_insertion_order = false")
    return con


def load(work_dir, *, max_tweets: int | None = None, seed: int = 0,
         content: Content = Content()) -> Frames:
    """Build the account and original-tweet frames from ``work_dir``'s Parquet tables."""
    con, form, report = _open(work_dir)
    work_dir = Path(work_dir)
    accounts_path, tweets_path = work_dir / "accounts.parquet", work_dir / "tweets.parquet"
    reference = data.reference_campaigns()
    if form == FORM_ACCOUNT_TABLE:
        return Frames(_account_table(con, content), None, FORM_ACCOUNT_TABLE,
                      ["account-level table: tweet-level statistics are skipped"], report,
                      totals=_totals(con, FORM_ACCOUNT_TABLE), reference=reference, content=content)
    if form == FORM_USERS_ONLY:
        accounts = _accounts(con, with_tweets=False, content=content)
        tweets_read = sum(f["rows_read"] for f in report.get("files", []) if f.get("kind") == "tweets")
        why = (f"{ALL_TWEETS_REJECTED} ({tweets_read:,}; their reasons are in rejected.parquet)" if tweets_read
               else "no tweets (users file only)")
        return Frames(accounts, None, FORM_USERS_ONLY, [f"{why}: engagement statistics are skipped"], report,
                      totals=_totals(con, FORM_USERS_ONLY), reference=reference, content=content)
    warnings = _tweet_warnings(con, tweets_path)
    con.execute(f"""CREATE VIEW tw AS SELECT tweetid, userid, tweet_time, retweet_tweetid,
        coalesce(is_retweet, false) AS rt, tweet_language, tweet_text, hashtags,
        {", ".join(f"coalesce({col}, 0) AS {name}" for name, col in COMPONENTS.items())}
        FROM raw_tweets""")
    accounts = _accounts(con, with_tweets=True, content=content)
    orphans = int(accounts["follower_count"].isna().sum() - _unknown_followers(con))
    if orphans:
        warnings.append(f"{orphans} accounts tweet in {tweets_path.name} but are missing from "
                        f"{accounts_path.name}: kept with unknown follower count")
    if accounts["follower_count"].isna().any():
        warnings.append(f"{int(accounts['follower_count'].isna().sum())} accounts have an unknown "
                        "follower count: kept in the counts, left out of follower statistics")
    tweets, note = _tweets(con, accounts, max_tweets, seed)
    if note:
        warnings.append(note)
    return Frames(accounts, tweets, FORM_ARCHIVE, warnings, report, note, _top_hashtags(con), content,
                  _totals(con, FORM_ARCHIVE), reference, Traces(con))


def _open(work_dir):
    """A bounded connection with views over ``work_dir``'s checked tables (``acc``, and ``raw_tweets`` in archive
    form), the form they are in and the load report."""
    work_dir = Path(work_dir)
    accounts_path = work_dir / "accounts.parquet"
    if not accounts_path.is_file():
        raise TractionError(f"no Parquet tables in {work_dir}: run 01_load.ipynb first (work_dir={work_dir})")
    report = read_report(work_dir)
    tweets_path = work_dir / "tweets.parquet"
    con = connect()
    con.execute(f"CREATE VIEW acc AS SELECT * FROM read_parquet('{_quote(accounts_path)}')")
    if report.get("form") == FORM_ACCOUNT_TABLE:
        _require(con, "acc", accounts_path, schema.ACCOUNT_TABLE_COLUMNS)
        return con, FORM_ACCOUNT_TABLE, report
    _require(con, "acc", accounts_path, ["userid", "follower_count", "account_creation_date"])
    _refuse_duplicate_ids(con, accounts_path)
    if not tweets_path.is_file() or _row_count(con, tweets_path) == 0:
        return con, FORM_USERS_ONLY, report
    con.execute(f"CREATE VIEW raw_tweets AS SELECT * FROM read_parquet('{_quote(tweets_path)}')")
    _require(con, "raw_tweets", tweets_path, ["tweetid", "userid", "tweet_time", "is_retweet",
                                              "retweet_tweetid", *COMPONENTS.values()])
    return con, FORM_ARCHIVE, report


def archive_traces(work_dir) -> "Traces | None":
    """The coordination traces of ``work_dir`` on their own bounded connection, without building the frames, the
    tables checked as ``load`` checks them; None where ``load`` gives no tweet rows (an account table, a users file
    alone). For ``steps.measure_coordination``, the benchmarks, and a reader who wants only the network."""
    con, form, _ = _open(work_dir)
    if form != FORM_ARCHIVE:
        con.close()
        return None
    return Traces(con)


def load_baseline(folder) -> Frames:
    """Baseline accounts for the count models, from another run's folder or its work folder.

    (An account table is first loaded into a work folder by ``helpers.steps``.) The baseline needs
    engagement and original tweets per account, so a users file alone is refused.
    """
    path = Path(folder)
    work = path if (path / "accounts.parquet").is_file() else path / "work"
    if not (work / "accounts.parquet").is_file():
        raise TractionError(f"baseline {path}: no accounts.parquet in it or in its work/ folder "
                            "(name another run's folder, its work folder, or an account table CSV)")
    loaded = load(work)
    if loaded.form == FORM_USERS_ONLY:
        raise TractionError(f"baseline {path}: a users file only, with no engagement; the baseline needs "
                            "tweets or an account table with engagement")
    return loaded


def read_report(work_dir) -> dict:
    """``load_report.json`` as a dict ({} when the ingest wrote none)."""
    path = Path(work_dir) / "load_report.json"
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise TractionError(f"{path}: line {error.lineno}: not valid JSON ({error.msg})") from None


def _quote(path) -> str:
    return str(path).replace("'", "''")


def _require(con, view, path, columns):
    present = [row[0] for row in con.execute(f"DESCRIBE {view}").fetchall()]
    missing = [c for c in columns if c not in present]
    if missing:
        raise TractionError(f"{path}: missing column(s) {', '.join(missing)}; "
                            f"columns present: {', '.join(present)}")


def _refuse_duplicate_ids(con, path):
    # Tweets cannot be attributed to one of two accounts sharing an id.
    dup = con.execute("""SELECT userid, count(*), list(source_line ORDER BY source_line)
        FROM (SELECT userid, {} AS source_line FROM acc) GROUP BY userid HAVING count(*) > 1
        ORDER BY userid LIMIT 1""".format(
        "source_line" if "source_line" in _columns(con, "acc") else "NULL")).fetchall()
    if dup:
        dup = dup[0]
        raise TractionError(f"{path}: userid {dup[0]!r} appears {dup[1]} times "
                            f"(source lines {dup[2]}); ids must be unique")


def _row_count(con, path) -> int:
    return con.execute(f"SELECT count(*) FROM read_parquet('{_quote(path)}')").fetchall()[0][0]


def _columns(con, view):
    return [row[0] for row in con.execute(f"DESCRIBE {view}").fetchall()]


def _unknown_followers(con) -> int:
    return con.execute("SELECT count(*) FROM acc WHERE follower_count IS NULL").fetchall()[0][0]


def _tweet_warnings(con, path) -> list[str]:
    """Say where NULLs were read as 0 / false, so no value changes silently."""
    nulls = con.execute(f"""SELECT
        count(*) FILTER (WHERE is_retweet IS NULL),
        count(*) FILTER (WHERE NOT coalesce(is_retweet, false) AND
            ({" OR ".join(f"{c} IS NULL" for c in COMPONENTS.values())})),
        count(*) FILTER (WHERE is_retweet AND retweet_tweetid IS NULL)
        FROM raw_tweets""").fetchall()[0]
    messages = [f"{path.name}: {nulls[0]} rows with empty is_retweet, read as original tweets",
                f"{path.name}: {nulls[1]} original tweets with an empty engagement count, read as 0",
                f"{path.name}: {nulls[2]} retweet rows without retweet_tweetid, counted as out-of-network"]
    return [m for m, n in zip(messages, nulls) if n]


def _content_counts(content: Content) -> tuple[str, dict]:
    """The per-user count expressions of ``content`` and their query parameters (keywords as lists, so no
    keyword is ever spliced into SQL; codes and days are checked by the statement's id forms)."""
    parameters, counts = {}, []
    for index, (name, keywords) in enumerate(content.topics):
        parameters[f"topic_{index}"] = list(keywords)
        # folded by DuckDB's lower(), as the text is (Python's lower() differs on İ and final sigma)
        counts.append(f"count(*) FILTER (WHERE len(list_filter($topic_{index}, lambda k: contains(searchable, "
                      f"lower(k)))) > 0) AS {topic_column(name)}")
    counts += [f"count(*) FILTER (WHERE lower(tweet_language) = '{code}' OR lower(tweet_language) LIKE '{code}-%')"
               f" AS {language_column(code)}" for code in content.languages]
    counts += [f"count(*) FILTER (WHERE tweet_time >= DATE '{day}') AS {day_column(day)}" for day in content.days]
    return "".join(f",\n            {count}" for count in counts), parameters


# A topic's keywords are looked for in the text and in each hashtag written '#name', one per line (a keyword
# never spans two of them).
SEARCHABLE = ("lower(coalesce(tweet_text, '')) || chr(10) || "
              "coalesce(array_to_string(list_transform(hashtags, lambda h: '#' || lower(h)), chr(10)), '')")


def _accounts(con, *, with_tweets: bool, content: Content = Content()) -> pd.DataFrame:
    if not with_tweets:
        con.execute("""CREATE VIEW tw AS SELECT NULL::VARCHAR tweetid, NULL::VARCHAR userid,
            NULL::TIMESTAMP tweet_time, NULL::VARCHAR retweet_tweetid, false rt, NULL::VARCHAR tweet_language,
            NULL::VARCHAR tweet_text, NULL::VARCHAR[] hashtags, 0 likes, 0 retweets, 0 replies, 0 quotes WHERE false""")
    content_counts, parameters = _content_counts(content)
    source = f"(SELECT *, {SEARCHABLE} AS searchable FROM tw)" if content.topics else "tw"
    query = f"""
        WITH per_user AS (
          SELECT userid,
            count(*) AS n_tweets,
            count(*) FILTER (WHERE NOT rt) AS n_original,
            count(*) FILTER (WHERE rt) AS n_retweets,
            count(*) FILTER (WHERE rt AND retweet_tweetid IN (SELECT tweetid FROM tw)) AS n_retweets_in_network,
            sum(likes) FILTER (WHERE NOT rt) AS likes,
            sum(retweets) FILTER (WHERE NOT rt) AS retweets,
            sum(replies) FILTER (WHERE NOT rt) AS replies,
            sum(quotes) FILTER (WHERE NOT rt) AS quotes,
            sum(likes) AS likes_all_rows, sum(retweets) AS retweets_all_rows,
            sum(replies) AS replies_all_rows, sum(quotes) AS quotes_all_rows,
            count(*) FILTER (WHERE NOT rt AND likes + retweets + replies + quotes = 0) AS n_zero_engagement,
            count(*) FILTER (WHERE NOT rt AND retweets > {RETWEET_HEAVY_RATIO} * likes) AS n_retweet_heavy,
            min(tweet_time) AS first_tweet_time,
            max(tweet_time) AS last_tweet_time,
            count(*) FILTER (WHERE nullif(trim(tweet_text), '') IS NOT NULL) AS n_with_text{content_counts}
          FROM {source} GROUP BY userid)
        SELECT userid, (row_number() OVER (ORDER BY userid))::BIGINT AS account_row, a.follower_count,
          a.account_creation_date,
          coalesce(n_tweets, 0)::{{count}} AS n_tweets, coalesce(n_original, 0)::{{count}} AS n_original,
          coalesce(n_retweets, 0)::{{count}} AS n_retweets, coalesce(likes, 0)::{{count}} AS likes,
          coalesce(retweets, 0)::{{count}} AS retweets, coalesce(replies, 0)::{{count}} AS replies,
          coalesce(quotes, 0)::{{count}} AS quotes,
          coalesce(likes + retweets + replies + quotes, 0)::{{count}} AS engagement,
          {", ".join(f"coalesce({c}, 0)::{{count}} AS {c}" for c in ALL_ROWS)},
          coalesce({" + ".join(ALL_ROWS)}, 0)::{{count}} AS engagement_all_rows,
          coalesce(n_retweets_in_network, 0)::{{count}} AS n_retweets_in_network,
          coalesce(n_zero_engagement, 0)::{{count}} AS n_zero_engagement,
          coalesce(n_retweet_heavy, 0)::{{count}} AS n_retweet_heavy,
          first_tweet_time, last_tweet_time,
          {", ".join(f"coalesce({c}, 0)::{{count}} AS {c}" for c in [*CONTENT_COUNTS, *content.columns()])}
        FROM (SELECT userid, follower_count, account_creation_date FROM acc) a
        FULL JOIN per_user USING (userid)"""
    try:  # counts as int32 (half the memory at millions of accounts); a count that does not fit raises
        con.execute(f"CREATE OR REPLACE TEMP TABLE account_frame AS {query.replace('{count}', 'INTEGER')}", parameters)
    except duckdb.ConversionException:
        con.execute(f"CREATE OR REPLACE TEMP TABLE account_frame AS {query.replace('{count}', 'BIGINT')}", parameters)
    # The numbers through NumPy, the ids through Arrow: .df() would make a Python string of every id first (at
    # 2.5M accounts, that was the frames' peak).
    frame = con.execute("SELECT * EXCLUDE (userid, account_row) FROM account_frame ORDER BY account_row").df()
    ids = con.sql("SELECT userid FROM account_frame ORDER BY account_row").to_arrow_table()
    con.execute("DROP TABLE account_frame")
    frame.insert(0, "userid", ids.column("userid").to_pandas())
    frame["follower_count"] = _followers(frame["follower_count"])
    for col in ["account_creation_date", "first_tweet_time", "last_tweet_time"]:
        frame[col] = pd.to_datetime(frame[col])
    frame["lifespan_days"] = (frame["last_tweet_time"] - frame["account_creation_date"]).dt.total_seconds() / 86400
    frame["userid"] = frame["userid"].astype(str)
    return frame[_ACCOUNT_ORDER + content.columns()]


CONTENT_COUNTS = ["n_with_text"]
_ACCOUNT_ORDER = ["userid", "follower_count", "n_tweets", "n_original", "n_retweets", "likes",
                  "retweets", "replies", "quotes", "engagement", "account_creation_date",
                  "first_tweet_time", "last_tweet_time", "lifespan_days",
                  "n_retweets_in_network", "n_zero_engagement", "n_retweet_heavy", *CONTENT_COUNTS,
                  *ALL_ROWS, "engagement_all_rows"]


def _followers(series: pd.Series) -> pd.Series:
    series = series.astype("float64")
    return series.astype("int64") if series.notna().all() else series


def _account_table(con, content: Content = Content()) -> pd.DataFrame:
    frame = con.execute("""SELECT userid, follower_count, tweet_count AS n_tweets,
        tweet_count AS n_original, like_total AS likes, retweet_total AS retweets,
        reply_total AS replies, quote_total AS quotes, engagement_total AS engagement
        FROM acc ORDER BY userid""").df()
    bad = frame[frame["n_original"].isna() | frame["engagement"].isna()]
    if len(bad):
        column = "tweet_count" if frame["n_original"].isna().any() else "engagement_total"
        raise TractionError(f"accounts.parquet: column {column} is empty for userid "
                            f"{bad['userid'].iloc[0]!r} ({len(bad)} accounts); the account table needs it")
    frame["follower_count"] = _followers(frame["follower_count"])
    for col in ["n_tweets", "n_original", "engagement"]:
        frame[col] = frame[col].astype("int64")
    for col in COMPONENTS:
        frame[col] = frame[col].astype("float64")
    frame["n_retweets"] = float("nan")
    for col in ["account_creation_date", "first_tweet_time", "last_tweet_time"]:
        frame[col] = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[us]")
    frame["lifespan_days"] = float("nan")
    # An account table does not say whether its totals count retweet rows: no all-rows sums.
    for col in ["n_retweets_in_network", "n_zero_engagement", "n_retweet_heavy", *CONTENT_COUNTS,
                *content.columns(), *ALL_ROWS, "engagement_all_rows"]:
        frame[col] = float("nan")
    frame["userid"] = frame["userid"].astype(str)
    return frame[_ACCOUNT_ORDER + content.columns()]


def _totals(con, form) -> dict:
    """The campaign's totals as the published figures count them; None where the form has no such number.

    Accounts and followers are over the users file's rows (not accounts added from the tweets file); the
    counts are summed over every tweet row, an empty count read as 0 (as pandas' sum skips it).
    """
    users = "NOT coalesce(from_tweets_file, false)" if "from_tweets_file" in _columns(con, "acc") else "true"
    accounts, followers = con.execute(f"SELECT count(*) FILTER ({users}), "
                                      f"sum(follower_count) FILTER ({users}) FROM acc").fetchall()[0]
    totals = dict.fromkeys(TOTALS)
    totals.update(accounts=int(accounts), followers=None if followers is None else int(followers))
    if form == FORM_ARCHIVE:
        row = con.execute("SELECT count(*), " + ", ".join(f"sum({name})" for name in COMPONENTS)
                          + " FROM tw").fetchall()[0]
        totals.update(zip(["tweet_rows", *COMPONENTS], (int(value or 0) for value in row)))
    elif form == FORM_USERS_ONLY:
        totals["tweet_rows"] = 0
    return totals


def _tweets(con, accounts, max_tweets, seed):
    """Original tweets (whole accounts sampled in a seeded hash order above ``max_tweets``)."""
    total = int(accounts["n_original"].sum())
    # An Arrow table (DuckDB scans it in place), and each tweet's account as a row of ``accounts``: userid and
    # followers are taken from there, so no Python string is made per tweet (at 2M tweets those strings were
    # the frames' peak).
    con.register("acc_frame", pa.table({"userid": pa.array(accounts["userid"]),
                                        "n_original": accounts["n_original"].to_numpy(),
                                        "account_row": np.arange(len(accounts), dtype=np.int64)}))
    keep, note = "", None
    if max_tweets is not None and total > max_tweets:
        con.execute(f"""CREATE TEMP TABLE chosen AS SELECT userid FROM (
            SELECT userid, sum(n_original) OVER (ORDER BY md5(userid || '/{int(seed)}'), userid) AS running
            FROM acc_frame WHERE n_original > 0) WHERE running <= {int(max_tweets)}""")
        kept = con.execute("""SELECT count(*), sum(n_original) FROM acc_frame
            WHERE userid IN (SELECT userid FROM chosen)""").fetchall()[0]
        n_active = int((accounts["n_original"] > 0).sum())
        note = (f"tweet frame is a sample of whole accounts: {kept[0]} of {n_active} accounts, "
                f"{int(kept[1] or 0)} of {total} original tweets (max_tweets={max_tweets}, seed={seed}); "
                "account-level statistics use every account")
        keep = "AND t.userid IN (SELECT userid FROM chosen)"
    found = con.execute(f"""SELECT a.account_row, t.likes, t.retweets, t.replies, t.quotes,
        t.likes + t.retweets + t.replies + t.quotes AS engagement, t.tweet_time
        FROM tw t JOIN acc_frame a USING (userid)
        WHERE NOT t.rt {keep}
        ORDER BY t.userid, t.tweet_time, t.tweetid""").df()
    con.unregister("acc_frame")
    rows = found.pop("account_row").to_numpy()
    tweets = pd.DataFrame({"userid": accounts["userid"].take(rows).reset_index(drop=True),
                           "follower_count": _followers(accounts["follower_count"].take(rows).reset_index(drop=True))})
    for col in [*COMPONENTS, "engagement"]:
        tweets[col] = found.pop(col).astype("int64")
    tweets["tweet_time"] = pd.to_datetime(found.pop("tweet_time"))
    return tweets, note


def _top_hashtags(con, limit=TOP_HASHTAGS) -> pd.DataFrame:
    """The most used hashtags (case-folded) over all tweet rows, with their share of all tweet rows.

    A tag counts once per row: distinct within each row's list, so no table-wide DISTINCT (at 37M rows
    that held 0.9 GB, where this holds 0.2 GB)."""
    return con.execute("""
        WITH total AS (SELECT count(*) AS n FROM tw),
             tags AS (SELECT unnest(list_distinct(list_transform(hashtags, lambda tag: lower(tag)))) AS hashtag
                      FROM tw)
        SELECT hashtag, count(*) AS tweets, count(*) / any_value(total.n) AS share_of_tweets
        FROM tags, total
        GROUP BY hashtag
        ORDER BY tweets DESC, hashtag
        LIMIT $limit""", {"limit": limit}).df()


def overview(work_dir, form: str) -> dict[str, pd.DataFrame]:
    """Basic counts of the loaded tables, for notebook 01: accounts, and tweets when the form has them."""
    work_dir = Path(work_dir)
    con = connect()
    accounts = f"read_parquet('{_quote(work_dir / 'accounts.parquet')}')"
    if form == FORM_ACCOUNT_TABLE:
        return {"accounts": con.execute(f"""SELECT count(*) AS accounts, median(follower_count) AS median_followers,
            sum(tweet_count) AS tweets, sum(engagement_total) AS engagement FROM {accounts}""").df()}
    out = {"accounts": con.execute(f"""SELECT count(*) AS accounts, count(*) FILTER (userid_hashed) AS hashed,
        count(*) FILTER (from_tweets_file) AS from_tweets_file, median(follower_count) AS median_followers,
        max(follower_count) AS max_followers FROM {accounts}""").df()}
    tweets_path = work_dir / "tweets.parquet"
    if tweets_path.is_file():
        out["tweets"] = con.execute(f"""SELECT count(*) AS tweets, count(*) FILTER (is_retweet) AS retweets,
            count(DISTINCT userid) AS accounts_tweeting, min(tweet_time) AS first_tweet, max(tweet_time) AS last_tweet,
            sum(like_count) AS likes, sum(retweet_count) AS retweets_received
            FROM read_parquet('{_quote(tweets_path)}')""").df()
    return out


def rejected_rows(work_dir, limit: int = 10) -> pd.DataFrame:
    """The first ``limit`` rows of rejected.parquet, by file and line."""
    path = Path(work_dir) / "rejected.parquet"
    return connect().execute(f"SELECT * FROM read_parquet('{_quote(path)}') ORDER BY source_file, source_line "
                             f"LIMIT {int(limit)}").df()


# ---- coordination traces ----------------------------------------------------------------------------------------

TRACES = ("co_retweet", "co_tweet", "co_link", "co_reply", "co_hashtag")
# What each trace's item is, per tweet row. Only retweets count for co-retweet, and only original tweets
# (replies and quotes included) for the others: a retweet repeats its target's text, links and hashtags,
# which co-retweet already counts.
_TRACE_ITEMS = {
    "co_retweet": "SELECT uid, minute, hash(retweet_tweetid) AS item FROM trace_source WHERE rt AND retweet_tweetid IS NOT NULL",
    "co_tweet": r"""SELECT uid, minute, hash(text) AS item FROM (SELECT uid, minute, trim(regexp_replace(
        regexp_replace(lower(tweet_text), '(https?://\S+)|(@\S+)', ' ', 'g'), '\s+', ' ', 'g')) AS text
        FROM trace_source WHERE NOT rt) WHERE text <> ''""",
    "co_link": "SELECT DISTINCT uid, minute, hash(url) AS item FROM (SELECT uid, minute, tweetid, trim(unnest(urls)) "
               "AS url FROM trace_source WHERE NOT rt) WHERE url <> ''",
    "co_reply": "SELECT uid, minute, hash(in_reply_to_tweetid) AS item FROM trace_source WHERE NOT rt "
                "AND in_reply_to_tweetid IS NOT NULL AND in_reply_to_tweetid <> ''",
    "co_hashtag": "SELECT uid, minute, hash(list_sort(list_distinct(list_transform(hashtags, lambda h: lower(h))))) "
                  "AS item FROM trace_source WHERE NOT rt AND len(hashtags) > 0",
}


@dataclass
class PairCount:
    """Account pairs sharing items within a window: ``edges`` (draw, trace, user_1, user_2, weight; users are the
    dense ids of ``Traces.accounts``; None when not asked for), ``capped`` (trace, groups, rows: one row per item
    left out, with its crowded buckets and their rows) and ``counts`` ({trace or "any": (accounts in a pair,
    pairs)}, counted in DuckDB)."""

    edges: pd.DataFrame | None
    capped: pd.DataFrame
    counts: dict = field(default_factory=dict)


class Traces:
    """The coordination traces of every tweet row, on the bounded connection of ``load``: what
    ``stats.coordination`` counts account pairs over, out-of-core.

    A trace is an item a row shares with other rows: the retweeted tweet (co_retweet), the normalised text
    (co_tweet: case folded, mentions and URLs removed), each link (co_link), the replied-to tweet (co_reply)
    and the set of hashtags (co_hashtag). Items are 64-bit hashes (a collision among a billion items is
    unlikely). Only rows whose item two or more accounts share can pair, so only those are kept. Times are
    the archive's minutes. Tables are built on first use.
    """

    def __init__(self, con):
        self._con = con
        self._built = False
        self._crowded_for = None  # (window, max_rows) of the current trace_crowded table

    def close(self):
        """Close the connection: DuckDB gives its memory back (0.9 GB at 37M tweets)."""
        self._con.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _build(self):
        if self._built:
            return
        con = self._con
        con.execute("""CREATE TEMP TABLE trace_accounts AS SELECT userid,
            (row_number() OVER (ORDER BY userid))::INTEGER AS uid FROM (SELECT DISTINCT userid FROM raw_tweets)""")
        present = set(_columns(con, "raw_tweets"))
        optional = {"tweet_text": "VARCHAR", "hashtags": "VARCHAR[]", "urls": "VARCHAR[]",
                    "in_reply_to_tweetid": "VARCHAR"}  # a trace whose column is absent has no items
        picked = ", ".join(f"r.{name}" if name in present else f"NULL::{kind} AS {name}"
                           for name, kind in optional.items())
        con.execute(f"""CREATE TEMP VIEW trace_source AS SELECT a.uid, (epoch(r.tweet_time) // 60)::BIGINT AS minute,
            coalesce(r.is_retweet, false) AS rt, r.tweetid, r.retweet_tweetid, {picked}
            FROM raw_tweets r JOIN trace_accounts a USING (userid) WHERE r.tweet_time IS NOT NULL""")
        union = " UNION ALL ".join(f"SELECT {i}::UTINYINT AS trace, * FROM ({sql})"
                                   for i, sql in enumerate(_TRACE_ITEMS.values()))
        con.execute(f"""CREATE TEMP TABLE trace_rows AS WITH rows AS ({union}),
            shared AS (SELECT trace, item FROM rows GROUP BY trace, item HAVING count(DISTINCT uid) >= 2)
            SELECT r.* FROM rows r SEMI JOIN shared USING (trace, item)""")
        # The activity clock: tweet rows per hour, their running count, so a shift can move along the
        # campaign's own activity rather than the wall clock (see stats.coordination).
        con.execute("""CREATE TEMP TABLE activity_clock AS SELECT hour, n,
            (sum(n) OVER (ORDER BY hour) - n)::DOUBLE AS start FROM (SELECT minute // 60 AS hour, count(*) AS n
            FROM trace_source GROUP BY hour)""")
        con.execute("""CREATE TEMP TABLE trace_candidates AS SELECT r.uid, r.trace, r.item, r.minute,
            c.start + c.n * (r.minute % 60) / 60.0 AS position
            FROM trace_rows r JOIN activity_clock c ON c.hour = r.minute // 60""")
        self._built = True

    def _scalar(self, sql):
        self._build()
        return self._con.execute(sql).fetchall()[0][0]

    @property
    def n_accounts(self) -> int:
        """Accounts with at least one tweet row (the denominator of coordination shares)."""
        return int(self._scalar("SELECT count(*) FROM trace_accounts"))

    @property
    def n_rows(self) -> int:
        """Tweet rows with a time: the length of the activity clock."""
        return int(self._scalar("SELECT coalesce(sum(n), 0) FROM activity_clock"))

    def accounts(self) -> pd.DataFrame:
        """uid (dense id used in edges) and userid of every account with a tweet row."""
        self._build()
        frame = self._con.execute("SELECT uid, userid FROM trace_accounts ORDER BY uid").df()
        frame["userid"] = frame["userid"].astype(str)
        return frame

    def rows_per_trace(self) -> dict:
        """Rows that can pair, per trace."""
        self._build()
        counts = dict(self._con.execute("SELECT trace, count(*) FROM trace_rows GROUP BY trace").fetchall())
        return {name: int(counts.get(i, 0)) for i, name in enumerate(TRACES)}

    def pairs(self, window_minutes: int, *, min_weight: int, max_rows: int,
              shifts: pd.DataFrame | None = None, draw: int = 0, edges: bool = True) -> PairCount:
        """Account pairs that shared at least ``min_weight`` distinct items, each within ``window_minutes``.

        Two rows share an item within the window when their minutes differ by at most ``window_minutes``.
        Rows are bucketed by item and time (buckets one window wide, each joined with the next), so the cost
        is the pairs inside a bucket, never the square of an item's rows. An item that more than ``max_rows``
        observed rows share within one bucket is left out of every draw and counted in ``capped``; pair counts
        spill to disk under the memory limit. Without ``shifts`` the rows are the data as observed (draw 0);
        ``shifts`` (uid, shift) moves each account's rows by ``shift`` tweet rows along the activity clock
        (the running count of all tweet rows, hour by hour, linear within an hour; wrapping at its ends) for
        null draw ``draw``. One draw per call keeps the tables one draw long at any size. ``edges=False`` leaves
        the pairs in DuckDB and returns their counts only (a draw at the 60-minute window of a 3.5M-tweet campaign
        has 5M pairs).
        """
        self._build()
        con, width = self._con, int(window_minutes) + 1
        if window_minutes < 1 or min_weight < 1 or max_rows < 2:
            raise ValueError("window_minutes and min_weight must be >= 1, max_rows >= 2")
        try:  # spill is bounded (connect): a window whose pairs outgrow it is an error the caller can report
            if self._crowded_for != (window_minutes, max_rows):
                # Items crowded in some observed bucket are left out of every draw, observed and null alike.
                con.execute(f"""CREATE OR REPLACE TEMP TABLE trace_crowded AS SELECT trace, item,
                    count(*) AS groups, sum(n)::BIGINT AS rows FROM (SELECT trace, item, minute // {width} AS bucket,
                    count(*) AS n FROM trace_candidates GROUP BY ALL HAVING count(*) > {int(max_rows)}) GROUP BY ALL""")
                self._crowded_for = (window_minutes, max_rows)
            if shifts is None:
                moved = "SELECT uid, trace, item, minute FROM trace_candidates"
            else:
                con.register("trace_shifts", shifts[["uid", "shift"]])
                n = max(self.n_rows, 1)
                # Positions keep their fraction, so a shifted row lands on any minute of its new hour, not on
                # one of the few minutes a sparse hour's whole slots would give; the hour is the last one whose
                # clock starts at or before the position.
                moved = f"""SELECT x.uid, x.trace, x.item,
                    (c.hour * 60 + floor(60 * (x.p - c.start) / c.n))::BIGINT AS minute
                    FROM (SELECT r.uid, r.trace, r.item, ((r.position + s.shift) % {n} + {n}) % {n} AS p
                          FROM trace_candidates r JOIN trace_shifts s USING (uid)) x
                    ASOF JOIN activity_clock c ON x.p >= c.start"""
            con.execute(f"""CREATE OR REPLACE TEMP TABLE trace_kept AS
                SELECT *, minute // {width} AS bucket FROM ({moved}) ANTI JOIN trace_crowded USING (trace, item)""")
            # Same-bucket pairs are met in both orders, kept once; next-bucket pairs are met once.
            con.execute(f"""CREATE OR REPLACE TEMP TABLE trace_ties AS
                WITH pairs AS (SELECT DISTINCT a.trace, least(a.uid, b.uid) AS user_1,
                        greatest(a.uid, b.uid) AS user_2, a.item
                    FROM trace_kept a JOIN (SELECT uid, trace, item, minute, bucket, bucket AS joined FROM trace_kept
                                            UNION ALL SELECT uid, trace, item, minute, bucket, bucket - 1
                                            FROM trace_kept) b
                      ON a.trace = b.trace AND a.item = b.item AND a.bucket = b.joined
                    WHERE (a.uid < b.uid OR (b.bucket <> a.bucket AND a.uid <> b.uid))
                      AND abs(a.minute - b.minute) <= {int(window_minutes)})
                SELECT {int(draw)}::SMALLINT AS draw, trace, user_1, user_2, count(*)::INTEGER AS weight FROM pairs
                GROUP BY ALL HAVING count(*) >= {int(min_weight)}""")
        except duckdb.OutOfMemoryException as error:
            raise TractionError(f"the {window_minutes}-minute window's pairs (draw {draw}) outgrew DuckDB's memory and "
                                f"spill limits: {str(error).splitlines()[0]}") from error
        finally:
            if shifts is not None:
                con.unregister("trace_shifts")
        counts = {TRACES[trace] if trace is not None else "any": (int(accounts), int(pairs))
                  for trace, accounts, pairs in con.execute("""
            WITH ends AS (SELECT trace, user_1 AS uid FROM trace_ties UNION ALL SELECT trace, user_2 FROM trace_ties)
            SELECT e.trace, e.accounts, p.pairs FROM (SELECT trace, count(DISTINCT uid) AS accounts FROM ends
                                                      GROUP BY ROLLUP (trace)) e
            JOIN (SELECT trace, count(*) AS pairs FROM trace_ties GROUP BY ROLLUP (trace)) p
              ON e.trace IS NOT DISTINCT FROM p.trace""").fetchall()}
        found = con.execute("SELECT * FROM trace_ties ORDER BY trace, user_1, user_2").df() if edges else None
        capped = con.execute("SELECT trace, groups, rows FROM trace_crowded ORDER BY trace, item").df()
        for frame in (found, capped) if edges else (capped,):
            frame["trace"] = pd.Categorical.from_codes(frame["trace"].astype(int), TRACES) if len(frame) \
                else pd.Categorical([], TRACES)
        return PairCount(found, capped, counts)
