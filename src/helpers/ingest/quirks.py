"""Typing one archive CSV file in DuckDB: the quirks as SQL, the columns matched, the date order.

DuckDB parses each file (every column VARCHAR, so ids stay strings) and one SELECT
(:meth:`FileSQL.select`) types it: every quirk is a SQL expression for its value and
for the condition that rejects a row. The SELECT also says, per record, whether it is
rejected and why, and how many newlines its fields hold; ``stream`` turns that into
line numbers and writes the loaded and the rejected rows apart.

The usual spelling of each value is tested first with a cheap comparison; the full
check (a regular expression, a trim) runs only on the rows that fail it, so a clean
file pays little for the quirks it does not have.
"""

from helpers import schema
from helpers.errors import TractionError

# DuckDB strptime formats per declared/detected date order; times are optional.
DATE_FORMATS = {
    "ymd": ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d"],
    "mdy": ["%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y"],
    "dmy": ["%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y"],
}
DATE_ORDERS = ("auto", *DATE_FORMATS)
DATE_SHOWN = {"ymd": "YYYY-MM-DD", "mdy": "m/d/yyyy", "dmy": "d/m/yyyy"}
ISO_DATE = r"^\s*\d{4}-\d{1,2}-\d{1,2}"
SLASH_DATE = r"^\s*(\d{1,2})/(\d{1,2})/\d{4}"
INTEGER = r"^\s*[+-]?\d+\s*$"
UNSIGNED = r"^ *\d+ *$"  # spaces only: a carriage return or tab in an id is damage
# What a spreadsheet makes of a 19-digit id: 1.01421E+18 (digits lost for good).
SCIENTIFIC_ID = r"^\s*\d+(\.\d+)?[eE][+-]?\d+\s*$"
# Columns whose text may hold newlines in a well-formed file: the fast path counts only
# these (a newline elsewhere fails its line check and sends the file to the record map).
FREE_TEXT = ["tweet_text", "user_profile_description", "user_display_name", "user_reported_location",
             "user_screen_name", "tweet_client_name", "user_profile_url"]
BAD, REASON, NEWLINES, WITHHELD, KEY_HASH = "__bad", "__reason", "__newlines", "__withheld", "__key_hash"
KEY = {"users": "userid", "tweets": "tweetid", "account_table": "userid"}  # what identifies a row


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def blank(col: str) -> str:
    """NULL or only spaces. A CASE, because DuckDB evaluates every operand of AND/OR in a
    SELECT list; CASE evaluates a branch only for the rows that reach it (few start with a space)."""
    return f"(CASE WHEN {col} IS NULL OR {col} = '' THEN true WHEN starts_with({col}, ' ') THEN trim({col}) = '' ELSE false END)"


def typed(name: str) -> str:
    """The inner SELECT's name for a column's typed value: reasons test it instead of parsing again."""
    return q(f"__typed_{name}")


def as_integer(name: str) -> tuple[str, tuple[str, str]]:
    """Empty -> NULL (unknown, not 0); digits -> BIGINT; anything else rejects.

    DuckDB's cast also accepts 1.5, 1e3, 0x10 and 1_000, so a value passes only when it
    reads back as its own text (the usual case) or matches the integer pattern.
    """
    col, value = q(name), typed(name)
    bad = f"""CASE WHEN {value} IS NULL THEN NOT {blank(col)} WHEN CAST({value} AS VARCHAR) = {col} THEN false
        ELSE NOT coalesce(regexp_full_match({col}, {lit(INTEGER)}), false) END"""
    return f"TRY_CAST({col} AS BIGINT)", _reason(bad, f"{name} is not an integer")


def as_boolean(name: str) -> tuple[str, tuple[str, str]]:
    col = q(name)
    value = f"""CASE {col} WHEN 'False' THEN false WHEN 'True' THEN true
        ELSE CASE lower(trim({col})) WHEN 'true' THEN true WHEN 'false' THEN false END END"""
    bad = f"CASE WHEN {typed(name)} IS NOT NULL THEN false ELSE NOT {blank(col)} END"
    return value, _reason(bad, f"{name} is not True/False")


def _coordinate_word(col: str) -> str:
    return f"({col} = 'absent' OR {col} = 'present' OR lower(trim({col})) IN ('absent', 'present'))"


def as_coordinate(name: str) -> tuple[str, tuple[str, str]]:
    """'absent' and 'present' (withheld) carry no number: NULL."""
    col = q(name)
    value = f"CASE WHEN NOT {_coordinate_word(col)} THEN TRY_CAST(trim({col}) AS DOUBLE) END"
    bad = f"""CASE WHEN {typed(name)} IS NOT NULL OR {col} = 'absent' OR {col} = 'present' THEN false
        ELSE NOT {_coordinate_word(col)} AND NOT {blank(col)} END"""
    return value, _reason(bad, f"{name} is not a number, 'absent' or 'present'")


def withheld(name: str) -> str:
    """The archive writes 'present' where it withholds a coordinate."""
    col = q(name)
    return f"CASE {col} WHEN 'absent' THEN false WHEN 'present' THEN true ELSE coalesce(lower(trim({col})) = 'present', false) END"


def as_time(name: str, order: str, sql_type: str) -> tuple[str, tuple[str, str]]:
    col = q(name)
    formats = "[" + ", ".join(lit(f) for f in DATE_FORMATS[order]) + "]"
    # the archive's own format first, untrimmed (cheap); the full list only where that fails
    usual = lit(DATE_FORMATS[order][1 if sql_type == "TIMESTAMP" else -1])
    parsed = f"coalesce(try_strptime({col}, {usual}), try_strptime(trim({col}), {formats}))"
    value = f"CASE WHEN NOT {blank(col)} THEN CAST({parsed} AS {sql_type}) END"
    return value, _reason(f"CASE WHEN {typed(name)} IS NOT NULL THEN false ELSE NOT {blank(col)} END",
                          date_reason(name, order))


def date_reason(name: str, order: str) -> str:
    return f"{name} is not a {DATE_SHOWN[order]} date"


def list_inner(name: str) -> str:
    """What is between a list's brackets, trimmed; computed once per row (as_list tests it often)."""
    col = q(name)
    inner = f"substr({col}, 2, length({col}) - 2)"  # cheaper than a slice; brackets are one character
    return f"""CASE WHEN {col} = '[]' THEN ''
        WHEN starts_with({col}, '[') AND ends_with({col}, ']') THEN
            CASE WHEN starts_with({col}, '[ ') OR ends_with({col}, ' ]') THEN trim({inner}) ELSE {inner} END
        ELSE trim(substr(trim({col}), 2, length(trim({col})) - 2)) END"""  # the same, for spaced values


def as_list(name: str) -> tuple[str, tuple[str, str]]:
    """``[a, b]`` (not JSON) -> VARCHAR[]; items may be quoted ('a' or "a"); ``[]`` -> [].

    Unquoted items are split at commas and trimmed of spaces (as ``trim`` would). Reads the
    column ``__inner_<name>`` (:func:`list_inner`), computed in an earlier SELECT.
    """
    col, inner = q(name), q(f"__inner_{name}")
    value = f"""CASE
        WHEN {col} = '[]' THEN []::VARCHAR[]
        WHEN {blank(col)} THEN NULL
        WHEN {inner} = '' THEN []::VARCHAR[]
        WHEN starts_with({inner}, '''') THEN regexp_extract_all({inner}, '''([^'']*)''', 1)
        WHEN starts_with({inner}, '"') THEN regexp_extract_all({inner}, '"([^"]*)"', 1)
        WHEN NOT contains({inner}, ',') THEN [{inner}]
        ELSE regexp_split_to_array({inner}, ' *, *') END"""
    bad = f"""CASE WHEN starts_with({col}, '[') AND ends_with({col}, ']') THEN false
        ELSE NOT {blank(col)} AND NOT (starts_with(trim({col}), '[') AND ends_with(trim({col}), ']')) END"""
    return value, _reason(bad, f"{name} is not a [a, b] list")


def required(name: str) -> tuple[str, str]:
    return _reason(blank(q(name)), f"{name} is empty")


def damaged(name: str) -> str:
    """The id was rounded to scientific notation (only values with an e are tested by pattern)."""
    col = q(name)
    return (f"CASE WHEN contains({col}, 'E') OR contains({col}, 'e') "
            f"THEN coalesce(regexp_full_match({col}, {lit(SCIENTIFIC_ID)}), false) ELSE false END")


def digits(name: str) -> tuple[str, str]:
    """The archive's tweet ids are digit strings (or a spreadsheet's rounding of one, flagged as
    damaged): anything else (a stray byte order mark, quotes, a carriage return) rejects the row.
    ``ltrim`` of the digits is the cheap test; the pattern runs only on the rest."""
    col = q(name)
    bad = f"""CASE WHEN ltrim({col}, '0123456789') = '' OR {blank(col)} THEN false
        ELSE NOT coalesce(regexp_full_match({col}, {lit(UNSIGNED)}), false) AND NOT {damaged(name)} END"""
    return _reason(bad, f"{name} is not a number")


def stray_bytes(names: list[str]) -> list[tuple[str, str]]:
    """Reasons for a file holding NUL bytes or a byte order mark past its start (found by the byte
    scan, so a clean file pays nothing): a NUL in any field, a mark opening the record's first field
    (a file joined onto another after its header?). A mark inside a field is text and stays."""
    reasons = [_reason(f"contains({q(n)}, chr(0))", f"NUL bytes in {n if not n.startswith('_extra_') else 'column ' + str(int(n[7:]) + 1)}")
               for n in names]
    if names:
        reasons.append(_reason(f"starts_with({q(names[0])}, chr(65279))",
                               "a byte order mark (U+FEFF) before the record's first field"))
    return reasons


def _reason(condition: str, text: str) -> tuple[str, str]:
    """A rejecting condition and its reason's text."""
    return condition, text


# ---- the file's columns -------------------------------------------------------

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
# What each kind's SELECT returns (the stream adds file_index, source_file and source_line).
OUTPUT = {
    "users": {**{c: schema.ACCOUNTS_SCHEMA[c] for c in schema.USER_COLUMNS}, "id_damaged": "BOOLEAN"},
    "tweets": {c: t for c, t in schema.TWEETS_SCHEMA.items() if c not in ("source_file", "source_line")},
    "account_table": {**schema.ACCOUNT_TABLE_COLUMNS, "id_damaged": "BOOLEAN"},
}


def match_columns(kind: str, header: list[str], label: str, column_map: dict | None = None) -> dict:
    """{our column: the file's column index}, matched by header name, in any order."""
    wanted = {c: (column_map or {}).get(c, c) for c in KIND_COLUMNS[kind]}
    position = {}
    for index, name in enumerate(header):
        if name.lower() in position:
            raise TractionError(f"{label}: column {name!r} appears twice in the header")
        position.setdefault(name.lower(), index)
    missing = [f"{ours!r}" + (f" (mapped to {theirs!r})" if theirs != ours else "")
               for ours, theirs in wanted.items() if ours in REQUIRED[kind] and theirs.lower() not in position]
    if missing:
        raise TractionError(f"{label}: missing required column{'s' if len(missing) > 1 else ''} "
                            f"{', '.join(missing)}; columns present: {', '.join(header)}")
    return {ours: position[theirs.lower()] for ours, theirs in wanted.items() if theirs.lower() in position}


def typed_select(kind: str, present: set, order: str, user_columns: bool = False):
    """How to type a file's VARCHAR columns.

    Returns (items computed first (lists' contents), inner items computing each typed value
    once, outer items naming the output columns (``OUTPUT[kind]``, then ``__withheld`` for
    tweets), reasons that reject a row as (condition, text)). ``user_columns``: a tweets
    file's SELECT also returns the account columns each tweet repeats (for accounts missing
    from the users file); they are checked either way.
    """
    pre, inner, reasons, items = [], [], [], {}

    def add(name, sql_type, converter=None, *args):
        if name not in present:
            items[name] = f"NULL::{sql_type} AS {q(name)}"
            return
        if converter is None:
            items[name] = f"CAST({q(name)} AS {sql_type}) AS {q(name)}"
            return
        value, reason = converter(name, *args)
        if converter is as_list:
            pre.append(f"{list_inner(name)} AS {q(f'__inner_{name}')}")
        inner.append(f"{value} AS {typed(name)}")
        items[name] = f"CAST({typed(name)} AS {sql_type}) AS {q(name)}"
        reasons.append(reason)
        if converter is as_integer:  # every integer column is a count
            reasons.append(_reason(f"{typed(name)} < 0", f"{name} is negative"))

    if kind == "account_table":
        for name, sql_type in schema.ACCOUNT_TABLE_COLUMNS.items():
            add(name, sql_type, None if name == "userid" else as_integer)
    else:
        for name in schema.USER_COLUMNS:
            converter = (as_time, order, "DATE") if name == "account_creation_date" else (USER_TYPED.get(name),)
            add(name, schema.ACCOUNTS_SCHEMA[name], *converter)
    reasons.append(required("userid"))
    if kind == "tweets":
        for name, sql_type in OUTPUT["tweets"].items():
            if name not in items and name != "id_damaged":
                add(name, sql_type, *((as_time, order, "TIMESTAMP") if name == "tweet_time"
                                      else (TWEET_TYPED.get(name),)))
        reasons += [required("tweetid"), required("tweet_time"), digits("tweetid")]
        items["id_damaged"] = "(" + " OR ".join(damaged(c) for c in ID_COLUMNS) + ") AS id_damaged"
        coordinates = [withheld(c) for c in ("latitude", "longitude") if c in present]
        items[WITHHELD] = "(" + " OR ".join(coordinates or ["false"]) + f") AS {WITHHELD}"
        names = [*OUTPUT["tweets"], WITHHELD] + [c for c in schema.USER_COLUMNS if user_columns and c != "userid"]
    else:
        items["id_damaged"] = f"{damaged('userid')} AS id_damaged"
        names = list(OUTPUT[kind])
    return pre, inner, [items[name] for name in names], reasons


class FileSQL:
    """The SQL reading one file: its CSV scan and its typed rows."""

    def __init__(self, index, kind, label, path, header, matched, stray: bool = False):
        self.index, self.kind, self.label, self.path, self.matched = index, kind, label, path, matched
        self.stray = stray  # the file holds NUL bytes or a byte order mark past its start: check every record
        self.header = header
        names = {i: f"_extra_{i}" for i in range(len(header))}
        names.update({i: ours for ours, i in matched.items()})
        self.names = [names[i] for i in range(len(header))]
        self.date_columns = [c for c in ("account_creation_date", "tweet_time") if c in matched]

    def csv(self, store_rejects: bool = False) -> str:
        """The file as VARCHAR rows; rejected records are skipped (and stored, when asked)."""
        columns = "{" + ", ".join(f"{lit(n)}: 'VARCHAR'" for n in self.names) + "}"
        rejects = (f"store_rejects=true, rejects_table='rejects_{self.index}', rejects_scan='scans_{self.index}'"
                   if store_rejects else "ignore_errors=true")
        return (f"read_csv({lit(str(self.path))}, columns={columns}, header=true, delim=',', quote='\"', "
                f"escape='\"', auto_detect=false, strict_mode=true, {rejects})")

    def select(self, order: str, *, all_newlines: bool = False, user_columns: bool = False) -> str:
        """Typed rows in file order, with ``__bad``, ``__reason`` (rejected rows only),
        ``__newlines`` (newlines inside the record's fields: free-text columns, or all) and
        ``__key_hash`` (a 64-bit hash of the row's id, to find repeated ids without a GROUP BY)."""
        pre, inner, outer, reasons = typed_select(self.kind, set(self.matched), order, user_columns)
        if self.stray:
            reasons = stray_bytes(self.names) + reasons
        counted = self.names if all_newlines else [n for n in self.names if n in FREE_TEXT]
        newlines = " + ".join(f"CASE WHEN contains({q(n)}, chr(10)) THEN strlen({q(n)}) - "
                              f"strlen(replace({q(n)}, chr(10), '')) ELSE 0 END" for n in counted) or "0"
        bad = " OR ".join(f"coalesce({condition}, false)" for condition, _ in reasons)
        reason = ("concat_ws('; ', " + ", ".join(f"CASE WHEN coalesce({condition}, false) THEN {lit(text)} END"
                                                  for condition, text in reasons) + ")")
        typed_rows = f"""SELECT *{''.join(', ' + i for i in inner)}
            FROM (SELECT *{''.join(', ' + i for i in pre)} FROM {self.csv()})"""
        return f"""SELECT {', '.join(outer)}, {BAD}, CASE WHEN {BAD} THEN {reason} END AS {REASON},
                   CAST({newlines} AS BIGINT) AS {NEWLINES}{'' if user_columns else f', hash({q(KEY[self.kind])}) AS {KEY_HASH}'}
            FROM (SELECT *, ({bad}) AS {BAD} FROM ({typed_rows}))"""

    def date_reasons(self, order: str) -> set:
        return {date_reason(c, order) for c in self.date_columns}


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


def date_stats(con, sql: FileSQL, limit: int | None = None) -> list:
    """The date statistics of the file (or of its first ``limit`` records)."""
    columns = ", ".join(q(c) for c in sql.date_columns) or "NULL"
    source = f"(SELECT {columns} FROM {sql.csv()}{f' LIMIT {int(limit)}' if limit else ''})"
    return list(con.execute(f"SELECT {date_stats_sql(sql.date_columns)} FROM {source}").fetchall()[0])


def fitting_order(stats: list) -> str:
    """Which order the file's dates fit, for an error message."""
    try:
        return decide_date_order(stats, "auto", "")
    except TractionError:
        iso = sum(stats[i] or 0 for i in range(0, len(stats), 4))
        first = max((stats[i + 2] or 0 for i in range(0, len(stats), 4)), default=0)
        second = max((stats[i + 3] or 0 for i in range(0, len(stats), 4)), default=0)
        if first > 12 and second > 12:
            return "none (day and month both exceed 12 in different rows)"
        return "mdy or dmy (no part above 12)" if not iso else "ymd"
