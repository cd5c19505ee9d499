"""Notebooks are committed clean: no outputs, one `parameters` cell, kernel python3, run order in the name."""

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "notebooks"
PROJECT_NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def hygiene_problems(path):
    """Everything wrong with a notebook as committed, as readable sentences."""
    notebook = nbformat.read(path, as_version=4)
    problems = []
    if not re.match(r"^\d{2}_[a-z0-9_]+\.ipynb$", path.name):
        problems.append(f"{path.name}: name does not start with its run order (01_..., 02_...)")
    tagged = [i for i, cell in enumerate(notebook.cells) if "parameters" in cell.metadata.get("tags", [])]
    if len(tagged) != 1:
        problems.append(f"{path.name}: {len(tagged)} cells tagged 'parameters' (want exactly 1)")
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count") is not None):
            problems.append(f"{path.name}: cell {index} was saved with outputs or an execution count")
    kernel = notebook.metadata.get("kernelspec", {}).get("name")
    if kernel != "python3":
        problems.append(f"{path.name}: kernelspec name is {kernel!r} (want 'python3')")
    return problems


def test_the_project_has_its_three_notebooks_in_order():
    names = [path.name[:3] for path in PROJECT_NOTEBOOKS]
    assert names == ["01_", "02_", "03_"], [path.name for path in PROJECT_NOTEBOOKS]


@pytest.mark.parametrize("path", PROJECT_NOTEBOOKS, ids=lambda path: path.name)
def test_project_notebook_is_committed_clean(path):
    assert hygiene_problems(path) == []


def test_a_clean_fixture_passes():
    assert hygiene_problems(FIXTURES / "01_clean.ipynb") == []


@pytest.mark.parametrize(
    "fixture, complaint",
    [
        ("01_saved_with_outputs.ipynb", "saved with outputs"),
        ("01_no_parameters_cell.ipynb", "0 cells tagged 'parameters'"),
        ("01_other_kernel.ipynb", "kernelspec name is 'traction-venv'"),
        ("load.ipynb", "run order"),
    ],
)
def test_the_check_catches_a_dirty_notebook(fixture, complaint):
    problems = hygiene_problems(FIXTURES / fixture)
    assert any(complaint in problem for problem in problems), problems


def test_two_parameters_cells_are_caught(tmp_path):
    notebook = nbformat.read(FIXTURES / "01_clean.ipynb", as_version=4)
    notebook.cells[1].metadata["tags"] = ["parameters"]
    path = tmp_path / "02_twice.ipynb"
    nbformat.write(notebook, path)
    assert any("2 cells tagged" in problem for problem in hygiene_problems(path))
