"""The coordination engine: what each tweet row shares with others (its traces), and the account pairs that
shared items within a window, counted out-of-core in DuckDB.

On the frames layer (it reads the Parquet tables; ``helpers.stats.coordination`` turns its pairs into shares,
groups and entries against chance). ``open(work_dir)`` is the one way in: the traces on their own bounded
connection, closed by ``with`` so DuckDB gives its memory back before the frames are built.
"""

from dataclasses import dataclass, field

import duckdb
import pandas as pd

from helpers import frames
from helpers.errors import TractionError


def open(work_dir) -> "Traces | None":  # noqa: A001 (read as traces.open)
    """The coordination traces of ``work_dir`` on their own bounded connection, the tables checked as
    ``frames.load`` checks them; None where there are no tweet rows (an account table, a users file alone)."""
    con, form, _ = frames.open_tables(work_dir)
    if form != frames.FORM_ARCHIVE:
        con.close()
        return None
    return Traces(con)


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
        present = set(frames.column_names(con, "raw_tweets"))
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
