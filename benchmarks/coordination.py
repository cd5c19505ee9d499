"""One coordination job for `make bench`: the traces of a work folder's tweets, every window, the null draws.

    python benchmarks/coordination.py WORK_DIR

Prints the seconds of each part and the summary; run under /usr/bin/time -v by benchmarks/run.py.
"""

import sys
import time

from helpers import traces as traces_module
from helpers.stats import coordination


def main(work_dir):
    started = time.perf_counter()
    traces = traces_module.open(work_dir)
    traces.rows_per_trace()  # builds the trace tables
    built = time.perf_counter()
    found = coordination.measure(traces)
    done = time.perf_counter()
    print(f"traces built in {built - started:.1f} s; windows and null draws in {done - built:.1f} s; "
          f"{traces.n_rows:,} tweet rows, {traces.n_accounts:,} accounts, rows that can pair {traces.rows_per_trace()}")
    print(found.summary())


if __name__ == "__main__":
    main(sys.argv[1])
