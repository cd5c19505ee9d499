"""The main job: run notebooks 01-03 with papermill, then render HTML with nbconvert.

Everything one run makes lies under its ``out`` folder:
``work/`` (Parquet tables, results.json, figures), ``executed/`` (the run
notebooks), ``report.html`` (the reader's report, no code), ``*.html`` and
``*.full.html`` (each notebook without and with code) and ``run.json``.
An index of runs is written only into the project's ``reports/`` (when the run
lies there) or to the file the user names with ``--index``.
"""

import ast
import contextlib
import datetime
import fcntl
import functools
import json
import os
import shutil
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import nbformat
import papermill
from nbconvert import HTMLExporter
from papermill.exceptions import PapermillExecutionError

from helpers import defaults, statement
from helpers.report import index as report_index
from helpers.errors import TractionError

NOTEBOOKS = ("01_load.ipynb", "02_engagement_vs_followers.ipynb", "03_narrative.ipynb")
RUNNER_PARAMETERS = ("data_dir", "campaign", "work_dir")  # set by --data-dir, --campaign, --out
PATH_PARAMETERS = [(NOTEBOOKS[0], "account_table"), (NOTEBOOKS[1], "baseline"), (NOTEBOOKS[1], "claims"),
                   (NOTEBOOKS[2], "claims")]  # -p values that are paths
TEMPLATES = Path(__file__).parent / "report" / "templates"
CELL_TIMEOUT_SECONDS = 3600
SHARE = (lambda v: 0 <= v <= 1, "a share from 0 to 1")
# What each notebook parameter may be, checked before notebook 01 starts: name -> (test, what it must be).
PARAMETER_RULES = {
    "date_order": (lambda v: v in ("auto", "ymd", "mdy", "dmy"), "one of auto, ymd, mdy, dmy"),
    "seed": (lambda v: v >= 0, "a whole number of 0 or more"),
    "n_boot": (lambda v: v >= 1, "a whole number of 1 or more"),
    "max_tweets": (lambda v: v >= 1, "a whole number of 1 or more"),
    "published_tolerance": (lambda v: v >= 0, "a relative difference of 0 or more"),
    "reference_quantile": SHARE,
    "claims": (lambda v: not v or Path(v).is_file(), "an existing statement file (TOML, docs/claims.md)"),
    "account_table": (lambda v: not v or Path(v).is_file(), "an existing CSV file"),
    "baseline": (lambda v: not v or _baseline_like(Path(v)),
                 "an existing run folder, work folder (with accounts.parquet) or account table CSV"),
}


def _baseline_like(path: Path) -> bool:
    """What frames.load_baseline can read: a CSV file, or a folder with accounts.parquet in it or in its work/."""
    if path.is_file():
        return path.suffix.lower() == ".csv"
    return (path / "accounts.parquet").is_file() or (path / "work" / "accounts.parquet").is_file()
# A run is built in a folder beside its destination and moved into place whole.
STAGING, OLD, FAILED, LOCK = ".{}.run-", ".{}.old-", ".{}.failed", ".{}.lock"
INGEST_FILES = ("accounts.parquet", "tweets.parquet", "rejected.parquet", "load_report.json", ".hash_memo.json")
RUN_MARKS = ("run.json", "work", "executed")  # what makes a folder a run's, which a new run may replace


@dataclass
class RunResult:
    out_dir: Path
    report: Path
    executed: list
    seconds: dict


def notebooks_dir() -> Path:
    return defaults.project_root() / "notebooks"


def declared_parameters(notebook: Path) -> dict:
    """Name -> default value of a notebook's `parameters` cell."""
    declared = {}
    for name, spec in papermill.inspect_notebook(str(notebook)).items():
        try:
            declared[name] = ast.literal_eval(spec["default"])
        except (ValueError, SyntaxError):
            declared[name] = None
    return declared


def _convert(name, raw, default):
    """A -p value as the type of the parameter's default (papermill would turn 2020_12 into 202012)."""
    kind = type(default)
    try:
        if default is None or kind is str:
            return raw
        if kind is bool:
            if raw.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(raw)
            return raw.lower() in ("true", "1", "yes")
        if kind in (int, float):
            return kind(raw)
        value = json.loads(raw)
        if not isinstance(value, kind):
            raise ValueError(raw)
        return value
    except ValueError:
        hint = " (JSON)" if kind in (dict, list) else ""
        raise TractionError(f"parameter {name}={raw!r}: expected {kind.__name__}{hint}, like {default!r}") from None


def parse_parameters(pairs, declared_by_notebook: dict) -> dict:
    """Notebook name -> {parameter: typed value} from KEY=VALUE strings, checked before anything runs."""
    known = {}
    for notebook, declared in declared_by_notebook.items():
        for name, default in declared.items():
            known.setdefault(name, default)
    chosen = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        name = name.strip()
        if not sep:
            raise TractionError(f"parameter {pair!r}: write it as KEY=VALUE")
        if name in RUNNER_PARAMETERS:
            raise TractionError(f"parameter {name}: set it with --data-dir, --campaign or --out instead of -p")
        if name not in known:
            valid = ", ".join(sorted(set(known) - set(RUNNER_PARAMETERS)))
            raise TractionError(f"unknown parameter {name!r}; valid parameters: {valid}")
        chosen[name] = _convert(name, raw, known[name])
    return {notebook: {k: v for k, v in chosen.items() if k in declared}
            for notebook, declared in declared_by_notebook.items()}


def check_parameters(per_notebook: dict):
    """Ranges, choices and paths of the chosen parameters (after paths are resolved)."""
    for values in per_notebook.values():
        for name, value in values.items():
            test, expected = PARAMETER_RULES.get(name, (lambda v: True, ""))
            if not test(value):
                raise TractionError(f"parameter {name}={value!r}: expected {expected}")


@contextlib.contextmanager
def kernel_runtime(folder: Path):
    """Kernels started inside keep their connection files (with their keys) in ``folder``, not the system's
    runtime folder, so a killed run leaves none behind there; the folder goes with the run's staging."""
    folder.mkdir(mode=0o700, exist_ok=True)
    before = os.environ.get("JUPYTER_RUNTIME_DIR")
    os.environ["JUPYTER_RUNTIME_DIR"] = str(folder)
    try:
        yield folder
    finally:
        if before is None:
            os.environ.pop("JUPYTER_RUNTIME_DIR", None)
        else:
            os.environ["JUPYTER_RUNTIME_DIR"] = before
        shutil.rmtree(folder, ignore_errors=True)


@functools.cache
def _kernel_manager_class():
    from jupyter_client import AsyncKernelManager  # nbclient's own default
    from jupyter_core.paths import jupyter_runtime_dir

    class RunKernelManager(AsyncKernelManager):
        """Writes the connection file into the runtime folder (jupyter_client's default is the system's
        temporary folder, where a killed run would leave it, key and all)."""

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            if not self.connection_file:
                self.connection_file = os.path.join(jupyter_runtime_dir(), f"kernel-{uuid.uuid4()}.json")

    return RunKernelManager


def _execute(notebook: Path, executed: Path, parameters: dict):
    try:
        papermill.execute_notebook(
            str(notebook), str(executed), parameters=parameters, kernel_name="python3", cwd=str(notebook.parent),
            progress_bar=False, execution_timeout=CELL_TIMEOUT_SECONDS,
            # The kernel's own log (TCP notice, shutdown interrupt) is noise here; cell errors arrive as outputs.
            extra_arguments=["--IPKernelApp.log_level=CRITICAL"], kernel_manager_class=_kernel_manager_class(),
        )
    except PapermillExecutionError as error:
        raise TractionError(
            f"{notebook.name} failed in cell {error.cell_index} (execution count {error.exec_count}): "
            f"{error.ename}: {error.evalue}"
        ) from None


def render_html(executed: Path, target: Path, *, with_code: bool, title: str, redact: dict | None = None):
    """One executed notebook as a self-contained HTML page (images inline, no external scripts).

    ``redact`` maps local paths to what the page shows instead (the parameters cell and printed text would
    otherwise carry the user's folders into a page shared outside the machine).
    """
    exporter = HTMLExporter(template_name="report", extra_template_basedirs=[str(TEMPLATES)],
                            exclude_input=not with_code, exclude_input_prompt=True, exclude_output_prompt=True,
                            embed_images=True)
    notebook = redact_paths(nbformat.read(executed, as_version=4), redact or {})
    body, _ = exporter.from_notebook_node(notebook, resources={"metadata": {"name": title}})
    target.write_text(body, encoding="utf-8")


TEXT_OUTPUTS = ("text/plain", "text/html", "text/markdown")


def redact_paths(notebook, replacements: dict):
    """The notebook with each local path in its sources and text outputs replaced (longest path first)."""
    pairs = sorted(((str(k), v) for k, v in replacements.items() if str(k) not in ("", "/", ".")),
                   key=lambda pair: -len(pair[0]))

    def clean(text):
        for path, shown in pairs:
            text = text.replace(path, shown)
        return text
    for cell in notebook.cells:
        cell.source = clean(cell.source)
        for output in cell.get("outputs", []):
            if "text" in output:
                output["text"] = clean(output["text"])
            for kind in TEXT_OUTPUTS:
                if kind in output.get("data", {}):
                    value = output["data"][kind]
                    output["data"][kind] = [clean(t) for t in value] if isinstance(value, list) else clean(value)
    return notebook


def default_index(out_dir: Path) -> Path | None:
    """reports/index.html when the run lies directly in the project's reports/ folder, else None."""
    reports = (defaults.project_root() / "reports").resolve()
    return reports / "index.html" if Path(out_dir).resolve().parent == reports else None


def _check_destination(out_dir: Path):
    if out_dir.exists() and any(out_dir.iterdir()) and not any((out_dir / mark).exists() for mark in RUN_MARKS):
        raise TractionError(f"--out {out_dir}: the folder holds other files, and a run replaces its folder whole; "
                            "name a new folder or a previous run's")


def _remove_stale(parent: Path, name: str, out_dir: Path):
    """What killed runs left beside the destination (called holding its lock): staging folders are removed;
    a previous run moved aside but not replaced is put back."""
    for path in parent.glob(f".{name}.*"):
        if path.name.startswith(OLD.format(name)) and not out_dir.exists():
            path.rename(out_dir)
        elif path.name.startswith((STAGING.format(name), OLD.format(name))):
            shutil.rmtree(path, ignore_errors=True)


def _reuse_ingest(previous_work: Path, work_dir: Path):
    """The previous run's ingest outputs, hard-linked, so an unchanged input is answered from its cache (the
    ingest replaces files, never writes into them, so the previous run's copies stay as they were)."""
    work_dir.mkdir(parents=True)
    for name in INGEST_FILES:
        if (previous_work / name).is_file():
            try:
                os.link(previous_work / name, work_dir / name)
            except OSError:
                shutil.copy2(previous_work / name, work_dir / name)


def _publish(staging: Path, out_dir: Path):
    """Swap the finished run into place: the previous run is moved aside, then removed."""
    old = None
    if out_dir.exists():
        old = out_dir.with_name(OLD.format(out_dir.name) + uuid.uuid4().hex)
        out_dir.rename(old)
    staging.rename(out_dir)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def _locked(parent: Path, name: str):
    """One run at a time per destination; the kernel frees the lock however the holder ends."""
    with open(parent / LOCK.format(name), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def run(data_dir=None, campaign=None, out=None, parameters=(), *, index=None, log=print) -> RunResult:
    """Execute 01-03 on a campaign and render its HTML; the default is the full simulated takedown.

    Every parameter is checked first. The run is built in a staging folder beside ``out`` and moved into
    place only when every notebook and page is done: a killed or failed run leaves the previous one whole.
    """
    declared = {name: declared_parameters(notebooks_dir() / name) for name in NOTEBOOKS}
    per_notebook = parse_parameters(parameters, declared)
    for notebook, name in PATH_PARAMETERS:  # notebooks run in notebooks/: a typed path is relative to the user
        if per_notebook[notebook].get(name):
            per_notebook[notebook][name] = str(Path(per_notebook[notebook][name]).resolve())
    check_parameters(per_notebook)
    if per_notebook[NOTEBOOKS[2]].get("claims"):
        statement.read(per_notebook[NOTEBOOKS[2]]["claims"])  # a bad statement file stops here, before any work
    account_table = per_notebook[NOTEBOOKS[0]].get("account_table")
    if data_dir is not None and not Path(data_dir).is_dir():
        raise TractionError(f"--data-dir {data_dir}: no such folder")
    if data_dir is None and not account_table:
        from helpers import simulate

        log("Preparing the embedded default data (a simulated takedown) ...")
        data_dir, default_campaign = simulate.ensure_default("full")
        campaign = campaign or default_campaign
    elif not campaign:
        raise TractionError("--campaign is required with --data-dir or an account_table (e.g. --campaign china_052020)")
    if problem := defaults.campaign_problem(campaign):
        raise TractionError(problem)
    out_dir = Path(out) if out else defaults.project_root() / "reports" / campaign
    out_dir = out_dir.resolve()
    _check_destination(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with _locked(out_dir.parent, out_dir.name):
        _remove_stale(out_dir.parent, out_dir.name, out_dir)
        staging = out_dir.with_name(STAGING.format(out_dir.name) + uuid.uuid4().hex)
        _reuse_ingest(out_dir / "work", staging / "work")
        try:
            seconds = _build(staging, out_dir, data_dir, campaign, declared, per_notebook, account_table, log)
        except BaseException as error:
            failed = out_dir.with_name(FAILED.format(out_dir.name))
            shutil.rmtree(failed, ignore_errors=True)
            staging.rename(failed)
            if isinstance(error, TractionError):
                raise TractionError(f"{error}. The partly executed notebooks are kept in {failed / 'executed'}; "
                                    f"{out_dir} is unchanged") from None
            raise
        _publish(staging, out_dir)
    index = Path(index) if index else default_index(out_dir)
    log(f"Report: {out_dir / 'report.html'}")
    if index is not None:
        log(f"Index:  {report_index.write_index(index, [out_dir])}")
    executed = [out_dir / "executed" / name for name in NOTEBOOKS]
    return RunResult(out_dir, out_dir / "report.html", executed, seconds)


def _build(staging, out_dir, data_dir, campaign, declared, per_notebook, account_table, log) -> dict:
    """Notebooks, pages and run.json of one run, in ``staging``."""
    work_dir, executed_dir = staging / "work", staging / "executed"
    executed_dir.mkdir(parents=True, exist_ok=True)
    shared = {"data_dir": str(Path(data_dir).resolve()) if data_dir else "", "campaign": campaign,
              "work_dir": str(work_dir)}
    seconds, executed = {}, []
    with kernel_runtime(staging / ".runtime"):
        for step, name in enumerate(NOTEBOOKS, 1):
            log(f"[{step}/{len(NOTEBOOKS)}] {name} ...")
            started = time.perf_counter()
            values = {k: v for k, v in shared.items() if k in declared[name]} | per_notebook[name]
            _execute(notebooks_dir() / name, executed_dir / name, values)
            seconds[name] = round(time.perf_counter() - started, 1)
            executed.append(executed_dir / name)
            log(f"[{step}/{len(NOTEBOOKS)}] {name} done in {seconds[name]} s")
    links = [("report", "report.html")]  # the reader's report first: index and screenshot follow it
    redact = {staging: "<run folder>", out_dir: "<run folder>", defaults.project_root(): "<project>",
              Path.home(): "~"}
    if shared["data_dir"]:
        redact[shared["data_dir"]] = "<data folder>"
    if account_table:
        redact[account_table] = f"<data folder>/{Path(account_table).name}"
    if per_notebook[NOTEBOOKS[2]].get("claims"):
        redact[per_notebook[NOTEBOOKS[2]]["claims"]] = Path(per_notebook[NOTEBOOKS[2]]["claims"]).name
    for path in executed:
        title = f"traction: {campaign}, {path.stem}"
        render_html(path, staging / f"{path.stem}.html", with_code=False, title=title, redact=redact)
        render_html(path, staging / f"{path.stem}.full.html", with_code=True, title=f"{title} (with code)",
                    redact=redact)
        links += [(path.stem, f"{path.stem}.html"), (f"{path.stem} with code", f"{path.stem}.full.html")]
    (staging / "report.html").write_bytes((staging / f"{Path(NOTEBOOKS[-1]).stem}.html").read_bytes())
    load_report = json.loads((work_dir / "load_report.json").read_text())
    totals = load_report.get("totals", {})
    run_record = {"campaign": campaign, "simulated": bool(load_report.get("simulated")), "links": links,
                  "seconds": seconds, "date": datetime.date.today().isoformat(),
                  "accounts": totals.get("accounts"), "tweets": totals.get("tweets")}
    (staging / "run.json").write_text(json.dumps(run_record, indent=2, sort_keys=True))
    return seconds


def compare(run_dirs, out, *, index=None, log=print) -> tuple[Path, Path]:
    """``traction compare``: comparison.json and comparison.html in ``out``; the index as for a run."""
    from helpers.report import compare as comparing

    json_path, html_path = comparing.write(run_dirs, out)
    log(f"Comparison: {html_path}")
    index = Path(index) if index else default_index(Path(out))
    if index is not None:
        log(f"Index:      {report_index.write_index(index, [Path(out)])}")
    return json_path, html_path


def cli_compare(args) -> int:
    log = lambda message: print(message, file=sys.stderr, flush=True)  # noqa: E731
    compare(args.run_dirs, args.out, index=args.index, log=log)
    return 0


def cli_run(args) -> int:
    log = lambda message: print(message, file=sys.stderr, flush=True)  # noqa: E731
    parameters = [*args.parameter, *([f"claims={args.claims}"] if args.claims else [])]
    run(args.data_dir, args.campaign, args.out, parameters, index=args.index, log=log)
    return 0
