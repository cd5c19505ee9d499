"""`traction compare`: runs side by side with the reference set, in comparison.json and comparison.html."""

import json
from html import escape
from html.parser import HTMLParser

import pytest

from helpers import statement, simulate, steps
from helpers.cli import main
from helpers.errors import TractionError
from helpers.report import claims, compare
from helpers.report.browser import check_page, chromium_path

HOSTILE = "camp<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two small simulated runs (one with a hostile campaign name) as traction run lays them out: <run>/work/."""
    root = tmp_path_factory.mktemp("runs")
    folders = []
    for name, seed, elasticity in [("alpha", 1, 0.8), (HOSTILE, 2, 0.3)]:
        data = root / f"data-{seed}"
        simulate.write_campaign(data, name, simulate.Scenario(scale=0.02, elasticity=elasticity), seed)
        _, work = steps.load(str(data), name, str(root / f"run-{seed}" / "work"))
        steps.engagement_vs_followers(work, n_boot=99)
        folders.append(root / f"run-{seed}")
    return folders


@pytest.fixture(scope="module")
def compared(runs, tmp_path_factory):
    out = tmp_path_factory.mktemp("reports") / "comparison"
    assert main(["compare", *map(str, runs), "--out", str(out), "--index", str(out.parent / "index.html")]) == 0
    return out


def test_writes_both_files_with_every_run_measure_and_verdict(runs, compared):
    document = json.loads((compared / "comparison.json").read_text(encoding="utf-8"))
    assert [run["label"] for run in document["runs"]] == ["alpha", HOSTILE]
    assert len(document["reference_set"]) == 28
    for run, folder in zip(document["runs"], runs):
        results = json.loads((folder / "work" / "results.json").read_text(encoding="utf-8"))
        tests = {entry["id"]: entry for entry in results["tests"]}
        for test_id in compare.KEY_MEASURES:
            for key in ("estimate", "ci_low", "ci_high"):
                assert run["measures"][test_id][key] == tests[test_id][key], (test_id, key)
        # no report was written for these runs: their verdicts are the statement chosen for their campaign's
        expected = claims.evaluate(statement.choose("", results["dataset"]["campaign"]), results)
        assert expected.statement.generic
        assert [(v["claim"], v["against"], v["verdict"]) for v in run["verdicts"]] == \
            [(v.id, v.against, v.verdict) for v in expected.verdicts]
    assert (compared / "comparison.html").is_file()


def test_the_same_runs_give_the_same_bytes(runs, compared, tmp_path):
    compare.write(runs, tmp_path / "again")
    for name in ("comparison.json", "comparison.html"):
        assert (tmp_path / "again" / name).read_bytes() == (compared / name).read_bytes(), name


def test_the_page_escapes_the_data_and_holds_the_tables_and_the_plot(compared):
    html = (compared / "comparison.html").read_text(encoding="utf-8")
    assert HOSTILE not in html and "camp&lt;img src=x onerror=alert(1)&gt;" in html
    attributes = []

    class Attributes(HTMLParser):
        def handle_starttag(self, tag, attrs):
            attributes.extend(name for name, _ in attrs)

    Attributes().feed(html)
    assert "onerror" not in attributes
    for heading in ("Key measures", "Among the reference campaigns", "Verdicts", "The reference set"):
        assert f"<h2>{heading}</h2>" in html
    assert html.count("data:image/png;base64,") == 1
    for meaning in claims.VERDICTS.values():
        assert escape(meaning) in html
    assert "ecuador_082019" in html and "SIMULATED DATA" in html


def test_the_index_links_the_comparison(compared):
    index = (compared.parent / "index.html").read_text(encoding="utf-8")
    assert "href='comparison/comparison.html'" in index
    assert "<td>alpha, camp&lt;img" in index and "<h2>Comparisons</h2>" in index


@pytest.mark.browser
@pytest.mark.skipif(chromium_path() is None, reason="Debian's chromium is not installed")
def test_the_page_passes_the_browser_check(compared):
    check = check_page(compared / "comparison.html")
    assert check.ok, check.summary()
    assert check.images == 1 and check.title.startswith("traction comparison: alpha")


def test_a_folder_without_results_is_named(tmp_path, capsys):
    with pytest.raises(TractionError, match="no work/results.json or results.json"):
        compare.read_runs([tmp_path])
    assert main(["compare", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    assert "no work/results.json" in capsys.readouterr().err
