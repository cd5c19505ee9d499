"""HTML pieces of the narrative notebook (03): banner, tables, captions.

Every string that may come from the data or a library (file names, hashtags,
warnings) passes through ``html.escape`` or pandas' escaping ``to_html``.
"""

from html import escape
from pathlib import Path

import pandas as pd

from helpers.report import claims

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


def thresholds_html(thresholds: claims.Thresholds) -> str:
    items = [
        f"caught early: a median lifespan under {claims.num(thresholds.early_lifespan_days)} days",
        f"low follower counts: more than {claims.pct(thresholds.low_followers_share)} of accounts under 10 followers",
        f"low engagement: under {claims.num(thresholds.low_engagement_per_tweet)} engagements per original tweet",
        f"predominantly Chinese: more than {claims.pct(thresholds.predominant_share)} of tweets",
        f"Hong Kong narratives: more than {claims.pct(thresholds.narrative_share)} of tweets",
        "engagement tracked follower count, and Republicans were named more than Democrats: an interval above zero",
        f"the core accounts acted in concert: more than {claims.pct(thresholds.coordinated_excess_share)} of "
        "accounts in a coordinated pair beyond what chance gives",
    ]
    return ("<p>Intervals are 95% confidence intervals. Thresholds used for the verdicts:</p><ul>"
            + "".join(f"<li>{escape(item)}</li>" for item in items) + "</ul>")


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
        "rejected by reason": "; ".join(f"{k}: {v}" for k, v in (f.get("rejected_by_reason") or {}).items()),
    } for f in files])
    return ("<p>Every row read was either loaded or recorded as rejected with its reason.</p>"
            + frame.to_html(index=False, escape=True, border=0))


def tests_html(results: dict) -> str:
    columns = ["id", "estimate", "ci_low", "ci_high", "p_value", "p_holm", "n", "converged"]
    frame = pd.DataFrame(results.get("tests", []))
    if frame.empty:
        return "<p>No tests were recorded.</p>"
    return ("<p>All measures, with raw and Holm-adjusted p-values where a test applies:</p>"
            + frame[columns].to_html(index=False, escape=True, border=0, na_rep="", float_format="{:.4g}".format))


def hashtags_html(results: dict) -> str:
    top = results.get("descriptives", {}).get("top_hashtags") or []
    if not top:
        return "<p>No hashtags were recorded (the data has no tweets, or none carried a hashtag).</p>"
    frame = pd.DataFrame(top)
    return frame.to_html(index=False, escape=True, border=0, float_format="{:.4f}".format)
