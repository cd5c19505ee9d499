"""A damaged CSV file: the records that parse are kept, each damaged stretch is rejected on its own.

When DuckDB's records cannot be lined up with the file's lines (a stray or unterminated
quote, a file cut short, a carriage return alone ending a line), the standard library's
``csv`` module splits the file instead. From a line that starts a record it reads one
record, strictly; a record with the header's number of fields and an even number of
quotes is good and goes, byte for byte, into a clean copy of the file that DuckDB then
types as usual (its lines mapped back to the file's). A line that starts no good record
is damaged; the next line is tried, so the damage costs only its own lines. Each
stretch of damaged lines is read again by ``csv`` (not strictly) to count its records,
which are rejected with their first and last line, their raw text and what was wrong.
"""

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass
class Stretch:
    """Consecutive damaged lines."""

    first_line: int
    problem: str
    lines: list = field(default_factory=list)  # raw bytes, line endings kept

    @property
    def last_line(self) -> int:
        return self.first_line + len(self.lines) - 1


@dataclass
class Recovered:
    path: Path  # the header and the good records (each record's bytes as in the file, ended by LF)
    clean_starts: np.ndarray  # the line each good record starts on in the clean copy
    file_starts: np.ndarray  # ... and in the file
    blank_lines: int = 0
    damage: list = field(default_factory=list)  # one dict per stretch, for the load report
    rejected: list = field(default_factory=list)  # (first line, last line, raw text, reason) per record

    def file_line(self, clean_lines: np.ndarray) -> np.ndarray:
        """The file's line numbers of clean-copy lines that start records."""
        return self.file_starts[np.searchsorted(self.clean_starts, clean_lines)]


class _Lines:
    """The file's lines (split at LF, as the rest of the ingest counts them), read ahead on demand."""

    def __init__(self, handle, first_line: int):
        self.handle, self.buffer, self.first_line = handle, [], first_line

    def get(self, i: int):
        while len(self.buffer) <= i:
            line = self.handle.readline()
            if not line:
                return None
            self.buffer.append(line)
        return self.buffer[i]

    def take(self, n: int) -> list:
        taken, self.buffer = self.buffer[:n], self.buffer[n:]
        self.first_line += n
        return taken


def _one_record(lines: _Lines):
    """(fields or the csv module's complaint, lines used) for the record starting at the first line."""
    used = 0

    def feed():
        nonlocal used
        while (line := lines.get(used)) is not None:
            used += 1
            yield line.decode("utf-8", "replace")

    try:
        return next(csv.reader(feed(), strict=True)), used
    except StopIteration:
        return None, 0
    except csv.Error as error:
        return str(error), max(used, 1)


def _problem(result, width: int, raw: bytes) -> str:
    if isinstance(result, list):
        if raw.count(b'"') % 2:
            return "unbalanced quote"
        return f"{len(result)} field{'s' if len(result) != 1 else ''} where the header has {width}"
    if "new-line character" in result:
        return "a carriage return alone inside a line (mixed line ends)"
    return "unbalanced quote"  # a quote not followed by a delimiter, or a quoted field never closed


def _records_in(stretch: Stretch) -> list:
    """The stretch's records as csv counts them (not strictly; a CR alone ends a line, as csv reads a
    file opened with newline=''): (first line, last line, raw text), lines counted at LF."""
    pieces = io.StringIO(b"".join(stretch.lines).decode("utf-8", "replace"), newline="")
    taken = []

    def feed():
        for piece in pieces:
            taken.append(piece)
            yield piece

    found, newlines = [], 0
    reader = csv.reader(feed())
    while True:
        try:
            fields = next(reader, None)
        except csv.Error:
            fields = [""]  # what is left of the stretch is one record
            taken += list(pieces)
        if fields is None:
            break
        text = "".join(taken)
        if fields:
            found.append((stretch.first_line + newlines, stretch.first_line + newlines + _strip_end(text).count("\n"),
                          _strip_end(text)))
        newlines += text.count("\n")
        taken.clear()
    return found or [(stretch.first_line, stretch.last_line, _strip_end(b"".join(stretch.lines).decode("utf-8", "replace")))]


def _strip_end(text: str) -> str:
    for end in ("\r\n", "\n", "\r"):
        if text.endswith(end):
            return text[:-len(end)]
    return text


def split(path: Path, clean_path: Path, width: int) -> Recovered:
    """Write the header and the good records of ``path`` into ``clean_path``; say what was damaged."""
    clean_starts, file_starts, stretches = [], [], []
    blank, clean_line, stretch = 0, 2, None
    with open(path, "rb") as handle, open(clean_path, "wb") as out:
        header = handle.readline()
        out.write(header.rstrip(b"\r\n") + b"\n")
        lines = _Lines(handle, first_line=2)
        while True:
            result, used = _one_record(lines)
            if used == 0:
                break
            raw = b"".join(lines.buffer[:used])
            good = isinstance(result, list) and len(result) == width and raw.count(b'"') % 2 == 0
            if result == [] or good:
                if stretch is not None:
                    stretches.append(stretch)
                    stretch = None
                blank += result == []
            if good:
                clean_starts.append(clean_line)
                file_starts.append(lines.first_line)
                out.write(raw.rstrip(b"\r\n") + b"\n")  # CR CR LF, or a CR alone ending the file, too
                clean_line += used
            elif result != []:  # this line starts no good record: it is damaged, and the next line is tried
                if stretch is None:
                    stretch = Stretch(lines.first_line, _problem(result, width, raw))
                stretch.lines.append(lines.buffer[0])
                used = 1
            lines.take(used)
        cut = stretch is not None and not stretch.lines[-1].endswith(b"\n")
        if stretch is not None:
            stretches.append(stretch)
    recovered = Recovered(clean_path, np.array(clean_starts, np.int64), np.array(file_starts, np.int64), blank)
    for stretch in stretches:
        records = _records_in(stretch)
        problem = stretch.problem
        if cut and stretch is stretches[-1]:
            problem = "the file ends inside a record (cut short?)"
        where = (f"line {stretch.first_line:,}" if stretch.last_line == stretch.first_line
                 else f"line {stretch.first_line:,} to {stretch.last_line:,}")
        reason = f"{problem} from {where}; {len(records)} record{'s' if len(records) > 1 else ''} rejected"
        recovered.damage.append({"first_line": stretch.first_line, "last_line": stretch.last_line,
                                 "records_rejected": len(records), "reason": reason})
        recovered.rejected += [(first, last, raw, reason) for first, last, raw in records]
    return recovered
