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

This module and ``helpers.traces`` (the coordination engine, on the same layer)
are the only ones after the ingest that read files: statistics take their frames.
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
    con.execute(f"SET temp_directory = '{quote(spill)}'")
    con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    # DuckDB's default lets a spill take 90% of the free disk, which starves every other process when a
    # query outgrows it; half stops the query with DuckDB's error instead.
    spill.mkdir(parents=True, exist_ok=True)
    con.execute(f"SET max_temp_directory_size = '{shutil.disk_usage(spill).free // 2 // 2**20}MB'")
    con.execute("SET preserve_insertion_order = false")
    # Its bar for every query over 2 s went to stderr, piped or not: 2,300 lines in a 37M-tweet step's log. In a
    # Jupyter kernel it starts off, and setting it raises without ipywidgets.
    if con.execute("SELECT current_setting('enable_progress_bar')").fetchone()[0]:
        con.execute("SET enable_progress_bar = false")
    return con


def load(work_dir, *, max_tweets: int | None = None, seed: int = 0,
         content: Content = Content()) -> Frames:
    """Build the account and original-tweet frames from ``work_dir``'s Parquet tables.

    The connection is closed before returning, so DuckDB gives its memory back; the coordination traces have their
    own (``helpers.traces.open``)."""
    con, form, report = open_tables(work_dir)
    try:
        return _frames(con, form, report, Path(work_dir), max_tweets, seed, content)
    finally:
        con.close()


def _frames(con, form, report, work_dir, max_tweets, seed, content) -> Frames:
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
                  _totals(con, FORM_ARCHIVE), reference)


def open_tables(work_dir):
    """A bounded connection with views over ``work_dir``'s checked tables (``acc``, and ``raw_tweets`` in archive
    form), the form they are in and the load report: what ``load`` and ``helpers.traces.open`` read."""
    work_dir = Path(work_dir)
    accounts_path = work_dir / "accounts.parquet"
    if not accounts_path.is_file():
        raise TractionError(f"no Parquet tables in {work_dir}: run 01_load.ipynb first (work_dir={work_dir})")
    report = read_report(work_dir)
    tweets_path = work_dir / "tweets.parquet"
    con = connect()
    con.execute(f"CREATE VIEW acc AS SELECT * FROM read_parquet('{quote(accounts_path)}')")
    if report.get("form") == FORM_ACCOUNT_TABLE:
        _require(con, "acc", accounts_path, schema.ACCOUNT_TABLE_COLUMNS)
        return con, FORM_ACCOUNT_TABLE, report
    _require(con, "acc", accounts_path, ["userid", "follower_count", "account_creation_date"])
    _refuse_duplicate_ids(con, accounts_path)
    if not tweets_path.is_file() or _row_count(con, tweets_path) == 0:
        return con, FORM_USERS_ONLY, report
    con.execute(f"CREATE VIEW raw_tweets AS SELECT * FROM read_parquet('{quote(tweets_path)}')")
    _require(con, "raw_tweets", tweets_path, ["tweetid", "userid", "tweet_time", "is_retweet",
                                              "retweet_tweetid", *COMPONENTS.values()])
    return con, FORM_ARCHIVE, report


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


def quote(path) -> str:
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
        "source_line" if "source_line" in column_names(con, "acc") else "NULL")).fetchall()
    if dup:
        dup = dup[0]
        raise TractionError(f"{path}: userid {dup[0]!r} appears {dup[1]} times "
                            f"(source lines {dup[2]}); ids must be unique")


def _row_count(con, path) -> int:
    return con.execute(f"SELECT count(*) FROM read_parquet('{quote(path)}')").fetchall()[0][0]


def column_names(con, view):
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
    users = "NOT coalesce(from_tweets_file, false)" if "from_tweets_file" in column_names(con, "acc") else "true"
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
    accounts = f"read_parquet('{quote(work_dir / 'accounts.parquet')}')"
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
            FROM read_parquet('{quote(tweets_path)}')""").df()
    return out


def rejected_rows(work_dir, limit: int = 10) -> pd.DataFrame:
    """The first ``limit`` rows of rejected.parquet, by file and line."""
    path = Path(work_dir) / "rejected.parquet"
    return connect().execute(f"SELECT * FROM read_parquet('{quote(path)}') ORDER BY source_file, source_line "
                             f"LIMIT {int(limit)}").df()
