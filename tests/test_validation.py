"""The validation battery (validation/) can fail: its coverage check catches a model-based interval
under a mechanism it does not fit, and its mechanisms keep the mean they claim."""

import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "validation"))
import battery  # noqa: E402
import mechanisms  # noqa: E402

from helpers.stats import estimating, fitting, models  # noqa: E402

SEEDS = range(1, 41)


def records(mechanism, size=1_100, elasticity=0.8):
    """Account-level NB fits to one cell: its model-based (inverse Hessian) and HC3 intervals."""
    out = []
    for seed in SEEDS:
        accounts, _ = battery.draw_frames("synthetic", mechanism, size, elasticity, seed)
        acc = models._account_data(accounts)
        y, X, offset = acc["y"], acc["X"], acc["offset"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            poisson = fitting.fit_poisson(y, X, offset=offset)
            nb = fitting.fit_nb(y, X, offset=offset, start=models._start(poisson, y, X, offset), robust="nonrobust")
        params = np.asarray(nb.result.params)
        eq = estimating.Equation(y, X, offset, params[-1])
        out.append({"design": "synthetic", "mechanism": mechanism, "size": size, "elasticity": elasticity,
                    "seed": seed, "estimator": "elasticity_nb_account", "converged": nb.converged,
                    "estimate": params[1], "leverage": estimating.top_share(eq.weight(params[:2])),
                    "intervals": {"model": list(estimating.normal_interval(params[1], nb.result.bse[1])),
                                  "HC3": list(estimating.normal_interval(
                                      params[1], np.sqrt(eq.sandwich(params[:2], "HC3")[1, 1])))}})
    return out


def test_the_coverage_check_fails_a_model_based_interval_off_its_model():
    # dispersion growing with followers: the NB2 likelihood's own interval assumes one alpha
    rows = battery.summarise(records("nb_dispersion"))
    failed = battery.shortfalls(rows, size=1_100, method="model")
    assert len(failed) == 1 and failed[0]["coverage"] < 0.8, rows
    # on its own model (NB2) the same interval and the same check pass
    assert battery.shortfalls(battery.summarise(records("nb2")), size=1_100, method="model") == []


@pytest.mark.parametrize("mechanism", list(mechanisms.MECHANISMS))
def test_every_mechanism_keeps_the_log_linear_mean(mechanism):
    rng = np.random.default_rng(3)
    followers, tweets = mechanisms.synthetic(3_000, rng)
    bands = np.digitize(followers, [1, 10, 100, 1_000, 5_000])
    draws = np.array([np.bincount(bands, mechanisms.draw(mechanism, followers, tweets, 0.8, rng)[0], 6)
                      for _ in range(400)])  # (replicates, band) totals
    scale = (1 + followers) ** 0.8
    expected = np.bincount(bands, tweets * mechanisms.MEAN_PER_TWEET * tweets.sum() / (tweets * scale).sum() * scale, 6)
    error = np.abs(draws.mean(axis=0) - expected)
    standard_error = draws.std(axis=0) / np.sqrt(len(draws))
    assert (error <= 4 * standard_error + 1e-9).all(), (error, standard_error)


def test_per_tweet_draws_add_up_to_account_totals_in_distribution():
    rng = np.random.default_rng(4)
    followers, tweets = mechanisms.synthetic(1_100, rng)
    direct = np.array([mechanisms.draw("zero_inflated", followers, tweets, 0.3, rng)[0].sum() for _ in range(200)])
    summed = np.array([mechanisms.draw("zero_inflated", followers, tweets, 0.3, rng, per_tweet=True)[0].sum()
                       for _ in range(200)])
    assert direct.mean() == pytest.approx(summed.mean(), rel=0.03)
    assert direct.std() == pytest.approx(summed.std(), rel=0.25)


# --- slow: the battery on fresh seeds (neither the choice's 1-50 nor `make validate`'s 100001+) ---

SLOW_SEEDS = range(200_001, 200_061)
SLOW_CELLS = [("ira", mechanism, 3_259, 0.8) for mechanism in mechanisms.MECHANISMS] + \
    [("synthetic", "lognormal", 3_000, 0.3), ("synthetic", "nb_dispersion", 3_000, 0.8)]


@pytest.mark.slow
def test_reported_intervals_cover_or_say_fragile_on_fresh_seeds():
    records = [record for cell in SLOW_CELLS for seed in SLOW_SEEDS for record in battery.fresh_replicate(*cell, seed)]
    rows = [row for row in battery.summarise(records) if row["estimator"] != "elasticity_ppml_minus_nb"]
    print("\n".join(f"{r['design']}/{r['mechanism']}/{r['elasticity']} {r['estimator']}: coverage {r['coverage']:.3f}, "
                    f"fragile {r['fragile_share']:.2f}, width {r['mean_width']:.3f}" for r in rows))
    for row in rows:
        covered = round(row["coverage"] * row["with_interval"])
        assert not battery.convincingly_below(covered, row["with_interval"]) or row["fragile_share"] > 0.5, row
        assert row["converged"] >= 0.95 * row["replicates"], row


def _cell_records(estimator, covered, n, leverages, elasticity=0.3, mechanism="lognormal"):
    return [{"design": "synthetic", "mechanism": mechanism, "size": 3_000, "elasticity": elasticity, "seed": seed,
             "estimator": estimator, "converged": True, "estimate": elasticity, "leverage": leverage,
             "intervals": {"reported": [elasticity - 0.1, elasticity + 0.1] if seed < covered else [9.0, 9.5]}}
            for seed, leverage in zip(range(n), leverages)]


def test_fragile_cut_is_the_largest_that_marks_most_of_every_short_cell():
    ppml = "elasticity_ppml_account"
    short = _cell_records(ppml, 38, 50, np.linspace(0.20, 0.28, 50))  # 0.76: convincingly below 0.90
    covering = _cell_records(ppml, 48, 50, np.linspace(0.10, 0.15, 50), mechanism="nb2")
    nb_covering = _cell_records("elasticity_nb_account", 48, 50, np.linspace(0.30, 0.40, 50))
    cuts = battery.fragile_cuts([short + covering + nb_covering])
    # 31 of the short cell's 50 replicates lie above 0.23, only 25 above 0.24; a covering cell sets no cut
    assert cuts[ppml] == 0.23 and cuts["elasticity_nb_account"] is None
    # a cell within Monte Carlo error of 0.90 (44 of 50) sets no cut
    assert battery.fragile_cuts([_cell_records(ppml, 44, 50, np.full(50, 0.05))])[ppml] is None


def test_fragile_marks_read_from_the_leverage_follow_the_models_cuts():
    records = _cell_records("elasticity_ppml_account", 50, 2, [0.22, 0.24]) + \
        _cell_records("elasticity_nb_account", 50, 2, [0.24, 0.31])
    marked = [r["fragile"] for r in battery.mark_fragile(records)]
    assert marked == [False, True, False, True]


def test_misses_at_low_leverage_show_as_a_low_within_cell_percentile():
    records = _cell_records("elasticity_ppml_account", 40, 50, np.linspace(0.9, 0.1, 50))  # seeds 40-49 miss
    for record in records:
        record.update({name: record["leverage"] for name in battery.CANDIDATES})
    found = battery.miss_percentile(records)["elasticity_ppml_account"]
    assert found["misses"] == 10 and found["leverage"] == pytest.approx(np.mean(np.arange(1, 11) / 50))


def test_batches_found_as_coordination_groups_give_the_interval_batches_made_on_their_own_days_give():
    # the same draws, the same partition of accounts: one route through creation days, the other through the
    # coordination groups (days at random), so every count must agree; half the groups found must differ
    import reduced
    by_day = reduced.batches("synthetic:nb2:0.3:25:1:followers", range(1, 3))
    by_group = reduced.batches("synthetic:nb2:0.3:25:1:followers:group", range(1, 3))
    assert by_day == by_group and by_group["fits"] == 2 and by_group["warns_CR2"] >= 1
    half = reduced.batches("synthetic:nb2:0.3:25:1:followers:half", range(1, 3))
    assert half["fits"] == 2 and half["df_CR2"] != by_group["df_CR2"]


def test_the_reduced_tables_give_exact_intervals_and_check_the_done_when_lines():
    import reduced_tables
    from scipy import stats
    assert reduced_tables.rate(3, 40) == (f"3 of 40 ({stats.beta.ppf(0.025, 3, 38):.2f}-"
                                          f"{stats.beta.ppf(0.975, 4, 37):.2f})")
    step = {"cell": "ira:nb2:0:step", "seeds": [1, 10], "fits": 10, "fires": 7, "overlap_fires": 0}
    null = {"cell": "ira:nb2:0", "seeds": [1, 10], "verdicts": {"inconclusive": 8, "supported": 2}, "nb_covers": 9,
            "spearman_excludes0": 0, "within_strata_excludes0": 0}
    lines = reduced_tables.done_when([step, null])
    assert "- shape check on ira:nb2:0:step: fires 0.70 (at least 0.8): FAILS" in lines
    assert any(line.startswith("- claim 4 confident under no association, worst of 1 cells: ira:nb2:0, 2 of 10")
               for line in lines)
