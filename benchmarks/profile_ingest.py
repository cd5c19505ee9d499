"""Where a cold `traction ingest` spends its time: phases timed from outside helpers.ingest.

Wraps (at run time, without editing them) the hash-and-line-count pass, the record-map
scan, each streamed pass and every SQL statement the ingest sends to DuckDB, then
prints one line per phase with wall and process-CPU seconds (CPU covers DuckDB's
threads too) and the peak RSS so far.

    python benchmarks/profile_ingest.py DATA_DIR CAMPAIGN [OUT_DIR]
"""

import functools
import re
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from helpers.ingest import archive, assemble, load, scan, stream

WRAPPED = [(scan, "quick_scan", "hash + line count (cache key)"),
           (scan, "scan_file", "record-map scan (slow path)"),
           (stream, "run", "streamed pass: parse, type, number lines, write"),
           (assemble, "rank_duplicates", "duplicate check (GROUP BY id HAVING count > 1)"),
           (assemble, "rejected_rows", "rejected rows' raw text"),
           (load, "user_columns", "second pass: accounts missing from the users file")]
EVENTS = []


def timed(label, function):
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            EVENTS.append((label, time.perf_counter() - wall, time.process_time() - cpu, peak_mb()))
    return wrapper


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def describe(sql: str) -> str:
    """A short name for a statement: what it reads and what it makes."""
    text = " ".join(sql.split())
    reads = "CSV" if "read_csv(" in text else "parquet" if "read_parquet(" in text else "tables"
    if text.startswith("COPY"):
        target = re.search(r"TO '([^']+)'", text)
        return f"COPY from {reads} -> {Path(target.group(1)).name if target else '?'}"
    if text.startswith("CREATE"):
        return f"CREATE {text.split()[2 if 'TEMP' in text[:20] else 1]} {text.split(' AS ')[0].split()[-1]} from {reads}"
    if text.startswith("SET"):
        return "SET"
    return f"{text[:70]}... from {reads}"


class TimedConnection:
    """A DuckDB connection whose execute() records each statement's time (sql() is timed by its caller)."""

    def __init__(self, con):
        self._con = con

    def execute(self, sql, *args):
        wall, cpu = time.perf_counter(), time.process_time()
        result = self._con.execute(sql, *args)
        EVENTS.append(("  sql: " + describe(sql), time.perf_counter() - wall, time.process_time() - cpu, peak_mb()))
        return result

    def __getattr__(self, name):
        return getattr(self._con, name)


def main(data_dir, campaign, out_dir=None):
    out = Path(out_dir or tempfile.mkdtemp(prefix="profile-ingest-"))
    shutil.rmtree(out, ignore_errors=True)
    for module, name, label in WRAPPED:
        setattr(module, name, timed(label, getattr(module, name)))
    connect = archive._connect
    archive._connect = lambda *a, **k: TimedConnection(connect(*a, **k))
    wall, cpu = time.perf_counter(), time.process_time()
    report = archive.ingest(data_dir, campaign, out)
    total_wall, total_cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"ingest of {report['totals']['tweets']:,} tweets: {total_wall:.1f} s wall, {total_cpu:.1f} s CPU, "
          f"peak RSS {peak_mb():.0f} MB\n")
    print(f"{'wall s':>8} {'CPU s':>8} {'CPU %':>6} {'peak MB':>8}  phase")
    for label, seconds, cpu_seconds, peak in EVENTS:
        if seconds >= 0.05:
            print(f"{seconds:8.2f} {cpu_seconds:8.2f} {100 * cpu_seconds / total_cpu:5.1f}% {peak:8.0f}  {label}")
    if out_dir is None:
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    main(*sys.argv[1:])
