"""Shared fixtures: the real data in ../shared/data/real (tests that need it skip when it is absent)."""

from pathlib import Path

import pytest

REAL_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"


@pytest.fixture(scope="session")
def real_data() -> Path:
    """The folder of real archive files beside the project; skips the test when it is absent."""
    if not REAL_DATA.is_dir():
        pytest.skip(f"real data absent ({REAL_DATA})")
    return REAL_DATA


@pytest.fixture(scope="session")
def ira_table(real_data) -> Path:
    """BuzzFeed News' per-account table of 3,259 IRA accounts (followers, tweets, retweets received)."""
    path = real_data / "ira_buzzfeed" / "ira_retweets_by_account.csv"
    if not path.is_file():
        pytest.skip(f"real data absent ({path})")
    return path
