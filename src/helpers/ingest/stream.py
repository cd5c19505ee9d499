"""The one pass over a CSV file: DuckDB types it on every core, Python numbers its lines and
writes the loaded and the rejected rows apart.

DuckDB returns the typed rows of :meth:`quirks.FileSQL.select` in file order (as Arrow
batches, ``preserve_insertion_order``), so line numbers need no join: each record starts
on the line after the previous one ends, and its fields' newlines say how many lines it
spans (:class:`CountedLines`). Where that cannot be trusted (blank lines, records DuckDB
rejected, a lone carriage return) the byte scan's record map gives them
(:class:`MappedLines`). ``archive`` checks the counts after the pass and falls back to
the record map when they disagree, so a record is never numbered wrongly.

Loaded rows go to Parquet in row groups of a fixed size, whatever the batches' sizes, so
the same input gives the same bytes.
"""

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from helpers.ingest.quirks import BAD, KEY_HASH, NEWLINES, REASON, WITHHELD

ROW_GROUP = 122_880  # DuckDB's own row group size
BATCH = 1 << 16
# Columns with few distinct values per row group are dictionary-encoded (the dictionary
# limit is high enough that none falls back to plain encoding part-way).
DICTIONARY = {"userid", "in_reply_to_userid", "retweet_userid", "tweet_language", "tweet_client_name",
              "is_retweet", "latitude", "longitude", "quote_count", "reply_count", "like_count", "retweet_count",
              "hashtags", "urls", "user_mentions", "poll_choices", "id_damaged", "source_file", "file_index",
              "follower_count", "following_count", "account_creation_date", "account_language",
              "user_reported_location", "user_profile_url"}


class TableWriter:
    """A Parquet file written in row groups of exactly ``ROW_GROUP`` rows (the last may be shorter).

    DuckDB's batches vary in size from run to run, and Arrow cuts pages where batches end
    unless pages are cut by row count only: so pages hold ``max_rows_per_page`` rows and no
    byte limit applies, and the same rows give the same bytes however they arrived.
    """

    def __init__(self, path: Path, schema: pa.Schema):
        self.path, self.schema = Path(path), schema
        self._writer = pq.ParquetWriter(
            self.path, schema, compression="snappy", store_schema=False,
            use_dictionary=[name for name in schema.names if name in DICTIONARY],
            dictionary_pagesize_limit=1 << 28, data_page_size=1 << 30, max_rows_per_page=8192)
        self._pending, self._rows = [], 0

    def write(self, batch: pa.RecordBatch):
        if batch.num_rows:
            self._pending.append(batch)
            self._rows += batch.num_rows
        if self._rows >= ROW_GROUP:
            self._flush(final=False)

    def _flush(self, final: bool):
        table = pa.Table.from_batches(self._pending, self.schema)
        whole = len(table) if final else len(table) - len(table) % ROW_GROUP
        if whole:
            self._writer.write_table(table.slice(0, whole), row_group_size=ROW_GROUP)
        rest = table.slice(whole)
        self._pending, self._rows = rest.to_batches(), len(rest)

    def close(self):
        if self._rows:
            self._flush(final=True)
        self._writer.close()

    def abort(self):
        self._writer.close()
        self.path.unlink(missing_ok=True)


class CountedLines:
    """Start lines from the records' own newline counts: record k + 1 starts where k ends."""

    def __init__(self, first_line: int = 2):
        self.next_line = first_line

    def take(self, newlines: np.ndarray) -> tuple[np.ndarray, int]:
        spans = newlines + 1
        ends = self.next_line + np.cumsum(spans)
        if len(ends):
            self.next_line = int(ends[-1])
        return ends - spans, 0


class MappedLines:
    """Start lines from the byte scan's record map, read in step with the rows; a record
    whose fields hold another number of newlines than its lines in the file is misaligned."""

    def __init__(self, map_path: Path):
        self.map_path = map_path
        self._batches = pq.ParquetFile(map_path).iter_batches(columns=["start_line", "n_lines"])
        self._starts, self._spans = np.empty(0, np.int64), np.empty(0, np.int64)

    def take(self, newlines: np.ndarray) -> tuple[np.ndarray, int]:
        n = len(newlines)
        while len(self._starts) < n:
            batch = next(self._batches, None)
            if batch is None:
                break
            self._starts = np.concatenate([self._starts, _numpy(batch.column(0))])
            self._spans = np.concatenate([self._spans, _numpy(batch.column(1))])
        starts, spans = self._starts[:n], self._spans[:n]
        self._starts, self._spans = self._starts[n:], self._spans[n:]
        if len(starts) < n:  # more records than the map holds
            return np.concatenate([starts, np.full(n - len(starts), -1)]), n - len(starts)
        return starts, int(np.count_nonzero(spans - 1 != newlines))


@dataclass
class Pass:
    """What one pass over a file found."""

    records: int = 0  # rows DuckDB returned: loaded + rejected by a check
    loaded: int = 0
    misaligned: int = 0
    withheld: int = 0  # loaded tweets with a withheld ('present') coordinate
    id_damaged: int = 0
    rejects: list = field(default_factory=list)  # (line, reason, lines the record spans)
    next_line: int = 0
    key_hashes: list = field(default_factory=list)  # numpy uint64 arrays: the loaded rows' id hashes


def repeats(key_hashes: list) -> bool:
    """Whether any id hash occurs twice (a hash collision only costs the exact check that follows)."""
    hashes, at = np.empty(sum(len(part) for part in key_hashes), np.uint64), 0
    key_hashes.reverse()
    while key_hashes:  # copied in one by one, so memory peaks at the hashes plus one part
        part = key_hashes.pop()
        hashes[at:at + len(part)] = part
        at += len(part)
    hashes.sort()
    return bool(len(hashes) > 1 and (hashes[1:] == hashes[:-1]).any())


def _count(flags: pa.Array) -> int:
    return pc.sum(flags, min_count=0).as_py()


# Arrays are built from buffers: pa.array and pa.scalar import pandas (half a second) to check types.
def _int64(values: np.ndarray) -> pa.Array:
    values = np.ascontiguousarray(values, np.int64)
    return pa.Array.from_buffers(pa.int64(), len(values), [None, pa.py_buffer(values)])


def _numpy(values: pa.Array) -> np.ndarray:
    """A 64-bit integer Arrow array without nulls as int64 numpy (zero-copy)."""
    return np.frombuffer(values.buffers()[1], np.int64, len(values), values.offset * 8)


def _constant(text: str, n: int) -> pa.Array:
    data = text.encode()
    offsets = np.arange(n + 1, dtype=np.int32) * len(data)
    return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data * n)])


def output_schema(reader_schema: pa.Schema, columns: list[str], file_index: bool) -> pa.Schema:
    fields = [reader_schema.field(c) for c in columns]
    if file_index:
        fields.append(pa.field("file_index", pa.int64()))
    return pa.schema(fields + [pa.field("source_file", pa.string()), pa.field("source_line", pa.int64())])


def run(con, select: str, label: str, lines, writer_for, columns: list[str], *, file_index: int | None = None,
        keep=None) -> Pass:
    """Stream ``select``: number its rows' lines, write loaded rows, collect rejected ones.

    ``writer_for(schema)`` returns the TableWriter for the loaded rows (opened on first use);
    ``columns`` are the SELECT's output columns written, followed by ``file_index`` (when
    given), ``source_file`` and ``source_line``. ``keep(batch)``, when given, selects which
    loaded rows to write (an Arrow boolean array); every loaded row is counted either way.
    """
    result = Pass()
    reader = con.sql(select).to_arrow_reader(BATCH)
    writer = writer_for(output_schema(reader.schema, columns, file_index is not None))
    names = reader.schema.names
    at = {name: names.index(name) for name in (BAD, REASON, NEWLINES)}
    for batch in reader:
        n = batch.num_rows
        if not n:
            continue
        newlines = _numpy(batch.column(at[NEWLINES]))
        starts, misaligned = lines.take(newlines)
        result.records += n
        result.misaligned += misaligned
        bad = batch.column(at[BAD])
        if _count(bad):
            reasons = batch.column(at[REASON]).filter(bad).to_pylist()
            flags = bad.to_numpy(zero_copy_only=False)
            result.rejects += zip(starts[flags].tolist(), reasons, (newlines[flags] + 1).tolist())
            batch, starts = batch.filter(pc.invert(bad)), starts[~flags]
        result.loaded += batch.num_rows
        if WITHHELD in names:
            result.withheld += _count(batch.column(names.index(WITHHELD)))
        if "id_damaged" in names:
            result.id_damaged += _count(batch.column(names.index("id_damaged")))
        if KEY_HASH in names:
            result.key_hashes.append(_numpy(batch.column(names.index(KEY_HASH))).view(np.uint64).copy())
        if keep is not None:
            chosen = keep(batch)
            batch, starts = batch.filter(chosen), starts[chosen.to_numpy(zero_copy_only=False)]
        arrays = [batch.column(names.index(c)) for c in columns]
        if file_index is not None:
            arrays.append(_int64(np.full(batch.num_rows, file_index)))
        arrays += [_constant(label, batch.num_rows), _int64(starts)]
        writer.write(pa.RecordBatch.from_arrays(arrays, schema=writer.schema))
    result.next_line = getattr(lines, "next_line", 0)
    return result
