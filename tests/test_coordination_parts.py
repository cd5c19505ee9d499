"""A window's pairs counted in parts (``Traces.pairs``, ``rows_per_part``) equal the base commit's single query, kept
here as the slow reference, and a brute force in pandas: ties, weights, counts and every coordination entry."""

import numpy as np
import pandas as pd
import pytest

from helpers import simulate, traces as traces_module
from helpers.ingest import archive
from helpers.stats import coordination
from helpers.traces import TRACES
from test_coordination import bursty_independent_tweets, rt, work_dir_from


def base_pairs(traces, window_minutes, *, min_weight, max_rows, shifts=None, draw=0, edges=True, **_):
    """``Traces.pairs`` as at the base commit (72635fc): one query for all a window's pairs."""
    traces._build()
    con, width = traces._con, int(window_minutes) + 1
    traces._crowd(window_minutes, max_rows)
    if shifts is None:
        moved = "SELECT uid, trace, item, minute FROM trace_candidates"
    else:
        con.register("ref_shifts", shifts[["uid", "shift"]])
        n = max(traces.n_rows, 1)
        moved = f"""SELECT x.uid, x.trace, x.item,
            (c.hour * 60 + floor(60 * (x.p - c.start) / c.n))::BIGINT AS minute
            FROM (SELECT r.uid, r.trace, r.item, ((r.position + s.shift) % {n} + {n}) % {n} AS p
                  FROM trace_candidates r JOIN ref_shifts s USING (uid)) x
            ASOF JOIN activity_clock c ON x.p >= c.start"""
    con.execute(f"""CREATE OR REPLACE TEMP TABLE ref_kept AS
        SELECT *, minute // {width} AS bucket FROM ({moved}) ANTI JOIN trace_crowded USING (trace, item)""")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE ref_ties AS
        WITH pairs AS (SELECT DISTINCT a.trace, least(a.uid, b.uid) AS user_1,
                greatest(a.uid, b.uid) AS user_2, a.item
            FROM ref_kept a JOIN (SELECT uid, trace, item, minute, bucket, bucket AS joined FROM ref_kept
                                  UNION ALL SELECT uid, trace, item, minute, bucket, bucket - 1 FROM ref_kept) b
              ON a.trace = b.trace AND a.item = b.item AND a.bucket = b.joined
            WHERE (a.uid < b.uid OR (b.bucket <> a.bucket AND a.uid <> b.uid))
              AND abs(a.minute - b.minute) <= {int(window_minutes)})
        SELECT {int(draw)}::SMALLINT AS draw, trace, user_1, user_2, count(*)::INTEGER AS weight FROM pairs
        GROUP BY ALL HAVING count(*) >= {int(min_weight)}""")
    if shifts is not None:
        con.unregister("ref_shifts")
    counts = {TRACES[trace] if trace is not None else "any": (int(accounts), int(pairs))
              for trace, accounts, pairs in con.execute("""
        WITH ends AS (SELECT trace, user_1 AS uid FROM ref_ties UNION ALL SELECT trace, user_2 FROM ref_ties)
        SELECT e.trace, e.accounts, p.pairs FROM (SELECT trace, count(DISTINCT uid) AS accounts FROM ends
                                                  GROUP BY ROLLUP (trace)) e
        JOIN (SELECT trace, count(*) AS pairs FROM ref_ties GROUP BY ROLLUP (trace)) p
          ON e.trace IS NOT DISTINCT FROM p.trace""").fetchall()}
    found = con.execute("SELECT * FROM ref_ties ORDER BY trace, user_1, user_2").df() if edges else None
    capped = con.execute("SELECT trace, groups, rows FROM trace_crowded ORDER BY trace, item").df()
    for frame in (found, capped) if edges else (capped,):
        frame["trace"] = pd.Categorical.from_codes(frame["trace"].astype(int), TRACES) if len(frame) \
            else pd.Categorical([], TRACES)
    return traces_module.PairCount(found, capped, counts)


def brute_force(traces, window, min_weight, max_rows) -> dict:
    """(trace, user_1, user_2): weight of the observed rows by pandas alone: every pair of rows of an item, crowded
    items (more than ``max_rows`` rows in one bucket) left out."""
    traces.rows_per_trace()  # builds the trace tables
    rows = traces._con.execute("SELECT trace, item, uid, minute FROM trace_candidates").df()
    per_bucket = rows.groupby(["trace", "item", rows["minute"] // (window + 1)]).size()
    crowded = per_bucket[per_bucket > max_rows].reset_index()[["trace", "item"]].drop_duplicates()
    rows = rows.merge(crowded, how="left", indicator=True).query("_merge == 'left_only'").drop(columns="_merge")
    both = rows.merge(rows, on=["trace", "item"])
    both = both[(both["uid_x"] < both["uid_y"]) & ((both["minute_x"] - both["minute_y"]).abs() <= window)]
    weights = both.drop_duplicates(["trace", "uid_x", "uid_y", "item"]).groupby(["trace", "uid_x", "uid_y"]).size()
    return {(TRACES[t], a, b): w for (t, a, b), w in weights[weights >= min_weight].items()}


def crowded_tweets(seed=3, accounts=1200):
    """One item that 1,200 accounts retweet within an hour (720k pairs of accounts), a second that a fifth of them
    retweet the same hour, and scattered retweets of a few dozen items over a week."""
    rng = np.random.default_rng(seed)
    rows = [rt(f"a{i}", int(rng.integers(0, 60)), "viral") for i in range(accounts)]
    rows += [rt(f"a{i}", int(rng.integers(0, 60)), "second") for i in rng.choice(accounts, accounts // 5, replace=False)]
    rows += [rt(f"a{int(rng.integers(accounts))}", int(rng.integers(0, 7 * 1440)), f"i{int(rng.integers(40))}")
             for _ in range(6000)]
    return rows


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    root = tmp_path_factory.mktemp("parts")
    simulate.write_campaign(root / "data", "sim", simulate.Scenario(scale=0.1), seed=77)
    archive.ingest(root / "data", "sim", root / "sim")
    return {"simulated": traces_module.open(root / "sim"),
            "crowded": traces_module.open(work_dir_from(root / "crowded", crowded_tweets())),
            "bursty": traces_module.open(work_dir_from(root / "bursty", bursty_independent_tweets(seed=9)))}


def assert_same(ours, base):
    assert ours.counts == base.counts
    pd.testing.assert_frame_equal(ours.capped, base.capped)
    if base.edges is None:
        assert ours.edges is None
    else:
        pd.testing.assert_frame_equal(ours.edges, base.edges)


@pytest.mark.parametrize("name", ["simulated", "crowded", "bursty"])
@pytest.mark.parametrize("window", [1, 10, 60])
def test_pairs_in_parts_equal_the_base_query_observed_and_shifted(inputs, name, window):
    traces = inputs[name]
    draws = [(0, None), *coordination.null_shifts(traces.n_accounts, 1, max(1, traces.n_rows // 200), seed=window)]
    # The crowded item left out, then counted (720k pairs of accounts on one item).
    for max_rows in (500, 5000) if name == "crowded" else (500,):
        for draw, shifts in draws:
            base = base_pairs(traces, window, min_weight=2, max_rows=max_rows, shifts=shifts, draw=draw)
            if name == "crowded" and window == 60:
                assert base.capped.empty == (max_rows == 5000)
            assert_same(traces.pairs(window, min_weight=2, max_rows=max_rows, shifts=shifts, draw=draw), base)
            joined = traces._parts(window, 1)  # this draw's joined rows (the kept rows are the last call's)
            for parts in (3, 25):
                rows_per_part = -(-joined // parts)
                assert traces._parts(window, rows_per_part) == parts
                for edges in (True, False):
                    ours = traces.pairs(window, min_weight=2, max_rows=max_rows, shifts=shifts, draw=draw,
                                        edges=edges, rows_per_part=rows_per_part)
                    assert_same(ours, base if edges else traces_module.PairCount(None, base.capped, base.counts))


@pytest.mark.parametrize("name", ["simulated", "crowded", "bursty"])
def test_pairs_in_parts_equal_a_brute_force_in_pandas(inputs, name):
    traces = inputs[name]
    ids = None
    for window in (1, 10, 60):
        expected = brute_force(traces, window, 2, 500)
        found = traces.pairs(window, min_weight=2, max_rows=500, rows_per_part=1000).edges
        ours = {(t, a, b): w for t, a, b, w in zip(found["trace"], found["user_1"], found["user_2"], found["weight"])}
        assert ours == expected
        ids = ids or len(expected)
    assert ids  # the inputs tie some accounts at every window


@pytest.mark.parametrize("name", ["simulated", "crowded"])
def test_every_coordination_entry_equals_the_base_commits(inputs, name, monkeypatch):
    traces = inputs[name]
    ours = coordination.measure(traces, seed=4, draws=5)
    with monkeypatch.context() as patched:
        patched.setattr(traces_module.Traces, "pairs", base_pairs)
        base = coordination.measure(traces, seed=4, draws=5)
    assert ours.tests == base.tests
    if name == "crowded":  # the item 1,200 accounts retweeted within the hour is left out, and the entry says so
        assert any("items shared by more than 500 rows" in w for w in ours.tests[0]["warnings"])
    pd.testing.assert_frame_equal(ours.by_window, base.by_window)
    pd.testing.assert_frame_equal(ours.edges, base.edges)
    pd.testing.assert_frame_equal(ours.accounts, base.accounts)
    pd.testing.assert_frame_equal(ours.group_sizes, base.group_sizes)


def tied_in(edges, sample, trace=None) -> int:
    """Accounts of ``sample`` at either end of ``edges`` (of ``trace``, or any): what a sampled count must find."""
    if trace is not None:
        edges = edges[edges["trace"] == trace]
    return len(set(sample) & (set(edges["user_1"]) | set(edges["user_2"])))


@pytest.mark.parametrize("name", ["simulated", "crowded", "bursty"])
@pytest.mark.parametrize("window", [1, 10, 60])
def test_a_sample_finds_exactly_the_sampled_accounts_that_every_pair_ties(inputs, name, window):
    traces = inputs[name]
    rng = np.random.default_rng(window)
    draws = [(0, None), *coordination.null_shifts(traces.n_accounts, 1, max(1, traces.n_rows // 200), seed=window)]
    tied = 0
    for draw, shifts in draws:
        for min_weight in (2, 3):  # two items by smallest and largest; three by a distinct count
            every = base_pairs(traces, window, min_weight=min_weight, max_rows=500, shifts=shifts, draw=draw).edges
            tied += tied_in(every, np.arange(1, traces.n_accounts + 1))
            for size in (traces.n_accounts // 2, 40):
                sample = np.sort(rng.choice(np.arange(1, traces.n_accounts + 1), size, replace=False))
                for rows_per_part in (traces_module.ROWS_PER_PART, 500):
                    found = traces.pairs(window, min_weight=min_weight, max_rows=500, shifts=shifts, draw=draw,
                                         edges=False, sample=sample, rows_per_part=rows_per_part)
                    assert found.counted == size
                    assert found.counts.get("any", (0, 0))[0] == tied_in(every, sample)
                    for trace in TRACES:
                        assert found.counts.get(trace, (0, 0))[0] == tied_in(every, sample, trace)
    assert tied  # the inputs tie some accounts


def test_a_sample_cannot_return_edges(inputs):
    with pytest.raises(ValueError, match="edges=False"):
        inputs["bursty"].pairs(1, min_weight=2, max_rows=500, sample=np.arange(1, 10))


def test_at_scale_the_observed_ties_are_every_pair_and_the_chance_share_is_estimated_within_sampling_error(inputs):
    traces = inputs["simulated"]
    exact = coordination.measure(traces, seed=4, draws=9)
    size = traces.n_accounts // 3
    scaled = coordination.measure(traces, seed=4, draws=9, at_scale=True, sampled_accounts=size)
    again = coordination.measure(traces, seed=4, draws=9, at_scale=True, sampled_accounts=size)
    pd.testing.assert_frame_equal(scaled.by_window, again.by_window)  # the same seed, the same samples
    pd.testing.assert_frame_equal(scaled.edges, exact.edges)
    pd.testing.assert_frame_equal(scaled.accounts, exact.accounts)
    ours, theirs = (found.by_window.set_index(["window", "trace"]) for found in (scaled, exact))
    assert (ours.loc[1, "observed"] == theirs.loc[1, "observed"]).all()
    n = traces.n_accounts
    for window in (1, 10, 60):
        for column, draws in (("observed", 1), ("null_mean", 9)):
            if window == 1 and column == "observed":
                continue
            p = theirs.loc[(window, "any"), column]
            se = np.sqrt(p * (1 - p) / size * (n - size) / (n - 1) / draws)
            # The chance mean also varies with the shifts, which both share only by seed: 4 standard errors of the
            # sample plus the exact draws' own spread over sqrt(draws).
            spread = (theirs.loc[(window, "any"), "null_high"] - theirs.loc[(window, "any"), "null_low"]) / 4
            assert abs(ours.loc[(window, "any"), column] - p) <= 4 * se + spread / np.sqrt(draws) + 1e-12
    assert scaled.parameters["sampled_accounts"] == size and "sampled_accounts" not in exact.parameters
    assert any(f"fresh random sample of {size:,} accounts" in note for note in scaled.notes)
    largest = next(t for t in scaled.tests if t["id"] == "coordination_largest_group_share")
    assert "chance not counted" in largest["method"] and largest["estimate"] == next(
        t for t in exact.tests if t["id"] == "coordination_largest_group_share")["estimate"]
    assert set(scaled.group_sizes["draw"]) == {0}


def base_shared_items(traces, ties, window_minutes, *, max_rows):
    """``Traces.shared_items`` as at the base commit (c8d1e41): one query for every tie's items."""
    traces._crowd(window_minutes, max_rows)
    con, width = traces._con, int(window_minutes) + 1
    con.register("ref_tie_list", pd.DataFrame({"trace": pd.Categorical(ties["trace"], TRACES).codes.astype("uint8"),
                                               "user_1": ties["user_1"].astype(str), "user_2": ties["user_2"].astype(str)}))
    rows = traces_module._rows_union("uid, minute, tweetid, tweet_time, shown, item", counted=False)
    found = con.execute(f"""
        WITH tied AS (SELECT t.trace, a.uid AS user_1, b.uid AS user_2 FROM ref_tie_list t
                JOIN trace_accounts a ON a.userid = t.user_1 JOIN trace_accounts b ON b.userid = t.user_2),
            ends AS (SELECT user_1 AS uid FROM tied UNION SELECT user_2 FROM tied),
            kept AS (SELECT *, minute // {width} AS bucket FROM ({rows}) r
                SEMI JOIN ends USING (uid) ANTI JOIN trace_crowded USING (trace, item)),
            met AS (SELECT a.trace, a.item, a.shown, least(a.uid, b.uid) AS user_1, greatest(a.uid, b.uid) AS user_2,
                CASE WHEN a.uid < b.uid THEN a.tweetid ELSE b.tweetid END AS tweetid_1,
                CASE WHEN a.uid < b.uid THEN a.tweet_time ELSE b.tweet_time END AS tweet_time_1,
                CASE WHEN a.uid < b.uid THEN b.tweetid ELSE a.tweetid END AS tweetid_2,
                CASE WHEN a.uid < b.uid THEN b.tweet_time ELSE a.tweet_time END AS tweet_time_2,
                abs(a.minute - b.minute) AS apart
            FROM kept a JOIN (SELECT *, bucket AS joined FROM kept UNION ALL SELECT *, bucket - 1 FROM kept) b
              ON a.trace = b.trace AND a.item = b.item AND a.bucket = b.joined
            WHERE (a.uid < b.uid OR (b.bucket <> a.bucket AND a.uid <> b.uid))
              AND abs(a.minute - b.minute) <= {int(window_minutes)})
        SELECT m.* EXCLUDE (apart) FROM met m SEMI JOIN tied USING (trace, user_1, user_2)
        QUALIFY row_number() OVER (PARTITION BY trace, user_1, user_2, item
                                   ORDER BY apart, tweet_time_1, tweet_time_2, tweetid_1, tweetid_2) = 1
        ORDER BY ALL""").df()
    con.unregister("ref_tie_list")
    return found


@pytest.mark.parametrize("name", ["simulated", "crowded", "bursty"])
@pytest.mark.parametrize("window", [1, 10, 60])
def test_the_items_behind_each_tie_in_parts_equal_the_base_query(inputs, name, window):
    traces = inputs[name]
    found = traces.pairs(window, min_weight=2, max_rows=500).edges
    ids = traces.accounts().set_index("uid")["userid"]
    ties = pd.DataFrame({"user_1": ids.loc[found["user_1"]].to_numpy(), "user_2": ids.loc[found["user_2"]].to_numpy(),
                         "trace": found["trace"].astype(str).to_numpy()})
    base = base_shared_items(traces, ties, window, max_rows=500)
    assert len(base) == found["weight"].sum() > 0  # a tie's items number its weight
    for rows_per_part in (traces_module.ROWS_PER_PART, 50):
        assert traces.shared_items(ties, window, max_rows=500, rows_per_part=rows_per_part) == len(base)
        ours = traces._con.execute("SELECT * FROM tie_items ORDER BY ALL").df()
        pd.testing.assert_frame_equal(ours, base)


@pytest.mark.parametrize("window", [1, 2, 10])
def test_rows_a_window_apart_meet_and_a_minute_more_do_not_at_every_bucket_phase(tmp_path, window):
    """The join's buckets are one window wide: every gap up to the window must meet, wherever the earlier row falls in
    its bucket, and no gap beyond it. Account pairs p{start}_{gap} each retweet two items ``gap`` minutes apart,
    the earlier at minute ``start`` of the day (every phase of two buckets); tied exactly when gap <= window."""
    tweets, expected = [], set()
    for start in range(2 * window + 2):
        for gap in range(window + 3):
            first, second = f"p{start:03d}_{gap:02d}a", f"p{start:03d}_{gap:02d}b"
            for item, hour in (("X", 0), ("Y", 600)):  # two distinct items, hours apart
                name = f"{item}{start}_{gap}"
                tweets += [rt(first, hour + start, name), rt(second, hour + start + gap, name)]
            if gap <= window:
                expected.add((first, second))
    traces = traces_module.open(work_dir_from(tmp_path / "w", tweets))
    found = traces.pairs(window, min_weight=2, max_rows=500).edges
    ids = traces.accounts().set_index("uid")["userid"]
    assert set(zip(ids.loc[found["user_1"]], ids.loc[found["user_2"]])) == expected
    assert (found["weight"] == 2).all()
    traces.close()
