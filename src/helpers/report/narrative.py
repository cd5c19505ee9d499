"""HTML pieces of the report pages: banner, tables, captions.

Every string that may come from the data or a library (file names, hashtags,
warnings) passes through ``html.escape`` (tables through ``report.tables``).
"""

from html import escape
from pathlib import Path

import pandas as pd

from helpers.report import claims, tables
from helpers.stats import reference

BANNER_STYLE = "padding:.8em 1em;border-radius:4px;font-size:1.1em;margin-bottom:1em;"


def banner(results: dict, load_report: dict) -> str:
    """The first thing a reader sees: whether the data is simulated or real, and which campaign."""
    dataset = results.get("dataset", {})
    campaign = escape(str(dataset.get("campaign") or load_report.get("campaign") or "unknown campaign"))
    if dataset.get("simulated") or load_report.get("simulated"):
        return (f"<div style='{BANNER_STYLE}background:#fff3cd;border:2px solid #b58900'>"
                f"<strong>SIMULATED DATA.</strong> Campaign <code>{campaign}</code> is a simulated takedown made by "
                "traction's simulator with a known truth, not Twitter's archive. Its numbers show how the analysis "
                "works; they say nothing about any real operation.</div>")
    return (f"<div style='{BANNER_STYLE}background:#e7f1fb;border:2px solid #2a6ebb'>"
            f"<strong>Real data.</strong> Campaign <code>{campaign}</code>, from Twitter's Information Operations "
            "archive as loaded from the analyst's download.</div>")


def paragraph(text: str) -> str:
    return f"<p style='font-size:1.05em;max-width:60em'>{escape(text)}</p>"


def verdicts_html() -> str:
    """The four verdicts and what each means (shown above the claims table)."""
    return ("<p>Each verdict compares a measure's 95% interval with a line:</p><ul>"
            + "".join(f"<li><strong>{escape(verdict)}</strong>: {escape(meaning)}</li>"
                      for verdict, meaning in claims.VERDICTS.items()) + "</ul>")


def thresholds_html(thresholds: claims.Thresholds) -> str:
    quantile = "median" if thresholds.reference_quantile == 0.5 else \
        f"{100 * thresholds.reference_quantile:g}th percentile"
    items = [
        f"caught early: a median lifespan under {claims.num(thresholds.early_lifespan_days)} days",
        f"low follower counts: more than {claims.pct(thresholds.low_followers_share)} of accounts under 10 followers",
        f"low engagement: under {claims.num(thresholds.low_engagement_per_tweet)} engagements per original tweet",
        f"low compared with other campaigns: below the {quantile} of the reference set, that is, fewer than "
        f"{claims.pct(thresholds.reference_quantile)} of its campaigns lower (followers per account; engagement "
        "per tweet row)",
        "low engagement compared with baseline accounts (when given): a ratio below 1 at the same follower count",
        f"predominantly Chinese: more than {claims.pct(thresholds.predominant_share)} of tweets",
        f"Hong Kong narratives: more than {claims.pct(thresholds.narrative_share)} of tweets",
        "engagement tracked follower count, and Republicans were named more than Democrats: an interval above zero",
        f"the core accounts acted in concert: more than {claims.pct(thresholds.coordinated_excess_share)} of "
        "accounts in a coordinated pair beyond what chance gives",
    ]
    return ("<p>Intervals are 95% confidence intervals. The lines used for the verdicts:</p><ul>"
            + "".join(f"<li>{escape(item)}</li>" for item in items) + "</ul>")


REFERENCE_MEASURES = [("engagement_per_tweet_row_mean", "reference_percentile_engagement_per_tweet_row",
                       "engagement per tweet row", "engagement_per_tweet_row"),
                      ("followers_per_account_mean", "reference_percentile_followers_per_account",
                       "followers per account", "followers_per_account")]


def reference_html(results: dict, thresholds: claims.Thresholds = claims.Thresholds()) -> str:
    """Where the campaign stands among the reference campaigns, and its published figures checked."""
    tests = {entry["id"]: entry for entry in results.get("tests", [])}
    table = pd.DataFrame(results.get("descriptives", {}).get("reference_set") or [])
    if table.empty:
        return "<p>No reference comparison was recorded (run 02 again with this version).</p>"
    used = table[~table["left_out"].astype(bool)]
    rows = []
    for measure_id, percentile_id, words, column in REFERENCE_MEASURES:
        measure, percentile = tests.get(measure_id), tests.get(percentile_id)
        line = reference.reference_quantile(used[column], thresholds.reference_quantile)
        rows.append({"measure": words,
                     "this campaign (95% CI)": claims.interval(measure, claims.num) if claims._usable(measure)
                     else "not measured",
                     "share of reference campaigns lower (95% CI)": claims.interval(percentile)
                     if claims._usable(percentile) else "n/a",
                     f"reference {claims._quantile_words(thresholds.reference_quantile).removeprefix('the ')}":
                         claims.num(line),
                     "reference range": f"{claims.num(used[column].min())} to {claims.num(used[column].max())}"})
    campaign = escape(str(results.get("dataset", {}).get("campaign") or "this campaign"))
    left = table[table["left_out"].astype(bool)]
    intro = (f"<p>The reference set holds the published totals of {len(table)} campaigns of Twitter's "
             "Information Operations archive (releases of 2018-2020; source: simabasel/cib-data, computed from the "
             "archive's files). From totals only two means can be compared: engagement per tweet row (likes, "
             "retweets, replies and quotes summed over all tweet rows, retweets included, divided by the rows) "
             "and followers per account. ")
    intro += (f"<code>{campaign}</code> is itself in the set (as <code>{escape(str(left['campaign'].iloc[0]))}"
              f"</code>) and is compared with the other {len(used)}.</p>" if len(left) else
              f"<code>{campaign}</code> is not in it and is compared with all {len(used)}.</p>")
    return (intro + tables.table_html(pd.DataFrame(rows))
            + published_checks_html(results, thresholds.published_tolerance))


def published_checks_html(results: dict, tolerance: float) -> str:
    """Our totals against the published ones (campaigns in the reference set only), within ``tolerance``."""
    checks = results.get("descriptives", {}).get("published_checks") or []
    if not checks:
        return ("<p>The campaign is not in the reference set, so there are no published totals to check the "
                "loaded data against.</p>")
    table = reference.agreement(pd.DataFrame(checks), tolerance)
    shown = pd.DataFrame({
        "total": table["quantity"].str.replace("_", " "),
        "ours": table["ours"].map("{:,}".format), "published": table["published"].map("{:,}".format),
        "difference": table["relative_difference"].map(lambda d: f"{100 * d:+.2f}%"),
        "agrees": table["agrees"].map({True: "yes", False: "NO"})})
    agreeing = int(table["agrees"].sum())
    return (f"<p>The campaign is in the reference set, so the totals we loaded are checked against the published "
            f"ones: {agreeing} of {len(table)} agree within {claims.pct(tolerance)} (a tolerance for re-issued "
            "files: Twitter re-issued some releases, and the published table was computed from one version; an "
            "exact match is 0.00%).</p>" + tables.table_html(shown))


def caveats_html() -> str:
    return "<ul>" + "".join(f"<li>{escape(text)}</li>" for text in (
        claims.CAVEAT_ENGAGEMENT, claims.CAVEAT_FOLLOWERS, claims.CAVEAT_HASHING)) + "</ul>"


def figures(results: dict, work_dir, names) -> list:
    """The named figures recorded in results.json that exist on disk, in the order asked."""
    recorded = {figure["name"]: figure for figure in results.get("descriptives", {}).get("figures", [])}
    found = []
    for name in names:
        figure = recorded.get(name)
        if figure and (Path(work_dir) / figure["file"]).is_file():
            found.append({**figure, "path": Path(work_dir) / figure["file"]})
    return found


def figure_title(figure: dict) -> str:
    return (f"<h3>{escape(figure.get('title', ''))}</h3>"
            f"<p><em>{escape(figure.get('caption', ''))}</em></p>")


def load_summary_html(load_report: dict) -> str:
    files = load_report.get("files", [])
    if not files:
        return "<p>No load report was found.</p>"
    frame = pd.DataFrame([{
        "file": f.get("path"), "kind": f.get("kind"), "rows read": f.get("rows_read"),
        "loaded": f.get("rows_loaded"), "rejected": f.get("rows_rejected"),
        "rejected by reason": f.get("rejected_by_reason") or {},
    } for f in files])
    return ("<p>Every row read was either loaded or recorded as rejected with its reason.</p>"
            + tables.table_html(frame))


def tests_html(results: dict) -> str:
    if not results.get("tests"):
        return "<p>No tests were recorded.</p>"
    return ("<p>All measures, with raw p-values where a test applies, Holm-adjusted over the claims' primary tests:</p>"
            + tables.table_html(tables.tests_table(results["tests"], ("id", "estimate", "ci_low", "ci_high",
                                                                     "p_value", "p_holm", "n", "converged"))))


def hashtags_html(results: dict) -> str:
    top = results.get("descriptives", {}).get("top_hashtags") or []
    if not top:
        return "<p>No hashtags were recorded (the data has no tweets, or none carried a hashtag).</p>"
    return tables.table_html(pd.DataFrame(top))
