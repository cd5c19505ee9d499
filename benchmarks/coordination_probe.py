"""The coordination's cost at a large size without its hours of null draws: the trace tables, then one observed
pair query per window, each with its seconds and peak RSS.

    python benchmarks/coordination_probe.py WORK_DIR [WINDOWS]     # WINDOWS: minutes, default 1,10,60

A thread samples RSS every 50 ms; each part prints one JSON line as it ends. Used for the Turkey size
(docs/benchmarks.md#the-turkey-size-37m-tweets), where a window that outgrows DuckDB's spill limit prints its error.
"""

import json
import sys
import threading
import time

from helpers import traces as traces_module
from helpers.errors import TractionError

peak = [0.0]


def rss_mb():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096 / 2**20


def sample():
    while True:
        peak[0] = max(peak[0], rss_mb())
        time.sleep(0.05)


def part(name, run):
    peak[0], started = rss_mb(), time.time()
    try:
        out = run()
    except TractionError as error:
        out = {"error": str(error)}
    print(json.dumps({"part": name, "seconds": round(time.time() - started, 1), "peak_mb": round(peak[0]), **out}),
          flush=True)


def main(work_dir, windows):
    threading.Thread(target=sample, daemon=True).start()
    traces = traces_module.open(work_dir)
    part("traces", lambda: {"rows_that_can_pair": traces.rows_per_trace(), "accounts": traces.n_accounts})
    for window in windows:
        part(f"window {window}", lambda: {"counts": traces.pairs(window, min_weight=2, max_rows=500,
                                                                  edges=False).counts})


if __name__ == "__main__":
    main(sys.argv[1], [int(w) for w in (sys.argv[2] if len(sys.argv) > 2 else "1,10,60").split(",")])
