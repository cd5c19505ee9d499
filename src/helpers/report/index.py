"""The index of runs: for each run its campaign, data, date, size and headline verdicts, then its pages.

Reads each run folder's ``run.json`` (written by the runner) and the verdicts
its report gave (``work/claims.json``, written by notebook 03's step); folders
holding a ``comparison.json`` are listed as comparisons. Styled with the
report's own stylesheet; every string from a run is escaped.
"""

import json
import os
from html import escape
from pathlib import Path
from urllib.parse import quote

from helpers.report.tables import number

STYLESHEET = Path(__file__).parent / "templates" / "report" / "traction.css"
HEADLINE_CLAIMS = 4  # the first claims of a run's statement shown, one verdict each; published figures are counted
PAGE_STYLE = ("body{font-family:system-ui,-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;line-height:1.45;"
              "color:#212121} h1{font-weight:500} .verdict{font-weight:bold} ul.verdicts{margin:0;padding-left:1.1em}"
              " .simulated{background:#fff3cd} .real{background:#e7f1fb}")


def _href(folder: Path, index_dir: Path, name: str) -> str:
    relative = Path(os.path.relpath(folder, index_dir)).as_posix()
    return escape(quote(f"{relative}/{name}"))  # a path, never a URL scheme


def _verdicts(folder: Path) -> str:
    path = folder / "work" / "claims.json"
    if not path.is_file():
        return "<em>no verdicts recorded</em>"
    verdicts = json.loads(path.read_text(encoding="utf-8"))["claims"]
    first = {}
    for verdict in verdicts:
        if verdict.get("against") != "published figure":
            first.setdefault(verdict["claim"], verdict)
    items = [f"<li>{escape(v['claim'])} <span class='verdict'>{escape(v['verdict'])}</span></li>"
             for v in list(first.values())[:HEADLINE_CLAIMS]]
    published = [v["verdict"] for v in verdicts if v.get("against") == "published figure"]
    if published:
        items.append(f"<li>published figures: {published.count('reproduced')} of {len(published)} reproduced</li>")
    return f"<ul class='verdicts'>{''.join(items)}</ul>"


def _run_row(folder: Path, index_dir: Path) -> str:
    run = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    data = "simulated" if run.get("simulated") else "real archive"
    pages = " · ".join(f"<a href='{_href(folder, index_dir, name)}'>{escape(label)}</a>"
                       for label, name in run["links"])
    size = f"{number(run.get('accounts'))} accounts, {number(run.get('tweets'))} tweets"
    return (f"<tr class='{data.split()[0]}'><td>{escape(str(run['campaign']))}</td><td>{data}</td>"
            f"<td class='num'>{escape(str(run.get('date', '–')))}</td><td>{size}</td><td>{_verdicts(folder)}</td>"
            f"<td>{pages}</td></tr>")


def _comparison_row(folder: Path, index_dir: Path) -> str:
    compared = json.loads((folder / "comparison.json").read_text(encoding="utf-8")).get("runs", [])
    data = ("simulated" if all(r.get("simulated") for r in compared) else
            "real archive" if not any(r.get("simulated") for r in compared) else "simulated and real")
    runs = ", ".join(escape(str(r.get("label", "?"))) for r in compared)
    return (f"<tr><td><a href='{_href(folder, index_dir, 'comparison.html')}'>{escape(folder.name)}</a></td>"
            f"<td>{runs}</td><td>{data}</td></tr>")


def write_index(index, runs=()) -> Path:
    """An index page linking every run folder (one holding a run.json) and every comparison folder (one
    holding a comparison.json) beside ``index``, plus the folders ``runs``."""
    index = Path(index).resolve()
    candidates = {p.parent for name in ("run.json", "comparison.json") for p in index.parent.glob(f"*/{name}")}
    candidates |= {Path(r).resolve() for r in runs}
    folders = sorted(f for f in candidates if (f / "run.json").is_file())
    comparisons = sorted(f for f in candidates if (f / "comparison.json").is_file())
    rows = "".join(_run_row(folder, index.parent) for folder in folders)
    html = ["<!DOCTYPE html><html><head><meta charset='utf-8'><title>traction reports</title>",
            f"<style>{STYLESHEET.read_text(encoding='utf-8')}\n{PAGE_STYLE}</style></head><body>",
            "<h1>traction reports</h1><p>Each run's report comes first, then its notebook pages, without and with "
            "code. Verdicts are the report's own, against the thresholds it states.</p>",
            "<table class='readable'><thead><tr><th>Campaign</th><th>Data</th><th>Run on</th><th>Size</th>"
            f"<th>Headline verdicts</th><th>Pages</th></tr></thead><tbody>{rows}</tbody></table>"]
    if comparisons:
        html.append("<h2>Comparisons</h2><table class='readable'><thead><tr><th>Page</th><th>Runs compared</th>"
                    "<th>Data</th></tr></thead><tbody>" + "".join(_comparison_row(f, index.parent) for f in comparisons)
                    + "</tbody></table>")
    html.append("</body></html>")
    index.parent.mkdir(parents=True, exist_ok=True)
    index.write_text("".join(html), encoding="utf-8")
    return index
