"""Check HTML pages in headless Chromium at 1280 px: console errors, broken images, sideways scrolling.

Drives Debian's ``chromium`` over the Chrome DevTools Protocol with tornado's websocket client
(already installed as a Jupyter dependency), so the check needs no extra package.

    python -m helpers.report.browser reports/index.html reports/screenshot.png

checks the index and, because it is an ``index.html``, every local page it links (each run's report,
notebook pages and comparisons), and saves the screenshot of the first reader's report. Exit status 1
when any checked page has a console error, a broken image or something that scrolls sideways, 2 when
Chromium is missing or fails.
"""
from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

from tornado.websocket import websocket_connect

from helpers.errors import TractionError

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-quic", "--disable-extensions", "--disable-crash-reporter", "--mute-audio",
                  "--hide-scrollbars", "--window-size=1280,900",
                  "--force-device-scale-factor=1", "--remote-debugging-port=0"]
# A screenshot stops here (30,000 px renders fine; far taller would be hundreds of MB of pixels).
# The console and image checks still cover the whole page.
MAX_SCREENSHOT_HEIGHT = 50_000
IMAGES_JS = """JSON.stringify(Array.from(document.images).map(
    i => [i.currentSrc || i.src, i.complete && i.naturalWidth > 0]))"""
# The page itself wider than the window, or any box with a horizontal scrollbar of its own.
SCROLL_JS = """JSON.stringify((() => {
    const wide = [];
    if (document.documentElement.scrollWidth > document.documentElement.clientWidth + 1) wide.push('the page');
    for (const e of document.querySelectorAll('*')) {
        const overflow = getComputedStyle(e).overflowX;
        if ((overflow === 'auto' || overflow === 'scroll') && e.scrollWidth > e.clientWidth + 1)
            wide.push(e.tagName.toLowerCase() + (e.className ? '.' + String(e.className).split(' ')[0] : '')
                      + ' (' + e.scrollWidth + ' px in ' + e.clientWidth + ')');
    }
    return wide.slice(0, 10);
})())"""


@dataclass
class PageCheck:
    """What a page showed in the browser; ``ok`` when it has no console error, no broken image and nothing
    that scrolls sideways at the window's width."""
    page: str
    title: str = ""
    images: int = 0
    broken_images: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    scrolls_sideways: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.console_errors and not self.broken_images and not self.scrolls_sideways

    def summary(self) -> str:
        lines = [f"{'OK  ' if self.ok else 'FAIL'} {self.page}: title {self.title!r}, {self.images} images, "
                 f"{len(self.broken_images)} broken, {len(self.console_errors)} console errors, "
                 f"{len(self.scrolls_sideways)} scrolling sideways"]
        lines += [f"  broken image: {src}" for src in self.broken_images]
        lines += [f"  console error: {text}" for text in self.console_errors]
        lines += [f"  scrolls sideways: {box}" for box in self.scrolls_sideways]
        return "\n".join(lines)


def chromium_path() -> str | None:
    """Debian's chromium binary, or None when it is not installed."""
    return shutil.which("chromium") or next(
        (p for p in ("/usr/bin/chromium", "/usr/bin/chromium-browser") if Path(p).is_file()), None)


def check_page(html_path, screenshot=None, *, timeout: float = 60) -> PageCheck:
    """Load ``html_path`` in a fresh headless Chromium; optionally save a full-page PNG to ``screenshot``."""
    page = Path(html_path).resolve()
    if not page.is_file():
        raise TractionError(f"{page}: no such page to check")
    binary = chromium_path()
    if binary is None:
        raise TractionError("chromium is not installed (apt-get install chromium)")
    with tempfile.TemporaryDirectory(prefix="traction-chromium-") as tmp:
        profile, log = Path(tmp) / "profile", Path(tmp) / "chromium.log"
        # stderr to a file, not a pipe: a chatty Chromium must never block on a full pipe.
        with log.open("wb") as log_file:
            process = subprocess.Popen([binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
                                       stdin=subprocess.DEVNULL, stdout=log_file, stderr=log_file,
                                       start_new_session=True)
        try:
            deadline = time.monotonic() + timeout
            endpoint = _devtools_endpoint(profile, process, log, deadline)
            return asyncio.run(asyncio.wait_for(_check(endpoint, page, screenshot), deadline - time.monotonic()))
        except (TimeoutError, asyncio.TimeoutError):
            raise TractionError(f"{page}: chromium did not finish loading within {timeout} s") from None
        finally:
            _stop(process)


def _stop(process: subprocess.Popen):
    """Kill Chromium's whole process group (renderers, zygote), then reap it, so the profile can go."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=10)


def _devtools_endpoint(profile: Path, process: subprocess.Popen, log: Path, deadline: float) -> str:
    """Chromium writes its chosen port and browser websocket path here once it listens."""
    port_file = profile / "DevToolsActivePort"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            err = log.read_text(errors="replace").strip().splitlines()[-5:]
            raise TractionError(f"chromium exited with status {process.returncode}: " + " | ".join(err))
        lines = port_file.read_text().split() if port_file.exists() else []
        if len(lines) == 2:
            return f"ws://127.0.0.1:{lines[0]}{lines[1]}"
        time.sleep(0.05)
    raise TimeoutError


class _DevTools:
    """Sequential CDP over one websocket: each call reads until its reply, recording events on the way."""

    def __init__(self, connection):
        self.connection, self.next_id, self.events = connection, 0, []

    async def call(self, method, session=None, **params):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        await self.connection.write_message(json.dumps(message))
        while True:
            reply = await self._read()
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise TractionError(f"chromium {method}: {reply['error'].get('message')}")
                return reply.get("result", {})

    async def wait_for(self, event):
        while not any(e["method"] == event for e in self.events):
            await self._read()

    async def _read(self):
        raw = await self.connection.read_message()
        if raw is None:
            raise TractionError("chromium closed the DevTools connection")
        message = json.loads(raw)
        if "method" in message:
            self.events.append(message)
        return message


async def _check(endpoint: str, page: Path, screenshot) -> PageCheck:
    connection = await websocket_connect(endpoint, max_message_size=512 * 2**20)
    try:
        cdp = _DevTools(connection)
        target = (await cdp.call("Target.createTarget", url="about:blank"))["targetId"]
        session = (await cdp.call("Target.attachToTarget", targetId=target, flatten=True))["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            await cdp.call(f"{domain}.enable", session)
        await cdp.call("Page.navigate", session, url=page.as_uri())
        await cdp.wait_for("Page.loadEventFired")
        # One more round trip so errors logged just after the load event arrive before we read them.
        await cdp.call("Runtime.evaluate", session, expression="0", awaitPromise=True)
        images = json.loads(await _evaluate(cdp, session, IMAGES_JS))
        result = PageCheck(page=str(page), title=await _evaluate(cdp, session, "document.title"),
                           images=len(images), broken_images=[src[:120] for src, shown in images if not shown],
                           console_errors=_console_errors(cdp.events),
                           scrolls_sideways=json.loads(await _evaluate(cdp, session, SCROLL_JS)))
        if screenshot is not None:
            await _save_screenshot(cdp, session, Path(screenshot))
        await cdp.call("Browser.close")
        return result
    finally:
        connection.close()


async def _evaluate(cdp: _DevTools, session: str, expression: str):
    return (await cdp.call("Runtime.evaluate", session, expression=expression, returnByValue=True))["result"]["value"]


def _console_errors(events: list[dict]) -> list[str]:
    """console.error calls, uncaught exceptions and error log entries (failed loads), in order."""
    errors = []
    for event in events:
        params = event.get("params", {})
        if event["method"] == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
            errors.append(" ".join(str(arg.get("value", arg.get("description", ""))) for arg in params["args"]))
        elif event["method"] == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            errors.append(details.get("exception", {}).get("description") or details.get("text", ""))
        elif event["method"] == "Log.entryAdded" and params["entry"]["level"] == "error":
            entry = params["entry"]
            errors.append(entry["text"] + (f" ({entry['url']})" if entry.get("url") else ""))
    return errors


async def _save_screenshot(cdp: _DevTools, session: str, target: Path):
    size = (await cdp.call("Page.getLayoutMetrics", session))["cssContentSize"]
    clip = {"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], MAX_SCREENSHOT_HEIGHT), "scale": 1}
    shot = await cdp.call("Page.captureScreenshot", session, format="png", clip=clip, captureBeyondViewport=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(base64.b64decode(shot["data"]))


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs = []

    def handle_starttag(self, tag, attrs):
        if tag == "a" and dict(attrs).get("href"):
            self.hrefs.append(dict(attrs)["href"])


def local_pages(html_path) -> list[Path]:
    """The local .html pages a page links, in link order, each once."""
    page = Path(html_path)
    parser = _Links()
    parser.feed(page.read_text(encoding="utf-8"))
    local = []
    for href in parser.hrefs:
        parts = urlsplit(href)
        linked = (page.parent / unquote(parts.path)).resolve()
        if not parts.scheme and not parts.netloc and linked.suffix == ".html" and linked.is_file() \
                and linked not in local:
            local.append(linked)
    return local


def report_link(html_path) -> Path | None:
    """The page an index points at: its first link to a local ``report.html``, else its first local .html link."""
    local = local_pages(html_path)
    return next((p for p in local if p.name == "report.html"), local[0] if local else None)


def main(argv=None) -> int:
    """``python -m helpers.report.browser PAGE PNG``: an index.html is checked with every local page it links,
    and the first report.html is screenshotted."""
    args = sys.argv[1:] if argv is None else list(argv)
    if len(args) != 2:
        print("usage: python -m helpers.report.browser PAGE.html SCREENSHOT.png", file=sys.stderr)
        return 2
    page, png = Path(args[0]), Path(args[1])
    try:
        pages = [page.resolve()]
        if page.name == "index.html":
            if not page.is_file() or report_link(page) is None:
                raise TractionError(f"{page}: no link to a local report page (run `make report` first)")
            pages += local_pages(page)
        shot = report_link(page) if page.name == "index.html" else pages[0]
        checks = [check_page(p, png if p == shot else None) for p in pages]
    except TractionError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for check in checks:
        print(check.summary())
    print(f"{len(checks)} pages checked; screenshot of {shot}: {png} ({png.stat().st_size} bytes)")
    return 0 if all(c.ok for c in checks) else 1


if __name__ == "__main__":
    raise SystemExit(main())
