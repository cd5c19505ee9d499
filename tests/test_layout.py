"""The package's layout follows the flow: no module imports up the flow, statistics never touch files,
and each notebook calls the step function that the tests call."""

import ast
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "helpers"
# Order of the flow: a module may import its own layer or those before it, never one after.
LAYERS = [
    {"helpers.errors", "helpers.defaults", "helpers.schema", "helpers.results", "helpers.statement", "helpers.data",
     "helpers.child"},
    {"helpers.ingest", "helpers.simulate"},
    {"helpers.frames", "helpers.traces"},
    {"helpers.stats"},
    {"helpers.report"},
    {"helpers.steps"},
    {"helpers.pipeline"},
    {"helpers.cli", "helpers.__main__", "helpers"},
]
FILE_ACCESS = {"duckdb", "pyarrow", "os", "io", "pathlib", "shutil", "tempfile", "glob", "json", "csv"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer(name: str) -> int:
    for index, members in enumerate(LAYERS):
        if any(name == m or name.startswith(m + ".") for m in members if m != "helpers") or name in members:
            return index
    raise AssertionError(f"{name} is in no layer of the flow: add it to LAYERS")


def imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names if node.module == "helpers"}
    return names


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=[module_name(p) for p in MODULES])
def test_no_module_imports_up_the_flow(path):
    own = layer(module_name(path))
    upward = [name for name in imports(path) if name.startswith("helpers") and name != "helpers"
              and layer(name) > own]
    assert not upward, f"{module_name(path)} imports {upward}, later in the flow"


REPORT = sorted((PACKAGE / "report").glob("*.py"))


@pytest.mark.parametrize("path", REPORT, ids=[module_name(p) for p in REPORT])
def test_the_report_reads_results_not_frames_or_statistics(path):
    """The report works from results.json and the registry: the lines it needs are written there."""
    reached = [name for name in imports(path) if name.startswith(("helpers.frames", "helpers.stats"))]
    allowed = {"helpers.report.figures"}  # figures are drawn from notebook 02's frames (issue 25 moves them)
    assert module_name(path) in allowed or not reached, f"{module_name(path)} imports {reached}"


STATS = sorted((PACKAGE / "stats").glob("*.py"))


@pytest.mark.parametrize("path", STATS, ids=[p.stem for p in STATS])
def test_statistics_take_frames_never_files(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    touched = {name.split(".")[0] for name in imports(path)} & FILE_ACCESS
    opened = [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Call)
              and getattr(node.func, "id", getattr(node.func, "attr", None)) in ("open", "read_parquet", "connect")]
    assert not touched and not opened, f"{path.name}: imports {touched}, opens files at lines {opened}"


def test_the_layout_test_can_fail(tmp_path):
    bad = tmp_path / "helpers" / "stats" / "bad.py"
    bad.parent.mkdir(parents=True)
    bad.write_text("import duckdb\nfrom helpers.report import figures\n")
    assert {"helpers.report", "duckdb"} <= imports(bad)
    assert layer("helpers.report") > layer("helpers.stats.bad")


@pytest.mark.parametrize("notebook, step", [("01_load.ipynb", "steps.load("),
                                            ("02_engagement_vs_followers.ipynb", "steps.engagement_vs_followers("),
                                            ("03_narrative.ipynb", "steps.narrative(")])
def test_each_notebook_runs_its_step_and_nothing_else_computes(notebook, step):
    code = "\n".join(cell.source for cell in nbformat.read(ROOT / "notebooks" / notebook, as_version=4).cells
                     if cell.cell_type == "code")
    assert code.count(step) == 1, f"{notebook} must call {step}...) once"
    for computing in ("helpers.stats", "from helpers import analysis", "results.build", "results.write",
                      "frames.load(", "duckdb"):
        assert computing not in code, f"{notebook} computes on its own ({computing}); call the step instead"
