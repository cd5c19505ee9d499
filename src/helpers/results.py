"""The results contract: what notebook 02 writes to results.json, and the registry of every result id.

``{"dataset": {...}, "tests": [entry, ...], "descriptives": {name: table, ...}}``.
Each test entry has exactly ENTRY_KEYS. ``MEASURES`` is the registry: for
every id, the question it answers, the module that computes it, its label and
unit, its reference and baseline pairings and how a claim reads it;
``FAMILIES`` adds the ids a statement names with a parameter (a follower line,
a language, a topic). An entry's question comes from here, so it cannot drift
from the documentation, and the report reads labels and pairings from here,
never repeating them. Numbers are
rounded to ``SIGNIFICANT_DIGITS`` significant digits, NaN and infinities become
None, tables become lists of records, keys are sorted and nothing records the
time, so the same input and seed give the same bytes.
"""

import datetime
import json
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from statsmodels.stats.multitest import multipletests

from helpers.errors import TractionError

ENTRY_KEYS = ("id", "question", "method", "estimate", "ci_low", "ci_high", "p_value", "p_holm",
              "n", "converged", "warnings")
SIGNIFICANT_DIGITS = 6
# A frame warning starting with this says that tweets files were read but every row was rejected (not a users
# file alone): the report says exactly that.
ALL_TWEETS_REJECTED = "no tweets loaded: every tweet row read was rejected"
# A warning starting with this marks an entry whose interval the validation battery could not
# vouch for (a few high-leverage accounts carry it): no verdict may rest on it alone.
FRAGILE = "fragile:"
# A warning starting with this on an elasticity says its log-linear curve does not fit (the shape check in
# helpers.stats.models): the verdict rests on the measure's corroboration, the report on the follower bands.
MISSPECIFIED = "misspecified:"
# A warning starting with this says the accounts appear not to be independent: the elasticity's interval clustered
# by one of CLUSTERED_BY's units is materially wider than the account-level one, or its residuals are correlated
# within those units. It ends by saying which interval the entry reports: the widest, clustered_reported(unit), or
# the account-level one (CLUSTERED_KEPT).
CLUSTERED = "clustered:"
# What the accounts appear to do when the interval clustered by each unit fires.
CLUSTERED_BY = {"creation week": "come in batches (made in the same weeks, engagement shared within a week)",
                "creation day": "come in batches (made on the same days, engagement shared within a day)",
                "coordination group": "act in coordinated groups (tied by the coordination measure, engagement "
                                      "shared within a group)"}
CLUSTERED_KEPT = "the account-level interval is kept: no clustered one is wider"


def clustered_reported(unit) -> str:
    return f"the interval clustered by {unit} is reported"


@dataclass(frozen=True)
class Measure:
    """One result id of the contract: what it answers, where it is computed, and how a claim reads it.

    ``label`` names the number in prose, ``unit`` says what it counts (``SHARE_UNITS`` print as percentages);
    ``reference`` pairs it with the reference set (the set's column and the percentile entry), ``baseline``
    with the baseline comparison (the ratio entry, judged against 1). For a claim's verdict: ``fallbacks``
    stand in, in order, when the measure could not be estimated; ``corroboration`` must agree when its
    interval is fragile, and when ``check`` (an interval that should hold 0) or the entry's ``MISSPECIFIED``
    mark shows the measure's model misspecified; with ``corroborate_always``, for every confident verdict on a
    line of 0. ``exact``: a census count with no sampling error. ``holm``: a claim's
    primary test whose p-value enters the Holm family.
    """

    id: str
    question: str
    module: str
    label: str
    unit: str = "share"
    reference: tuple = ()  # (reference-set column, percentile id)
    baseline: str = ""
    fallbacks: tuple = ()
    corroboration: str = ""
    corroborate_always: bool = False
    check: str = ""
    exact: bool = False
    holm: bool = False

    @property
    def is_share(self) -> bool:
        return self.unit in SHARE_UNITS


SHARE_UNITS = ("share", "share of campaigns")
_DESCRIPTIVES, _AMPLIFICATION = "helpers.stats.descriptives", "helpers.stats.amplification"
_LIFESPAN, _MODELS, _CONTENT = "helpers.stats.lifespan", "helpers.stats.models", "helpers.stats.content"
_REFERENCE, _BASELINE = "helpers.stats.reference", "helpers.stats.baseline"
_ELASTICITY = "How does engagement per original tweet scale with follower count?"
_ELASTICITY_LABEL = "elasticity of engagement with respect to (1 + followers), "
_COORDINATION = "helpers.stats.coordination"
_SAME_MINUTE = "within a minute, on at least two distinct items"
_WITHOUT = "How much does the {} change without the {} accounts with most engagement?"
# Claim 4's primary estimator, named before seeing any data (helpers.stats.models); the others stand in, in
# this order, only when it failed.
# The four engagement counts and the entry of each per original tweet (descriptives computes them; the report
# says which of them the data has).
ENGAGEMENT_COMPONENTS = {"likes": "likes_per_tweet_mean", "retweets": "retweets_per_tweet_mean",
                         "replies": "replies_per_tweet_mean", "quotes": "quotes_per_tweet_mean"}
# The rank correlation must agree for any confident verdict on a line of 0 (corroborate_always), chosen on seeds
# 1-30 of validation/reduced.py claim4: over nine no-association cells 9 of 270 confident verdicts against 20 of
# 270 when it vetoed only a doubtful interval, and 180 of 180 supported either way with an association.
_ELASTICITY_READING = dict(unit="elasticity", corroboration="spearman_followers_engagement_within_tweet_strata",
                           corroborate_always=True, check="elasticity_ppml_minus_nb")

MEASURES = {m.id: m for m in [
    Measure("accounts", "How many accounts does the release hold (rows of its users file)?", _DESCRIPTIVES,
            "accounts", "count", exact=True),
    Measure("accounts_with_tweets", "How many accounts have at least one tweet row?", _DESCRIPTIVES,
            "accounts with at least one tweet row", "count", exact=True),
    Measure("tweets", "How many tweet rows does the release hold (retweets included)?", _DESCRIPTIVES,
            "tweet rows", "count", exact=True),
    Measure("accounts_followers_zero", "How many accounts had no followers?", _DESCRIPTIVES,
            "accounts with no followers", "count", exact=True),
    Measure("followers_share_zero", "What share of the accounts had no followers?", _DESCRIPTIVES,
            "share of accounts with no followers"),
    Measure("followers_share_under_10", "What share of the accounts had fewer than 10 followers?", _DESCRIPTIVES,
            "share of accounts with fewer than 10 followers"),
    Measure("followers_median", "What was the median follower count of an account?", _DESCRIPTIVES,
            "median follower count", "followers"),
    Measure("followers_per_account_mean", "How many followers did an account have on average (summed followers / "
            "accounts, as the published totals define it)?", _REFERENCE, "followers per account", "followers",
            reference=("followers_per_account", "reference_percentile_followers_per_account")),
    Measure("reference_percentile_followers_per_account", "What share of the reference campaigns had fewer "
            "followers per account than this one?", _REFERENCE, "share of reference campaigns with fewer followers "
            "per account", "share of campaigns"),
    Measure("engagement_per_tweet_mean", "How much engagement (likes + retweets + replies + quotes) did an "
            "original tweet get on average?", _DESCRIPTIVES, "engagements per original tweet", "engagements",
            baseline="baseline_engagement_ratio"),
    Measure("engagement_per_tweet_row_mean", "How much engagement did a tweet row get on average (the four counts "
            "summed over all tweet rows, retweets included, / tweet rows, as the published totals define it)?",
            _REFERENCE, "engagements per tweet row", "engagements",
            reference=("engagement_per_tweet_row", "reference_percentile_engagement_per_tweet_row")),
    Measure("reference_percentile_engagement_per_tweet_row", "What share of the reference campaigns had less "
            "engagement per tweet row than this one?", _REFERENCE, "share of reference campaigns with less "
            "engagement per tweet row", "share of campaigns"),
    Measure("engagement_per_account_mean", "How much engagement did an account get on average (the four counts "
            "summed over all tweet rows / all accounts)?", _DESCRIPTIVES, "engagements per account", "engagements"),
    Measure("engagement_per_account_with_tweets_mean", "How much engagement did an account that tweeted get on "
            "average (the four counts summed over all tweet rows / accounts with a tweet row)?", _DESCRIPTIVES,
            "engagements per account with a tweet row", "engagements"),
    Measure("baseline_engagement_ratio", "How much engagement per original tweet did the campaign's accounts get "
            "relative to baseline accounts with the same follower count?", _BASELINE,
            "engagement per original tweet relative to baseline accounts of the same follower count", "ratio",
            holm=True),
    Measure("likes_per_tweet_mean", "How many likes did an original tweet get on average?", _DESCRIPTIVES,
            "likes per original tweet", "likes"),
    Measure("retweets_per_tweet_mean", "How many retweets did an original tweet get on average?", _DESCRIPTIVES,
            "retweets per original tweet", "retweets"),
    Measure("replies_per_tweet_mean", "How many replies did an original tweet get on average?", _DESCRIPTIVES,
            "replies per original tweet", "replies"),
    Measure("quotes_per_tweet_mean", "How many quotes did an original tweet get on average?", _DESCRIPTIVES,
            "quotes per original tweet", "quotes"),
    Measure("engagement_per_tweet_mean_without_top1pct", _WITHOUT.format("engagement per original tweet",
            "1% of"), _DESCRIPTIVES, "engagements per original tweet without the top 1% of accounts", "engagements"),
    Measure("engagement_per_tweet_mean_without_top10", _WITHOUT.format("engagement per original tweet", "10"),
            _DESCRIPTIVES, "engagements per original tweet without the top 10 accounts", "engagements"),
    Measure("engagement_share_zero_tweets", "What share of original tweets got no engagement at all?",
            _DESCRIPTIVES, "share of original tweets with no engagement"),
    Measure("engagement_share_zero_accounts", "What share of the accounts that posted got no engagement on any "
            "tweet?", _DESCRIPTIVES, "share of posting accounts with no engagement"),
    Measure("gini_engagement_accounts", "How unequally was engagement spread across accounts?", _DESCRIPTIVES,
            "Gini coefficient of engagement across accounts", "index"),
    Measure("top1pct_accounts_engagement_share", "What share of all engagement went to the top 1% of accounts?",
            _DESCRIPTIVES, "share of engagement won by the top 1% of accounts"),
    Measure("top1pct_tweets_engagement_share", "What share of all engagement went to the top 1% of tweets?",
            _DESCRIPTIVES, "share of engagement won by the top 1% of tweets"),
    Measure("spearman_followers_engagement", "Did accounts with more followers get more engagement per tweet "
            "(rank association)?", _DESCRIPTIVES, "rank correlation (Spearman) of followers with engagement per "
            "tweet", "correlation"),
    Measure("spearman_followers_engagement_within_tweet_strata", "Did accounts with more followers get more "
            "engagement per tweet than accounts with as many tweets (rank association at equal exposure)?",
            _DESCRIPTIVES, "rank correlation (Spearman) of followers with engagement per tweet among accounts with "
            "similar tweet counts", "correlation", holm=True),
    Measure("kendall_followers_engagement", "Did accounts with more followers get more engagement per tweet "
            "(rank association)?", _DESCRIPTIVES, "rank correlation (Kendall) of followers with engagement per "
            "tweet", "correlation"),
    Measure("elasticity_nb_account", _ELASTICITY, _MODELS, _ELASTICITY_LABEL + "account-level negative binomial",
            fallbacks=("elasticity_ppml_account", "elasticity_nb_tweet_clustered"), holm=True, **_ELASTICITY_READING),
    Measure("elasticity_ppml_account", _ELASTICITY, _MODELS, _ELASTICITY_LABEL + "account-level Poisson quasi-ML",
            **_ELASTICITY_READING),
    Measure("elasticity_nb_tweet_clustered", _ELASTICITY, _MODELS, _ELASTICITY_LABEL + "tweet-level negative "
            "binomial, errors clustered by account", **_ELASTICITY_READING),
    Measure("elasticity_ppml_minus_nb", "Is the log-linear mean misspecified (do PPML and the negative binomial, "
            "both consistent when it is right, estimate different elasticities)?", _MODELS,
            "Poisson quasi-ML minus negative binomial elasticity", "elasticity"),
    Measure("elasticity_nb_account_without_top1pct", _WITHOUT.format("elasticity", "1% of"), _MODELS,
            "elasticity without the top 1% of accounts by engagement", "elasticity"),
    Measure("elasticity_nb_account_without_top10", _WITHOUT.format("elasticity", "10"), _MODELS,
            "elasticity without the top 10 accounts by engagement", "elasticity"),
    Measure("hurdle_any_logit_followers", "Do accounts with more followers get any engagement more often?",
            _MODELS, "hurdle: log-odds of any engagement per unit of log(1 + followers)", "coefficient"),
    Measure("hurdle_positive_nb_followers", "When a tweet gets engagement, does it get more with more followers?",
            _MODELS, "hurdle: elasticity of positive engagement", "elasticity"),
    Measure("overdispersion_test", "Is engagement overdispersed relative to a Poisson model?", _MODELS,
            "overdispersion of engagement", "coefficient"),
    Measure("quantreg_median_followers", "Does the median engagement per tweet rise with follower count?",
            _MODELS, "median regression slope on log(1 + followers)", "coefficient"),
    Measure("quantreg_p90_followers", "Does the 90th-percentile engagement per tweet rise with follower count?",
            _MODELS, "90th-percentile regression slope on log(1 + followers)", "coefficient"),
    Measure("in_network_retweet_share", "What share of the accounts' retweets were retweets of tweets by "
            "accounts in the same takedown?", _AMPLIFICATION, "share of retweet rows retweeting the network itself"),
    Measure("retweet_to_like_ratio", "How many retweets did an original tweet get per like?", _AMPLIFICATION,
            "retweets per like", "ratio"),
    Measure("share_tweets_over_5_retweets_per_like", "What share of original tweets got more than 5 retweets "
            "per like?", _AMPLIFICATION, "share of original tweets with more than 5 retweets per like"),
    Measure("lifespan_median_days", "How long did an account live, from creation to its last tweet (median)?",
            _LIFESPAN, "median days from an account's creation to its last tweet", "days"),
    Measure("share_accounts_lifespan_under_90_days", "What share of the accounts stopped tweeting within 90 "
            "days of creation?", _LIFESPAN, "share of accounts that stopped tweeting within 90 days of creation"),
    Measure("coordinated_accounts_share", "What share of the accounts acted in concert with another (same retweet, "
            f"text, link, reply or hashtags {_SAME_MINUTE})?", _COORDINATION, "share of accounts that shared at "
            "least two items (the same retweet, text, link, reply target or hashtags) with another within a minute"),
    Measure("coordinated_accounts_share_chance", "What share of the accounts would chance alone put in such a pair, "
            "with their activity kept and their synchrony broken?", _COORDINATION, "share that chance alone gives, "
            "each account's timeline shifted at random (interval: 95% of draws)"),
    Measure("coordinated_accounts_share_above_chance", "By how much did the share of accounts acting in concert "
            "exceed chance?", _COORDINATION, "share of accounts acting in concert beyond chance", holm=True),
    Measure("co_retweet_accounts_share", f"What share of the accounts retweeted the same tweets as another "
            f"{_SAME_MINUTE}?", _COORDINATION, "share of accounts tied by the same retweet"),
    Measure("co_tweet_accounts_share", f"What share of the accounts posted the same text as another {_SAME_MINUTE}?",
            _COORDINATION, "share of accounts tied by the same text"),
    Measure("co_link_accounts_share", f"What share of the accounts shared the same link as another {_SAME_MINUTE}?",
            _COORDINATION, "share of accounts tied by the same link"),
    Measure("co_reply_accounts_share", f"What share of the accounts replied to the same tweet as another "
            f"{_SAME_MINUTE}?", _COORDINATION, "share of accounts tied by the same reply target"),
    Measure("co_hashtag_accounts_share", f"What share of the accounts used the same set of hashtags as another "
            f"{_SAME_MINUTE}?", _COORDINATION, "share of accounts tied by the same hashtags"),
    Measure("coordination_largest_group_share", "What share of the accounts fell in the largest group of "
            "accounts tied by coordination?", _COORDINATION, "share of accounts in the largest coordinated group"),
]}


@dataclass(frozen=True)
class Family:
    """Measures named by a parameter (a follower line, a language, a topic, a month, a day): ``form`` is the id
    as users write it, ``pattern`` parses it, ``make`` builds the measure from its parts."""

    form: str
    pattern: str
    question: str
    module: str
    make: object  # parts -> (question, label)
    holm: bool = False

    def measure(self, test_id: str, parts: dict) -> Measure:
        question, label = self.make(**parts)
        return Measure(test_id, question, self.module, label, holm=self.holm)


FAMILIES = [
    Family("followers_share_under_{N}", r"followers_share_under_(?P<n>[1-9][0-9]{0,9})",
           "What share of the accounts had fewer than N followers?", _DESCRIPTIVES,
           lambda n: (f"What share of the accounts had fewer than {n} followers?",
                      f"share of accounts with fewer than {n} followers")),
    Family("language_{CODE}_share_tweets", r"language_(?P<code>[a-z]{2,3})_share_tweets",
           "What share of the tweet rows was in language CODE (Twitter's detection: CODE or CODE-*)?", _CONTENT,
           lambda code: (f"What share of the tweet rows was in the language '{code}'?",
                         f"share of tweet rows in the language '{code}'")),
    Family("topic_{A}_minus_{B}_share_tweets", r"topic_(?P<a>[a-z0-9_]+?)_minus_(?P<b>[a-z0-9_]+)_share_tweets",
           "By how much did the share of tweet rows on topic A exceed the share on topic B?", _CONTENT,
           lambda a, b: (f"Did more tweet rows match the topic '{a}' than the topic '{b}'?",
                         f"share of tweet rows on '{a}' minus the share on '{b}'"), holm=True),
    Family("topic_{NAME}_share_tweets", r"topic_(?P<name>[a-z0-9_]+)_share_tweets",
           "What share of the tweet rows matched topic NAME (a keyword of the statement's [topics.NAME] in the "
           "text or hashtags, case-insensitively)?", _CONTENT,
           lambda name: (f"What share of the tweet rows was on the topic '{name}'?",
                         f"share of tweet rows on the topic '{name}'")),
    Family("accounts_created_share_{YYYY}_{MM}", r"accounts_created_share_(?P<year>[0-9]{4})_(?P<month>0[1-9]|1[0-2])",
           "What share of the accounts was created in the month YYYY-MM (UTC)?", _LIFESPAN,
           lambda year, month: (f"What share of the accounts was created in {year}-{month}?",
                                f"share of accounts created in {year}-{month}")),
    Family("tweets_share_from_{YYYY}_{MM}_{DD}",
           r"tweets_share_from_(?P<year>[0-9]{4})_(?P<month>0[1-9]|1[0-2])_(?P<day>0[1-9]|[12][0-9]|3[01])",
           "What share of the tweet rows was posted on or after the day YYYY-MM-DD (UTC)?", _LIFESPAN,
           lambda year, month, day: (f"What share of the tweet rows was posted on or after {year}-{month}-{day}?",
                                     f"share of tweet rows posted on or after {year}-{month}-{day}")),
]


def measure(test_id: str) -> Measure:
    """The registered measure, or the one a family makes of a parameterised id."""
    if test_id in MEASURES:
        return MEASURES[test_id]
    form, parts = family_parts(test_id)
    if form and "day" in parts:
        try:
            datetime.date(int(parts["year"]), int(parts["month"]), int(parts["day"]))
        except ValueError:
            raise TractionError(f"result id {test_id!r}: {parts['year']}-{parts['month']}-{parts['day']} is not a "
                                "day of the calendar") from None
    if form:
        return next(f for f in FAMILIES if f.form == form).measure(test_id, parts)
    raise TractionError(f"result id {test_id!r} is not in the results contract (helpers.results.MEASURES or a form "
                        "of helpers.results.FAMILIES; `traction measures` lists them)")


def family_id(form: str, **parts) -> str:
    """A parameterised id from its family's form: family_id("language_{CODE}_share_tweets", CODE="zh")."""
    if form not in {family.form for family in FAMILIES}:
        raise TractionError(f"no family of result ids has the form {form!r}")
    return form.format(**parts)


def family_parts(test_id) -> tuple[str, dict]:
    """(the family's form, the id's parts) of a parameterised id; ("", {}) for any other."""
    for family in FAMILIES:
        found = re.fullmatch(family.pattern, str(test_id))
        if found:
            return family.form, found.groupdict()
    return "", {}


def listing() -> str:
    """Every measure a claim can name, with its unit and question (``traction measures``)."""
    lines = ["Measures a claim can name (measure = \"ID\"); units marked * print as percentages.", ""]
    lines += [f"{m.id}  [{m.unit}{'*' if m.is_share else ''}{', exact count' if m.exact else ''}"
              f"{', reference pairing' if m.reference else ''}{', baseline pairing' if m.baseline else ''}]\n"
              f"    {m.question}" for m in MEASURES.values()]
    lines += ["", "Parameterised: write the parameter into the id (topics are declared in the file's [topics.NAME])."]
    lines += [f"{f.form}  [share*]\n    {f.question}" for f in FAMILIES]
    return "\n".join(lines)


def reference_quantile(values, q: float) -> float:
    """Inverted-CDF quantile (an observed value) of the reference values: a reference claim's dividing line."""
    return float(np.quantile(np.asarray(values, float), q, method="inverted_cdf"))


def entry(test_id, method, estimate=None, ci=(None, None), *, n=None, p_value=None, converged=True,
          warnings=()) -> dict:
    """One test entry of the contract; its question comes from the registry (``p_holm`` is filled by ``build``)."""
    return {"id": test_id, "question": measure(test_id).question, "method": method, "estimate": estimate,
            "ci_low": ci[0], "ci_high": ci[1], "p_value": p_value, "p_holm": None, "n": n,
            "converged": converged, "warnings": list(warnings)}


def fragile(entry) -> bool:
    """Whether an entry is marked fragile (a warning starting with ``FRAGILE``)."""
    return any(str(warning).startswith(FRAGILE) for warning in entry.get("warnings") or ())


def misspecified(entry) -> str:
    """The entry's warning starting with ``MISSPECIFIED`` (its curve does not fit), or ""."""
    return next((str(w) for w in entry.get("warnings") or () if str(w).startswith(MISSPECIFIED)), "")


def clustered(entry) -> tuple[str, str]:
    """(the unit whose clustering fired, the unit whose interval the entry reports): CLUSTERED_BY keys, "" for the
    account-level interval; ("", "") when the entry has no ``CLUSTERED`` warning."""
    warning = next((str(w) for w in entry.get("warnings") or () if str(w).startswith(CLUSTERED)), "")
    fired = next((by for by, appear in CLUSTERED_BY.items() if warning.startswith(f"{CLUSTERED} the accounts "
                                                                                   f"appear to {appear}:")), "")
    return fired, next((by for by in CLUSTERED_BY if warning.endswith(clustered_reported(by))), "")


def skipped(test_id, method, reason) -> dict:
    """An entry that could not be computed on this data: no numbers, and the reason."""
    return entry(test_id, method, converged=False, warnings=[f"skipped: {reason}"])


def markdown_table() -> str:
    """The registry as a Markdown table (docs/results.md's table of ids is this, checked by a test)."""
    def where(module):
        return "`" + module.removeprefix("helpers.stats.") + ".py`"
    lines = ["| id | computed in `src/helpers/stats/` | unit | label |", "|---|---|---|---|"]
    lines += [f"| `{m.id}` | {where(m.module)} | {m.unit} | {m.label} |" for m in MEASURES.values()]
    lines += [f"| `{f.form}` | {where(f.module)} | share | {f.question} |" for f in FAMILIES]
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
              if test["converged"] and _finite(test["p_value"]) and measure(test["id"]).holm]
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
