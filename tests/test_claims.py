import re
from html.parser import HTMLParser

import pytest

from helpers.report import claims


def entry(test_id, estimate, low, high, converged=True, warnings=()):
    return {"id": test_id, "question": "", "method": "a model", "estimate": estimate, "ci_low": low,
            "ci_high": high, "p_value": None, "p_holm": None, "n": 100, "converged": converged,
            "warnings": list(warnings)}


def results(simulated=True, **overrides):
    tests = {
        "lifespan_median_days": entry("lifespan_median_days", 41.0, 35.0, 48.0),
        "share_accounts_lifespan_under_90_days": entry("share_accounts_lifespan_under_90_days", 0.71, 0.69, 0.73),
        "followers_share_under_10": entry("followers_share_under_10", 0.80, 0.78, 0.82),
        "followers_share_zero": entry("followers_share_zero", 0.45, 0.43, 0.47),
        "followers_median": entry("followers_median", 2.0, 2.0, 3.0),
        "engagement_per_tweet_mean": entry("engagement_per_tweet_mean", 0.81, 0.70, 0.95),
        "engagement_share_zero_tweets": entry("engagement_share_zero_tweets", 0.77, 0.75, 0.79),
        "elasticity_nb_account": entry("elasticity_nb_account", 0.31, 0.22, 0.40),
        "elasticity_ppml_account": entry("elasticity_ppml_account", 0.29, 0.18, 0.41),
        "elasticity_nb_tweet_clustered": entry("elasticity_nb_tweet_clustered", 0.33, 0.21, 0.45),
        "spearman_followers_engagement": entry("spearman_followers_engagement", 0.12, 0.08, 0.16),
        "in_network_retweet_share": entry("in_network_retweet_share", 0.64, 0.60, 0.68),
        "tweets_share_chinese": entry("tweets_share_chinese", 0.84, 0.82, 0.86),
        "hong_kong_share_tweets": entry("hong_kong_share_tweets", 0.21, 0.19, 0.23),
        "us_politics_republican_share": entry("us_politics_republican_share", 0.012, 0.010, 0.014),
        "us_politics_democrat_share": entry("us_politics_democrat_share", 0.010, 0.008, 0.012),
        "us_politics_republican_minus_democrat_share": entry(
            "us_politics_republican_minus_democrat_share", 0.002, -0.001, 0.005),
    }
    tests.update(overrides)
    return {"dataset": {"simulated": simulated}, "tests": list(tests.values())}


def verdicts(assessment):
    return {claim.number: claim.verdict for claim in assessment.claims}


def test_eight_claims_in_order_with_verdicts():
    assessment = claims.assess(results())
    assert [claim.number for claim in assessment.claims] == list(range(1, 9))
    assert verdicts(assessment) == {
        1: claims.SUPPORTED, 2: claims.SUPPORTED, 3: claims.SUPPORTED, 4: claims.SUPPORTED,
        5: claims.NOT_TESTABLE, 6: claims.SUPPORTED, 7: claims.SUPPORTED, 8: claims.NOT_SUPPORTED,
    }


def test_a_claim_is_supported_only_when_the_whole_interval_clears_the_threshold():
    straddling = entry("engagement_per_tweet_mean", 0.9, 0.7, 1.2)
    assert verdicts(claims.assess(results(engagement_per_tweet_mean=straddling)))[3] == claims.NOT_SUPPORTED
    stricter = claims.Thresholds(low_engagement_per_tweet=0.5)
    assert verdicts(claims.assess(results(), stricter))[3] == claims.NOT_SUPPORTED


def test_a_failed_model_makes_the_claim_untestable_and_says_why():
    failed = {test_id: entry(test_id, None, None, None, converged=False, warnings=["Hessian not invertible"])
              for test_id in ("elasticity_nb_account", "elasticity_ppml_account", "elasticity_nb_tweet_clustered")}
    claim = claims.assess(results(**failed)).claims[3]
    assert claim.verdict == claims.NOT_TESTABLE
    assert "Hessian not invertible" in claim.evidence


def test_falls_back_to_the_next_model_when_the_first_failed():
    failed = entry("elasticity_nb_account", None, None, None, converged=False, warnings=["diverged"])
    claim = claims.assess(results(elasticity_nb_account=failed)).claims[3]
    assert claim.verdict == claims.SUPPORTED
    assert claim.evidence.startswith("The elasticity of engagement with respect to (1 + followers) is 0.29")


def test_numbers_in_the_evidence_are_the_results_numbers():
    assessment = claims.assess(results())
    text = " ".join(claim.evidence for claim in assessment.claims)
    for number in ["80.0%", "78.0%", "82.0%", "0.81", "0.31", "0.22", "0.40", "84.0%", "21.0%", "64.0%", "41"]:
        assert number in text
    assert "0.32" not in text  # nothing invented
    assert "had 2 followers" in text  # whole numbers are written as such


def test_summary_counts_the_verdicts_and_names_simulated_data():
    summary = claims.assess(results()).summary()
    assert summary.startswith("Tested against a simulated takedown (not real data), 6 claims are supported, "
                              "1 claim is not supported and 1 claim cannot be tested with the released data "
                              "(of 8 claims).")
    assert "the released archive" in claims.assess(results(simulated=False)).summary()


def test_html_table_escapes_what_it_shows():
    hostile = {test_id: entry(test_id, None, None, None, converged=False, warnings=["<script>alert(1)</script>"])
               for test_id in ("elasticity_nb_account", "elasticity_ppml_account", "elasticity_nb_tweet_clustered")}
    html = claims.assess(results(**hostile)).to_html()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    tags = []

    class Tags(HTMLParser):
        def handle_starttag(self, tag, attrs):
            tags.append(tag)

    Tags().feed(html)
    assert "script" not in tags
    assert set(tags) <= {"table", "thead", "tbody", "tr", "th", "td", "br", "small"}
    assert len(re.findall("<tr>", html)) == 9


def test_each_claim_reads_exactly_the_ids_the_registry_gives_it():
    from helpers import results as contract

    every = {test_id: entry(test_id, 0.5, 0.4, 0.6) for test_id in contract.MEASURES}
    assessment = claims.assess({"dataset": {}, "tests": list(every.values())})
    for claim in assessment.claims:
        registered = {test_id for test_id, m in contract.MEASURES.items() if claim.number in m.claims}
        assert set(claim.test_ids) == registered, claim.number


def test_claim_four_reads_the_band_means_and_the_rank_correlation_when_the_mean_is_misspecified():
    apart = entry("elasticity_ppml_minus_nb", 1.28, 0.02, 2.54, warnings=["misspecified: ..."])
    bands = [{"band": "0", "engagement_per_tweet": 0.02, "ci_low": 0.01, "ci_high": 0.04},
             {"band": "5,000+", "engagement_per_tweet": 41.5, "ci_low": 12.0, "ci_high": 90.0}]
    document = results(elasticity_ppml_minus_nb=apart)
    document["descriptives"] = {"follower_bands": bands}
    claim = claims.assess(document).claims[3]
    assert claim.evidence.startswith("Engagement per original tweet by follower band (95% CI): 0 followers 0.02 "
                                     "(0.01 to 0.04); 5,000+ followers 41.50 (12 to 90).")
    assert "does not fit" in claim.evidence
    assert "differ by 1.28 (their 95% intervals do not overlap; differences they allow: 0.02 to 2.54)" in claim.evidence
    assert claim.verdict == claims.SUPPORTED  # Spearman 0.12 (0.08 to 0.16) decides
    flat = entry("spearman_followers_engagement", 0.01, -0.03, 0.05)
    document["tests"] = [t for t in document["tests"] if t["id"] != "spearman_followers_engagement"] + [flat]
    assert claims.assess(document).claims[3].verdict == claims.NOT_SUPPORTED  # the NB's 0.31 does not count


def test_a_fragile_primary_needs_the_rank_correlation_to_agree():
    fragile = entry("elasticity_nb_account", 0.31, 0.22, 0.40, warnings=["fragile: 45% of the fit's weight ..."])
    agreeing = claims.assess(results(elasticity_nb_account=fragile)).claims[3]
    assert agreeing.verdict == claims.SUPPORTED and "fragile" in agreeing.evidence
    flat = entry("spearman_followers_engagement", 0.01, -0.03, 0.05)
    disagreeing = claims.assess(results(elasticity_nb_account=fragile, spearman_followers_engagement=flat))
    assert disagreeing.claims[3].verdict == claims.NOT_SUPPORTED
    # the same flat rank correlation does not overrule a primary that is not fragile
    assert claims.assess(results(spearman_followers_engagement=flat)).claims[3].verdict == claims.SUPPORTED


def test_claim_four_shows_the_sensitivity_without_the_top_accounts():
    without = {"elasticity_nb_account_without_top1pct": entry("elasticity_nb_account_without_top1pct", 0.61, 0.48, 0.74),
               "elasticity_nb_account_without_top10": entry("elasticity_nb_account_without_top10", 0.75, 0.61, 0.89)}
    claim = claims.assess(results(**without)).claims[3]
    assert ("Sensitivity of the primary elasticity: without the top 1% of accounts by engagement 0.61 (95% CI 0.48 "
            "to 0.74); without the top 10 accounts by engagement 0.75 (95% CI 0.61 to 0.89).") in claim.evidence
