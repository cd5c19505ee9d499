import re
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from helpers.report import claims
from helpers.stats import content


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
        "followers_per_account_mean": entry("followers_per_account_mean", 14.3, 6.2, 25.1),
        "reference_percentile_followers_per_account": entry("reference_percentile_followers_per_account",
                                                            0.0, 0.0, 0.0),
        "engagement_per_tweet_row_mean": entry("engagement_per_tweet_row_mean", 0.82, 0.58, 1.11),
        "reference_percentile_engagement_per_tweet_row": entry("reference_percentile_engagement_per_tweet_row",
                                                               0.357, 0.321, 0.464),
    }
    tests.update(overrides)
    reference = [{"campaign": name, "engagement_per_tweet_row": e, "followers_per_account": f, "left_out": False}
                 for name, e, f in [("low", 0.2, 50.0), ("mid", 1.0, 900.0), ("high", 20.0, 20000.0)]]
    return {"dataset": {"simulated": simulated}, "tests": list(tests.values()),
            "descriptives": {"reference_set": reference}}


def verdicts(assessment):
    return {(claim.number, claim.against): claim.verdict for claim in assessment.claims}


def test_eight_claims_in_order_with_a_verdict_per_question():
    assessment = claims.assess(results())
    assert [claim.number for claim in assessment.claims] == [1, 2, 2, 3, 3, 4, 5, 6, 7, 8]
    T, R = claims.THRESHOLD, claims.REFERENCE
    assert verdicts(assessment) == {
        (1, T): claims.SUPPORTED, (2, T): claims.SUPPORTED, (2, R): claims.SUPPORTED, (3, T): claims.SUPPORTED,
        (3, R): claims.SUPPORTED, (4, T): claims.SUPPORTED, (5, T): claims.NOT_TESTABLE, (6, T): claims.SUPPORTED,
        (7, T): claims.SUPPORTED, (8, T): claims.INCONCLUSIVE,
    }
    assert all(claim.question for claim in assessment.claims)
    questions = [claim.question for claim in assessment.claims if claim.number == 3]
    assert questions[0].startswith("Low by a fixed line") and questions[1].startswith("Low compared with 3 other")


@pytest.mark.parametrize("low, high, above, verdict", [
    (1.1, 1.5, True, claims.SUPPORTED), (0.2, 0.9, True, claims.CONTRADICTED), (0.8, 1.2, True, claims.INCONCLUSIVE),
    (0.5, 1.0, True, claims.CONTRADICTED), (1.0, 1.4, True, claims.INCONCLUSIVE),  # the claim's inequality is strict
    (0.2, 0.9, False, claims.SUPPORTED), (1.1, 1.5, False, claims.CONTRADICTED), (0.8, 1.2, False, claims.INCONCLUSIVE),
    (1.0, 1.4, False, claims.CONTRADICTED), (0.5, 1.0, False, claims.INCONCLUSIVE),
])
def test_side_gives_four_levels_from_where_the_interval_lies(low, high, above, verdict):
    assert claims._side(entry("x", (low + high) / 2, low, high), 1.0, above) == verdict


def test_side_without_an_interval_or_estimate_is_not_testable():
    assert claims._side(entry("x", 0.5, None, None), 1.0, True) == claims.NOT_TESTABLE
    assert claims._side(entry("x", None, None, None, converged=False), 1.0, True) == claims.NOT_TESTABLE
    assert claims._side(None, 1.0, True) == claims.NOT_TESTABLE


def test_a_straddling_interval_is_inconclusive_and_one_beyond_the_line_contradicts():
    straddling = entry("engagement_per_tweet_mean", 0.9, 0.7, 1.2)
    assert verdicts(claims.assess(results(engagement_per_tweet_mean=straddling)))[3, claims.THRESHOLD] \
        == claims.INCONCLUSIVE
    stricter = claims.Thresholds(low_engagement_per_tweet=0.5)
    assert verdicts(claims.assess(results(), stricter))[3, claims.THRESHOLD] == claims.CONTRADICTED


def test_reference_verdicts_follow_the_reference_quantile():
    R = claims.REFERENCE
    assert verdicts(claims.assess(results()))[3, R] == claims.SUPPORTED  # 32%-46% lower, below a half
    lower_third = claims.Thresholds(reference_quantile=1 / 3)
    assert verdicts(claims.assess(results(), lower_third))[3, R] == claims.INCONCLUSIVE
    above = entry("reference_percentile_engagement_per_tweet_row", 0.7, 0.6, 0.8)
    assert verdicts(claims.assess(results(reference_percentile_engagement_per_tweet_row=above)))[3, R] \
        == claims.CONTRADICTED
    claim = [c for c in claims.assess(results()).claims if (c.number, c.against) == (3, R)][0]
    assert "Their median is 1; they range from 0.20 (low) to 20 (high)." in claim.evidence
    assert "35.7% (95% CI 32.1% to 46.4%) of the 3 reference campaigns had fewer" in claim.evidence


def test_a_campaign_in_the_reference_set_is_said_to_be_left_out():
    left = entry("reference_percentile_followers_per_account", 0.44, 0.41, 0.56,
                 warnings=["x is in the reference set (as x, release 2020-03) and is left out of its own comparison"])
    claim = [c for c in claims.assess(results(reference_percentile_followers_per_account=left)).claims
             if (c.number, c.against) == (2, claims.REFERENCE)][0]
    assert claim.verdict == claims.INCONCLUSIVE
    assert "left out of its own comparison" in claim.evidence


def test_the_baseline_verdict_appears_only_when_a_baseline_was_given():
    absent = entry("baseline_engagement_ratio", None, None, None, converged=False,
                   warnings=["skipped: no baseline accounts were given (parameter baseline)"])
    assert claims.BASELINE not in {c.against for c in claims.assess(results(baseline_engagement_ratio=absent)).claims}
    given = results(baseline_engagement_ratio=entry("baseline_engagement_ratio", 0.5, 0.4, 0.63))
    given["dataset"]["baseline"] = {"campaign": "ordinary"}
    claim = [c for c in claims.assess(given).claims if c.against == claims.BASELINE][0]
    assert (claim.number, claim.verdict) == (3, claims.SUPPORTED)
    assert "0.50 (95% CI 0.40 to 0.63) times the engagement of one by ordinary's accounts" in claim.evidence
    assert "ordinary" in claim.question and "same follower count" in claim.question
    higher = results(baseline_engagement_ratio=entry("baseline_engagement_ratio", 1.5, 1.2, 1.9))
    assert verdicts(claims.assess(higher))[3, claims.BASELINE] == claims.CONTRADICTED


def test_a_failed_model_makes_the_claim_untestable_and_says_why():
    failed = {test_id: entry(test_id, None, None, None, converged=False, warnings=["Hessian not invertible"])
              for test_id in ("elasticity_nb_account", "elasticity_ppml_account", "elasticity_nb_tweet_clustered")}
    claim = [c for c in claims.assess(results(**failed)).claims if c.number == 4][0]
    assert claim.verdict == claims.NOT_TESTABLE
    assert "Hessian not invertible" in claim.evidence


def test_falls_back_to_the_next_model_when_the_first_failed():
    failed = entry("elasticity_nb_account", None, None, None, converged=False, warnings=["diverged"])
    claim = [c for c in claims.assess(results(elasticity_nb_account=failed)).claims if c.number == 4][0]
    assert claim.verdict == claims.SUPPORTED
    assert claim.evidence.startswith("The elasticity of engagement with respect to (1 + followers) is 0.29")


def users_only(**overrides):
    """A users-only run: 418 accounts loaded, none with tweets (every tweet measure skipped, as on Uganda's file)."""
    skip = ["skipped: undefined on this data", "no accounts"]
    document = results(**{test_id: entry(test_id, None, None, None, converged=False, warnings=skip) for test_id in
                          ["lifespan_median_days", "engagement_per_tweet_mean", "engagement_per_tweet_row_mean",
                           "elasticity_nb_account", "elasticity_ppml_account", "tweets_share_chinese",
                           "hong_kong_share_tweets", "us_politics_republican_minus_democrat_share",
                           "reference_percentile_engagement_per_tweet_row"]},
                       elasticity_nb_tweet_clustered=entry("elasticity_nb_tweet_clustered", None, None, None, False,
                                                           ["skipped: no tweet-level data (account-table form)"]),
                       **overrides)
    document["dataset"].update(form="users_only", accounts=418)
    return document


def test_users_only_runs_say_so_and_count_the_accounts_loaded():
    assessment = claims.assess(users_only())
    by_claim = {(c.number, c.against): c for c in assessment.claims}
    for key in [(1, claims.THRESHOLD), (3, claims.THRESHOLD), (3, claims.REFERENCE), (4, claims.THRESHOLD),
                (6, claims.THRESHOLD), (7, claims.THRESHOLD), (8, claims.THRESHOLD)]:
        claim = by_claim[key]
        assert claim.verdict == claims.NOT_TESTABLE, key
        assert "users file only: 418 accounts were loaded, with no tweets" in claim.evidence, key
        assert "no accounts" not in claim.evidence and "account-table" not in claim.evidence, key
    assert by_claim[2, claims.THRESHOLD].verdict == claims.SUPPORTED  # followers need no tweets
    assert by_claim[2, claims.REFERENCE].verdict == claims.SUPPORTED


def test_account_table_runs_name_the_form_and_the_counts_they_have():
    skipped = {test_id: entry(test_id, None, None, None, converged=False, warnings=[f"skipped: the data has no "
                                                                                     f"{name} counts"])
               for name, test_id in [("likes", "likes_per_tweet_mean"), ("replies", "replies_per_tweet_mean"),
                                     ("quotes", "quotes_per_tweet_mean")]}
    document = results(retweets_per_tweet_mean=entry("retweets_per_tweet_mean", 6.7, 3.1, 11.6),
                       tweets_share_chinese=entry("tweets_share_chinese", None, None, None, False,
                                                  ["skipped: needs tweet-level data"]), **skipped)
    document["dataset"].update(form="account_table", accounts=3259)
    assessment = claims.assess(document)
    low = [c for c in assessment.claims if (c.number, c.against) == (3, claims.THRESHOLD)][0]
    assert "engagements (retweets only: the data has no likes, replies or quotes counts)" in low.evidence
    assert "likes, retweets, replies and quotes" not in low.evidence
    chinese = [c for c in assessment.claims if c.number == 6][0]
    assert chinese.evidence == ("The data is an account-level table (3,259 accounts, totals per account, no tweets): "
                                "`tweets_share_chinese` was not computed (needs tweet-level data).")
    all_four = claims.assess(results(**{test_id: entry(test_id, 0.2, 0.1, 0.3) for test_id in
                                        ["likes_per_tweet_mean", "retweets_per_tweet_mean", "replies_per_tweet_mean",
                                         "quotes_per_tweet_mean"]}))
    assert "(likes, retweets, replies and quotes)" in all_four.claims[3].evidence


def test_claims_on_text_are_not_testable_when_no_tweet_has_text():
    accounts = pd.DataFrame({"n_tweets": [5, 3], "n_chinese": [5, 3], "n_english": [0, 0],
                             "n_hong_kong_hashtag": [0, 0], "n_hong_kong": [0, 0], "n_republican": [0, 0],
                             "n_democrat": [0, 0], "n_with_text": [0, 0]})
    tests = content.content_tests(accounts, n_boot=99)
    assessment = claims.assess(results(**{test["id"]: test for test in tests}))
    by_number = {c.number: c for c in assessment.claims if c.against == claims.THRESHOLD}
    for number in (7, 8):
        assert by_number[number].verdict == claims.NOT_TESTABLE
        assert "no tweet row has text" in by_number[number].evidence
    assert by_number[6].verdict == claims.SUPPORTED  # language comes from Twitter, not the text
    with_text = content.content_tests(accounts.assign(n_with_text=[5, 2], n_hong_kong=[2, 0]), n_boot=99)
    hong_kong = next(test for test in with_text if test["id"] == "hong_kong_share_tweets")
    assert hong_kong["estimate"] == pytest.approx(2 / 8)
    assert "1 of 8 tweet rows have no text and count as not matching" in hong_kong["warnings"]


def test_early_days_in_the_text_follow_the_lifespan_cutoff(monkeypatch):
    text = claims.assess(results()).claims[0].evidence
    assert f"stopped within {claims.EARLY_DAYS} days of creation" in text
    monkeypatch.setattr(claims, "EARLY_DAYS", 60)
    assert "stopped within 60 days of creation" in claims.assess(results()).claims[0].evidence


def test_numbers_in_the_evidence_are_the_results_numbers():
    assessment = claims.assess(results())
    text = " ".join(claim.evidence for claim in assessment.claims)
    for number in ["80.0%", "78.0%", "82.0%", "0.81", "0.31", "0.22", "0.40", "84.0%", "21.0%", "64.0%", "41"]:
        assert number in text
    assert "0.32" not in text  # nothing invented
    assert "had 2 followers" in text  # whole numbers are written as such


def test_summary_counts_the_verdicts_and_names_simulated_data():
    assessment = claims.assess(results(engagement_per_tweet_mean=entry("engagement_per_tweet_mean", 1.5, 1.2, 1.9)))
    assert assessment.counts() == {claims.SUPPORTED: 7, claims.CONTRADICTED: 1, claims.INCONCLUSIVE: 1,
                                   claims.NOT_TESTABLE: 1}
    assert assessment.summary().startswith(
        "Tested against a simulated takedown (not real data), the 8 claims received 10 verdicts (some claims are "
        "judged against more than one line): 7 supported, 1 contradicted, 1 inconclusive and 1 not testable.")
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
    assert len(re.findall("<tr data-claim='\\d'>", html)) == 10
    assert len(re.findall("rowspan='2'", html)) == 4  # claims 2 and 3: number and claim span their two rows


def test_each_claim_reads_exactly_the_ids_the_registry_gives_it():
    from helpers import results as contract

    every = {test_id: entry(test_id, 0.5, 0.4, 0.6) for test_id in contract.MEASURES}
    assessment = claims.assess({"dataset": {}, "tests": list(every.values())})
    assert claims.BASELINE in {claim.against for claim in assessment.claims}  # every line is asked
    for number in {claim.number for claim in assessment.claims}:
        read = {test_id for claim in assessment.claims if claim.number == number for test_id in claim.test_ids}
        registered = {test_id for test_id, m in contract.MEASURES.items() if number in m.claims}
        assert read == registered, number


def claim_four(assessment):
    return next(claim for claim in assessment.claims if claim.number == 4)


def test_claim_four_reads_the_band_means_and_the_rank_correlation_when_the_mean_is_misspecified():
    apart = entry("elasticity_ppml_minus_nb", 1.28, 0.02, 2.54, warnings=["misspecified: ..."])
    bands = [{"band": "0", "engagement_per_tweet": 0.02, "ci_low": 0.01, "ci_high": 0.04},
             {"band": "5,000+", "engagement_per_tweet": 41.5, "ci_low": 12.0, "ci_high": 90.0}]
    document = results(elasticity_ppml_minus_nb=apart)
    document["descriptives"] = {"follower_bands": bands}
    claim = claim_four(claims.assess(document))
    assert claim.evidence.startswith("Engagement per original tweet by follower band (95% CI): 0 followers 0.02 "
                                     "(0.01 to 0.04); 5,000+ followers 41.50 (12 to 90).")
    assert "does not fit" in claim.evidence
    assert "differ by 1.28 (their 95% intervals do not overlap; differences they allow: 0.02 to 2.54)" in claim.evidence
    assert claim.verdict == claims.SUPPORTED  # Spearman 0.12 (0.08 to 0.16) decides
    flat = entry("spearman_followers_engagement", 0.01, -0.03, 0.05)
    document["tests"] = [t for t in document["tests"] if t["id"] != "spearman_followers_engagement"] + [flat]
    assert claim_four(claims.assess(document)).verdict == claims.INCONCLUSIVE  # the NB's 0.31 does not count


def test_a_fragile_primary_needs_the_rank_correlation_to_agree():
    fragile = entry("elasticity_nb_account", 0.31, 0.22, 0.40, warnings=["fragile: 45% of the fit's weight ..."])
    agreeing = claim_four(claims.assess(results(elasticity_nb_account=fragile)))
    assert agreeing.verdict == claims.SUPPORTED and "fragile" in agreeing.evidence
    flat = entry("spearman_followers_engagement", 0.01, -0.03, 0.05)
    disagreeing = claims.assess(results(elasticity_nb_account=fragile, spearman_followers_engagement=flat))
    assert claim_four(disagreeing).verdict == claims.INCONCLUSIVE
    # the same flat rank correlation does not overrule a primary that is not fragile
    assert claim_four(claims.assess(results(spearman_followers_engagement=flat))).verdict == claims.SUPPORTED


def test_claim_four_shows_the_sensitivity_without_the_top_accounts():
    without = {"elasticity_nb_account_without_top1pct": entry("elasticity_nb_account_without_top1pct", 0.61, 0.48, 0.74),
               "elasticity_nb_account_without_top10": entry("elasticity_nb_account_without_top10", 0.75, 0.61, 0.89)}
    claim = claim_four(claims.assess(results(**without)))
    assert ("Sensitivity of the primary elasticity: without the top 1% of accounts by engagement 0.61 (95% CI 0.48 "
            "to 0.74); without the top 10 accounts by engagement 0.75 (95% CI 0.61 to 0.89).") in claim.evidence
