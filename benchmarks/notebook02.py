"""Notebook 02's step on an ingest's tables, for ``run.py --notebook-02`` under /usr/bin/time.

GNU time reports the largest single process's peak, and the step measures the coordination in a child process
(``helpers.child``). This prints the peak of the two together: this process's resident size when the child
started (it waits, unchanged, until the child ends) plus the child's own peak.

    python benchmarks/notebook02.py WORK_DIR
"""

import resource
import sys

from helpers import child, steps

held_at_launch = []
launch = child.call


def counted(*args, **kwargs):
    with open("/proc/self/statm") as statm:
        held_at_launch.append(int(statm.read().split()[1]) * resource.getpagesize() / 2**20)
    return launch(*args, **kwargs)


if __name__ == "__main__":
    child.call = counted
    run = steps.engagement_vs_followers(sys.argv[1])
    print(run.path, len(run.analysis.tests))
    child_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"together_peak_mb {max(held_at_launch, default=0.0) + child_peak:.1f} "
          f"(held {max(held_at_launch, default=0.0):.1f} while the child peaked at {child_peak:.1f})", flush=True)
