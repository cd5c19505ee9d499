"""Reading one archive CSV file: record boundaries, header, date order, typed SQL.

DuckDB parses the CSV (all VARCHAR, so ids stay strings) but cannot say on which
physical line a record starts when quoted fields hold newlines: its reject
``line`` counts records, not lines. So :func:`scan_file` walks the bytes once
(numpy, chunk by chunk) and writes a *record map*: for every record its
physical start line and byte range. DuckDB's output rows (in file order, ``WITH
ORDINALITY``) are then paired with the map by position, and rejects by
DuckDB's record number, which the map also carries (``duck_line``).
"""

import codecs
import csv
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from helpers import schema
from helpers.errors import TractionError

CHUNK = 1 << 22
NEWLINE, QUOTE, CR = 10, 34, 13
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
MAP_SCHEMA = pa.schema(
    [("duck_line", pa.int64()), ("start_line", pa.int64()), ("n_lines", pa.int64()),
     ("start_byte", pa.int64()), ("end_byte", pa.int64())]
)


@dataclass
class FileScan:
    """What one byte pass over a file found."""

    sha256: str
    records: int = 0  # data records, header and blank lines excluded
    blank_lines: int = 0
    map_path: Path | None = None
    stats: dict = field(default_factory=dict)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def read_header(path: Path, label: str) -> list[str]:
    """The header's column names (BOM and surrounding spaces stripped); reads only line 1."""
    with open(path, "rb") as raw:
        first = raw.readline(1 << 20)
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise TractionError(f"{label}: line 1: bytes that are not UTF-8 ({error.reason})") from None
    header = next(csv.reader([text]), None)
    if not header or not any(name.strip() for name in header):
        raise TractionError(f"{label}: the file is empty (no header line)")
    return [name.strip() for name in header]


def scan_file(path: Path, label: str, map_path: Path) -> FileScan:
    """Hash, check UTF-8 and write the record map of ``path`` in one pass.

    A newline ends a record when the count of quote characters before it is
    even (RFC 4180: an escaped quote is two quotes, so parity still holds).
    """
    digest, decoder = hashlib.sha256(), codecs.getincrementaldecoder("utf-8")()
    scan = FileScan(sha256="", map_path=map_path)
    offset = lines_before = quotes_before = 0
    prev_end, prev_line, prev_byte, segment = -1, 0, NEWLINE, 0  # segment: 0 is the header
    writer = pq.ParquetWriter(map_path, MAP_SCHEMA, compression="zstd")

    def emit(ends, end_lines, last_bytes):
        nonlocal prev_end, prev_line, segment
        starts = np.concatenate(([prev_end], ends[:-1])) + 1
        start_lines = np.concatenate(([prev_line], end_lines[:-1])) + 1
        stops = ends - (last_bytes == CR)  # raw text without the line ending
        duck_lines = np.arange(segment, segment + len(ends)) + 1
        data = (stops > starts) & (duck_lines > 1)
        scan.blank_lines += int(np.count_nonzero(stops[duck_lines > 1] == starts[duck_lines > 1]))
        scan.records += int(np.count_nonzero(data))
        batch = [duck_lines[data], start_lines[data], (end_lines - start_lines + 1)[data], starts[data], stops[data]]
        writer.write_batch(pa.record_batch([pa.array(c, pa.int64()) for c in batch], schema=MAP_SCHEMA))
        prev_end, prev_line, segment = int(ends[-1]), int(end_lines[-1]), segment + len(ends)

    with open(path, "rb") as handle, writer:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as error:
                line = lines_before + chunk.count(b"\n", 0, error.start) + 1
                raise TractionError(f"{label}: line {line}: bytes that are not UTF-8 ({error.reason})") from None
            array = np.frombuffer(chunk, np.uint8)
            newlines = np.flatnonzero(array == NEWLINE)
            quotes = np.flatnonzero(array == QUOTE)
            closing = (quotes_before + np.searchsorted(quotes, newlines)) % 2 == 0
            ends = newlines[closing]
            if len(ends):
                before = np.where(ends > 0, array[np.maximum(ends - 1, 0)], prev_byte)
                emit(ends + offset, np.flatnonzero(closing) + lines_before + 1, before)
            quotes_before += len(quotes)
            lines_before += len(newlines)
            offset += len(chunk)
            prev_byte = int(array[-1])
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as error:
            raise TractionError(f"{label}: line {lines_before + 1}: bytes that are not UTF-8 ({error.reason})") from None
        if offset > prev_end + 1:  # last record without a final newline
            emit(np.array([offset]), np.array([lines_before + 1]), np.array([NEWLINE]))
    scan.sha256 = digest.hexdigest()
    if offset == 0:
        raise TractionError(f"{label}: the file is empty")
    return scan


def read_raw(path: Path, ranges: list[tuple[int, int]]) -> list[str]:
    """The exact text of a few records, by byte range (only rejected rows come here)."""
    texts = []
    with open(path, "rb") as handle:
        for start, stop in ranges:
            handle.seek(start)
            texts.append(handle.read(stop - start).decode("utf-8", errors="replace"))
    return texts


# ---- typed conversion, one SQL expression per quirk -------------------------


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def blank(col: str) -> str:
    return f"({col} IS NULL OR trim({col}) = '')"


def as_integer(name: str) -> tuple[str, str]:
    """Empty -> NULL (unknown, not 0); digits -> BIGINT; anything else rejects."""
    col = q(name)
    value = f"CASE WHEN NOT {blank(col)} THEN TRY_CAST(trim({col}) AS BIGINT) END"
    bad = f"NOT {blank(col)} AND NOT coalesce(regexp_full_match({col}, {lit(INTEGER)}), false)"
    return value, _reason(bad, f"{name} is not an integer")


def as_boolean(name: str) -> tuple[str, str]:
    col = q(name)
    value = f"CASE lower(trim({col})) WHEN 'true' THEN true WHEN 'false' THEN false END"
    bad = f"NOT {blank(col)} AND lower(trim({col})) NOT IN ('true', 'false')"
    return value, _reason(bad, f"{name} is not True/False")


def as_coordinate(name: str) -> tuple[str, str]:
    """'absent' and 'present' (withheld) carry no number: NULL."""
    col = q(name)
    word = f"lower(trim({col})) IN ('absent', 'present')"
    value = f"CASE WHEN NOT {blank(col)} AND NOT {word} THEN TRY_CAST(trim({col}) AS DOUBLE) END"
    bad = f"NOT {blank(col)} AND NOT {word} AND TRY_CAST(trim({col}) AS DOUBLE) IS NULL"
    return value, _reason(bad, f"{name} is not a number, 'absent' or 'present'")


def as_time(name: str, order: str, sql_type: str) -> tuple[str, str]:
    col = q(name)
    formats = "[" + ", ".join(lit(f) for f in DATE_FORMATS[order]) + "]"
    parsed = f"try_strptime(trim({col}), {formats})"
    value = f"CASE WHEN NOT {blank(col)} THEN CAST({parsed} AS {sql_type}) END"
    shown = {"ymd": "YYYY-MM-DD", "mdy": "m/d/yyyy", "dmy": "d/m/yyyy"}[order]
    return value, _reason(f"NOT {blank(col)} AND {parsed} IS NULL", f"{name} is not a {shown} date")


def as_list(name: str) -> tuple[str, str]:
    """``[a, b]`` (not JSON) -> VARCHAR[]; items may be quoted ('a' or "a"); ``[]`` -> []."""
    col = q(name)
    inner = f"trim(substr(trim({col}), 2, length(trim({col})) - 2))"
    value = f"""CASE
        WHEN {blank(col)} THEN NULL
        WHEN {inner} = '' THEN []::VARCHAR[]
        WHEN starts_with({inner}, '''') THEN regexp_extract_all({inner}, '''([^'']*)''', 1)
        WHEN starts_with({inner}, '"') THEN regexp_extract_all({inner}, '"([^"]*)"', 1)
        ELSE list_transform(string_split({inner}, ','), lambda item: trim(item)) END"""
    bad = f"NOT {blank(col)} AND NOT (starts_with(trim({col}), '[') AND ends_with(trim({col}), ']'))"
    return value, _reason(bad, f"{name} is not a [a, b] list")


def required(name: str) -> str:
    return _reason(blank(q(name)), f"{name} is empty")


def damaged(name: str) -> str:
    return f"coalesce(regexp_full_match({q(name)}, {lit(SCIENTIFIC_ID)}), false)"


def _reason(condition: str, text: str) -> str:
    return f"CASE WHEN {condition} THEN {lit(text)} END"


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


# ---- staging one file: header, byte scan, two DuckDB passes -----------------

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


def typed_select(kind: str, present: set, order: str) -> tuple[list[str], list[str]]:
    """SELECT items typing a file's VARCHAR columns, and the reason expressions that reject a row."""
    items, reasons = [], []

    def add(name, converter=None, *args):
        if name not in present:
            items.append(f"NULL AS {q(name)}")
            return
        if converter is None:
            items.append(q(name))
            return
        value, reason = converter(name, *args)
        items.append(f"{value} AS {q(name)}")
        reasons.append(reason)

    if kind == "account_table":
        for name in schema.ACCOUNT_TABLE_COLUMNS:
            add(name, None if name == "userid" else as_integer)
        reasons.append(required("userid"))
        items.append(f"{damaged('userid')} AS id_damaged")
        return items, reasons
    for name in schema.USER_COLUMNS:
        if name == "account_creation_date":
            add(name, as_time, order, "DATE")
        else:
            add(name, USER_TYPED.get(name))
    reasons.append(required("userid"))
    if kind == "users":
        items.append(f"{damaged('userid')} AS id_damaged")
        return items, reasons
    for name in schema.TWEETS_SCHEMA:
        if name in ("userid", "id_damaged", "source_file", "source_line"):
            continue
        if name == "tweet_time":
            add(name, as_time, order, "TIMESTAMP")
        else:
            add(name, TWEET_TYPED.get(name))
    reasons += [required("tweetid"), required("tweet_time")]
    items.append("(" + " OR ".join(damaged(c) for c in ID_COLUMNS) + ") AS id_damaged")
    items.append("(" + " OR ".join(f"coalesce(lower(trim({q(c)})) = 'present', false)"
                                   for c in ("latitude", "longitude")) + ") AS coordinates_present")
    return items, reasons


def _filter_map(map_path: Path, drop: set, out: Path) -> int:
    """Copy the record map without the records DuckDB rejected; returns the rows kept."""
    kept = 0
    with pq.ParquetWriter(out, MAP_SCHEMA, compression="zstd") as writer:
        for batch in pq.ParquetFile(map_path).iter_batches():
            keep = ~np.isin(batch.column("duck_line").to_numpy(), list(drop))
            writer.write_batch(batch.filter(pa.array(keep)))
            kept += int(keep.sum())
    return kept


def stage_file(con, work: Path, index: int, kind: str, label: str, path: Path, date_order: str,
               column_map: dict | None = None) -> dict:
    """Parse and type one file into work/part_<index>.parquet; returns what the report needs."""
    header = read_header(path, label)
    matched = match_columns(kind, header, label, column_map)
    names = {i: f"_extra_{i}" for i in range(len(header))}
    names.update({i: ours for ours, i in matched.items()})
    scan = scan_file(path, label, work / f"map_{index}.parquet")
    if scan.records == 0:
        raise TractionError(f"{label}: the file has a header but no data rows")
    columns = "{" + ", ".join(f"{lit(names[i])}: 'VARCHAR'" for i in range(len(header))) + "}"
    csv_scan = (f"read_csv({lit(str(path))}, columns={columns}, header=true, delim=',', quote='\"', "
                f"escape='\"', auto_detect=false, strict_mode=true, store_rejects=true, "
                f"rejects_table='rejects_{index}', rejects_scan='scans_{index}')")
    date_columns = [c for c in ("account_creation_date", "tweet_time") if c in matched]
    try:
        first = con.execute(f"SELECT count(*), {date_stats_sql(date_columns)} FROM {csv_scan}").fetchall()[0]
    except duckdb.OutOfMemoryException as error:
        raise TractionError(f"{label}: DuckDB ran out of memory ({str(error).splitlines()[0]}); "
                            "raise the memory limit") from None
    except duckdb.Error as error:
        raise TractionError(f"{label}: not a well-formed CSV file (DuckDB: {str(error).splitlines()[0]})") from None
    parsed, order = first[0], decide_date_order(list(first[1:]), date_order, label) if date_columns else "ymd"

    map_path = work / f"map_{index}.parquet"
    has_rejects = con.execute(f"SELECT count(*) FROM duckdb_tables() WHERE table_name = 'rejects_{index}'").fetchone()[0]
    structural = [] if not has_rejects else con.execute(f"""
        SELECT m.start_line, m.start_byte, m.end_byte, 'csv: ' || lower(string_agg(DISTINCT r.error_type, ', '
               ORDER BY r.error_type)), r.line, any_value(m.start_byte = r.line_byte_position)
        FROM rejects_{index} r LEFT JOIN read_parquet({lit(str(map_path))}) m ON m.duck_line = r.line
        GROUP BY r.line, m.start_line, m.start_byte, m.end_byte ORDER BY r.line""").fetchall()
    if any(row[0] is None or not row[5] for row in structural) or parsed + len(structural) != scan.records:
        raise TractionError(f"{label}: not a well-formed CSV file: {parsed} records parsed + {len(structural)} "
                            f"rejected, but {scan.records} records by its quotes and line ends (an unbalanced "
                            "quote character or mixed line endings?)")
    if structural:
        loaded_map = work / f"map_loaded_{index}.parquet"
        _filter_map(map_path, {row[4] for row in structural}, loaded_map)
        map_path = loaded_map

    items, reasons = typed_select(kind, set(matched), order)
    all_text = "concat(" + ", ".join(q(names[i]) for i in range(len(header))) + ")"
    part = work / f"part_{index}.parquet"
    con.execute(f"""COPY (
        SELECT {', '.join(items)}, {index} AS file_index, {lit(label)} AS source_file, start_line AS source_line,
               start_byte, end_byte, NULLIF(concat_ws('; ', {', '.join(reasons)}), '') AS reason,
               coalesce(n_lines - 1 != length({all_text}) - length(replace({all_text}, chr(10), '')), true)
                   AS misaligned
        FROM {csv_scan} POSITIONAL JOIN read_parquet({lit(str(map_path))})
    ) TO {lit(str(part))} (FORMAT parquet)""")
    misaligned = con.execute(f"SELECT count(*) FILTER (misaligned) FROM read_parquet({lit(str(part))})").fetchone()[0]
    if misaligned:
        raise TractionError(f"{label}: {misaligned} records did not line up with the file's lines")
    return {"path": label, "kind": kind, "sha256": scan.sha256, "rows_read": scan.records,
            "blank_lines": scan.blank_lines, "date_order": order if date_columns else None,
            "columns_ignored": [h for i, h in enumerate(header) if names[i].startswith("_extra_")],
            "columns_missing": [c for c in KIND_COLUMNS[kind] if c not in matched],
            "part": str(part), "disk_path": str(path),
            "structural_rejects": [(r[0], r[1], r[2], r[3]) for r in structural]}
