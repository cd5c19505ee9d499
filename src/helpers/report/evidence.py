"""Frames and the coordination's evidence on the pages: tables to read and sort, the groups and their figures.

``styled(frame)`` shows any of the step's frames as a table (a pandas Styler: numbers as ``tables`` writes
them, long texts cut, every string escaped). ``read(work_dir)`` reads what notebook 02's step wrote for the
coordination (``coordination_evidence.json``, the groups table, the network and group-size figures) for
notebook 03, which shows them with ``groups_html`` and ``figure_html``.
"""

import json
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

import pandas as pd

from helpers.report import tables

EVIDENCE = "coordination_evidence.json"
SHOWN_CHARS = 120  # a text longer than this is cut on the page (the files keep it whole)
SHOWN_GROUPS = 10
SHOWN_MEMBERS = 5


@dataclass
class Evidence:
    """The coordination's evidence as notebook 02 wrote it: figures (name, title, caption, path) and groups."""

    figures: list
    groups: pd.DataFrame
    notes: dict = field(default_factory=dict)


def read(work_dir) -> Evidence | None:
    """The evidence under ``work_dir``; None where notebook 02 wrote none (no tweet rows, or not measured)."""
    work_dir = Path(work_dir)
    path = work_dir / EVIDENCE
    if not path.is_file():
        return None
    written = json.loads(path.read_text(encoding="utf-8"))
    figures = [{**figure, "path": work_dir / figure["file"]} for figure in written.get("figures", [])]
    return Evidence(figures, pd.read_parquet(work_dir / "coordination_groups.parquet"), written.get("notes", {}))


def _cut(value, limit=SHOWN_CHARS) -> str:
    text = tables.cell(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def styled(frame: pd.DataFrame, caption: str | None = None, *, limit: int = SHOWN_CHARS):
    """``frame`` as a table for the notebook and its page: no index, numbers as ``tables.number`` writes them,
    texts cut to ``limit`` characters, every cell and heading HTML-escaped; the frame itself is unchanged."""
    shown = frame.reset_index(drop=True).style.format(lambda value: _cut(value, limit), escape="html")
    shown = shown.format_index(escape="html", axis=1).hide(axis="index")
    shown = shown.set_table_attributes('class="readable frame"').set_uuid("frame")
    return shown.set_caption(escape(caption)) if caption else shown


def groups_table(groups: pd.DataFrame, limit: int = SHOWN_GROUPS) -> pd.DataFrame:
    """The ``limit`` largest groups for reading: their first members, ties, traces, when and what they shared."""
    top = groups.sort_values("group").head(limit)
    members = [", ".join(str(m).split(",")[:SHOWN_MEMBERS]) + (f" and {size - SHOWN_MEMBERS:,} more"
                                                               if size > SHOWN_MEMBERS else "")
               for m, size in zip(top["members"], top["size"])]
    return pd.DataFrame({"group": top["group"], "accounts": top["size"], "ties": top["ties"],
                         "traces": top["traces"].str.replace(",", ", "), "first_shared": top["first_shared"],
                         "last_shared": top["last_shared"], "most_shared": top["top_items"].map(_cut),
                         "members": members}).reset_index(drop=True)


def groups_html(groups: pd.DataFrame, limit: int = SHOWN_GROUPS) -> str:
    """The largest groups as a readable HTML table (every string escaped), said how many are shown."""
    caption = (f"The {min(limit, len(groups))} largest of {len(groups):,} groups of accounts acting in concert "
               "(all of them, with every member and item, in work/coordination_groups.csv)")
    # class frame too: a hashed id has no space to wrap at, so its cells may break anywhere (traction.css)
    return tables.table_html(groups_table(groups, limit), caption=caption).replace(
        "<table class='readable'>", "<table class='readable frame'>", 1)


def figure_html(figure: dict) -> str:
    """A figure's title and caption, escaped."""
    return f"<h3>{escape(figure.get('title', ''))}</h3><p><em>{escape(figure.get('caption', ''))}</em></p>"


def note_html(text: str) -> str:
    return f"<p>{escape(text)}</p>"
