"""`python -m keras_nin cost`: the learner's command line."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from keras_nin.__main__ import main


def run(capsys, *argv):
    assert main(list(argv)) == 0
    return capsys.readouterr().out


def test_lecture_convolution(capsys):
    out = run(capsys, "cost", "--input", "28x28x192", "--conv", "5x5:32")
    assert "Cost of 'convolution'" in out
    assert f"{28 * 28 * 5 * 5 * 192 * 32:,}" in out  # 120,422,400
    assert f"{5 * 5 * 192 * 32 + 32:,}" in out  # 153,632 params
    assert "(28, 28, 32)" in out
    assert "bottleneck" not in out


def test_lecture_bottleneck_comparison(capsys):
    out = run(
        capsys, "cost", "--input", "28x28x192", "--conv", "5x5:32", "--bottleneck", "16"
    )
    bottleneck = 28 * 28 * 192 * 16 + 28 * 28 * 5 * 5 * 16 * 32
    assert f"{bottleneck:,}" in out  # 12,443,648
    assert "reduce" in out and "Pointwise" in out
    ratio = 28 * 28 * 5 * 5 * 192 * 32 / bottleneck
    assert f"The bottleneck needs {ratio:.2f}× fewer multiplies" in out
    assert "9.68×" in out


@pytest.mark.parametrize(
    ("shape", "conv", "expected"),
    [
        ("100x64", "3:16", 100 * 3 * 64 * 16),
        ("8x8x8x4", "3x3x3:2", 8 * 8 * 8 * 27 * 4 * 2),
        ("10x12x3", "3:5", 10 * 12 * 9 * 3 * 5),  # one size: a square kernel
    ],
)
def test_sequences_volumes_and_square_shorthand(capsys, shape, conv, expected):
    out = run(capsys, "cost", "--input", shape, "--conv", conv)
    assert f"{expected:,}" in out


def test_markdown(capsys):
    out = run(capsys, "cost", "--input", "4x4x8", "--conv", "1:2", "--markdown")
    assert "| Layer | Class | Output shape | Multiplies | Params |" in out
    assert f"| `conv` | Conv2D | (4, 4, 2) | {4 * 4 * 8 * 2} | {8 * 2 + 2} |" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["cost", "--input", "28x2a", "--conv", "5x5:32"], "--input"),
        (["cost", "--input", "28x0x3", "--conv", "5x5:32"], "--input"),
        (["cost", "--input", "28x28x3", "--conv", "5x5"], "--conv"),
        (["cost", "--input", "28x28x3", "--conv", "5x5:x"], "--conv"),
        (["cost", "--input", "28x28x3", "--conv", "5x5x5:4"], "3-d kernel"),
        (["cost", "--input", "3", "--conv", "1:4"], "2 to 4 sizes"),
        (["cost", "--input", "28x28x3", "--conv", "5:4", "--bottleneck", "0"], "--b"),
        (
            ["cost", "--input", "28x28x3", "--conv", "5x5:32x64"],
            "argument --conv: expected KERNELxKERNEL:FILTERS, one number of filters",
        ),
        (["cost", "--input", "28x28x3", "--conv", "5x5:32:64"], "--conv"),
        (
            ["cost", "--input", "28x28x3", "--conv", "5:4", "--bottleneck", "16x16"],
            "argument --bottleneck: expected one positive number of channels, "
            "e.g. 16; got '16x16'",
        ),
        (["cost", "--input", "28x28x3", "--conv", "5:4", "--bottleneck", "x"], "--b"),
        (["cost", "--conv", "5:4"], "--input"),
        ([], "command"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(capsys, argv, message):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert message in err
    # No internal names: argparse says "invalid _positive value" when a type
    # function raises anything but ArgumentTypeError.
    assert "invalid" not in err
    assert not any(name in err for name in ("_positive", "_channels", "_conv"))


def test_a_wider_bottleneck_says_more_not_fewer(capsys):
    """512 channels on a 192-channel input: 3.31 times more, not "0.30× fewer"."""
    out = run(
        capsys,
        "cost",
        "--input",
        "28x28x192",
        "--conv",
        "5x5:32",
        "--bottleneck",
        "512",
    )
    naive = 28 * 28 * 5 * 5 * 192 * 32
    wider = 28 * 28 * 192 * 512 + 28 * 28 * 5 * 5 * 512 * 32
    assert f"{wider / naive:.2f}" == "3.31"
    assert (
        f"The bottleneck needs 3.31× more multiplies ({wider:,} instead of {naive:,})"
        in out
    )
    assert "fewer multiplies" not in out and "0.30" not in out
    assert "--bottleneck 512 is not a reduction: the input has 192 channels" in out


def test_a_bottleneck_as_wide_as_the_input_is_flagged(capsys):
    out = run(
        capsys, "cost", "--input", "8x8x16", "--conv", "3:4", "--bottleneck", "16"
    )
    assert "--bottleneck 16 is not a reduction: the input has 16 channels" in out


def test_any_size_answers_without_allocating_weights(capsys):
    """107 billion weights (430 GB in float32) for the 5×5 convolution: counted
    from shapes. Allocating them would fail with an out-of-memory error."""
    channels = 65_536
    out = run(
        capsys,
        "cost",
        "--input",
        f"28x28x{channels}",
        "--conv",
        f"5x5:{channels}",
        "--bottleneck",
        "16",
    )
    assert f"{28 * 28 * 5 * 5 * channels * channels:,}" in out
    assert f"{5 * 5 * channels * channels + channels:,}" in out  # params
    reduced = 28 * 28 * channels * 16 + 28 * 28 * 5 * 5 * 16 * channels
    assert f"{reduced:,}" in out
    assert "fewer multiplies" in out


def test_python_dash_m_entry_point():
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    argv = ["cost", "--input", "28x28x192", "--conv", "5x5:32", "--bottleneck", "16"]
    result = subprocess.run(
        [sys.executable, "-m", "keras_nin", *argv],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=300,
    )
    assert "120,422,400" in result.stdout and "12,443,648" in result.stdout
