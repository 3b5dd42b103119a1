"""Every Python snippet of the site runs when built, and runs alone as copied."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import Future, ThreadPoolExecutor

import keras
import pytest
from docs_snippets import code_blocks

PYTHON_BLOCKS = code_blocks("python")


def test_the_pages_have_python_snippets():
    assert len(PYTHON_BLOCKS) >= 1


@pytest.mark.parametrize("block", PYTHON_BLOCKS, ids=lambda block: block.id)
def test_python_block_is_executed_by_the_build(block):
    """Output shown on the site comes from a run at build time, never pasted."""
    assert block.executed, f'{block.id}: add exec="on" so the build runs it'


def _run_alone(block, directory) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", block.code],
        cwd=directory,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def standalone_runs(tmp_path_factory) -> dict[str, Future]:
    """Every snippet started in its own fresh interpreter, two at a time.

    Each run is mostly the TensorFlow import, which uses one core: running two
    at once halves the wall time on two cores without changing what is run.
    """
    pool = ThreadPoolExecutor(max_workers=2)
    runs = {
        block.id: pool.submit(_run_alone, block, tmp_path_factory.mktemp("snippet"))
        for block in PYTHON_BLOCKS
    }
    yield runs
    pool.shutdown(cancel_futures=True)


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="the site is built and its outputs shown with the default TensorFlow "
    "backend; each snippet (about 4 s, mostly the import) runs once, there",
)
@pytest.mark.parametrize("block", PYTHON_BLOCKS, ids=lambda block: block.id)
def test_python_block_runs_alone_in_a_fresh_interpreter(block, standalone_runs):
    """A reader copies one block into a new session: it must work by itself."""
    result = standalone_runs[block.id].result()
    assert result.returncode == 0, f"{block.id} failed:\n{result.stderr[-3000:]}"


def test_shell_blocks_are_marked_as_shell():
    """Blocks a reader types in a terminal are labelled so, not left bare."""
    unlabelled = [block.id for block in code_blocks() if not block.language]
    assert unlabelled == []
