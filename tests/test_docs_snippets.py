"""Every Python snippet of the site runs when built, and runs alone as copied."""

from __future__ import annotations

import os
import subprocess
import sys

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


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="the site is built and its outputs shown with the default TensorFlow "
    "backend; each snippet (about 4 s, mostly the import) runs once, there",
)
@pytest.mark.parametrize("block", PYTHON_BLOCKS, ids=lambda block: block.id)
def test_python_block_runs_alone_in_a_fresh_interpreter(block, tmp_path):
    """A reader copies one block into a new session: it must work by itself."""
    result = subprocess.run(
        [sys.executable, "-c", block.code],
        cwd=tmp_path,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, f"{block.id} failed:\n{result.stderr[-3000:]}"


def test_shell_blocks_are_marked_as_shell():
    """Blocks a reader types in a terminal are labelled so, not left bare."""
    unlabelled = [block.id for block in code_blocks() if not block.language]
    assert unlabelled == []
