"""HTML pieces of the report pages: banner, tables, captions.

Every string that may come from the data or a library (file names, hashtags,
warnings) passes through ``html.escape`` (tables through ``report.tables``).
"""

from html import escape
from pathlib import Path

import pandas as pd

from helpers import results as registry
from helpers.report import claims, tables

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


def statement_html(tested) -> str:
    """The statement under test, opening the report: its title, the quoted words, who said them and when."""
    title = f"<h1>{escape(tested.title or 'Did the network achieve traction?')}</h1>"
    who = escape(tested.by) + (f", {escape(tested.date)}" if tested.date else "")
    if tested.url.startswith(("https://", "http://")):  # a link only to the web: never javascript: or a file
        who = f"<a href='{escape(tested.url)}'>{who}</a>"
    elif tested.url:
        who += f" ({escape(tested.url)})"
    parts = [title]
    if tested.quote:
        kind = "in paraphrase" if tested.paraphrase else "said"
        parts.append(f"<blockquote style='font-size:1.1em;max-width:60em'>{escape(tested.quote)}</blockquote>"
                     f"<p>{who}, {kind}. This report tests the statement's claims, and the figures published about "
                     "the release, against the released data.</p>")
    elif not tested.generic:
        parts.append(f"<p>The claims of {who}, tested against the released data.</p>")
    if tested.note:
        parts.append(paragraph(tested.note))
    if tested.generic:
        parts.append("<p>See <code>docs/claims.md</code> for the statement file's form; "
                     "<code>traction measures</code> lists every measure a claim can name.</p>")
    return "".join(parts)


def paragraph(text: str) -> str:
    return f"<p style='font-size:1.05em;max-width:60em'>{escape(text)}</p>"


def verdicts_html() -> str:
    """The verdicts and what each means (shown above the claims table)."""
    return ("<p>Each verdict compares a measure with a line, the reference set, baseline accounts or a published "
            "figure:</p><ul>" + "".join(f"<li><strong>{escape(verdict)}</strong>: {escape(meaning)}</li>"
                                         for verdict, meaning in claims.VERDICTS.items()) + "</ul>")


def settings_html(settings: claims.Settings) -> str:
    quantile = claims._quantile_words(settings.reference_quantile).removeprefix("the ")
    return ("<p>Intervals are 95% confidence intervals; each claim's row states its rule. Claims against the "
            f"reference set use its {escape(quantile)} unless they name another quantile; our totals agree with the "
            f"reference set's published ones within {escape(claims.pct(settings.published_tolerance))}.</p>")


def reference_html(results: dict, settings: claims.Settings = claims.Settings()) -> str:
    """Where the campaign stands among the reference campaigns, and its published totals checked."""
    tests = {entry["id"]: entry for entry in results.get("tests", [])}
    table = pd.DataFrame(results.get("descriptives", {}).get("reference_set") or [])
    if table.empty:
        return "<p>No reference comparison was recorded (run 02 again with this version).</p>"
    used = table[~table["left_out"].astype(bool)]
    quantile = claims._quantile_words(settings.reference_quantile).removeprefix("the ")
    rows = []
    for measure in (m for m in registry.MEASURES.values() if m.reference):
        column, percentile_id = measure.reference
        entry, percentile = tests.get(measure.id), tests.get(percentile_id)
        rows.append({"measure": measure.label,
                     "this campaign (95% CI)": claims.interval(entry, claims.num) if claims.usable(entry)
                     else "not measured",
                     "share of reference campaigns lower (95% CI)": claims.interval(percentile)
                     if claims.usable(percentile) else "n/a",
                     f"reference {quantile}": claims.num(registry.reference_quantile(used[column],
                                                                                    settings.reference_quantile)),
                     "reference range": f"{claims.num(used[column].min())} to {claims.num(used[column].max())}"})
    campaign = escape(str(results.get("dataset", {}).get("campaign") or "this campaign"))
    left = table[table["left_out"].astype(bool)]
    intro = (f"<p>The reference set holds the published totals of {len(table)} campaigns of Twitter's "
             "Information Operations archive (releases of 2018-2020; source: simabasel/cib-data, computed from the "
             "archive's files). From totals only means can be compared: engagement per tweet row (likes, "
             "retweets, replies and quotes summed over all tweet rows, retweets included, divided by the rows) "
             "and followers per account. ")
    intro += (f"<code>{campaign}</code> is itself in the set (as <code>{escape(str(left['campaign'].iloc[0]))}"
              f"</code>) and is compared with the other {len(used)}.</p>" if len(left) else
              f"<code>{campaign}</code> is not in it and is compared with all {len(used)}.</p>")
    return (intro + tables.table_html(pd.DataFrame(rows))
            + published_checks_html(results, settings.published_tolerance))


def agreement(checks: pd.DataFrame, tolerance: float) -> pd.DataFrame:
    """``checks`` with ``agrees``: the relative difference within ``tolerance`` (a share, e.g. 0.05)."""
    checks = pd.DataFrame(checks, columns=["quantity", "ours", "published", "relative_difference"])
    return checks.assign(agrees=checks["relative_difference"].abs() <= tolerance)


def published_checks_html(results: dict, tolerance: float) -> str:
    """Our totals against the published ones (campaigns in the reference set only), within ``tolerance``."""
    checks = results.get("descriptives", {}).get("published_checks") or []
    if not checks:
        return ("<p>The campaign is not in the reference set, so there are no published totals to check the "
                "loaded data against.</p>")
    table = agreement(pd.DataFrame(checks), tolerance)
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
