"""The README: under 12 KB, its links resolve, and its table of result ids is the registry's."""

import re
from pathlib import Path

from helpers import results

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def test_readme_is_short_and_names_the_two_commands():
    text = README.read_text(encoding="utf-8")
    assert len(text.encode()) < 12_000
    assert "make report" in text and "make test" in text


def test_the_table_of_result_ids_is_the_registry():
    assert results.markdown_table() in (ROOT / "docs" / "results.md").read_text(encoding="utf-8"), \
        "docs/results.md's id table differs from helpers.results.MEASURES: paste `python -m helpers.results`"


def test_every_local_link_resolves():
    for page in [README, *sorted((ROOT / "docs").glob("*.md"))]:
        for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            if not target.startswith("http"):
                assert (page.parent / target).exists(), f"{page.name} links {target}, which does not exist"


def test_registered_modules_exist():
    for measure in results.MEASURES.values():
        path = ROOT / "src" / Path(*measure.module.split(".")).with_suffix(".py")
        assert path.is_file() and f'"{measure.id}"' in path.read_text(encoding="utf-8"), \
            f"{measure.id}: not computed in {measure.module}"
