"""helpers.report.browser: pages written here are loaded in real headless Chromium (skipped without it)."""
import base64
import io
import struct
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from helpers.report.browser import check_page, chromium_path, report_link, main  # noqa: E402
from helpers.errors import TractionError  # noqa: E402

NO_CHROMIUM = "Debian's chromium is not installed (apt-get install chromium): browser check skipped"
needs_chromium = [pytest.mark.browser, pytest.mark.skipif(chromium_path() is None, reason=NO_CHROMIUM)]


def browser_test(func):
    for mark in needs_chromium:
        func = mark(func)
    return func


def png_data_uri() -> str:
    figure, axes = plt.subplots(figsize=(3, 2), dpi=50)
    axes.plot([0, 1, 2], [1, 3, 2])
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def write_page(path, body, title="test page"):
    path.write_text(f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head>"
                    f"<body>{body}</body></html>", encoding="utf-8")
    return path


def png_size(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


@browser_test
def test_page_with_an_inline_figure_passes_and_is_screenshot_whole(tmp_path):
    body = (f"<h1>Figure</h1><img alt='fig' src='{png_data_uri()}'>"
            "<div style='height:3000px;background:linear-gradient(red,blue)'></div>")
    shot = tmp_path / "out" / "shot.png"
    check = check_page(write_page(tmp_path / "good.html", body, "Good"), shot)
    assert (check.images, check.broken_images, check.console_errors, check.title) == (1, [], [], "Good")
    assert check.ok
    width, height = png_size(shot)
    assert width >= 1000 and height >= 3000  # beyond the 900 px viewport: the whole page
    assert shot.stat().st_size > 5_000


@browser_test
def test_console_error_is_reported(tmp_path):
    check = check_page(write_page(tmp_path / "p.html", "<p>x</p><script>console.error('boom')</script>"))
    assert check.console_errors == ["boom"]
    assert not check.ok


@browser_test
def test_missing_image_is_reported_broken(tmp_path):
    check = check_page(write_page(tmp_path / "p.html", "<img src='missing.png'>"))
    assert check.images == 1
    assert len(check.broken_images) == 1 and check.broken_images[0].endswith("/missing.png")
    assert any("ERR_FILE_NOT_FOUND" in error for error in check.console_errors)  # the failed load itself
    assert not check.ok


@browser_test
def test_uncaught_exception_is_reported(tmp_path):
    check = check_page(write_page(tmp_path / "p.html", "<script>throw new Error('x')</script>"))
    assert len(check.console_errors) == 1 and check.console_errors[0].startswith("Error: x")
    assert not check.ok


@browser_test
def test_a_page_that_never_loads_times_out_and_leaves_no_profile(tmp_path, monkeypatch):
    page = write_page(tmp_path / "hang.html", "<script>while (true) {}</script>")
    profiles = tmp_path / "tmp"  # this test's own temp folder: another suite's chromium may run beside it
    profiles.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(profiles))
    with pytest.raises(TractionError, match="hang.html: chromium did not finish loading within 2 s"):
        check_page(page, timeout=2)
    assert not list(profiles.glob("traction-chromium-*"))


@browser_test
def test_main_checks_the_index_and_every_page_it_links(tmp_path, capsys):
    (tmp_path / "run").mkdir()
    write_page(tmp_path / "run" / "report.html", f"<img src='{png_data_uri()}'>", "Report")
    write_page(tmp_path / "run" / "01_load.full.html", "<p>code</p>", "Code")
    index = write_page(tmp_path / "index.html", "<a href='https://example.org/x.html'>ext</a>"
                       "<a href='run/01_load.full.html'>code</a><a href='run/report.html'>report</a>")
    shot = tmp_path / "screenshot.png"
    assert main([str(index), str(shot)]) == 0
    out = capsys.readouterr().out
    assert "title 'Report', 1 images, 0 broken" in out and "title 'Code'" in out and "3 pages checked" in out
    assert f"screenshot of {tmp_path / 'run' / 'report.html'}" in out and png_size(shot)[1] > 0
    write_page(tmp_path / "run" / "01_load.full.html", "<script>console.error('a notebook page')</script>")
    assert main([str(index), str(shot)]) == 1  # a broken notebook page fails the check, not only the report
    assert "console error: a notebook page" in capsys.readouterr().out


@browser_test
def test_anything_that_scrolls_sideways_at_1280_px_is_reported(tmp_path):
    cells = "".join(f"<td>column_{i}_with_a_long_unbreakable_name</td>" for i in range(12))
    boxed = write_page(tmp_path / "boxed.html", f"<div style='overflow-x:auto'><table><tr>{cells}</tr></table></div>")
    assert any("div" in box for box in check_page(boxed).scrolls_sideways)
    wide = write_page(tmp_path / "wide.html", "<div style='width:3000px'>wide</div>")
    assert check_page(wide).scrolls_sideways == ["the page"]


@browser_test
def test_a_readable_table_as_wide_as_the_widest_report_table_fits_the_window(tmp_path):
    import pandas as pd

    from helpers.report import index as report_index, tables

    # The follower-band table: 9 numeric columns of large values and two intervals, plus long text.
    frame = pd.DataFrame({f"a_rather_long_column_name_{i}": [1234567.891 * i, None] for i in range(9)})
    for name in ("first", "second"):
        frame[f"{name}_ci_low"], frame[f"{name}_ci_high"] = [123456.7, None], [2345678.9, None]
        frame = tables.with_interval(frame, f"{name}_ci_low", f"{name}_ci_high", f"{name}_ci")
    frame["warnings"] = [["a long warning that goes on and on about what the model could not do"] * 3, []]
    css = report_index.STYLESHEET.read_text(encoding="utf-8")
    page = write_page(tmp_path / "t.html", f"<style>{css}</style>{tables.table_html(frame)}")
    assert check_page(page).ok


@browser_test
def test_main_fails_on_a_broken_page(tmp_path, capsys):
    page = write_page(tmp_path / "report.html", "<img src='gone.png'>")
    assert main([str(page), str(tmp_path / "s.png")]) == 1
    assert "FAIL" in capsys.readouterr().out


def test_report_link_prefers_report_html_and_skips_external_and_missing_targets(tmp_path):
    (tmp_path / "a b").mkdir()
    write_page(tmp_path / "a b" / "report.html", "")
    write_page(tmp_path / "a b" / "01_load.html", "")
    index = write_page(tmp_path / "index.html", "<a href='http://x/report.html'>x</a><a href='nope.html'>n</a>"
                       "<a>no href</a><a href='a%20b/01_load.html'>nb</a><a href='a%20b/report.html#top'>r</a>")
    assert report_link(index) == tmp_path / "a b" / "report.html"
    no_report = write_page(tmp_path / "nb.html", "<a href='a%20b/01_load.html'>nb</a>")
    assert report_link(no_report) == tmp_path / "a b" / "01_load.html"
    assert report_link(write_page(tmp_path / "empty.html", "<p>none</p>")) is None


def test_index_without_report_link_exits_2(tmp_path, capsys):
    index = write_page(tmp_path / "index.html", "<table></table>")
    assert main([str(index), str(tmp_path / "s.png")]) == 2
    assert "no link to a local report page" in capsys.readouterr().err


def test_missing_page_is_a_traction_error(tmp_path):
    with pytest.raises(TractionError, match="nope.html: no such page"):
        check_page(tmp_path / "nope.html")
