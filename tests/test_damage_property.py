"""Property: whatever one mutation does to a small valid tweets file (cut at a byte, a quote inserted, a
delimiter doubled, a line end swapped), every physical line is accounted for exactly once (the header, a
loaded row, a rejected row or a damaged stretch of them, or a blank line), rows read = loaded + rejected,
and no row on lines the mutation left untouched is rejected.

The normal suite runs a fixed set of examples (derandomized, about a minute); ``make test-slow`` runs
many more (the ``slow`` profile).
"""

import csv
import io
import shutil
import tempfile
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import schema
from helpers.ingest import archive
from test_archive import tweet_row

settings.register_profile("suite", max_examples=100, derandomize=True, deadline=None, database=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("slow", max_examples=1500, derandomize=True, deadline=None, database=None,
                          suppress_health_check=[HealthCheck.too_slow])
COLUMNS = list(schema.TWEET_COLUMNS)
TEXTS = ["plain", "two\nlines", 'a "quoted" word', "comma, inside", "three\nshort\nlines", "crlf\r\ninside"]


def _record(row) -> str:
    buffer = io.StringIO()
    csv.DictWriter(buffer, COLUMNS, quoting=csv.QUOTE_ALL, lineterminator="\n", extrasaction="ignore").writerow(row)
    return buffer.getvalue()


HEADER = ",".join(f'"{c}"' for c in COLUMNS) + "\n"
RECORDS = [_record(tweet_row(str(100 + i), f"u{i % 4}", tweet_text=TEXTS[i % len(TEXTS)])) for i in range(24)]
ORIGINAL = HEADER + "".join(RECORDS)
STARTS = [len(HEADER) + sum(len(r) for r in RECORDS[:i]) for i in range(len(RECORDS))]  # character offsets
FIRST_END = STARTS[1]


def mutations():
    data = st.integers(len(HEADER), len(ORIGINAL) - 1)
    newlines = [i for i, c in enumerate(ORIGINAL) if c == "\n" and i >= len(HEADER)]
    commas = [i for i, c in enumerate(ORIGINAL) if c == "," and i >= len(HEADER)]
    return st.one_of(
        st.tuples(st.just("cut"), st.integers(FIRST_END, len(ORIGINAL) - 1)),
        st.tuples(st.just("quote"), data),
        st.tuples(st.just("comma"), st.sampled_from(commas)),
        st.tuples(st.sampled_from(["cr", "crlf"]), st.sampled_from(newlines)))


def mutate(kind, at):
    """The mutated text and the character range [first, last] of the original that it changed."""
    if kind == "cut":
        return ORIGINAL[:at], (at, len(ORIGINAL))
    if kind == "quote":
        return ORIGINAL[:at] + '"' + ORIGINAL[at:], (at, at)
    if kind == "comma":
        return ORIGINAL[:at] + "," + ORIGINAL[at:], (at, at)
    return ORIGINAL[:at] + ("\r" if kind == "cr" else "\r\n") + ORIGINAL[at + 1:], (at, at)


def physical_lines(text):
    lines = text.split("\n")
    return lines[:-1] if text.endswith("\n") else lines


def untouched(kind, changed):
    """(tweetid, line in the mutated file) of the records on lines the mutation did not touch."""
    first, last = changed
    line_start = ORIGINAL.rfind("\n", 0, first) + 1  # the lines holding a changed character are touched
    line_end = ORIGINAL.find("\n", last + (kind == "cr"))  # a CR alone joins the next line to this one
    line_end = len(ORIGINAL) if line_end < 0 else line_end
    kept = []
    for i, start in enumerate(STARTS):
        end = start + len(RECORDS[i]) - 1  # its final newline
        if end < line_start or (start > line_end and kind != "cut"):
            line = ORIGINAL.count("\n", 0, start) + 1 - (kind == "cr" and start > first)
            kept.append((str(100 + i), line))
    return kept


def check(kind, at):
    text, changed = mutate(kind, at)
    folder = Path(tempfile.mkdtemp(prefix="traction-property-"))
    try:
        (folder / "c_tweets_csv_hashed.csv").write_text(text, encoding="utf-8", newline="")
        report = archive.ingest(folder, "c", folder / "out")
        con = duckdb.connect()
        loaded = con.execute(f"""SELECT tweetid, source_line, source_line + len(coalesce(tweet_text, ''))
            - len(replace(coalesce(tweet_text, ''), chr(10), '')) FROM read_parquet('{folder / 'out' / 'tweets.parquet'}')""").fetchall()
        rejected = con.execute(f"SELECT source_line, source_last_line, reason FROM "
                               f"read_parquet('{folder / 'out' / 'rejected.parquet'}')").fetchall()
    finally:
        shutil.rmtree(folder)
    entry = report["files"][0]
    assert entry["rows_read"] == entry["rows_loaded"] + entry["rows_rejected"] == len(loaded) + len(rejected)
    # a damaged stretch is one unit: the csv module may split one of its lines into two records (a CR alone)
    stretches = [(d["first_line"], d["last_line"], d["reason"]) for d in entry["damage"]]
    for first, last, reason in rejected:
        if any(reason == r for *_, r in stretches):
            assert any(a <= first <= last <= b for a, b, r in stretches if r == reason)
    assert sum(d["records_rejected"] for d in entry["damage"]) == sum(
        1 for *_, reason in rejected if any(reason == r for *_, r in stretches))
    units = [(first, last) for _, first, last in loaded] + [(a, b) for a, b, _ in stretches] + [
        (first, last) for first, last, reason in rejected if not any(reason == r for *_, r in stretches)]
    seen = [1] + [line for first, last in units for line in range(first, last + 1)]
    lines = physical_lines(text)
    blank = [n for n, line in enumerate(lines, 1) if line in ("", "\r") and n not in seen]
    assert sorted(seen + blank) == list(range(1, len(lines) + 1)), (kind, at)  # each line exactly once
    assert entry["blank_lines"] == len(blank)
    assert set(untouched(kind, changed)) <= {(tweetid, first) for tweetid, first, _ in loaded}, (kind, at)


@given(mutations())
@settings(settings.get_profile("suite"))
def test_every_line_is_accounted_for_once_and_untouched_rows_load(mutation):
    check(*mutation)


@pytest.mark.slow
@given(mutations())
@settings(settings.get_profile("slow"))
def test_every_line_is_accounted_for_once_and_untouched_rows_load_many_examples(mutation):
    check(*mutation)


def test_the_unmutated_file_loads_whole():
    folder = Path(tempfile.mkdtemp(prefix="traction-property-"))
    try:
        (folder / "c_tweets_csv_hashed.csv").write_text(ORIGINAL, encoding="utf-8", newline="")
        report = archive.ingest(folder, "c", folder / "out")
    finally:
        shutil.rmtree(folder)
    assert report["totals"]["rows_loaded"] == len(RECORDS) and report["totals"]["rows_rejected"] == 0
