"""environment.yml, pyproject.toml and requirements.lock must name the same packages and versions."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONDA_NAMES = {"python-duckdb": "duckdb"}  # conda-forge name -> PyPI name


def pyproject_dependencies():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {re.split(r"[<>=!~ \[;]", dep, maxsplit=1)[0].lower() for dep in project["dependencies"]}


def lock_versions():
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[name.strip().lower().replace("_", "-")] = version.strip()
    return pins


def conda_versions():
    pins = {}
    for line in (ROOT / "environment.yml").read_text().splitlines():
        match = re.match(r"^  - ([A-Za-z0-9_.-]+)=([^\s#]+)", line)
        if match and match.group(1) != "python":
            name = match.group(1).lower()
            pins[CONDA_NAMES.get(name, name)] = match.group(2)
    return pins


def test_conda_environment_lists_the_pyproject_packages():
    assert set(conda_versions()) == pyproject_dependencies()


def test_conda_versions_match_the_lock_file():
    lock = lock_versions()
    drift = {name: (version, lock.get(name)) for name, version in conda_versions().items() if lock.get(name) != version}
    assert not drift, f"environment.yml vs requirements.lock (conda, lock): {drift}"


def test_lock_file_pins_every_dependency_exactly():
    assert pyproject_dependencies() <= set(lock_versions())


def test_conda_environment_installs_the_package():
    assert "-e ." in (ROOT / "environment.yml").read_text()
