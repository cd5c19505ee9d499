"""The narrative: each claim of the disclosure, its verdicts, and the numbers behind them.

Verdicts are read off ``results.json`` with thresholds the reader can change
(``Thresholds``), by one rule (``_side``): *supported* when the whole 95%
interval lies on the claim's side of the line, *contradicted* when it lies
entirely on the other side, *inconclusive* when it straddles the line, and
*not testable* when the released data cannot speak to it (or a model failed).
A claim may be judged against more than one line, each answering its own
question: "low followers" and "low engagement" against a fixed threshold, the
reference set of real campaigns and, when given, baseline accounts; each is
one row (``Claim``) sharing the claim's number. Every number in the prose is
formatted here from the results, never typed.
"""

from dataclasses import asdict, dataclass, field
from html import escape

import pandas as pd

from helpers.frames import ALL_TWEETS_REJECTED, RETWEET_HEAVY_RATIO
from helpers.results import fragile
from helpers.stats.lifespan import EARLY_DAYS
from helpers.stats.reference import reference_quantile

SUPPORTED, CONTRADICTED, INCONCLUSIVE, NOT_TESTABLE = "supported", "contradicted", "inconclusive", "not testable"
THRESHOLD, REFERENCE, BASELINE = "threshold", "reference set", "baseline accounts"
VERDICTS = {
    SUPPORTED: "the whole 95% interval lies on the claim's side of the line",
    CONTRADICTED: "the whole 95% interval lies on the other side of the line: the data say the opposite",
    INCONCLUSIVE: "the 95% interval straddles the line: the data cannot decide either way",
    NOT_TESTABLE: "the released data cannot answer the question, or the model that would did not converge",
}

CAVEAT_FOLLOWERS = "Follower counts were measured when the accounts were suspended, not when they tweeted."
CAVEAT_ENGAGEMENT = ("Engagement counts exclude likes and retweets by accounts Twitter had suspended or deleted "
                     "by the release, so the amplifiers' engagement is probably missing: the counts are lower bounds.")
CAVEAT_HASHING = "Accounts under 5,000 followers have hashed ids, so they cannot be looked up or linked to other data."


MODEL_LABELS = {
    "elasticity_nb_account": "account-level negative binomial",
    "elasticity_ppml_account": "account-level Poisson quasi-ML",
    "elasticity_nb_tweet_clustered": "tweet-level negative binomial, errors clustered by account",
}


@dataclass(frozen=True)
class Thresholds:
    """What turns a number into a verdict. Each is stated in the report's text."""

    early_lifespan_days: float = 90.0  # median days from creation to last tweet
    low_followers_share: float = 0.5  # share of accounts under 10 followers
    low_engagement_per_tweet: float = 1.0  # mean engagements per original tweet
    predominant_share: float = 0.5  # share of tweets in Chinese
    narrative_share: float = 0.10  # share of tweets on Hong Kong
    reference_quantile: float = 0.5  # 'low compared with other campaigns': fewer than this share of them lower
    published_tolerance: float = 0.05  # our totals agree with the published ones within this relative difference
    coordinated_excess_share: float = 0.01  # share of accounts acting in concert beyond chance


@dataclass
class Claim:
    """One verdict on a claim: against which line (``question``), with the evidence read from the results."""

    number: int
    claim: str
    source: str
    verdict: str
    evidence: str
    caveat: str = ""
    test_ids: list = field(default_factory=list)
    question: str = ""
    against: str = THRESHOLD  # which kind of line: THRESHOLD, REFERENCE or BASELINE


def pct(value):
    return "n/a" if value is None else f"{100 * value:.1f}%"


def num(value, digits=2):
    """Whole numbers as such; others with two decimals, or three significant digits when smaller."""
    if value is None:
        return "n/a"
    if float(value).is_integer():
        return f"{int(value):,}"
    if abs(value) < 0.1:
        return f"{value:.3g}"
    return f"{value:.{digits}f}"


def interval(entry, fmt=pct):
    return f"{fmt(entry['estimate'])} (95% CI {fmt(entry['ci_low'])} to {fmt(entry['ci_high'])})"


def _usable(entry):
    return entry is not None and entry.get("converged") and entry.get("estimate") is not None


def _side(entry, threshold, above):
    """Verdict from where the interval lies relative to a threshold (the claim: above it, or below it).

    The claim's inequality is strict, so an interval ending exactly on the line is not on the claim's side.
    """
    if not _usable(entry) or entry.get("ci_low") is None or entry.get("ci_high") is None:
        return NOT_TESTABLE
    low, high = entry["ci_low"], entry["ci_high"]
    if (low > threshold) if above else (high < threshold):
        return SUPPORTED
    if (high <= threshold) if above else (low >= threshold):
        return CONTRADICTED
    return INCONCLUSIVE


def _unusable(entry, test_id, dataset=None, needs_tweets=True):
    """Why a claim cannot be tested: the data's form when it has no tweets, else the entry's own reason."""
    dataset = dataset or {}
    accounts = dataset.get("accounts")
    accounts = f"{accounts:,} accounts" if isinstance(accounts, int) else "accounts"
    if needs_tweets and any(w.startswith(ALL_TWEETS_REJECTED) for w in dataset.get("frame_warnings", [])):
        return (f"No tweet was loaded: every tweet row read was rejected (their reasons are in rejected.parquet); "
                f"{accounts} were loaded, and `{test_id}` needs tweets.")
    if needs_tweets and dataset.get("form") == "users_only":
        return f"The data is a users file only: {accounts} were loaded, with no tweets, and `{test_id}` needs tweets."
    skips = [w.removeprefix("skipped: ") for w in (entry or {}).get("warnings", []) if w.startswith("skipped: ")]
    if dataset.get("form") == "account_table" and skips:
        return (f"The data is an account-level table ({accounts}, totals per account, no tweets): `{test_id}` "
                f"was not computed ({'; '.join(skips)}).")
    if entry is None:
        return f"The results hold no `{test_id}`."
    return f"`{test_id}` could not be estimated: {'; '.join(entry.get('warnings') or ['no reason recorded'])}."


def _reference_values(results, column):
    """The rows of the reference set this campaign was compared with (itself left out), or None."""
    table = pd.DataFrame(results.get("descriptives", {}).get("reference_set") or [])
    if table.empty or column not in table:
        return None
    used = table[~table["left_out"].astype(bool)] if "left_out" in table else table
    return used


def _quantile_words(q):
    return "the median" if q == 0.5 else f"the {100 * q:g}th percentile"


def _caught_early(tests, limits, dataset=None):
    entry = tests.get("lifespan_median_days")
    question = f"Did the median account stop tweeting within {num(limits.early_lifespan_days)} days of creation?"
    if not _usable(entry):
        return Claim(1, "The accounts were largely caught early.", "Twitter", NOT_TESTABLE,
                     _unusable(entry, "lifespan_median_days", dataset), test_ids=["lifespan_median_days"],
                     question=question)
    verdict = _side(entry, limits.early_lifespan_days, above=False)
    evidence = f"The median account was active for {interval(entry, num)} days from creation to its last tweet."
    share = tests.get("share_accounts_lifespan_under_90_days")
    if _usable(share):
        evidence += f" {pct(share['estimate'])} of accounts stopped within {num(EARLY_DAYS)} days of creation."
    return Claim(1, "The accounts were largely caught early.", "Twitter", verdict, evidence,
                 "The archive gives no suspension date; the last archived tweet stands in for it.",
                 ["lifespan_median_days", "share_accounts_lifespan_under_90_days"], question)


LOW_FOLLOWERS, LOW_ENGAGEMENT = "They typically held low follower counts.", "They had low engagement."


def _low_followers(tests, limits, dataset=None):
    entry, median = tests.get("followers_share_under_10"), tests.get("followers_median")
    zero = tests.get("followers_share_zero")
    question = (f"Low by a fixed line: did more than {pct(limits.low_followers_share)} of the accounts have "
                "fewer than 10 followers?")
    if not _usable(entry):
        return Claim(2, LOW_FOLLOWERS, "Twitter", NOT_TESTABLE,
                     _unusable(entry, "followers_share_under_10", dataset, needs_tweets=False),
                     test_ids=["followers_share_under_10"], question=question)
    evidence = f"{interval(entry)} of accounts had fewer than 10 followers"
    if _usable(zero):
        evidence += f"; {pct(zero['estimate'])} had none"
    if _usable(median):
        evidence += f"; the median account had {num(median['estimate'])} followers"
    return Claim(2, LOW_FOLLOWERS, "Twitter", _side(entry, limits.low_followers_share, above=True), evidence + ".",
                 CAVEAT_FOLLOWERS, ["followers_share_under_10", "followers_share_zero", "followers_median"], question)


def _against_reference(number, claim, tests, limits, results, measure_id, percentile_id, column, unit, note=""):
    """The claim's verdict against the reference set: fewer than ``reference_quantile`` of its campaigns lower."""
    dataset = results.get("dataset", {})
    measure, percentile = tests.get(measure_id), tests.get(percentile_id)
    used = _reference_values(results, column)
    n = len(used) if used is not None else (percentile or {}).get("n")
    others = f"{n} other state-linked campaigns" if n else "other state-linked campaigns"
    question = (f"Low compared with {others} (the reference set): below {_quantile_words(limits.reference_quantile)}"
                f" of their {unit}?")
    ids = [measure_id, percentile_id]
    caveat = ("The reference figures are published totals of the archive's files (2018-2020 releases), so only "
              "means per tweet row and per account can be compared; " + note)
    if not _usable(measure):
        return Claim(number, claim, "Twitter", NOT_TESTABLE, _unusable(measure, measure_id, dataset,
                     needs_tweets=measure_id != "followers_per_account_mean"), caveat, ids, question, REFERENCE)
    if not _usable(percentile):
        return Claim(number, claim, "Twitter", NOT_TESTABLE, _unusable(percentile, percentile_id, dataset),
                     caveat, ids, question, REFERENCE)
    evidence = (f"{interval(measure, num)} {unit} here; {interval(percentile)} of the {n} reference campaigns had "
                f"fewer (the interval is that share at each end of the measure's interval).")
    if used is not None and len(used):
        line = reference_quantile(used[column], limits.reference_quantile)
        low, high = used.loc[used[column].idxmin()], used.loc[used[column].idxmax()]
        evidence += (f" Their {_quantile_words(limits.reference_quantile).removeprefix('the ')} is {num(line)}; "
                     f"they range from {num(low[column])} ({low['campaign']}) to {num(high[column])} "
                     f"({high['campaign']}).")
    left_out = [w for w in percentile.get("warnings", []) if "left out of its own comparison" in w]
    if left_out:
        evidence += " The campaign itself is in the reference set and is left out of its own comparison."
    return Claim(number, claim, "Twitter", _side(percentile, limits.reference_quantile, above=False), evidence,
                 caveat, ids, question, REFERENCE)


def _low_followers_vs_reference(tests, limits, results):
    return _against_reference(2, LOW_FOLLOWERS, tests, limits, results, "followers_per_account_mean",
                              "reference_percentile_followers_per_account", "followers_per_account",
                              "followers per account",
                              "a mean is pulled up by a few large accounts. " + CAVEAT_FOLLOWERS)


def _engagement_words(tests):
    """Which engagement counts the data has, e.g. 'likes, retweets, replies and quotes' or 'retweets only'."""
    parts = {"likes": "likes_per_tweet_mean", "retweets": "retweets_per_tweet_mean",
             "replies": "replies_per_tweet_mean", "quotes": "quotes_per_tweet_mean"}
    if not any(test_id in tests for test_id in parts.values()):
        return "likes, retweets, replies and quotes"
    present = [name for name, test_id in parts.items() if _usable(tests.get(test_id))]
    if not present:
        return "as the data's engagement total gives them"
    absent = [name for name in parts if name not in present]
    listed = ", ".join(present[:-1]) + " and " + present[-1] if len(present) > 1 else present[0]
    if not absent:
        return listed
    missing = ", ".join(absent[:-1]) + " or " + absent[-1] if len(absent) > 1 else absent[0]
    return f"{listed} only: the data has no {missing} counts"


def _low_engagement(tests, limits, dataset=None):
    entry, zero = tests.get("engagement_per_tweet_mean"), tests.get("engagement_share_zero_tweets")
    question = f"Low by a fixed line: fewer than {num(limits.low_engagement_per_tweet)} engagements per original tweet?"
    if not _usable(entry):
        return Claim(3, LOW_ENGAGEMENT, "Twitter", NOT_TESTABLE,
                     _unusable(entry, "engagement_per_tweet_mean", dataset),
                     test_ids=["engagement_per_tweet_mean"], question=question)
    evidence = (f"An original tweet drew {interval(entry, num)} engagements ({_engagement_words(tests)}) "
                "on average")
    if _usable(zero):
        evidence += f"; {pct(zero['estimate'])} of original tweets drew none"
    return Claim(3, LOW_ENGAGEMENT, "Twitter", _side(entry, limits.low_engagement_per_tweet, above=False),
                 evidence + ".", CAVEAT_ENGAGEMENT, ["engagement_per_tweet_mean", "engagement_share_zero_tweets"],
                 question)


def _low_engagement_vs_reference(tests, limits, results):
    return _against_reference(3, LOW_ENGAGEMENT, tests, limits, results, "engagement_per_tweet_row_mean",
                              "reference_percentile_engagement_per_tweet_row", "engagement_per_tweet_row",
                              "engagements per tweet row",
                              "engagement per tweet ROW counts retweet rows as the archive writes them, as the "
                              "published totals do. " + CAVEAT_ENGAGEMENT)


def _low_engagement_vs_baseline(tests, limits, results):
    """Against baseline accounts of the same follower count; None when no baseline was given."""
    entry = tests.get("baseline_engagement_ratio")
    if entry is None or any("no baseline accounts were given" in w for w in entry.get("warnings", [])):
        return None
    name = (results.get("dataset", {}).get("baseline") or {}).get("campaign") or "the baseline"
    question = (f"Low compared with ordinary accounts: less engagement per original tweet than accounts of "
                f"{name} with the same follower count?")
    ids = ["baseline_engagement_ratio"]
    caveat = ("The baseline stands for 'ordinary' only as far as its accounts do; the model assumes engagement "
              "rises with followers at the same rate in both groups (the separate slopes are in the results).")
    if not _usable(entry) or entry.get("ci_low") is None:
        return Claim(3, LOW_ENGAGEMENT, "Twitter", NOT_TESTABLE,
                     _unusable(entry, "baseline_engagement_ratio", results.get("dataset")), caveat, ids, question,
                     BASELINE)
    evidence = (f"At the same follower count, an original tweet of the campaign drew {interval(entry, num)} times "
                f"the engagement of one by {name}'s accounts.")
    return Claim(3, LOW_ENGAGEMENT, "Twitter", _side(entry, 1.0, above=False), evidence, caveat, ids, question,
                 BASELINE)


# Claim 4's primary estimator, named before seeing any data: the account-level NB (bounded
# account weights, consistent whatever the variance, available for account tables too; see
# helpers.stats.models). The others stand in, in this order, only when it failed.
ELASTICITIES = ["elasticity_nb_account", "elasticity_ppml_account", "elasticity_nb_tweet_clustered"]
SENSITIVITY = {"elasticity_nb_account_without_top1pct": "the top 1% of accounts by engagement",
               "elasticity_nb_account_without_top10": "the top 10 accounts by engagement"}


def _band_means(document):
    """The dose-response by follower band, as prose: the description that assumes no curve."""
    bands = (document.get("descriptives") or {}).get("follower_bands") or []
    parts = [f"{row['band']} followers {num(row.get('engagement_per_tweet'))} "
             f"({num(row.get('ci_low'))} to {num(row.get('ci_high'))})"
             for row in bands if row.get("band") != "unknown" and row.get("engagement_per_tweet") is not None]
    return "; ".join(parts)


def _tracked_followers(tests, limits, document=None):
    document = document or {}
    dataset = document.get("dataset") or {}
    order = ELASTICITIES
    usable = [test_id for test_id in order if _usable(tests.get(test_id))]
    claim = "Engagement tracked follower count."
    question = "Did accounts with more followers get more engagement per tweet (an elasticity above zero)?"
    ids = order + ["elasticity_ppml_minus_nb", *SENSITIVITY, "spearman_followers_engagement"]
    if not usable:
        if dataset.get("form") == "users_only":
            reasons = _unusable(None, "elasticity_nb_account", dataset)
        else:
            reasons = " ".join(_unusable(tests.get(test_id), test_id) for test_id in order)
        return Claim(4, claim, "Twitter (implied)", NOT_TESTABLE, reasons, test_ids=ids, question=question)
    primary = tests[usable[0]]
    spearman = tests.get("spearman_followers_engagement")
    mismatch = tests.get("elasticity_ppml_minus_nb")
    misspecified = _usable(mismatch) and mismatch.get("ci_low") is not None and \
        (mismatch["ci_low"] > 0 or mismatch["ci_high"] < 0)
    stand_in = "" if usable[0] == order[0] else \
        ", standing in for the primary account-level negative binomial, which could not be estimated"
    elasticity = (f"The elasticity of engagement with respect to (1 + followers) is {interval(primary, num)} "
                  f"({MODEL_LABELS[usable[0]]}{stand_in}): a 10% larger audience goes "
                  f"with about {pct(1.1 ** primary['estimate'] - 1)} more engagement per tweet.")
    others = [f"{MODEL_LABELS[test_id]} {interval(tests[test_id], num)}"
              f"{' (fragile: carried by a few accounts)' if fragile(tests[test_id]) else ''}"
              for test_id in usable[1:]]
    if misspecified:
        bands = _band_means(document or {})
        evidence = ((f"Engagement per original tweet by follower band (95% CI): {bands}. " if bands else "")
                    + "The log-linear curve behind a single elasticity does not fit these data: the Poisson "
                    f"quasi-ML and negative binomial elasticities differ by {num(mismatch['estimate'])} (their 95% "
                    f"intervals do not overlap; differences they allow: {num(mismatch['ci_low'])} to "
                    f"{num(mismatch['ci_high'])}), and both would estimate the same number if it did, so the band "
                    f"means above are the description to read and the verdict rests on the rank association. "
                    f"{elasticity}")
    else:
        evidence = elasticity
    if others:
        evidence += " Other models: " + "; ".join(others) + "."
    dropped = [f"without {label} {interval(tests[test_id], num)}" for test_id, label in SENSITIVITY.items()
               if usable[0] == order[0] and _usable(tests.get(test_id))]
    if dropped:
        evidence += " Sensitivity of the primary elasticity: " + "; ".join(dropped) + "."
    if _usable(spearman):
        evidence += f" Rank correlation (Spearman): {interval(spearman, num)}."
    if misspecified:
        verdict = _side(spearman, 0.0, above=True)
    else:
        verdict = _side(primary, 0.0, above=True)
        if fragile(primary):
            evidence += (" The elasticity's interval is fragile (a few high-leverage accounts carry the fit), "
                         "so the verdict also needs the rank correlation to agree.")
            if _side(spearman, 0.0, above=True) != verdict:
                verdict = INCONCLUSIVE  # the two disagree
    return Claim(4, claim, "Twitter (implied)", verdict, evidence,
                 CAVEAT_FOLLOWERS + " The association is not causal: accounts with more followers may also differ "
                 "in content and age.", ids, question)


AMPLIFIERS_NOT_TESTABLE = ("The amplifier accounts themselves are not in the archive and their engagement is "
                           "excluded from its counts, so whether they were designed to inflate impressions stays "
                           "not testable; this verdict is about the core accounts the archive holds.")
COORDINATION_TRACES = {"co_retweet_accounts_share": "the same retweet", "co_tweet_accounts_share": "the same text",
                       "co_link_accounts_share": "the same link", "co_reply_accounts_share": "the same reply target",
                       "co_hashtag_accounts_share": "the same hashtags"}


def _amplifiers(tests, limits):
    claim = "The core accounts amplified one another in synchronised bursts."
    source = "Twitter (amplifiers 'engage with the core accounts')"
    excess, observed = tests.get("coordinated_accounts_share_above_chance"), tests.get("coordinated_accounts_share")
    chance = tests.get("coordinated_accounts_share_chance")
    ids = ["coordinated_accounts_share", "coordinated_accounts_share_chance",
           "coordinated_accounts_share_above_chance", *COORDINATION_TRACES, "coordination_largest_group_share",
           "in_network_retweet_share", "share_tweets_over_5_retweets_per_like"]
    context = ""
    in_network, heavy = tests.get("in_network_retweet_share"), tests.get("share_tweets_over_5_retweets_per_like")
    if _usable(in_network):
        context += f" {interval(in_network)} of retweet rows retweeted a tweet of the network itself."
    if _usable(heavy):
        context += (f" {pct(heavy['estimate'])} of original tweets had more than {RETWEET_HEAVY_RATIO} retweets "
                    "per like.")
    if not (_usable(excess) and _usable(observed) and _usable(chance)):
        return Claim(5, claim, source, NOT_TESTABLE, f"{_unusable(excess, 'coordinated_accounts_share_above_chance')}"
                     f"{context} {AMPLIFIERS_NOT_TESTABLE}", CAVEAT_ENGAGEMENT, ids)
    evidence = (f"{pct(observed['estimate'])} of the accounts shared at least two items with another account "
                f"within a minute (the same retweet, text, link, reply target or hashtags); chance alone, with each "
                f"account's timeline shifted at random, gives {pct(chance['estimate'])} (95% of draws "
                f"{pct(chance['ci_low'])} to {pct(chance['ci_high'])}); the excess over chance is "
                f"{interval(excess)} of accounts (threshold: more than {pct(limits.coordinated_excess_share)}).")
    parts = [f"{COORDINATION_TRACES[test_id]} {pct(tests[test_id]['estimate'])}" for test_id in COORDINATION_TRACES
             if _usable(tests.get(test_id))]
    if parts:
        evidence += " By trace: " + ", ".join(parts) + "."
    largest = tests.get("coordination_largest_group_share")
    if _usable(largest):
        evidence += f" The largest group of tied accounts holds {pct(largest['estimate'])} of them."
    return Claim(5, claim, source, _side(excess, limits.coordinated_excess_share, above=True),
                 f"{evidence}{context} {AMPLIFIERS_NOT_TESTABLE}",
                 "Synchrony is not intent: an outside event that every account reacts to within minutes ties them "
                 "as a cell would, and the archive's per-minute times cannot separate actions under a minute apart.",
                 ids)


def _share_claim(number, claim, source, tests, test_id, threshold, describe, caveat="", dataset=None):
    entry = tests.get(test_id)
    question = f"More than {pct(threshold)} of the tweets {describe}?"
    if not _usable(entry):
        return Claim(number, claim, source, NOT_TESTABLE, _unusable(entry, test_id, dataset), test_ids=[test_id],
                     question=question)
    evidence = f"{interval(entry)} of all tweets {describe}."
    return Claim(number, claim, source, _side(entry, threshold, above=True), evidence, caveat, [test_id], question)


def _us_politics(tests, limits, dataset=None):
    claim = "The content targeted Republicans and Trump more than Democrats."
    diff = tests.get("us_politics_republican_minus_democrat_share")
    rep, dem = tests.get("us_politics_republican_share"), tests.get("us_politics_democrat_share")
    question = "Did more tweets name Trump or the Republicans than Biden or the Democrats (a difference above zero)?"
    if not (_usable(diff) and _usable(rep) and _usable(dem)):
        return Claim(8, claim, "press reports", NOT_TESTABLE,
                     _unusable(diff, "us_politics_republican_minus_democrat_share", dataset),
                     test_ids=["us_politics_republican_minus_democrat_share"], question=question)
    evidence = (f"Tweets naming Trump or the Republicans: {interval(rep)}; naming Biden or the Democrats: "
                f"{interval(dem)}; difference {interval(diff)} of all tweets.")
    return Claim(8, claim, "press reports", _side(diff, 0.0, above=True), evidence,
                 "A mention is not a target: keyword counts cannot tell attack from praise, nor whom a tweet "
                 "was meant to reach.",
                 ["us_politics_republican_share", "us_politics_democrat_share",
                  "us_politics_republican_minus_democrat_share"], question)


def _counted(counts):
    parts = [f"{counts[verdict]} {verdict}" for verdict in VERDICTS if counts[verdict]]
    return ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else "".join(parts)


@dataclass
class Assessment:
    claims: list  # one Claim per verdict; a claim judged against several lines has several, sharing its number
    simulated: bool
    thresholds: Thresholds

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([asdict(claim) for claim in self.claims]).drop(columns="test_ids")

    def counts(self) -> dict:
        verdicts = [claim.verdict for claim in self.claims]
        return {verdict: verdicts.count(verdict) for verdict in VERDICTS}

    def summary(self) -> str:
        """A paragraph: the verdicts counted, then the headline number of the traction claims."""
        data = "a simulated takedown (not real data)" if self.simulated else "the released archive"
        numbers = sorted({claim.number for claim in self.claims})
        firsts = {}
        for claim in self.claims:
            firsts.setdefault(claim.number, claim)
        headline = " ".join(claim.evidence.split(". ")[0].rstrip(".") + "." for claim in firsts.values()
                            if claim.number in (2, 3, 4) and claim.verdict != NOT_TESTABLE)
        return (f"Tested against {data}, the {len(numbers)} claims received {len(self.claims)} verdicts (some claims "
                f"are judged against more than one line): {_counted(self.counts())}. {headline}").strip()

    def to_html(self) -> str:
        """The claims table, one row per verdict; every cell escaped, since some text derives from the data."""
        rows = []
        for index, claim in enumerate(self.claims):
            first = index == 0 or self.claims[index - 1].number != claim.number
            span = sum(1 for other in self.claims if other.number == claim.number)
            lead = (f"<td rowspan='{span}'>{claim.number}</td><td rowspan='{span}'>{escape(claim.claim)}<br>"
                    f"<small>{escape(claim.source)}</small></td>") if first else ""
            rows.append(f"<tr data-claim='{claim.number}'>{lead}<td>{escape(claim.question)}</td>"
                        f"<td class='verdict'>{escape(claim.verdict)}</td><td>{escape(claim.evidence)}</td>"
                        f"<td><small>{escape(claim.caveat)}</small></td></tr>")
        return ("<table class='claims'><thead><tr><th>#</th><th>Claim</th><th>Question</th><th>Verdict</th>"
                f"<th>Evidence</th><th>Caveat</th></tr></thead><tbody>{''.join(rows)}</tbody></table>")


def _with_question(claim, question):
    claim.question = claim.question or question
    return claim


def assess(results: dict, thresholds: Thresholds = Thresholds()) -> Assessment:
    """The verdicts on the eight claims, from a results.json dict (claims 2 and 3 against several lines)."""
    tests = {entry["id"]: entry for entry in results.get("tests", [])}
    dataset = results.get("dataset", {})
    claims = [
        _caught_early(tests, thresholds, dataset),
        _low_followers(tests, thresholds, dataset),
        _low_followers_vs_reference(tests, thresholds, results),
        _low_engagement(tests, thresholds, dataset),
        _low_engagement_vs_reference(tests, thresholds, results),
        _low_engagement_vs_baseline(tests, thresholds, results),
        _tracked_followers(tests, thresholds, results),
        _with_question(_amplifiers(tests, thresholds), "Did more of the core accounts act in concert (the same "
                       "item within a minute) than chance gives, by more than the line?"),
        _share_claim(6, "They tweeted predominantly in Chinese.", "Twitter", tests, "tweets_share_chinese",
                     thresholds.predominant_share, "were in Chinese",
                     "Language is Twitter's automatic detection; short or mixed tweets may be mislabelled.", dataset),
        _share_claim(7, "They pushed narratives about Hong Kong.", "Twitter", tests, "hong_kong_share_tweets",
                     thresholds.narrative_share, "carried a Hong Kong hashtag or keyword",
                     "Keyword matching finds the topic, not the stance.", dataset),
        _us_politics(tests, thresholds, dataset),
    ]
    return Assessment([claim for claim in claims if claim is not None],
                      bool(dataset.get("simulated")), thresholds)
