"""The notebook of every theory page and guide: up to date, and runs top to bottom.

The notebooks are generated from the pages' Markdown by the build hook
docs/hooks/notebooks.py; the copies under notebooks/ (opened by the pages'
"Open in Colab" links) must be what the hook makes of today's pages. Each is
executed in a fresh Jupyter kernel, offline, against this checkout.
"""

from __future__ import annotations

import importlib.util
import os
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import keras
import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location(
    "notebooks_hook", ROOT / "docs" / "hooks" / "notebooks.py"
)
hook = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(hook)

PAGES = hook.notebook_pages()
# Where the execution times are written (a report, not an assertion: timed
# assertions do not belong in unit tests; the budget is three minutes here).
TIMES = ROOT / "artifacts" / "notebook-times.txt"
# The pages that train networks or run many snippets.
LONGEST = (
    "guides/digits.md",
    "theory/network-in-network.md",
    "theory/bottlenecks.md",
    "theory/nonlinearity.md",
    "theory/cost.md",
)


def test_every_theory_page_and_guide_has_a_notebook():
    names = [Path(page).stem for page in PAGES]
    assert len(PAGES) >= 14, PAGES
    assert "fully-connected" in names and "digits" in names, names
    committed = sorted(
        path.relative_to(ROOT / "notebooks").as_posix()
        for path in (ROOT / "notebooks").rglob("*.ipynb")
    )
    assert committed == [hook.notebook_name(page) for page in PAGES]


@pytest.mark.parametrize("page", PAGES)
def test_committed_notebook_is_up_to_date(page):
    """notebooks/ is what the hook makes of the page: regenerate, never edit."""
    committed = (ROOT / "notebooks" / hook.notebook_name(page)).read_text()
    assert committed == hook.notebook_text(page), (
        f"notebooks/{hook.notebook_name(page)} is stale: run "
        "`python docs/hooks/notebooks.py`"
    )


@pytest.mark.parametrize("page", PAGES)
def test_notebook_is_valid_nbformat_4_with_an_install_cell(page):
    notebook = nbformat.reads(hook.notebook_text(page), as_version=4)
    nbformat.validate(notebook)
    assert notebook.nbformat == 4
    first = notebook.cells[0]
    assert first.cell_type == "code"
    assert "%pip install" in first.source and "keras-nin" in first.source
    assert "import keras_nin" in first.source  # installs only when missing
    code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    prose = "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    assert "exec=" not in code + prose  # markdown-exec's options are gone
    assert "](../" not in prose and ".md)" not in prose  # links point at the site
    assert "%%bash" not in code  # shell commands are shown, never run
    # The explorable figures need the site's scripts: a link and their words instead.
    assert "<script" not in prose and "<figure" not in prose


def test_a_solution_is_a_code_cell():
    """Exercise solutions (collapsed on the site) are cells a reader can run."""
    notebook = nbformat.reads(
        hook.notebook_text("theory/fully-connected.md"), as_version=4
    )
    cells = notebook.cells
    solutions = [i for i, cell in enumerate(cells) if "**Solution**" in cell.source]
    assert len(solutions) >= 3
    assert all(cells[i].cell_type == "markdown" for i in solutions)
    assert all(cells[i + 1].cell_type == "code" for i in solutions)


def _execute(page: str, directory: Path) -> tuple[float, float]:
    """Run the page's notebook in a fresh kernel; return when it started and ended."""
    notebook = nbformat.reads(hook.notebook_text(page), as_version=4)
    start = time.perf_counter()
    NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(directory)}},
    ).execute()
    return start, time.perf_counter()


@pytest.fixture(scope="module")
def executions(tmp_path_factory) -> dict[str, Future]:
    """Every notebook started in its own kernel, two at a time (two cores)."""
    # The kernels import keras_nin from this checkout and need no network: the
    # install cell finds keras_nin and installs nothing.
    path = os.environ.get("PYTHONPATH", "")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), path]))
    os.environ.setdefault("KERAS_BACKEND", keras.backend.backend())
    pool = ThreadPoolExecutor(max_workers=2)
    # The longest first, so that the two kernels finish close together.
    order = sorted(PAGES, key=lambda page: page not in LONGEST)
    runs = {
        page: pool.submit(_execute, page, tmp_path_factory.mktemp("notebook"))
        for page in order
    }
    yield runs
    pool.shutdown(wait=True, cancel_futures=True)
    os.environ["PYTHONPATH"] = path


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="the notebooks install and use the default TensorFlow backend, "
    "like the site; they run once, in the TensorFlow run",
)
@pytest.mark.parametrize("page", PAGES)
def test_notebook_runs_top_to_bottom_in_a_fresh_kernel(page, executions):
    """Any error in any cell fails (nbclient raises CellExecutionError)."""
    start, end = executions[page].result()
    assert end > start


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="timed in the TensorFlow run, where the notebooks are executed",
)
def test_the_execution_times_are_reported(executions):
    times = [future.result() for future in executions.values()]
    wall = max(end for _, end in times) - min(start for start, _ in times)
    lines = [
        f"{page}: {end - start:.0f} s"
        for page, (start, end) in zip(executions, times, strict=True)
    ]
    lines.append(f"{len(times)} notebooks executed in {wall:.0f} s (budget: 180 s)")
    TIMES.parent.mkdir(parents=True, exist_ok=True)
    TIMES.write_text("\n".join(lines) + "\n")
    assert len(TIMES.read_text().splitlines()) == len(times) + 1
