"""Exploring a campaign from the step's frames (docs/explore.md): the documented pattern, and the coordination's
evidence as files: the groups table, the items behind each tie and the GraphML network, checked by hand."""

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from helpers import results, simulate, steps
from helpers.ingest import archive
from helpers.report import figures
from helpers.traces import TRACES


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("explore")
    simulate.write_campaign(root / "data", "explore", simulate.Scenario(scale=0.02), seed=5)
    archive.ingest(root / "data", "explore", root / "work")
    return steps.engagement_vs_followers(root / "work", seed=2, n_boot=49)


def test_the_documented_pattern_refits_the_primary_model_from_the_frames(run):
    # docs/explore.md: run the step once, then refit from its frames with another option
    refit = run.refit_primary(without_top=10)
    step = run.results.set_index("id")
    assert refit["id"] == "elasticity_nb_account_without_top10" and refit["converged"]
    assert refit["estimate"] == run.analysis.test("elasticity_nb_account_without_top10")["estimate"]
    assert refit["estimate"] == pytest.approx(step.loc["elasticity_nb_account_without_top10", "estimate"], rel=1e-5)
    assert (refit["ci_low"], refit["ci_high"]) == pytest.approx(
        (step.loc[refit["id"], "ci_low"], step.loc[refit["id"], "ci_high"]), rel=1e-5)
    whole = run.refit_primary()
    assert whole["estimate"] == run.analysis.test("elasticity_nb_account")["estimate"] != refit["estimate"]
    # a frame filtered by hand is refitted too: leaving out accounts with no original tweet changes nothing
    assert run.refit_primary(run.accounts[run.accounts["n_original"] > 0])["estimate"] == whole["estimate"]


def test_a_figure_redrawn_from_the_frames_is_the_steps(run, tmp_path):
    fig, _ = figures.lorenz(run.accounts)
    again = figures.save(fig, tmp_path / "lorenz.png").read_bytes()
    assert again == (run.path.parent / "figures" / "lorenz.png").read_bytes()
    assert fig._repr_png_() == again  # what a notebook shows when a cell ends with the figure


def test_the_results_frame_is_tidy_with_one_row_per_measure(run):
    frame = run.results
    assert list(frame.columns) == results.TIDY_COLUMNS and frame["id"].is_unique
    assert list(frame["id"]) == [t["id"] for t in run.document["tests"]]
    by_id = {t["id"]: t for t in run.document["tests"]}
    for row in frame.itertuples():
        expected = by_id[row.id]["estimate"]
        assert (np.isnan(row.estimate) if expected is None else row.estimate == expected), row.id
        assert row.warnings == "; ".join(by_id[row.id]["warnings"])
    assert frame["estimate"].dtype == "float64" and frame["converged"].dtype == bool


def test_top_accounts_are_the_most_engaged_and_followed(run):
    for table, column in ((run.top_by_engagement, "engagement"), (run.top_by_followers, "follower_count")):
        assert len(table) == 20 and table["userid"].is_unique
        rest = run.accounts[~run.accounts["userid"].isin(table["userid"])]
        assert rest[column].max() <= table[column].min()
        assert table[column].is_monotonic_decreasing
    top = run.top_by_engagement.iloc[0]
    assert top["engagement_per_tweet"] == pytest.approx(top["engagement"] / top["n_original"])


def test_graphml_round_trips_with_the_attributes_and_matches_the_edges_table(run):
    work = run.path.parent
    graph = nx.read_graphml(work / "coordination.graphml")
    edges = pd.read_parquet(work / "coordination_edges.parquet")
    tied = pd.read_parquet(work / "coordinated_accounts.parquet").set_index("userid")
    hashed = pd.read_parquet(work / "accounts.parquet", columns=["userid", "userid_hashed"]).set_index("userid")
    accounts = run.accounts.set_index("userid")
    assert graph.graph["window_minutes"] == 1 and graph.graph["min_weight"] == 2
    assert set(graph.nodes) == set(tied.index) and len(tied) > 20
    for node, data in graph.nodes(data=True):
        assert data["group"] == tied.at[node, "group"] and data["degree"] == graph.degree(node)
        assert data["followers"] == accounts.at[node, "follower_count"]
        assert data["tweets"] == accounts.at[node, "n_tweets"] and data["engagement"] == accounts.at[node, "engagement"]
        assert data["hashed"] == bool(hashed.at[node, "userid_hashed"])
    per_trace = edges.pivot_table(index=["user_1", "user_2"], columns="trace", values="weight", aggfunc="sum",
                                  fill_value=0)
    assert graph.number_of_edges() == len(per_trace)
    for u, v, data in graph.edges(data=True):
        pair = tuple(sorted((u, v)))
        for trace in TRACES:
            expected = per_trace.at[pair, trace] if trace in per_trace.columns else 0
            assert data[f"{trace}_1min"] == expected, (pair, trace)
        assert data["weight"] == per_trace.loc[pair].sum()
    components = sorted((len(c) for c in nx.connected_components(graph)), reverse=True)
    assert components == sorted(tied["group"].value_counts().tolist(), reverse=True)


def test_the_groups_table_agrees_with_the_ties_and_the_items_behind_them(run):
    work = run.path.parent
    groups = pd.read_csv(work / "coordination_groups.csv")
    tied = pd.read_parquet(work / "coordinated_accounts.parquet")
    edges = pd.read_parquet(work / "coordination_edges.parquet")
    items = pd.read_parquet(work / "coordination_edge_items.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(work / "coordination_groups.parquet")[["group", "size", "ties"]],
                                  groups[["group", "size", "ties"]])
    assert groups["group"].tolist() == list(range(1, len(groups) + 1))
    assert groups["size"].tolist() == tied["group"].value_counts().sort_index().tolist()
    pairs = edges.drop_duplicates(["user_1", "user_2"]).assign(group=lambda e: e["user_1"].map(
        tied.set_index("userid")["group"]))
    assert groups.set_index("group")["ties"].to_dict() == pairs["group"].value_counts().to_dict()
    # every tie's items: as many as its weight (all of them when under the cap), each within the window
    weights = edges.set_index(["user_1", "user_2", "trace"])["weight"]
    per_tie = items.groupby(["user_1", "user_2", "trace"]).agg(rows=("rank", "size"), total=("items_in_tie", "first"))
    assert per_tie.index.sort_values().equals(weights.index.sort_values())
    assert (per_tie["total"] == weights.reindex(per_tie.index)).all()
    assert (per_tie["rows"] == per_tie["total"].clip(upper=10)).all()
    apart = (items["tweet_time_1"] - items["tweet_time_2"]).abs()
    assert (apart <= pd.Timedelta(minutes=1)).all() and apart.max() == pd.Timedelta(minutes=1)  # archive minutes
    first = items.groupby("user_1")["tweet_time_1"].min().min()
    assert groups["first_shared"].min() == str(min(first, items["tweet_time_2"].min()))


def test_the_evidence_notes_its_caps_in_the_files(run):
    import pyarrow.parquet as pq

    work = run.path.parent
    note = pq.read_schema(work / "coordination_edge_items.parquet").metadata[b"traction"].decode()
    assert "at most 10 per tie" in note
    assert "members lists at most 50" in pq.read_schema(work / "coordination_groups.parquet").metadata[
        b"traction"].decode()


def test_a_campaign_without_ties_has_empty_evidence_and_figures_that_say_so(tmp_path):
    from helpers import traces
    from helpers.stats import coordination
    from test_coordination import post, work_dir_from

    tweets = [post(user, minute, f"words of {user} at {minute}") for user in "abc" for minute in (0, 30)]
    with traces.open(work_dir_from(tmp_path / "w", tweets)) as opened:
        found = coordination.measure(opened, seed=1, windows=(1,), draws=3)
        gathered = coordination.gather_evidence(opened, found)
        assert opened.tie_item_batches().read_all().num_rows == 0
    assert found.edges.empty and gathered.groups.empty and list(gathered.groups) == coordination.GROUP_COLUMNS
    graph = coordination.network(found, pd.DataFrame(columns=["userid", "follower_count", "n_tweets", "engagement"]))
    assert graph.number_of_nodes() == 0
    fig, caption = figures.coordination_network(graph)
    assert fig.axes[0].get_title() == "No accounts acted in concert" and "0 accounts and 0 ties" in caption
    _, caption = figures.coordination_group_sizes(found.group_sizes, 3)
    assert "0 groups observed" in caption and "by chance 0 to 0" in caption


def test_the_graph_keeps_whole_groups_within_its_cap_and_the_figure_each_groups_best_tied(run):
    from helpers.stats import coordination

    found, tied = run.analysis.coordination, run.analysis.coordination.accounts
    pairs = run.edges.drop_duplicates(["user_1", "user_2"])
    per_group = pairs["user_1"].map(tied.set_index("userid")["group"]).value_counts()
    capped = coordination.network(found, run.accounts, max_ties=int(per_group[1] + per_group[2]))
    assert {data["group"] for _, data in capped.nodes(data=True)} == {1, 2}
    assert capped.number_of_nodes() == int(tied["group"].isin([1, 2]).sum())
    assert capped.number_of_edges() == int(per_group[1] + per_group[2])
    assert (capped.graph["groups"], capped.graph["groups_left_out"]) == (2, tied["group"].nunique() - 2)
    shown = coordination.largest_groups(found, run.accounts, groups=2, per_group=5)
    for group in (1, 2):
        members = tied[tied["group"] == group].sort_values(["degree", "userid"], ascending=[False, True])
        assert {n for n, d in shown.nodes(data=True) if d["group"] == group} == set(members["userid"].head(5))
    assert shown.graph["accounts_in_groups"] == int(tied["group"].isin([1, 2]).sum())
    _, caption = figures.coordination_network(shown)
    assert f"of their {shown.graph['accounts_in_groups']:,} accounts" in caption and "its 5 accounts" in caption
