"""helpers.figures: every figure has a title and a caption, and its PNG bytes depend only on the data."""

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from helpers import frames
from helpers.report import figures
from helpers.stats import dose_response, lifespan
from test_frames import write_work_dir


@pytest.fixture(scope="module")
def accounts(tmp_path_factory):
    rng = np.random.default_rng(0)
    users, tweets = [], []
    for i in range(60):
        followers = int(rng.choice([0, 3, 40, 400, 2000, 8000]))
        users.append({"userid": f"u{i:02d}", "follower_count": followers, "account_creation_date": "2019-11-01"})
        for k in range(1 + i % 4):
            likes = int(rng.poisson(0.1 + followers / 500))
            tweets.append({"tweetid": f"{i}-{k}", "userid": f"u{i:02d}", "tweet_time": f"2020-0{1 + k}-0{1 + i % 9} 10:00",
                           "is_retweet": False, "like_count": likes, "retweet_count": int(rng.poisson(1 + likes)),
                           "reply_count": 0, "quote_count": 0})
    return frames.load(write_work_dir(tmp_path_factory.mktemp("w"), users, tweets)).accounts


def drawings(accounts):
    band_table = dose_response.band_table(accounts, n_boot=49)
    curve = pd.DataFrame({"follower_count": [0.0, 10, 1000], "model": "NB (account)",
                          "mean_engagement_per_tweet": [0.1, 0.5, 5.0]})
    rootogram = pd.DataFrame({"count": [0, 1, 2, 3], "observed": [50, 20, 5, 3], "expected": [48.0, 22, 6, 2],
                              "tail": [False, False, False, True]})
    return {
        "follower_ecdf": lambda ax=None: figures.follower_ecdf(accounts, ax=ax),
        "lorenz": lambda ax=None: figures.lorenz(accounts, ax=ax),
        "dose_response": lambda ax=None: figures.dose_response(band_table, curve, ax=ax),
        "rootogram": lambda ax=None: figures.rootogram(rootogram, ax=ax),
        "lifespan": lambda ax=None: figures.lifespan_distribution(accounts, ax=ax),
        "engagement_by_lifespan": lambda ax=None: figures.engagement_by_lifespan(
            lifespan.lifespan_table(accounts, n_boot=49), ax=ax),
        "retweet_to_like": lambda ax=None: figures.retweet_to_like(band_table, ax=ax),
    }


def test_each_figure_has_a_title_and_a_one_line_caption(accounts):
    for name, draw in drawings(accounts).items():
        fig, caption = draw()
        assert isinstance(fig, Figure), name
        assert fig.axes[0].get_title(), name
        assert caption.endswith(".") and "\n" not in caption and len(caption) > 40, name


def test_figures_draw_into_a_given_axes(accounts):
    host = Figure()
    ax = host.add_subplot()
    fig, _ = drawings(accounts)["lorenz"](ax=ax)
    assert fig is host and ax.get_title() == "Concentration of engagement across accounts"


def test_png_bytes_are_deterministic_and_carry_no_software_stamp(accounts, tmp_path):
    for name, draw in drawings(accounts).items():
        first = figures.save(draw()[0], tmp_path / "a" / f"{name}.png").read_bytes()
        second = figures.save(draw()[0], tmp_path / "b" / f"{name}.png").read_bytes()
        assert first == second, name
        assert first[:8] == b"\x89PNG\r\n\x1a\n" and b"matplotlib" not in first.lower(), name


def test_captions_state_the_data(accounts):
    _, caption = figures.follower_ecdf(accounts)
    zero = (accounts["follower_count"] == 0).mean()
    assert f"{len(accounts):,} accounts" in caption and f"{zero:.1%} have none" in caption


def test_follower_ecdf_steps_to_every_accounts_share(accounts):
    fig, _ = figures.follower_ecdf(accounts)
    x, y = fig.axes[0].lines[0].get_xydata().T
    known = accounts["follower_count"].dropna().to_numpy(float)
    drawn = np.isfinite(x)  # seaborn starts the steps at -inf on a log axis
    assert drawn.sum() == len(np.unique(known))
    np.testing.assert_allclose(y[drawn], [(known + 1 <= value).mean() for value in x[drawn]], rtol=1e-12)


def test_an_interval_that_misses_its_estimate_is_drawn_as_it_is():
    # with few resamples a band's interval can lie beside its estimate: drawn, not an error
    table = pd.DataFrame({"band": ["0", "1-9"], "retweet_to_like": [1.0, 2.0],
                          "retweet_to_like_ci_low": [1.2, 1.5], "retweet_to_like_ci_high": [1.6, 2.5]})
    fig, _ = figures.retweet_to_like(table)
    [bars] = fig.axes[0].collections
    np.testing.assert_allclose([segment[:, 1] for segment in bars.get_segments()], [[1.2, 1.6], [1.5, 2.5]])
    assert list(fig.axes[0].lines[-1].get_ydata()) == [1.0, 2.0]  # the estimates, after the caps


def test_lifespan_caption_uses_the_results_definition_of_the_median():
    accounts = pd.DataFrame({"lifespan_days": [-3.0, 1.0, 4.0, 10.0, 200.0, 300.0]})
    _, caption = figures.lifespan_distribution(accounts)
    entry = {t["id"]: t for t in lifespan.lifespan_tests(accounts, n_boot=9)}["lifespan_median_days"]
    assert entry["estimate"] == 4.0  # inverted CDF: an observed value, not the mean of 4 and 10
    assert "median 4 days" in caption and "66.7% under 90 days" in caption


RC_SNAPSHOT = """
import json, sys
import matplotlib as mpl
import matplotlib.colors as mcolors
before = {key: repr(value) for key, value in mpl.rcParams.items()}
b = mcolors.to_rgba("b")
import helpers.report.figures
after = {key: repr(value) for key, value in mpl.rcParams.items()}
print(json.dumps({"changed": sorted(k for k in before if before[k] != after.get(k)), "b": b == mcolors.to_rgba("b")}))
"""


def test_importing_the_figures_module_leaves_the_global_settings_alone():
    import json
    import subprocess
    import sys

    # a fresh interpreter: this session has imported the module already
    out = subprocess.run([sys.executable, "-c", RC_SNAPSHOT], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == {"changed": [], "b": True}


def test_drawing_leaves_the_global_settings_alone_and_ignores_them(accounts, tmp_path):
    import matplotlib as mpl

    expected = figures.save(figures.follower_ecdf(accounts)[0], tmp_path / "plain.png").read_bytes()
    before = dict(mpl.rcParams)
    fig, _ = figures.follower_ecdf(accounts)
    assert dict(mpl.rcParams) == before
    with mpl.rc_context({"axes.facecolor": "black", "font.size": 20, "xtick.labelsize": 30, "axes.grid": False}):
        other = figures.follower_ecdf(accounts)[0]  # a user's own style, while drawing ...
    with mpl.rc_context({"xtick.labelsize": 30, "ytick.color": "red"}):
        # ... and while a notebook shows it later (ticks are made when first rendered)
        assert figures.save(other, tmp_path / "styled.png").read_bytes() == expected
    import io
    with mpl.rc_context({"xtick.labelsize": 30}):
        shown = io.BytesIO()
        fig.savefig(shown, format="png", dpi=figures.DPI, metadata=figures.PNG_METADATA)  # as a front end renders it
    assert shown.getvalue() == expected
