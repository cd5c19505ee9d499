"""helpers.steps: notebook 02's chain end to end on a small simulated takedown and on the account-table form."""

import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from helpers import frames, results, simulate, steps, traces
from helpers.errors import TractionError
from helpers.ingest import archive
from helpers.stats import coordination
from helpers.stats.analysis import analyse

REQUIRED = ["followers_share_zero", "followers_share_under_10", "followers_median", "engagement_per_tweet_mean",
            "engagement_share_zero_tweets", "spearman_followers_engagement", "elasticity_nb_account",
            "elasticity_ppml_account", "elasticity_nb_tweet_clustered", "hurdle_any_logit_followers",
            "hurdle_positive_nb_followers", "in_network_retweet_share"]


@pytest.fixture(scope="module")
def work_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("sim")
    simulate.write_campaign(root / "data", "tiny", simulate.Scenario(scale=0.01), seed=3)
    archive.ingest(root / "data", "tiny", root / "work")
    return root / "work"


def test_results_json_is_complete_and_byte_identical(work_dir):
    first = steps.engagement_vs_followers(work_dir, seed=1, n_boot=49)
    text = (work_dir / "results.json").read_bytes()
    evidence = {name: (work_dir / name).read_bytes() for name in steps.EVIDENCE_FILES}
    second = steps.engagement_vs_followers(work_dir, seed=1, n_boot=49)
    assert (work_dir / "results.json").read_bytes() == text
    for name, data in evidence.items():  # the evidence too: same input and seed, same bytes
        assert (work_dir / name).read_bytes() == data, name
    assert sorted(p.name for p in work_dir.rglob("*.partial")) == []  # written aside, then renamed
    assert set(second.coordination_files.values()) == {work_dir / name for name in steps.EVIDENCE_FILES
                                                       if not name.startswith("figures/")} | {
        work_dir / "coordinated_accounts.parquet", work_dir / "coordination_edges.parquet"}
    doc = json.loads(text)
    ids = [t["id"] for t in doc["tests"]]
    assert set(REQUIRED) <= set(ids) and len(ids) == len(set(ids))
    assert all(list(t) == sorted(results.ENTRY_KEYS) for t in doc["tests"])
    assert doc["dataset"]["simulated"] is True and doc["dataset"]["campaign"] == "tiny"
    assert doc["dataset"]["input_files"][0]["sha256"]
    family = [t for t in doc["tests"] if t["p_holm"] is not None]
    assert family and all(t["p_holm"] >= t["p_value"] and t["converged"] for t in family)
    # Holm's family is the claims' primary tests with a p-value; every other p-value stays raw
    assert {t["id"] for t in family} == {t["id"] for t in doc["tests"] if results.measure(t["id"]).holm
                                         and t["converged"] and t["p_value"] is not None}
    assert {"elasticity_nb_account", "spearman_followers_engagement_within_tweet_strata"} <= {t["id"] for t in family}
    assert [b["band"] for b in doc["descriptives"]["follower_bands"]][:6] == [
        "0", "1-9", "10-99", "100-999", "1,000-4,999", "5,000+"]
    names = {f["name"] for f in doc["descriptives"]["figures"]}
    assert {"follower_ecdf", "lorenz", "dose_response", "rootogram", "lifespan", "retweet_to_like"} <= names
    for figure in doc["descriptives"]["figures"]:
        assert (work_dir / figure["file"]).is_file() and figure["caption"] and figure["title"]
    assert first.analysis.fitted is not None and first.document == doc


def test_a_shipped_statement_gets_every_measure_it_names(work_dir):
    """The Thai statement on a small simulated campaign: its months, days and counts are computed and judged."""
    from helpers import statement
    from helpers.report import claims

    thai = statement.shipped()["thailand_092020"]
    run = steps.engagement_vs_followers(work_dir, seed=1, n_boot=49, claims=thai)
    ids = {t["id"] for t in run.document["tests"]}
    tested = statement.read(thai)
    assert set(tested.measure_ids()) <= ids
    tests = {t["id"]: t for t in run.document["tests"]}
    accounts = run.analysis.frames.accounts
    created = accounts["account_creation_date"].dropna()
    assert tests["accounts_created_share_2020_01"]["estimate"] == pytest.approx(
        (created.dt.strftime("%Y-%m") == "2020-01").mean(), abs=1e-6)
    rows = duckdb.sql(f"SELECT count(*) FILTER (WHERE tweet_time >= DATE '2020-03-02'), count(*) "
                      f"FROM '{work_dir / 'tweets.parquet'}'").fetchall()[0]
    assert tests["tweets_share_from_2020_03_02"]["estimate"] == pytest.approx(rows[0] / rows[1], abs=1e-6)
    assert tests["tweets"]["estimate"] == rows[1] and tests["accounts"]["estimate"] == len(accounts)
    story = steps.narrative(work_dir, thai)
    assert {v.id for v in story.assessment.verdicts} == {c.id for c in tested.claims}
    assert story.assessment.verdicts[0].verdict in claims.VERDICTS


def test_account_table_form_runs_and_says_why_parts_are_skipped(tmp_path):
    table = tmp_path / "table.csv"
    pd.DataFrame({"name": [f"a{i}" for i in range(40)], "followers": [i * i for i in range(40)],
                  "tweets": [1 + i % 5 for i in range(40)],
                  "rts": [(i * i) // 7 for i in range(40)]}).to_csv(table, index=False)
    archive.ingest_account_table(table, tmp_path / "work", {"userid": "name", "follower_count": "followers",
                                                            "tweet_count": "tweets", "engagement_total": "rts"})
    run = steps.engagement_vs_followers(tmp_path / "work", n_boot=49)
    assert run.groups.empty and run.edges.empty and run.evidence_figures == []
    assert not any((tmp_path / "work" / name).exists() for name in steps.EVIDENCE_FILES)
    tests = {t["id"]: t for t in results.read(tmp_path / "work" / "results.json")["tests"]}
    assert set(REQUIRED) <= set(tests)
    assert tests["engagement_per_tweet_mean"]["converged"] is True
    assert tests["likes_per_tweet_mean"]["warnings"] == ["skipped: the data has no likes counts"]
    for test_id in ["in_network_retweet_share", "engagement_share_zero_tweets", "elasticity_nb_tweet_clustered"]:
        assert tests[test_id]["estimate"] is None and "skipped" in tests[test_id]["warnings"][0]


def test_real_ira_table_end_to_end(tmp_path, ira_table):
    archive.ingest_account_table(ira_table, tmp_path / "work", {
        "userid": "screen_name", "follower_count": "followers_max", "tweet_count": "tweets",
        "engagement_total": "retweets_received_total"})  # mapping one column twice trips the ingest
    run = steps.engagement_vs_followers(tmp_path / "work", n_boot=99)
    for test in run.document["tests"]:
        if test["converged"]:
            assert test["estimate"] is not None, test["id"]
        else:
            assert test["estimate"] is None and test["warnings"], test["id"]


def test_a_sampled_tweet_frame_is_said_in_the_entries_computed_from_it(work_dir):
    loaded = frames.load(work_dir, max_tweets=200, seed=2)
    assert loaded.tweets_sample_note and loaded.tweets_sample_note in loaded.warnings
    by_id = {t["id"]: t for t in analyse(loaded, coordination.empty("not needed here"), n_boot=19, seed=2).tests}
    assert loaded.tweets_sample_note in by_id["top1pct_tweets_engagement_share"]["warnings"]
    assert loaded.tweets_sample_note not in by_id["engagement_per_tweet_mean"]["warnings"]  # uses every account


def test_coordination_is_measured_in_a_child_on_its_own_connection_closed_on_return(work_dir, monkeypatch):
    opened = []
    original = traces.open
    monkeypatch.setattr(traces, "open", lambda path: opened.append(original(path)) or opened[-1])
    here = steps.measure_coordination_here(work_dir, seed=1)
    [closed] = opened
    with pytest.raises(duckdb.ConnectionException):  # closed: DuckDB's memory is given back before the frames
        closed.n_accounts
    measured = steps.measure_coordination(work_dir, seed=1)
    assert len(opened) == 1  # the child opened its own traces, unseen by this process's patch
    with original(work_dir) as again:
        inline = coordination.measure(again, seed=1)
    for found in (here, measured):
        assert found.tests == inline.tests
        pd.testing.assert_frame_equal(found.by_window, inline.by_window)
        pd.testing.assert_frame_equal(found.edges, inline.edges)
        pd.testing.assert_frame_equal(found.accounts, inline.accounts)


def test_the_frames_close_their_connection(work_dir, monkeypatch):
    made = []
    original = frames.connect
    monkeypatch.setattr(frames, "connect", lambda: made.append(original()) or made[-1])
    frames.load(work_dir)
    [con] = made
    with pytest.raises(duckdb.ConnectionException):  # DuckDB's memory is given back once the frames are built
        con.execute("SELECT 1")


def test_no_coordination_is_measured_without_tweet_rows(tmp_path):
    table = tmp_path / "table.csv"
    pd.DataFrame({"userid": ["a", "b", "c"], "follower_count": [1, 2, 3], "tweet_count": [1, 1, 2],
                  "engagement_total": [0, 3, 1]}).to_csv(table, index=False)
    archive.ingest_account_table(table, tmp_path / "work")
    unmeasured = steps.measure_coordination(tmp_path / "work")
    assert unmeasured.edges.empty and all(not t["converged"] for t in unmeasured.tests)
    assert "needs tweet rows" in unmeasured.tests[0]["warnings"][0]
    with pytest.raises(TractionError, match="run 01_load.ipynb first"):  # no tables: load's own error, at once
        steps.measure_coordination(tmp_path / "empty")


RETAINED = """
import ctypes, sys
from helpers import steps
if sys.argv[1] == "fixed":
    assert steps.give_back_freed_arrays()
rss = lambda: int(open("/proc/self/statm").read().split()[1]) * 4096
probe = bytearray(8 << 20)
del probe  # freeing one mapped array is what raises glibc's threshold
before = rss()
arrays, kept = [], []
for i in range(60):  # 8 MB arrays freed later, a small object kept after each (a heap's live top)
    arrays.append(bytearray(8 << 20))
    kept.append(bytearray(64 << 10))
del arrays
print(rss() - before)
"""


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="reads the resident size from /proc")
def test_freed_arrays_go_back_to_the_system_with_the_fixed_threshold():
    import subprocess
    import sys

    def retained(mode):
        out = subprocess.run([sys.executable, "-c", RETAINED, mode], capture_output=True, text=True, check=True)
        return int(out.stdout) / 2**20

    default, fixed = retained("default"), retained("fixed")
    assert fixed < 16  # MB: the small objects only
    assert default > 200  # glibc's rising threshold kept most of the 480 MB in its heap
