"""`make bench`: traction ingest against the pandas way and DuckDB's ceiling, then `traction run`.

For each size (simulator scale; 1 = 348,608 tweets) every job runs as its own
process under GNU ``/usr/bin/time -v``, so wall time, CPU time and peak RSS are
measured from outside:

- ingest:   ``traction ingest`` into a fresh out folder (cold);
- cached:   the same command again (the ingest's cache);
- pandas:   ``benchmarks/pandas_baseline.py`` (read_csv whole files, to_datetime, groupby);
- ceiling:  ``benchmarks/duckdb_ceiling.py`` (DuckDB CSV -> Parquet, all columns text).

Then ``traction run --out benchmarks/runs/default`` (cold) with its per-notebook
seconds from run.json. Prints markdown tables and merges into
``benchmarks/results.json`` (entries keyed by scale; re-measured sizes replace
theirs). Campaigns are generated once into ``benchmarks/data/`` and reused.

    python benchmarks/run.py                      # scales 1,10,30 and traction run
    python benchmarks/run.py --scales 0.1 --no-run --results /tmp/bench.json   # quick try
    python benchmarks/run.py --table-only         # the tables of benchmarks/results.json
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
from datetime import datetime, timezone
from pathlib import Path

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
SPEEDUP_AT_3_5M, RSS_SHARE, RSS_CAP_10M_MB, CEILING_FACTOR, CACHE_SHARE, RUN_SECONDS = 2, 0.25, 1536, 1.5, 0.1, 90


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
    return {"seconds": round(_clock(field("Elapsed (wall clock) time (h:mm:ss or m:ss)")), 2),
            "cpu_seconds": round(float(field("User time (seconds)")) + float(field("System time (seconds)")), 2),
            "peak_rss_mb": round(int(field("Maximum resident set size (kbytes)")) * 1024 / MB, 1),
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


# ---- one size ----------------------------------------------------------------


def throughput(result: dict, rows: int, size_mb: float) -> dict:
    seconds = max(result["seconds"], 1e-9)
    return {**result, "rows_per_s": round(rows / seconds), "mb_per_s": round(size_mb / seconds, 1)}


def bench_size(scale: float, timeout: float, previous_baseline: dict | None) -> dict:
    folder = campaign_dir(scale)
    truth = json.loads((folder / "truth.json").read_text())
    users, tweets = folder / truth["files"]["users"], folder / truth["files"]["tweets"]
    n_tweets, n_users = truth["totals"]["tweets"], truth["totals"]["accounts"]
    rows, size_mb = n_tweets + n_users, (users.stat().st_size + tweets.stat().st_size) / MB
    tag = f"scale{scale:g}"
    warm([users, tweets])
    entry = {"scale": scale, "tweets": n_tweets, "users": n_users, "input_mb": round(size_mb, 1),
             "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}

    print(f"[{tag}] ceiling: DuckDB all-text CSV -> Parquet ...", flush=True)
    ceiling_out = RUNS / f"ceiling-{tag}"
    shutil.rmtree(ceiling_out, ignore_errors=True)
    entry["ceiling"] = throughput(measure(f"ceiling-{tag}", [BIN / "python", BENCH / "duckdb_ceiling.py",
                                                             ceiling_out, users, tweets], timeout), rows, size_mb)
    shutil.rmtree(ceiling_out, ignore_errors=True)

    ingest_out = RUNS / f"ingest-{tag}"
    shutil.rmtree(ingest_out, ignore_errors=True)
    command = [BIN / "traction", "ingest", "--data-dir", folder, "--campaign", CAMPAIGN, "--out", ingest_out]
    print(f"[{tag}] traction ingest (cold) ...", flush=True)
    entry["code"] = code_version()  # taken as the ingest starts: others may be editing the sources
    entry["ingest"] = throughput(measure(f"ingest-{tag}", command, timeout), rows, size_mb)
    loaded = json.loads((ingest_out / "load_report.json").read_text())["totals"]
    if loaded["tweets"] != n_tweets or loaded["rows_rejected"]:
        raise RuntimeError(f"{tag}: ingest loaded {loaded['tweets']} of {n_tweets} tweets, "
                           f"rejected {loaded['rows_rejected']}")
    print(f"[{tag}] traction ingest (cached re-run) ...", flush=True)
    entry["ingest_cached"] = measure(f"ingest-cached-{tag}", command, timeout)
    if "[cache]" not in (RUNS / "logs" / f"ingest-cached-{tag}.log").read_text():
        raise RuntimeError(f"{tag}: the re-run did not come from the ingest's cache (did the ingest's code or "
                           "INGEST_VERSION change between the two runs? run this size again)")
    shutil.rmtree(ingest_out, ignore_errors=True)

    budget = min(24_000, 0.85 * available_mb())
    if previous_baseline and previous_baseline["peak_rss_mb"] * n_tweets / previous_baseline["tweets"] > budget:
        predicted = previous_baseline["peak_rss_mb"] * n_tweets / previous_baseline["tweets"]
        entry["pandas"] = {"skipped": f"predicted peak {predicted:,.0f} MB (linear from {previous_baseline['tweets']:,} "
                                      f"tweets) exceeds the {budget:,.0f} MB budget"}
    else:
        print(f"[{tag}] pandas baseline ...", flush=True)
        baseline_out = RUNS / f"pandas-{tag}.parquet"
        entry["pandas"] = throughput(measure(f"pandas-{tag}", [BIN / "python", BENCH / "pandas_baseline.py",
                                                               users, tweets, baseline_out], timeout), rows, size_mb)
        baseline_out.unlink(missing_ok=True)
    entry["ratios"] = ratios(entry)
    return entry


def ratios(entry: dict) -> dict:
    ingest, pandas, ceiling = entry["ingest"], entry["pandas"], entry["ceiling"]
    out = {"ingest_over_ceiling_seconds": round(ingest["seconds"] / ceiling["seconds"], 2),
           "ingest_over_ceiling_rss": round(ingest["peak_rss_mb"] / ceiling["peak_rss_mb"], 2),
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


def bench_coordination(timeout: float) -> dict:
    """`benchmarks/coordination.py` on the scale-10 campaign's tables (ingested once, then reused)."""
    folder = campaign_dir(COORDINATION_SCALE)
    work = RUNS / f"coordination-scale{COORDINATION_SCALE:g}"
    if not (work / "tweets.parquet").is_file():
        print(f"ingesting scale {COORDINATION_SCALE:g} for the coordination job ...", flush=True)
        subprocess.run([BIN / "traction", "ingest", "--data-dir", folder, "--campaign", CAMPAIGN, "--out", work],
                       check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    tweets = json.loads((work / "load_report.json").read_text())["totals"]["tweets"]
    print(f"coordination on {tweets:,} tweets ...", flush=True)
    code = code_version()
    result = measure(f"coordination-scale{COORDINATION_SCALE:g}", [BIN / "python", BENCH / "coordination.py", work],
                     timeout)
    log = (RUNS / "logs" / f"coordination-scale{COORDINATION_SCALE:g}.log").read_text()
    return {**result, "tweets": tweets, "detail": log.split("\n\tCommand being timed")[0].strip().splitlines()[:2],
            "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "code": code}


def coordination_table(result: dict) -> list:
    return ["", "| coordination (all windows, null draws) | tweets | wall s | CPU s | peak RSS MB | load |",
            "|---|---:|---:|---:|---:|---:|",
            f"| `benchmarks/coordination.py` | {result['tweets']:,} | {result['seconds']:.1f} | "
            f"{result['cpu_seconds']:.1f} | {result['peak_rss_mb']:,.0f} | {result['load_1min_before']} |"]


# ---- targets and tables ------------------------------------------------------


def targets(sizes: list, run: dict | None) -> list:
    """Each target with the measured value and whether it holds."""
    checks = []
    big = [s for s in sizes if s["tweets"] >= 3_000_000]
    for s in sizes:
        r, label = s["ratios"], f"{s['tweets'] / 1e6:.2f}M"
        if s in big and "ingest_over_pandas_seconds" in r:
            speedup = 1 / r["ingest_over_pandas_seconds"]
            cpu_speedup = 1 / r["ingest_over_pandas_cpu"]
            checks.append({"target": f"ingest >= {SPEEDUP_AT_3_5M}x pandas speed at {label}",
                           "value": f"{speedup:.2f}x wall ({cpu_speedup:.2f}x in CPU seconds)",
                           "met": speedup >= SPEEDUP_AT_3_5M})
            share = r["ingest_over_pandas_rss"]
            checks.append({"target": f"ingest peak RSS <= 1/4 of pandas at {label}",
                           "value": f"{share:.2f} of pandas", "met": share <= RSS_SHARE})
        if s["tweets"] >= 9_000_000:
            rss = s["ingest"]["peak_rss_mb"]
            checks.append({"target": f"ingest peak RSS < {RSS_CAP_10M_MB} MB at {label}",
                           "value": f"{rss:,.0f} MB", "met": rss < RSS_CAP_10M_MB})
        cpu_factor = s["ingest"]["cpu_seconds"] / s["ceiling"]["cpu_seconds"]
        checks.append({"target": f"ingest within {CEILING_FACTOR}x of the ceiling at {label}",
                       "value": f"{r['ingest_over_ceiling_seconds']:.2f}x wall ({cpu_factor:.2f}x CPU)",
                       "met": r["ingest_over_ceiling_seconds"] <= CEILING_FACTOR})
        checks.append({"target": f"cached re-run < 1/10 of the cold ingest at {label}",
                       "value": f"{r['cached_over_cold_seconds']:.3f}",
                       "met": r["cached_over_cold_seconds"] < CACHE_SHARE})
    with_pandas = [s for s in big if "ingest_over_pandas_seconds" in s["ratios"]]
    if len(with_pandas) >= 2:
        low, high = with_pandas[0], with_pandas[-1]
        a, b = 1 / low["ratios"]["ingest_over_pandas_seconds"], 1 / high["ratios"]["ingest_over_pandas_seconds"]
        checks.append({"target": "speed-up over pandas grows with size",
                       "value": f"{a:.2f}x at {low['tweets'] / 1e6:.1f}M, {b:.2f}x at {high['tweets'] / 1e6:.1f}M",
                       "met": b > a})
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
        for job, label in (("ingest", "traction ingest"), ("ingest_cached", "ingest, cached re-run"),
                           ("pandas", "pandas baseline"), ("ceiling", "DuckDB ceiling")):
            m = s[job]
            if "skipped" in m:
                lines.append(f"| {s['tweets']:,} | {label} | skipped: {m['skipped']} | | | | | |")
                continue
            rate = lambda k: f"{m[k]:,}" if k in m else ""  # noqa: E731
            lines.append(f"| {s['tweets']:,} | {label} | {m['seconds']:.1f} | {m['cpu_seconds']:.1f} | "
                         f"{rate('rows_per_s')} | {rate('mb_per_s')} | {m['peak_rss_mb']:,.0f} | {m['load_1min_before']} |")
    lines += ["", "| tweets | input MB | ingest / pandas (wall) | ingest / pandas (CPU) | ingest / pandas (RSS) "
              "| ingest / ceiling (wall) | cached / cold |", "|---:|---:|---:|---:|---:|---:|---:|"]
    for s in results["sizes"]:
        r = s["ratios"]
        get = lambda k: f"{r[k]}" if k in r else "n/a"  # noqa: E731
        lines.append(f"| {s['tweets']:,} | {s['input_mb']:,.0f} | {get('ingest_over_pandas_seconds')} | "
                     f"{get('ingest_over_pandas_cpu')} | {get('ingest_over_pandas_rss')} | "
                     f"{get('ingest_over_ceiling_seconds')} | {get('cached_over_cold_seconds')} |")
    run = results.get("run_default")
    if run:
        lines += ["", "| traction run (default, cold) | wall s |", "|---|---:|"]
        lines += [f"| {name} | {seconds} |" for name, seconds in run["per_notebook_seconds"].items()]
        lines.append(f"| whole command (incl. HTML rendering, start-up) | {run['seconds']:.1f} |")
    if results.get("coordination"):
        lines += coordination_table(results["coordination"])
    lines += ["", "| target | measured | met |", "|---|---|---|"]
    lines += [f"| {c['target']} | {c['value']} | {'yes' if c['met'] else 'NO'} |" for c in results["targets"]]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1,10,30",
                        help="simulator scales, comma-separated (1 = 348,608 tweets); '' for none")
    parser.add_argument("--no-run", action="store_true", help="skip `traction run` on the default campaign")
    parser.add_argument("--no-coordination", action="store_true", help="skip the coordination job at scale 10")
    parser.add_argument("--results", default=str(BENCH / "results.json"), help="results file (merged by scale)")
    parser.add_argument("--fresh", action="store_true", help="drop earlier entries of the results file")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds allowed per job")
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
    by_scale = {s["scale"]: s for s in results.get("sizes", [])}
    results.update(machine=machine(), load_1min_at_start=round(os.getloadavg()[0], 2))
    RUNS.mkdir(parents=True, exist_ok=True)
    previous_baseline = None
    for scale in sorted(scales):
        entry = bench_size(scale, args.timeout, previous_baseline)
        if "seconds" in entry["pandas"]:
            previous_baseline = {"tweets": entry["tweets"], "peak_rss_mb": entry["pandas"]["peak_rss_mb"]}
        by_scale[scale] = entry
        results["sizes"] = [by_scale[k] for k in sorted(by_scale)]
        results["targets"] = targets(results["sizes"], results.get("run_default"))
        results_path.write_text(json.dumps(results, indent=2) + "\n")  # after each size: a long run keeps its work
    if not args.no_coordination:
        results["coordination"] = bench_coordination(args.timeout)
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
