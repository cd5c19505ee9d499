"""Static figures of notebook 02: tidy frame in, (Figure, caption) out.

Every function takes a tidy frame and an optional ``ax`` and returns the
figure with a one-line caption; ``save`` writes a PNG whose bytes depend only
on the data (fixed size and dpi, no software or date metadata); ``draw_all``
draws every figure an analysis allows. Figures are built on
``matplotlib.figure.Figure`` directly, so no pyplot state leaks, and drawn
under seaborn's theme as a style context (``themed``), so importing or using
this module leaves the user's global settings alone.
"""

import functools
import io
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
import seaborn as sns
from cycler import cycler
from matplotlib.figure import Figure

from helpers import results
from helpers.errors import TractionError
from helpers.stats.descriptives import lorenz_points

DPI = 100
SIZE = (7.0, 4.5)
PNG_METADATA = {"Software": None}  # matplotlib would stamp its version otherwise
DEEP = sns.color_palette("deep")  # explicit colours: a cycle name ("C0") is looked up when shown, outside the theme
# What sns.set_theme(style="whitegrid", context="notebook") sets globally, held for the drawing only.
THEME = {**sns.plotting_context("notebook"), **sns.axes_style("whitegrid", rc={"font.family": "sans-serif"}),
         "axes.prop_cycle": cycler(color=DEEP)}


def themed(draw):
    """Build the figure under ``THEME`` (styles are read as artists are made)."""
    @functools.wraps(draw)
    def drawing(*args, **kwargs):
        with mpl.rc_context(THEME):
            return draw(*args, **kwargs)
    return drawing


class ThemedFigure(Figure):
    """A figure that renders under ``THEME`` too (ticks are made at the first render, which a notebook may do later,
    outside the theme)."""

    def draw(self, renderer):
        with mpl.rc_context(THEME):
            super().draw(renderer)

    def _repr_png_(self):
        """What a notebook shows when a cell ends with the figure: the PNG ``save`` writes (no pyplot needed)."""
        buffer = io.BytesIO()
        with mpl.rc_context(THEME):
            self.savefig(buffer, format="png", dpi=DPI, metadata=PNG_METADATA)
        return buffer.getvalue()


def _axes(ax):
    if ax is not None:
        return ax.figure, ax
    fig = ThemedFigure(figsize=SIZE, dpi=DPI, layout="constrained")
    return fig, fig.add_subplot()


def save(fig: Figure, path) -> Path:
    """Write ``fig`` as a deterministic PNG (under the theme, as it was drawn)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with mpl.rc_context(THEME):
        fig.savefig(path, format="png", dpi=DPI, metadata=PNG_METADATA)
    return path


@themed
def follower_ecdf(accounts: pd.DataFrame, *, ax=None):
    fig, ax = _axes(ax)
    known = accounts["follower_count"].dropna()
    # one weighted point per distinct count draws the same steps (at 2.5M accounts, 38 MB to draw instead of 480)
    values, counts = np.unique(known.to_numpy(float), return_counts=True)
    sns.ecdfplot(x=values + 1, weights=counts, ax=ax, color=DEEP[0])
    ax.set_xscale("log")
    ax.axvline(10 + 1, color="grey", ls=":", lw=1)
    ax.set(xlabel="1 + followers (log scale)", ylabel="share of accounts at or below",
           title="Followers per account")
    caption = (f"Cumulative distribution of follower counts over {len(known):,} accounts; "
               f"{(known == 0).mean():.1%} have none and {(known < 10).mean():.1%} fewer than 10 (dotted line).")
    return fig, caption


@themed
def lorenz(accounts: pd.DataFrame, *, ax=None):
    fig, ax = _axes(ax)
    active = accounts.loc[accounts["n_original"] > 0, "engagement"]
    points = lorenz_points(active)
    ax.plot([0, 1], [0, 1], color="grey", ls=":", lw=1, label="equal engagement")
    sns.lineplot(data=points, x="population_share", y="engagement_share", ax=ax, color=DEEP[3],
                 label="accounts", estimator=None, sort=False)
    ax.set(xlabel="share of accounts (least engaged first)", ylabel="share of all engagement",
           title="Concentration of engagement across accounts", xlim=(0, 1), ylim=(0, 1))
    top = 1 - np.interp(0.99, points["population_share"], points["engagement_share"]) if active.sum() else np.nan
    caption = (f"Lorenz curve of engagement over {len(active):,} accounts that posted original tweets; "
               f"the top 1% of accounts earned {top:.1%} of all engagement.")
    return fig, caption


@themed
def dose_response(band_table: pd.DataFrame, curves: pd.DataFrame | None = None, *, ax=None):
    """Mean engagement per tweet by follower band (95% intervals), fitted model curves overlaid."""
    fig, ax = _axes(ax)
    bands = band_table[band_table["band"].ne("unknown") & (band_table["tweets"] > 0)].dropna(
        subset=["engagement_per_tweet"])
    x = 1 + bands["median_followers"].to_numpy(float)
    y = bands["engagement_per_tweet"].to_numpy(float)
    if curves is not None and len(curves):
        sns.lineplot(data=curves.assign(x=curves["follower_count"] + 1), x="x", y="mean_engagement_per_tweet",
                     hue="model", ax=ax, estimator=None, lw=1.5, alpha=0.8)
    _intervals(ax, x, y, bands["ci_low"], bands["ci_high"], "black", label="band mean (95% CI)")
    for xi, yi, label in zip(x, y, bands["band"]):
        ax.annotate(label, (xi, yi), textcoords="offset points", xytext=(5, 5), fontsize=8)
    ax.set_xscale("log")
    if (y > 0).any():
        ax.set_yscale("log")
    ax.set(xlabel="1 + followers (band median; log scale)", ylabel="engagement per original tweet (log scale)",
           title="Engagement per tweet by follower band")
    ax.legend(fontsize=8)
    caption = ("Mean engagement per original tweet in each follower band (account-bootstrap 95% intervals; "
               "bands with a zero mean cannot show on the log scale), with the count models' fitted means.")
    return fig, caption


@themed
def rootogram(table: pd.DataFrame, *, ax=None):
    """Hanging rootogram: bars of sqrt(observed) hang from the model's sqrt(expected)."""
    fig, ax = _axes(ax)
    counts = table["count"].to_numpy()
    expected, observed = np.sqrt(table["expected"].to_numpy(float)), np.sqrt(table["observed"].to_numpy(float))
    ax.bar(counts, observed, bottom=expected - observed, color=DEEP[0], alpha=0.6, width=0.8, label="sqrt(observed)")
    ax.plot(counts, expected, "o-", color=DEEP[3], ms=3, label="sqrt(expected)")
    ax.axhline(0, color="black", lw=0.8)
    tails = table["tail"].to_numpy(bool) if "tail" in table else np.zeros(len(table), bool)
    labels = [f">{counts[-1] - 1}" if tail else str(c) for c, tail in zip(counts, tails)]
    step = max(1, len(counts) // 12)
    ax.set_xticks(counts[::step], labels[::step])
    ax.set(xlabel="engagement count", ylabel="sqrt(frequency)", title="Rootogram of the negative binomial fit")
    ax.legend(fontsize=8)
    caption = ("Observed counts hang from the model's expected counts (square-root scale): a bar ending above or "
               "below zero marks a count the model under- or over-predicts; the last bar pools the tail.")
    return fig, caption


@themed
def lifespan_distribution(accounts: pd.DataFrame, *, ax=None):
    fig, ax = _axes(ax)
    known = accounts["lifespan_days"].dropna()
    days = known.clip(lower=0)  # only for the log axis; the caption uses the values as the results do
    sns.histplot(x=days + 1, ax=ax, bins=40, log_scale=True, color=DEEP[2])
    ax.axvline(90 + 1, color="grey", ls=":", lw=1)
    ax.set(xlabel="1 + days from creation to last tweet (log scale)", ylabel="accounts",
           title="Account lifespan")
    caption = (f"Days from account creation to last tweet over {len(days):,} accounts that tweeted; median "
               f"{np.quantile(known, 0.5, method='inverted_cdf'):.0f} days, {(known < 90).mean():.1%} under 90 days "
               "(dotted line).")
    return fig, caption


@themed
def engagement_by_lifespan(lifespan_table: pd.DataFrame, *, ax=None):
    return _band_points(lifespan_table, "lifespan", "engagement_per_tweet", "ci_low", "ci_high", ax,
                        "engagement per original tweet", "Engagement per tweet by account lifespan",
                        "Mean engagement per original tweet by lifespan band (account-bootstrap 95% intervals).")


@themed
def retweet_to_like(band_table: pd.DataFrame, *, ax=None):
    return _band_points(band_table[band_table["band"] != "unknown"], "band", "retweet_to_like",
                        "retweet_to_like_ci_low", "retweet_to_like_ci_high", ax, "retweets per like",
                        "Retweet-to-like ratio by follower band",
                        "Total retweets over total likes of original tweets in each follower band (account-bootstrap "
                        "95% intervals); a high ratio hints at retweet amplification.")


def _band_points(table, x, y, low, high, ax, ylabel, title, caption):
    fig, ax = _axes(ax)
    shown = table.dropna(subset=[y])
    _intervals(ax, shown[x].astype(str), shown[y].to_numpy(float), shown[low], shown[high], DEEP[0])
    ax.set(xlabel=x, ylabel=ylabel, title=title)
    ax.set_ylim(bottom=0)
    return fig, caption


def _intervals(ax, x, estimate, low, high, color, label=None):
    """Each estimate and its interval, drawn apart: with few resamples an interval need not contain its estimate
    (matplotlib's error bars cannot show that). A missing bound draws no bar."""
    low, high = np.asarray(low, float), np.asarray(high, float)
    ax.errorbar(x, (low + high) / 2, yerr=np.nan_to_num((high - low) / 2), fmt="none", ecolor=color, capsize=3)
    ax.plot(x, estimate, "o", color=color, label=label)


# (reference-set column, measure id, label) of each measure the registry pairs with the reference set
REFERENCE_PANELS = [(m.reference[0], m.id, m.label) for m in results.MEASURES.values() if m.reference]


def run_points(tests, label) -> dict:
    """A run's two reference measures as (estimate, ci_low, ci_high), from its result entries (id -> entry)."""
    point = {"label": label}
    for column, test_id, _ in REFERENCE_PANELS:
        test = tests.get(test_id) or {}
        usable = test.get("converged") and test.get("estimate") is not None
        point[column] = (test["estimate"], test["ci_low"], test["ci_high"]) if usable else None
    return point


@themed
def reference_dotplot(reference_set: pd.DataFrame, runs: list[dict]):
    """Dot plot (log scale) of the reference campaigns' two measures, each run highlighted with its 95% interval.

    ``runs``: dicts from ``run_points``. Zeros cannot sit on a log axis: they are drawn at the axis' left edge.
    """
    rows = len(reference_set) + len(runs)
    fig = ThemedFigure(figsize=(10.0, 1.2 + 0.24 * rows), dpi=DPI, layout="constrained")
    axes = fig.subplots(1, 2)
    for ax, (column, _, words) in zip(axes, REFERENCE_PANELS):
        items = [(float(value), str(name), None) for value, name in
                 zip(reference_set[column], reference_set["campaign"])]
        items += [(run[column][0], run["label"], run[column]) for run in runs if run.get(column)]
        items.sort(key=lambda item: item[0])
        positive = [v for item in items for v in ([item[0]] + list(item[2][1:] if item[2] else [])) if v and v > 0]
        floor = min(positive) / 2 if positive else 0.01
        for y, (value, name, run) in enumerate(items):
            if run is None:
                ax.plot(max(value, floor), y, "o", color="0.45", ms=5)
            else:
                low, high = max(run[1] if run[1] is not None else value, floor), max(run[2] or value, floor)
                ax.plot([low, high], [y, y], color=DEEP[3], lw=2)
                ax.plot(max(value, floor), y, "D", color=DEEP[3], ms=7)
        ax.set_xscale("log")
        ax.set_yticks(range(len(items)), [name for _, name, _ in items], fontsize=8)
        for tick, (_, _, run) in zip(ax.get_yticklabels(), items):
            if run is not None:
                tick.set_color(DEEP[3])
                tick.set_fontweight("bold")
        ax.set(xlabel=f"{words} (log scale)", title=words.capitalize(), ylim=(-0.7, len(items) - 0.3))
    fig.suptitle("Among the reference campaigns")
    labels = ", ".join(run["label"] for run in runs) or "no run"
    caption = (f"{len(reference_set)} campaigns of Twitter's archive (published totals, grey) and {labels} (red, "
               "with 95% interval), each panel sorted by its measure; engagement per tweet row counts all tweet "
               "rows, retweets included.")
    return fig, caption


@themed
def coordination_by_window(table: pd.DataFrame, *, ax=None):
    """Share of accounts in a coordinated pair (any trace) by window, observed against the chance baseline."""
    fig, ax = _axes(ax)
    rows = table[table["trace"] == "any"].sort_values("window")
    x = rows["window"].astype(int).astype(str) + " min"
    ax.fill_between(x, rows["null_low"], rows["null_high"], color="grey", alpha=0.3, label="chance, 95% of draws")
    ax.plot(x, rows["null_mean"], "o--", color="grey", label="chance (null mean)")
    ax.plot(x, rows["observed"], "o-", color=DEEP[3], label="observed")
    ax.set(xlabel="time window", ylabel="share of accounts in a coordinated pair",
           title="Accounts acting in concert, against chance")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8)
    first = rows.iloc[0]
    caption = (f"Share of accounts that shared at least two distinct items (same retweet, text, link, reply or "
               f"hashtags) with another account within each window; grey: what chance gives when each account's "
               f"timeline is shifted at random ({int(first['draws'])} draws at {int(first['window'])} minute, "
               f"{int(rows['draws'].iloc[-1])} at the others). At {int(first['window'])} minute: observed "
               f"{first['observed']:.1%}, chance {first['null_mean']:.1%}.")
    return fig, caption


LAYOUT_SEED = 0  # the network's layout: a fixed seed, so the PNG's bytes follow the data


@themed
def coordination_network(graph, *, seed: int = LAYOUT_SEED, ax=None):
    """The largest groups of the coordination network (``stats.coordination.largest_groups``), laid out by
    networkx's spring layout with a fixed seed: accounts coloured by group, ties drawn thicker the more items
    they share."""
    import networkx as nx

    fig, ax = _axes(ax)
    groups = sorted({data["group"] for _, data in graph.nodes(data=True)})
    position = nx.spring_layout(graph, seed=seed, weight="weight") if len(graph) else {}
    weights = np.array([data["weight"] for _, _, data in graph.edges(data=True)], float)
    nx.draw_networkx_edges(graph, position, ax=ax, edge_color="0.6", alpha=0.4,
                           width=0.4 + np.log1p(weights) / 2 if len(weights) else 0.5)
    for i, group in enumerate(groups):
        members = [node for node in graph if graph.nodes[node]["group"] == group]
        xy = np.array([position[node] for node in members])
        ax.scatter(xy[:, 0], xy[:, 1], s=18, color=DEEP[i % len(DEEP)], edgecolors="white", linewidths=0.4,
                   label=f"group {group} ({len(members):,} accounts)", zorder=3)
    ax.set_axis_off()
    ax.set_title(f"The {len(groups)} largest groups of accounts acting in concert" if groups
                 else "No accounts acted in concert")
    if groups:
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    total = graph.graph.get("accounts_in_groups", graph.number_of_nodes())
    cut = (f"; a group of more than {graph.graph['per_group']:,} shows its {graph.graph['per_group']:,} accounts "
           "with most partners" if total > graph.number_of_nodes() else "")
    caption = (f"Accounts (dots) of the {len(groups)} largest connected groups, tied (lines) when they shared at least "
               f"{graph.graph.get('min_weight', 2)} distinct items within {graph.graph.get('window_minutes', 1)} "
               f"minute: {graph.number_of_nodes():,} of their {total:,} accounts and {graph.number_of_edges():,} ties"
               f"{cut}. Layout: networkx's spring layout, seed {seed}.")
    return fig, caption


@themed
def coordination_group_sizes(table: pd.DataFrame, draws: int, *, ax=None):
    """Groups of each size, observed (draw 0) against the ``draws`` null draws (``Coordination.group_sizes``; a draw
    with no group has no row)."""
    fig, ax = _axes(ax)
    observed = table[table["draw"] == 0].set_index("size")["groups"]
    null = table[table["draw"] > 0].pivot_table(index="size", columns="draw", values="groups", fill_value=0)
    if draws and len(null):
        full = null.reindex(columns=range(1, draws + 1), fill_value=0)
        mean, low, high = full.mean(axis=1), full.min(axis=1), full.max(axis=1)
        ax.errorbar(mean.index, mean, yerr=[mean - low, high - mean], fmt="s", color="0.5", ms=4, capsize=2,
                    label=f"chance: mean of {draws} draws (fewest to most)")
    ax.plot(observed.index, observed.to_numpy(), "o", color=DEEP[3], label="observed")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set(xlabel="accounts in the group (log scale)", ylabel="groups (log scale)",
           title="Sizes of the groups acting in concert, against chance")
    ax.legend(fontsize=8)
    largest_null = table.loc[table["draw"] > 0].groupby("draw")["size"].max().reindex(range(1, draws + 1),
                                                                                       fill_value=0)
    chance = (f"by chance {int(largest_null.min())} to {int(largest_null.max())}" if draws
              else "no chance draws counted their groups")
    caption = (f"Connected groups of tied accounts by size: {int(observed.sum()):,} groups observed, the largest of "
               f"{int(observed.index.max()) if len(observed) else 0:,} accounts ({chance})"
               + ("; grey: what the chance draws give when each account's timeline is shifted at random." if draws
                  else "."))
    return fig, caption


def draw_all(analysis, folder) -> list[dict]:
    """Save every figure the data allows under ``folder``; return name, file (relative), title, caption."""
    acc, tables, fitted = analysis.frames.accounts, analysis.tables, analysis.fitted
    drawn = [("follower_ecdf", lambda: follower_ecdf(acc))]
    if (acc["n_original"] > 0).any():
        drawn.append(("lorenz", lambda: lorenz(acc)))
        drawn.append(("dose_response", lambda: dose_response(tables["follower_bands"], _curves(acc, fitted))))
    if fitted is not None:
        drawn.append(("rootogram", lambda: rootogram(_computed(tables["rootogram"]))))
    if acc["lifespan_days"].notna().any():
        drawn.append(("lifespan", lambda: lifespan_distribution(acc)))
        drawn.append(("engagement_by_lifespan", lambda: engagement_by_lifespan(tables["lifespan_bands"])))
    if tables["follower_bands"].get("retweet_to_like", pd.Series(dtype=float)).notna().any():
        drawn.append(("retweet_to_like", lambda: retweet_to_like(tables["follower_bands"])))
    if "reference_set" in tables:
        tests = {entry["id"]: entry for entry in analysis.tests}
        label = analysis.frames.campaign or "this campaign"
        drawn.append(("reference", lambda: reference_dotplot(tables["reference_set"], [run_points(tests, label)])))
    if len(tables.get("coordination_by_window", ())):
        drawn.append(("coordination", lambda: coordination_by_window(tables["coordination_by_window"])))
    folder = Path(folder)
    out = []
    for name, draw in drawn:
        try:
            fig, caption = draw()
        except TractionError as error:  # e.g. no converged model for the rootogram
            out.append({"name": name, "file": None, "title": name, "caption": f"not drawn: {error}"})
            continue
        path = save(fig, folder / f"{name}.png")
        title = fig.get_suptitle() or fig.axes[0].get_title()
        out.append({"name": name, "file": f"{folder.name}/{path.name}", "title": title,
                    "caption": caption})
    return out


def _computed(table):
    """A table the analysis computed, or the reason it could not (``{"not_computed": why}``) as an error."""
    if isinstance(table, dict):
        raise TractionError(table["not_computed"])
    return table


def _curves(accounts, fitted):
    if fitted is None:
        return None
    top = max(float(accounts["follower_count"].max(skipna=True)), 1.0)
    return fitted.fitted_curve(np.unique(np.round(np.geomspace(1, top + 1, 60) - 1)))
