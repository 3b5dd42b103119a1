"""Shared pytest setup: every test starts from the same seed and dtype policy;
the page tests share the built site, its local server and the browser.

Property tests (hypothesis) use one profile, loaded always: a fixed number of
examples, derandomized so every run tries the same inputs, no deadline (a
backend's first call compiles), and a reproduction blob on failure.
"""

import functools
import http.server
import os
import subprocess
import sys
import threading
from pathlib import Path

import keras
import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parents[1]
# The browser `make browser` chose (Playwright's own or the system's), else Debian's.
CHROMIUM = os.environ.get("KERAS_NIN_CHROMIUM", "/usr/bin/chromium")

settings.register_profile(
    "ci", max_examples=20, derandomize=True, deadline=None, print_blob=True
)
settings.load_profile("ci")


@pytest.fixture(autouse=True)
def _fresh_keras_state():
    keras.utils.set_random_seed(1234)
    keras.config.set_dtype_policy("float32")
    yield
    keras.config.set_dtype_policy("float32")
    keras.backend.clear_session()


# --- The built site, served on localhost, and a browser (page tests) ---


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
