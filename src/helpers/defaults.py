"""Where generated data lives, and the embedded default campaign.

The real archive cannot ship with the project, so the default data is a
simulated takedown (``helpers.simulate``), generated on first use into a
gitignored folder: ``<project>/data/`` in a checkout, or ``$TRACTION_DATA``.
"""

import os
import re
from pathlib import Path

DEFAULT_CAMPAIGN = "simulated_china_052020"
DEFAULT_SEED = 20200611
# Size of the notebooks' default sample (nbval, JupyterLab) relative to the
# full June 2020 release that `make report` simulates.
SAMPLE_SCALE = 0.05
# A campaign's name becomes a folder under reports/: letters, digits, '_' and '-' only, never a path.
CAMPAIGN_NAME = re.compile(r"[A-Za-z0-9_-]+")


def campaign_problem(name: str) -> str | None:
    """Why a campaign name is refused, or None."""
    if CAMPAIGN_NAME.fullmatch(name or ""):
        return None
    return f"campaign {name!r}: use letters, digits, '_' and '-' only (like china_052020)"


def data_root() -> Path:
    """Folder for generated data: $TRACTION_DATA, else <checkout>/data, else ~/.cache/traction."""
    if os.environ.get("TRACTION_DATA"):
        return Path(os.environ["TRACTION_DATA"]).resolve()
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "pyproject.toml").is_file():
        return checkout / "data"
    return Path.home() / ".cache" / "traction"


def project_root() -> Path:
    """The checkout (for reports/), falling back to the working directory."""
    checkout = Path(__file__).resolve().parents[2]
    return checkout if (checkout / "pyproject.toml").is_file() else Path.cwd()


def default_work_dir(campaign: str = DEFAULT_CAMPAIGN, size: str = "sample") -> Path:
    """The work_dir the notebooks use when none is given."""
    return data_root() / "work" / f"{campaign}-{size}"
