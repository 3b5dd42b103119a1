"""The built site in a real headless browser: pages render, math too, offline."""

from __future__ import annotations

import functools
import http.server
import os
import subprocess
import sys
import threading
from pathlib import Path

import keras
import pytest

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="the site is built with the default TensorFlow backend; its page "
    "check runs once, in the TensorFlow run",
)


@pytest.fixture(scope="module")
def site_dir(tmp_path_factory) -> Path:
    """The site `make test` built (KERAS_NIN_SITE_DIR), or a fresh strict build."""
    if "KERAS_NIN_SITE_DIR" in os.environ:
        site = Path(os.environ["KERAS_NIN_SITE_DIR"])
        assert (site / "index.html").is_file(), f"no built site in {site}"
        return site
    site = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(site)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    return site


@pytest.fixture(scope="module")
def base_url(site_dir):
    handler = functools.partial(
        http.server.SimpleHTTPRequestHandler, directory=str(site_dir)
    )
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.RequestHandlerClass.log_message = lambda *args: None
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Chromium is missing: `make browser` installs it"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


def open_page(browser, url: str, screenshot: str):
    """Load `url`, recording console errors and any request leaving localhost."""
    page = browser.new_page()
    errors, foreign = [], []
    page.on(
        "console", lambda msg: errors.append(msg.text) if msg.type == "error" else None
    )
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "request",
        lambda request: (
            None
            if request.url.startswith(("http://127.0.0.1", "data:", "blob:"))
            else foreign.append(request.url)
        ),
    )
    page.goto(url, wait_until="networkidle")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / screenshot), full_page=True)
    return page, errors, foreign


def test_home_page_renders_math_and_executed_output(browser, base_url):
    page, errors, foreign = open_page(browser, base_url + "/", "home.png")
    assert "keras-nin" in page.title()
    assert page.locator(".katex").count() >= 2, "math was not rendered by KaTeX"
    assert page.locator(".katex-error").count() == 0
    result = page.locator("div.result").first.inner_text()
    assert "(None, 28, 28, 192)" in result, result
    assert page.locator("button[data-md-type=copy]").count() >= 1  # copy buttons
    assert foreign == [], f"the page reached outside localhost: {foreign}"
    assert errors == []


def test_api_page_renders_the_docstrings(browser, base_url):
    page, errors, foreign = open_page(browser, base_url + "/api/layers/", "api.png")
    assert page.locator("h2[id='keras_nin.layers.Pointwise']").count() == 1
    assert "1×1 convolution" in page.inner_text("article")
    assert foreign == []
    assert errors == []


def test_theory_page_renders_math_figure_and_executed_output(browser, base_url):
    url = base_url + "/theory/fully-connected/"
    page, errors, foreign = open_page(browser, url, "theory-fully-connected.png")
    assert (SCREENSHOTS / "theory-fully-connected.png").is_file()
    assert "fully connected" in page.title(), page.title()
    heading = page.locator("article h1").first.inner_text()
    assert "fully connected layer at every position" in heading, heading
    assert page.locator(".katex").count() >= 5, "math was not rendered by KaTeX"
    assert page.locator(".katex-display").count() >= 2  # the $$...$$ formulas
    assert page.locator(".katex-error").count() == 0
    # The first snippet's output, printed when the site was built.
    results = page.locator("div.result")
    assert results.count() >= 5
    first = results.first.inner_text()
    assert "(36, 32)" in first, first
    assert "largest difference" in page.inner_text("article")
    assert page.locator("article svg").count() >= 1  # the figure, drawn at build time
    assert foreign == [], f"the page reached outside localhost: {foreign}"
    assert errors == []


LEARNING_PAGES = [
    "faq/",
    "theory/fully-connected/",
    "theory/nonlinearity/",
    "theory/shrinking-channels/",
    "theory/cost/",
    "theory/network-in-network/",
    "theory/bottlenecks/",
]


@pytest.mark.parametrize("path", LEARNING_PAGES)
def test_learning_pages_render_their_math_offline(browser, base_url, path):
    """Every formula of the FAQ and theory pages renders; nothing leaves localhost."""
    screenshot = path.strip("/").replace("/", "-") + ".png"
    page, errors, foreign = open_page(browser, f"{base_url}/{path}", screenshot)
    assert page.locator(".katex").count() >= 1, "math was not rendered by KaTeX"
    assert page.locator(".katex-error").count() == 0
    assert foreign == [], f"the page reached outside localhost: {foreign}"
    assert errors == []
