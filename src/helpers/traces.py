"""The coordination engine: what each tweet row shares with others (its traces), and the account pairs that
shared items within a window, counted out-of-core in DuckDB.

On the frames layer (it reads the Parquet tables; ``helpers.stats.coordination`` turns its pairs into shares,
groups and entries against chance). ``open(work_dir)`` is the one way in: the traces on their own bounded
connection, closed by ``with`` so DuckDB gives its memory back before the frames are built.
"""

from dataclasses import dataclass, field

import duckdb
import numpy as np
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


# What each trace's item is, per tweet row: ``shown`` as a reader sees it, ``item`` its 64-bit hash. Only retweets
# count for co-retweet, and only original tweets (replies and quotes included) for the others: a retweet repeats
# its target's text, links and hashtags, which co-retweet already counts.
_TRACE_ROWS = {
    "co_retweet": "SELECT uid, minute, tweetid, tweet_time, retweet_tweetid AS shown, hash(retweet_tweetid) AS item "
                  "FROM trace_source WHERE rt AND retweet_tweetid IS NOT NULL",
    "co_tweet": r"""SELECT uid, minute, tweetid, tweet_time, text AS shown, hash(text) AS item FROM (SELECT uid, minute,
        tweetid, tweet_time, trim(regexp_replace(regexp_replace(lower(tweet_text), '(https?://\S+)|(@\S+)', ' ', 'g'),
        '\s+', ' ', 'g')) AS text FROM trace_source WHERE NOT rt) WHERE text <> ''""",
    "co_link": "SELECT uid, minute, tweetid, tweet_time, url AS shown, hash(url) AS item FROM (SELECT uid, minute, "
               "tweetid, tweet_time, trim(unnest(urls)) AS url FROM trace_source WHERE NOT rt) WHERE url <> ''",
    "co_reply": "SELECT uid, minute, tweetid, tweet_time, in_reply_to_tweetid AS shown, hash(in_reply_to_tweetid) "
                "AS item FROM trace_source WHERE NOT rt AND in_reply_to_tweetid IS NOT NULL "
                "AND in_reply_to_tweetid <> ''",
    "co_hashtag": "SELECT uid, minute, tweetid, tweet_time, array_to_string(tags, ' ') AS shown, hash(tags) AS item "
                  "FROM (SELECT uid, minute, tweetid, tweet_time, list_sort(list_distinct(list_transform(hashtags, "
                  "lambda h: lower(h)))) AS tags FROM trace_source WHERE NOT rt AND len(hashtags) > 0)",
}
TRACES = tuple(_TRACE_ROWS)  # co_retweet, co_tweet, co_link, co_reply, co_hashtag; a trace's number is its place
# A link counts once per account and minute, however many of its tweets carry it (the pair counts' rows).
_ONCE_PER_MINUTE = {"co_link"}
# The evidence is bounded, whatever the release's size: items listed per tie and per group.
ITEMS_PER_TIE = 10
ITEMS_PER_GROUP = 5
TEXT_CHARS = 280  # texts in the evidence are cut to this many characters
# Joined rows per part of a window's pair count (``Traces.pairs``): each part's distinct (pair, item) rows stay near
# DuckDB's memory budget (frames.MEMORY_LIMIT), so a part spills little, and a window's spill is one part's.
ROWS_PER_PART = 20_000_000
# Joined rows per part of ``Traces.shared_items`` (the meetings of tied accounts, most of them not tied pairs'):
# 10 parts at 37M tweets, where pairs' 20M gave 46 parts and their fixed cost was most of its 285 s.
EVIDENCE_ROWS_PER_PART = 100_000_000
CLOCK_BLOCK = 1024  # clock rows per block of ``clock_blocks`` (an hour holds 1,800 rows on average at 37M tweets)


def _crowding_minutes(window_minutes) -> int:
    """The width of the buckets an item is crowded in (``MAX_ROWS`` rows of one bucket): the rule's own, fixed."""
    return int(window_minutes) + 1


def _bucket_minutes(window_minutes) -> int:
    """The width of the buckets rows are joined in: one window, the narrowest with which a row's bucket and the two
    beside it hold every row within the window (a minute ``m`` of bucket ``k`` meets ``m - w >= (k - 1)w`` and
    ``m + w < (k + 2)w``). At the 1-minute window a row meets 3 minutes of rows, where buckets of 2 gave 6."""
    return int(window_minutes)


def _in_three_buckets(table: str, columns: str, where: str) -> str:
    """``table``'s rows that meet ``where``, with ``columns``, each copied to its bucket and the two beside it as
    ``joined``: the side of a part's join that DuckDB builds its hash table on (the whole table is read once)."""
    return (f"SELECT {columns}, bucket + step AS joined FROM {table}, (VALUES (-1), (0), (1)) steps(step) "
            f"WHERE {where}")


def _texts(tweetids: str) -> str:
    """tweetid and text (cut to ``TEXT_CHARS``) of the tweets of ``tweetids`` (a query of one column, tweetid), by one
    semi join: a subquery per tweet makes DuckDB group every tweet's text by its id first."""
    return (f"SELECT tweetid, any_value(left(tweet_text, {TEXT_CHARS})) AS text FROM raw_tweets "
            f"SEMI JOIN ({tweetids}) USING (tweetid) GROUP BY tweetid")


def _rows_union(columns: str, *, counted: bool) -> str:
    """Every trace's rows with ``columns`` (of ``_TRACE_ROWS``), as one query with the trace's number; ``counted``:
    as the pair counts take them (``_ONCE_PER_MINUTE``), else every tweet's."""
    def rows(name, sql):
        distinct = "DISTINCT " if counted and name in _ONCE_PER_MINUTE else ""
        return f"SELECT {distinct}{columns} FROM ({sql})"
    return " UNION ALL ".join(f"SELECT {i}::UTINYINT AS trace, * FROM ({rows(name, sql)})"
                              for i, (name, sql) in enumerate(_TRACE_ROWS.items()))


@dataclass
class PairCount:
    """Account pairs sharing items within a window: ``edges`` (draw, trace, user_1, user_2, weight; users are the
    dense ids of ``Traces.accounts``; None when not asked for), ``capped`` (trace, groups, rows: one row per item
    left out, with its crowded buckets and their rows) and ``counts`` ({trace or "any": (accounts in a pair,
    pairs)}, counted in DuckDB). With a sample (``counted``), the accounts are the sampled ones in a pair and the
    pairs those with a sampled account."""

    edges: pd.DataFrame | None
    capped: pd.DataFrame
    counts: dict = field(default_factory=dict)
    counted: int | None = None  # accounts whose ties were counted: the sample's size, or None for every account


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
        # uid numbers the userids in DuckDB's order (byte order, the same as sorting the strings in Python): the ties
        # and the evidence are sorted on uids and read as sorted by userid (stats.coordination, tie_item_batches).
        con.execute("""CREATE TEMP TABLE trace_accounts AS SELECT userid,
            (row_number() OVER (ORDER BY userid))::INTEGER AS uid FROM (SELECT DISTINCT userid FROM raw_tweets)""")
        present = set(frames.column_names(con, "raw_tweets"))
        optional = {"tweet_text": "VARCHAR", "hashtags": "VARCHAR[]", "urls": "VARCHAR[]",
                    "in_reply_to_tweetid": "VARCHAR"}  # a trace whose column is absent has no items
        picked = ", ".join(f"r.{name}" if name in present else f"NULL::{kind} AS {name}"
                           for name, kind in optional.items())
        con.execute(f"""CREATE TEMP VIEW trace_source AS SELECT a.uid, (epoch(r.tweet_time) // 60)::BIGINT AS minute,
            r.tweet_time, coalesce(r.is_retweet, false) AS rt, r.tweetid, r.retweet_tweetid, {picked}
            FROM raw_tweets r JOIN trace_accounts a USING (userid) WHERE r.tweet_time IS NOT NULL""")
        con.execute(f"""CREATE TEMP TABLE trace_rows AS WITH rows AS ({_rows_union("uid, minute, item", counted=True)}),
            shared AS (SELECT trace, item FROM rows GROUP BY trace, item HAVING count(DISTINCT uid) >= 2)
            SELECT r.* FROM rows r SEMI JOIN shared USING (trace, item)""")
        # The activity clock: tweet rows per hour, their running count, so a shift can move along the
        # campaign's own activity rather than the wall clock (see stats.coordination).
        con.execute("""CREATE TEMP TABLE activity_clock AS SELECT hour, n,
            (sum(n) OVER (ORDER BY hour) - n)::DOUBLE AS start FROM (SELECT minute // 60 AS hour, count(*) AS n
            FROM trace_source GROUP BY hour)""")
        # The hours each block of CLOCK_BLOCK clock rows meets: a shifted row finds its hour by an equality join on its
        # block, then its range (an ASOF join on the clock did the same in 2.5 times the time at 37M tweets).
        con.execute(f"""CREATE TEMP TABLE clock_blocks AS SELECT hour, start, n, unnest(range((start // {CLOCK_BLOCK})
            ::BIGINT, ((start + n) // {CLOCK_BLOCK})::BIGINT + 1)) AS block FROM activity_clock""")
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

    def userids(self, uids) -> pd.Series:
        """The userids of ``uids`` (dense ids), in their order: a few hundred thousand tied accounts' strings, not all
        accounts'."""
        return pd.Series(self._look_up("uid", np.asarray(uids, dtype=np.int32), "userid"), dtype=str)

    def _uids(self, userids: pd.Series) -> np.ndarray:
        """The dense uid of each of ``userids``: the ties' ends are categoricals of a few hundred thousand accounts,
        not millions of strings."""
        return np.asarray(self._look_up("userid", userids, "uid"), dtype=np.int32)

    def _look_up(self, given: str, values, wanted: str) -> np.ndarray:
        """``trace_accounts``' ``wanted`` column for each of ``values`` of its ``given`` column (uid or userid), in
        their order, each distinct value looked up once. Every value must name an account with a tweet row."""
        self._build()
        codes, distinct = pd.factorize(values)
        distinct = np.asarray(distinct, dtype=np.int32) if given == "uid" else pd.Series(distinct, dtype=str)
        self._con.register("looked_up", pd.DataFrame({"position": np.arange(len(distinct)), given: distinct}))
        try:
            found = self._con.execute(f"""SELECT l.position, a.{wanted} FROM looked_up l JOIN trace_accounts a
                USING ({given}) ORDER BY l.position""").fetchnumpy()[wanted]
        finally:
            self._con.unregister("looked_up")
        if len(found) < len(distinct):
            raise ValueError(f"{given}s without an account with a tweet row")
        return np.asarray(found)[codes]

    def rows_per_trace(self) -> dict:
        """Rows that can pair, per trace."""
        self._build()
        counts = dict(self._con.execute("SELECT trace, count(*) FROM trace_rows GROUP BY trace").fetchall())
        return {name: int(counts.get(i, 0)) for i, name in enumerate(TRACES)}

    def _crowd(self, window_minutes, max_rows):
        """``trace_crowded``: items crowded in some observed bucket, left out of every draw, observed and null alike."""
        if self._crowded_for != (window_minutes, max_rows):
            self._con.execute(f"""CREATE OR REPLACE TEMP TABLE trace_crowded AS SELECT trace, item,
                count(*) AS groups, sum(n)::BIGINT AS rows FROM (SELECT trace, item,
                minute // {_crowding_minutes(window_minutes)} AS bucket, count(*) AS n FROM trace_candidates GROUP BY ALL
                HAVING count(*) > {int(max_rows)}) GROUP BY ALL""")
            self._crowded_for = (window_minutes, max_rows)

    def pairs(self, window_minutes: int, *, min_weight: int, max_rows: int,
              shifts: pd.DataFrame | None = None, draw: int = 0, edges: bool = True,
              sample: np.ndarray | None = None, rows_per_part: int = ROWS_PER_PART) -> PairCount:
        """Account pairs that shared at least ``min_weight`` distinct items, each within ``window_minutes``.

        Two rows share an item within the window when their minutes differ by at most ``window_minutes``.
        Rows are bucketed by item and time (buckets one window wide, each joined with those beside it), so the cost
        is the pairs inside a bucket, never the square of an item's rows. An item that more than ``max_rows``
        observed rows share within one bucket is left out of every draw and counted in ``capped``. The pairs are
        counted in parts of at most ``rows_per_part`` joined rows (by the smaller account's uid modulo the parts),
        so one part at a time is in DuckDB's memory or spill, whatever the window. Without ``shifts`` the rows are
        the data as observed (draw 0);
        ``shifts`` (uid, shift) moves each account's rows by ``shift`` tweet rows along the activity clock
        (the running count of all tweet rows, hour by hour, linear within an hour; wrapping at its ends) for
        null draw ``draw``. One draw per call keeps the tables one draw long at any size. ``edges=False`` keeps only
        each part's count of pairs and its tied accounts, and returns the counts (a draw at the 60-minute window of a
        3.5M-tweet campaign has 5M pairs).

        ``sample`` (uids; ``edges`` must be False) counts whether each sampled account is in a pair, meeting its rows
        against every account's: the work is the sample's share of the rows that meet, twice (both ends), and the
        share of sampled accounts in a pair estimates the share of all accounts without bias.
        """
        self._build()
        con, width = self._con, _bucket_minutes(window_minutes)
        if window_minutes < 1 or min_weight < 1 or max_rows < 2:
            raise ValueError("window_minutes and min_weight must be >= 1, max_rows >= 2")
        if sample is not None and edges:
            raise ValueError("a sample counts accounts in a pair, not edges: pass edges=False")
        try:  # spill is bounded (connect): a window whose pairs outgrow it is an error the caller can report
            self._crowd(window_minutes, max_rows)
            if sample is not None:
                con.register("trace_sample_frame", pd.DataFrame({"uid": np.asarray(sample, dtype=np.int32)}))
                con.execute("CREATE OR REPLACE TEMP TABLE trace_sample AS SELECT DISTINCT uid FROM trace_sample_frame")
                con.unregister("trace_sample_frame")
            if shifts is not None:
                con.register("trace_shifts", shifts[["uid", "shift"]])
                n = max(self.n_rows, 1)

            def kept(rows):  # ``rows`` (of trace_candidates) as this draw places them, crowded items left out
                if shifts is None:
                    moved = f"SELECT uid, trace, item, minute FROM {rows}"
                else:  # Positions keep their fraction, so a shifted row lands on any minute of its new hour, not on
                    # one of the few minutes a sparse hour's whole slots would give; its hour is the one whose clock
                    # range holds the position.
                    moved = f"""SELECT x.uid, x.trace, x.item,
                        (c.hour * 60 + floor(60 * (x.p - c.start) / c.n))::BIGINT AS minute
                        FROM (SELECT r.uid, r.trace, r.item, ((r.position + s.shift) % {n} + {n}) % {n} AS p
                              FROM {rows} r JOIN trace_shifts s USING (uid)) x
                        JOIN clock_blocks c ON c.block = (x.p // {CLOCK_BLOCK})::BIGINT AND x.p >= c.start
                          AND x.p < c.start + c.n"""
                return f"SELECT *, minute // {width} AS bucket FROM ({moved}) ANTI JOIN trace_crowded USING (trace, item)"

            if sample is None:
                con.execute(f"CREATE OR REPLACE TEMP TABLE trace_kept AS {kept('trace_candidates')}")
            else:  # only the rows a sampled row can meet are kept: those of its item in its bucket and the two beside
                sampled_rows = kept("(SELECT * FROM trace_candidates SEMI JOIN trace_sample USING (uid))")
                con.execute(f"""CREATE OR REPLACE TEMP TABLE trace_sample_cells AS SELECT DISTINCT trace, item,
                    bucket + step AS bucket FROM ({sampled_rows}), (VALUES (-1), (0), (1)) steps(step)""")
                con.execute(f"""CREATE OR REPLACE TEMP TABLE trace_kept AS SELECT * FROM ({kept('trace_candidates')})
                    SEMI JOIN trace_sample_cells USING (trace, item, bucket)""")
            parts = self._parts(window_minutes, rows_per_part, sampled=sample is not None)
            if sample is None and parts > 1:  # each part's rows then sit in row groups of their own, which DuckDB's
                # zone maps find without reading the rest: 1.6 s to 0.2 s a part at 37M tweets, for one 5.6 s sort
                con.execute(f"CREATE OR REPLACE TEMP TABLE trace_kept AS SELECT *, (uid % {parts})::INTEGER AS part "
                            "FROM trace_kept ORDER BY part")
            con.execute("""CREATE OR REPLACE TEMP TABLE trace_ties (draw SMALLINT, trace UTINYINT, user_1 INTEGER,
                user_2 INTEGER, weight INTEGER)""")
            con.execute("CREATE OR REPLACE TEMP TABLE trace_tied (trace UTINYINT, uid INTEGER)")
            pairs = {}
            for part in range(parts):
                self._part_ties(window_minutes, min_weight, draw, part, parts, weights=edges, sampled=sample is not None)
                for trace, n in con.execute("SELECT trace, count(*) FROM trace_part_ties GROUP BY ALL").fetchall():
                    pairs[trace] = pairs.get(trace, 0) + n
                if edges:
                    con.execute("INSERT INTO trace_ties SELECT * FROM trace_part_ties")
                elif sample is not None:  # a pair's other end was not drawn: counting it would favour the tied
                    con.execute("INSERT INTO trace_tied SELECT DISTINCT trace, user_1 FROM trace_part_ties")
                else:  # only the tied accounts are kept: a window's pairs can outgrow the disk
                    con.execute("""INSERT INTO trace_tied SELECT trace, user_1 FROM trace_part_ties
                        UNION SELECT trace, user_2 FROM trace_part_ties""")
            if edges:
                con.execute("INSERT INTO trace_tied SELECT trace, user_1 FROM trace_ties UNION SELECT trace, user_2 "
                            "FROM trace_ties")
            accounts = con.execute("SELECT trace, count(DISTINCT uid) FROM trace_tied GROUP BY ROLLUP (trace)").fetchall()
        except duckdb.OutOfMemoryException as error:
            raise TractionError(f"the {window_minutes}-minute window's pairs (draw {draw}) outgrew DuckDB's memory and "
                                f"spill limits: {str(error).splitlines()[0]}") from error
        finally:
            if shifts is not None:
                con.unregister("trace_shifts")
        pairs[None] = sum(pairs.values())
        counts = {TRACES[trace] if trace is not None else "any": (int(n), int(pairs[trace])) for trace, n in accounts}
        found = con.execute("SELECT * FROM trace_ties ORDER BY trace, user_1, user_2").df() if edges else None
        capped = con.execute("SELECT trace, groups, rows FROM trace_crowded ORDER BY trace, item").df()
        for frame in (found, capped) if edges else (capped,):
            frame["trace"] = pd.Categorical.from_codes(frame["trace"].astype(int), TRACES) if len(frame) \
                else pd.Categorical([], TRACES)
        return PairCount(found, capped, counts, None if sample is None else int(len(np.unique(sample))))

    def _parts(self, window_minutes, rows_per_part, *, sampled=False, table="trace_kept") -> int:
        """Parts to count ``trace_kept``'s pairs in, each within ``rows_per_part`` joined rows: the pairs of rows that
        share an item and a bucket or adjacent buckets (an upper bound of the rows ``_part_ties`` meets); ``sampled``:
        the rows of sampled accounts against every row of their bucket and the two beside it."""
        if sampled:
            joined = self._con.execute("""WITH cells AS (SELECT trace, item, bucket, count(*) AS n,
                    count(*) FILTER (uid IN (SELECT uid FROM trace_sample)) AS s FROM trace_kept GROUP BY ALL)
                SELECT coalesce(sum(a.s * (a.n + coalesce(b.n, 0) + coalesce(c.n, 0))), 0)::HUGEINT FROM cells a
                LEFT JOIN cells b ON a.trace = b.trace AND a.item = b.item AND b.bucket = a.bucket + 1
                LEFT JOIN cells c ON a.trace = c.trace AND a.item = c.item AND c.bucket = a.bucket - 1
                WHERE a.s > 0""").fetchall()[0][0]
        else:
            joined = self._con.execute(f"""WITH cells AS (SELECT trace, item, bucket, count(*) AS n FROM {table}
                    GROUP BY ALL)
                SELECT coalesce(sum(a.n * (a.n + coalesce(b.n, 0))), 0)::HUGEINT FROM cells a
                LEFT JOIN cells b ON a.trace = b.trace AND a.item = b.item AND b.bucket = a.bucket + 1""").fetchall()[0][0]
        return max(1, -(-int(joined) // int(rows_per_part)))

    def _part_ties(self, window_minutes, min_weight, draw, part, parts, *, weights=True, sampled=False):
        """``trace_part_ties``: the tied pairs of ``trace_kept`` whose smaller account is in ``part`` of ``parts``
        (uid modulo ``parts``), with their weights (distinct items). A pair of rows sharing an item within the window
        is met once, from the row of the smaller account, against the rows of its own bucket and the two beside it.

        ``sampled``: the pairs whose first account is a sampled one in ``part``, against every other account (each
        such pair met from the sampled end). Without ``weights`` a pair is only known tied (weight 0): two distinct
        items are a smallest and a largest that differ, one aggregate with no distinct rows to hold."""
        first = (f"uid % {int(parts)} = {int(part)} AND uid IN (SELECT uid FROM trace_sample)" if sampled
                 else f"part = {int(part)}" if parts > 1 else "true")
        # The part's rows, copied to the three buckets, are a table of their own: DuckDB then knows them for the
        # smaller side and builds its hash table on them (as a subquery, a sampled part's join ran out of memory).
        self._con.execute("CREATE OR REPLACE TEMP TABLE trace_part_rows AS "
                          + _in_three_buckets("trace_kept", "uid, trace, item, minute", first))
        met = f"""SELECT a.trace, a.uid AS user_1, b.uid AS user_2, a.item
                FROM trace_part_rows a JOIN trace_kept b ON a.trace = b.trace AND a.item = b.item AND a.joined = b.bucket
                WHERE a.uid {"<>" if sampled else "<"} b.uid AND abs(a.minute - b.minute) <= {int(window_minutes)}"""
        if weights:
            ties = f"""WITH pairs AS (SELECT DISTINCT * FROM ({met}))
                SELECT {int(draw)}::SMALLINT AS draw, trace, user_1, user_2, count(*)::INTEGER AS weight FROM pairs
                GROUP BY ALL HAVING count(*) >= {int(min_weight)}"""
        else:
            enough = "min(item) <> max(item)" if min_weight == 2 else f"count(DISTINCT item) >= {int(min_weight)}"
            ties = f"""SELECT {int(draw)}::SMALLINT AS draw, trace, user_1, user_2, 0 AS weight FROM ({met})
                GROUP BY ALL HAVING {enough}"""
        self._con.execute(f"CREATE OR REPLACE TEMP TABLE trace_part_ties AS {ties}")

    # ---- the evidence behind the observed ties ----------------------------------------------------------------

    def shared_items(self, ties: pd.DataFrame, window_minutes: int, *, max_rows: int,
                     rows_per_part: int = EVIDENCE_ROWS_PER_PART) -> int:
        """Build ``tie_items``: for each tie of ``ties`` (user_1, user_2 userids and trace, as ``pairs`` found them at
        this window and ``max_rows``), every item the pair shared within the window, once (its closest two rows).

        Only the tied accounts' rows are read again; rows are met as ``pairs`` meets them (same buckets, same
        crowded items left out, in parts of at most ``rows_per_part`` joined rows), so a tie's items number its
        weight. Returns the table's rows. ``tie_item_batches``,
        ``group_items`` and ``hashed`` read it.
        """
        self._build()
        self._crowd(window_minutes, max_rows)
        con, width = self._con, _bucket_minutes(window_minutes)
        con.register("tie_pairs_frame", pd.DataFrame({
            "trace": pd.Categorical(ties["trace"], TRACES).codes.astype("uint8"),
            "user_1": self._uids(ties["user_1"]), "user_2": self._uids(ties["user_2"])}))
        try:
            con.execute("CREATE OR REPLACE TEMP TABLE tie_pairs AS SELECT * FROM tie_pairs_frame")
            con.execute(f"""CREATE OR REPLACE TEMP TABLE tie_rows AS SELECT *, minute // {width} AS bucket FROM ({_rows_union(
                    "uid, minute, tweetid, tweet_time, shown, item", counted=False)}) r
                SEMI JOIN (SELECT user_1 AS uid FROM tie_pairs UNION SELECT user_2 FROM tie_pairs) USING (uid)
                ANTI JOIN trace_crowded USING (trace, item)""")
            # An item's shown form is one per item (the item is its hash): kept apart, so the rows every part reads
            # are narrow, and joined once at the end.
            con.execute("CREATE OR REPLACE TEMP TABLE tie_shown AS SELECT trace, item, any_value(shown) AS shown "
                        "FROM tie_rows GROUP BY ALL")
            con.execute("ALTER TABLE tie_rows DROP COLUMN shown")
            # In parts, as ``pairs`` counts them: a tie belongs to its smaller account's part, so each (tie, item)'s
            # closest rows are chosen within one part. Only the tied pairs' meetings are kept (the rest stream past
            # the semi join), so a part holds its rows' hash table, not its meetings: parts can be larger than pairs'.
            parts = self._parts(window_minutes, rows_per_part, table="tie_rows")
            for part in range(parts):
                con.execute("CREATE OR REPLACE TEMP TABLE tie_part_rows AS " + _in_three_buckets(
                    "tie_rows", "uid, trace, item, minute, tweetid, tweet_time", f"uid % {parts} = {part}"))
                into = "CREATE OR REPLACE TEMP TABLE tie_met AS" if part == 0 else "INSERT INTO tie_met"
                con.execute(f"""{into} SELECT trace, item, user_1, user_2, tweetid_1, tweet_time_1, tweetid_2,
                    tweet_time_2 FROM (SELECT a.trace, a.item, a.uid AS user_1, b.uid AS user_2, a.tweetid AS tweetid_1,
                        a.tweet_time AS tweet_time_1, b.tweetid AS tweetid_2, b.tweet_time AS tweet_time_2,
                        abs(a.minute - b.minute) AS apart
                    FROM tie_part_rows a JOIN tie_rows b ON a.trace = b.trace AND a.item = b.item AND a.joined = b.bucket
                    WHERE a.uid < b.uid AND abs(a.minute - b.minute) <= {int(window_minutes)})
                    SEMI JOIN tie_pairs USING (trace, user_1, user_2)
                    QUALIFY row_number() OVER (PARTITION BY trace, user_1, user_2, item
                                               ORDER BY apart, tweet_time_1, tweet_time_2, tweetid_1, tweetid_2) = 1""")
            con.execute("""CREATE OR REPLACE TEMP TABLE tie_items AS SELECT m.trace, m.item, s.shown, m.user_1, m.user_2,
                m.tweetid_1, m.tweet_time_1, m.tweetid_2, m.tweet_time_2 FROM tie_met m JOIN tie_shown s USING (trace, item)""")
            for table in ("tie_met", "tie_part_rows", "tie_rows", "tie_shown"):
                con.execute(f"DROP TABLE {table}")
        except duckdb.OutOfMemoryException as error:
            raise TractionError(f"the items behind the {window_minutes}-minute window's ties outgrew DuckDB's memory "
                                f"and spill limits: {str(error).splitlines()[0]}") from error
        finally:
            con.unregister("tie_pairs_frame")
        return int(con.execute("SELECT count(*) FROM tie_items").fetchall()[0][0])

    def tie_item_batches(self, per_tie: int = ITEMS_PER_TIE, batch_rows: int = 100_000):
        """The items behind each tie (``shared_items`` first): its first ``per_tie`` by time, with both accounts'
        tweets (ids, times, texts cut to ``TEXT_CHARS``) and the tie's whole count, ordered by user_1, user_2, trace,
        rank, as a ``pyarrow.RecordBatchReader`` (streamed: memory stays bounded at any size)."""
        names = "[" + ", ".join(f"'{name}'" for name in TRACES) + "]"
        # Each join is a step of its own, so one hash table at a time holds DuckDB's memory (and can spill): as one
        # query, the ranked items met both ends' texts and every account's userid at once, and ran out of memory at
        # 3.5M tweets (217,226 ties) and again at 37M (3.2M ties, 4.3M texts).
        con = self._con
        con.execute(f"""CREATE OR REPLACE TEMP TABLE tie_ranked AS SELECT *, count(*) OVER tie AS items_in_tie,
                row_number() OVER (tie ORDER BY least(tweet_time_1, tweet_time_2), shown, item) AS rank
            FROM tie_items WINDOW tie AS (PARTITION BY trace, user_1, user_2) QUALIFY rank <= {int(per_tie)}""")
        con.execute("CREATE OR REPLACE TEMP TABLE tie_texts AS "
                    + _texts("SELECT tweetid_1 AS tweetid FROM tie_ranked UNION SELECT tweetid_2 FROM tie_ranked"))
        for end in (1, 2):
            con.execute(f"""CREATE OR REPLACE TEMP TABLE tie_ranked AS SELECT r.*, t.text AS text_{end} FROM tie_ranked r
                LEFT JOIN tie_texts t ON t.tweetid = r.tweetid_{end}""")
        con.execute("DROP TABLE tie_texts")
        con.execute("""CREATE OR REPLACE TEMP TABLE tie_named AS SELECT uid, userid FROM trace_accounts
            SEMI JOIN (SELECT user_1 AS uid FROM tie_ranked UNION SELECT user_2 FROM tie_ranked) USING (uid)""")
        # uids number the userids in order (_build), so the sort is on integers.
        return con.sql(f"""
            SELECT a.userid AS user_1, b.userid AS user_2, {names}[r.trace + 1] AS trace, r.rank::INTEGER AS rank,
                r.items_in_tie::INTEGER AS items_in_tie, left(r.shown, {TEXT_CHARS}) AS item,
                r.tweetid_1, r.tweet_time_1, r.text_1, r.tweetid_2, r.tweet_time_2, r.text_2
            FROM tie_ranked r JOIN tie_named a ON a.uid = r.user_1 JOIN tie_named b ON b.uid = r.user_2
            ORDER BY r.user_1, r.user_2, r.trace, r.rank""").to_arrow_reader(batch_rows)

    def group_items(self, groups: pd.DataFrame, per_group: int = ITEMS_PER_GROUP) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Per group of ``groups`` (userid, group; ``shared_items`` first): ``times`` (group, first_shared,
        last_shared over its ties' items) and ``items``, its ``per_group`` most shared items (group, rank, trace,
        item, accounts: tied accounts that shared it, ties: ties it is behind, example: the text of its first
        tweet, cut to ``TEXT_CHARS``)."""
        con = self._con
        con.register("group_list", groups[["userid", "group"]].astype({"userid": str, "group": "int64"}))
        names = "[" + ", ".join(f"'{name}'" for name in TRACES) + "]"
        try:
            con.execute("""CREATE OR REPLACE TEMP TABLE group_ties AS SELECT g."group", i.* FROM tie_items i
                JOIN trace_accounts a ON a.uid = i.user_1 JOIN group_list g ON g.userid = a.userid""")
            times = con.execute("""SELECT "group", min(least(tweet_time_1, tweet_time_2)) AS first_shared,
                max(greatest(tweet_time_1, tweet_time_2)) AS last_shared FROM group_ties GROUP BY ALL
                ORDER BY 1""").df()
            con.execute(f"""CREATE OR REPLACE TEMP TABLE group_ranked AS
                WITH ends AS (SELECT "group", trace, item, user_1 AS uid, tweet_time_1 AS tweet_time, tweetid_1 AS tweetid
                              FROM group_ties UNION ALL
                              SELECT "group", trace, item, user_2, tweet_time_2, tweetid_2 FROM group_ties),
                per_item AS (SELECT "group", trace, item, count(DISTINCT uid) AS accounts,
                        arg_min(tweetid, (tweet_time, tweetid)) AS first_tweet FROM ends GROUP BY ALL),
                ties AS (SELECT "group", trace, item, count(*) AS ties, min(shown) AS shown FROM group_ties GROUP BY ALL)
                SELECT p.*, t.ties, t.shown, row_number() OVER (PARTITION BY p."group"
                        ORDER BY p.accounts DESC, t.ties DESC, p.trace, t.shown, p.item) AS rank
                FROM per_item p JOIN ties t USING ("group", trace, item) QUALIFY rank <= {int(per_group)}""")
            # The examples' texts fetched as the ties' are (``_texts``); figures in docs/benchmarks.md.
            items = con.execute(f"""
                WITH examples AS ({_texts("SELECT first_tweet AS tweetid FROM group_ranked")})
                SELECT r."group", r.rank::INTEGER AS rank, {names}[r.trace + 1] AS trace,
                    left(r.shown, {TEXT_CHARS}) AS item, r.accounts::INTEGER AS accounts, r.ties::INTEGER AS ties,
                    e.text AS example
                FROM group_ranked r LEFT JOIN examples e ON e.tweetid = r.first_tweet
                ORDER BY r."group", r.rank""").df()
            for table in ("group_ranked", "group_ties"):
                con.execute(f"DROP TABLE {table}")
        finally:
            con.unregister("group_list")
        return times, items

    def hashed(self) -> pd.DataFrame:
        """userid and hashed (whether the archive hashed its id; None where the table does not say) of every
        account in a tie of ``shared_items``."""
        flag = "userid_hashed" if "userid_hashed" in frames.column_names(self._con, "acc") else "NULL::BOOLEAN"
        return self._con.execute(f"""SELECT a.userid, h.hashed FROM trace_accounts a
            LEFT JOIN (SELECT userid, {flag} AS hashed FROM acc) h USING (userid)
            WHERE a.uid IN (SELECT user_1 FROM tie_items UNION SELECT user_2 FROM tie_items)
            ORDER BY a.userid""").df()
