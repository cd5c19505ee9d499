"""Issue 24's reduced battery: the shape check, claim 4 under no association, batches and a fallback respecting
exposure, through the product's calls.

A few cells at 3,000 accounts, one JSON line per cell on stdout (docs/statistics.md, "Reduced-battery figures");
``make validate-reduced`` (the end of ``make validate``) runs them all on fresh seeds. Cells are colon-separated:

    nice python validation/reduced.py shape 1 20 ira:lognormal:0.3:log_linear ira:nb2:0:step ...
    nice python validation/reduced.py claim4 300001 50 ira:nb2:0 ira:nb2:0:step synthetic:lognormal:0 ...
    nice python validation/reduced.py batches 400001 30 ira:nb2:0.3:25:1:followers ira:nb2:0.3:25:0:random ...
    nice python validation/reduced.py exposure 500001 100 ira:lognormal:0 ira:nb2:0.3 ira:nb2:0:step ...

``shape`` (design:mechanism:elasticity:curve): how often the shape check (and, for comparison, the overlap of
PPML and NB) marks the primary elasticity misspecified, with the p-values. ``claim4`` (design:mechanism:
elasticity[:curve]): claim 4's verdict by ``claims.judge`` on the PRC statement, with the rank correlations.
``batches`` (design:mechanism:elasticity:batch size:shared variance:followers|random[:day|group|half]): each batch
of accounts shares one Gamma effect and either one creation day (``day``, the default) or, made on days at random,
one coordination group (``group``; ``half``: half the batches found as groups); coverage of the account-level and
reported intervals, how often the product warns ``clustered:`` (``warned``; ``misses_warned``: of the account-level
interval's misses), and of each clustered sandwich (``models.BATCH_METHODS``: CR1, CR2) by its width alone, as the
product used it before the residual check. ``exposure`` (design:mechanism:elasticity[:curve]): how often the score
test permuted within tweet strata and the within-strata Spearman's permutation test reject at 5% (no model fitted).
"""

import dataclasses
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import mechanisms  # noqa: E402

from helpers import results, statement  # noqa: E402
from helpers.report import claims  # noqa: E402
from helpers.stats import descriptives, models  # noqa: E402

SIZE = 3_000
CLAIM = next(c for c in statement.choose("", "china_052020").claims if c.id == "engagement_tracked_followers")


def _fit(accounts, groups=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return models.fit_engagement_models(accounts, None, groups=groups)


def _accounts(followers, n_original, totals, **extra):
    return pd.DataFrame({"userid": np.arange(len(followers)).astype(str), "follower_count": followers,
                         "n_original": n_original, "engagement": totals, **extra})


def _verdict(fit, accounts, seed, alternative=False):
    """Claim 4's verdict, and the entries; with ``alternative``, also its verdict under the other setting of the
    primary's ``corroborate_always`` (the rule was chosen on seeds 1-30, docs/statistics.md)."""
    doc = {"dataset": {"simulated": True, "form": "account_table"}, "descriptives": {},
           "tests": fit.tests + descriptives.rank_tests(accounts, n_boot=999, seed=seed)}
    verdict = claims.judge(CLAIM, doc).verdict
    if not alternative:
        return verdict, {e["id"]: e for e in doc["tests"]}
    primary = results.MEASURES[CLAIM.measure]
    results.MEASURES[CLAIM.measure] = dataclasses.replace(primary, corroborate_always=not primary.corroborate_always)
    try:
        other = claims.judge(CLAIM, doc).verdict
    finally:
        results.MEASURES[CLAIM.measure] = primary
    return verdict, other, {e["id"]: e for e in doc["tests"]}


def _excludes_zero(entry):
    return entry["ci_low"] is not None and (entry["ci_low"] > 0 or entry["ci_high"] < 0)


def shape(cell, seeds):
    design, mechanism, elasticity, curve = cell.split(":")
    elasticity, p_values, overlap = float(elasticity), [], 0
    for seed in seeds:
        rng = np.random.default_rng([seed, list(mechanisms.DESIGNS).index(design),
                                     list(mechanisms.MECHANISMS).index(mechanism), SIZE, int(100 * elasticity),
                                     7 if curve == "step" else 0])
        followers, n = mechanisms.DESIGNS[design](SIZE, rng)
        totals, _ = mechanisms.draw(mechanism, followers, n, elasticity, rng, curve=curve)
        fit = _fit(_accounts(followers, n, totals))
        if not fit.test("elasticity_nb_account")["converged"]:
            continue
        beta = np.asarray(fit.fits["nb_account"].result.params)[:2]
        p_values.append(models.shape_check(fit.equations["nb_account"], beta, followers[n > 0]).p_value)
        overlap += bool(results.misspecified(fit.test("elasticity_ppml_minus_nb")))
    return {"fits": len(p_values), "fires": int(np.sum(np.array(p_values) < models.SHAPE_LEVEL)),
            "overlap_fires": overlap, "p_values": [round(p, 5) for p in p_values]}


def _replicate(cell, seed, stream):
    """(elasticity, followers, tweets, engagement totals) of one replicate of a ``design:mechanism:elasticity[:curve]``
    cell; ``stream`` keeps each kind of cell's draws apart."""
    design, mechanism, elasticity, *curve = cell.split(":")
    elasticity, curve = float(elasticity), (curve or ["log_linear"])[0]
    rng = np.random.default_rng([seed, stream, list(mechanisms.DESIGNS).index(design),
                                 list(mechanisms.MECHANISMS).index(mechanism), int(100 * elasticity),
                                 int(curve == "step")])
    followers, n = mechanisms.DESIGNS[design](SIZE, rng)
    totals, _ = mechanisms.draw(mechanism, followers, n, elasticity, rng, curve=curve)
    return elasticity, followers, n, totals


def claim4(cell, seeds):
    out = {"verdicts": {}, "verdicts_other_rule": {}, "nb_covers": 0, "shape_fires": 0, "spearman_excludes0": 0,
           "within_strata_excludes0": 0}
    for seed in seeds:
        elasticity, followers, n, totals = _replicate(cell, seed, 13)
        accounts = _accounts(followers, n, totals)
        verdict, other, tests = _verdict(_fit(accounts), accounts, seed, alternative=True)
        nb = tests["elasticity_nb_account"]
        out["verdicts"][verdict] = out["verdicts"].get(verdict, 0) + 1
        out["verdicts_other_rule"][other] = out["verdicts_other_rule"].get(other, 0) + 1
        out["nb_covers"] += bool(nb["converged"] and nb["ci_low"] <= elasticity <= nb["ci_high"])
        out["shape_fires"] += bool(results.misspecified(nb))
        out["spearman_excludes0"] += _excludes_zero(tests["spearman_followers_engagement"])
        out["within_strata_excludes0"] += _excludes_zero(tests["spearman_followers_engagement_within_tweet_strata"])
    return out


def exposure(cell, seeds):
    """How often the studentized score test permuted within tweet strata (``descriptives.within_strata_score_test``)
    rejects at 5%, beside the within-strata Spearman's permutation test (no model is fitted: the tests alone)."""
    out = {"replicates": 0, "score_rejects": 0, "spearman_within_rejects": 0}
    for seed in seeds:
        _, followers, n, totals = _replicate(cell, seed, 19)
        used = n > 0
        followers, n, totals = followers[used], n[used], totals[used]
        strata = descriptives.exposure_strata(n)
        found = descriptives.within_strata_score_test(followers, totals, n, strata, seed=seed)
        p_score = None if found is None else found.p_value
        p_rank = descriptives.within_strata_permutation_p(followers, totals / n, strata, seed=seed)
        out["replicates"] += 1
        out["score_rejects"] += bool(p_score is not None and p_score < 0.05)
        out["spearman_within_rejects"] += bool(p_rank is not None and p_rank < 0.05)
    return out


def batches(cell, seeds):
    design, mechanism, elasticity, size, shared, along, *seen = cell.split(":")
    elasticity, size, shared, seen = float(elasticity), int(size), float(shared), (seen or ["day"])[0]
    out = {"fits": 0, "account_level_covers": 0, "reported_covers": 0, "account_level_misses": 0, "warned": 0,
           "misses_warned": 0, "reported_misses_warned": 0, "verdicts": {},
           **{f"{key}_{method}": 0 for method in models.BATCH_METHODS
              for key in ("clustered_covers", "warns", "misses_warned", "reported_covers")}, "df_CR2": []}
    for seed in seeds:
        rng = np.random.default_rng([seed, 17, list(mechanisms.DESIGNS).index(design),
                                     list(mechanisms.MECHANISMS).index(mechanism), int(100 * elasticity), size,
                                     int(10 * shared), int(along == "followers")])
        followers, n = mechanisms.DESIGNS[design](SIZE, rng)
        batch = mechanisms.batches(followers, size, along, rng)
        effect = mechanisms.batch_effect(batch, shared, rng) if shared > 0 else None
        totals, _ = mechanisms.draw(mechanism, followers, n, elasticity, rng, effect=effect)
        # seen by creation day: each batch made on its own day; by coordination group: made on days at random
        # (over 3,000), each batch one group of the coordination measure (``half``: half the batches, at random)
        day = batch if seen == "day" else rng.integers(0, 3000, len(batch))
        accounts = _accounts(followers, n, totals, account_creation_date=pd.Timestamp("2016-01-01", tz="UTC")
                             + pd.to_timedelta(day, unit="D"))
        groups = None
        if seen != "day":
            grouped = rng.random(batch.max() + 1) < (0.5 if seen == "half" else 1.0)
            groups = pd.DataFrame({"userid": accounts["userid"], "group": batch + 1})[grouped[batch]]
        fit = _fit(accounts, groups)
        nb = fit.test("elasticity_nb_account")
        if not nb["converged"]:
            continue
        eq, beta = fit.equations["nb_account"], np.asarray(fit.fits["nb_account"].result.params)[:2]
        low, high = models._interval(eq, beta)[:2]
        covered = bool(low <= elasticity <= high)
        out["fits"] += 1
        out["account_level_covers"] += covered
        out["account_level_misses"] += not covered
        out["reported_covers"] += bool(nb["ci_low"] <= elasticity <= nb["ci_high"])
        product_warned = bool(results.clustered(nb)[0])  # its clustered: warning, by width or by correlation
        out["warned"] += product_warned
        out["misses_warned"] += product_warned and not covered
        out["reported_misses_warned"] += product_warned and not nb["ci_low"] <= elasticity <= nb["ci_high"]
        acc = models._account_data(accounts, groups)
        if seen == "day":
            codes, counted = models.batch_codes(acc["batches"])[2:]
        else:
            codes = acc["groups"]
            counted = models.groups_counted(codes)
        for method in models.BATCH_METHODS:  # each sandwich as the product would use it
            found = models.batch_interval(eq, beta, codes, low, high, method, counted=counted)
            warned = found.ratio >= models.BATCH_WIDER
            reported = (found.low, found.high) if warned else (low, high)
            out[f"clustered_covers_{method}"] += bool(found.low <= elasticity <= found.high)
            out[f"warns_{method}"] += bool(warned)
            out[f"misses_warned_{method}"] += bool((not covered) and warned)
            out[f"reported_covers_{method}"] += bool(reported[0] <= elasticity <= reported[1])
            if method == "CR2":
                out["df_CR2"].append(round(found.df, 1))
        verdict, _ = _verdict(fit, accounts, seed)
        out["verdicts"][verdict] = out["verdicts"].get(verdict, 0) + 1
    return out


def definition(cell, seeds):
    """Creation day or creation week as the batch: each batch's accounts are made over ``span`` consecutive days
    from a day at random (over 1,000, so batches overlap and weeks cut some), and each unit's clusters go through
    the product's own rule (``models._with_batches``) against the same account-level entry."""
    design, mechanism, elasticity, size, shared, along, span = cell.split(":")
    elasticity, size, shared, span = float(elasticity), int(size), float(shared), int(span)
    out = {"fits": 0, "account_level_covers": 0,
           **{f"{key}_{unit}": 0 for unit in ("day", "week") for key in ("reported_covers", "warned", "misses_warned")},
           "clusters_week": []}
    for seed in seeds:
        rng = np.random.default_rng([seed, 23, list(mechanisms.DESIGNS).index(design),
                                     list(mechanisms.MECHANISMS).index(mechanism), int(100 * elasticity), size,
                                     int(10 * shared), int(along == "followers"), span])
        followers, n = mechanisms.DESIGNS[design](SIZE, rng)
        batch = mechanisms.batches(followers, size, along, rng)
        effect = mechanisms.batch_effect(batch, shared, rng) if shared > 0 else None
        totals, _ = mechanisms.draw(mechanism, followers, n, elasticity, rng, effect=effect)
        day = rng.integers(0, 1000, batch.max() + 1)[batch] + rng.integers(0, span, len(batch))
        accounts = _accounts(followers, n, totals, account_creation_date=pd.Timestamp("2016-01-04", tz="UTC")
                             + pd.to_timedelta(day, unit="D"))
        fit = _fit(accounts.drop(columns="account_creation_date"))
        if not fit.test("elasticity_nb_account")["converged"]:
            continue
        eq, beta = fit.equations["nb_account"], np.asarray(fit.fits["nb_account"].result.params)[:2]
        low, high, p_value, _ = models._interval(eq, beta)
        covered = bool(low <= elasticity <= high)
        out["fits"] += 1
        out["account_level_covers"] += covered
        used = n > 0
        for unit, width in (("day", 1), ("week", 7)):
            entry = models._with_batches({"converged": True, "ci_low": low, "ci_high": high, "p_value": p_value,
                                          "warnings": []}, eq, beta, {"batches": day[used] + 0.0, "groups": None},
                                         units=[(f"creation {unit}", width, f"{unit}s")])
            warned = bool(results.clustered(entry)[0])
            out[f"reported_covers_{unit}"] += bool(entry["ci_low"] <= elasticity <= entry["ci_high"])
            out[f"warned_{unit}"] += warned
            out[f"misses_warned_{unit}"] += warned and not covered
        out["clusters_week"].append(len(np.unique(day[used] // 7)))
    out["clusters_week"] = [min(out["clusters_week"], default=0), max(out["clusters_week"], default=0)]
    return out


if __name__ == "__main__":
    kind, start, reps, *cells = sys.argv[1:]
    for cell in cells:
        began = time.time()
        found = {"shape": shape, "claim4": claim4, "batches": batches, "exposure": exposure,
                 "definition": definition}[kind](
            cell, range(int(start), int(start) + int(reps)))
        print(json.dumps({"cell": cell, "seeds": [int(start), int(start) + int(reps) - 1], **found,
                          "seconds": round(time.time() - began)}), flush=True)
