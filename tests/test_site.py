"""The built site in a real headless browser: pages render, math too, offline."""

from __future__ import annotations

import json
import re
from pathlib import Path

import keras
import pytest

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="the site is built with the default TensorFlow backend; its page "
    "check runs once, in the TensorFlow run",
)


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
    "theory/neighbours/",
    "theory/counting/",
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


# What every reader meets: API examples, search, phone width, dark mode, wording.


def _new_page(browser, **options):
    page = browser.new_page(**options)
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return page, errors


API_PAGES = ["api/layers/", "api/models/", "api/theory/"]


def test_api_examples_are_highlighted_code_blocks_with_a_copy_button(browser, base_url):
    """Each docstring's Examples section is a code block, not run-together quotes."""
    import keras_nin.layers
    import keras_nin.models

    sections = 0
    for path in API_PAGES:
        page, errors = _new_page(browser)
        page.goto(f"{base_url}/{path}", wait_until="networkidle")
        titles = page.locator(".doc-section-title", has_text="Examples:")
        for index in range(titles.count()):
            block = titles.nth(index).locator(
                "xpath=ancestor::p[1]/following-sibling::*[1]"
            )
            assert block.evaluate("e => e.matches('div.highlight')"), path
            code = block.locator("pre > code")
            assert code.count() == 1, path
            assert code.inner_text().startswith(">>> "), code.inner_text()[:80]
            copy = block.locator("button[data-md-type=copy]")
            assert copy.count() == 1  # the copy button
            sections += 1
        assert page.locator("article .doc-contents blockquote").count() == 0, path
        assert errors == []
        page.close()
    public = len(keras_nin.layers.__all__) + len(keras_nin.models.__all__)
    assert sections >= public, f"only {sections} Examples sections for {public} names"


def test_api_index_lists_every_public_name(browser, base_url):
    """The index is generated from `__all__`; the pages document every name."""
    import importlib

    page, errors = _new_page(browser)
    page.goto(f"{base_url}/api/", wait_until="networkidle")
    for module_name, doc in [
        ("keras_nin.layers", "layers.md"),
        ("keras_nin.models", "models.md"),
        ("keras_nin.theory", "theory.md"),
    ]:
        module = importlib.import_module(module_name)
        text = (ROOT / "docs" / "api" / doc).read_text()
        for name in module.__all__:
            link = page.locator(f"article table a[href*='#{module_name}.{name}']")
            if name == "cost":  # the function, not the module of the same name
                anchor = "#keras_nin.theory.cost.cost"
                link = page.locator(f"article table a[href*='{anchor}']")
            assert link.count() == 1, f"{name} missing from the API index"
            assert f"::: {module_name}.{name}" in text, f"{doc} lacks {name}"
            target = link.first.get_attribute("href")
            other, _ = _new_page(browser)
            other.goto(f"{base_url}/api/{target}", wait_until="networkidle")
            anchor = target.split("#")[1]
            assert other.locator(f"[id='{anchor}']").count() == 1, target
            other.close()
    assert errors == []


def _search(page, query: str) -> list[tuple[str, str]]:
    """Type `query` in the search box; the (link, text) of each result."""
    box = page.locator("input.md-search__input")
    box.click()
    for _ in range(6):  # the index is built in a worker: retype until it answers
        box.fill("")
        box.press_sequentially(query, delay=20)
        try:
            page.wait_for_selector(".md-search-result__item", timeout=5000)
            break
        except Exception:  # no results yet: the index may still be loading
            continue
    page.wait_for_timeout(300)
    results = page.locator(".md-search-result__item a")
    return [
        (results.nth(i).get_attribute("href"), results.nth(i).inner_text())
        for i in range(results.count())
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("6x6x32", "theory/fully-connected/"),
        ("6×6×32", "theory/fully-connected/"),
        ("28x28x192", "theory/nonlinearity/"),
        ("GoogLeNet", "theory/bottlenecks/"),
        ("Inception", "theory/bottlenecks/"),
        ("MobileNetV2", "theory/bottlenecks/"),
        ("SqueezeNet", "theory/bottlenecks/"),
        ("ResNet", "theory/bottlenecks/"),
        ("ShuffleNet", "theory/neighbours/"),
        ("Transformer", "theory/neighbours/"),
        ("SENet", "theory/bottlenecks/"),
        ("Xception", "theory/neighbours/"),
        ("Network in Network", "theory/network-in-network/"),
        ("depthwise separable", "theory/neighbours/"),
    ],
)
def test_search_finds_what_learners_type(browser, base_url, query, expected):
    page, errors = _new_page(browser)
    page.goto(base_url + "/", wait_until="networkidle")
    results = _search(page, query)
    links = [link for link, _ in results]
    assert any(expected in link for link in links), (query, links)
    assert errors == []
    page.close()


TEX = re.compile(r"\\\(|\\\[|\\(cdot|frac|text|times|underbrace|operatorname)\b|\{,\}")


def test_search_results_show_no_tex_source(browser, base_url, site_dir):
    index = json.loads((site_dir / "search" / "search_index.json").read_text())
    for doc in index["docs"]:
        prose = re.sub(r"<pre>.*?</pre>|<code>.*?</code>", "", doc["text"], flags=re.S)
        assert not TEX.search(prose), (doc["location"], TEX.search(prose)[0])
    page, errors = _new_page(browser)
    page.goto(base_url + "/", wait_until="networkidle")
    for query in ["122,890 parameters", "global average pooling", "32 F units"]:
        for _, text in _search(page, query):
            assert not TEX.search(text), (query, text[:200])
    page.screenshot(path=str(SCREENSHOTS / "search.png"))
    assert errors == []


def test_search_leaves_out_the_benchmark_tables(site_dir):
    """The generated tables are on the page but not in the index: a learner
    typing "x" or a number would otherwise meet a wall of figures first."""
    page = (site_dir / "benchmarks" / "index.html").read_text()
    assert page.count("page faults/step") >= 3  # the tables are there
    index = json.loads((site_dir / "search" / "search_index.json").read_text())
    benchmarks = [doc for doc in index["docs"] if doc["location"].startswith("bench")]
    assert benchmarks, "the Benchmarks page is not in the index"
    for doc in benchmarks:
        assert "page faults/step" not in doc["text"], doc["location"]


PHONE = {"width": 390, "height": 844}
SCREENSHOT_PAGES = ["", "faq/", "theory/fully-connected/", "theory/cost/"]


@pytest.mark.parametrize("path", ["", *LEARNING_PAGES])
def test_phone_width_nothing_scrolls_sideways(browser, base_url, path):
    """On a 390 px phone every equation and code block fits the screen."""
    page, errors = _new_page(browser, viewport=PHONE, device_scale_factor=1)
    page.goto(f"{base_url}/{path}", wait_until="networkidle")
    too_wide = page.evaluate(
        """() => {
        const wide = [];
        for (const math of document.querySelectorAll('article .katex-display')) {
            const katex = math.querySelector('.katex');
            const box = katex.getBoundingClientRect();
            const overflows = math.scrollWidth > math.clientWidth + 1;
            if (box.right > window.innerWidth || overflows)
                wide.push('math: ' + math.textContent.slice(0, 40));
        }
        for (const code of document.querySelectorAll('article pre > code')) {
            if (code.scrollWidth > code.clientWidth + 1)
                wide.push('code: ' + code.textContent.slice(0, 40));
        }
        const figures = document.querySelectorAll('article img, article .figure svg');
        for (const figure of figures) {
            const box = figure.getBoundingClientRect();
            if (box.right > window.innerWidth + 1) wide.push('figure');
            // Legible: a drawn figure is not shrunk below 60% of its size.
            const view = figure.viewBox && figure.viewBox.baseVal;
            if (box.width > 0 && view && view.width && box.width / view.width < 0.6)
                wide.push('figure shrunk to ' + (box.width / view.width).toFixed(2));
        }
        if (document.documentElement.scrollWidth > window.innerWidth)
            wide.push('page ' + document.documentElement.scrollWidth);
        return wide;
    }"""
    )
    assert too_wide == [], too_wide
    if path in SCREENSHOT_PAGES:
        name = (path.strip("/").replace("/", "-") or "home") + "-phone.png"
        page.screenshot(path=str(SCREENSHOTS / name), full_page=True)
    assert errors == []
    page.close()


FIGURE_PAGES = [
    "theory/fully-connected/",
    "theory/bottlenecks/",
    "theory/network-in-network/",
    "guides/digits/",
    "benchmarks/",
]


@pytest.mark.parametrize("path", FIGURE_PAGES)
def test_dark_mode_figures_are_not_white_boxes(browser, base_url, path):
    """In the dark palette no figure shows as a glaring white rectangle."""
    import io

    from PIL import Image

    page, errors = _new_page(browser, color_scheme="dark")
    page.goto(f"{base_url}/{path}", wait_until="networkidle")
    scheme = page.evaluate("document.body.getAttribute('data-md-color-scheme')")
    assert scheme == "slate"
    figures = page.locator("article img:visible, article .figure svg:visible")
    assert figures.count() >= 1, path
    for index in range(figures.count()):
        figure = figures.nth(index)
        figure.scroll_into_view_if_needed()
        image = Image.open(io.BytesIO(figure.screenshot())).convert("L")
        histogram = image.histogram()  # pixels per grey level, 0 to 255
        white = sum(histogram[226:]) / sum(histogram)
        assert white < 0.25, f"{path} figure {index}: {white:.0%} white pixels"
    assert errors == []
    page.close()


@pytest.mark.parametrize("path", SCREENSHOT_PAGES)
def test_screenshots_light_and_dark(browser, base_url, path):
    name = path.strip("/").replace("/", "-") or "home"
    for scheme in ("light", "dark"):
        page, errors = _new_page(browser, color_scheme=scheme)
        page.goto(f"{base_url}/{path}", wait_until="networkidle")
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{scheme}.png"), full_page=True)
        assert page.locator(".katex-error").count() == 0
        assert errors == []
        page.close()


# The site speaks to readers about the library, and proves what it claims.


def _article_text(site_dir: Path, path: str) -> str:
    html = (site_dir / path / "index.html").read_text()
    article = html[html.index("<article") : html.index("</article>")]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", article))


def _pages(site_dir: Path):
    for html in sorted(site_dir.rglob("index.html")):
        path = str(html.parent.relative_to(site_dir))
        if path in {".", "changelog", "contributing"} or path.startswith("404"):
            continue
        yield path


def test_no_words_about_how_the_site_was_planned(site_dir):
    words = re.compile(
        r"\bthe issue\b|\bissue's\b|_RULES|written for|\bthe brief\b|\bTODO\b"
        r"|\bthe lead\b|\bhelper\b"
    )
    for path in [".", *_pages(site_dir)]:
        text = _article_text(site_dir, "" if path == "." else path)
        found = words.search(text)
        context = "" if found is None else text[found.start() - 60 : found.end() + 60]
        assert found is None, f"{path}: {context}"


def test_outputs_say_where_they_come_from(site_dir):
    home = _article_text(site_dir, "")
    assert "as is every output on this site" not in home
    assert "benchmarks" in home and "committed" in home
    assert "committed" in _article_text(site_dir, "benchmarks")
    assert "not** produced" in (ROOT / "docs/guides/digits.md").read_text()


def test_strided_1x1_is_explained_where_channels_shrink(site_dir):
    text = _article_text(site_dir, "theory/shrinking-channels")
    assert "Strided 1×1 convolutions" in text
    assert "largest difference from subsample-then-1×1" in text  # executed
    assert "v1.5" in text


def test_the_xor_example_calls_the_sigmoid_layer_what_it_is(site_dir):
    text = _article_text(site_dir, "theory/nonlinearity")
    assert "linear 1×1 layer:" not in text and "one linear 1×1 layer" not in text
    assert "one 1×1 layer + sigmoid" in text
    assert "best line: 3 of 4 cases right" in text  # the 75% bound, executed


def test_claims_are_shown_by_executed_code(site_dir):
    cost_page = _article_text(site_dir, "theory/cost")
    assert "9.68× fewer multiplies (120,422,400 / 12,443,648)" in cost_page
    assert cost_page.count("fewer multiplies (120,422,400") >= 1
    bottlenecks = _article_text(site_dir, "theory/bottlenecks")
    assert "spiral" in bottlenecks and "kept after ReLU" in bottlenecks


def test_the_lecture_is_named_and_linked(site_dir):
    html = (site_dir / "faq" / "index.html").read_text()
    assert "https://www.coursera.org/learn/convolutional-neural-networks" in html
    assert "Networks in Networks and 1x1 Convolutions" in html


def test_the_faq_answers_at_least_24_questions_each_with_a_link(site_dir):
    html = (site_dir / "faq" / "index.html").read_text()
    article = html[html.index("<article") : html.index("</article>")]
    questions = re.split(r"<h3 id=", article)[1:]
    assert len(questions) >= 24, len(questions)
    for question in questions:
        title = re.sub(r"<[^>]+>", "", question.split("</h3>")[0])
        answer = question.split("</h3>", 1)[1]
        assert "<a href=" in answer, f"no link in: {title}"
        assert "?" in title, title
        prose = re.sub(r"<[^>]+>", "", answer.split("→")[0]).strip()
        sentences = re.findall(r"[.!?](?=\s+[A-Z(`\"]|\s*$)", prose)
        assert 1 <= len(sentences) <= 5, f"{title}: {len(sentences)} sentences"
