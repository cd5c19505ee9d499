"""Coordination among the core accounts: who shared the same item within a minute, against chance.

The field's standard measure of an influence operation (Schoch, Keller, Stier & Yang, Sci Rep 2022;
QUT's coordination-network-toolkit; Pacheco et al., ICWSM 2021): two accounts are tied when they share at
least ``MIN_WEIGHT`` distinct items within a time window, on one of five traces (the same retweeted tweet,
the same normalised text, the same link, the same replied-to tweet, the same set of hashtags). Groups are
the connected components of those ties. ``helpers.traces.Traces`` counts the pairs in DuckDB, out-of-core;
this module draws the chance baseline, turns pairs into shares, groups and results entries.

Chance baseline (the null). Each account-day's rows are shifted, all together, by a random offset along
the campaign's *activity clock* (the running count of its tweet rows, hour by hour): uniform within
``NULL_SPAN`` of all rows either way, a day or two at the default campaign's busiest. An account keeps its
tweets, items, and the bursts within its day; the campaign keeps its daily and weekly rhythm, which a
wall-clock shift would smear; only the synchrony between accounts is broken. ``NULL_DRAWS`` draws give the
share of accounts that chance alone ties, and the excess of the observed share over it, with an interval
over the draws.

At scale (more than ``resampling.LARGE`` accounts) the observed ties at the default window are still every pair,
but each null draw, and the observed count at the other windows, counts whether each account of a fresh random
sample of ``SAMPLED_ACCOUNTS`` is in a pair (``Traces.pairs(sample=)``): exact for each sampled account, so the share
is unbiased, with a binomial sampling error that each draw's own sample puts into the draws' spread. The draws' group
sizes need every pair and are not counted there.

What it cannot show: a tie is synchrony, not intent; an item that every account shares within minutes for
an outside reason (breaking news) ties them as a cell would; the 10-minute and 1-hour windows are coarser
than the null's shifts at the campaign's busiest hours, so there the null keeps part of real synchrony and
the excess is understated.
"""

from dataclasses import dataclass, field

import networkx as nx
import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse import csgraph

from helpers.errors import TractionError
from helpers.results import entry, skipped
from helpers.stats import resampling
from helpers.traces import TRACES

WINDOWS = (1, 10, 60)  # minutes; the archive's times are whole minutes, so 1 is the finest that means anything
DEFAULT_WINDOW = 1
MIN_WEIGHT = 2  # distinct shared items (coordination-network-toolkit's and Schoch et al.'s default)
MAX_ROWS = 500  # rows sharing one item in one window bucket beyond which the bucket is left out (cost ~ rows^2)
NULL_DRAWS = 19  # at the default window (its interval; its p-value is at least 1/20); the others use FIGURE_DRAWS
FIGURE_DRAWS = 2
NULL_SPAN = 0.005  # shifts uniform within this share of all tweet rows, either way
# At scale (over resampling.LARGE accounts) each null draw, and each other window's observed count, counts whether the
# accounts of a fresh sample of this many are in a pair: a share's standard error at most 0.0022, the work about
# 2 x SAMPLED_ACCOUNTS / accounts of the rows that meet (4% at Twitter's largest release).
SAMPLED_ACCOUNTS = 50_000
SAMPLE_STREAM = 7  # the samples' random stream, apart from the shifts' (seed, window)

SHARE_IDS = {"any": "coordinated_accounts_share", "co_retweet": "co_retweet_accounts_share",
             "co_tweet": "co_tweet_accounts_share", "co_link": "co_link_accounts_share",
             "co_reply": "co_reply_accounts_share", "co_hashtag": "co_hashtag_accounts_share"}
TRACE_LABELS = {"co_retweet": "retweeted the same tweet", "co_tweet": "posted the same text",
                "co_link": "shared the same link", "co_reply": "replied to the same tweet",
                "co_hashtag": "used the same set of hashtags"}


@dataclass
class Coordination:
    """What ``measure`` found: results entries, shares by window and trace, the default window's ties and groups."""

    tests: list
    by_window: pd.DataFrame  # window, trace ('any' or one), observed, null_mean, null_low, null_high, excess...
    edges: pd.DataFrame  # default window: user_1, user_2 (userids), trace, weight
    accounts: pd.DataFrame  # userid, group, traces, degree (accounts in a coordinated pair)
    notes: list = field(default_factory=list)
    parameters: dict = field(default_factory=dict)
    group_sizes: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["draw", "size", "groups"]))
    evidence: "Evidence | None" = None  # set by ``gather_evidence`` while the traces are open

    def summary(self) -> str:
        if self.by_window.empty:
            return "\n".join(self.notes)
        any_trace = self.by_window[self.by_window["trace"] == "any"]
        lines = [f"{len(self.accounts):,} accounts in a coordinated pair at {DEFAULT_WINDOW} minute "
                 f"(min weight {self.parameters.get('min_weight')}), {self.accounts['group'].nunique():,} groups"]
        lines += [f"  window {int(r.window)} min: observed {r.observed:.4f}, chance {r.null_mean:.4f} "
                  f"(95% of draws {r.null_low:.4f} to {r.null_high:.4f})" for r in any_trace.itertuples()]
        return "\n".join(lines + self.notes)


def measure(traces, *, seed=0, windows=WINDOWS, min_weight=MIN_WEIGHT, max_rows=MAX_ROWS,
            draws=NULL_DRAWS, figure_draws=FIGURE_DRAWS, span=NULL_SPAN, at_scale=None,
            sampled_accounts=SAMPLED_ACCOUNTS) -> Coordination:
    """Ties, groups and shares against the null at every window (see the module docstring). ``at_scale``: count
    the null draws and the other windows on samples of ``sampled_accounts`` (default: above ``resampling.LARGE``
    accounts; True or False forces it)."""
    n_accounts = traces.n_accounts
    if n_accounts < 2:
        return empty("fewer than two accounts tweeted")
    windows = sorted(set(windows) | {DEFAULT_WINDOW})
    reach = max(1, round(span * traces.n_rows))
    scaled = resampling.scaled(n_accounts, at_scale) and sampled_accounts < n_accounts
    samples = account_samples(n_accounts, sampled_accounts, seed=seed) if scaled else None
    rows, notes, observed, null_sizes = [], [], None, []
    for window in windows:
        default = window == DEFAULT_WINDOW  # only its pairs leave DuckDB: the observed ties, each draw's largest group
        n_draws = draws if default else figure_draws
        options = {"min_weight": min_weight, "max_rows": max_rows}
        try:
            if default or not scaled:  # the claim's ties are every pair, at any size
                counted = traces.pairs(window, edges=default, **options)
            else:
                counted = traces.pairs(window, edges=False, sample=next(samples), **options)
            counts = [counted]
            for draw, shifts in null_shifts(n_accounts, n_draws, reach, seed=(seed, window)):
                if scaled:
                    drawn = traces.pairs(window, shifts=shifts, draw=draw, edges=False, sample=next(samples), **options)
                else:
                    drawn = traces.pairs(window, shifts=shifts, draw=draw, edges=default, **options)
                    if default:
                        null_sizes.append(_group_sizes(drawn.edges, n_accounts))
                counts.append(drawn)
        except TractionError as error:  # a window too big for this machine is reported, not fatal
            if default:
                return empty(f"{error}; the claim needs the {window}-minute window")
            notes.append(f"{window}-minute window not measured (the figure leaves it out): {error}")
            continue
        rows += _shares(counts, n_accounts, window)
        notes += _cap_notes(counted.capped, window, max_rows)
        if default:
            observed = counted.edges
    if scaled:
        notes.append(_sample_note(n_accounts, sampled_accounts, rows))
    by_window = pd.DataFrame(rows)
    edges = _userid_edges(observed, traces.userids)
    accounts = coordinated_accounts(edges)
    parameters = {"window_minutes": DEFAULT_WINDOW, "windows": windows, "min_weight": min_weight,
                  "max_rows": max_rows, "null_draws": draws, "figure_draws": figure_draws,
                  "null_span": span, "null_reach_rows": reach, "accounts": n_accounts, "seed": seed}
    if scaled:  # below the threshold the parameters, and so results.json, are as before
        parameters |= {"sampled_accounts": sampled_accounts, "null_group_draws": 0}
    null_largest = [int(sizes.max(initial=0)) for sizes in null_sizes]
    tests = _entries(by_window, accounts, null_largest, n_accounts, parameters, notes)
    return Coordination(tests, by_window, edges, accounts, notes, parameters, _size_table(accounts, null_sizes))


def _userid_edges(found: pd.DataFrame, userids_of) -> pd.DataFrame:
    """``found``'s ties (dense uids, trace codes) as user_1, user_2 (userids), trace, weight, sorted by userids and
    trace name. Uids number the userids in order, so the sort is on integers. user_1 and user_2 are categoricals over
    the tied accounts' userids (``userids_of(uids)``, only theirs): at 3.2M ties, strings of 44 characters held 384 MB
    of the step's memory, and codes 26; all 2.5M accounts' userids took 0.6 GB more at their peak."""
    name_rank = np.argsort(np.argsort(np.array(TRACES)))  # each trace code's place in name order
    codes = pd.Categorical(found["trace"], TRACES).codes
    first, second = found["user_1"].to_numpy(), found["user_2"].to_numpy()
    order = np.lexsort((name_rank[codes], second, first))
    tied = np.unique(np.concatenate([first, second]))  # sorted uids, so the categories are in userid order
    categories = pd.Index(userids_of(tied), dtype=str)

    def ends(uids):
        return pd.Categorical.from_codes(np.searchsorted(tied, uids[order]).astype(np.int32), categories)
    return pd.DataFrame({"user_1": ends(first), "user_2": ends(second),
                         "trace": np.array(TRACES, dtype=object)[codes[order]],
                         "weight": found["weight"].to_numpy()[order]})


def account_samples(n_accounts: int, size: int, *, seed):
    """Samples of ``size`` uids (1..n_accounts, sorted, without replacement), a fresh one per call of ``next``: one
    per count at scale, so the null draws' spread holds the sampling error too."""
    rng = np.random.default_rng(np.random.SeedSequence([int(s) for s in np.atleast_1d(seed)] + [SAMPLE_STREAM]))
    while True:
        yield np.sort(rng.choice(n_accounts, size=size, replace=False)).astype(np.int32) + 1


def _sample_note(n_accounts, size, rows) -> str:
    """What the counts at scale are, with the largest standard error a sampled share has (finite-population)."""
    shares = [row["observed"] for row in rows if row["window"] != DEFAULT_WINDOW] + \
             [row["null_mean"] for row in rows]
    p = max(shares, key=lambda share: share * (1 - share), default=0.5)
    se = np.sqrt(p * (1 - p) / size * (n_accounts - size) / (n_accounts - 1))
    return (f"at scale ({n_accounts:,} accounts, over {resampling.LARGE:,}): every null draw, and the observed "
            f"shares at the windows other than {DEFAULT_WINDOW} minute, count whether each of a fresh random sample of "
            f"{size:,} accounts is in a pair (against every account), so each such share has a sampling standard error "
            f"of at most {se:.2g}, which the draws' spread includes; the {DEFAULT_WINDOW}-minute observed ties are every "
            "pair; the null draws' group sizes are not counted (groups need every pair of a draw)")


def null_shifts(n_accounts: int, n_draws: int, reach: int, *, seed):
    """(draw, frame of uid 1..n_accounts and shift) for draws 1..n_draws: offsets uniform in [-reach, reach]
    rows of the activity clock, drawn one draw at a time (memory of one draw at any size)."""
    rng = np.random.default_rng(np.random.SeedSequence([int(s) for s in np.atleast_1d(seed)]))
    uid = np.arange(1, n_accounts + 1, dtype=np.int32)
    for draw in range(1, n_draws + 1):
        yield draw, pd.DataFrame({"uid": uid, "shift": rng.integers(-reach, reach + 1, size=n_accounts)})


def _shares(counts: list, n_accounts, window) -> list[dict]:
    """Rows of ``by_window`` from each draw's ``PairCount`` (draw 0 observed, then the null draws; a sampled count
    is over its sample)."""
    out = []
    for trace in ("any", *TRACES):
        per_draw = np.array([draw.counts.get(trace, (0, 0))[0] / (draw.counted or n_accounts) for draw in counts])
        observed, null = per_draw[0], per_draw[1:]
        low, high = np.quantile(null, [0.025, 0.975]) if len(null) else (np.nan, np.nan)
        out.append({"window": window, "trace": trace, "observed": observed, "null_mean": null.mean(),
                    "null_low": low, "null_high": high, "excess": observed - null.mean(),
                    "excess_low": observed - high, "excess_high": observed - low,
                    "p_value": (1 + (null >= observed).sum()) / (len(null) + 1), "draws": len(null),
                    "edges": None if counts[0].counted else counts[0].counts.get(trace, (0, 0))[1],
                    "accounts": int(round(observed * n_accounts))})  # a sampled count's pairs are not the campaign's
    return out


def _cap_notes(capped: pd.DataFrame, window, max_rows) -> list[str]:
    per_trace = capped.groupby("trace", observed=True).agg(items=("rows", "size"), rows=("rows", "sum"))
    return [f"{window}-minute window, {trace}: {row['items']:,} items shared by more than {max_rows} rows within "
            f"one window ({row['rows']:,} rows) were left out of the pair counts, observed and null"
            for trace, row in per_trace.iterrows()]  # row.items would be the Series' method


def coordinated_accounts(edges: pd.DataFrame) -> pd.DataFrame:
    """One row per account in a coordinated pair: its group (connected component, 1 = largest, ties broken by the
    smallest userid), the traces that tie it and its degree (distinct partners over all traces).

    On integer codes with scipy's sparse components: at the Turkey size the observed ties are 0.7M, which a
    networkx graph of userid strings would hold in about 0.7 GB."""
    columns = ["userid", "group", "traces", "degree"]
    if edges.empty:
        return pd.DataFrame({"userid": pd.Series(dtype=str), "group": pd.Series(dtype="int64"),
                             "traces": pd.Series(dtype=str), "degree": pd.Series(dtype="int64")})[columns]
    codes, users = pd.factorize(pd.concat([edges["user_1"], edges["user_2"]], ignore_index=True), sort=True)
    n, first_end = len(users), codes[:len(edges)]
    second_end = codes[len(edges):]
    graph = sparse.coo_array((np.ones(len(edges)), (first_end, second_end)), shape=(n, n))
    n_groups, labels = csgraph.connected_components(graph, directed=False)
    smallest = np.full(n_groups, n)
    np.minimum.at(smallest, labels, np.arange(n))  # codes follow userid order
    order = np.lexsort((smallest, -np.bincount(labels, minlength=n_groups)))
    group = np.empty(n_groups, np.int64)
    group[order] = np.arange(1, n_groups + 1)
    # each partner pair once, as one integer (np.unique over rows of pairs took 0.35 GB at 3.2M ties)
    partners = np.unique(np.minimum(first_end, second_end).astype(np.int64) * n + np.maximum(first_end, second_end))
    trace_bit = 1 << pd.Categorical(edges["trace"], TRACES).codes.astype(np.int64)
    mask = np.zeros(n, np.int64)
    np.bitwise_or.at(mask, first_end, trace_bit)
    np.bitwise_or.at(mask, second_end, trace_bit)
    names = {m: ",".join(t for i, t in enumerate(TRACES) if m >> i & 1) for m in np.unique(mask)}
    frame = pd.DataFrame({"userid": pd.Series(users, dtype=str), "group": group[labels],
                          "traces": pd.Series(pd.Series(mask).map(names), dtype=str),
                          "degree": (np.bincount(partners // n, minlength=n)
                                     + np.bincount(partners % n, minlength=n)).astype(np.int64)})
    return frame.sort_values(["group", "userid"], ignore_index=True)[columns]


def _group_sizes(edges: pd.DataFrame, n_accounts: int) -> np.ndarray:
    """Accounts in each connected group of ``edges`` (dense ids 1..n_accounts), by scipy's sparse components: a
    networkx graph holds about 1 kB per tie."""
    if edges.empty:
        return np.zeros(0, np.int64)
    ends = (edges["user_1"].to_numpy(np.int64), edges["user_2"].to_numpy(np.int64))
    graph = sparse.coo_array((np.ones(len(edges)), ends), shape=(n_accounts + 1, n_accounts + 1))
    _, labels = csgraph.connected_components(graph, directed=False)
    sizes = np.bincount(labels[np.unique(np.concatenate(ends))])
    return sizes[sizes > 0]


def _largest_group(edges: pd.DataFrame, n_accounts: int) -> int:
    return int(_group_sizes(edges, n_accounts).max(initial=0))


def _size_table(accounts: pd.DataFrame, null_sizes: list) -> pd.DataFrame:
    """Groups of each size, observed (draw 0) and in each null draw (1..): draw, size, groups."""
    observed = accounts["group"].value_counts().to_numpy(np.int64)
    rows = [(draw, int(size), int(count)) for draw, sizes in enumerate([observed, *null_sizes])
            for size, count in zip(*np.unique(sizes, return_counts=True))]
    return pd.DataFrame(rows, columns=["draw", "size", "groups"]).astype("int64")


def _method(parameters, what):
    return (f"{what}: accounts sharing at least {parameters['min_weight']} distinct items within "
            f"{parameters['window_minutes']} minute (times within one archive minute of each other), over "
            f"{parameters['accounts']:,} accounts with a tweet row; chance from {parameters['null_draws']} draws "
            f"shifting each account-day by up to {parameters['null_reach_rows']:,} tweet rows of the campaign's "
            "activity clock" + (f", each draw over a fresh random sample of {parameters['sampled_accounts']:,} accounts"
                                if "sampled_accounts" in parameters else ""))


def _entries(by_window, accounts, null_largest, n_accounts, parameters, notes) -> list[dict]:
    default = by_window[by_window["window"] == DEFAULT_WINDOW].set_index("trace")
    n = n_accounts
    tests = []
    any_row = default.loc["any"]
    tests.append(entry("coordinated_accounts_share", _method(parameters, "share of accounts in a coordinated pair, "
                       "any trace (a count over every account, not a sample)"), any_row["observed"], n=n,
                       warnings=notes))
    tests.append(entry("coordinated_accounts_share_chance", _method(parameters, "share of accounts chance alone "
                       "puts in a coordinated pair: mean and 2.5-97.5% of the null draws"), any_row["null_mean"],
                       (any_row["null_low"], any_row["null_high"]), n=n))
    tests.append(entry("coordinated_accounts_share_above_chance", _method(parameters, "observed share minus the "
                       "null's mean; interval: observed minus the 97.5% and 2.5% of the null draws; p-value: "
                       "share of draws at or above the observed (Monte Carlo)"), any_row["excess"],
                       (any_row["excess_low"], any_row["excess_high"]), n=n, p_value=any_row["p_value"]))
    for trace in TRACES:
        row = default.loc[trace]
        tests.append(entry(SHARE_IDS[trace], _method(parameters, f"share of accounts that {TRACE_LABELS[trace]} "
                           f"(chance: {row['null_mean']:.4g}, 95% of draws {row['null_low']:.4g} to "
                           f"{row['null_high']:.4g})"), row["observed"], n=n))
    largest = int((accounts["group"] == 1).sum()) if len(accounts) else 0
    if null_largest:
        low, high = np.quantile(null_largest, [0.025, 0.975]) / n
        chance = f"chance: 95% of draws {low:.4g} to {high:.4g}"
    else:
        chance = "chance not counted: at scale the null draws count samples of accounts, and groups need every pair"
    tests.append(entry("coordination_largest_group_share", _method(parameters, "accounts in the largest connected "
                       f"group over all accounts ({chance})"), largest / n, n=n))
    return tests


def empty(reason: str) -> Coordination:
    """The entries of ``measure`` on data it cannot measure (no tweets): present, not computed, saying why."""
    tests = [skipped(test_id, "coordination network of the accounts' tweets", reason)
             for test_id in ["coordinated_accounts_share", "coordinated_accounts_share_chance",
                             "coordinated_accounts_share_above_chance", *(SHARE_IDS[t] for t in TRACES),
                             "coordination_largest_group_share"]]
    return Coordination(tests, pd.DataFrame(), pd.DataFrame(columns=["user_1", "user_2", "trace", "weight"]),
                        coordinated_accounts(pd.DataFrame(columns=["user_1", "user_2", "trace", "weight"])),
                        [f"coordination not measured: {reason}"])


# ---- the evidence: who formed which group, over what ----------------------------------------------------------

MEMBERS_LISTED = 50  # members named per group in the groups table (its size counts them all)


@dataclass
class Evidence:
    """What ties the default window's groups: ``groups`` (one row per group), ``group_items`` (each group's most
    shared items) and ``hashed`` (userid, hashed: whether the archive hashed each tied account's id)."""

    groups: pd.DataFrame
    group_items: pd.DataFrame
    hashed: pd.DataFrame


GROUP_COLUMNS = ["group", "size", "members", "members_listed", "traces", "ties", "first_shared", "last_shared",
                 "top_items", "example"]


def gather_evidence(traces, found: Coordination) -> Evidence:
    """The groups' evidence from ``traces`` (still open), for the ties ``found`` at its default window; the traces
    keep the items behind each tie for ``Traces.tie_item_batches``."""
    traces.shared_items(found.edges, found.parameters["window_minutes"], max_rows=found.parameters["max_rows"])
    times, items = traces.group_items(found.accounts)
    found.evidence = Evidence(group_table(found.accounts, found.edges, times, items), items, traces.hashed())
    return found.evidence


def group_table(accounts: pd.DataFrame, edges: pd.DataFrame, times: pd.DataFrame, items: pd.DataFrame,
                members_listed: int = MEMBERS_LISTED) -> pd.DataFrame:
    """One row per group: its size, members (the ``members_listed`` of most partners first, then by userid), the
    traces that tie them, its ties (tied pairs, any trace), first and last shared time, its most shared items
    (trace, item, tied accounts that shared it and ties it is behind) and the text of the first tweet of the most
    shared one."""
    if accounts.empty:
        return pd.DataFrame(columns=GROUP_COLUMNS)
    ranked = accounts.sort_values(["group", "degree", "userid"], ascending=[True, False, True])
    by_group = ranked.groupby("group", sort=True)
    listed = by_group.head(members_listed).groupby("group", sort=True)
    order = {trace: i for i, trace in enumerate(TRACES)}
    ties = edges.drop_duplicates(["user_1", "user_2"])["user_1"].map(accounts.set_index("userid")["group"])
    summary = items.assign(line=lambda f: f["trace"] + " " + f["item"] + " (" + f["accounts"].astype(str)
                           + " accounts, " + f["ties"].astype(str) + " ties)").groupby("group", sort=True)
    table = pd.DataFrame({
        "size": by_group.size(),
        "members": listed["userid"].agg(",".join),
        "members_listed": listed.size(),
        "traces": by_group["traces"].agg(lambda t: ",".join(sorted({x for v in t for x in v.split(",")},
                                                                    key=order.get))),
        "ties": ties.value_counts(),
    })
    table = table.join(times.set_index("group")).join(summary["line"].agg(" | ".join).rename("top_items"))
    table = table.join(items[items["rank"] == 1].set_index("group")["example"])
    table = table.rename_axis("group").reset_index()
    table["ties"] = table["ties"].fillna(0).astype("int64")
    return table[GROUP_COLUMNS]


MAX_GRAPH_TIES = 200_000  # tied pairs in the GraphML: a networkx graph holds about 1 kB a tie (Gephi tires sooner)
FIGURE_GROUPS = 6  # the network figure's largest groups ...
FIGURE_ACCOUNTS = 300  # ... each with at most this many accounts, those with most partners (the layout is quadratic)


def network(found: Coordination, accounts: pd.DataFrame, max_ties: int = MAX_GRAPH_TIES) -> nx.Graph:
    """The default window's ties as a networkx graph, for Gephi: nodes are the tied accounts (followers, tweets,
    engagement, group, degree, traces, hashed; followers -1 where unknown, hashed absent where the archive does
    not say), edges their pairs, with the distinct items per trace (``co_retweet_1min``, ...; 0 for a trace that
    does not tie them) and ``weight``, their sum. Whole groups, largest first, each that still fits within
    ``max_ties`` (a group of more ties alone is left out, not the groups after it; the graph's ``groups`` and
    ``groups_left_out`` say how many; every tie is in the edges table). Nodes and edges in userid order, so the
    file's bytes follow the data."""
    graph = _empty_graph(found)
    if found.accounts.empty:
        return graph
    group_of = found.accounts.set_index("userid")["group"]
    pairs = found.edges.drop_duplicates(["user_1", "user_2"])["user_1"].map(group_of).value_counts().sort_index()
    kept, room = [], max_ties
    for group, ties in pairs.items():
        if ties <= room:
            kept.append(group)
            room -= ties
    graph.graph.update(groups=len(kept), groups_left_out=int(group_of.nunique() - len(kept)))
    return _fill(graph, found, accounts, found.accounts[found.accounts["group"].isin(kept)])


def largest_groups(found: Coordination, accounts: pd.DataFrame, groups: int = FIGURE_GROUPS,
                   per_group: int = FIGURE_ACCOUNTS) -> nx.Graph:
    """The ``groups`` largest groups for the network figure: each group's ``per_group`` accounts with most
    partners (then by userid) and the ties among them, with the graph's ``accounts_in_groups`` counting them all."""
    graph = _empty_graph(found)
    chosen = found.accounts[found.accounts["group"] <= groups]
    graph.graph.update(groups=int(chosen["group"].nunique()), accounts_in_groups=len(chosen), per_group=per_group)
    shown = chosen.sort_values(["group", "degree", "userid"], ascending=[True, False, True]).groupby("group").head(
        per_group)
    return _fill(graph, found, accounts, shown)


def _empty_graph(found):
    return nx.Graph(window_minutes=int(found.parameters.get("window_minutes", DEFAULT_WINDOW)),
                    min_weight=int(found.parameters.get("min_weight", MIN_WEIGHT)), groups=0, groups_left_out=0)


def _fill(graph, found, accounts, tied):
    """``tied`` (rows of ``found.accounts``) as nodes, and ``found.edges`` among them as edges."""
    window = graph.graph["window_minutes"]
    members = set(tied["userid"])
    edges = found.edges[found.edges["user_1"].isin(members) & found.edges["user_2"].isin(members)]
    edges = edges.astype({"user_1": str, "user_2": str})  # a categorical index would pivot every pair of categories
    # the tied accounts' rows only: indexing the whole account frame copied all its columns (0.6 GB at 2.5M accounts)
    shown = accounts.loc[accounts["userid"].isin(members), ["userid", "follower_count", "n_tweets", "engagement"]]
    nodes = tied.sort_values("userid").join(shown.set_index("userid"), on="userid")
    if found.evidence is not None:
        nodes = nodes.join(found.evidence.hashed.set_index("userid")["hashed"], on="userid")
    for row in nodes.itertuples(index=False):
        node = {"followers": int(row.follower_count) if pd.notna(row.follower_count) else -1,
                "tweets": int(row.n_tweets) if pd.notna(row.n_tweets) else 0,
                "engagement": int(row.engagement) if pd.notna(row.engagement) else 0,
                "group": int(row.group), "degree": int(row.degree), "traces": row.traces}
        if pd.notna(getattr(row, "hashed", None)):
            node["hashed"] = bool(row.hashed)
        graph.add_node(row.userid, **node)
    weights = edges.pivot_table(index=["user_1", "user_2"], columns="trace", values="weight", aggfunc="sum",
                                fill_value=0, observed=False).reindex(columns=list(TRACES), fill_value=0)
    weights = weights.sort_index()
    for (user_1, user_2), counts in zip(weights.index, weights.to_numpy(np.int64)):
        per_trace = {f"{trace}_{window}min": int(count) for trace, count in zip(TRACES, counts)}
        graph.add_edge(user_1, user_2, weight=int(counts.sum()), **per_trace)
    return graph
