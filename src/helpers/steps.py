"""One function per notebook: what 01, 02 and 03 run, and what the tests and benchmarks call.

Each notebook calls its step and shows what it returns, so the report runs
exactly the chain that is tested and measured. Steps pass results to each
other only as files in ``work_dir``.
"""

import ctypes
from dataclasses import asdict, dataclass
from pathlib import Path

from helpers import defaults, frames, results, traces
from helpers.errors import TractionError
from helpers.ingest import archive
from helpers.report import claims, figures
from helpers.stats import coordination
from helpers.stats.analysis import Analysis, analyse
from helpers.stats.coordination import Coordination


def load(data_dir="", campaign="", work_dir="", *, tweets_glob="", users_glob="", date_order="auto",
         account_table="", column_map=None) -> tuple[archive.LoadReport, Path]:
    """Notebook 01: ingest an archive folder or an account table into ``work_dir``.

    With no ``data_dir`` and no ``account_table`` it loads the embedded default, the small simulated takedown
    (generated on first use). Returns the load report and the work folder used.
    """
    if account_table:
        campaign = campaign or Path(account_table).stem
    elif not data_dir:
        from helpers import simulate

        data_dir, campaign = simulate.ensure_default("sample")
    work_dir = Path(work_dir) if work_dir else defaults.default_work_dir(campaign or defaults.DEFAULT_CAMPAIGN)
    if account_table:
        report = archive.ingest_account_table(account_table, work_dir, column_map or {}, campaign=campaign)
    else:
        report = archive.ingest(data_dir, campaign, work_dir, tweets_glob=tweets_glob or None,
                                users_glob=users_glob or None, date_order=date_order)
    return report, work_dir


@dataclass
class EngagementRun:
    """Notebook 02's outcome: the analysis, the figures drawn and the results document written."""

    analysis: Analysis
    figures: list  # {"name", "file", "title", "caption"}
    document: dict  # results.json as written
    path: Path
    coordination_files: dict  # name -> path of coordinated_accounts.parquet and coordination_edges.parquet

    def tests_frame(self):
        return results.tests_frame(self.document)


def engagement_vs_followers(work_dir="", *, seed=0, n_boot=999, max_tweets=2_000_000, baseline="") -> EngagementRun:
    """Notebook 02: frames -> statistics -> figures -> ``work_dir/results.json``.

    ``baseline`` names another run's folder (or its work folder) or an account-table CSV in traction's column
    names: its accounts are the comparison for ``baseline_engagement_ratio``.
    """
    work_dir = Path(work_dir) if work_dir else defaults.default_work_dir()
    give_back_freed_arrays()
    coordinated = measure_coordination(work_dir, seed=seed)
    loaded = frames.load(work_dir, max_tweets=max_tweets, seed=seed)
    compared = load_baseline(baseline, work_dir) if baseline else None
    analysis = analyse(loaded, coordinated, n_boot=n_boot, seed=seed, baseline=compared)
    drawn = figures.draw_all(analysis, work_dir / "figures")
    provenance = dataset(loaded, seed=seed, n_boot=n_boot, max_tweets=max_tweets)
    if compared is not None:
        provenance["baseline"] = {k: v for k, v in dataset(compared).items() if k != "parameters"}
    document = results.build(provenance, analysis.tests, {**analysis.tables, "figures": drawn})
    path = results.write(work_dir / "results.json", document)
    return EngagementRun(analysis, drawn, document, path, write_coordination(analysis, work_dir))


M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES = -3, 1 << 20


def give_back_freed_arrays() -> bool:
    """Have glibc map each allocation of 1 MB or more on its own, so that freeing it gives it back to the system.

    By default glibc raises that threshold to 32 MB as arrays are freed, then serves arrays from its heap, which
    fragments: at 2.5M accounts the memory held between stages grew from 1.6 to 2.0 GB (1.2-1.5 GB with this). It costs
    page faults (the stages took up to 30% longer). Process-wide; False, and nothing done, off glibc."""
    try:
        return bool(ctypes.CDLL(None).mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES))
    except (OSError, AttributeError):
        return False


def measure_coordination(work_dir: Path, *, seed=0) -> Coordination:
    """The coordination, on its own DuckDB connection, closed before the frames are built (``coordination.empty``
    without tweet rows): at 37M tweets its pair tables beside the frames passed 2 GB; alone it peaked at 1.4 GB."""
    opened = traces.open(work_dir)
    if opened is None:
        return coordination.empty("needs tweet rows (an archive's tweets file)")
    with opened:
        return coordination.measure(opened, seed=seed)


def write_coordination(analysis: Analysis, work_dir: Path) -> dict:
    """``coordinated_accounts.parquet`` (userid, group, traces, degree) and ``coordination_edges.parquet``
    (user_1, user_2, trace, weight) at the default window, written atomically."""
    written = {}
    tables = {"coordinated_accounts": analysis.coordination.accounts, "coordination_edges": analysis.coordination.edges}
    for name, table in tables.items():
        path = Path(work_dir) / f"{name}.parquet"
        partial = path.with_name(path.name + ".partial")
        table.to_parquet(partial, index=False)
        partial.replace(path)
        written[name] = path
    return written


def load_baseline(baseline, work_dir) -> frames.Frames:
    """The baseline's frames: a folder is read as it is; a CSV account table is loaded into work_dir/baseline."""
    path = Path(baseline)
    if path.is_file():
        archive.ingest_account_table(path, Path(work_dir) / "baseline", campaign=path.stem)
        path = Path(work_dir) / "baseline"
    elif not path.is_dir():
        raise TractionError(f"baseline {baseline}: no such folder or file (name another run's folder, its work "
                            "folder, or an account table CSV)")
    return frames.load_baseline(path)


def dataset(loaded: frames.Frames, **parameters) -> dict:
    """Provenance: campaign, form, input files and their hashes, simulated or not, the run's parameters.

    Only location-free facts (the input files' hashes identify the data): the same input and seed give the
    same bytes wherever the run lives.
    """
    report = loaded.report
    files = [{k: f.get(k) for k in ("path", "kind", "sha256")} for f in report.get("files", [])]
    return {"campaign": report.get("campaign"), "form": loaded.form,
            "simulated": bool(report.get("simulated")), "input_files": files, "accounts": len(loaded.accounts),
            "original_tweets_in_frame": 0 if loaded.tweets is None else len(loaded.tweets),
            "frame_warnings": loaded.warnings, "parameters": parameters}


@dataclass
class Narrative:
    """Notebook 03's inputs and verdicts."""

    results: dict
    load_report: dict
    assessment: claims.Assessment
    work_dir: Path


def narrative(work_dir="", thresholds: claims.Thresholds = claims.Thresholds()) -> Narrative:
    """Notebook 03: read results.json and the load report, give each claim its verdict, and record the
    verdicts in ``work_dir/claims.json`` (the index of runs shows them)."""
    work_dir = Path(work_dir) if work_dir else defaults.default_work_dir()
    document = results.read(work_dir / "results.json")
    assessment = claims.assess(document, thresholds)
    results.write(work_dir / "claims.json", {"thresholds": asdict(thresholds),
                                             "claims": [asdict(claim) for claim in assessment.claims]})
    return Narrative(document, frames.read_report(work_dir), assessment, work_dir)
