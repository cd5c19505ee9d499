"""The narrative: each claim of the disclosure, a verdict, and the numbers behind it.

Verdicts are read off ``results.json`` with thresholds the reader can change
(``Thresholds``). A claim is *supported* only when the whole 95% interval lies
on the claim's side of its threshold; otherwise *not supported*; and *not
testable* when the released data cannot speak to it (or a model failed).
Every number in the prose is formatted here from the results, never typed.
"""

from dataclasses import asdict, dataclass, field
from html import escape

import pandas as pd

SUPPORTED, NOT_SUPPORTED, NOT_TESTABLE = "supported", "not supported", "not testable with the released data"

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
    coordinated_excess_share: float = 0.01  # share of accounts acting in concert beyond chance


@dataclass
class Claim:
    number: int
    claim: str
    source: str
    verdict: str
    evidence: str
    caveat: str = ""
    test_ids: list = field(default_factory=list)


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
    """Verdict from where the interval lies relative to a threshold."""
    if not _usable(entry) or entry.get("ci_low") is None:
        return NOT_TESTABLE
    inside = entry["ci_low"] > threshold if above else entry["ci_high"] < threshold
    return SUPPORTED if inside else NOT_SUPPORTED


def _unusable(entry, test_id):
    if entry is None:
        return f"The results hold no `{test_id}`."
    return f"`{test_id}` could not be estimated: {'; '.join(entry.get('warnings') or ['no reason recorded'])}."


def _caught_early(tests, limits):
    entry = tests.get("lifespan_median_days")
    if not _usable(entry):
        return Claim(1, "The accounts were largely caught early.", "Twitter", NOT_TESTABLE,
                     _unusable(entry, "lifespan_median_days"), test_ids=["lifespan_median_days"])
    verdict = _side(entry, limits.early_lifespan_days, above=False)
    evidence = (f"The median account was active for {interval(entry, num)} days from creation to its last tweet "
                f"(threshold for 'early': under {num(limits.early_lifespan_days)} days).")
    share = tests.get("share_accounts_lifespan_under_90_days")
    if _usable(share):
        evidence += f" {pct(share['estimate'])} of accounts stopped within 90 days of creation."
    return Claim(1, "The accounts were largely caught early.", "Twitter", verdict, evidence,
                 "The archive gives no suspension date; the last archived tweet stands in for it.",
                 ["lifespan_median_days", "share_accounts_lifespan_under_90_days"])


def _low_followers(tests, limits):
    entry, median = tests.get("followers_share_under_10"), tests.get("followers_median")
    zero = tests.get("followers_share_zero")
    if not _usable(entry):
        return Claim(2, "They typically held low follower counts.", "Twitter", NOT_TESTABLE,
                     _unusable(entry, "followers_share_under_10"), test_ids=["followers_share_under_10"])
    evidence = (f"{interval(entry)} of accounts had fewer than 10 followers "
                f"(threshold: more than {pct(limits.low_followers_share)})")
    if _usable(zero):
        evidence += f"; {pct(zero['estimate'])} had none"
    if _usable(median):
        evidence += f"; the median account had {num(median['estimate'])} followers"
    return Claim(2, "They typically held low follower counts.", "Twitter",
                 _side(entry, limits.low_followers_share, above=True), evidence + ".", CAVEAT_FOLLOWERS,
                 ["followers_share_under_10", "followers_share_zero", "followers_median"])


def _low_engagement(tests, limits):
    entry, zero = tests.get("engagement_per_tweet_mean"), tests.get("engagement_share_zero_tweets")
    if not _usable(entry):
        return Claim(3, "They had low engagement.", "Twitter", NOT_TESTABLE,
                     _unusable(entry, "engagement_per_tweet_mean"), test_ids=["engagement_per_tweet_mean"])
    evidence = (f"An original tweet drew {interval(entry, num)} engagements (likes, retweets, replies and quotes) "
                f"on average (threshold for 'low': under {num(limits.low_engagement_per_tweet)})")
    if _usable(zero):
        evidence += f"; {pct(zero['estimate'])} of original tweets drew none"
    return Claim(3, "They had low engagement.", "Twitter", _side(entry, limits.low_engagement_per_tweet, above=False),
                 evidence + ".", CAVEAT_ENGAGEMENT, ["engagement_per_tweet_mean", "engagement_share_zero_tweets"])


def _tracked_followers(tests, limits):
    order = ["elasticity_nb_account", "elasticity_ppml_account", "elasticity_nb_tweet_clustered"]
    usable = [test_id for test_id in order if _usable(tests.get(test_id))]
    claim = "Engagement tracked follower count."
    if not usable:
        reasons = " ".join(_unusable(tests.get(test_id), test_id) for test_id in order)
        return Claim(4, claim, "Twitter (implied)", NOT_TESTABLE, reasons, test_ids=order)
    primary = tests[usable[0]]
    evidence = (f"The elasticity of engagement with respect to (1 + followers) is {interval(primary, num)} "
                f"({MODEL_LABELS[usable[0]]}): a 10% larger audience goes with about "
                f"{pct(1.1 ** primary['estimate'] - 1)} more engagement per tweet.")
    others = [f"{MODEL_LABELS[test_id]} {interval(tests[test_id], num)}" for test_id in usable[1:]]
    if others:
        evidence += " Other models: " + "; ".join(others) + "."
    spearman = tests.get("spearman_followers_engagement")
    if _usable(spearman):
        evidence += f" Rank correlation (Spearman): {interval(spearman, num)}."
    return Claim(4, claim, "Twitter (implied)", _side(primary, 0.0, above=True), evidence,
                 CAVEAT_FOLLOWERS + " The association is not causal: accounts with more followers may also differ "
                 "in content and age.", order + ["spearman_followers_engagement"])


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
        context += f" {pct(heavy['estimate'])} of original tweets had more than 5 retweets per like."
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


def _share_claim(number, claim, source, tests, test_id, threshold, describe, caveat=""):
    entry = tests.get(test_id)
    if not _usable(entry):
        return Claim(number, claim, source, NOT_TESTABLE, _unusable(entry, test_id), test_ids=[test_id])
    evidence = f"{interval(entry)} {describe} (threshold: more than {pct(threshold)})."
    return Claim(number, claim, source, _side(entry, threshold, above=True), evidence, caveat, [test_id])


def _us_politics(tests, limits):
    claim = "The content targeted Republicans and Trump more than Democrats."
    diff = tests.get("us_politics_republican_minus_democrat_share")
    rep, dem = tests.get("us_politics_republican_share"), tests.get("us_politics_democrat_share")
    if not (_usable(diff) and _usable(rep) and _usable(dem)):
        return Claim(8, claim, "press reports", NOT_TESTABLE,
                     _unusable(diff, "us_politics_republican_minus_democrat_share"),
                     test_ids=["us_politics_republican_minus_democrat_share"])
    evidence = (f"Tweets naming Trump or the Republicans: {interval(rep)}; naming Biden or the Democrats: "
                f"{interval(dem)}; difference {interval(diff)} of all tweets.")
    return Claim(8, claim, "press reports", _side(diff, 0.0, above=True), evidence,
                 "A mention is not a target: keyword counts cannot tell attack from praise, nor whom a tweet "
                 "was meant to reach.",
                 ["us_politics_republican_share", "us_politics_democrat_share",
                  "us_politics_republican_minus_democrat_share"])


def _count(n, singular, plural):
    return f"{n} {'claim' if n == 1 else 'claims'} {singular if n == 1 else plural}"


@dataclass
class Assessment:
    claims: list
    simulated: bool
    thresholds: Thresholds

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([asdict(claim) for claim in self.claims]).drop(columns="test_ids")

    def counts(self) -> dict:
        verdicts = [claim.verdict for claim in self.claims]
        return {verdict: verdicts.count(verdict) for verdict in (SUPPORTED, NOT_SUPPORTED, NOT_TESTABLE)}

    def summary(self) -> str:
        """A paragraph: how many claims hold, then the headline number of the traction claims."""
        counts = self.counts()
        data = "a simulated takedown (not real data)" if self.simulated else "the released archive"
        headline = " ".join(claim.evidence.split(". ")[0].rstrip(".") + "." for claim in self.claims
                            if claim.number in (2, 3, 4) and claim.verdict != NOT_TESTABLE)
        return (f"Tested against {data}, {_count(counts[SUPPORTED], 'is', 'are')} supported, "
                f"{_count(counts[NOT_SUPPORTED], 'is', 'are')} not supported and "
                f"{_count(counts[NOT_TESTABLE], 'cannot', 'cannot')} be tested with the released data "
                f"(of {len(self.claims)} claims). {headline}").strip()

    def to_html(self) -> str:
        """The claims table; every cell escaped, since some text derives from the data."""
        rows = "".join(
            f"<tr><td>{claim.number}</td><td>{escape(claim.claim)}<br><small>{escape(claim.source)}</small></td>"
            f"<td class='verdict'>{escape(claim.verdict)}</td><td>{escape(claim.evidence)}</td>"
            f"<td><small>{escape(claim.caveat)}</small></td></tr>"
            for claim in self.claims
        )
        return ("<table class='claims'><thead><tr><th>#</th><th>Claim</th><th>Verdict</th><th>Evidence</th>"
                f"<th>Caveat</th></tr></thead><tbody>{rows}</tbody></table>")


def assess(results: dict, thresholds: Thresholds = Thresholds()) -> Assessment:
    """A verdict for each of the eight claims, from a results.json dict."""
    tests = {entry["id"]: entry for entry in results.get("tests", [])}
    claims = [
        _caught_early(tests, thresholds),
        _low_followers(tests, thresholds),
        _low_engagement(tests, thresholds),
        _tracked_followers(tests, thresholds),
        _amplifiers(tests, thresholds),
        _share_claim(6, "They tweeted predominantly in Chinese.", "Twitter", tests, "tweets_share_chinese",
                     thresholds.predominant_share, "of all tweets were in Chinese",
                     "Language is Twitter's automatic detection; short or mixed tweets may be mislabelled."),
        _share_claim(7, "They pushed narratives about Hong Kong.", "Twitter", tests, "hong_kong_share_tweets",
                     thresholds.narrative_share, "of all tweets carried a Hong Kong hashtag or keyword",
                     "Keyword matching finds the topic, not the stance."),
        _us_politics(tests, thresholds),
    ]
    return Assessment(claims, bool(results.get("dataset", {}).get("simulated")), thresholds)
