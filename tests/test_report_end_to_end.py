"""`traction run` end to end on a small simulated campaign seeded with hostile strings."""

import csv
import json
import re
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest

from helpers import pipeline, simulate, statement
from helpers.report import claims
from helpers.errors import TractionError

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
CAMPAIGN = "hostile-test"  # a campaign name is letters, digits, '_' and '-': it names a folder
TAG = "<b onmouseover=alert(1)>"  # in the tweets file's name, shown on the pages that list the files
TWEETS_FILE = f"{CAMPAIGN}_tweets_csv_hashed{TAG}.csv"
STATEMENT = Path(__file__).parent / "fixtures" / "statement_every_comparison.toml"


def add_hostile_tweets(data_dir: Path, copies=60):
    """Copy original tweets, giving them a script as text and an img tag as hashtag (enough to rank in the top)."""
    path = (data_dir / f"{CAMPAIGN}_tweets_csv_hashed.csv").rename(data_dir / TWEETS_FILE)
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    originals = [row for row in rows if row["is_retweet"] == "False"][:copies]
    added = []
    for number, row in enumerate(originals):
        row = dict(row, tweetid=f"9{number:017d}", tweet_text=SCRIPT, hashtags=f"[{IMG}]",
                   user_display_name=SCRIPT if row["userid"].isdigit() else row["user_display_name"])
        added.append(row)
    with path.open("a", newline="", encoding="utf-8") as handle:
        csv.DictWriter(handle, fieldnames=list(rows[0]), quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(added)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("archive")
    simulate.write_campaign(data_dir, CAMPAIGN, simulate.Scenario(scale=0.03), seed=3)
    add_hostile_tweets(data_dir)
    out = tmp_path_factory.mktemp("reports") / CAMPAIGN
    result = pipeline.run(data_dir, CAMPAIGN, out, ["n_boot=199"], index=out.parent / "index.html",
                          log=lambda message: None)
    result.data_dir = data_dir
    return result


class Elements(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.attributes = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes += [name for name, _ in attrs]


def test_every_output_lies_under_the_run_folder(report):
    out = report.out_dir
    for name in ["report.html", "run.json", "work/results.json", "work/tweets.parquet", "work/load_report.json",
                 "executed/01_load.ipynb", "executed/03_narrative.ipynb", "02_engagement_vs_followers.full.html"]:
        assert (out / name).is_file(), name
    assert list((out / "work" / "figures").glob("*.png"))
    assert (out.parent / "index.html").is_file()


def test_no_string_from_the_data_reaches_any_page_unescaped(report):
    pages = list(report.out_dir.glob("*.html")) + [report.out_dir.parent / "index.html"]
    assert len(pages) >= 8
    hashtags_shown = False
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert SCRIPT not in text and IMG not in text and TAG not in text, page.name
        parsed = Elements()
        parsed.feed(text)
        assert not {"onerror", "onmouseover"} & set(parsed.attributes), page.name
        hashtags_shown |= "&lt;img src=x onerror=alert(1)&gt;" in text
    assert hashtags_shown, "the hostile hashtag should be shown (escaped) in the hashtag table"
    for name in ["01_load.html"]:
        assert "hashed&lt;b onmouseover=alert(1)&gt;.csv" in (report.out_dir / name).read_text(encoding="utf-8")


def test_no_page_and_no_results_file_carries_a_local_path(report):
    pages = [*report.out_dir.glob("*.html"), report.out_dir.parent / "index.html",
             report.out_dir / "work" / "results.json", report.out_dir / "work" / "claims.json"]
    local = [str(report.out_dir), str(report.data_dir), str(report.out_dir.parent), f"{Path.home()}/",
             str(Path(__file__).resolve().parents[1])]
    for page in pages:
        text = unescape(page.read_text(encoding="utf-8"))
        for path in local:
            assert path not in text, f"{page.name} shows the local path {path}"
    assert "&lt;run folder&gt;/work" in (report.out_dir / "02_engagement_vs_followers.full.html").read_text()


def test_the_index_gives_each_run_its_date_size_verdicts_and_pages_report_first(report):
    html = (report.out_dir.parent / "index.html").read_text(encoding="utf-8")
    run = json.loads((report.out_dir / "run.json").read_text())
    verdicts = json.loads((report.out_dir / "work" / "claims.json").read_text())["claims"]
    assert CAMPAIGN in html and run["date"] in html
    assert f"{run['accounts']:,} accounts" in html and f"{run['tweets']:,} tweets" in html
    first = {}
    for claim in verdicts:
        first.setdefault(claim["claim"], claim)
    for claim in list(first.values())[:4]:  # the first claims of the statement, one verdict each
        assert f"{claim['claim']} <span class='verdict'>{claim['verdict']}</span>" in unescape(html)
    hrefs = re.findall(r"href='([^']+)'", html)
    assert hrefs[0].endswith("/report.html") and hrefs[1].endswith("/01_load.html")


@pytest.mark.browser
def test_every_page_of_the_run_and_the_index_pass_the_browser_check(report):
    from helpers.report import browser

    if browser.chromium_path() is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    index = report.out_dir.parent / "index.html"
    pages = [index, *browser.local_pages(index)]
    assert len(pages) == 8  # the index, the report and six notebook pages
    for page in pages:
        check = browser.check_page(page)
        assert check.ok, check.summary()


def claim_rows(html: str):
    table = re.search(r"<table class='claims'>.*?</table>", html.replace('"', "'"), re.S)
    assert table, "no claims table in the report"
    return re.findall(r"<tr data-claim='([a-z0-9_]+)'>.*?<td class='verdict'>(.*?)</td><td>(.*?)</td>",
                      table.group(0), re.S)


def test_claims_table_has_the_verdicts_with_the_numbers_of_results_json(report):
    html = report.report.read_text(encoding="utf-8")
    rows = claim_rows(html)
    results = json.loads((report.out_dir / "work" / "results.json").read_text())
    expected = claims.evaluate(statement.choose("", CAMPAIGN), results)  # no statement ships: the generic one
    assert expected.statement.generic
    assert [claim_id for claim_id, _, _ in rows] == [v.id for v in expected.verdicts]
    for (_, verdict, evidence), claim in zip(rows, expected.verdicts):
        assert verdict == claim.verdict
        assert unescape(evidence).startswith(claim.evidence)
    numbers_in_report = re.findall(r"\d+\.\d+", " ".join(evidence for _, _, evidence in rows))
    assert numbers_in_report, "the evidence should carry numbers"
    tests = {entry["id"]: entry for entry in results["tests"]}
    shown = claims.pct(tests["followers_share_under_10"]["estimate"])
    assert shown in rows[1][2]


def test_the_report_explains_the_four_verdicts_above_the_claims_and_compares_with_real_campaigns(report):
    html = unescape(report.report.read_text(encoding="utf-8"))
    table = html.index("class=\"claims\"") if "class=\"claims\"" in html else html.index("class='claims'")
    for verdict, meaning in claims.VERDICTS.items():
        assert html.index(meaning) < table, verdict
    results = json.loads((report.out_dir / "work" / "results.json").read_text())
    tests = {entry["id"]: entry for entry in results["tests"]}
    reference_part = html[html.index("Compared with other campaigns"):]
    percentile = tests["reference_percentile_engagement_per_tweet_row"]
    assert claims.interval(percentile) in reference_part
    assert "is not in it and is compared with all 28" in reference_part
    assert "Among the reference campaigns" in reference_part  # the dot plot's title


def test_the_report_says_it_is_simulated_at_the_top(report):
    html = report.report.read_text(encoding="utf-8")
    body = html[html.index("<body"):]
    assert body.index("SIMULATED DATA") < body.index("No statement was given for this campaign")


def test_a_campaign_without_a_statement_gets_the_generic_claims_and_nothing_of_the_prc(report):
    html = unescape(report.report.read_text(encoding="utf-8")).replace('"', "'")
    table = html[html.index("class='claims'"):html.index("</table>", html.index("class='claims'"))]
    for specific in ("Chinese", "Hong Kong", "Republican", "PRC", "core accounts", "23,750"):
        assert specific not in table, specific
    assert "traction run --claims FILE" in html and "docs/claims.md" in html


@pytest.fixture(scope="module")
def own_statement(tmp_path_factory):
    """`traction run --claims FILE` on the default sample: the file's quote and claims, not the PRC's."""
    from helpers.cli import main

    data_dir, campaign = simulate.ensure_default("sample")
    out = tmp_path_factory.mktemp("own") / "run"
    assert main(["run", "--data-dir", str(data_dir), "--campaign", campaign, "--claims", str(STATEMENT),
                 "--out", str(out), "--index", str(out.parent / "index.html"), "-p", "n_boot=99"]) == 0
    return out


def test_run_with_claims_renders_the_files_quote_and_claims(own_statement):
    html = (own_statement / "report.html").read_text(encoding="utf-8")
    tested = statement.read(STATEMENT)
    assert "They had &lt;b&gt;few&lt;/b&gt; followers &amp; little" in html  # escaped: shown as text
    assert tested.quote in unescape(html) and "<b>few</b>" not in html and "A test platform" in html
    assert [claim_id for claim_id, _, _ in claim_rows(html)] == [claim.id for claim in tested.claims]
    recorded = json.loads((own_statement / "work" / "claims.json").read_text(encoding="utf-8"))
    assert recorded["statement"]["name"] == STATEMENT.name and not recorded["statement"]["shipped"]
    results = json.loads((own_statement / "work" / "results.json").read_text(encoding="utf-8"))
    ids = {entry["id"] for entry in results["tests"]}
    assert set(tested.measure_ids()) - {"baseline_engagement_ratio"} <= ids  # the file's measures were computed
    assert "Did the network achieve traction?" in html  # the file gives no title: the default heading
    assert "They tweeted predominantly in Chinese" not in html


@pytest.mark.browser
def test_run_with_claims_passes_the_browser_check(own_statement):
    from helpers.report import browser

    if browser.chromium_path() is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    check = browser.check_page(own_statement / "report.html")
    assert check.ok, check.summary()


def test_a_failing_cell_names_the_notebook_and_cell_and_keeps_the_partial_notebook(tmp_path):
    out = tmp_path / "broken"
    (tmp_path / "empty-folder").mkdir()  # (a missing folder is refused before any notebook runs)
    with pytest.raises(TractionError) as error:
        pipeline.run(tmp_path / "empty-folder", "china_052020", out, log=lambda message: None)
    message = str(error.value)
    assert "01_load.ipynb failed in cell" in message
    assert "no files for campaign 'china_052020'" in message
    partial = tmp_path / ".broken.failed" / "executed" / "01_load.ipynb"  # beside the run's folder, not in it
    assert partial.is_file() and str(partial.parent) in message and not out.exists()


def test_a_bad_parameter_stops_the_run_before_any_notebook_executes(tmp_path):
    out = tmp_path / "never"
    with pytest.raises(TractionError, match="unknown parameter 'n_bootstrap'"):
        pipeline.run(tmp_path, "china_052020", out, ["n_bootstrap=5"], log=lambda message: None)
    assert not out.exists()


def test_cli_exit_status_and_message(tmp_path, capsys):
    from helpers.cli import main

    assert main(["run", "--data-dir", str(tmp_path), "--campaign", "x", "--out", str(tmp_path / "o"),
                 "-p", "seed=abc"]) == 2
    assert "parameter seed='abc': expected int" in capsys.readouterr().err


def test_the_coordination_section_shows_the_network_figure_and_the_groups_table(report):
    import pandas as pd

    html = report.report.read_text(encoding="utf-8")
    start = html.index("Coordination among the accounts")
    section = html[start:html.index("What the data cannot show", start)]
    written = json.loads((report.out_dir / "work" / "coordination_evidence.json").read_text(encoding="utf-8"))
    assert [figure["name"] for figure in written["figures"]] == ["coordination_network", "coordination_group_sizes"]
    for figure in written["figures"]:  # the page re-serialises entities: compare the text
        assert figure["title"] in unescape(section) and figure["caption"] in unescape(section)
    assert section.count("data:image/png") == 3  # by window, the network, the group sizes
    groups = pd.read_parquet(report.out_dir / "work" / "coordination_groups.parquet")
    assert len(groups) >= 4  # the campaign's planted cells, at least
    assert f"The {min(10, len(groups))} largest of {len(groups):,} groups" in section
    rows = re.findall(r"<tr><td class='num'>(\d+)</td><td class='num'>([\d,]+)</td>", section.replace('"', "'"))
    assert [(int(g), int(n.replace(",", ""))) for g, n in rows] == list(
        zip(groups["group"].head(10), groups["size"].head(10)))
