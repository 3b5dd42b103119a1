"""The explorable figures of the theory pages, in Chromium, against keras_nin.

Each figure is driven like a reader would (keyboard, clicks, typing); what the page
then shows is compared with keras_nin on the same inputs: `Pointwise` with the
weights the page shows, and `keras_nin.theory.cost` for the counts. Every page is
also checked offline (no request leaves localhost), without console errors, at
390 px in the dark scheme, and with scripts off (the plain-text fallback).
"""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np
import pytest

from keras_nin.layers import Pointwise
from keras_nin.theory import cost

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
FIGURES = {
    "theory/fully-connected/": "explorable-fully-connected",
    "theory/nonlinearity/": "explorable-collapse",
    "theory/cost/": "explorable-bottleneck",
}

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="the site is built with the default TensorFlow backend; its browser "
    "checks run once, in the TensorFlow run",
)


class Visit:
    """A page in its own browser context, recording errors and foreign requests."""

    def __init__(self, browser, url: str, **context_options):
        self.context = browser.new_context(**context_options)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.foreign: list[str] = []
        self.page.on(
            "console",
            lambda msg: self.errors.append(msg.text) if msg.type == "error" else None,
        )
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on(
            "request",
            lambda request: (
                None
                if request.url.startswith(("http://127.0.0.1", "data:", "blob:"))
                else self.foreign.append(request.url)
            ),
        )
        self.page.goto(url, wait_until="networkidle")

    def state(self, figure: str) -> dict:
        return json.loads(
            self.page.locator(f"#{figure} [data-state]").get_attribute("data-state")
        )

    def screenshot(self, name: str, figure: str | None = None) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        clip = None
        if figure:  # the figure on the full page, where no sticky header hides it
            box = self.page.locator(f"#{figure}").bounding_box()
            scroll = self.page.evaluate("[window.scrollX, window.scrollY]")
            clip = {
                "x": box["x"] + scroll[0],
                "y": box["y"] + scroll[1],
                "width": box["width"],
                "height": box["height"],
            }
        # Material's header is fixed: hidden while the full page is captured.
        self.page.screenshot(
            path=str(SCREENSHOTS / name),
            full_page=True,
            clip=clip,
            style=".md-header { visibility: hidden; }",
        )
        assert (SCREENSHOTS / name).stat().st_size > 1000

    def close(self) -> None:
        assert self.foreign == [], f"the page reached outside localhost: {self.foreign}"
        assert self.errors == [], self.errors
        self.context.close()


def number(text: str) -> float:
    """A number as the page shows it: thousands commas, a real minus sign, a ×."""
    return float(text.replace(",", "").replace("−", "-").replace("×", "").strip())


def texts(locator) -> list[float]:
    return [number(text) for text in locator.all_inner_texts()]


# ---------------------------------------------------------------------------
# 1. The fully connected layer at every position.
# ---------------------------------------------------------------------------


def _check_fully_connected(visit: Visit) -> dict:
    """What the figure shows now equals Pointwise and cost on the same numbers."""
    figure = visit.page.locator("#explorable-fully-connected")
    state = visit.state("explorable-fully-connected")
    C, F, row, col = state["C"], state["F"], state["row"], state["col"]
    image = np.array(state["image"], dtype="float32")[np.newaxis]  # (1, 6, 6, C)
    kernel = np.array(state["kernel"], dtype="float32")
    bias = np.array(state["bias"], dtype="float32")
    assert image.shape == (1, 6, 6, C) and kernel.shape == (C, F)

    layer = Pointwise(F)  # a 1×1 convolution with a ReLU, as on the page
    layer.build((None, 6, 6, C))
    layer.set_weights([kernel, bias])
    expected = keras.ops.convert_to_numpy(layer(image))[0, row, col]

    # The table: the position's channel vector, W, b and the F outputs.
    assert texts(figure.locator("[data-x]")) == pytest.approx(image[0, row, col])
    shown_kernel = np.array(texts(figure.locator("[data-w]"))).reshape(C, F)
    np.testing.assert_allclose(shown_kernel, kernel, atol=1e-6)
    assert texts(figure.locator("[data-b]")) == pytest.approx(bias)
    shown = np.array(texts(figure.locator("[data-y]")))
    np.testing.assert_allclose(shown, expected, atol=1e-5)  # exact to 2 decimals
    caption = figure.locator("table caption").inner_text()
    assert f"row {row + 1}, column {col + 1}" in caption

    report = cost(Pointwise(F), input_shape=(6, 6, C))
    assert number(figure.locator("[data-value=params]").inner_text()) == report.params
    multiplies = number(figure.locator("[data-value=multiplies]").inner_text())
    assert multiplies == report.multiplies == 36 * C * F
    return state


def test_fully_connected_figure_equals_pointwise(browser, base_url):
    visit = Visit(browser, base_url + "/theory/fully-connected/")
    page = visit.page
    figure = page.locator("#explorable-fully-connected")
    figure.scroll_into_view_if_needed()
    assert "Try it." in figure.locator("figcaption").inner_text()

    # The default: the lecture's 6×6×32 input, F = 4, position (row 3, column 4).
    state = _check_fully_connected(visit)
    assert (state["C"], state["F"], state["row"], state["col"]) == (32, 4, 2, 3)
    assert number(figure.locator("[data-value=params]").inner_text()) == 132
    visit.screenshot("explorable-fully-connected.png", "explorable-fully-connected")

    # Keyboard: the sliders move with Home/End/arrows, the grid with the arrows.
    channels = page.get_by_label("Input channels C")
    filters = page.get_by_label("Filters F")
    channels.focus()
    page.keyboard.press("Home")
    for _ in range(4):
        page.keyboard.press("ArrowRight")
    state = _check_fully_connected(visit)
    assert state["C"] == 5  # the lecture's second example, 6×6×5

    filters.focus()
    page.keyboard.press("End")
    state = _check_fully_connected(visit)
    assert (state["C"], state["F"]) == (5, 16)

    page.get_by_role("button", name="Position row 1, column 1").click()
    state = _check_fully_connected(visit)
    assert (state["row"], state["col"]) == (0, 0)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    state = _check_fully_connected(visit)
    assert (state["row"], state["col"]) == (1, 2)
    focused = page.evaluate("document.activeElement.getAttribute('aria-label')")
    assert focused == "Position row 2, column 3"

    filters.focus()
    page.keyboard.press("Home")
    channels.focus()
    page.keyboard.press("End")
    page.get_by_role("button", name="Position row 6, column 6").hover()
    state = _check_fully_connected(visit)
    assert (state["C"], state["F"], state["row"], state["col"]) == (32, 1, 5, 5)
    visit.close()


# ---------------------------------------------------------------------------
# 2. Two linear layers collapse; a ReLU breaks the collapse.
# ---------------------------------------------------------------------------


def _matrix(figure, name: str, columns: int) -> np.ndarray:
    cells = figure.locator(f"table[data-matrix={name}] td")
    return np.array(texts(cells)).reshape(-1, columns)


def _check_collapse(visit: Visit) -> dict:
    figure = visit.page.locator("#explorable-collapse")
    state = visit.state("explorable-collapse")
    X = np.array(state["X"], dtype="float32")
    W1 = np.array(state["W1"], dtype="float32")
    W2 = np.array(state["W2"], dtype="float32")
    np.testing.assert_allclose(_matrix(figure, "X", 3), X, atol=1e-6)
    np.testing.assert_allclose(_matrix(figure, "W1", 3), W1, atol=1e-6)
    np.testing.assert_allclose(_matrix(figure, "W2", 2), W2, atol=1e-6)

    # The four positions as a 1×4 image with 3 channels, through keras_nin.
    image = X.reshape(1, 1, 4, 3)
    first = Pointwise(3, activation="relu" if state["relu"] else None, use_bias=False)
    second = Pointwise(2, activation=None, use_bias=False)
    single = Pointwise(2, activation=None, use_bias=False)
    for layer, shape, weights in (
        (first, 3, W1),
        (second, 3, W2),
        (single, 3, W1 @ W2),
    ):
        layer.build((None, 1, 4, shape))
        layer.set_weights([weights])
    to_numpy = keras.ops.convert_to_numpy
    stacked = to_numpy(second(first(image))).reshape(4, 2)
    one_layer = to_numpy(single(image)).reshape(4, 2)

    np.testing.assert_allclose(_matrix(figure, "stacked", 2), stacked, atol=1e-5)
    np.testing.assert_allclose(_matrix(figure, "single", 2), one_layer, atol=1e-5)
    np.testing.assert_allclose(_matrix(figure, "W12", 2), W1 @ W2, atol=1e-5)
    shown_difference = _matrix(figure, "difference", 2)
    np.testing.assert_allclose(shown_difference, stacked - one_layer, atol=1e-5)
    largest = number(figure.locator("[data-value=largest]").inner_text())
    assert largest == pytest.approx(np.max(np.abs(stacked - one_layer)), abs=1e-5)
    if state["relu"]:
        assert largest > 0, "with the ReLU the difference must not vanish"
    else:
        assert largest == 0 and np.all(shown_difference == 0)
    return state


def test_collapse_figure_equals_pointwise(browser, base_url):
    visit = Visit(browser, base_url + "/theory/nonlinearity/")
    page = visit.page
    figure = page.locator("#explorable-collapse")
    figure.scroll_into_view_if_needed()
    assert _check_collapse(visit)["relu"] is False
    randomise = page.get_by_role("button", name="Randomise the weights")
    relu = page.get_by_role("checkbox", name="ReLU between the two layers")

    relu.focus()
    page.keyboard.press("Space")  # by keyboard
    first_draw = _check_collapse(visit)
    assert first_draw["relu"] is True
    visit.screenshot("explorable-collapse-relu.png", "explorable-collapse")

    seen = [first_draw["W1"]]
    for _ in range(3):
        randomise.focus()
        page.keyboard.press("Enter")
        state = _check_collapse(visit)
        assert state["W1"] not in seen  # new weights each time
        seen.append(state["W1"])
    relu.click()
    for _ in range(2):
        randomise.click()
        assert _check_collapse(visit)["relu"] is False
    visit.screenshot("explorable-collapse-linear.png", "explorable-collapse")
    visit.close()


# ---------------------------------------------------------------------------
# 3. The bottleneck calculator.
# ---------------------------------------------------------------------------


def _library_counts(H, W, C_in, k, C_out, R):
    naive = keras.Sequential(
        [keras.Input((H, W, C_in)), keras.layers.Conv2D(C_out, k, padding="same")]
    )
    bottleneck = keras.Sequential(
        [
            keras.Input((H, W, C_in)),
            Pointwise(R),
            keras.layers.Conv2D(C_out, k, padding="same"),
        ]
    )
    return cost(naive), cost(bottleneck)


def _check_bottleneck(visit: Visit, values) -> None:
    figure = visit.page.locator("#explorable-bottleneck")
    naive, bottleneck = _library_counts(*values)

    def cell(row, column):
        return number(
            figure.locator(f"tr[data-row={row}] [data-value={column}]").inner_text()
        )

    assert cell("naive", "multiplies") == naive.multiplies
    assert cell("naive", "params") == naive.params
    assert cell("bottleneck", "multiplies") == bottleneck.multiplies
    assert cell("bottleneck", "params") == bottleneck.params
    reduce, conv = (row.multiplies for row in bottleneck.rows if row.multiplies)
    assert (cell("reduce", "multiplies"), cell("conv", "multiplies")) == (reduce, conv)
    ratio = number(figure.locator("[data-value=ratio]").inner_text())
    assert ratio == round(naive.compare(bottleneck), 2)
    param_ratio = number(figure.locator("[data-value=param-ratio]").inner_text())
    assert param_ratio == round(naive.params / bottleneck.params, 2)


FIELDS = (
    "Height H",
    "Width W",
    "Input channels C_in",
    "Kernel k (k×k)",
    "Output channels C_out",
    "1×1 reduction R",
)


def test_bottleneck_calculator_equals_cost(browser, base_url):
    visit = Visit(browser, base_url + "/theory/cost/")
    page = visit.page
    figure = page.locator("#explorable-bottleneck")
    figure.scroll_into_view_if_needed()

    # The default is the lecture's example.
    _check_bottleneck(visit, (28, 28, 192, 5, 32, 16))
    text = figure.inner_text()
    assert "120,422,400" in text and "12,443,648" in text and "9.68×" in text
    visit.screenshot("explorable-bottleneck.png", "explorable-bottleneck")

    for values in [
        (28, 28, 192, 3, 128, 96),  # Inception 3a's 3×3 branch
        (56, 56, 256, 3, 64, 64),  # a ResNet-50 bottleneck's 3×3
        (14, 9, 480, 1, 48, 16),  # a 1×1 "kernel", unequal sides
        (7, 7, 32, 5, 64, 64),  # a reduction wider than the input: more, not fewer
    ]:
        for label, value in zip(FIELDS, values, strict=True):
            page.get_by_label(label, exact=True).fill(str(value))
        _check_bottleneck(visit, values)
    assert "more, not fewer" in figure.inner_text()
    assert "shrinks nothing" in figure.inner_text()

    # A wrong entry is flagged and leaves the last valid numbers in place.
    before = figure.locator("table").inner_text()
    page.get_by_label("Kernel k (k×k)", exact=True).fill("0")
    assert (
        page.get_by_label("Kernel k (k×k)", exact=True).get_attribute("aria-invalid")
        == "true"
    )
    assert "whole number from 1 to 15" in figure.locator(".nin-x-error").inner_text()
    assert figure.locator("table").inner_text() == before
    page.get_by_label("Kernel k (k×k)", exact=True).fill("5")
    _check_bottleneck(visit, (7, 7, 32, 5, 64, 64))
    assert figure.locator(".nin-x-error").inner_text() == ""
    visit.close()


# ---------------------------------------------------------------------------
# Every figure: phone, dark mode, scripts off.
# ---------------------------------------------------------------------------


def _luminance(rgb: str) -> float:
    channels = [float(v) / 255 for v in rgb[rgb.index("(") + 1 : -1].split(",")[:3]]
    linear = [
        c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels
    ]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(foreground: str, background: str) -> float:
    lighter, darker = sorted([_luminance(foreground), _luminance(background)])[::-1]
    return (lighter + 0.05) / (darker + 0.05)


@pytest.mark.parametrize("path", FIGURES)
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_figure_is_legible_on_a_phone(browser, base_url, path, scheme):
    figure_id = FIGURES[path]
    visit = Visit(
        browser,
        base_url + "/" + path,
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        color_scheme=scheme,
    )
    page = visit.page
    expected = "slate" if scheme == "dark" else "default"
    assert page.evaluate("document.body.dataset.mdColorScheme") == expected
    figure = page.locator(f"#{figure_id}")
    figure.scroll_into_view_if_needed()
    box = figure.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    # No sideways scrolling of the page (wide tables scroll inside the figure).
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # Text against the page's background: WCAG AA (4.5:1) in both schemes.
    colors = figure.evaluate(
        """figure => {
            const style = element => getComputedStyle(element);
            const background = style(document.body).backgroundColor;
            return [...figure.querySelectorAll('.nin-x-summary, td, label, figcaption')]
                .map(element => [style(element).color, background]);
        }"""
    )
    assert colors
    worst = min(_contrast(fg, bg) for fg, bg in colors)
    assert worst >= 4.5, worst
    for control in figure.locator("input, button").all():
        # Every control has a name a screen reader can say.
        name = control.evaluate(
            "e => e.labels?.[0]?.innerText || e.getAttribute('aria-label')"
            " || e.innerText"
        )
        assert name.strip(), control.evaluate("e => e.outerHTML")
    visit.screenshot(f"explorable-{Path(path).name}-390-{scheme}.png", figure_id)
    visit.close()


@pytest.mark.parametrize("path", FIGURES)
def test_figure_has_a_caption_and_a_plain_text_fallback(browser, base_url, path):
    figure_id = FIGURES[path]
    visit = Visit(browser, base_url + "/" + path, java_script_enabled=False)
    figure = visit.page.locator(f"#{figure_id}")
    assert figure.get_attribute("aria-labelledby") == f"{figure_id}-caption"
    assert "Try it." in visit.page.locator(f"#{figure_id}-caption").inner_text()
    text = figure.inner_text()
    assert "This figure needs JavaScript. In words:" in text, text
    assert figure.locator("input").count() == 0  # nothing half-built
    visit.screenshot(f"explorable-{Path(path).name}-noscript.png", figure_id)
    visit.close()


# ---------------------------------------------------------------------------
# The notebook links of every theory page and guide.
# ---------------------------------------------------------------------------


def _notebook_hook():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "notebooks_hook", ROOT / "docs" / "hooks" / "notebooks.py"
    )
    hook = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hook)
    return hook


def test_every_notebook_page_links_its_notebook_and_colab(base_url):
    import re
    import urllib.request

    import nbformat

    hook = _notebook_hook()
    for src_uri in hook.notebook_pages():
        url = f"{base_url}/{src_uri.removesuffix('.md')}/"
        html = urllib.request.urlopen(url).read().decode()
        links = re.search(r'<p class="nin-notebook-links">(.*?)</p>', html)
        assert links, f"{url}: no notebook links"
        download = re.search(r'<a href="([^"]+\.ipynb)" download>', links[1])
        assert download and "Download this page as a notebook" in links[1]
        colab = hook.COLAB + hook.notebook_name(src_uri)
        assert f'<a href="{colab}">Open in Colab</a>' in links[1]
        # The downloaded file is the page's notebook, the same as the committed one.
        text = urllib.request.urlopen(url + download[1]).read().decode()
        nbformat.validate(nbformat.reads(text, as_version=4))
        committed = ROOT / "notebooks" / hook.notebook_name(src_uri)
        assert text == committed.read_text(), src_uri
