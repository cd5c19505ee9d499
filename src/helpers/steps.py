"""One function per notebook: what 01, 02 and 03 run, and what the tests and benchmarks call.

Each notebook calls its step and shows what it returns, so the report runs
exactly the chain that is tested and measured. Steps pass results to each
other only as files in ``work_dir``.
"""

import ctypes
import os
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from helpers import child, defaults, frames, results, statement, traces
from helpers.errors import TractionError
from helpers.ingest import archive
from helpers.report import claims, figures
from helpers.stats import coordination, descriptives, models
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
    """Notebook 02's outcome, as data to explore: each part a DataFrame, made once by the step.

    ``results`` (one row per measure), ``accounts`` (the account frame), ``top_by_engagement`` and
    ``top_by_followers``, the coordination ``groups`` (one row per group), ``group_items`` (each group's most shared
    items) and ``edges`` (one row per tie and trace). ``refit_primary`` refits the primary model from ``accounts``
    (or a frame filtered from it) without running the step again (docs/explore.md). ``analysis``, ``figures``,
    ``document`` and ``path`` are the statistics, the figures drawn and ``results.json`` as written.
    """

    analysis: Analysis
    figures: list  # {"name", "file", "title", "caption"}
    document: dict  # results.json as written
    path: Path
    coordination_files: dict  # name -> path of every coordination file written to work_dir
    results: pd.DataFrame
    accounts: pd.DataFrame
    top_by_engagement: pd.DataFrame
    top_by_followers: pd.DataFrame
    groups: pd.DataFrame
    group_items: pd.DataFrame
    edges: pd.DataFrame
    evidence_figures: list  # the coordination network and group sizes: {"name", "file", "title", "caption"}

    def tests_frame(self):
        return results.tests_frame(self.document)

    def refit_primary(self, accounts: pd.DataFrame | None = None, *, without_top: int | float = 0) -> dict:
        """The primary elasticity (account-level NB) refitted on ``accounts`` (default: the step's), as the step
        fits it; ``without_top`` leaves out the top accounts by engagement first. Its results entry."""
        return models.primary_elasticity(self.accounts if accounts is None else accounts, without_top=without_top)

    def edge_items(self) -> pd.DataFrame:
        """The items behind each tie, as written to ``coordination_edge_items.parquet`` (bounded per tie)."""
        path = self.coordination_files.get("coordination_edge_items")
        return pd.read_parquet(path) if path else pd.DataFrame()


def engagement_vs_followers(work_dir="", *, seed=0, n_boot=999, max_tweets=2_000_000, baseline="",
                            claims="") -> EngagementRun:
    """Notebook 02: frames -> statistics -> figures -> ``work_dir/results.json``, and the coordination's evidence
    (groups, the items behind each tie, the network for Gephi and its figures) beside it.

    ``baseline`` names another run's folder (or its work folder) or an account-table CSV in traction's column
    names: its accounts are the comparison for ``baseline_engagement_ratio``. ``claims`` names a statement file;
    empty: the campaign's shipped statement, else the generic one (``helpers.statement.choose``). The measures
    it names (topics, languages, follower lines, ...) are computed beside the fixed ones.
    """
    work_dir = Path(work_dir) if work_dir else defaults.default_work_dir()
    tested = statement_for(work_dir, claims)
    give_back_freed_arrays()
    coordinated = measure_coordination(work_dir, seed=seed, evidence_dir=work_dir)
    loaded = frames.load(work_dir, max_tweets=max_tweets, seed=seed, content=content_asked(tested))
    compared = load_baseline(baseline, work_dir) if baseline else None
    analysis = analyse(loaded, coordinated, n_boot=n_boot, seed=seed, baseline=compared, statement=tested)
    drawn = figures.draw_all(analysis, work_dir / "figures")
    provenance = dataset(loaded, seed=seed, n_boot=n_boot, max_tweets=max_tweets)
    provenance["statement"] = statement.provenance(tested)
    if compared is not None:
        provenance["baseline"] = {k: v for k, v in dataset(compared).items() if k != "parameters"}
    document = results.build(provenance, analysis.tests, {**analysis.tables, "figures": drawn})
    path = results.write(work_dir / "results.json", document)
    acc = loaded.accounts
    # before the coordination's files: the network's graph leaves memory behind that these would add to
    tops = descriptives.top_accounts(acc, "engagement"), descriptives.top_accounts(acc, "follower_count")
    written, evidence_figures = write_coordination(analysis, work_dir)
    evidence = coordinated.evidence or coordination.Evidence(pd.DataFrame(columns=coordination.GROUP_COLUMNS),
                                                             pd.DataFrame(), pd.DataFrame())
    return EngagementRun(analysis, drawn, document, path, written, results.tidy_frame(document), acc, *tops,
                         evidence.groups, evidence.group_items, coordinated.edges, evidence_figures)


def statement_for(work_dir, claims="") -> statement.Statement:
    """The statement a run tests: ``claims`` when given, else the one chosen for the loaded campaign."""
    report = frames.read_report(work_dir)
    return statement.choose(claims, report.get("campaign", ""), bool(report.get("simulated")))


def content_asked(tested: statement.Statement) -> frames.Content:
    """What the frames must count for the statement: its topics, languages and days."""
    return frames.Content(tuple(tested.topics.items()), tested.languages(), tested.tweet_days())


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


def measure_coordination(work_dir: Path, *, seed=0, evidence_dir: Path | None = None) -> Coordination:
    """The coordination, in a process of its own (``child.call``), before the frames are built
    (``coordination.empty`` without tweet rows). At 37M tweets its pair tables beside the frames passed 2 GB, and
    measured in this process it left 0.4 GB behind after DuckDB closed, which the frames and models then stacked
    on; the child's exit gives all of it back.

    With ``evidence_dir``, the groups' evidence is gathered while the traces are open (``Coordination.evidence``),
    and the items behind each tie are streamed to ``evidence_dir/coordination_edge_items.parquet``."""
    return child.call(measure_coordination_here, Path(work_dir), seed=seed, evidence_dir=evidence_dir)


def measure_coordination_here(work_dir: Path, *, seed=0, evidence_dir: Path | None = None) -> Coordination:
    """``measure_coordination`` in this process, on the traces' own DuckDB connection, closed on return."""
    give_back_freed_arrays()
    opened = traces.open(work_dir)
    if opened is None:
        return coordination.empty("needs tweet rows (an archive's tweets file)")
    with opened:
        measured = coordination.measure(opened, seed=seed)
        if evidence_dir is not None and measured.parameters:  # measured: its default window fitted the machine
            coordination.gather_evidence(opened, measured)
            write_atomically(Path(evidence_dir) / f"{EDGE_ITEMS}.parquet",
                             lambda partial: _stream_parquet(opened.tie_item_batches(), partial, EDGE_ITEMS_NOTE))
        return measured


EDGE_ITEMS = "coordination_edge_items"
EDGE_ITEMS_NOTE = (f"the items behind each tie of coordination_edges.parquet: at most {traces.ITEMS_PER_TIE} "
                   "per tie and trace, the first by time (items_in_tie counts them all); texts cut to "
                   f"{traces.TEXT_CHARS} characters")
GROUPS_NOTE = (f"one row per coordinated group: members lists at most {coordination.MEMBERS_LISTED} (members_listed; "
               f"size counts them all), top_items the {traces.ITEMS_PER_GROUP} most shared items")


EVIDENCE_FILES = [f"{EDGE_ITEMS}.parquet", "coordination_groups.parquet", "coordination_groups.csv",
                  "coordination_group_items.parquet", "coordination.graphml", "coordination_evidence.json",
                  "figures/coordination_network.png", "figures/coordination_group_sizes.png"]


def write_atomically(path: Path, write) -> Path:
    """``write(partial)`` beside ``path``, then rename over it: a killed run never leaves half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    write(partial)
    os.replace(partial, path)
    return path


def _stream_parquet(batches, path, note: str):
    """Record batches to one Parquet file as they come (memory stays one batch), the note in its metadata."""
    schema = batches.schema.with_metadata({"traction": note})
    with pq.ParquetWriter(path, schema) as writer:
        for batch in batches:
            writer.write_batch(batch)


def _frame_parquet(frame: pd.DataFrame, note: str | None = None):
    def write(path):
        table = pa.Table.from_pandas(frame, preserve_index=False)
        if note:
            table = table.replace_schema_metadata({**(table.schema.metadata or {}), b"traction": note.encode()})
        pq.write_table(table, path)
    return write


def write_coordination(analysis: Analysis, work_dir: Path) -> tuple[dict, list]:
    """The coordination's files at the default window, each written atomically: ``coordinated_accounts.parquet``
    (userid, group, traces, degree), ``coordination_edges.parquet`` (user_1, user_2, trace, weight), and its
    evidence: ``coordination_groups.parquet`` and ``.csv`` (one row per group), ``coordination_group_items.parquet``,
    ``coordination.graphml`` (networkx's writer; for Gephi), the network and group-size figures and
    ``coordination_evidence.json`` (what notebook 03 shows). Returns the files and the figures."""
    work_dir, found = Path(work_dir), analysis.coordination
    written = {name: write_atomically(work_dir / f"{name}.parquet", _frame_parquet(table)) for name, table in
               {"coordinated_accounts": found.accounts, "coordination_edges": found.edges}.items()}
    if found.evidence is None:  # not measured (no tweet rows, or the default window outgrew the machine)
        for name in EVIDENCE_FILES:  # an earlier run's evidence would be taken for this one's
            (work_dir / name).unlink(missing_ok=True)
        return written, []
    written[EDGE_ITEMS] = work_dir / f"{EDGE_ITEMS}.parquet"
    groups = found.evidence.groups
    written["coordination_groups"] = write_atomically(work_dir / "coordination_groups.parquet",
                                                      _frame_parquet(groups, GROUPS_NOTE))
    written["coordination_groups_csv"] = write_atomically(
        work_dir / "coordination_groups.csv", lambda path: groups.to_csv(path, index=False, date_format="%Y-%m-%d %H:%M:%S"))
    written["coordination_group_items"] = write_atomically(work_dir / "coordination_group_items.parquet",
                                                           _frame_parquet(found.evidence.group_items))
    graph = coordination.network(found, analysis.frames.accounts)
    written["coordination_graphml"] = write_atomically(work_dir / "coordination.graphml",
                                                       lambda path: nx.write_graphml(graph, path))
    drawn = []
    shown = coordination.largest_groups(found, analysis.frames.accounts)
    for name, draw in (("coordination_network", lambda: figures.coordination_network(shown)),
                       ("coordination_group_sizes", lambda: figures.coordination_group_sizes(
                           found.group_sizes, found.parameters.get("null_group_draws", found.parameters["null_draws"])))):
        fig, caption = draw()
        file = work_dir / "figures" / f"{name}.png"
        write_atomically(file, lambda path: figures.save(fig, path))
        drawn.append({"name": name, "file": f"figures/{file.name}", "title": fig.axes[0].get_title(),
                      "caption": caption})
    written["coordination_evidence"] = results.write(work_dir / "coordination_evidence.json", {
        "figures": drawn, "groups": len(groups), "files": sorted(path.name for path in written.values()),
        "notes": {"coordination_edge_items.parquet": EDGE_ITEMS_NOTE, "coordination_groups": GROUPS_NOTE}})
    return written, drawn


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

    @property
    def statement(self) -> statement.Statement:
        return self.assessment.statement


def narrative(work_dir="", claims_file="", *, reference_quantile=0.5, published_tolerance=0.05) -> Narrative:
    """Notebook 03: read results.json and the load report, give each claim of the statement its verdict, and
    record the verdicts in ``work_dir/claims.json`` (the index of runs shows them).

    ``claims_file``: the statement file (empty: the campaign's shipped statement, else the generic one).
    ``reference_quantile``: the reference set's dividing line for claims that do not give their own;
    ``published_tolerance``: how far our totals may differ from the reference set's published ones.
    """
    work_dir = Path(work_dir) if work_dir else defaults.default_work_dir()
    document = results.read(work_dir / "results.json")
    dataset = document.get("dataset", {})
    tested = statement.choose(claims_file, dataset.get("campaign", ""), bool(dataset.get("simulated")))
    settings = claims.Settings(reference_quantile=reference_quantile, published_tolerance=published_tolerance)
    assessment = claims.evaluate(tested, document, settings)
    results.write(work_dir / "claims.json", assessment.to_json())
    return Narrative(document, frames.read_report(work_dir), assessment, work_dir)
