"""Runs side by side with the reference set: what ``traction compare RUN_DIR ... --out DIR`` writes.

Each run is read from its ``results.json`` (a run folder of ``traction run``, or
its work folder). ``comparison.json`` holds, per run, the key measures with
their intervals, the reference percentiles and every verdict (each run's
report's own, from its claims.json), and the reference set itself. ``comparison.html`` is
one self-contained page: the runs, the measures, a dot plot (log scale) of
engagement per tweet row and followers per account over all reference
campaigns with the runs highlighted, and every run's verdicts in one table.
Every string from the data is escaped; nothing records a time or a location,
so the same runs give the same bytes.
"""

import base64
import io
from dataclasses import asdict
from html import escape
from pathlib import Path

import pandas as pd

from helpers import data, results, statement
from helpers.errors import TractionError
from helpers.report import claims, figures, narrative

# The measures shown side by side; their labels and formats come from the registry.
KEY_MEASURES = ["engagement_per_tweet_row_mean", "reference_percentile_engagement_per_tweet_row",
                "followers_per_account_mean", "reference_percentile_followers_per_account", "engagement_per_tweet_mean",
                "followers_share_under_10", "followers_median", "elasticity_nb_account", "baseline_engagement_ratio"]
REFERENCE_COLUMNS = ["campaign", "release", "attributed_country", "accounts", "tweet_rows",
                     "engagement_per_tweet_row", "followers_per_account"]
STYLE = ("body{font-family:sans-serif;margin:2em;max-width:80em}td,th{padding:.3em .8em;text-align:left;"
         "vertical-align:top;border-bottom:1px solid #ddd}table{border-collapse:collapse;margin-bottom:1.5em}"
         ".banner{padding:.8em 1em;border-radius:4px;background:#fff3cd;border:2px solid #b58900}")


def results_path(run_dir) -> Path:
    """``results.json`` of a run folder (``work/results.json``) or of a work folder."""
    folder = Path(run_dir)
    for candidate in (folder / "work" / "results.json", folder / "results.json"):
        if candidate.is_file():
            return candidate
    raise TractionError(f"{folder}: no work/results.json or results.json (name a folder that traction run wrote, "
                        "or its work folder)")


def read_runs(run_dirs) -> list[dict]:
    """Each run's results with a label (its campaign; with the folder's name when two share a campaign)."""
    if not run_dirs:
        raise TractionError("traction compare: name at least one run folder")
    runs = []
    for run_dir in run_dirs:
        path = results_path(run_dir)
        document = results.read(path)
        folder = path.parent.parent if path.parent.name == "work" else path.parent
        runs.append({"folder": folder.name, "results": document, "results_path": path,
                     "campaign": str(document.get("dataset", {}).get("campaign") or folder.name)})
    names = [run["campaign"] for run in runs]
    for run in runs:
        run["label"] = run["campaign"] if names.count(run["campaign"]) == 1 else \
            f"{run['campaign']} ({run['folder']})"
    return runs


def run_verdicts(run: dict, settings: claims.Settings) -> list[dict]:
    """A run's verdicts: its report's own (``work/claims.json``), else its statement's as chosen for its campaign."""
    recorded = run["results_path"].parent / "claims.json"
    if recorded.is_file():
        return results.read(recorded)["claims"]
    dataset = run["results"].get("dataset", {})
    tested = statement.choose("", dataset.get("campaign", ""), bool(dataset.get("simulated")))
    return [asdict(v) for v in claims.evaluate(tested, run["results"], settings).verdicts]


def comparison(run_dirs, settings: claims.Settings = claims.Settings()) -> dict:
    """The comparison document (what comparison.json holds)."""
    reference = data.reference_campaigns()
    out = []
    for run in read_runs(run_dirs):
        document = run["results"]
        tests = {entry["id"]: entry for entry in document.get("tests", [])}
        dataset = document.get("dataset", {})
        out.append({
            "label": run["label"], "campaign": run["campaign"], "simulated": bool(dataset.get("simulated")),
            "form": dataset.get("form"), "accounts": dataset.get("accounts"),
            "measures": {test_id: {k: tests.get(test_id, {}).get(k) for k in
                                   ("estimate", "ci_low", "ci_high", "n", "converged", "warnings")}
                         for test_id in KEY_MEASURES},
            "verdicts": [{"claim": v["id"], "claim_text": v["claim"], "against": v["against"],
                          "question": v["question"], "verdict": v["verdict"], "evidence": v["evidence"]}
                         for v in run_verdicts(run, settings)],
        })
    return {"runs": out, "reference_set": reference[REFERENCE_COLUMNS], "settings": asdict(settings),
            "reference_source": data.SOURCE}


def _measure_table(document) -> pd.DataFrame:
    rows = []
    for test_id in KEY_MEASURES:
        form = claims.fmt(test_id)
        row = {"measure": results.measure(test_id).label}
        for run in document["runs"]:
            entry = run["measures"][test_id]
            usable = entry.get("converged") and entry.get("estimate") is not None
            row[run["label"]] = (claims.interval(entry, form) if usable and entry.get("ci_low") is not None
                                 else form(entry["estimate"]) if usable else "not measured")
        rows.append(row)
    return pd.DataFrame(rows)


def _verdict_table(document) -> pd.DataFrame:
    """One row per claim (by id, in the order first met), one column per run."""
    keys, text = [], {}
    for run in document["runs"]:
        for verdict in run["verdicts"]:
            key = (verdict["claim"], verdict["against"])
            if key not in text:
                keys.append(key)
                text[key] = verdict["claim_text"]
    rows = []
    for key in keys:
        row = {"claim": text[key], "id": key[0], "against": key[1]}
        for run in document["runs"]:
            found = [v["verdict"] for v in run["verdicts"] if (v["claim"], v["against"]) == key]
            row[run["label"]] = found[0] if found else "not asked"
        rows.append(row)
    return pd.DataFrame(rows)


def _dotplot_uri(document) -> tuple[str, str]:
    reference = pd.DataFrame(document["reference_set"])
    points = [figures.run_points(run["measures"], run["label"]) for run in document["runs"]]
    fig, caption = figures.reference_dotplot(reference, points)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=figures.DPI, metadata=figures.PNG_METADATA)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii"), caption


def to_html(document) -> str:
    """comparison.html: a self-contained page (inline figure, no scripts); every data string escaped."""
    runs = document["runs"]
    labels = ", ".join(run["label"] for run in runs)
    simulated = [run["label"] for run in runs if run["simulated"]]
    banner = (f"<div class='banner'><strong>SIMULATED DATA</strong> in {escape(', '.join(simulated))}: a simulated "
              "takedown with a known truth, not Twitter's archive; its numbers say nothing about a real "
              "operation.</div>") if simulated else ""
    overview = pd.DataFrame([{"run": run["label"], "data": "simulated" if run["simulated"] else "real archive",
                              "form": run["form"], "accounts": run["accounts"]} for run in runs])
    uri, caption = _dotplot_uri(document)
    reference = pd.DataFrame(document["reference_set"], columns=REFERENCE_COLUMNS)
    shown = reference.assign(engagement_per_tweet_row=reference["engagement_per_tweet_row"].map("{:.3g}".format),
                             followers_per_account=reference["followers_per_account"].map("{:,.0f}".format))
    html = "".join([
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>traction comparison: {escape(labels)}</title><style>{STYLE}</style></head><body>",
        f"<h1>Comparison: {escape(labels)}</h1>", banner,
        f"<p>{len(runs)} runs beside the reference set: the published totals of {len(reference)} campaigns of "
        f"Twitter's Information Operations archive ({escape(document['reference_source'])}). Intervals are 95%; "
        "a run whose campaign is in the reference set is compared with the others only.</p>",
        "<h2>Runs</h2>", overview.to_html(index=False, escape=True, border=0),
        "<h2>Key measures</h2>", _measure_table(document).to_html(index=False, escape=True, border=0),
        "<h2>Among the reference campaigns</h2>",
        f"<img alt='dot plot of the reference campaigns with the compared runs' src='{uri}' style='max-width:100%'>",
        f"<p><em>{escape(caption)}</em></p>",
        "<h2>Verdicts</h2>", narrative.verdicts_html(),
        narrative.settings_html(claims.Settings(**document["settings"])),
        _verdict_table(document).to_html(index=False, escape=True, border=0),
        "<h2>The reference set</h2>",
        shown.to_html(index=False, escape=True, border=0),
        "</body></html>"])
    return html


def write(run_dirs, out, settings: claims.Settings = claims.Settings()) -> tuple[Path, Path]:
    """Write ``out/comparison.json`` and ``out/comparison.html``; return both paths."""
    document = comparison(run_dirs, settings)
    out = Path(out)
    json_path = results.write(out / "comparison.json", document)
    html_path = out / "comparison.html"
    html_path.write_text(to_html(results.read(json_path)), encoding="utf-8")
    return json_path, html_path
