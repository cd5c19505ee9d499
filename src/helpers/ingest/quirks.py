"""Typing one archive CSV file in DuckDB: the quirks as SQL, the date order, the staging passes.

DuckDB parses each file (all VARCHAR, so ids stay strings) and one SELECT types
it: every quirk is a SQL expression (value, and the reason that rejects a row).
:func:`stage_file` leaves a view of the typed rows (``rows_<index>``) that the
caller COPYs once into the final Parquet. Before that, a checking pass (an
aggregate, nothing written) counts the records DuckDB parsed and rejected and
collects the rejected records' lines and reasons and the date statistics; a big
tweets file whose records are one line each skips it and is checked by the count
of rows written instead. Either way the record count is checked against the byte
scan's (``archive_scan``), so a record DuckDB drops silently is an error, not a
lost row.
"""

from pathlib import Path

import duckdb

from helpers.ingest import scan
from helpers import schema
from helpers.errors import TractionError

# DuckDB strptime formats per declared/detected date order; times are optional.
DATE_FORMATS = {
    "ymd": ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d"],
    "mdy": ["%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y"],
    "dmy": ["%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y"],
}
DATE_ORDERS = ("auto", *DATE_FORMATS)
ISO_DATE = r"^\s*\d{4}-\d{1,2}-\d{1,2}"
SLASH_DATE = r"^\s*(\d{1,2})/(\d{1,2})/\d{4}"
INTEGER = r"^\s*[+-]?\d+\s*$"
# What a spreadsheet makes of a 19-digit id: 1.01421E+18 (digits lost for good).
SCIENTIFIC_ID = r"^\s*\d+(\.\d+)?[eE][+-]?\d+\s*$"


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def blank(col: str) -> str:
    return f"({col} IS NULL OR trim({col}) = '')"


def typed(name: str) -> str:
    """The inner SELECT's name for a column's typed value: reasons test it instead of parsing again."""
    return q(f"__typed_{name}")


def as_integer(name: str) -> tuple[str, str]:
    """Empty -> NULL (unknown, not 0); digits -> BIGINT; anything else rejects."""
    col = q(name)
    value = f"CASE WHEN NOT {blank(col)} THEN TRY_CAST(trim({col}) AS BIGINT) END"
    bad = f"NOT {blank(col)} AND NOT coalesce(regexp_full_match({col}, {lit(INTEGER)}), false)"
    return value, _reason(bad, f"{name} is not an integer")


def as_boolean(name: str) -> tuple[str, str]:
    col = q(name)
    value = f"CASE lower(trim({col})) WHEN 'true' THEN true WHEN 'false' THEN false END"
    bad = f"NOT {blank(col)} AND {typed(name)} IS NULL"
    return value, _reason(bad, f"{name} is not True/False")


def as_coordinate(name: str) -> tuple[str, str]:
    """'absent' and 'present' (withheld) carry no number: NULL."""
    col = q(name)
    word = f"lower(trim({col})) IN ('absent', 'present')"
    value = f"CASE WHEN NOT {blank(col)} AND NOT {word} THEN TRY_CAST(trim({col}) AS DOUBLE) END"
    bad = f"NOT {blank(col)} AND NOT {word} AND {typed(name)} IS NULL"
    return value, _reason(bad, f"{name} is not a number, 'absent' or 'present'")


def as_time(name: str, order: str, sql_type: str) -> tuple[str, str]:
    col = q(name)
    formats = "[" + ", ".join(lit(f) for f in DATE_FORMATS[order]) + "]"
    # the archive's own format first, untrimmed (cheap); the full list only where that fails
    usual = lit(DATE_FORMATS[order][1 if sql_type == "TIMESTAMP" else -1])
    parsed = f"coalesce(try_strptime({col}, {usual}), try_strptime(trim({col}), {formats}))"
    value = f"CASE WHEN NOT {blank(col)} THEN CAST({parsed} AS {sql_type}) END"
    shown = {"ymd": "YYYY-MM-DD", "mdy": "m/d/yyyy", "dmy": "d/m/yyyy"}[order]
    return value, _reason(f"NOT {blank(col)} AND {typed(name)} IS NULL", f"{name} is not a {shown} date")


def list_inner(name: str) -> str:
    """What is between a list's brackets, trimmed; computed once per row (as_list tests it often)."""
    col = q(name)
    return f"""CASE WHEN {col} = '[]' THEN ''
        WHEN starts_with({col}, '[') AND ends_with({col}, ']') THEN trim({col}[2:-2])
        ELSE trim(substr(trim({col}), 2, length(trim({col})) - 2)) END"""  # the same, for spaced values


def as_list(name: str) -> tuple[str, str]:
    """``[a, b]`` (not JSON) -> VARCHAR[]; items may be quoted ('a' or "a"); ``[]`` -> [].

    Unquoted items are split at commas and trimmed of spaces (as ``trim`` would). Reads the
    column ``__inner_<name>`` (:func:`list_inner`), computed in an earlier SELECT.
    """
    col, inner = q(name), q(f"__inner_{name}")
    value = f"""CASE
        WHEN {blank(col)} THEN NULL
        WHEN {inner} = '' THEN []::VARCHAR[]
        WHEN starts_with({inner}, '''') THEN regexp_extract_all({inner}, '''([^'']*)''', 1)
        WHEN starts_with({inner}, '"') THEN regexp_extract_all({inner}, '"([^"]*)"', 1)
        ELSE regexp_split_to_array({inner}, ' *, *') END"""
    bad = f"NOT {blank(col)} AND NOT (starts_with(trim({col}), '[') AND ends_with(trim({col}), ']'))"
    return value, _reason(bad, f"{name} is not a [a, b] list")


def required(name: str) -> tuple[str, str]:
    return _reason(blank(q(name)), f"{name} is empty")


def damaged(name: str) -> str:
    return f"coalesce(regexp_full_match({q(name)}, {lit(SCIENTIFIC_ID)}), false)"


def _reason(condition: str, text: str) -> tuple[str, str]:
    """A rejecting condition and its reason's SQL text."""
    return condition, lit(text)


# ---- date order: decided per file from all its values ----------------------


def date_stats_sql(columns: list[str]) -> str:
    """Aggregates over a file's date columns that decide its date order."""
    parts = []
    for name in columns:
        col = q(name)
        parts += [
            f"count(*) FILTER (regexp_matches({col}, {lit(ISO_DATE)}))",
            f"count(*) FILTER (regexp_matches({col}, {lit(SLASH_DATE)}))",
            f"max(TRY_CAST(regexp_extract({col}, {lit(SLASH_DATE)}, 1) AS INTEGER))",
            f"max(TRY_CAST(regexp_extract({col}, {lit(SLASH_DATE)}, 2) AS INTEGER))",
        ]
    return ", ".join(parts) or "NULL"


def decide_date_order(stats: list, declared: str, label: str) -> str:
    """'ymd', 'mdy' or 'dmy' for a whole file: declared, or read from all its values."""
    if declared != "auto":
        return declared
    iso = slash = first_max = second_max = 0
    for i in range(0, len(stats), 4):
        iso += stats[i] or 0
        slash += stats[i + 1] or 0
        first_max = max(first_max, stats[i + 2] or 0)
        second_max = max(second_max, stats[i + 3] or 0)
    if slash <= iso:
        return "ymd"  # rows in another format are rejected, never re-read one by one
    if first_max > 12 and second_max > 12:
        raise TractionError(
            f"{label}: slash dates with both parts above 12; this is not one date order"
        )
    if first_max > 12:
        return "dmy"
    if second_max > 12:
        return "mdy"
    raise TractionError(
        f"{label}: dates like 1/2/2019 could be month/day or day/month (no part above 12 in "
        "the whole file); declare date_order='mdy' or 'dmy'"
    )


# ---- staging one file: byte scan, one aggregate pass, a view of the typed rows ----

KIND_COLUMNS = {"users": schema.USER_COLUMNS, "tweets": schema.TWEET_COLUMNS,
                "account_table": list(schema.ACCOUNT_TABLE_COLUMNS)}
REQUIRED = {"users": schema.USER_COLUMNS,
            "tweets": [c for c in schema.TWEET_COLUMNS if c not in schema.OPTIONAL_TWEET_COLUMNS],
            "account_table": ["userid", "follower_count"]}
ID_COLUMNS = ["tweetid", "userid", "in_reply_to_userid", "in_reply_to_tweetid", "quoted_tweet_tweetid",
              "retweet_userid", "retweet_tweetid"]
USER_TYPED = {"follower_count": as_integer, "following_count": as_integer}
TWEET_TYPED = {"is_retweet": as_boolean, "latitude": as_coordinate, "longitude": as_coordinate,
               "quote_count": as_integer, "reply_count": as_integer, "like_count": as_integer,
               "retweet_count": as_integer, "hashtags": as_list, "urls": as_list, "user_mentions": as_list,
               "poll_choices": as_list}


def match_columns(kind: str, header: list[str], label: str, column_map: dict | None = None) -> dict:
    """{our column: the file's column index}, matched by header name, in any order."""
    wanted = {c: (column_map or {}).get(c, c) for c in KIND_COLUMNS[kind]}
    position = {}
    for index, name in enumerate(header):
        if name.lower() in position:
            raise TractionError(f"{label}: column {name!r} appears twice in the header")
        position.setdefault(name.lower(), index)
    for ours, theirs in wanted.items():
        if ours in REQUIRED[kind] and theirs.lower() not in position:
            mapped = f" (mapped to {theirs!r})" if theirs != ours else ""
            raise TractionError(f"{label}: missing required column {ours!r}{mapped}; "
                                f"columns present: {', '.join(header)}")
    return {ours: position[theirs.lower()] for ours, theirs in wanted.items() if theirs.lower() in position}



def typed_select(kind: str, present: set, order: str) -> tuple[list[str], list[str], list[str], list[str]]:
    """How to type a file's VARCHAR columns: (items computed first (lists' contents), inner items
    computing each typed value once, outer items naming the output columns, reasons that reject a row)."""
    pre, inner, outer, reasons = [], [], [], []

    def add(name, converter=None, *args):
        if name not in present:
            outer.append(f"NULL AS {q(name)}")
        elif converter is None:
            outer.append(q(name))
        else:
            value, reason = converter(name, *args)
            if converter is as_list:
                pre.append(f"{list_inner(name)} AS {q(f'__inner_{name}')}")
            inner.append(f"{value} AS {typed(name)}")
            outer.append(f"{typed(name)} AS {q(name)}")
            reasons.append(reason)

    if kind == "account_table":
        for name in schema.ACCOUNT_TABLE_COLUMNS:
            add(name, None if name == "userid" else as_integer)
        reasons.append(required("userid"))
        outer.append(f"{damaged('userid')} AS id_damaged")
        return pre, inner, outer, reasons
    for name in schema.USER_COLUMNS:
        if name == "account_creation_date":
            add(name, as_time, order, "DATE")
        else:
            add(name, USER_TYPED.get(name))
    reasons.append(required("userid"))
    if kind == "users":
        outer.append(f"{damaged('userid')} AS id_damaged")
        return pre, inner, outer, reasons
    for name in schema.TWEETS_SCHEMA:
        if name in ("userid", "id_damaged", "source_file", "source_line"):
            continue
        if name == "tweet_time":
            add(name, as_time, order, "TIMESTAMP")
        else:
            add(name, TWEET_TYPED.get(name))
    reasons += [required("tweetid"), required("tweet_time")]
    outer.append("(" + " OR ".join(damaged(c) for c in ID_COLUMNS) + ") AS id_damaged")
    withheld = [f"coalesce(lower(trim({q(c)})) = 'present', false)" for c in ("latitude", "longitude") if c in present]
    outer.append("(" + " OR ".join(withheld or ["false"]) + ") AS coordinates_present")
    return pre, inner, outer, reasons


class FileSQL:
    """The SQL reading one file: its CSV scan, its line numbers, its typed rows."""

    def __init__(self, index, kind, label, path, header, matched):
        self.index, self.kind, self.label, self.path, self.matched = index, kind, label, path, matched
        names = {i: f"_extra_{i}" for i in range(len(header))}
        names.update({i: ours for ours, i in matched.items()})
        self.names = [names[i] for i in range(len(header))]
        self.date_columns = [c for c in ("account_creation_date", "tweet_time") if c in matched]

    def csv(self, store_rejects: bool) -> str:
        """The file as VARCHAR rows; rejected records are skipped (and stored on the first read)."""
        columns = "{" + ", ".join(f"{lit(n)}: 'VARCHAR'" for n in self.names) + "}"
        rejects = (f"store_rejects=true, rejects_table='rejects_{self.index}', rejects_scan='scans_{self.index}'"
                   if store_rejects else "ignore_errors=true")
        return (f"(SELECT *, true AS __parsed FROM read_csv({lit(str(self.path))}, columns={columns}, header=true, "
                f"delim=',', quote='\"', escape='\"', auto_detect=false, strict_mode=true, {rejects}))")

    def rows(self, csv: str, lines: str | None, order: str) -> str:
        """Typed rows with their source line, reason (NULL: loaded) and checks, in file order.

        ``lines`` None: no line numbers (NULL) and each record taken as one line, so DuckDB
        reads in parallel (a POSITIONAL JOIN is read by one thread).
        """
        pre, inner, outer, reasons = typed_select(self.kind, set(self.matched), order)
        source = (f"{csv} POSITIONAL JOIN {lines}" if lines
                  else f"(SELECT *, NULL::BIGINT AS __line, 1 AS __n_lines FROM {csv})")
        newlines = " + ".join(f"CASE WHEN contains({q(n)}, chr(10)) THEN strlen({q(n)}) - "
                              f"strlen(replace({q(n)}, chr(10), '')) ELSE 0 END" for n in self.names)
        slash = " + ".join(f"(contains({q(c)}, '/') AND regexp_matches({q(c)}, {lit(SLASH_DATE)}))::INTEGER"
                           for c in self.date_columns) or "0"
        reason = "NULLIF(concat_ws('; ', " + ", ".join(f"CASE WHEN {c} THEN {t} END" for c, t in reasons) + "), '')"
        bad = " OR ".join(f"coalesce({c}, false)" for c, _ in reasons)
        # One line per record and no newline inside quotes: DuckDB's records end where the scan's do
        # (the counts agree), so a per-record check would only re-read every text column.
        misaligned = f"coalesce(__n_lines - 1 != {newlines}, true)" if lines else "false"
        return f"""SELECT {', '.join(outer)}, {self.index} AS file_index, {lit(self.label)} AS source_file,
                   __line AS source_line, {reason} AS reason, ({bad}) AS __bad,
                   {misaligned} AS misaligned, {slash} AS __slash_dates, __parsed
            FROM (SELECT *{''.join(', ' + i for i in inner)}
                  FROM (SELECT *{''.join(', ' + i for i in pre)} FROM {source}))"""


def _lines(records: int, map_path: Path | None) -> str:
    """Each record's start line: line k + 1 for record k, or from the record map."""
    if map_path is None:
        return f"(SELECT range AS __line, 1::BIGINT AS __n_lines FROM range(2, {records + 2}))"
    return f"(SELECT start_line AS __line, n_lines AS __n_lines FROM read_parquet({lit(str(map_path))}))"


def _aggregate(con, sql: FileSQL, csv: str, lines: str, order: str) -> dict:
    """One pass over the file without writing it: counts, checks, rejected lines and reasons."""
    withheld = "count(*) FILTER (NOT __bad AND coordinates_present)" if sql.kind == "tweets" else "0"
    rows = sql.rows(csv, lines, order)
    try:
        row = con.execute(f"""SELECT count(__parsed), count(source_line) FILTER (__parsed),
                count(*) FILTER (__parsed AND misaligned), {withheld}, coalesce(sum(__slash_dates), 0),
                count(*) FILTER (__parsed AND __bad)
            FROM ({rows})""").fetchall()[0]  # fetched fully: DuckDB then stores its rejects
        rejects = [] if not (row[5] and lines) else con.execute(
            f"SELECT source_line, reason FROM ({rows}) WHERE __parsed AND __bad ORDER BY source_line").fetchall()
    except duckdb.OutOfMemoryException as error:
        raise TractionError(f"{sql.label}: DuckDB ran out of memory ({str(error).splitlines()[0]}); "
                            "raise the memory limit") from None
    except duckdb.Error as error:
        raise TractionError(f"{sql.label}: not a well-formed CSV file (DuckDB: {str(error).splitlines()[0]})") from None
    return {"parsed": row[0], "lined": row[1], "misaligned": row[2], "withheld": row[3], "slash_dates": row[4],
            "bad": row[5], "rejects": rejects}


def _has_rejects(con, index: int) -> bool:
    """Did DuckDB reject records of file `index` (its rejects table exists once it read with store_rejects)?"""
    if not con.execute(f"SELECT count(*) FROM duckdb_tables() WHERE table_name = 'rejects_{index}'").fetchone()[0]:
        return False
    return con.execute(f"SELECT count(*) FROM rejects_{index}").fetchone()[0] > 0


def _structural(con, index: int, map_path: Path) -> list:
    """DuckDB's own rejects (rows it could not parse), placed by the record map.

    DuckDB numbers records as the map does (``duck_line``); its byte positions must fall in
    that record (its line position is sometimes one past the record's first byte)."""
    return con.execute(f"""
        SELECT m.start_line, 'csv: ' || lower(string_agg(DISTINCT r.error_type, ', ' ORDER BY r.error_type)),
               r.line, bool_and(r.line_byte_position BETWEEN m.start_byte AND m.end_byte + 1
                                AND r.byte_position BETWEEN m.start_byte AND m.end_byte + 1)
        FROM rejects_{index} r LEFT JOIN read_parquet({lit(str(map_path))}) m ON m.duck_line = r.line
        GROUP BY r.line, m.start_line ORDER BY r.line""").fetchall()


def stage_file(con, work: Path, index: int, kind: str, label: str, path: Path, date_order: str,
               column_map: dict | None = None, sha256: str | None = None, speculative: bool = False) -> dict:
    """Check and type one file; leaves the view ``rows_<index>`` and returns what the report needs.

    ``speculative`` (big tweets files): when record k is on line k + 1, skip the checking pass
    and mark the entry ``unchecked``; the caller writes the rows that pass every check and
    stages the file again, checked, unless exactly ``rows_read`` rows came through (then no
    row was rejected or dropped, and the date order was YYYY-MM-DD or as declared).
    """
    header = scan.read_header(path, label)
    sql = FileSQL(index, kind, label, path, header, match_columns(kind, header, label, column_map))
    found = scan.scan_file(path, label, sha256=sha256)
    if found.records == 0:
        raise TractionError(f"{label}: the file has a header but no data rows")
    if speculative and found.single_line:
        order = "ymd" if date_order == "auto" else date_order
        con.execute(f"CREATE OR REPLACE TEMP VIEW rows_{index} AS "
                    f"{sql.rows(sql.csv(store_rejects=False), _lines(found.records, None), order)}")
        withheld = f"SELECT count(*) FILTER (coordinates_present) FROM ({sql.rows(sql.csv(False), None, order)})"
        return _entry(sql, found, header, order, withheld=withheld, rejects=[], unchecked=True)
    map_path = None
    if not found.single_line:  # records span lines (or blank lines): line numbers need the record map
        map_path = scan.scan_file(path, label, work / f"map_{index}.parquet", found.sha256).map_path
    order = "ymd" if date_order == "auto" else date_order  # 'auto': ymd unless the file has slash dates
    lines, csv = _lines(found.records, map_path), sql.csv(store_rejects=False)
    joined = map_path is not None  # one line per record: the first pass needs no line numbers
    counts = _aggregate(con, sql, sql.csv(store_rejects=True), lines if joined else None, order)
    structural = []
    if _has_rejects(con, index):  # rare: DuckDB rejected records, so record k is no longer row k
        if map_path is None:
            map_path = scan.scan_file(path, label, work / f"map_{index}.parquet", found.sha256).map_path
        structural = _structural(con, index, map_path)
        loaded_map = work / f"map_loaded_{index}.parquet"
        scan.filter_map(map_path, {row[2] for row in structural}, loaded_map)
        lines, joined = _lines(found.records, loaded_map), True
        counts = _aggregate(con, sql, csv, lines, order)
    if (found.unbalanced_quotes or any(row[0] is None or not row[3] for row in structural)
            or counts["parsed"] + len(structural) != found.records
            or (joined and counts["lined"] != counts["parsed"])):
        raise TractionError(f"{label}: not a well-formed CSV file: {counts['parsed']} records parsed + "
                            f"{len(structural)} rejected, but {found.records} records by its quotes and line ends "
                            "(an unbalanced quote character or mixed line endings?)")
    if counts["misaligned"]:
        raise TractionError(f"{label}: {counts['misaligned']} records did not line up with the file's lines")
    if date_order == "auto" and counts["slash_dates"]:  # decide from all values, as declared orders would
        stats = con.execute(f"SELECT {date_stats_sql(sql.date_columns)} FROM {csv}").fetchone()
        decided = decide_date_order(list(stats), date_order, label)
        if decided != order:
            order = decided
            counts = _aggregate(con, sql, csv, lines if joined else None, order)
    if counts["bad"] and not joined:  # the rejected rows' line numbers: a second, serial pass
        counts = _aggregate(con, sql, csv, lines, order)
    con.execute(f"CREATE OR REPLACE TEMP VIEW rows_{index} AS {sql.rows(csv, lines, order)}")
    return _entry(sql, found, header, order, withheld=counts["withheld"], unchecked=False,
                  rejects=[(line, reason) for line, reason, *_ in structural] + counts["rejects"])


def _entry(sql: FileSQL, found, header: list, order: str, **rest) -> dict:
    return {"path": sql.label, "kind": sql.kind, "sha256": found.sha256, "rows_read": found.records,
            "blank_lines": found.blank_lines, "date_order": order if sql.date_columns else None,
            "columns_ignored": [h for h, n in zip(header, sql.names) if n.startswith("_extra_")],
            "columns_missing": [c for c in KIND_COLUMNS[sql.kind] if c not in sql.matched],
            "view": f"rows_{sql.index}", "disk_path": str(sql.path), **rest}
