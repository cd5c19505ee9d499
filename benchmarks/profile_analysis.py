"""Where notebook 02 spends its time: `helpers.steps.engagement_vs_followers` timed from outside.

Wraps the public functions of the analysis modules (at run time, without
editing them) and prints a call tree with wall and process-CPU seconds and the
highest RSS while each call ran (sampled every 0.2 s by a thread). Run it on a
work dir the ingest has filled (e.g. benchmarks/runs/default/work after `make
bench`); results.json and figures are written to a folder of links to its
tables, not into it.

    python benchmarks/profile_analysis.py WORK_DIR [--n-boot N]
"""

import argparse
import bisect
import functools
import inspect
import resource
import shutil
import tempfile
import threading
import time
from pathlib import Path

from helpers import frames, results, steps
from helpers.report import figures
from helpers.stats import (amplification, analysis, content, descriptives, dose_response, fitting, lifespan, models,
                           resampling)

MODULES = [frames, analysis, descriptives, dose_response, amplification, lifespan, resampling, content, models,
           fitting, figures, results]
EVENTS, DEPTH = [], [0]


def timed(label, function):
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        slot = len(EVENTS)
        EVENTS.append(None)
        DEPTH[0] += 1
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            DEPTH[0] -= 1
            during = [mb for _, mb in SAMPLES[bisect.bisect_left(SAMPLES, (wall,)):]] or [rss_mb()]
            EVENTS[slot] = (DEPTH[0], label, time.perf_counter() - wall, time.process_time() - cpu, max(during))
    return wrapper


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb() -> float:
    return int(Path("/proc/self/statm").read_text().split()[1]) * resource.getpagesize() / 2**20


SAMPLES = []  # (perf_counter, RSS MB) every 0.2 s: the highest RSS while a call ran


def sample():
    while True:
        SAMPLES.append((time.perf_counter(), rss_mb()))
        time.sleep(0.2)


# Called once per block and chunk of accounts (about 20,000 times a pass at 2.5M accounts): wrapped, the
# wrapper's own cost would be most of what it timed.
INNER = {"resampling.poisson_weights"}


def instrument():
    for module in MODULES:
        for name, function in inspect.getmembers(module, inspect.isfunction):
            label = f"{module.__name__.split('.')[-1]}.{name}"
            if not name.startswith("_") and function.__module__ == module.__name__ and label not in INNER:
                setattr(module, name, timed(label, function))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("work_dir")
    parser.add_argument("--n-boot", type=int, default=999)
    parser.add_argument("--min-seconds", type=float, default=0.2, help="hide calls shorter than this")
    args = parser.parse_args(argv)
    copy = Path(tempfile.mkdtemp(prefix="profile-analysis-")) / "work"
    copy.mkdir()
    for name in ("accounts.parquet", "tweets.parquet", "rejected.parquet", "load_report.json"):
        if (Path(args.work_dir) / name).exists():
            (copy / name).symlink_to((Path(args.work_dir) / name).resolve())
    instrument()
    threading.Thread(target=sample, daemon=True).start()
    wall, cpu = time.perf_counter(), time.process_time()
    steps.engagement_vs_followers(copy, n_boot=args.n_boot)
    total_wall, total_cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"steps.engagement_vs_followers (n_boot={args.n_boot}): {total_wall:.1f} s wall, {total_cpu:.1f} s CPU, "
          f"peak RSS {peak_mb():,.0f} MB\n")
    print(f"{'wall s':>8} {'CPU s':>8} {'wall %':>7} {'max RSS':>8}  call (max RSS while it ran, MB)")
    for depth, label, seconds, cpu_seconds, peak in EVENTS:
        if seconds >= args.min_seconds:
            print(f"{seconds:8.2f} {cpu_seconds:8.2f} {100 * seconds / total_wall:6.1f}% {peak:8,.0f}  "
                  f"{'  ' * depth}{label}")
    shutil.rmtree(copy.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
