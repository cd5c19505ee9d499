"""The byte-level passes over one archive CSV: hash and line count; UTF-8 check and record count.

DuckDB parses the CSV, but we do not take its word for how many records there
are: it can drop one silently (a stray quote inside a quoted field, mixed line
endings). :func:`quick_scan` (every file, once: it is also the cache key) hashes the
file and counts its lines; the pass that reads the file (``stream``) must account
for every line, as the header or as part of a record, or the file goes to
:func:`scan_file`, which counts records itself by quote parity (RFC 4180: a newline
ends a record when the quotes before it are even), checks UTF-8, and writes a
record map (each record's DuckDB number, start line, line count, byte range) to
Parquet, streamed, to number the rows by. The raw text of the few rejected records
is read back by line number (:func:`read_records`).
"""

import codecs
import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from helpers.errors import TractionError

CHUNK = 1 << 22
NEWLINE, QUOTE, CR = 10, 34, 13
BOM = b"\xef\xbb\xbf"
MAP_SCHEMA = pa.schema([("duck_line", pa.int64()), ("start_line", pa.int64()), ("n_lines", pa.int64()),
                       ("start_byte", pa.int64()), ("end_byte", pa.int64())])


@dataclass
class FileScan:
    """What one byte pass over a file found."""

    sha256: str
    records: int = 0  # data records, header and blank lines excluded
    blank_lines: int = 0
    single_line: bool = True  # record k is on line k + 1: no newline inside quotes, no blank line, no lone CR
    unbalanced_quotes: bool = False  # the file ends inside a quoted field (a stray quote somewhere)
    map_path: Path | None = None


@dataclass
class QuickScan:
    """A file's hash and line count (a last line without a newline counts)."""

    sha256: str
    size: int = 0
    lines: int = 0
    lone_cr: bool = False  # a carriage return not followed by a newline: DuckDB would end a record there
    stray: bool = False  # a NUL byte, or a byte order mark after the first bytes: records are checked for them

    def to_dict(self) -> dict:
        return {"sha256": self.sha256, "size": self.size, "lines": self.lines, "lone_cr": self.lone_cr,
                "stray": self.stray}


def quick_scan(path: Path, count_lines: bool = True) -> QuickScan:
    """One read of the file: its sha256 and, unless it is a zip, its lines and lone CRs.

    The hash runs in a second thread (hashlib releases the GIL) while this one counts.
    """
    from concurrent.futures import ThreadPoolExecutor

    digest, facts = hashlib.sha256(), QuickScan(sha256="")
    buffers = [bytearray(CHUNK), bytearray(CHUNK)]
    previous, tail = NEWLINE, b""
    with open(path, "rb", buffering=0) as handle, ThreadPoolExecutor(1) as pool:
        hashing, turn = None, 0
        while True:
            buffer = buffers[turn]
            size = handle.readinto(buffer)
            if hashing is not None:
                hashing.result()  # the other buffer is free again
            if not size:
                break
            view = memoryview(buffer)[:size]
            hashing = pool.submit(digest.update, view)
            facts.size += size
            if count_lines:
                array = np.frombuffer(buffer, np.uint8, size)
                facts.lines += int(np.count_nonzero(array == NEWLINE))
                if not facts.lone_cr and (previous == CR or buffer.find(b"\r", 0, size) >= 0):
                    facts.lone_cr = _lone_cr(array, previous)
                if not facts.stray:
                    facts.stray = _stray(buffer, size, tail, first=facts.size == size)
                tail = bytes(buffer[max(size - 2, 0):size])
                previous = int(array[-1])
            turn = 1 - turn
    facts.sha256 = digest.hexdigest()
    if count_lines:
        facts.lone_cr |= previous == CR
        facts.lines += facts.size > 0 and previous != NEWLINE
    return facts


def _stray(buffer, size: int, tail: bytes, first: bool) -> bool:
    """A NUL byte, or a UTF-8 byte order mark anywhere but at the file's start (``tail``: the
    previous chunk's last two bytes, so a mark across two chunks is seen)."""
    if buffer.find(b"\x00", 0, size) >= 0 or BOM in tail + bytes(buffer[:2]):
        return True
    # Not bytes.find(BOM): it runs at about 1 GB/s over Chinese text, where 0xEF leads common
    # characters. The mark's middle byte is found at memory speed instead, and its neighbours checked.
    array = np.frombuffer(buffer, np.uint8, size)
    middles = np.flatnonzero(array[1:-1] == BOM[1]) + 1
    if first:
        middles = middles[middles > 1]  # the file's own mark, at bytes 0-2
    return bool(((array[middles - 1] == BOM[0]) & (array[middles + 1] == BOM[2])).any())


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
    if b"\x00" in first:
        raise TractionError(f"{label}: line 1: NUL bytes: the file looks like UTF-16 (or another wide encoding), "
                            "not UTF-8; re-save it as UTF-8 and run again")
    if b"\r" in first.rstrip(b"\r\n"):
        raise TractionError(f"{label}: line 1: lines end with a carriage return alone (an old Mac format); "
                            "convert the line ends to LF or CRLF (e.g. tr '\\r' '\\n') and run again")
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise TractionError(f"{label}: line 1: bytes that are not UTF-8 ({error.reason})") from None
    header = next(csv.reader([text]), None)
    if not header or not any(name.strip() for name in header):
        raise TractionError(f"{label}: the file is empty (no header line)")
    return [name.strip() for name in header]


def _utf8_error(data: bytes, lines_before: int, label: str, final: bool = False):
    """Arrow validates UTF-8 fast; only a failing span is decoded again to name the line."""
    offsets = pa.py_buffer(np.array([0, len(data)], np.int32))
    try:
        pa.Array.from_buffers(pa.string(), 1, [None, offsets, pa.py_buffer(data)]).validate(full=True)
        return
    except pa.ArrowInvalid:
        pass
    try:
        codecs.getincrementaldecoder("utf-8")().decode(data, final=final)
    except UnicodeDecodeError as error:
        line = lines_before + data.count(b"\n", 0, error.start) + 1
        raise TractionError(f"{label}: line {line}: bytes that are not UTF-8 ({error.reason})") from None


def _lone_cr(array, prev_byte: int) -> bool:
    """A CR not followed by LF (DuckDB ends a record there; our count would not)."""
    if prev_byte == CR and array[0] != NEWLINE:
        return True
    crs = np.flatnonzero(array[:-1] == CR)
    return bool(len(crs)) and bool((array[crs + 1] != NEWLINE).any())


def _cr_line_ends(array, newlines, quotes, quotes_before: int, lines_before: int, cr_line: int, label: str) -> int:
    """Stop when lines end in a carriage return alone from some line on (an old Mac format after it).

    A CR alone outside quotes ends a record for csv; one on a line is a stray (it joins two records,
    which are rejected), but two or more on one line mean lines end that way: the records after it
    would be lost as one damaged stretch, so the ingest stops and names the line. Returns the last
    line holding such a CR (a CR ending a chunk is judged by the chunk's last byte only)."""
    crs = np.flatnonzero(array[:-1] == CR)
    if not len(crs):
        return cr_line
    crs = crs[array[crs + 1] != NEWLINE]
    crs = crs[(quotes_before + np.searchsorted(quotes, crs)) % 2 == 0]
    if not len(crs):
        return cr_line
    lines = lines_before + np.searchsorted(newlines, crs) + 1
    repeated = np.flatnonzero(np.concatenate(([cr_line], lines[:-1])) == lines)
    if len(repeated):
        line = int(lines[repeated[0]])
        raise TractionError(f"{label}: line {line:,}: lines end with a carriage return alone from this line on "
                            "(an old Mac format; lines counted at LF); convert the line ends to LF or CRLF "
                            "(e.g. tr '\\r' '\\n') and run again")
    return int(lines[-1])


def scan_file(path: Path, label: str, map_path: Path | None = None, sha256: str | None = None) -> FileScan:
    """Count the records of ``path`` (and check UTF-8, hash unless ``sha256`` is known) in one pass."""
    digest = None if sha256 else hashlib.sha256()
    scan = FileScan(sha256=sha256 or "", map_path=map_path)
    offset = lines_before = quotes_before = 0
    prev_end, prev_line, prev_byte, segment = -1, 0, NEWLINE, 0  # segment: 0 is the header
    pending = b""  # bytes after the chunk's last newline, validated with the next chunk
    cr_line = 0  # the last line holding a carriage return alone outside quotes
    writer = pq.ParquetWriter(map_path, MAP_SCHEMA, compression="zstd") if map_path else None

    def emit(ends, end_lines, last_bytes):
        nonlocal prev_end, prev_line, segment
        starts = np.concatenate(([prev_end], ends[:-1])) + 1
        start_lines = np.concatenate(([prev_line], end_lines[:-1])) + 1
        stops = ends - (last_bytes == CR)  # the record's text without its line ending
        duck_lines = np.arange(segment, segment + len(ends)) + 1
        data = (stops > starts) & (duck_lines > 1)
        scan.blank_lines += int(np.count_nonzero(stops[duck_lines > 1] == starts[duck_lines > 1]))
        scan.records += int(np.count_nonzero(data))
        if writer is not None:
            batch = [duck_lines[data], start_lines[data], (end_lines - start_lines + 1)[data], starts[data],
                     stops[data]]
            writer.write_batch(pa.record_batch([pa.array(c, pa.int64()) for c in batch], schema=MAP_SCHEMA))
        prev_end, prev_line, segment = int(ends[-1]), int(end_lines[-1]), segment + len(ends)

    with open(path, "rb") as handle:
        try:
            while chunk := handle.read(CHUNK):
                if digest is not None:
                    digest.update(chunk)
                cut = chunk.rfind(b"\n") + 1
                if cut:
                    _utf8_error(pending + chunk[:cut], lines_before, label)
                    pending = chunk[cut:]
                else:
                    pending += chunk
                array = np.frombuffer(chunk, np.uint8)
                newlines = np.flatnonzero(array == NEWLINE)
                quotes = np.flatnonzero(array == QUOTE)
                closing = (quotes_before + np.searchsorted(quotes, newlines)) % 2 == 0
                scan.single_line &= bool(closing.all()) and not _lone_cr(array, prev_byte)
                cr_line = _cr_line_ends(array, newlines, quotes, quotes_before, lines_before, cr_line, label)
                ends = newlines[closing]
                if len(ends):
                    before = np.where(ends > 0, array[np.maximum(ends - 1, 0)], prev_byte)
                    emit(ends + offset, np.flatnonzero(closing) + lines_before + 1, before)
                quotes_before += len(quotes)
                lines_before += len(newlines)
                offset += len(chunk)
                prev_byte = int(array[-1])
            _utf8_error(pending, lines_before, label, final=True)
            scan.single_line &= prev_byte != CR  # DuckDB would end a record at a CR alone
            if offset > prev_end + 1:  # last record without a final newline
                emit(np.array([offset]), np.array([lines_before + 1]), np.array([NEWLINE]))
        finally:
            if writer is not None:
                writer.close()
    if digest is not None:
        scan.sha256 = digest.hexdigest()
    if offset == 0:
        raise TractionError(f"{label}: the file is empty")
    scan.single_line &= scan.blank_lines == 0
    scan.unbalanced_quotes = quotes_before % 2 == 1
    return scan


def read_records(path: Path, start_lines: list[int], spans: dict[int, int] | None = None) -> dict[int, str]:
    """The exact text of the records starting on these lines (only rejected rows come here).

    One streamed pass: find each start line's byte offset, then read the lines ``spans`` gives for
    that record (as its parser read it) or, without one, on until a newline with an even number of
    quotes before it; the line ending is not part of the text.
    """
    spans = spans or {}
    wanted = np.unique(np.asarray(start_lines, np.int64))
    offsets, line, position, found = {}, 1, 0, 0
    with open(path, "rb") as handle:
        if len(wanted) and wanted[0] == 1:
            offsets[1], found = 0, 1
        while found < len(wanted) and (chunk := handle.read(CHUNK)):
            newlines = np.flatnonzero(np.frombuffer(chunk, np.uint8) == NEWLINE)
            lines_after = line + np.arange(1, len(newlines) + 1)  # the line starting after each newline
            hits = np.isin(lines_after, wanted[found:])
            for line_no, at in zip(lines_after[hits], newlines[hits]):
                offsets[int(line_no)] = position + int(at) + 1
            found += int(hits.sum())
            line += len(newlines)
            position += len(chunk)
        texts = {}
        for line_no, start in offsets.items():
            handle.seek(start)
            record, quotes, taken = bytearray(), 0, 0
            while piece := handle.readline():
                record += piece
                quotes += piece.count(b'"')
                taken += 1
                if taken == spans.get(line_no) or (line_no not in spans and quotes % 2 == 0):
                    break
            if record.endswith(b"\n"):  # the line ending is not part of the record
                record = record[:-2] if record.endswith(b"\r\n") else record[:-1]
            texts[line_no] = bytes(record).decode("utf-8", "replace")
    return texts


def renumber_map(map_path: Path, file_line) -> None:
    """Rewrite the map's start lines with ``file_line`` (a damaged file's clean copy -> the file), streamed."""
    renumbered = map_path.with_name(map_path.name + ".renumbered")
    with pq.ParquetWriter(renumbered, MAP_SCHEMA, compression="zstd") as writer:
        for batch in pq.ParquetFile(map_path).iter_batches():
            at = MAP_SCHEMA.get_field_index("start_line")
            starts = pa.array(file_line(batch.column(at).to_numpy()), pa.int64())
            writer.write_batch(pa.record_batch([starts if i == at else c for i, c in enumerate(batch.columns)],
                                               schema=MAP_SCHEMA))
    renumbered.replace(map_path)


def filter_map(map_path: Path, drop: set, out: Path) -> int:
    """Copy the record map without the records DuckDB rejected; returns the rows kept."""
    kept = 0
    with pq.ParquetWriter(out, MAP_SCHEMA, compression="zstd") as writer:
        for batch in pq.ParquetFile(map_path).iter_batches():
            keep = ~np.isin(batch.column("duck_line").to_numpy(), list(drop))
            writer.write_batch(batch.filter(pa.array(keep)))
            kept += int(keep.sum())
    return kept
