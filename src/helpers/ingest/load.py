"""Reading one kind's files (users, tweets or an account table) into one staged Parquet file.

Each file is read once, by :func:`stream.run`, with line numbers counted from its
records. Afterwards the count is checked against the byte count of its lines
(``scan.quick_scan``): every line is the header, or part of exactly one record that
DuckDB returned. When that fails (blank lines, records DuckDB rejected, a stray quote,
a lone carriage return) or DuckDB stops on the file, the kind is read again with that
file on the slow path: the full byte scan (UTF-8 check, record count by quote parity,
record map) and DuckDB's own rejects, placed by the map. When even that cannot line
DuckDB's records up with the lines (a stray quote, a file cut short), the file is
damaged: ``recover`` splits it with the csv module, and the slow path reads the clean
copy of its good records while the damaged stretches are rejected. A file whose dates
turn out to be in another order is read again too; a declared order the data
contradicts stops the ingest.
"""

import csv
import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import duckdb
import pyarrow as pa

from helpers import schema
from helpers.errors import TractionError
from helpers.ingest import quirks, recover, scan, stream

lit = quirks.lit


@dataclass
class Plan:
    """How a file is read: learned by the passes that came before."""

    order: str | None = None  # the date order to type with
    mapped: bool = False  # line numbers from the record map (the slow path)
    recovered: recover.Recovered | None = None  # damaged: DuckDB reads the good records' clean copy
    stray: bool = False  # NUL bytes or a byte order mark past the start: every record is checked for them


@dataclass
class FileInput:
    index: int
    kind: str
    label: str
    path: Path  # a plain file (zip members are extracted first)
    facts_of: Callable[[], scan.QuickScan]  # its hash and line count, computed beside the first pass
    column_map: dict = field(default_factory=dict)

    @functools.cached_property
    def facts(self) -> scan.QuickScan:
        return self.facts_of()


class _Again(Exception):
    """The kind's files must be read again (the plans now say how)."""


class StagedWriter:
    """One Parquet file for a kind, opened when the first file's schema is known."""

    def __init__(self, path: Path):
        self.path, self.writer = path, None

    def __call__(self, schema: pa.Schema):
        if self.writer is None:
            self.writer = stream.TableWriter(self.path, schema)
        return self.writer if schema == self.writer.schema else _Casting(self.writer, schema)

    def close(self):
        if self.writer is not None:
            self.writer.close()

    def abort(self):
        if self.writer is not None:
            self.writer.abort()
            self.writer = None


class _Casting:
    """The writer as seen by a later file whose SELECT typed a column another way."""

    def __init__(self, writer, schema):
        self._writer, self.schema = writer, schema

    def write(self, batch):
        self._writer.write(batch.cast(self._writer.schema))


@dataclass
class Loaded:
    """One kind's files read into ``path``."""

    entries: list  # one dict per file, for the report
    path: Path
    ids_repeat: bool  # some id occurs twice among the loaded rows (or two ids share a 64-bit hash)


def load_kind(con, work: Path, files: list[FileInput], date_order: str, target: Path) -> Loaded:
    """Read ``files`` (one kind, in order) into ``target``."""
    plans = {f.index: Plan() for f in files}
    for _ in range(2 * len(files) + 2):  # each file can move to the slow path once and change order once
        writer = StagedWriter(target)
        try:
            entries = [_load_file(con, work, f, plans[f.index], date_order, writer) for f in files]
        except _Again:
            writer.abort()
            continue
        except BaseException:
            writer.abort()
            raise
        writer.close()
        key_hashes = [array for entry in entries for array in entry.pop("key_hashes")]
        return Loaded(entries, target, stream.repeats(key_hashes))
    raise AssertionError("unreachable: every file settles after its slow pass and its date order")


def _columns(kind: str, user_columns: bool = False) -> list[str]:
    columns = list(quirks.OUTPUT[kind])
    if user_columns:
        columns = ["userid", *[c for c in schema.USER_COLUMNS if c != "userid"], "id_damaged"]
    return columns


def _file_sql(f: FileInput, path: Path | None = None, stray: bool = False) -> quirks.FileSQL:
    """The SQL reading ``f`` (or, for a damaged file, the clean copy of its good records at ``path``)."""
    header = scan.read_header(f.path, f.label)
    return quirks.FileSQL(f.index, f.kind, f.label, path or f.path, header,
                          quirks.match_columns(f.kind, header, f.label, f.column_map), stray)


def _load_file(con, work, f: FileInput, plan: Plan, date_order: str, writer) -> dict:
    sql = _file_sql(f, stray=plan.stray)
    if plan.order is None:
        plan.order = _first_order(con, sql, date_order)
    damage, damaged_rows = [], []
    if plan.mapped:
        if plan.recovered is not None:
            sql = _file_sql(f, plan.recovered.path, plan.stray)
            damage, damaged_rows = plan.recovered.damage, plan.recovered.rejected
        try:
            found, lines, structural, parsed = _mapped(con, work, sql, f, plan.recovered)
            done = _stream(con, sql, f, plan.order, lines, writer, all_newlines=True)
            if done.misaligned:
                raise _Damaged(f"{done.misaligned} records did not line up with the file's lines")
            if done.records != parsed:
                raise _Damaged(_malformed(done.records, len(structural), found.records))
        except _Damaged as error:
            if plan.recovered is not None:  # DuckDB and the csv module disagree on a record both accept
                raise TractionError(f"{f.label}: not a well-formed CSV file: {error}") from None
            plan.recovered = recover.split(f.path, work / f"clean_{f.index}.csv", len(sql.header))
            raise _Again
        rows_read = found.records + len(damaged_rows)
        blank_lines = found.blank_lines + (plan.recovered.blank_lines if plan.recovered else 0)
        rejects = [(line, reason, spans) for line, reason, _, _, spans in structural] + done.rejects
    else:
        try:
            done = _stream(con, sql, f, plan.order, stream.CountedLines(), writer)
        except _Damaged:
            done = None  # DuckDB stopped on the file: the slow path says why
        # every line is the header or part of one record DuckDB returned, and no lone CR (DuckDB
        # would end a record there) can make up for a lost line: then the lines are exact
        if done is None or done.next_line - 1 != f.facts.lines or f.facts.lone_cr:
            plan.mapped = True
            plan.stray = f.facts.stray
            raise _Again
        if f.facts.stray and not plan.stray:  # NUL bytes or a byte order mark: read again, checking for them
            plan.stray = True
            raise _Again
        if not done.records:
            raise TractionError(f"{f.label}: the file has a header but no data rows")
        rows_read, blank_lines, rejects = done.records, 0, done.rejects
    _check_dates(con, sql, f, plan, date_order, rejects)
    lines_kind = ("mapped", str(lines.map_path)) if plan.mapped else ("counted",)
    return {"path": f.label, "kind": f.kind, "index": f.index, "sha256": f.facts.sha256, "rows_read": rows_read,
            "blank_lines": blank_lines, "date_order": plan.order if sql.date_columns else None,
            "columns_ignored": [h for h, n in zip(sql.header, sql.names) if n.startswith("_extra_")],
            "columns_missing": [c for c in quirks.KIND_COLUMNS[f.kind] if c not in sql.matched],
            "rejects": rejects, "loaded": done.loaded, "withheld": done.withheld, "id_damaged": done.id_damaged,
            "disk_path": str(f.path), "lines": lines_kind, "order": plan.order, "columns": dict(sql.matched),
            "key_hashes": done.key_hashes, "damage": damage, "damaged_rows": damaged_rows,
            "csv_path": str(sql.path), "stray": plan.stray}


class _Damaged(Exception):
    """DuckDB stopped reading the file, or its records do not line up with the file's lines."""


def _stream(con, sql, f: FileInput, order, lines, writer, all_newlines=False, user_columns=False, keep=None):
    try:
        return stream.run(con, sql.select(order, all_newlines=all_newlines, user_columns=user_columns), f.label,
                          lines, writer, _columns(f.kind, user_columns), keep=keep,
                          file_index=f.index if f.kind != "tweets" or user_columns else None)
    except duckdb.OutOfMemoryException:
        raise
    except (duckdb.Error, pa.ArrowException) as error:
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        if "out of memory" in message.lower():
            raise duckdb.OutOfMemoryException(message) from None
        raise _Damaged(f"DuckDB: {message}") from None


def _malformed(parsed, rejected, records) -> str:
    return (f"{parsed} records parsed + {rejected} rejected, but {records} records by its quotes and line ends "
            "(an unbalanced quote character or mixed line endings?)")


def _mapped(con, work, sql, f: FileInput, recovered: "recover.Recovered | None"):
    """The slow path's preparation: byte scan with record map, DuckDB's own rejects placed by it.

    For a damaged file ``sql`` reads the clean copy of its good records, and the map's lines are
    turned back into the file's."""
    found = scan.scan_file(sql.path, f.label, work / f"map_{f.index}.parquet", f.facts.sha256)
    if recovered is not None:
        scan.renumber_map(found.map_path, recovered.file_line)
    elif found.records == 0:
        raise TractionError(f"{f.label}: the file has a header but no data rows")
    for table in (f"rejects_{f.index}", f"scans_{f.index}"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    try:
        parsed = con.execute(f"SELECT count(*) FROM {sql.csv(store_rejects=True)}").fetchall()[0][0]
    except duckdb.Error as error:
        raise _Damaged(f"DuckDB: {str(error).splitlines()[0]}") from None
    structural, map_path = [], found.map_path
    if _has_rejects(con, f.index):  # DuckDB rejected records: the map without them pairs with its rows
        structural = _structural(con, f.index, map_path)
        map_path = work / f"map_loaded_{f.index}.parquet"
        scan.filter_map(found.map_path, {row[2] for row in structural}, map_path)
    if (found.unbalanced_quotes or any(row[0] is None or not row[3] for row in structural)
            or parsed + len(structural) != found.records):
        raise _Damaged(_malformed(parsed, len(structural), found.records))
    if structural and recovered is None and f.facts.lone_cr:  # DuckDB reads a CR alone otherwise than csv:
        raise _Damaged("records rejected in a file with carriage returns alone")  # csv decides which are damaged
    return found, stream.MappedLines(map_path), structural, parsed


def _has_rejects(con, index: int) -> bool:
    """Did DuckDB reject records of file `index` (its rejects table exists once it read with store_rejects)?"""
    if not con.execute(f"SELECT count(*) FROM duckdb_tables() WHERE table_name = 'rejects_{index}'").fetchall()[0][0]:
        return False
    return con.execute(f"SELECT count(*) FROM rejects_{index}").fetchall()[0][0] > 0


def _structural(con, index: int, map_path: Path) -> list:
    """DuckDB's own rejects (rows it could not parse), placed by the record map.

    DuckDB numbers records as the map does (``duck_line``); its byte positions must fall in
    that record (its line position is sometimes one past the record's first byte)."""
    return con.execute(f"""
        SELECT m.start_line, 'csv: ' || lower(string_agg(DISTINCT r.error_type, ', ' ORDER BY r.error_type)),
               r.line, bool_and(r.line_byte_position BETWEEN m.start_byte AND m.end_byte + 1
                                AND r.byte_position BETWEEN m.start_byte AND m.end_byte + 1), any_value(m.n_lines)
        FROM rejects_{index} r LEFT JOIN read_parquet({lit(str(map_path))}) m ON m.duck_line = r.line
        GROUP BY r.line, m.start_line ORDER BY r.line""").fetchall()


# ---- date order ---------------------------------------------------------------

SAMPLE_BYTES = 1 << 18


def _first_order(con, sql, declared: str) -> str:
    """The order to type with: declared; for 'auto', ymd unless the file's first records hold
    slash dates (then decided from all its values); a slash date further down is caught after the pass."""
    if declared != "auto" or not sql.date_columns:
        return "ymd" if declared == "auto" else declared
    with open(sql.path, encoding="utf-8", errors="replace", newline="") as handle:
        head = handle.read(SAMPLE_BYTES)
    rows = list(csv.reader(head.splitlines()[1:-1]))
    columns = [sql.names.index(c) for c in sql.date_columns]
    slash = re.compile(quirks.SLASH_DATE)
    if not any(slash.match(row[i]) for row in rows for i in columns if i < len(row)):
        return "ymd"
    return quirks.decide_date_order(quirks.date_stats(con, sql), "auto", sql.label)



def _check_dates(con, sql, f: FileInput, plan: Plan, declared: str, rejects: list):
    """Rows whose dates did not parse: another order for an 'auto' file, an error for a declared one."""
    reasons = sql.date_reasons(plan.order)
    failed = [line for line, reason, _ in rejects if any(r in reason for r in reasons)]
    if not failed:
        return
    if declared == "auto":
        decided = quirks.decide_date_order(quirks.date_stats(con, sql), "auto", f.label)
        if decided != plan.order:
            plan.order = decided
            raise _Again
        return  # a few dates in another format than most: those rows stay rejected
    line, column, value = _contradiction(con, sql, f, declared, failed[:100])
    if value is not None:
        raise TractionError(
            f"{f.label}: line {line}: {column} {value!r} is not a {quirks.DATE_SHOWN[declared]} date: the declared "
            f"date order {declared!r} contradicts the data; the file's dates fit "
            f"{quirks.fitting_order(quirks.date_stats(con, sql))}. Declare that order (or date_order='auto')")


def _contradiction(con, sql, f: FileInput, declared: str, lines: list):
    """The first failed date that the declared order cannot read but another can: (line, column, value)."""
    position = {name: i for i, name in enumerate(sql.names)}

    def reads(value, order):
        return con.execute("SELECT try_strptime(trim(?), ?) IS NOT NULL",
                           [value, quirks.DATE_FORMATS[order]]).fetchall()[0][0]

    for line, text in sorted(scan.read_records(f.path, lines).items()):
        fields = next(csv.reader([text]), [])
        if len(fields) != len(sql.header):
            continue
        for column in sql.date_columns:
            value = fields[position[column]]
            if value.strip() and not reads(value, declared) and any(
                    reads(value, order) for order in quirks.DATE_FORMATS if order != declared):
                return line, column, value
    return None, None, None


# ---- accounts missing from the users file -------------------------------------


def user_columns(con, entries: list[dict], files: list[FileInput], wanted: pa.Array, target: Path):
    """The account columns of the tweets whose userid is in ``wanted`` (a second, rare pass)."""
    import pyarrow.compute as pc

    writer = StagedWriter(target)
    by_index = {f.index: f for f in files}
    try:
        for entry in entries:
            f = by_index[entry["index"]]
            sql = _file_sql(f, Path(entry["csv_path"]), entry["stray"])
            lines = (stream.CountedLines() if entry["lines"][0] == "counted"
                     else stream.MappedLines(Path(entry["lines"][1])))
            _stream(con, sql, f, entry["order"], lines, writer, all_newlines=entry["lines"][0] != "counted",
                    user_columns=True, keep=lambda b: pc.is_in(b.column("userid"), value_set=wanted))
    except _Damaged as error:  # it read the same file before
        writer.abort()
        raise TractionError(f"{f.label}: could not be read again ({error})") from None
    except BaseException:
        writer.abort()
        raise
    writer.close()
