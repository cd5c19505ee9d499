"""results.json: the statistics of notebook 02, Holm-adjusted, written byte-for-byte reproducibly.

``{"dataset": {...}, "tests": [entry, ...], "descriptives": {name: table, ...}}``.
Each test entry has exactly ENTRY_KEYS. Numbers are rounded to
``SIGNIFICANT_DIGITS`` significant digits, NaN and infinities become None,
tables become lists of records, keys are sorted and nothing records the time.
"""

import json
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
from statsmodels.stats.multitest import multipletests

from helpers.errors import TractionError

ENTRY_KEYS = ("id", "question", "method", "estimate", "ci_low", "ci_high", "p_value", "p_holm",
              "n", "converged", "warnings")
SIGNIFICANT_DIGITS = 6
# Model checks are not claims about the network: their p-values stay raw, outside the Holm family.
NOT_IN_HOLM_FAMILY = ("overdispersion_test",)


def entry(test_id, question, method, estimate=None, ci=(None, None), *, n=None, p_value=None,
          converged=True, warnings=()) -> dict:
    """One test entry of the contract (``p_holm`` is filled by ``build``)."""
    return {"id": test_id, "question": question, "method": method, "estimate": estimate,
            "ci_low": ci[0], "ci_high": ci[1], "p_value": p_value, "p_holm": None, "n": n,
            "converged": converged, "warnings": list(warnings)}


def skipped(test_id, question, method, reason) -> dict:
    """An entry that could not be computed on this data: no numbers, and the reason."""
    return entry(test_id, question, method, converged=False, warnings=[f"skipped: {reason}"])


def build(dataset: dict, tests: list[dict], descriptives: dict) -> dict:
    """The results document: entries checked, Holm-adjusted p-values, JSON-ready values."""
    seen = set()
    for test in tests:
        if set(test) != set(ENTRY_KEYS):
            extra, missing = set(test) - set(ENTRY_KEYS), set(ENTRY_KEYS) - set(test)
            raise TractionError(f"test entry {test.get('id')!r}: keys differ from the results contract "
                                f"(missing {sorted(missing)}, unexpected {sorted(extra)})")
        if test["id"] in seen:
            raise TractionError(f"test entry {test['id']!r} appears twice")
        seen.add(test["id"])
    tests = [dict(test) for test in tests]
    for test in tests:
        test["p_holm"] = None
        if test["converged"] and not _finite(test["estimate"]) and test["estimate"] is not None:
            test["converged"] = False
            test["warnings"] = [*test["warnings"], "estimate is not a finite number"]
    family = [i for i, test in enumerate(tests)
              if test["converged"] and _finite(test["p_value"]) and test["id"] not in NOT_IN_HOLM_FAMILY]
    if family:
        adjusted = multipletests([tests[i]["p_value"] for i in family], method="holm")[1]
        for i, p in zip(family, adjusted):
            tests[i]["p_holm"] = float(p)
    return _clean({"dataset": dataset, "tests": tests, "descriptives": descriptives})


def write(path, results: dict) -> Path:
    """Write atomically (a killed run never leaves half a file) as sorted, indented JSON."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(_clean(results), sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text + "\n", encoding="utf-8")
    os.replace(partial, path)
    return path


def read(path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise TractionError(f"{path}: no results file; run 02_engagement_vs_followers.ipynb first")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise TractionError(f"{path}: line {error.lineno}: not valid JSON ({error.msg})") from None


def tests_frame(results: dict) -> pd.DataFrame:
    """The test entries as a table, for display."""
    return pd.DataFrame(results["tests"], columns=list(ENTRY_KEYS))


def _finite(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool) \
        and math.isfinite(value)


def _round(value: float):
    if not math.isfinite(value):
        return None
    if value == 0:
        return 0.0
    return float(f"{value:.{SIGNIFICANT_DIGITS}g}")


def _clean(value):
    """Plain JSON values: rounded floats, None for NaN/NaT, records for tables, strings for dates."""
    if isinstance(value, pd.DataFrame):
        return [_clean(row) for row in value.to_dict(orient="records")]
    if isinstance(value, pd.Series):
        return _clean(value.to_dict())
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_clean(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return _round(float(value))
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, (str, Path)):
        return str(value)
    raise TractionError(f"results: cannot write a value of type {type(value).__name__} ({value!r}) as JSON")
