"""Coordination: exact pair counts on hand-built tweets, recovery of the simulator's cells (decoys included),
no excess on a campaign without coordination, and none on bursty but independent accounts built unlike the
simulator."""

import json

import numpy as np
import pandas as pd
import pytest

from helpers import schema, simulate, traces as traces_module
from helpers.errors import TractionError
from helpers.ingest import archive
from helpers import statement
from helpers.report import claims
from helpers.stats import coordination
from test_frames import write_table

DAY = pd.Timestamp("2020-03-02")


def work_dir_from(path, tweets: list[dict]):
    """accounts.parquet and tweets.parquet (schema types) for ``tweets``; every author is an account."""
    path.mkdir(parents=True, exist_ok=True)
    users = sorted({t["userid"] for t in tweets})
    write_table(path / "accounts.parquet", schema.ACCOUNTS_SCHEMA,
                [{"userid": u, "follower_count": 1, "account_creation_date": "2019-01-01"} for u in users])
    rows = [{"like_count": 0, "retweet_count": 0, "reply_count": 0, "quote_count": 0, "is_retweet": False,
             "tweetid": str(i), **t} for i, t in enumerate(tweets)]
    write_table(path / "tweets.parquet", schema.TWEETS_SCHEMA, rows)
    return path


def rt(user, minute, item):
    return {"userid": user, "tweet_time": DAY + pd.Timedelta(minutes=minute), "is_retweet": True,
            "retweet_tweetid": item, "tweet_text": f"RT @x: {item}"}


def post(user, minute, text, **more):
    return {"userid": user, "tweet_time": DAY + pd.Timedelta(minutes=minute), "tweet_text": text, **more}


def pairs(tmp_path, tweets, window=1, **options):
    traces = traces_module.open(work_dir_from(tmp_path / "w", tweets))
    counted = traces.pairs(window, min_weight=options.get("min_weight", 2), max_rows=options.get("max_rows", 500))
    ids = traces.accounts().set_index("uid")["userid"]
    edges = counted.edges.assign(user_1=lambda e: ids.loc[e["user_1"]].to_numpy(),
                                 user_2=lambda e: ids.loc[e["user_2"]].to_numpy())
    return {(r.trace, r.user_1, r.user_2): r.weight for r in edges.itertuples()}, counted.capped


def test_a_pair_needs_two_distinct_items_each_within_the_window(tmp_path):
    tweets = [rt("a", 0, "X"), rt("b", 1, "X"), rt("a", 30, "Y"), rt("b", 30, "Y"),  # a-b: X and Y
              rt("c", 0, "X"), rt("c", 31, "Y"),  # c: X with a and b, Y with both too (within one minute)
              rt("d", 3, "X"), rt("d", 33, "Y"),  # d: two minutes late every time
              rt("e", 60, "Z"), rt("f", 60, "Z"), rt("e", 61, "Z"), rt("f", 61, "Z")]  # one item twice: weight 1
    found, capped = pairs(tmp_path, tweets)
    assert found == {("co_retweet", "a", "b"): 2, ("co_retweet", "a", "c"): 2, ("co_retweet", "b", "c"): 2}
    assert capped.empty
    wider, _ = pairs(tmp_path / "wide", tweets, window=10)
    assert wider[("co_retweet", "a", "d")] == 2 and ("co_retweet", "e", "f") not in wider


def test_texts_are_compared_without_case_mentions_and_links_and_retweets_do_not_count_as_texts(tmp_path):
    tweets = [post("a", 0, "Stop the Riots #HK https://t.co/abc"), post("b", 0, "@someone stop the riots #hk"),
              post("a", 50, "Second text"), post("b", 51, "second   TEXT https://t.co/zzz"),
              rt("c", 0, "Stop the Riots #HK"), rt("c", 50, "Second text")]
    tweets[-2]["tweet_text"], tweets[-1]["tweet_text"] = "stop the riots #hk", "second text"  # retweet rows
    found, _ = pairs(tmp_path, tweets)
    assert found == {("co_tweet", "a", "b"): 2}


def test_links_replies_and_hashtag_sets_are_traces_too(tmp_path):
    tweets = [post("a", 0, "one", urls=["http://x.org/1"], hashtags=["A", "b"], in_reply_to_tweetid="90"),
              post("b", 0, "two", urls=["http://x.org/1"], hashtags=["B", "a"], in_reply_to_tweetid="90"),
              post("a", 9, "three", urls=["http://x.org/2"], hashtags=["c"], in_reply_to_tweetid="91"),
              post("b", 10, "four", urls=["http://x.org/2"], hashtags=["C"], in_reply_to_tweetid="91"),
              post("c", 9, "five", hashtags=["a", "b", "c"])]  # another hashtag set: no tie
    found, _ = pairs(tmp_path, tweets)
    assert found == {("co_link", "a", "b"): 2, ("co_reply", "a", "b"): 2, ("co_hashtag", "a", "b"): 2}


def test_an_item_crowded_within_one_window_is_left_out_and_said(tmp_path):
    crowd = [rt(f"u{i}", 0, "X") for i in range(12)] + [rt(f"u{i}", 20, "Y") for i in range(12)]
    found, capped = pairs(tmp_path, crowd + [rt("u0", 40, "Z"), rt("u1", 40, "Z")], max_rows=10)
    assert found == {} and len(capped) == 2 and capped["rows"].sum() == 24
    found, capped = pairs(tmp_path / "uncapped", crowd, max_rows=500)
    assert len(found) == 12 * 11 // 2 and capped.empty


def test_groups_are_connected_components_with_traces_and_degree():
    edges = pd.DataFrame({"user_1": ["a", "a", "b", "x"], "user_2": ["b", "c", "c", "y"],
                          "trace": ["co_retweet", "co_tweet", "co_retweet", "co_link"], "weight": [2, 3, 2, 2]})
    table = coordination.coordinated_accounts(edges)
    assert table.to_dict("list") == {"userid": ["a", "b", "c", "x", "y"], "group": [1, 1, 1, 2, 2],
                                     "traces": ["co_retweet,co_tweet", "co_retweet", "co_retweet,co_tweet",
                                                "co_link", "co_link"], "degree": [2, 2, 2, 1, 1]}


# ---- the simulator: planted cells and decoys ---------------------------------------------------------------


def simulated(root, scenario, seed):
    truth = simulate.write_campaign(root / "data", "sim", scenario, seed=seed)
    archive.ingest(root / "data", "sim", root / "work")
    return truth, traces_module.open(root / "work")


@pytest.fixture(scope="module")
def coordinated(tmp_path_factory):
    # Fresh seed: the null and the defaults were chosen on the default campaign (seed 20200611).
    root = tmp_path_factory.mktemp("cells")
    truth, opened = simulated(root, simulate.Scenario(scale=0.2), seed=41)
    return truth, coordination.measure(opened, seed=1), opened, root / "work"


def test_planted_cells_are_recovered_with_precision_and_recall_over_90_percent(coordinated):
    truth, found, _, _ = coordinated
    members = set(truth["coordination"]["members"])
    flagged = set(found.accounts["userid"])
    assert len(members) >= 200 and truth["coordination"]["decoys"]  # decoys were planted
    assert sum(d["retweets"] for d in truth["coordination"]["decoys"]) >= 100
    precision, recall = len(flagged & members) / len(flagged), len(flagged & members) / len(members)
    assert precision >= 0.9 and recall >= 0.9, (precision, recall)
    largest = found.accounts[found.accounts["group"] == 1]["userid"]
    cells = [set(g["members"]) for g in truth["coordination"]["groups"]]
    overlap = max(len(set(largest) & cell) for cell in cells)
    assert overlap >= 0.8 * len(largest), (overlap, len(largest))  # mostly one cell: chance ties merge few


def claim_5(found):
    """The PRC statement's coordination claim, judged on these entries."""
    tested = statement.choose("", "china_052020")
    return claims.judge(next(c for c in tested.claims if c.id == "core_acted_in_concert"), {"tests": found.tests})


def test_the_excess_over_chance_is_clear_and_claim_5_is_supported(coordinated):
    _, found, _, _ = coordinated
    tests = {t["id"]: t for t in found.tests}
    excess = tests["coordinated_accounts_share_above_chance"]
    assert excess["ci_low"] > 0.05 and excess["p_value"] == pytest.approx(1 / (coordination.NULL_DRAWS + 1))
    assert tests["coordinated_accounts_share"]["estimate"] > 5 * tests["coordinated_accounts_share_chance"]["estimate"]
    verdict = claim_5(found)
    assert verdict.verdict == claims.SUPPORTED and "not testable" in verdict.caveat


def test_the_figure_table_has_every_window_and_trace(coordinated):
    _, found, _, _ = coordinated
    table = found.by_window
    assert sorted(table["window"].unique()) == list(coordination.WINDOWS)
    assert set(table["trace"]) == {"any", *coordination.TRACES}
    assert (table["null_low"] <= table["null_high"]).all() and (table["observed"] >= 0).all()


def test_the_same_seed_gives_the_same_ties_and_null(coordinated):
    _, found, opened, _ = coordinated
    again = coordination.measure(opened, seed=1)
    pd.testing.assert_frame_equal(again.by_window, found.by_window)
    pd.testing.assert_frame_equal(again.edges, found.edges)
    other = coordination.measure(opened, seed=2, windows=(1,))
    assert not np.allclose(other.by_window["null_mean"], found.by_window.query("window == 1")["null_mean"])


@pytest.mark.parametrize("seed", [42, 43])
def test_nothing_beyond_chance_without_cells(tmp_path, seed):
    truth, opened = simulated(tmp_path, simulate.Scenario(scale=0.3, coordinated_groups=0), seed=seed)
    assert not truth["coordination"]["members"] and truth["coordination"]["decoys"]
    found = coordination.measure(opened, seed=seed)
    tests = {t["id"]: t for t in found.tests}
    excess = tests["coordinated_accounts_share_above_chance"]
    assert excess["ci_low"] <= 0.0, excess  # observed within what chance gives
    assert claim_5(found).verdict != claims.SUPPORTED


def bursty_independent_tweets(seed=5, accounts=300, days=42):
    """Accounts that tweet in sessions of a few minutes, at independent times around the clock (more in the
    evening, unlike the simulator's office hours), each session retweeting several of the week's popular
    tweets (Zipf popularity, a new set each week). Nothing is coordinated, but sessions overlap by chance."""
    rng = np.random.default_rng(seed)
    hour_weights = np.array([1, 1, 1, 1, 1, 1, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 4, 5, 6, 7, 7, 6, 4, 2], float)
    popularity = 1 / np.arange(1, 41) ** 1.1
    rows = []
    for account in range(accounts):
        for _ in range(rng.poisson(10)):
            day = int(rng.integers(0, days))
            start = day * 1440 + int(rng.choice(24, p=hour_weights / hour_weights.sum())) * 60 + int(rng.integers(60))
            week = day // 7
            for k in range(int(rng.integers(2, 7))):
                item = f"w{week}-{rng.choice(40, p=popularity / popularity.sum())}"
                rows.append(rt(f"acct{account}", start + int(rng.exponential(2)), item))
            if rng.random() < 0.5:
                rows.append(post(f"acct{account}", start + 1, f"my own words {rng.integers(10**9)}"))
    return rows


def test_bursty_independent_accounts_are_not_called_coordinated(tmp_path):
    opened = traces_module.open(work_dir_from(tmp_path / "bursty", bursty_independent_tweets()))
    found = coordination.measure(opened, seed=3)
    tests = {t["id"]: t for t in found.tests}
    assert tests["coordinated_accounts_share"]["estimate"] > 0.05  # chance ties are common here ...
    assert tests["coordinated_accounts_share_above_chance"]["ci_low"] <= 0.0  # ... and the null expects them
    assert claim_5(found).verdict != claims.SUPPORTED


def test_counts_in_duckdb_are_the_accounts_and_pairs_of_the_edges(tmp_path):
    tweets = [rt("a", 0, "X"), rt("b", 1, "X"), rt("a", 30, "Y"), rt("b", 30, "Y"), rt("c", 0, "X"),
              rt("c", 31, "Y"), post("a", 90, "same words here"), post("d", 90, "same words here"),
              post("a", 120, "other words"), post("d", 121, "other words")]
    traces = traces_module.open(work_dir_from(tmp_path / "w", tweets))
    with_edges = traces.pairs(1, min_weight=2, max_rows=500)
    counts_only = traces.pairs(1, min_weight=2, max_rows=500, edges=False)
    assert counts_only.edges is None and counts_only.counts == with_edges.counts
    edges = with_edges.edges
    expected = {"any": (len(set(edges["user_1"]) | set(edges["user_2"])), len(edges))}
    for trace, rows in edges.groupby("trace", observed=True):
        expected[trace] = (len(set(rows["user_1"]) | set(rows["user_2"])), len(rows))
    assert with_edges.counts == expected == {"any": (4, 4), "co_retweet": (3, 3), "co_tweet": (2, 1)}


def test_largest_group_matches_networkx_on_a_random_graph():
    import networkx as nx
    rng = np.random.default_rng(8)
    edges = pd.DataFrame({"user_1": rng.integers(1, 400, 300), "user_2": rng.integers(400, 900, 300)})
    graph = nx.Graph(zip(edges["user_1"], edges["user_2"]))
    assert coordination._largest_group(edges, 1000) == max(len(c) for c in nx.connected_components(graph))
    assert coordination._largest_group(edges.iloc[:0], 1000) == 0


def _coordinated_accounts_by_networkx(edges):
    """The former networkx implementation, kept here as the reference."""
    import networkx as nx
    graph = nx.Graph()
    graph.add_edges_from(zip(edges["user_1"], edges["user_2"]))
    components = sorted((sorted(c) for c in nx.connected_components(graph)), key=lambda c: (-len(c), c[0]))
    group = {user: number for number, members in enumerate(components, 1) for user in members}
    ends = pd.concat([edges[["user_1", "trace"]].rename(columns={"user_1": "userid"}),
                      edges[["user_2", "trace"]].rename(columns={"user_2": "userid"})])
    order = {trace: i for i, trace in enumerate(coordination.TRACES)}
    traces = ends.drop_duplicates().groupby("userid")["trace"].agg(lambda t: ",".join(sorted(t, key=order.get)))
    frame = pd.DataFrame({"userid": sorted(group)})
    frame["group"] = frame["userid"].map(group).astype("int64")
    frame["traces"] = frame["userid"].map(traces)
    frame["degree"] = frame["userid"].map(dict(graph.degree())).astype("int64")
    return frame.sort_values(["group", "userid"], ignore_index=True)[["userid", "group", "traces", "degree"]]


@pytest.mark.parametrize("seed", [1, 2])
def test_coordinated_accounts_match_the_networkx_reference(seed):
    rng = np.random.default_rng(seed)
    users = np.array([f"u{i:04d}" for i in rng.permutation(600)])
    first, second = rng.integers(0, 600, 900), rng.integers(0, 600, 900)
    keep = first != second
    low, high = np.minimum(first, second)[keep], np.maximum(first, second)[keep]
    edges = pd.DataFrame({"user_1": users[low], "user_2": users[high],
                          "trace": rng.choice(coordination.TRACES, keep.sum()), "weight": 2})
    edges = edges.drop_duplicates(["user_1", "user_2", "trace"], ignore_index=True)
    pd.testing.assert_frame_equal(coordination.coordinated_accounts(edges), _coordinated_accounts_by_networkx(edges))


def _burst_tweets():
    """Six accounts retweeting the same two items within a minute, and again an hour later."""
    return [rt(user, minute + offset, item) for user in "abcdef" for offset in (0, 60)
            for minute, item in ((0, f"X{user < 'd'}"), (5, f"Y{user < 'd'}"))]


def test_pairs_that_outgrow_duckdbs_limits_raise_an_error_naming_the_window(tmp_path):
    traces = traces_module.open(work_dir_from(tmp_path / "w", _burst_tweets()))
    traces.rows_per_trace()  # builds the trace tables under the normal budget
    traces._con.execute("SET memory_limit = '1MB'")
    traces._con.execute("SET max_temp_directory_size = '1MB'")
    with pytest.raises(TractionError, match="the 60-minute window's pairs \\(draw 0\\) outgrew DuckDB's memory"):
        traces.pairs(60, min_weight=2, max_rows=500)


class _FailingWindow:
    """Real traces whose pairs at one window raise what ``Traces.pairs`` raises when a window outgrows the disk."""

    def __init__(self, traces, window):
        self.traces, self.window = traces, window

    def __getattr__(self, name):
        return getattr(self.traces, name)

    def pairs(self, window, **options):
        if window == self.window:
            raise TractionError(f"the {window}-minute window's pairs (draw 0) outgrew DuckDB's memory and spill limits")
        return self.traces.pairs(window, **options)


def test_a_window_too_big_for_the_machine_is_reported_and_the_others_measured(tmp_path):
    traces = traces_module.open(work_dir_from(tmp_path / "w", _burst_tweets()))
    whole = coordination.measure(traces)
    partial = coordination.measure(_FailingWindow(traces, 60))
    assert sorted(whole.by_window["window"].unique()) == [1, 10, 60]
    assert sorted(partial.by_window["window"].unique()) == [1, 10]
    pd.testing.assert_frame_equal(partial.by_window, whole.by_window[whole.by_window["window"] != 60])
    assert any(note.startswith("60-minute window not measured") for note in partial.notes)
    observed = {t["id"]: t for t in partial.tests}["coordinated_accounts_share"]
    assert observed["converged"] and observed["estimate"] == 1.0  # all six accounts tied at 1 minute
    assert any("60-minute window not measured" in w for w in observed["warnings"])
    failed = coordination.measure(_FailingWindow(traces, 1))
    entry = {t["id"]: t for t in failed.tests}["coordinated_accounts_share"]
    assert not entry["converged"] and "the 1-minute window's pairs" in " ".join(entry["warnings"])


def planted_tweets(root, cell) -> set:
    """The tweet ids of a cell's bursts, read from the tweets table by hand: its seeds, the retweets of them, and
    the members' own tweets repeating a copied seed's text."""
    tweets = pd.read_parquet(root / "tweets.parquet", columns=["tweetid", "userid", "tweet_text", "retweet_tweetid"])
    seeds = set(cell["seeds"])
    copied_texts = set(tweets.loc[tweets["tweetid"].isin(cell["copied"]), "tweet_text"])
    members = tweets["userid"].isin(cell["members"])
    planted = tweets["tweetid"].isin(seeds) | (members & tweets["retweet_tweetid"].isin(seeds)) \
        | (members & tweets["retweet_tweetid"].isna() & tweets["tweet_text"].isin(copied_texts))
    return set(tweets.loc[planted, "tweetid"])


def test_each_planted_cell_is_one_group_tied_by_its_planted_items(coordinated):
    truth, found, opened, work = coordinated
    evidence = coordination.gather_evidence(opened, found)
    items = opened.tie_item_batches(per_tie=10_000).read_all().to_pandas()  # every item, not the file's first ten
    group_of = found.accounts.set_index("userid")["group"]
    groups = evidence.groups.set_index("group")
    cells = truth["coordination"]["groups"]
    assert len(cells) == round(150 * 0.2) and all(len(cell["seeds"]) == 12 for cell in cells)
    inside_rows, strays = 0, []
    for cell in cells:
        members = set(cell["members"])
        [group] = set(group_of.reindex(sorted(members)))  # every member tied, all in one group
        assert groups.loc[group, "size"] >= len(members)
        assert members <= set(groups.loc[group, "members"].split(","))  # groups here are under MEMBERS_LISTED
        inside = items[items["user_1"].isin(members) & items["user_2"].isin(members)]
        planted = planted_tweets(work, cell)
        stray = ~(inside["tweetid_1"].isin(planted) & inside["tweetid_2"].isin(planted))
        inside_rows, strays = inside_rows + len(inside), strays + inside.loc[stray, "trace"].tolist()
        retweeted = set(inside.loc[inside["trace"] == "co_retweet", "item"])
        assert retweeted <= set(cell["seeds"]) and len(retweeted) >= 6  # co-retweets: of the cell's seeds only
    # Besides its bursts, a cell shares by chance what the simulator writes from few templates and hashtags: on this
    # seed 5 of 15,236 items (the same template text or hashtag within a minute), never a retweet.
    assert inside_rows > 10_000 and len(strays) <= 0.001 * inside_rows, (len(strays), inside_rows)
    assert set(strays) <= {"co_tweet", "co_hashtag"}


def test_a_group_items_example_is_the_text_of_its_first_tweet_among_the_ties(coordinated):
    """Each of a group's top items shows the text of the earliest tweet (by time, then id) behind it among the group's
    ties, read here from the tweets file with pandas."""
    _, found, opened, work = coordinated
    evidence = coordination.gather_evidence(opened, found)
    items = opened.tie_item_batches(per_tie=10_000).read_all().to_pandas()
    items["group"] = items["user_1"].map(found.accounts.set_index("userid")["group"])
    ends = pd.concat([items[["group", "trace", "item", f"tweetid_{end}", f"tweet_time_{end}"]].set_axis(
        ["group", "trace", "item", "tweetid", "tweet_time"], axis=1) for end in (1, 2)])
    first = ends.sort_values(["tweet_time", "tweetid"]).drop_duplicates(["group", "trace", "item"])
    texts = pd.read_parquet(work / "tweets.parquet", columns=["tweetid", "tweet_text"]).set_index("tweetid")["tweet_text"]
    expected = first.assign(example=first["tweetid"].map(texts).str[:traces_module.TEXT_CHARS])
    shown = evidence.group_items.merge(expected, on=["group", "trace", "item"], how="left", validate="one_to_one")
    assert len(shown) > 50 and shown["tweetid"].notna().all()
    assert (shown["example_x"] == shown["example_y"]).all(), shown.loc[shown["example_x"] != shown["example_y"]]


def test_ties_are_ordered_by_userid_as_strings_whatever_the_ids(tmp_path):
    """The ties are sorted on the dense ids, which number the userids in DuckDB's order: the same order as sorting
    the userid strings, for digits, cases, accents and scripts."""
    users = ["9", "10", "Zed", "ámbar", "amber", "ß", "東京", "A-1", "a_1", "12345678901234567890"]
    rows = [rt(user, minute, item) for user in users for minute, item in ((0, "x"), (30, "y"), (90, "z"))]
    rows += [post(user, 200, "one text") for user in users[::2]] + [post(user, 205, "another") for user in users[::2]]
    traces = traces_module.open(work_dir_from(tmp_path, rows))
    found = coordination.measure(traces, seed=1, draws=2)
    # every pair retweeted 3 items together; the pairs of five accounts also posted the same two texts
    assert found.edges["trace"].value_counts().to_dict() == {"co_retweet": 45, "co_tweet": 10}
    as_strings = found.edges.astype({"user_1": str, "user_2": str})  # the ends are categoricals: compare their text
    expected = as_strings.sort_values(["user_1", "user_2", "trace"], ignore_index=True)
    pd.testing.assert_frame_equal(as_strings, expected)
    assert (as_strings["user_1"] < as_strings["user_2"]).all()
    assert list(found.edges["user_1"].cat.categories) == sorted(set(users))  # every account is tied


def test_the_graph_leaves_out_a_group_too_big_for_its_cap_and_keeps_the_smaller_ones():
    # group 1: a 4-clique (6 ties); groups 2 and 3: 3-paths (2 ties each); cap 4 holds groups 2 and 3 only
    ties = [("a", "b"), ("a", "c"), ("a", "d"), ("b", "c"), ("b", "d"), ("c", "d"),
            ("e", "f"), ("f", "g"), ("h", "i"), ("i", "j")]
    edges = pd.DataFrame({"user_1": [t[0] for t in ties], "user_2": [t[1] for t in ties],
                          "trace": "co_retweet", "weight": 2})
    found = coordination.Coordination([], pd.DataFrame(), edges, coordination.coordinated_accounts(edges))
    accounts = pd.DataFrame({"userid": list("abcdefghij"), "follower_count": 1, "n_tweets": 1, "engagement": 0})
    graph = coordination.network(found, accounts, max_ties=4)
    assert sorted(graph.nodes) == list("efghij") and graph.number_of_edges() == 4
    assert (graph.graph["groups"], graph.graph["groups_left_out"]) == (2, 1)
    assert sorted(coordination.network(found, accounts, max_ties=10).nodes) == list("abcdefghij")
