"""Notebook 02's steps as functions: statistics, models, figures and results.json.

Each step takes the tidy frames (``helpers.frames``) and returns plain data,
so the notebook shows them one by one and ``run`` chains them for scripts,
tests and benchmarks. The tweet-level parts are skipped, with the reason in
the results, when the data has no tweets (account-table or users-only form).
"""

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from helpers import bands, content, engagement, figures, frames as frames_io, models, results
from helpers.errors import TractionError


@dataclass
class Analysis:
    frames: frames_io.Frames
    tests: list
    tables: dict
    fitted: models.EngagementModels | None = None
    figures: list = field(default_factory=list)  # {"name", "file", "title", "caption"}
    warnings: list = field(default_factory=list)


def statistics(loaded: frames_io.Frames, *, n_boot=999, seed=0) -> tuple[list, dict]:
    """Descriptive result entries (parts 1, 2, 6, 7) and the descriptive tables."""
    acc, tw = loaded.accounts, loaded.tweets
    common = dict(n_boot=n_boot, seed=seed)
    tests = (engagement.follower_tests(acc, **common) + engagement.engagement_tests(acc, tw, tweets_note=loaded.tweets_sample_note, **common)
             + engagement.rank_tests(acc, **common) + bands.amplification_tests(acc, **common)
             + bands.lifespan_tests(acc, **common))
    tables = {"follower_quantiles": engagement.follower_quantiles(acc),
              "engagement_quantiles": engagement.engagement_quantiles(acc, tw),
              "follower_bands": bands.band_table(acc, **common),
              "lifespan_bands": bands.lifespan_table(acc, **common)}
    return tests, tables


def content_measures(work_dir, loaded: frames_io.Frames, *, n_boot=999, seed=0) -> tuple[list, list]:
    """Language and topic shares (helpers.content): tests and top hashtags, or why they are skipped."""
    if loaded.tweets is None:
        return content.empty_entries(f"no tweet-level data ({loaded.form} form)"), []
    measured = content.measure(work_dir, n_boot=n_boot, seed=seed)
    top = measured.top_hashtags if measured.top_hashtags is not None else []
    return measured.tests, top


def fit_models(loaded: frames_io.Frames, *, seed=0) -> models.EngagementModels:
    return models.fit_engagement_models(loaded.accounts, loaded.tweets, seed=seed)


def model_tables(fitted: models.EngagementModels) -> dict:
    """The models' tables for results.json: AIC/BIC comparison and the rootogram's counts."""
    try:
        rootogram = fitted.rootogram()
    except TractionError as error:  # no converged NB to compare with
        rootogram = {"not_computed": str(error)}
    return {"model_comparison": fitted.model_comparison, "rootogram": rootogram}


def draw_figures(loaded: frames_io.Frames, tables: dict, fitted, work_dir) -> list[dict]:
    """Save every figure the data allows under work_dir/figures/; return name, file, title, caption."""
    acc = loaded.accounts
    drawn = [("follower_ecdf", lambda: figures.follower_ecdf(acc))]
    if (acc["n_original"] > 0).any():
        drawn.append(("lorenz", lambda: figures.lorenz(acc)))
        drawn.append(("dose_response", lambda: figures.dose_response(tables["follower_bands"], _curves(acc, fitted))))
    if fitted is not None:
        drawn.append(("rootogram", lambda: figures.rootogram(fitted.rootogram())))
    if acc["lifespan_days"].notna().any():
        drawn.append(("lifespan", lambda: figures.lifespan_distribution(acc)))
        drawn.append(("engagement_by_lifespan", lambda: figures.engagement_by_lifespan(tables["lifespan_bands"])))
    if tables["follower_bands"].get("retweet_to_like", np.nan).notna().any():
        drawn.append(("retweet_to_like", lambda: figures.retweet_to_like(tables["follower_bands"])))
    out = []
    for name, draw in drawn:
        try:
            fig, caption = draw()
        except TractionError as error:  # e.g. no converged model for the rootogram
            out.append({"name": name, "file": None, "title": name, "caption": f"not drawn: {error}"})
            continue
        path = figures.save(fig, Path(work_dir) / "figures" / f"{name}.png")
        out.append({"name": name, "file": f"figures/{path.name}", "title": fig.axes[0].get_title(),
                    "caption": caption})
    return out


def _curves(accounts, fitted):
    if fitted is None:
        return None
    top = max(float(accounts["follower_count"].max(skipna=True)), 1.0)
    return fitted.fitted_curve(np.unique(np.round(np.geomspace(1, top + 1, 60) - 1)))


def dataset(loaded: frames_io.Frames, work_dir, **parameters) -> dict:
    """Provenance: campaign, form, input files and their hashes, simulated or not, the run's parameters."""
    report = loaded.report
    files = [{k: f.get(k) for k in ("path", "kind", "sha256")} for f in report.get("files", [])]
    # Only location-free facts (the input files' hashes identify the data): the same input and seed
    # give the same bytes wherever the run lives.
    return {"campaign": report.get("campaign"), "form": loaded.form,
            "simulated": bool(report.get("simulated")), "input_files": files, "accounts": len(loaded.accounts),
            "original_tweets_in_frame": 0 if loaded.tweets is None else len(loaded.tweets),
            "frame_warnings": loaded.warnings, "parameters": parameters}


def run(work_dir, *, seed=0, n_boot=999, max_tweets=2_000_000) -> Analysis:
    """Everything notebook 02 does, ending with work_dir/results.json."""
    loaded = frames_io.load(work_dir, max_tweets=max_tweets, seed=seed)
    tests, tables = statistics(loaded, n_boot=n_boot, seed=seed)
    content_tests, tables["top_hashtags"] = content_measures(work_dir, loaded, n_boot=n_boot, seed=seed)
    fitted = fit_models(loaded, seed=seed)
    tables.update(model_tables(fitted))
    drawn = draw_figures(loaded, tables, fitted, work_dir)
    all_tests = tests + fitted.tests + content_tests
    document = results.build(dataset(loaded, work_dir, seed=seed, n_boot=n_boot, max_tweets=max_tweets),
                             all_tests, {**tables, "figures": drawn})
    results.write(Path(work_dir) / "results.json", document)
    return Analysis(loaded, document["tests"], tables, fitted, drawn, loaded.warnings)
