"""Every statistic of notebook 02 over one campaign's frames: ``analyse(frames, coordinated) -> Analysis``.

Takes the tidy frames of ``helpers.frames`` (never files) and returns the
results-contract entries, the descriptive tables and the fitted count models.
The tweet-level parts are skipped, with the reason in their entries, when the
data has no tweets (account-table or users-only form).
"""

from dataclasses import dataclass, field

import pandas as pd

from helpers import frames as frames_io
from helpers.errors import TractionError
from helpers.results import ENTRY_KEYS
from helpers.statement import Statement
from helpers.stats import (amplification, baseline as baseline_model, content, descriptives, dose_response,
                           lifespan, models, reference)
from helpers.stats.coordination import Coordination


@dataclass
class Analysis:
    """What ``analyse`` computed; ``summary()`` prints it, ``tests_frame()`` tabulates it."""

    frames: frames_io.Frames
    tests: list  # results-contract entries (p_holm not yet filled: results.build does that)
    tables: dict  # name -> DataFrame
    fitted: models.EngagementModels
    parameters: dict = field(default_factory=dict)
    coordination: Coordination | None = None  # None only for an Analysis built by hand

    def test(self, test_id) -> dict:
        return next(entry for entry in self.tests if entry["id"] == test_id)

    def tests_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.tests, columns=list(ENTRY_KEYS))

    def summary(self) -> str:
        shown = self.tests_frame()[["id", "estimate", "ci_low", "ci_high", "p_value", "n", "converged"]]
        return "\n".join([f"{len(self.tests)} measures over {len(self.frames.accounts):,} accounts "
                          f"({self.frames.form} form)", shown.to_string(index=False, float_format="%.4g"), "",
                          self.fitted.summary(), "", self.coordination.summary() if self.coordination else ""])


def analyse(loaded: frames_io.Frames, coordinated: Coordination, *, n_boot=999, seed=0,
            baseline: frames_io.Frames | None = None, statement: Statement | None = None) -> Analysis:
    """All measures, tables and models of a campaign (see the module docstring).

    ``coordinated``: the coordination, measured beforehand in a process of its own (``steps.measure_coordination``;
    ``coordination.empty(why)`` where there are no tweet rows). ``baseline``: another campaign's frames (e.g.
    ordinary accounts) for ``baseline_engagement_ratio``. ``statement``: the statement under test, whose
    parameterised measures (follower lines, topic differences, creation months) are computed too; its topics,
    languages and days are counted by the frames (``loaded.content``).
    """
    acc, tw = loaded.accounts, loaded.tweets
    common = dict(n_boot=n_boot, seed=seed)
    fitted = models.fit_engagement_models(acc, tw, seed=seed, groups=_measured_groups(coordinated))
    asks = statement or Statement(by="", claims=())
    tests = (descriptives.count_entries(acc, loaded.totals, tweet_rows=loaded.form == frames_io.FORM_ARCHIVE)
             + descriptives.follower_tests(acc, lines=asks.follower_lines(), **common)
             + descriptives.engagement_tests(acc, tw, tweets_note=loaded.tweets_sample_note, **common)
             + descriptives.rank_tests(acc, **common)
             + amplification.amplification_tests(acc, **common)
             + descriptives.per_account_engagement_tests(acc, **common)
             + lifespan.lifespan_tests(acc, **common)
             + lifespan.creation_tests(acc, asks.creation_months(), **common)
             + fitted.tests
             + content.content_tests(acc, loaded.content, asks.topic_differences(), **common)
             + reference.reference_tests(acc, loaded.reference, loaded.campaign, **common)
             + baseline_model.baseline_tests(acc, None if baseline is None else baseline.accounts,
                                             baseline_name=_baseline_name(baseline))
             + coordinated.tests)
    tables = {"follower_quantiles": descriptives.follower_quantiles(acc),
              "engagement_quantiles": descriptives.engagement_quantiles(acc, tw),
              "follower_bands": dose_response.band_table(acc, **common),
              "lifespan_bands": lifespan.lifespan_table(acc, **common),
              "top_hashtags": loaded.top_hashtags if loaded.top_hashtags is not None else pd.DataFrame(),
              "coordination_by_window": coordinated.by_window,
              **model_tables(fitted),
              **reference_tables(loaded)}
    return Analysis(loaded, tests, tables, fitted, {"n_boot": n_boot, "seed": seed}, coordinated)


def _measured_groups(coordinated: Coordination) -> pd.DataFrame | None:
    """The coordinated accounts and their groups, or None when the coordination was not measured (no tweet rows)."""
    return None if coordinated.by_window.empty else coordinated.accounts


def reference_tables(loaded: frames_io.Frames) -> dict:
    """The reference set as compared with (who was left out) and, for a campaign in it, our totals beside its."""
    if loaded.reference is None:
        return {}
    return {"reference_set": reference.reference_table(loaded.reference, loaded.campaign),
            "published_checks": reference.published_checks(loaded.totals, loaded.reference, loaded.campaign),
            "totals": loaded.totals}


def _baseline_name(baseline) -> str:
    return f"the baseline ({baseline.campaign or 'unnamed'})" if baseline is not None else "the baseline"


def model_tables(fitted: models.EngagementModels) -> dict:
    """The models' tables: AIC/BIC comparison and the rootogram's counts."""
    try:
        rootogram = fitted.rootogram()
    except TractionError as error:  # no converged NB to compare with
        rootogram = {"not_computed": str(error)}
    return {"model_comparison": fitted.model_comparison, "rootogram": rootogram}
