"""The runner: parameters checked before anything runs, failures that name the notebook and cell."""

import pytest

from helpers import pipeline
from helpers.report import index as report_index
from helpers.errors import TractionError

DECLARED = {
    "01_load.ipynb": {"data_dir": "", "campaign": "", "work_dir": "", "date_order": "auto", "column_map": {}},
    "02_engagement_vs_followers.ipynb": {"work_dir": "", "seed": 0, "n_boot": 999},
    "03_narrative.ipynb": {"work_dir": "", "low_followers_share": 0.5, "show_code": False},
}


def test_values_take_the_type_of_the_default():
    chosen = pipeline.parse_parameters(
        ["seed=7", "low_followers_share=0.6", "date_order=2020_12", "column_map={\"userid\": \"name\"}",
         "show_code=true"], DECLARED)
    assert chosen["02_engagement_vs_followers.ipynb"] == {"seed": 7}
    assert chosen["03_narrative.ipynb"] == {"low_followers_share": 0.6, "show_code": True}
    assert chosen["01_load.ipynb"]["date_order"] == "2020_12"  # papermill's -p would make it 202012
    assert chosen["01_load.ipynb"]["column_map"] == {"userid": "name"}


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(TractionError) as error:
        pipeline.parse_parameters(["n_bootstrap=10"], DECLARED)
    message = str(error.value)
    assert "unknown parameter 'n_bootstrap'" in message
    assert "n_boot" in message and "low_followers_share" in message and "seed" in message
    assert "work_dir" not in message  # set by --out, not -p


@pytest.mark.parametrize("pair, complaint", [
    ("seed=seven", "expected int"),
    ("low_followers_share=half", "expected float"),
    ("show_code=maybe", "expected bool"),
    ("column_map=[1]", "expected dict (JSON)"),
    ("seed", "KEY=VALUE"),
    ("work_dir=/tmp/x", "--out"),
])
def test_bad_values_are_refused_before_running(pair, complaint):
    with pytest.raises(TractionError, match=complaint.replace("(", r"\(").replace(")", r"\)")):
        pipeline.parse_parameters([pair], DECLARED)


def test_project_notebooks_declare_what_the_runner_sets():
    for name in pipeline.NOTEBOOKS:
        declared = pipeline.declared_parameters(pipeline.notebooks_dir() / name)
        assert "work_dir" in declared, name
    first = pipeline.declared_parameters(pipeline.notebooks_dir() / pipeline.NOTEBOOKS[0])
    assert {"data_dir", "campaign"} <= set(first)


def test_a_relative_account_table_path_is_taken_from_where_the_user_is(tmp_path, monkeypatch):
    seen = {}

    def record_and_stop(notebook, executed, parameters):
        seen.update(parameters)
        raise TractionError("stopped after recording")

    monkeypatch.chdir(tmp_path)
    (tmp_path / "table.csv").write_text("userid,follower_count\n")  # a path parameter must exist
    monkeypatch.setattr(pipeline, "_execute", record_and_stop)
    with pytest.raises(TractionError, match="stopped after recording"):
        pipeline.run(None, "ira", tmp_path / "out", ["account_table=table.csv"], log=lambda message: None)
    assert seen["account_table"] == str(tmp_path / "table.csv")
    assert seen["data_dir"] == "" and seen["campaign"] == "ira"  # no simulated default behind a table


def test_a_relative_baseline_path_is_taken_from_where_the_user_is(tmp_path, monkeypatch):
    seen = {}

    def record(notebook, executed, parameters):
        seen[notebook.name] = parameters
        if notebook.name == pipeline.NOTEBOOKS[1]:
            raise TractionError("stopped after recording")

    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs" / "ordinary" / "work").mkdir(parents=True)  # a path parameter must exist
    (tmp_path / "runs" / "ordinary" / "work" / "accounts.parquet").touch()  # ... and a baseline be a run's
    monkeypatch.setattr(pipeline, "_execute", record)
    with pytest.raises(TractionError, match="stopped after recording"):
        pipeline.run(tmp_path, "camp", tmp_path / "out", ["baseline=runs/ordinary"], log=lambda message: None)
    assert seen[pipeline.NOTEBOOKS[1]]["baseline"] == str(tmp_path / "runs" / "ordinary")


def test_an_index_goes_only_into_reports_or_where_asked(tmp_path):
    from helpers import defaults

    assert pipeline.default_index(tmp_path / "some" / "dir") is None  # never into the parent of --out
    reports = defaults.project_root() / "reports"
    assert pipeline.default_index(reports / "china_052020") == (reports / "index.html").resolve()
    run = tmp_path / "runs" / "a"
    run.mkdir(parents=True)
    (run / "run.json").write_text('{"campaign": "a <b>", "simulated": true, "links": [["report", "report.html"]]}')
    index = report_index.write_index(tmp_path / "elsewhere" / "index.html", [run])
    html = index.read_text()
    assert "href='../runs/a/report.html'" in html and "a &lt;b&gt;" in html and "<b>" not in html
