"""`make bench`: traction ingest against the engine's own typed copy (the floor) and the pandas way.

For each size (simulator scale; 1 = 348,608 tweets) every job in ``JOBS`` runs as its
own process under GNU ``/usr/bin/time -v``, so wall time, CPU time and peak RSS are
measured from outside, one after another in the same run:

- floor:      ``duckdb_reference.py typed``: DuckDB's typed copy to Parquet (ids as text,
              other types detected, preserve_insertion_order = false);
- ingest:     ``traction ingest`` into a fresh out folder (cold);
- cached:     the same command again (the ingest's cache);
- pandas:     ``pandas_baseline.py`` (read_csv whole files, to_datetime, groupby);
- all_text:   ``duckdb_reference.py all_text`` (reference: every column as text);
- parse_only: ``duckdb_reference.py parse_only`` (reference: DuckDB's count(*));
- notebook02: ``helpers.steps.engagement_vs_followers`` on the ingest's tables
              (``--notebook-02``; the Turkey-size run).

Then, on the 3.5M campaign, the coordination job (``coordination.py``) and coordination-network-toolkit's co-retweet
network beside ours (``coordination_toolkit.py``, the toolkit in a throwaway venv), and ``traction run --out
benchmarks/runs/default`` (cold) with its per-notebook
seconds from run.json. Prints markdown tables and merges into
``benchmarks/results.json`` (entries keyed by scale; re-measured sizes replace
theirs). Campaigns are generated once into ``benchmarks/data/`` and reused.

    python benchmarks/run.py                      # scales 1,10,30 and traction run
    python benchmarks/run.py --scales 106 --notebook-02 --no-run   # the Turkey size (37M tweets, 16 GB)
    python benchmarks/run.py --scales 0.1 --no-run --results /tmp/bench.json   # quick try
    python benchmarks/run.py --table-only         # the tables of benchmarks/results.json

A new line: add a ``Job`` to ``JOBS`` (its command gets the size's ``Context``).
"""

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from helpers.simulate import GENERATOR_VERSION

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"
DATA, RUNS = BENCH / "data", BENCH / "runs"
BIN = Path(sys.executable).parent
TIME = "/usr/bin/time"
CAMPAIGN = "bench"
SEED = 20200611
MB = 1e6
# The benchmark's targets (measured here, never asserted in the test suite).
FLOOR_FACTOR, FLOOR_STRETCH, RSS_SHARE, CACHE_SHARE, RUN_SECONDS = 1.5, 1.2, 0.25, 0.1, 90
RSS_CAP_10M_MB, RSS_CAP_TURKEY_MB, TURKEY_TWEETS = 1536, 2048, 30_000_000


# ---- measuring one process ---------------------------------------------------


def check_time():
    if not Path(TIME).is_file():
        sys.exit(f"benchmarks: {TIME} not found; peak memory is measured with GNU time "
                 "(Debian/Ubuntu: apt-get install -y time)")
    probe = subprocess.run([TIME, "-v", "true"], capture_output=True, text=True)
    if "Maximum resident set size" not in probe.stderr:
        sys.exit(f"benchmarks: {TIME} is not GNU time (no -v report); install Debian's `time` package")


def _clock(text: str) -> float:
    """'1:02:03.4' or '2:03.45' -> seconds."""
    seconds = 0.0
    for part in text.split(":"):
        seconds = seconds * 60 + float(part)
    return seconds


def measure(name: str, command: list, timeout: float) -> dict:
    """Run `command` under /usr/bin/time -v; wall and CPU seconds, peak RSS MB, load before it."""
    log = RUNS / "logs" / f"{name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()[0]
    with open(log, "w") as out:
        started = time.perf_counter()
        done = subprocess.run([TIME, "-v", *map(str, command)], stdout=out, stderr=subprocess.STDOUT,
                              cwd=ROOT, timeout=timeout)
        elapsed = time.perf_counter() - started
    text = log.read_text(errors="replace")
    if done.returncode != 0:
        tail = "\n".join(text.splitlines()[-40:])
        raise RuntimeError(f"{name} failed (exit {done.returncode}); log {log}:\n{tail}")
    field = lambda label: re.search(rf"{re.escape(label)}: (.+)", text).group(1).strip()  # noqa: E731
    together = re.search(r"together_peak_mb ([0-9.]+)", text)  # a job with a child process (notebook02.py)
    largest_single = round(int(field("Maximum resident set size (kbytes)")) * 1024 / MB, 1)
    return {"seconds": round(_clock(field("Elapsed (wall clock) time (h:mm:ss or m:ss)")), 2),
            "cpu_seconds": round(float(field("User time (seconds)")) + float(field("System time (seconds)")), 2),
            "peak_rss_mb": max(largest_single, float(together.group(1))) if together else largest_single,
            "load_1min_before": round(load, 2), "python_seconds": round(elapsed, 2)}


def machine() -> dict:
    meminfo = Path("/proc/meminfo").read_text()
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").is_file() else ""
    model = re.search(r"model name\s*: (.+)", cpuinfo)
    versions = subprocess.run([BIN / "python", "-c", "import duckdb, pandas, pyarrow; print(duckdb.__version__, "
                               "pandas.__version__, pyarrow.__version__)"], capture_output=True, text=True).stdout.split()
    return {"cores": os.cpu_count(), "memory_gb": round(int(re.search(r"MemTotal:\s+(\d+)", meminfo).group(1)) / 2**20, 1),
            "cpu_model": model.group(1).strip() if model else platform.processor(),
            "os": platform.platform(), "python": platform.python_version(),
            "duckdb": versions[0] if versions else None, "pandas": versions[1] if len(versions) > 1 else None,
            "pyarrow": versions[2] if len(versions) > 2 else None}


def code_version() -> dict:
    """The commit measured, and which source files differed from it (others may be mid-edit)."""
    git = lambda *a: subprocess.run(["git", *a], capture_output=True, text=True, cwd=ROOT).stdout.strip()  # noqa: E731
    return {"commit": git("rev-parse", "--short", "HEAD"),
            "modified_sources": git("status", "--porcelain", "--", "src").splitlines()}


def available_mb() -> float:
    return int(re.search(r"MemAvailable:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1)) * 1024 / MB


# ---- data --------------------------------------------------------------------


def campaign_dir(scale: float) -> Path:
    """The simulated campaign at `scale`, generated on first use and reused while the generator is unchanged."""
    folder = DATA / f"scale{scale:g}_seed{SEED}"
    truth = folder / "truth.json"
    if truth.is_file():
        known = json.loads(truth.read_text())
        if known.get("generator_version") == GENERATOR_VERSION and known["scenario"]["scale"] == scale:
            return folder
        shutil.rmtree(folder)
    staging = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    print(f"generating scale {scale:g} into {folder.relative_to(ROOT)} ...", flush=True)
    subprocess.run([BIN / "traction", "simulate", "--out", staging, "--campaign", CAMPAIGN, "--seed", str(SEED),
                    "--scale", str(scale)], check=True, cwd=ROOT)
    staging.rename(folder)
    return folder


def warm(paths):
    """Read the inputs once so every job sees them in the page cache (none pays the first disk read)."""
    for path in paths:
        with open(path, "rb") as handle:
            while handle.read(1 << 24):
                pass


# ---- the jobs of one size ------------------------------------------------------


@dataclass
class Context:
    """What a job needs to know about the size being measured."""

    tag: str
    folder: Path  # the simulated campaign
    users: Path
    tweets: Path
    tweets_n: int
    ingest_out: Path  # traction ingest's out folder (kept until the size is done)
    options: argparse.Namespace
    previous_pandas: dict | None  # an earlier size's pandas peak, to skip a run that would not fit


@dataclass
class Job:
    """One measured line: ``command(ctx)`` returns the command, or a reason to skip as a string."""

    key: str
    label: str
    command: Callable[[Context], list | str]
    reference: bool = False  # an extra reference line, not a target's operand
    throughput: bool = True  # rows/s and MB/s are meaningful


def _ingest_command(ctx: Context) -> list:
    return [BIN / "traction", "ingest", "--data-dir", ctx.folder, "--campaign", CAMPAIGN, "--out", ctx.ingest_out]


def _reference(mode: str):
    return lambda ctx: [BIN / "python", BENCH / "duckdb_reference.py", mode, RUNS / f"{mode}-{ctx.tag}",
                        ctx.users, ctx.tweets]


def _pandas(ctx: Context):
    budget = min(24_000, 0.85 * available_mb())
    previous = ctx.previous_pandas
    if previous:
        predicted, basis = previous["peak_rss_mb"] * ctx.tweets_n / previous["tweets"], f"{previous['tweets']:,} tweets"
    else:  # about 2.8 bytes of memory per byte of CSV at 3.5M tweets
        size_mb = (ctx.users.stat().st_size + ctx.tweets.stat().st_size) / MB
        predicted, basis = 3 * size_mb, "3 bytes per byte of CSV"
    if predicted > budget:
        return f"predicted peak {predicted:,.0f} MB (linear from {basis}) exceeds the {budget:,.0f} MB budget"
    return [BIN / "python", BENCH / "pandas_baseline.py", ctx.users, ctx.tweets, RUNS / f"pandas-{ctx.tag}.parquet"]


def _notebook_02(ctx: Context):
    if not ctx.options.notebook_02:
        return None
    return [BIN / "python", BENCH / "notebook02.py", ctx.ingest_out]


JOBS = [
    Job("floor", "DuckDB typed copy (floor)", _reference("typed")),
    Job("ingest", "traction ingest", _ingest_command),
    Job("ingest_cached", "ingest, cached re-run", _ingest_command, throughput=False),
    Job("notebook02", "notebook 02 on the ingest's tables", _notebook_02, throughput=False),
    Job("pandas", "pandas baseline", _pandas),
    Job("all_text", "DuckDB all-text copy (reference)", _reference("all_text"), reference=True),
    Job("parse_only", "DuckDB parse only, count(*) (reference)", _reference("parse_only"), reference=True),
]


def throughput(result: dict, rows: int, size_mb: float) -> dict:
    seconds = max(result["seconds"], 1e-9)
    return {**result, "rows_per_s": round(rows / seconds), "mb_per_s": round(size_mb / seconds, 1)}


def check_ingest(ctx: Context, key: str):
    """The ingest loaded every tweet (cold), and the re-run came from its cache."""
    if key == "ingest":
        loaded = json.loads((ctx.ingest_out / "load_report.json").read_text())["totals"]
        if loaded["tweets"] != ctx.tweets_n or loaded["rows_rejected"]:
            raise RuntimeError(f"{ctx.tag}: ingest loaded {loaded['tweets']} of {ctx.tweets_n} tweets, "
                               f"rejected {loaded['rows_rejected']}")
    if key == "ingest_cached" and "[cache]" not in (RUNS / "logs" / f"ingest_cached-{ctx.tag}.log").read_text():
        raise RuntimeError(f"{ctx.tag}: the re-run did not come from the ingest's cache (did the ingest's code or "
                           "INGEST_VERSION change between the two runs? run this size again)")


def bench_size(scale: float, options, previous_pandas: dict | None) -> dict:
    folder = campaign_dir(scale)
    truth = json.loads((folder / "truth.json").read_text())
    users, tweets = folder / truth["files"]["users"], folder / truth["files"]["tweets"]
    n_tweets, n_users = truth["totals"]["tweets"], truth["totals"]["accounts"]
    rows, size_mb = n_tweets + n_users, (users.stat().st_size + tweets.stat().st_size) / MB
    tag = f"scale{scale:g}"
    ctx = Context(tag, folder, users, tweets, n_tweets, RUNS / f"ingest-{tag}", options, previous_pandas)
    shutil.rmtree(ctx.ingest_out, ignore_errors=True)
    warm([users, tweets])
    entry = {"scale": scale, "tweets": n_tweets, "users": n_users, "input_mb": round(size_mb, 1),
             "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "code": code_version()}
    try:
        for job in JOBS:
            command = job.command(ctx)
            if command is None:
                continue
            if isinstance(command, str):
                entry[job.key] = {"skipped": command}
                continue
            print(f"[{tag}] {job.label} ...", flush=True)
            result = measure(f"{job.key}-{tag}", command, options.timeout)
            check_ingest(ctx, job.key)
            entry[job.key] = throughput(result, rows, size_mb) if job.throughput else result
            for leftover in RUNS.glob(f"*-{tag}.parquet"):
                leftover.unlink()
            for mode in ("typed", "all_text", "parse_only"):
                shutil.rmtree(RUNS / f"{mode}-{tag}", ignore_errors=True)
    finally:
        shutil.rmtree(ctx.ingest_out, ignore_errors=True)
    entry["ratios"] = ratios(entry)
    return entry


def ratios(entry: dict) -> dict:
    ingest, floor, pandas = entry["ingest"], entry["floor"], entry.get("pandas", {})
    out = {"ingest_over_floor_seconds": round(ingest["seconds"] / floor["seconds"], 2),
           "ingest_over_floor_cpu": round(ingest["cpu_seconds"] / floor["cpu_seconds"], 2),
           "ingest_over_floor_rss": round(ingest["peak_rss_mb"] / floor["peak_rss_mb"], 2),
           "cached_over_cold_seconds": round(entry["ingest_cached"]["seconds"] / ingest["seconds"], 3)}
    if "seconds" in pandas:
        out.update(ingest_over_pandas_seconds=round(ingest["seconds"] / pandas["seconds"], 2),
                   ingest_over_pandas_cpu=round(ingest["cpu_seconds"] / pandas["cpu_seconds"], 2),
                   ingest_over_pandas_rss=round(ingest["peak_rss_mb"] / pandas["peak_rss_mb"], 3))
    return out


# ---- traction run on the default campaign ------------------------------------


def bench_run(timeout: float) -> dict:
    out = RUNS / "default"
    shutil.rmtree(out, ignore_errors=True)
    print("traction run --out benchmarks/runs/default (cold: ingest included) ...", flush=True)
    code = code_version()
    result = measure("run-default", [BIN / "traction", "run", "--out", out], timeout)
    record = json.loads((out / "run.json").read_text())
    return {**result, "campaign": record["campaign"], "per_notebook_seconds": record["seconds"],
            "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "code": code}


# ---- coordination at about 3.5M tweets (stats.coordination) ------------------


COORDINATION_SCALE = 10


def coordination_work() -> Path:
    """The scale-10 campaign's tables for the coordination jobs (ingested once, then reused)."""
    folder = campaign_dir(COORDINATION_SCALE)
    work = RUNS / f"coordination-scale{COORDINATION_SCALE:g}"
    if not (work / "tweets.parquet").is_file():
        print(f"ingesting scale {COORDINATION_SCALE:g} for the coordination job ...", flush=True)
        subprocess.run([BIN / "traction", "ingest", "--data-dir", folder, "--campaign", CAMPAIGN, "--out", work],
                       check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return work


def bench_coordination(timeout: float) -> dict:
    """`benchmarks/coordination.py` on the scale-10 campaign's tables."""
    work = coordination_work()
    tweets = json.loads((work / "load_report.json").read_text())["totals"]["tweets"]
    print(f"coordination on {tweets:,} tweets ...", flush=True)
    code = code_version()
    result = measure(f"coordination-scale{COORDINATION_SCALE:g}", [BIN / "python", BENCH / "coordination.py", work],
                     timeout)
    log = (RUNS / "logs" / f"coordination-scale{COORDINATION_SCALE:g}.log").read_text()
    return {**result, "tweets": tweets, "detail": log.split("\n\tCommand being timed")[0].strip().splitlines()[:2],
            "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "code": code}


TOOLKIT = "coordination-network-toolkit==1.5.2"
TOOLKIT_VENV = Path("/tmp/cnt-venv")  # throwaway: the toolkit pulls in twarc, kept out of the project's environment


def bench_toolkit(timeout: float) -> dict:
    """`benchmarks/coordination_toolkit.py`: the toolkit's co-retweet network (60 s window, minimum edge weight 2) on
    the scale-10 campaign beside ours, and whether the two edge sets are equal."""
    tool = TOOLKIT_VENV / "bin" / "compute_networks"
    if not tool.is_file():
        made = subprocess.run(f"python3 -m venv {TOOLKIT_VENV} && {TOOLKIT_VENV}/bin/pip install --quiet {TOOLKIT}",
                              shell=True, capture_output=True, text=True)
        if made.returncode != 0:
            return {"skipped": f"pip install {TOOLKIT} into {TOOLKIT_VENV} failed: {made.stderr.strip()[-300:]}"}
    work = coordination_work()
    print("coordination-network-toolkit beside ours ...", flush=True)
    code = code_version()
    result = measure("toolkit-coordination", [BIN / "python", BENCH / "coordination_toolkit.py", work,
                                              RUNS / "toolkit", tool], timeout)
    shutil.rmtree(RUNS / "toolkit", ignore_errors=True)
    lines = (RUNS / "logs" / "toolkit-coordination.log").read_text().splitlines()
    return {**result, **json.loads(next(line for line in lines if line.startswith("{"))),
            "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "code": code}


def toolkit_table(result: dict) -> list:
    if "skipped" in result:
        return ["", f"coordination-network-toolkit beside ours: skipped ({result['skipped']})"]
    return ["", "| co-retweet network, 60 s window, min weight 2 | tweets | load or tables s | network s | pairs | "
                "same pairs and weights |", "|---|---:|---:|---:|---:|---|",
            f"| coordination-network-toolkit 1.5.2 | {result['tweets']:,} | {result['toolkit_load_s']:.1f} | "
            f"{result['toolkit_compute_s']:.1f} | {result['toolkit_pairs']:,} | |",
            f"| traction (`Traces`: trace tables, then the 1-minute pairs of every trace) | {result['tweets']:,} | "
            f"{result['ours_traces_s']:.1f} | {result['ours_pairs_s']:.1f} | {result['our_pairs']:,} | "
            f"{'yes' if result['edge_sets_equal'] and result['equal_weights'] == result['both'] else 'NO'}: "
            f"{result['only_ours']} only ours, {result['only_toolkit']} only the toolkit's, equal weights on "
            f"{result['equal_weights']:,} of {result['both']:,} |"]


def coordination_table(result: dict) -> list:
    return ["", "| coordination (all windows, null draws) | tweets | wall s | CPU s | peak RSS MB | load |",
            "|---|---:|---:|---:|---:|---:|",
            f"| `benchmarks/coordination.py` | {result['tweets']:,} | {result['seconds']:.1f} | "
            f"{result['cpu_seconds']:.1f} | {result['peak_rss_mb']:,.0f} | {result['load_1min_before']} |"]


# ---- targets and tables ------------------------------------------------------


def targets(sizes: list, run: dict | None) -> list:
    """Each target with the measured value and whether it holds."""
    checks = []
    big = [s for s in sizes if 3_000_000 <= s["tweets"] < TURKEY_TWEETS]
    for s in sizes:
        r, label = s["ratios"], f"{s['tweets'] / 1e6:.2f}M"
        factor = r["ingest_over_floor_seconds"]
        checks.append({"target": f"ingest within {FLOOR_FACTOR}x of the floor at {label} (stretch {FLOOR_STRETCH}x)",
                       "value": f"{factor:.2f}x wall ({r['ingest_over_floor_cpu']:.2f}x CPU)",
                       "met": factor <= FLOOR_FACTOR})
        if "ingest_over_pandas_seconds" in r:
            checks.append({"target": f"ingest no slower than pandas at {label}",
                           "value": f"{r['ingest_over_pandas_seconds']:.2f}x pandas' wall "
                                    f"({r['ingest_over_pandas_cpu']:.2f}x its CPU)",
                           "met": r["ingest_over_pandas_seconds"] <= 1})
            if s["tweets"] >= 3_000_000:
                share = r["ingest_over_pandas_rss"]
                checks.append({"target": f"ingest peak RSS <= 1/4 of pandas at {label}",
                               "value": f"{share:.2f} of pandas", "met": share <= RSS_SHARE})
        checks.append({"target": f"cached re-run < 1/10 of the cold ingest at {label}",
                       "value": f"{r['cached_over_cold_seconds']:.3f}",
                       "met": r["cached_over_cold_seconds"] < CACHE_SHARE})
        if 9_000_000 <= s["tweets"] < TURKEY_TWEETS:
            rss = s["ingest"]["peak_rss_mb"]
            checks.append({"target": f"ingest peak RSS < {RSS_CAP_10M_MB} MB at {label}",
                           "value": f"{rss:,.0f} MB", "met": rss < RSS_CAP_10M_MB})
        if s["tweets"] >= TURKEY_TWEETS:
            for key in ("ingest", "notebook02"):
                if key in s and "peak_rss_mb" in s[key]:
                    rss = s[key]["peak_rss_mb"]
                    checks.append({"target": f"{key} peak RSS < {RSS_CAP_TURKEY_MB} MB at {label}",
                                   "value": f"{rss:,.0f} MB in {s[key]['seconds'] / 60:.1f} min",
                                   "met": rss < RSS_CAP_TURKEY_MB})
    if len(big) >= 2:
        # CPU seconds: wall time on a shared machine follows the other jobs' load more than the rows
        per_m = [s["ingest"]["cpu_seconds"] / (s["tweets"] / 1e6) for s in big]
        spread = max(per_m) / min(per_m)
        checks.append({"target": "ingest time roughly linear in rows (CPU s per M tweets within 1.3x from 3.5M up)",
                       "value": ", ".join(f"{v:.1f}" for v in per_m) + " CPU s/M tweets", "met": spread <= 1.3})
    if run:
        checks.append({"target": f"traction run on the default < {RUN_SECONDS} s",
                       "value": f"{run['seconds']:.0f} s", "met": run["seconds"] < RUN_SECONDS})
    return checks


def tables(results: dict) -> str:
    lines = ["| tweets | job | wall s | CPU s | rows/s | MB/s | peak RSS MB | load |",
             "|---:|---|---:|---:|---:|---:|---:|---:|"]
    for s in results["sizes"]:
        for job in JOBS:
            m = s.get(job.key)
            if m is None:
                continue
            if "skipped" in m:
                lines.append(f"| {s['tweets']:,} | {job.label} | skipped: {m['skipped']} | | | | | |")
                continue
            rate = lambda k: f"{m[k]:,}" if k in m else ""  # noqa: E731
            lines.append(f"| {s['tweets']:,} | {job.label} | {m['seconds']:.1f} | {m['cpu_seconds']:.1f} | "
                         f"{rate('rows_per_s')} | {rate('mb_per_s')} | {m['peak_rss_mb']:,.0f} | {m['load_1min_before']} |")
    lines += ["", "| tweets | input MB | ingest / floor (wall) | ingest / floor (CPU) | ingest / pandas (wall) "
              "| ingest / pandas (CPU) | ingest / pandas (RSS) | cached / cold |", "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for s in results["sizes"]:
        r = s["ratios"]
        get = lambda k: f"{r[k]}" if k in r else "n/a"  # noqa: E731
        lines.append(f"| {s['tweets']:,} | {s['input_mb']:,.0f} | {get('ingest_over_floor_seconds')} | "
                     f"{get('ingest_over_floor_cpu')} | {get('ingest_over_pandas_seconds')} | "
                     f"{get('ingest_over_pandas_cpu')} | {get('ingest_over_pandas_rss')} | "
                     f"{get('cached_over_cold_seconds')} |")
    run = results.get("run_default")
    if run:
        lines += ["", "| traction run (default, cold) | wall s |", "|---|---:|"]
        lines += [f"| {name} | {seconds} |" for name, seconds in run["per_notebook_seconds"].items()]
        lines.append(f"| whole command (incl. HTML rendering, start-up) | {run['seconds']:.1f} |")
    if results.get("coordination"):
        lines += coordination_table(results["coordination"])
    if results.get("coordination_toolkit"):
        lines += toolkit_table(results["coordination_toolkit"])
    lines += ["", "| target | measured | met |", "|---|---|---|"]
    lines += [f"| {c['target']} | {c['value']} | {'yes' if c['met'] else 'NO'} |" for c in results["targets"]]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1,10,30",
                        help="simulator scales, comma-separated (1 = 348,608 tweets; 106 = the Turkey size, "
                             "37M tweets); '' for none")
    parser.add_argument("--notebook-02", action="store_true",
                        help="also run notebook 02's step on each size's ingested tables (peak RSS and time)")
    parser.add_argument("--no-run", action="store_true", help="skip `traction run` on the default campaign")
    parser.add_argument("--no-coordination", action="store_true", help="skip the coordination job at scale 10")
    parser.add_argument("--no-toolkit", action="store_true",
                        help="skip coordination-network-toolkit's co-retweet network beside ours at scale 10")
    parser.add_argument("--keep-data", action="store_true",
                        help="keep generated campaigns above 10M tweets (default: removed after use)")
    parser.add_argument("--results", default=str(BENCH / "results.json"), help="results file (merged by scale)")
    parser.add_argument("--fresh", action="store_true", help="drop earlier entries of the results file")
    parser.add_argument("--timeout", type=float, default=4 * 3600, help="seconds allowed per job")
    parser.add_argument("--table-only", action="store_true",
                        help="re-check the targets of the results file and print its tables; measure nothing")
    args = parser.parse_args(argv)
    if args.table_only:
        results = json.loads(Path(args.results).read_text())
        results["targets"] = targets(results["sizes"], results.get("run_default"))
        Path(args.results).write_text(json.dumps(results, indent=2) + "\n")
        print(tables(results))
        return
    check_time()
    scales = [float(s) for s in args.scales.split(",") if s.strip()]
    results_path = Path(args.results)
    results = {} if args.fresh or not results_path.is_file() else json.loads(results_path.read_text())
    by_scale = {s["scale"]: s for s in results.get("sizes", []) if "floor" in s}  # older entries had no floor
    results.update(machine=machine(), load_1min_at_start=round(os.getloadavg()[0], 2))
    RUNS.mkdir(parents=True, exist_ok=True)
    measured = [s for s in by_scale.values() if "seconds" in s.get("pandas", {})]
    previous_pandas = max(({"tweets": s["tweets"], "peak_rss_mb": s["pandas"]["peak_rss_mb"]} for s in measured),
                          key=lambda p: p["tweets"], default=None)  # predicts pandas' peak at a larger size
    for scale in sorted(scales):
        entry = bench_size(scale, args, previous_pandas)
        if "seconds" in entry.get("pandas", {}):
            previous_pandas = {"tweets": entry["tweets"], "peak_rss_mb": entry["pandas"]["peak_rss_mb"]}
        if entry["tweets"] >= TURKEY_TWEETS and not args.keep_data:
            shutil.rmtree(DATA / f"scale{scale:g}_seed{SEED}", ignore_errors=True)  # 16 GB of CSV
        by_scale[scale] = entry
        results["sizes"] = [by_scale[k] for k in sorted(by_scale)]
        results["targets"] = targets(results["sizes"], results.get("run_default"))
        results_path.write_text(json.dumps(results, indent=2) + "\n")  # after each size: a long run keeps its work
    if not args.no_coordination:
        results["coordination"] = bench_coordination(args.timeout)
    if not args.no_toolkit:
        results["coordination_toolkit"] = bench_toolkit(args.timeout)
    if not args.no_run:
        results["run_default"] = bench_run(args.timeout)
    results["sizes"] = [by_scale[k] for k in sorted(by_scale)]
    results["targets"] = targets(results["sizes"], results.get("run_default"))
    results_path.write_text(json.dumps(results, indent=2) + "\n")
    m = results["machine"]
    print(f"\nMachine: {m['cores']} cores, {m['memory_gb']} GB, {m['cpu_model']}; "
          f"load {results['load_1min_at_start']} at start\n")
    print(tables(results))
    print(f"\nwrote {results_path}")


if __name__ == "__main__":
    main()
