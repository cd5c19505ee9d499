"""helpers.report.tables: numbers for reading, no index column, words for names, everything escaped."""

import numpy as np
import pandas as pd
import pytest

from helpers.report import tables


@pytest.mark.parametrize("value, shown", [
    (23750, "23,750"), (126220.0, "126,220"), (0.0, "0"), (0.551, "0.551"), (0.5509890, "0.551"),
    (1.2311, "1.23"), (12.345, "12.3"), (0.1, "0.1"), (0.0330, "0.033"), (1234.56, "1,235"),
    (1.5e-5, "1.50e-05"), (None, "–"), (float("nan"), "–"), (np.int64(7), "7"), (True, "yes"),
    (float("inf"), "∞"),
])
def test_numbers_read_as_a_person_writes_them(value, shown):
    assert tables.number(value) == shown


def test_p_values_are_floored_and_missing_is_a_dash():
    assert tables.p_value(1e-40) == "< 0.0001" and tables.p_value(0.0312) == "0.031"
    assert tables.p_value(None) == "–" and tables.p_value(float("nan")) == "–"


def test_a_table_has_no_index_words_for_names_and_escaped_text():
    frame = pd.DataFrame({"id": ["followers_median", "<b>x</b>"], "estimate": [3.0, np.nan],
                          "ci_low": [2.0, None], "ci_high": [4.0, None], "p_value": [None, 2e-9],
                          "n": [23750, 12], "converged": [True, False], "warnings": [[], ["a & b", "c"]]})
    html = tables.table_html(tables.tests_table(frame.to_dict(orient="records")))
    head = html[html.index("<thead>"):html.index("</thead>")]
    assert [h for h in ("measure", "estimate", "95% CI", "p", "p (Holm)", "n", "converged", "warnings")
            if f">{h}</th>" in head] == ["measure", "estimate", "95% CI", "p", "p (Holm)", "n", "converged",
                                         "warnings"]
    assert "ci_low" not in html and ">0<" not in head  # no index column, no raw names
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>" not in html
    assert ">2\u00a0to 4<" in html and ">23,750<" in html and ">&lt; 0.0001<" in html
    assert ">a &amp; b; c<" in html and ">yes<" in html and ">no<" in html and ">–<" in html
    assert "followers_<wbr>median" in html  # identifiers may break at underscores, never mid-word


def test_the_model_table_pairs_each_fit_with_its_elasticity():
    document = {"tests": [{"id": "elasticity_nb_account", "estimate": 0.8, "ci_low": 0.7, "ci_high": 0.9}],
                "descriptives": {"model_comparison": [
                    {"model": "NB (account)", "level": "account", "n": 100, "converged": True, "aic": 10.5,
                     "bic": 12.25, "loglik": -3.0, "n_params": 3},
                    {"model": "Poisson (tweet)", "level": "tweet", "n": 900, "converged": True, "aic": 99.0,
                     "bic": 101.0, "loglik": -40.0, "n_params": 2}]}}
    table = tables.model_table(document)
    assert list(table.columns) == ["model", "level", "n", "elasticity", "ci", "converged", "aic", "bic"]
    assert table.loc[0, "ci"] == "0.7\u00a0to 0.9" and table.loc[1, "ci"] == "–"
    assert pd.isna(table.loc[1, "elasticity"])
