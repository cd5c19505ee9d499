"""A run is published whole: built beside its destination, moved into place only when complete."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from helpers import pipeline
from helpers.errors import TractionError

# Three tiny notebooks standing in for 01-03: each writes what the runner reads; 02 can stall for good.
SOURCES = {
    "01_load.ipynb": ('data_dir = ""\ncampaign = ""\nwork_dir = ""',
                      'import json, pathlib\nw = pathlib.Path(work_dir)\nw.mkdir(parents=True, exist_ok=True)\n'
                      '(w / "load_report.json").write_text(json.dumps({"totals": {"accounts": 1, "tweets": 2}}))'),
    "02_engagement_vs_followers.ipynb": (
        'work_dir = ""\ntag = ""\nmarker = ""',
        'import pathlib, time\n(pathlib.Path(work_dir) / "results.json").write_text(tag)\n'
        'if tag == "stall":\n    pathlib.Path(marker).write_text("midway")\n    time.sleep(600)'),
    "03_narrative.ipynb": ('work_dir = ""', 'print("narrative")'),
}


def tiny_notebooks(folder: Path) -> Path:
    folder.mkdir()
    for name, (parameters, body) in SOURCES.items():
        cell = nbformat.v4.new_code_cell(parameters)
        cell.metadata["tags"] = ["parameters"]
        notebook = nbformat.v4.new_notebook(cells=[cell, nbformat.v4.new_code_cell(body)])
        notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(notebook, folder / name)
    return folder


def start_run(notebooks: Path, data: Path, out: Path, tag: str, marker: Path):
    script = (f"from pathlib import Path\nfrom helpers import pipeline\n"
              f"pipeline.notebooks_dir = lambda: Path({str(notebooks)!r})\n"
              f"pipeline.run({str(data)!r}, 'c', {str(out)!r}, ['tag={tag}', 'marker={marker}'], index=None, "
              f"log=lambda m: None)\n")
    return subprocess.Popen([sys.executable, "-c", script], start_new_session=True)


def snapshot(folder: Path) -> dict:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_killed_run_leaves_the_previous_run_whole_and_no_kernel_file_outside_it(tmp_path):
    notebooks, data, out = tiny_notebooks(tmp_path / "notebooks"), tmp_path / "data", tmp_path / "runs" / "c"
    data.mkdir()
    marker = tmp_path / "midway"
    first = start_run(notebooks, data, out, "first", marker)
    assert first.wait(timeout=300) == 0
    before = snapshot(out)
    assert before["work/results.json"] == b"first" and "run.json" in before and "report.html" in before

    stalled = start_run(notebooks, data, out, "stall", marker)
    try:
        deadline = time.monotonic() + 300
        while not marker.exists():
            assert stalled.poll() is None and time.monotonic() < deadline, "the run never got to notebook 02"
            time.sleep(0.1)
        staging, = out.parent.glob(".c.run-*")
        assert (staging / "work" / "results.json").read_text() == "stall"
        assert list((staging / ".runtime").glob("kernel-*.json"))  # the kernel's key lies in the run's folder
    finally:
        os.killpg(stalled.pid, signal.SIGKILL)  # the runner and its kernel, as a kill -9 of the session would
        stalled.wait()
    assert snapshot(out) == before  # nothing of the killed run, nothing of the previous one lost

    third = start_run(notebooks, data, out, "third", marker)
    assert third.wait(timeout=300) == 0
    assert (out / "work" / "results.json").read_text() == "third"
    assert sorted(p.name for p in out.parent.iterdir()) == [".c.lock", "c"]  # the killed run's staging removed
    assert not (out / ".runtime").exists()
    assert json.loads((out / "run.json").read_text())["tweets"] == 2


@pytest.mark.parametrize("pair, message", [
    ("n_boot=-5", "parameter n_boot=-5: expected a whole number of 1 or more"),
    ("seed=-1", "parameter seed=-1: expected a whole number of 0 or more"),
    ("date_order=xyz", "parameter date_order='xyz': expected one of auto, ymd, mdy, dmy"),
    ("reference_quantile=1.5", "parameter reference_quantile=1.5: expected a share from 0 to 1"),
    ("claims=/no/such/statement.toml", "parameter claims='/no/such/statement.toml': expected an existing statement"),
    ("account_table=missing.csv", "parameter account_table='"),
    ("baseline=no/such/run", "parameter baseline='"),
    ("baseline=/etc", "parameter baseline='/etc': expected an existing run folder, work folder (with accounts.parquet)"),
    ("baseline=/etc/hostname", "parameter baseline='/etc/hostname': expected an existing run folder"),
])
def test_every_parameter_is_checked_before_notebook_01(tmp_path, monkeypatch, pair, message):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(pipeline, "_execute", lambda *a: pytest.fail("a notebook ran"))
    with pytest.raises(TractionError) as error:
        pipeline.run(tmp_path, "c", tmp_path / "out", [pair], log=lambda m: None)
    assert str(error.value).startswith(message)
    assert not (tmp_path / "out").exists()


def test_a_campaign_name_is_never_a_path(tmp_path, monkeypatch):
    monkeypatch.setattr(pipeline, "_execute", lambda *a: pytest.fail("a notebook ran"))
    with pytest.raises(TractionError, match=r"campaign '../../../somewhere': use letters, digits, '_' and '-' only"):
        pipeline.run(tmp_path, "../../../somewhere", None, [], log=lambda m: None)


def test_a_folder_of_other_files_is_not_replaced(tmp_path, monkeypatch):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("years of work")
    monkeypatch.setattr(pipeline, "_execute", lambda *a: pytest.fail("a notebook ran"))
    with pytest.raises(TractionError, match="holds other files"):
        pipeline.run(tmp_path, "c", tmp_path / "mine", [], log=lambda m: None)
    assert (tmp_path / "mine" / "thesis.tex").read_text() == "years of work"


def test_a_missing_data_folder_is_refused_before_notebook_01(tmp_path, monkeypatch):
    monkeypatch.setattr(pipeline, "_execute", lambda *a: pytest.fail("a notebook ran"))
    with pytest.raises(TractionError, match=r"--data-dir .*nowhere: no such folder"):
        pipeline.run(tmp_path / "nowhere", "c", tmp_path / "out", [], log=lambda m: None)
