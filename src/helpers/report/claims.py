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

from helpers.results import fragile

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
    order = ELASTICITIES
    usable = [test_id for test_id in order if _usable(tests.get(test_id))]
    claim = "Engagement tracked follower count."
    ids = order + ["elasticity_ppml_minus_nb", *SENSITIVITY, "spearman_followers_engagement"]
    if not usable:
        reasons = " ".join(_unusable(tests.get(test_id), test_id) for test_id in order)
        return Claim(4, claim, "Twitter (implied)", NOT_TESTABLE, reasons, test_ids=ids)
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
                verdict = NOT_SUPPORTED  # the two disagree: the evidence is inconclusive
    return Claim(4, claim, "Twitter (implied)", verdict, evidence,
                 CAVEAT_FOLLOWERS + " The association is not causal: accounts with more followers may also differ "
                 "in content and age.", ids)


def _amplifiers(tests, limits):
    entry = tests.get("in_network_retweet_share")
    evidence = ("The roughly 150,000 amplifier accounts are not in the archive, and their engagement is excluded "
                "from the counts, so their design and effect cannot be measured from it.")
    if _usable(entry):
        evidence += (f" Within the released core network, {interval(entry)} of retweet rows retweeted a tweet "
                     "of the network itself (in-network amplification).")
    ratio = tests.get("share_tweets_over_5_retweets_per_like")
    if _usable(ratio):
        evidence += f" {pct(ratio['estimate'])} of original tweets had more than 5 retweets per like."
    return Claim(5, "Amplifier accounts were designed to inflate impression metrics and engage with the core.",
                 "Twitter", NOT_TESTABLE, evidence, CAVEAT_ENGAGEMENT,
                 ["in_network_retweet_share", "share_tweets_over_5_retweets_per_like"])


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
        _tracked_followers(tests, thresholds, results),
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
