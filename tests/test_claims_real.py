"""The claims' wording on real files without tweets: users-only releases and a per-account table."""

import pytest

from helpers import statement, steps
from helpers.report import claims

GHANA = "ghana_nigeria_032020_users_csv_hashed_resaved.csv"


def by_id(assessment):
    return {verdict.id: verdict for verdict in assessment.verdicts}


@pytest.fixture(scope="module")
def users_only(real_data, tmp_path_factory):
    folder = real_data / "twitter_io_users"
    if not (folder / GHANA).is_file():
        pytest.skip("real users file absent")
    _, work = steps.load(str(folder), "ghana_nigeria_032020", str(tmp_path_factory.mktemp("ghana") / "work"))
    steps.engagement_vs_followers(work, n_boot=99)
    return steps.narrative(work).assessment


def test_a_users_only_release_gets_the_generic_statement_and_names_its_form(users_only):
    assert users_only.statement.generic  # no statement ships for this campaign
    rows = by_id(users_only)
    for key in ["caught_early", "low_engagement", "low_engagement_vs_reference", "coordinated"]:
        claim = rows[key]
        assert claim.verdict == claims.NOT_TESTABLE, key
        assert "The data is a users file only: 71 accounts were loaded, with no tweets" in claim.evidence, key
        for wrong in ("no accounts", "account-table", "0.0%"):
            assert wrong not in claim.evidence, (key, wrong)
    # followers need no tweets: both follower verdicts are given, against the other 27 campaigns
    assert rows["low_followers"].verdict == claims.CONTRADICTED  # 25% under 10 followers, not most
    assert "of the 27 reference campaigns" in rows["low_followers_vs_reference"].evidence
    assert "left out of its own comparison" in rows["low_followers_vs_reference"].evidence


def test_an_account_table_of_retweets_says_retweets_only(ira_table, tmp_path):
    column_map = {"userid": "screen_name", "follower_count": "followers_max", "tweet_count": "tweets",
                  "retweet_total": "retweets_received_total"}
    _, work = steps.load(account_table=str(ira_table), campaign="ira_buzzfeed", work_dir=str(tmp_path / "work"),
                         column_map=column_map)
    prc = statement.shipped()["china_052020"]  # a statement with claims on content and on claim 4's models
    steps.engagement_vs_followers(work, n_boot=99, claims=prc)
    rows = by_id(steps.narrative(work, prc).assessment)
    low = rows["low_engagement"]
    assert "(retweets only: the data has no likes, replies or quotes counts)" in low.evidence
    assert "likes, retweets, replies and quotes" not in low.evidence
    for key in ("predominantly_chinese", "hong_kong_narratives", "us_politics"):
        assert rows[key].evidence.startswith(
            "The data is an account-level table (3,259 accounts, totals per account, no tweets)"), key
    assert "users file" not in " ".join(claim.evidence for claim in rows.values())
    row = rows["low_engagement_vs_reference"]
    assert row.verdict == claims.NOT_TESTABLE and "does not say whether its totals count retweet rows" in row.evidence
    # the NB and PPML elasticities disagree beyond their intervals on this table: the claim says so and
    # leads with the band means, its verdict resting on the rank correlation
    tracked = rows["engagement_tracked_followers"]
    assert tracked.evidence.startswith("Engagement per original tweet by follower band (95% CI): 0 followers")
    assert "does not fit these data" in tracked.evidence
    assert tracked.verdict == claims.SUPPORTED  # Spearman's interval lies above 0
