"""The coordination's cost window by window: the trace tables, then each window's pair counts, with seconds, peak
RSS, peak spill and the rows the pair query joins.

    python benchmarks/coordination_probe.py WORK_DIR [WINDOWS] [--draws]   # WINDOWS: minutes, default 1,10,60

Without ``--draws`` each window counts its observed pairs once; with it, also its null draws as
``stats.coordination.measure`` does (19 with edges at the default window, 2 counts-only at the others). A thread
samples RSS and the size of DuckDB's spill folder every 50 ms; each part prints one JSON line as it ends. Used for
docs/benchmarks.md (coordination by window, and the Turkey size, where a window that outgrows DuckDB's spill limit
prints its error).
"""

import json
import sys
import tempfile
import threading
import time
from pathlib import Path

from helpers import traces as traces_module
from helpers.errors import TractionError
from helpers.stats import coordination

peak = {"rss": 0.0, "spill": 0.0}
SPILL = Path(tempfile.gettempdir()) / "traction-duckdb"  # frames.connect's temp_directory


def rss_mb():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096 / 2**20


def spill_mb():
    return sum(f.stat().st_size for f in SPILL.rglob("*") if f.is_file()) / 2**20 if SPILL.is_dir() else 0.0


def sample():
    while True:
        try:
            peak["rss"], peak["spill"] = max(peak["rss"], rss_mb()), max(peak["spill"], spill_mb())
        except OSError:  # a spill file removed while listed
            pass
        time.sleep(0.05)


def part(name, run):
    peak["rss"], peak["spill"], started = rss_mb(), 0.0, time.time()
    try:
        out = run()
    except TractionError as error:
        out = {"error": str(error)}
    print(json.dumps({"part": name, "seconds": round(time.time() - started, 1), "peak_mb": round(peak["rss"]),
                      "spill_mb": round(peak["spill"]), **out}), flush=True)


def window_cost(traces, window, draws):
    """The observed pairs at ``window`` (and its null draws): joined rows, parts, tied accounts and pairs."""
    default = window == coordination.DEFAULT_WINDOW
    options = {"min_weight": coordination.MIN_WEIGHT, "max_rows": coordination.MAX_ROWS, "edges": default}
    observed = traces.pairs(window, **options)
    joined = traces._parts(window, 1)
    n_draws = (coordination.NULL_DRAWS if default else coordination.FIGURE_DRAWS) if draws else 0
    reach = max(1, round(coordination.NULL_SPAN * traces.n_rows))
    for draw, shifts in coordination.null_shifts(traces.n_accounts, n_draws, reach, seed=(0, window)):
        traces.pairs(window, shifts=shifts, draw=draw, **options)
    return {"joined_rows": joined, "parts": traces._parts(window, traces_module.ROWS_PER_PART), "null_draws": n_draws,
            "tied_accounts": observed.counts.get("any", (0, 0))[0], "pairs": observed.counts.get("any", (0, 0))[1]}


def main(work_dir, windows, draws):
    threading.Thread(target=sample, daemon=True).start()
    traces = traces_module.open(work_dir)
    part("traces", lambda: {"rows_that_can_pair": traces.rows_per_trace(), "accounts": traces.n_accounts,
                            "tweet_rows": traces.n_rows})
    for window in windows:
        part(f"window {window}", lambda: window_cost(traces, window, draws))


if __name__ == "__main__":
    arguments = [a for a in sys.argv[1:] if a != "--draws"]
    main(arguments[0], [int(w) for w in (arguments[1] if len(arguments) > 1 else "1,10,60").split(",")],
         "--draws" in sys.argv)
