"""The results contract: what notebook 02 writes to results.json, and the registry of every result id.

``{"dataset": {...}, "tests": [entry, ...], "descriptives": {name: table, ...}}``.
Each test entry has exactly ENTRY_KEYS. ``MEASURES`` is the registry: for
every id, the question it answers, the module that computes it and the claims
(numbered as in ``helpers.report.claims``) that read it; an entry's question
comes from here, so it cannot drift from the documentation. Numbers are
rounded to ``SIGNIFICANT_DIGITS`` significant digits, NaN and infinities become
None, tables become lists of records, keys are sorted and nothing records the
time, so the same input and seed give the same bytes.
"""

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from statsmodels.stats.multitest import multipletests

from helpers.errors import TractionError

ENTRY_KEYS = ("id", "question", "method", "estimate", "ci_low", "ci_high", "p_value", "p_holm",
              "n", "converged", "warnings")
SIGNIFICANT_DIGITS = 6
# The Holm family is the claims' primary tests that carry a p-value: the primary elasticity and the
# rank association that claim 4 ("engagement tracked follower count") rests on, and the party
# difference of claim 8. Claims 1-3, 6 and 7 compare an interval with a threshold and carry no
# p-value; every other p-value (other models, model checks, sensitivity) is descriptive and stays raw.
HOLM_FAMILY = ("baseline_engagement_ratio", "elasticity_nb_account", "spearman_followers_engagement",
               "coordinated_accounts_share_above_chance", "us_politics_republican_minus_democrat_share")
# A warning starting with this marks an entry whose interval the validation battery could not
# vouch for (a few high-leverage accounts carry it): no verdict may rest on it alone.
FRAGILE = "fragile:"


@dataclass(frozen=True)
class Measure:
    """One result id of the contract: its question, where it is computed, which claims read it."""

    id: str
    question: str
    module: str
    claims: tuple = ()


_DESCRIPTIVES, _DOSE, _AMPLIFICATION = "helpers.stats.descriptives", "helpers.stats.dose_response", \
    "helpers.stats.amplification"
_LIFESPAN, _MODELS, _CONTENT = "helpers.stats.lifespan", "helpers.stats.models", "helpers.stats.content"
_REFERENCE, _BASELINE = "helpers.stats.reference", "helpers.stats.baseline"
_ELASTICITY = "How does engagement per original tweet scale with follower count?"
_COORDINATION = "helpers.stats.coordination"
_SAME_MINUTE = "within a minute, on at least two distinct items"
_WITHOUT = "How much does the {} change without the {} accounts with most engagement?"

MEASURES = {m.id: m for m in [
    Measure("followers_share_zero", "What share of the accounts had no followers?", _DESCRIPTIVES, (2,)),
    Measure("followers_share_under_10", "What share of the accounts had fewer than 10 followers?", _DESCRIPTIVES,
            (2,)),
    Measure("followers_median", "What was the median follower count of an account?", _DESCRIPTIVES, (2,)),
    Measure("followers_per_account_mean", "How many followers did an account have on average (summed followers / "
            "accounts, as the published totals define it)?", _REFERENCE, (2,)),
    Measure("reference_percentile_followers_per_account", "What share of the reference campaigns had fewer "
            "followers per account than this one?", _REFERENCE, (2,)),
    Measure("engagement_per_tweet_mean", "How much engagement (likes + retweets + replies + quotes) did an "
            "original tweet get on average?", _DESCRIPTIVES, (3,)),
    Measure("engagement_per_tweet_row_mean", "How much engagement did a tweet row get on average (the four counts "
            "summed over all tweet rows, retweets included, / tweet rows, as the published totals define it)?",
            _REFERENCE, (3,)),
    Measure("reference_percentile_engagement_per_tweet_row", "What share of the reference campaigns had less "
            "engagement per tweet row than this one?", _REFERENCE, (3,)),
    Measure("baseline_engagement_ratio", "How much engagement per original tweet did the campaign's accounts get "
            "relative to baseline accounts with the same follower count?", _BASELINE, (3,)),
    Measure("likes_per_tweet_mean", "How many likes did an original tweet get on average?", _DESCRIPTIVES),
    Measure("retweets_per_tweet_mean", "How many retweets did an original tweet get on average?", _DESCRIPTIVES),
    Measure("replies_per_tweet_mean", "How many replies did an original tweet get on average?", _DESCRIPTIVES),
    Measure("quotes_per_tweet_mean", "How many quotes did an original tweet get on average?", _DESCRIPTIVES),
    Measure("engagement_per_tweet_mean_without_top1pct", _WITHOUT.format("engagement per original tweet",
                                                                        "1% of"), _DESCRIPTIVES),
    Measure("engagement_per_tweet_mean_without_top10", _WITHOUT.format("engagement per original tweet", "10"),
            _DESCRIPTIVES),
    Measure("engagement_share_zero_tweets", "What share of original tweets got no engagement at all?",
            _DESCRIPTIVES, (3,)),
    Measure("engagement_share_zero_accounts", "What share of the accounts that posted got no engagement on any "
            "tweet?", _DESCRIPTIVES),
    Measure("gini_engagement_accounts", "How unequally was engagement spread across accounts?", _DESCRIPTIVES),
    Measure("top1pct_accounts_engagement_share", "What share of all engagement went to the top 1% of accounts?",
            _DESCRIPTIVES),
    Measure("top1pct_tweets_engagement_share", "What share of all engagement went to the top 1% of tweets?",
            _DESCRIPTIVES),
    Measure("spearman_followers_engagement", "Did accounts with more followers get more engagement per tweet "
            "(rank association)?", _DESCRIPTIVES, (4,)),
    Measure("kendall_followers_engagement", "Did accounts with more followers get more engagement per tweet "
            "(rank association)?", _DESCRIPTIVES),
    Measure("elasticity_nb_account", _ELASTICITY, _MODELS, (4,)),
    Measure("elasticity_ppml_account", _ELASTICITY, _MODELS, (4,)),
    Measure("elasticity_nb_tweet_clustered", _ELASTICITY, _MODELS, (4,)),
    Measure("elasticity_ppml_minus_nb", "Is the log-linear mean misspecified (do PPML and the negative binomial, "
            "both consistent when it is right, estimate different elasticities)?", _MODELS, (4,)),
    Measure("elasticity_nb_account_without_top1pct", _WITHOUT.format("elasticity", "1% of"), _MODELS, (4,)),
    Measure("elasticity_nb_account_without_top10", _WITHOUT.format("elasticity", "10"), _MODELS, (4,)),
    Measure("hurdle_any_logit_followers", "Do accounts with more followers get any engagement more often?",
            _MODELS),
    Measure("hurdle_positive_nb_followers", "When a tweet gets engagement, does it get more with more followers?",
            _MODELS),
    Measure("overdispersion_test", "Is engagement overdispersed relative to a Poisson model?", _MODELS),
    Measure("quantreg_median_followers", "Does the median engagement per tweet rise with follower count?",
            _MODELS),
    Measure("quantreg_p90_followers", "Does the 90th-percentile engagement per tweet rise with follower count?",
            _MODELS),
    Measure("in_network_retweet_share", "What share of the accounts' retweets were retweets of tweets by "
            "accounts in the same takedown?", _AMPLIFICATION, (5,)),
    Measure("retweet_to_like_ratio", "How many retweets did an original tweet get per like?", _AMPLIFICATION),
    Measure("share_tweets_over_5_retweets_per_like", "What share of original tweets got more than 5 retweets "
            "per like?", _AMPLIFICATION, (5,)),
    Measure("lifespan_median_days", "How long did an account live, from creation to its last tweet (median)?",
            _LIFESPAN, (1,)),
    Measure("share_accounts_lifespan_under_90_days", "What share of the accounts stopped tweeting within 90 "
            "days of creation?", _LIFESPAN, (1,)),
    Measure("tweets_share_chinese", "What share of the tweets was in Chinese?", _CONTENT, (6,)),
    Measure("tweets_share_english", "What share of the tweets was in English?", _CONTENT),
    Measure("hong_kong_share_tweets", "What share of the tweets was about Hong Kong?", _CONTENT, (7,)),
    Measure("hong_kong_hashtag_share_tweets", "What share of the tweets carried a Hong Kong hashtag?", _CONTENT),
    Measure("us_politics_republican_share", "What share of the tweets named Trump or the Republicans?", _CONTENT,
            (8,)),
    Measure("us_politics_democrat_share", "What share of the tweets named Biden or the Democrats?", _CONTENT,
            (8,)),
    Measure("us_politics_republican_minus_democrat_share", "Did the accounts name Trump and the Republicans more "
            "often than Biden and the Democrats?", _CONTENT, (8,)),
    Measure("coordinated_accounts_share", "What share of the accounts acted in concert with another (same retweet, "
            f"text, link, reply or hashtags {_SAME_MINUTE})?", _COORDINATION, (5,)),
    Measure("coordinated_accounts_share_chance", "What share of the accounts would chance alone put in such a pair, "
            "with their activity kept and their synchrony broken?", _COORDINATION, (5,)),
    Measure("coordinated_accounts_share_above_chance", "By how much did the share of accounts acting in concert "
            "exceed chance?", _COORDINATION, (5,)),
    Measure("co_retweet_accounts_share", f"What share of the accounts retweeted the same tweets as another "
            f"{_SAME_MINUTE}?", _COORDINATION, (5,)),
    Measure("co_tweet_accounts_share", f"What share of the accounts posted the same text as another {_SAME_MINUTE}?",
            _COORDINATION, (5,)),
    Measure("co_link_accounts_share", f"What share of the accounts shared the same link as another {_SAME_MINUTE}?",
            _COORDINATION, (5,)),
    Measure("co_reply_accounts_share", f"What share of the accounts replied to the same tweet as another "
            f"{_SAME_MINUTE}?", _COORDINATION, (5,)),
    Measure("co_hashtag_accounts_share", f"What share of the accounts used the same set of hashtags as another "
            f"{_SAME_MINUTE}?", _COORDINATION, (5,)),
    Measure("coordination_largest_group_share", "What share of the accounts fell in the largest group of "
            "accounts tied by coordination?", _COORDINATION, (5,)),
]}


def measure(test_id: str) -> Measure:
    try:
        return MEASURES[test_id]
    except KeyError:
        raise TractionError(f"result id {test_id!r} is not in the results contract (helpers.results.MEASURES)") \
            from None


def entry(test_id, method, estimate=None, ci=(None, None), *, n=None, p_value=None, converged=True,
          warnings=()) -> dict:
    """One test entry of the contract; its question comes from the registry (``p_holm`` is filled by ``build``)."""
    return {"id": test_id, "question": measure(test_id).question, "method": method, "estimate": estimate,
            "ci_low": ci[0], "ci_high": ci[1], "p_value": p_value, "p_holm": None, "n": n,
            "converged": converged, "warnings": list(warnings)}


def fragile(entry) -> bool:
    """Whether an entry is marked fragile (a warning starting with ``FRAGILE``)."""
    return any(str(warning).startswith(FRAGILE) for warning in entry.get("warnings") or ())


def skipped(test_id, method, reason) -> dict:
    """An entry that could not be computed on this data: no numbers, and the reason."""
    return entry(test_id, method, converged=False, warnings=[f"skipped: {reason}"])


def markdown_table() -> str:
    """The registry as a Markdown table (the README's table of ids is this, checked by a test)."""
    paths = [m.module.split(".") for m in MEASURES.values()]
    common = next(i for i in range(len(paths[0])) if len({tuple(p[:i + 1]) for p in paths}) > 1)
    folder = "/".join(paths[0][:common])
    lines = [f"| id | computed in `src/{folder}/` | claims |", "|---|---|---|"]
    for m, path in zip(MEASURES.values(), paths):
        claims = ", ".join(str(c) for c in m.claims) or "–"
        lines.append(f"| `{m.id}` | `{'/'.join(path[common:])}.py` | {claims} |")
    return "\n".join(lines)


def build(dataset: dict, tests: list[dict], descriptives: dict) -> dict:
    """The results document: entries checked, Holm-adjusted p-values, JSON-ready values."""
    seen = set()
    for test in tests:
        if set(test) != set(ENTRY_KEYS):
            extra, missing = set(test) - set(ENTRY_KEYS), set(ENTRY_KEYS) - set(test)
            raise TractionError(f"test entry {test.get('id')!r}: keys differ from the results contract "
                                f"(missing {sorted(missing)}, unexpected {sorted(extra)})")
        measure(test["id"])
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
              if test["converged"] and _finite(test["p_value"]) and test["id"] in HOLM_FAMILY]
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


TIDY_COLUMNS = ["id", "estimate", "ci_low", "ci_high", "p_value", "p_holm", "n", "converged", "warnings"]


def tidy_frame(results: dict) -> pd.DataFrame:
    """One row per measure, numbers as numbers (a missing one as NaN) and warnings as one string: for sorting,
    filtering and joining."""
    frame = tests_frame(results)[TIDY_COLUMNS]
    for column in ["estimate", "ci_low", "ci_high", "p_value", "p_holm", "n"]:
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    frame["converged"] = frame["converged"].astype(bool)
    frame["warnings"] = frame["warnings"].map(lambda notes: "; ".join(map(str, notes or [])))
    return frame


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


if __name__ == "__main__":  # python -m helpers.results: the README's table of ids
    print(markdown_table())
