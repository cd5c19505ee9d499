"""Tables formatted for reading, shared by the three notebooks: one ``table_html(frame)`` for every page.

No index column; numbers to three significant digits, whole numbers as
integers with thousands separators; "–" for a missing value; lists (warnings)
as text; column names in words; every string HTML-escaped. The CSS class
``readable`` (in the report template and the index) wraps long cells, so a
table never scrolls sideways at 1280 px.
"""

import math
from html import escape

import numpy as np
import pandas as pd

MISSING = "–"
# Column names in words; a column not listed reads its name with spaces for underscores.
LABELS = {
    "id": "measure", "ci_low": "95% CI low", "ci_high": "95% CI high", "ci": "95% CI", "p_value": "p",
    "p_holm": "p (Holm)", "n": "n", "n_params": "parameters", "loglik": "log-likelihood", "aic": "AIC",
    "bic": "BIC", "retweet_to_like_ci_low": "retweets per like: 95% CI low",
    "retweet_to_like_ci_high": "retweets per like: 95% CI high", "retweet_to_like": "retweets per like",
    "retweet_to_like_ci": "retweets per like: 95% CI",
    "share_tweets_retweet_heavy": "share of tweets with > 5 retweets per like", "per_tweet": "per original tweet",
    "per_account_total": "per account (total)", "per_account_mean_per_tweet": "per account (mean per tweet)",
    "share_of_tweets": "share of tweet rows", "follower_count": "followers", "rows_read": "rows read",
    "sha256": "SHA-256 (start)",
}
P_VALUES = ("p_value", "p_holm")


def number(value, digits: int = 3) -> str:
    """A number for reading: whole numbers with thousands separators, others to ``digits`` significant digits."""
    if value is None or value is pd.NA or value is pd.NaT:
        return MISSING
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    value = float(value)
    if math.isnan(value):
        return MISSING
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    if value.is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    if abs(value) >= 10 ** digits:
        return f"{value:,.0f}"
    if abs(value) < 10 ** -(digits + 1):
        return f"{value:.{digits - 1}e}"
    text = f"{value:.{digits}g}"
    text = f"{float(text):,.{max(0, digits - 1 - math.floor(math.log10(abs(float(text)))))}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def p_value(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    return "< 0.0001" if value < 1e-4 else number(value, 2)


def cell(value) -> str:
    """Any value as text: numbers by ``number``, lists joined, missing as "–"."""
    if isinstance(value, (list, tuple, np.ndarray)):
        return "; ".join(cell(v) for v in value) if len(value) else ""
    if isinstance(value, dict):
        return "; ".join(f"{k}: {cell(v)}" for k, v in value.items())
    if isinstance(value, (int, float, np.integer, np.floating, bool, np.bool_)) or value is None or value is pd.NA:
        return number(value)
    if isinstance(value, pd.Timestamp):
        return MISSING if pd.isna(value) else (value.strftime("%Y-%m-%d %H:%M") if value.time().isoformat() != "00:00:00"
                                               else value.strftime("%Y-%m-%d"))
    return str(value)


def readable(frame: pd.DataFrame, labels: dict | None = None) -> pd.DataFrame:
    """The frame as strings for reading, columns named in words (the index is dropped)."""
    labels = {**LABELS, **(labels or {})}
    out = pd.DataFrame(index=range(len(frame)))
    for column in frame.columns:
        values = frame[column].tolist()
        text = [p_value(v) for v in values] if column in P_VALUES else [cell(v) for v in values]
        out[labels.get(column, str(column).replace("_", " "))] = text
    return out


def with_interval(frame: pd.DataFrame, low="ci_low", high="ci_high", name="ci") -> pd.DataFrame:
    """Join two interval columns into one "low to high" column (narrower tables)."""
    joined = [MISSING if pd.isna(a) or pd.isna(b) else f"{number(a)}\u00a0to {number(b)}"  # breaks, if at all, after "to"
              for a, b in zip(frame[low], frame[high])]
    position = list(frame.columns).index(low)
    out = frame.drop(columns=[low, high])
    out.insert(position, name, joined)
    return out


def table_html(frame: pd.DataFrame, labels: dict | None = None, caption: str | None = None) -> str:
    """``readable(frame)`` as an HTML table of class ``readable``; every cell and heading escaped."""
    shown = readable(frame, labels)
    numeric = [_numeric(frame[c]) for c in frame.columns]
    head = "".join(f"<th class='num'>{escape(str(c))}</th>" if is_number else f"<th>{escape(str(c))}</th>"
                   for c, is_number in zip(shown.columns, numeric))
    rows = "".join("<tr>" + "".join(f"<td class='num'>{escape(v)}</td>" if is_number else f"<td>{_breakable(v)}</td>"
                                    for v, is_number in zip(row, numeric)) + "</tr>"
                   for row in shown.itertuples(index=False))
    title = f"<caption>{escape(caption)}</caption>" if caption else ""
    return f"<table class='readable'>{title}<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _numeric(column: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(column):
        return False
    if pd.api.types.is_numeric_dtype(column):
        return True
    values = column.dropna()  # object columns of numbers and None (JSON records)
    return len(values) > 0 and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def _breakable(text: str) -> str:
    """Escaped text in which an identifier may break after its underscores (no mid-word breaks)."""
    return escape(text).replace("_", "_<wbr>")


def tests_table(tests: list[dict], columns=("id", "estimate", "ci_low", "ci_high", "p_value", "p_holm", "n",
                                             "converged", "warnings")) -> pd.DataFrame:
    """Result entries as a frame ready for ``table_html``: the interval as one column."""
    frame = pd.DataFrame(tests, columns=list(columns))
    return with_interval(frame) if "ci_low" in frame else frame


MODEL_ENTRIES = {"NB (account)": "elasticity_nb_account", "Poisson (account)": "elasticity_ppml_account",
                 "NB (tweet)": "elasticity_nb_tweet_clustered"}


def model_table(document: dict) -> pd.DataFrame:
    """One row per count model: model, level, n, elasticity estimate and interval, converged, AIC, BIC."""
    tests = {t["id"]: t for t in document.get("tests", [])}
    rows = []
    for row in document.get("descriptives", {}).get("model_comparison", []):
        entry = tests.get(MODEL_ENTRIES.get(row["model"], ""), {})
        rows.append({"model": row["model"], "level": row["level"], "n": row["n"],
                     "elasticity": entry.get("estimate"), "ci_low": entry.get("ci_low"),
                     "ci_high": entry.get("ci_high"), "converged": row["converged"],
                     "aic": row["aic"], "bic": row["bic"]})
    frame = pd.DataFrame(rows, columns=["model", "level", "n", "elasticity", "ci_low", "ci_high", "converged",
                                        "aic", "bic"])
    return with_interval(frame)
