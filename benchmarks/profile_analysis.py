"""Where notebook 02 spends its time: `helpers.steps.engagement_vs_followers` timed from outside.

Wraps the public functions of the analysis modules (at run time, without
editing them) and prints a call tree with wall and process-CPU seconds. Run it
on a work dir the ingest has filled (e.g. benchmarks/runs/default/work after
`make bench`); results.json and figures are written to a copy, not the original.

    python benchmarks/profile_analysis.py WORK_DIR [--n-boot N]
"""

import argparse
import functools
import inspect
import shutil
import tempfile
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
            EVENTS[slot] = (DEPTH[0], label, time.perf_counter() - wall, time.process_time() - cpu)
    return wrapper


def instrument():
    for module in MODULES:
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if not name.startswith("_") and function.__module__ == module.__name__:
                setattr(module, name, timed(f"{module.__name__.split('.')[-1]}.{name}", function))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("work_dir")
    parser.add_argument("--n-boot", type=int, default=999)
    parser.add_argument("--min-seconds", type=float, default=0.2, help="hide calls shorter than this")
    args = parser.parse_args(argv)
    copy = Path(tempfile.mkdtemp(prefix="profile-analysis-")) / "work"
    shutil.copytree(args.work_dir, copy, ignore=shutil.ignore_patterns("figures", "results.json"))
    instrument()
    wall, cpu = time.perf_counter(), time.process_time()
    steps.engagement_vs_followers(copy, n_boot=args.n_boot)
    total_wall, total_cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"steps.engagement_vs_followers (n_boot={args.n_boot}): {total_wall:.1f} s wall, {total_cpu:.1f} s CPU\n")
    print(f"{'wall s':>8} {'CPU s':>8} {'wall %':>7}  call")
    for depth, label, seconds, cpu_seconds in EVENTS:
        if seconds >= args.min_seconds:
            print(f"{seconds:8.2f} {cpu_seconds:8.2f} {100 * seconds / total_wall:6.1f}%  {'  ' * depth}{label}")
    shutil.rmtree(copy.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
