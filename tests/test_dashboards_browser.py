"""The dashboards in a real browser: every page of a running `streamlit run`, in Chromium.

Drives Debian's /usr/bin/chromium with Python Playwright (never `playwright install`,
which downloads a browser build: STACK_NOTES.md). The fixture installs the package
with apt-get when it is missing, as a fresh CI machine needs. Each page is loaded,
left to finish running and drawing its charts, saved as a screenshot, and failed if
it shows a Streamlit exception or one of the dashboards' error boxes.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from dashboards.catalog import APP, PAGES, url_path

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")


def _apt(*args: str) -> subprocess.CompletedProcess:
    env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    return subprocess.run(
        ["apt-get", *args], capture_output=True, text=True, env=env, timeout=900, check=False
    )


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's Chromium, installed with apt-get if missing (a fresh CI machine)."""
    if CHROMIUM.exists():
        return CHROMIUM
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        pytest.skip(
            f"{CHROMIUM} is missing and cannot be installed here (needs apt-get as root): "
            "run `apt-get install -y chromium`"
        )
    result = _apt("install", "-y", "--no-install-recommends", "chromium")
    if result.returncode != 0:  # a fresh machine has no package lists yet
        _apt("update")
        result = _apt("install", "-y", "--no-install-recommends", "chromium")
    if result.returncode != 0 or not CHROMIUM.exists():
        pytest.fail(
            f"`apt-get install -y chromium` failed (exit {result.returncode}), so the browser "
            f"test cannot run:\n{(result.stdout + result.stderr)[-2000:]}"
        )
    return CHROMIUM


def _streamlit_command(port: int) -> list[str]:
    options = {
        "server.headless": "true",
        "server.port": str(port),
        "server.address": "127.0.0.1",
        "server.fileWatcherType": "none",
        "browser.gatherUsageStats": "false",
        "client.toolbarMode": "viewer",
    }
    flags = [part for key, value in options.items() for part in (f"--{key}", value)]
    return [sys.executable, "-m", "streamlit", "run", str(APP), *flags]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(proc: subprocess.Popen) -> None:
    """Stop the server's whole process group: SIGTERM, then SIGKILL after a grace period
    (background processes started from some shells ignore SIGTERM: STACK_NOTES.md)."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    except ProcessLookupError:
        pass


@pytest.fixture(scope="module")
def dashboard_url(tiny_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`streamlit run dashboards/app.py` on the tiny home's serving snapshot."""
    port = _free_port()
    log = tmp_path_factory.mktemp("streamlit") / "server.log"
    env = os.environ | {
        "CRMLENS_HOME": str(tiny_home),
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
    }
    env.pop("CRMLENS_SERVING_PATH", None)
    with log.open("w") as out:
        proc = subprocess.Popen(
            _streamlit_command(port),
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # its own process group, stopped as a whole
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                pytest.fail(f"streamlit exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.read().decode().strip() == "ok":
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"streamlit did not answer in 90 s:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        yield url
    finally:
        _stop(proc)


@pytest.fixture(scope="module")
def browser(chromium: Path) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=str(chromium),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            yield b
        finally:
            b.close()


def _wait_rendered(page: object, timeout_ms: int = 60_000) -> None:
    """Until the script has finished running and every chart has drawn."""
    page.wait_for_selector(
        '[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=timeout_ms
    )
    page.wait_for_selector("h1", timeout=timeout_ms)
    page.wait_for_function(
        """() => {
            const app = document.querySelector('[data-testid="stApp"]');
            const idle = app && app.dataset.testScriptState === 'notRunning';
            const skeleton = document.querySelector('[data-testid="stSkeleton"]');
            const charts = [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')];
            const drawn = charts.every(c => c.querySelector('canvas, svg'));
            return idle && !skeleton && drawn;
        }""",
        timeout=timeout_ms,
    )
    page.wait_for_timeout(500)  # let the last chart finish its first paint


def _screenshot(page: object, path: Path) -> None:
    """The whole page: Streamlit scrolls inside its main block, so grow the viewport to it."""
    height = page.evaluate(
        """() => {
            const main = document.querySelector('[data-testid="stMain"]');
            return Math.max(main ? main.scrollHeight : 0, document.body.scrollHeight);
        }"""
    )
    page.set_viewport_size({"width": 1440, "height": min(int(height) + 40, 12_000)})
    page.wait_for_timeout(700)  # charts re-lay themselves out for the new size
    _wait_rendered(page)
    page.screenshot(path=str(path), full_page=True)


@pytest.mark.parametrize("name", PAGES)
def test_page_renders_in_chromium(
    name: str, dashboard_url: str, browser: object, tmp_path_factory: pytest.TempPathFactory
) -> None:
    shots = tmp_path_factory.getbasetemp() / "dashboard_screenshots"
    shots.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    try:
        page.goto(f"{dashboard_url}/{url_path(name)}", wait_until="domcontentloaded")
        _wait_rendered(page)
        shot = shots / f"{name}.png"
        _screenshot(page, shot)
        exceptions = page.locator('[data-testid="stException"]')
        assert exceptions.count() == 0, (
            f"{name} shows a Streamlit exception: {exceptions.first.inner_text()[:500]}"
        )
        errors = page.locator('[data-testid="stAlertContentError"]')
        assert errors.count() == 0, f"{name} shows an error box: {errors.first.inner_text()[:300]}"
        title = page.locator("h1").first.inner_text()
        assert title.strip(), f"{name} has no title"
        assert shot.stat().st_size > 10_000, f"{name}'s screenshot looks blank ({shot})"
        print(f"{name}: {shot}")
    finally:
        page.close()
