"""helpers.results: contract keys, Holm adjustment, deterministic JSON."""

import json
import math

import numpy as np
import pandas as pd
import pytest

from helpers import results
from helpers.errors import TractionError


IDS = [m.id for m in results.MEASURES.values() if m.holm]


def entries(p_values, ids=IDS):
    return [results.entry(ids[i], "m", 0.5, (0.1, 0.9), n=10, p_value=p) for i, p in enumerate(p_values)]


def test_holm_matches_a_hand_computed_example():
    # sorted p: 0.01, 0.03, 0.04 with m = 3 -> 0.03, 0.06, max(0.06, 0.04) = 0.06
    built = results.build({}, entries([0.01, 0.04, 0.03]), {})
    assert [t["p_holm"] for t in built["tests"]] == [0.03, 0.06, 0.06]
    assert [t["p_value"] for t in built["tests"]] == [0.01, 0.04, 0.03]


def test_holm_caps_at_one_and_ignores_nan():
    built = results.build({}, entries([0.6, float("nan"), 0.7]), {})
    assert [t["p_holm"] for t in built["tests"]] == [1.0, None, 1.0]
    assert built["tests"][1]["p_value"] is None


def test_holm_family_is_the_claims_primary_tests_only():
    tests = entries([0.01, 0.04, 0.03])
    tests[1]["converged"] = False  # a fit that failed keeps its raw p but is no finding
    tests[2]["estimate"] = float("inf")  # demoted to not converged before the family is formed
    outside = entries([0.02, 0.02, 0.02], ids=["overdispersion_test", "elasticity_ppml_account",
                                                 "kendall_followers_engagement"])
    built = results.build({}, tests + outside, {})
    assert [t["p_holm"] for t in built["tests"]] == [0.01, None, None, None, None, None]
    assert [t["p_value"] for t in built["tests"]][3:] == [0.02, 0.02, 0.02]
    assert built["tests"][2]["converged"] is False


def test_every_holm_family_member_is_the_measure_of_a_shipped_claim():
    from helpers import statement

    primary = {claim.measure for path in statement.shipped().values() for claim in statement.read(path).claims}
    corroborating = {m.corroboration or m.baseline for m in results.MEASURES.values() if m.corroboration or m.baseline}
    for test_id in IDS:
        assert test_id in primary | corroborating, test_id


def test_parameterised_ids_resolve_to_their_family():
    assert results.measure("followers_share_under_8").question == "What share of the accounts had fewer than 8 followers?"
    assert results.measure("topic_a_b_minus_c_share_tweets").holm  # a difference of topics 'a_b' and 'c'
    assert results.family_parts("topic_a_b_minus_c_share_tweets") == ("topic_{A}_minus_{B}_share_tweets",
                                                                      {"a": "a_b", "b": "c"})
    assert results.measure("language_zh_share_tweets").is_share
    assert results.family_parts("accounts_created_share_2020_01")[1] == {"year": "2020", "month": "01"}
    for bad in ("followers_share_under_0", "accounts_created_share_2020_13", "tweets_share_from_2020_02_30x"):
        with pytest.raises(TractionError, match="not in the results contract"):
            results.measure(bad)


def test_fragile_is_read_from_the_warnings_prefix():
    entry = results.entry("elasticity_ppml_account", "m", 1.0, (0.5, 1.5), warnings=["a note"])
    assert not results.fragile(entry)
    entry["warnings"].append(results.FRAGILE + " 60% of the fit's weight in the top 1% of accounts")
    assert results.fragile(entry)


def test_entries_have_exactly_the_contract_keys():
    built = results.build({}, entries([0.5]), {})
    assert set(built["tests"][0]) == set(results.ENTRY_KEYS)
    bad = entries([0.5])[0] | {"extra": 1}
    with pytest.raises(TractionError, match="unexpected \\['extra'\\]"):
        results.build({}, [bad], {})
    with pytest.raises(TractionError, match="appears twice"):
        results.build({}, entries([0.5]) * 2, {})
    with pytest.raises(TractionError, match="not in the results contract"):
        results.build({}, [entries([0.5])[0] | {"id": "made_up"}], {})


def test_an_entry_takes_its_question_from_the_registry():
    built = results.entry("followers_median", "median follower_count", 3)
    assert built["question"] == results.MEASURES["followers_median"].question
    with pytest.raises(TractionError, match="made_up"):
        results.entry("made_up", "m")


def test_nan_estimate_is_never_reported_as_converged():
    test = results.entry("followers_median", "m", float("nan"))
    built = results.build({}, [test], {})["tests"][0]
    assert built["estimate"] is None and built["converged"] is False
    assert built["warnings"] == ["estimate is not a finite number"]


def test_values_are_rounded_and_json_ready():
    table = pd.DataFrame({"band": ["0", "1-9"], "mean": [1 / 3, np.nan], "n": np.array([3, 4], dtype=np.int64),
                          "when": pd.to_datetime(["2020-01-01", None])})
    built = results.build({"simulated": np.bool_(True), "seed": np.int64(7)}, [], {"bands": table, "x": np.float64(2 / 3)})
    assert built["descriptives"]["bands"] == [
        {"band": "0", "mean": 0.333333, "n": 3, "when": "2020-01-01T00:00:00"},
        {"band": "1-9", "mean": None, "n": 4, "when": None}]
    assert built["descriptives"]["x"] == 0.666667
    assert built["dataset"] == {"simulated": True, "seed": 7}
    assert results._round(123456789.0) == 123457000.0 and results._round(-1.23456789e-7) == -1.23457e-7


def test_write_is_byte_identical_and_sorted(tmp_path):
    doc = results.build({"b": 1, "a": [1.0, math.inf]}, entries([0.02, 0.2]), {"z": {"y": 1, "x": 2}})
    first = results.write(tmp_path / "one" / "results.json", doc).read_bytes()
    second = results.write(tmp_path / "two.json", results.build({"a": [1.0, math.inf], "b": 1},
                                                                entries([0.02, 0.2]), {"z": {"x": 2, "y": 1}})).read_bytes()
    assert first == second
    text = first.decode()
    assert text.index('"a"') < text.index('"b"') and "NaN" not in text and "Infinity" not in text
    assert results.read(tmp_path / "two.json") == json.loads(text)
    assert not list(tmp_path.rglob("*.partial"))


def test_read_missing_file_names_the_notebook(tmp_path):
    with pytest.raises(TractionError, match="run 02_engagement_vs_followers.ipynb first"):
        results.read(tmp_path / "results.json")
