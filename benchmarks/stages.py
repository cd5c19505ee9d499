"""Notebook 02's step in stages on a large work folder: wall, CPU and peak RSS per stage, with the stack at the peak.

    python benchmarks/stages.py WORK_DIR N_BOOT [--coordination]

Each stage's peak is the kernel's high-water mark (VmHWM, reset between stages through
/proc/self/clear_refs), and a sampling thread (every 50 ms) keeps the main thread's stack at the
highest RSS it saw; each stage prints one JSON line as it ends. As in the step, --coordination measures first, in a
child process (its peak on top of what this one held is ``with_child_mb``), and the frames close their connection
once built. Used for the Turkey size (docs/benchmarks.md#the-turkey-size-37m-tweets), where a whole run takes hours:
few resamples give the peaks, two resample counts give the cost per resample.
"""

import json
import resource
import sys
import tempfile
import threading
import time
import traceback

from helpers import frames, steps
from helpers.report import figures
from helpers.stats import (amplification, analysis, content, descriptives, dose_response, lifespan,
                           models, reference)

peak = [0.0, None]


def rss_mb():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


def high_water_mb():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM")) / 1024


def reset_high_water():
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
    except OSError:  # not Linux, or not allowed: the sampler's peak alone
        pass


def sample(main=threading.main_thread().ident):
    while True:
        now = rss_mb()
        if now > peak[0]:
            frame = sys._current_frames().get(main)
            peak[0], peak[1] = now, "".join(traceback.format_stack(frame)[-6:]) if frame else None
        time.sleep(0.05)


def stage(name, run):
    peak[0] = 0.0
    reset_high_water()
    wall, cpu = time.time(), time.process_time()
    held = rss_mb()
    out = run()
    # a stage run in a child (the coordination, helpers.child): its peak on top of what this process held meanwhile
    child_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"stage": name, "wall": round(time.time() - wall, 1), "cpu": round(time.process_time() - cpu, 1),
                      "peak_mb": round(max(peak[0], high_water_mb())), "after_mb": round(rss_mb()),
                      "with_child_mb": round(held + child_mb) if child_mb else None, "where": peak[1]}), flush=True)
    return out


def main(work, n_boot, with_coordination):
    steps.give_back_freed_arrays()  # as notebook 02's step does
    threading.Thread(target=sample, daemon=True).start()
    if with_coordination:  # first, on its own connection, as the step does
        stage("coordination", lambda: steps.measure_coordination(work, seed=0))
    loaded = stage("frames.load", lambda: frames.load(work, max_tweets=2_000_000, seed=0))
    acc, tw = loaded.accounts, loaded.tweets
    common = dict(n_boot=n_boot, seed=0)
    fitted = stage("models", lambda: models.fit_engagement_models(acc, tw, seed=0))
    tests = stage("descriptives", lambda: descriptives.follower_tests(acc, **common) + descriptives.engagement_tests(
        acc, tw, tweets_note=loaded.tweets_sample_note, **common) + descriptives.rank_tests(acc, **common))
    stage("amplification+lifespan+content", lambda: amplification.amplification_tests(acc, **common)
          + lifespan.lifespan_tests(acc, **common) + content.content_tests(acc, **common))
    stage("reference", lambda: reference.reference_tests(acc, loaded.reference, loaded.campaign, **common))
    tables = stage("tables", lambda: {"follower_bands": dose_response.band_table(acc, **common),
                                      "lifespan_bands": lifespan.lifespan_table(acc, **common),
                                      "engagement_quantiles": descriptives.engagement_quantiles(acc, tw),
                                      **analysis.model_tables(fitted)})
    with tempfile.TemporaryDirectory() as folder:
        stage("figures", lambda: figures.draw_all(analysis.Analysis(loaded, tests, tables, fitted), folder))
    print(f"ru_maxrss {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), "--coordination" in sys.argv)
