"""Parameter recovery: simulate -> ingest -> frames -> models, against the simulator's truth.

For true elasticities 0, 0.3 and 0.8 the 95% intervals of the account-level NB
and PPML and of the clustered tweet-level NB must cover the truth and be
narrower than MAX_WIDTH (an infinitely wide interval covers everything): one
seed each in the normal suite (or be marked fragile, when a few accounts carry
the fit). Under ``-m slow``, 50 FRESH seeds each (SLOW_SEEDS: the interval
methods were chosen on the validation battery's seeds 1-50, and these played no
part), where each estimator's coverage must not be convincingly below 90% (one-
sided 95% Clopper-Pearson bound) unless it is marked fragile in most seeds. The measured coverage,
mean width and fragile share are printed, and written as JSON to
``$TRACTION_RECOVERY_OUT`` when that variable names a file.

The scale is the notebooks' sample: there about a dozen high-follower accounts
carry the account-level fits, the hard case for their intervals (measured
coverage: docs/statistics.md).
"""

import json
import os
import sys
from pathlib import Path

import pytest

from helpers import frames, results, simulate
from helpers.ingest import archive
from helpers.stats import models

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "validation"))
from battery import convincingly_below  # noqa: E402

ESTIMATORS = ("elasticity_nb_account", "elasticity_ppml_account", "elasticity_nb_tweet_clustered")
ELASTICITIES = (0.0, 0.3, 0.8)
SCALE = 0.05  # the notebooks' sample: ~1,190 accounts, ~12,000 original tweets
SLOW_SEEDS = range(5001, 5051)  # fresh: not the seeds any method was chosen on
MAX_WIDTH = 0.6  # of a 95% interval of an elasticity, at the sample scale (measured widths: docs/statistics.md)


def replicate(tmp_path, elasticity, seed, scale=SCALE):
    """The model entries fitted to one simulated, ingested and loaded campaign."""
    data_dir, work_dir = tmp_path / f"data-{elasticity}-{seed}", tmp_path / f"work-{elasticity}-{seed}"
    truth = simulate.write_campaign(data_dir, "recovery", simulate.Scenario(elasticity=elasticity,
                                                                             scale=scale), seed)
    assert truth["scenario"]["elasticity"] == elasticity
    archive.ingest(data_dir, "recovery", work_dir)
    loaded = frames.load(work_dir)
    fitted = models.fit_engagement_models(loaded.accounts, loaded.tweets, seed=seed)
    return {test_id: fitted.test(test_id) for test_id in ESTIMATORS}


def covered(entry, truth):
    assert entry["converged"], entry
    return entry["ci_low"] <= truth <= entry["ci_high"]


def width(entry):
    return entry["ci_high"] - entry["ci_low"]


def cases():
    return [pytest.param(test_id, id=test_id) for test_id in ESTIMATORS]


@pytest.fixture(scope="module")
def one_seed(tmp_path_factory):
    folder = tmp_path_factory.mktemp("recovery")
    return {e: replicate(folder, e, seed=1) for e in ELASTICITIES}


@pytest.mark.parametrize("test_id", cases())
@pytest.mark.parametrize("elasticity", ELASTICITIES)
def test_one_seed_covers_the_true_elasticity_with_a_bounded_interval(one_seed, elasticity, test_id):
    entry = one_seed[elasticity][test_id]
    assert covered(entry, elasticity) or results.fragile(entry), entry
    assert 0 < width(entry) < MAX_WIDTH, entry


@pytest.fixture(scope="module")
def coverage(tmp_path_factory):
    folder = tmp_path_factory.mktemp("coverage")
    keys = [(e, test_id) for e in ELASTICITIES for test_id in ESTIMATORS]
    hits, widths, fragile = ({key: 0.0 for key in keys} for _ in range(3))
    n = len(SLOW_SEEDS)
    for elasticity in ELASTICITIES:
        for seed in SLOW_SEEDS:
            for test_id, entry in replicate(folder, elasticity, seed).items():
                hits[elasticity, test_id] += covered(entry, elasticity) / n
                widths[elasticity, test_id] += width(entry) / n
                fragile[elasticity, test_id] += results.fragile(entry) / n
    label = "{1} @ elasticity {0}".format
    report = {"seeds": f"{SLOW_SEEDS[0]}-{SLOW_SEEDS[-1]}", "scale": SCALE,
              "coverage": {label(*key): round(v, 4) for key, v in hits.items()},
              "mean_width": {label(*key): round(v, 4) for key, v in widths.items()},
              "fragile_share": {label(*key): round(v, 4) for key, v in fragile.items()}}
    print(json.dumps(report, indent=2))
    if os.environ.get("TRACTION_RECOVERY_OUT"):
        with open(os.environ["TRACTION_RECOVERY_OUT"], "w", encoding="utf-8") as out:
            json.dump(report, out, indent=2)
    return hits, widths, fragile


@pytest.mark.slow
@pytest.mark.parametrize("test_id", cases())
def test_coverage_over_fresh_seeds_or_flagged_fragile(coverage, test_id):
    hits, widths, fragile = coverage
    for e in ELASTICITIES:
        n = len(SLOW_SEEDS)
        assert not convincingly_below(round(hits[e, test_id] * n), n) or fragile[e, test_id] > 0.5, \
            (e, hits[e, test_id], fragile[e, test_id])
        assert widths[e, test_id] < MAX_WIDTH
