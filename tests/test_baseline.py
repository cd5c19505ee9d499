"""Baseline accounts: the campaign's engagement relative to ordinary accounts with the same follower count.

Recovery on the simulator's "ordinary accounts" scenario (a known ratio): one
seed in the normal suite, 50 seeds per ratio under ``-m slow``, where at least
90% of the 95% intervals must cover the truth. Off the simulator, the same
under a mechanism unlike it: the real follower and tweet counts of the IRA
table (a real design) with lognormal account effects and Poisson counts. The
measured coverage is printed and written to ``$TRACTION_BASELINE_OUT`` when set
(figures: docs/reference.md).
"""

import json
import os

import numpy as np
import pandas as pd
import pytest

from helpers import frames, simulate, steps
from helpers.errors import TractionError
from helpers.ingest import archive
from helpers.stats import baseline

SCALE = 0.05  # the notebooks' sample: ~1,190 campaign accounts, ~1,000 ordinary ones
RATIOS = (0.5, 1.0)
SLOW_SEEDS = 50
# Fresh seeds: the interval was chosen on seeds 101-150 (and a pooled working variance, which covered 88% on
# seeds 1-50, was dropped); reported on these.
SIMULATOR_SEEDS = range(1001, 1001 + SLOW_SEEDS)


def replicate(folder, ratio, seed):
    """(entry, campaign frames, baseline frames) for one simulated campaign and its ordinary accounts."""
    truth = simulate.write_campaign(folder / f"campaign-{ratio}-{seed}", "campaign", simulate.Scenario(scale=SCALE),
                                    seed)
    ordinary = simulate.ordinary_accounts(truth, ratio, scale=SCALE)
    simulate.write_campaign(folder / f"ordinary-{ratio}-{seed}", "ordinary", ordinary, seed + 10_000)
    archive.ingest(folder / f"campaign-{ratio}-{seed}", "campaign", folder / f"work-c-{ratio}-{seed}")
    archive.ingest(folder / f"ordinary-{ratio}-{seed}", "ordinary", folder / f"work-o-{ratio}-{seed}")
    campaign, base = frames.load(folder / f"work-c-{ratio}-{seed}"), frames.load(folder / f"work-o-{ratio}-{seed}")
    return baseline.baseline_tests(campaign.accounts, base.accounts)[0], campaign, base


def covered(entry, truth):
    assert entry["converged"], entry
    return entry["ci_low"] <= truth <= entry["ci_high"]


def test_the_ordinary_scenario_sets_the_known_ratio():
    truth = {"scenario": {"elasticity": 0.6, "dispersion": 1.5}, "engagement_intercept": -3.0}
    scenario = simulate.ordinary_accounts(truth, 0.25)
    assert scenario.engagement_intercept == pytest.approx(-3.0 - np.log(0.25))
    assert (scenario.elasticity, scenario.dispersion, scenario.amplified_share) == (0.6, 1.5, 0.0)
    with pytest.raises(TractionError, match="must be positive"):
        simulate.ordinary_accounts(truth, 0)


def test_one_seed_recovers_the_ratio_that_followers_alone_would_hide(tmp_path):
    entry, campaign, base = replicate(tmp_path, 0.5, seed=1)
    assert covered(entry, 0.5), entry
    assert entry["ci_high"] < 1  # the campaign's accounts really did get less than the ordinary ones
    naive = (campaign.accounts["engagement"].sum() / campaign.accounts["n_original"].sum()) / \
        (base.accounts["engagement"].sum() / base.accounts["n_original"].sum())
    assert naive < entry["ci_low"] / 3  # unadjusted, the ordinary accounts' larger audiences would dominate
    assert any("without adjusting for followers" in warning for warning in entry["warnings"])
    assert entry["n"] == int((campaign.accounts["n_original"] > 0).sum() + (base.accounts["n_original"] > 0).sum())


def test_without_a_baseline_the_entry_says_why():
    entry = baseline.baseline_tests(pd.DataFrame({"follower_count": [1], "n_original": [1], "engagement": [1]}))[0]
    assert not entry["converged"] and entry["warnings"] == ["skipped: no baseline accounts were given (parameter "
                                                            "baseline)"]


def test_a_baseline_with_no_engagement_is_skipped_not_fitted():
    accounts = pd.DataFrame({"follower_count": [1, 5, 9], "n_original": [2, 3, 1], "engagement": [1, 4, 0]})
    entry = baseline.baseline_tests(accounts, accounts.assign(engagement=0))[0]
    assert not entry["converged"] and "needs at least 2 with some engagement" in entry["warnings"][0]


def test_the_step_takes_an_account_table_or_a_run_folder_as_baseline(tmp_path):
    truth = simulate.write_campaign(tmp_path / "campaign", "campaign", simulate.Scenario(scale=0.02), 5)
    simulate.write_campaign(tmp_path / "ordinary", "ordinary", simulate.ordinary_accounts(truth, 0.5, scale=0.02), 6)
    archive.ingest(tmp_path / "campaign", "campaign", tmp_path / "run" / "work")
    archive.ingest(tmp_path / "ordinary", "ordinary", tmp_path / "ordinary-run" / "work")
    by_folder = steps.engagement_vs_followers(tmp_path / "run" / "work", n_boot=99, baseline=tmp_path / "ordinary-run")
    tests = {entry["id"]: entry for entry in by_folder.document["tests"]}
    assert tests["baseline_engagement_ratio"]["converged"]
    assert by_folder.document["dataset"]["baseline"]["campaign"] == "ordinary"
    # The same accounts as an account table in traction's column names give the same ratio.
    accounts = frames.load(tmp_path / "ordinary-run" / "work").accounts
    table = tmp_path / "ordinary_accounts.csv"
    accounts.assign(tweet_count=accounts["n_original"], engagement_total=accounts["engagement"])[
        ["userid", "follower_count", "tweet_count", "engagement_total"]].to_csv(table, index=False)
    by_table = steps.engagement_vs_followers(tmp_path / "run" / "work", n_boot=99, baseline=table)
    again = {entry["id"]: entry for entry in by_table.document["tests"]}["baseline_engagement_ratio"]
    assert again["estimate"] == pytest.approx(tests["baseline_engagement_ratio"]["estimate"], rel=1e-6)
    assert by_table.document["dataset"]["baseline"]["form"] == "account_table"


def test_a_users_only_baseline_is_refused_with_the_reason(tmp_path):
    simulate.write_campaign(tmp_path / "data", "users", simulate.Scenario(scale=0.01), 3)
    (tmp_path / "data" / "users_tweets_csv_hashed.csv").unlink()
    archive.ingest(tmp_path / "data", "users", tmp_path / "users-run" / "work")
    with pytest.raises(TractionError, match="a users file only, with no engagement"):
        frames.load_baseline(tmp_path / "users-run")
    with pytest.raises(TractionError, match="no such folder or file"):
        steps.load_baseline(tmp_path / "nowhere", tmp_path)


def unlike_replicate(design, ratio, seed, spread=1.2):
    """Real IRA follower and tweet counts, split at random into campaign and baseline; Poisson counts with
    lognormal account effects (not the simulator's per-tweet negative binomial)."""
    rng = np.random.default_rng(seed)
    campaign = rng.random(len(design)) < 0.5
    effect = rng.lognormal(-spread**2 / 2, spread, len(design))
    mean = design["tweets"] * 0.02 * (1 + design["followers"]) ** 0.6 * np.where(campaign, ratio, 1.0) * effect
    accounts = pd.DataFrame({"follower_count": design["followers"], "n_original": design["tweets"],
                             "engagement": rng.poisson(mean)})
    return baseline.baseline_tests(accounts[campaign], accounts[~campaign])[0]


@pytest.fixture(scope="module")
def ira_design(ira_table):
    table = pd.read_csv(ira_table)
    design = pd.DataFrame({"followers": table["followers_max"], "tweets": table["tweets"]}).dropna()
    return design[design["tweets"] > 0].astype(float).reset_index(drop=True)


def test_off_the_simulator_one_seed_covers_the_ratio(ira_design):
    assert covered(unlike_replicate(ira_design, 0.5, seed=1), 0.5)


@pytest.mark.slow
def test_coverage_over_seeds(tmp_path_factory, ira_design):
    folder = tmp_path_factory.mktemp("baseline")
    report = {"simulator_seeds": f"{SIMULATOR_SEEDS.start}-{SIMULATOR_SEEDS.stop - 1}", "scale": SCALE,
              "off_simulator_seeds": f"1-{4 * SLOW_SEEDS}", "simulator": {}, "off_simulator_ira_design": {}}
    for ratio in RATIOS:
        entries = [replicate(folder, ratio, seed)[0] for seed in SIMULATOR_SEEDS]
        report["simulator"][ratio] = summary(entries, ratio)
        entries = [unlike_replicate(ira_design, ratio, seed) for seed in range(1, 4 * SLOW_SEEDS + 1)]
        report["off_simulator_ira_design"][ratio] = summary(entries, ratio)
    print(json.dumps(report, indent=2))
    if os.environ.get("TRACTION_BASELINE_OUT"):
        with open(os.environ["TRACTION_BASELINE_OUT"], "w", encoding="utf-8") as out:
            json.dump(report, out, indent=2)
    for part in ("simulator", "off_simulator_ira_design"):
        for ratio, measured in report[part].items():
            assert measured["coverage"] >= 0.9, (part, ratio, measured)


def summary(entries, truth):
    hits = [covered(entry, truth) for entry in entries]
    logs = np.log([entry["estimate"] for entry in entries])
    return {"replicates": len(entries), "coverage": float(np.mean(hits)),
            "median_estimate": float(np.exp(np.median(logs))),
            "mean_log_width": float(np.mean([np.log(e["ci_high"] / e["ci_low"]) for e in entries]))}
