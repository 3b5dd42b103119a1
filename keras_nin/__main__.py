"""The learner's command line: what a convolution costs, with and without a 1×1.

    python -m keras_nin cost --input 28x28x192 --conv 5x5:32
    python -m keras_nin cost --input 28x28x192 --conv 5x5:32 --bottleneck 16

prints the cost table of a "same"-padded convolution on one example, and with
`--bottleneck` that of a 1×1 reduction followed by the same convolution, and
how many times fewer (or more) multiplies the bottleneck needs. Counting reads
shapes only and allocates no weights, so any size answers at once.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part) for part in text.lower().split("x"))
    except ValueError:
        sizes = ()
    if not sizes or any(size <= 0 for size in sizes):
        raise argparse.ArgumentTypeError(
            f"expected positive sizes joined by 'x', e.g. 28x28x192; got {text!r}"
        )
    return sizes


def _conv(text: str) -> tuple[tuple[int, ...], int]:
    kernel, _, filters = text.partition(":")
    try:
        kernel_size, filters_sizes = _sizes(kernel), _sizes(filters)
    except argparse.ArgumentTypeError:
        filters_sizes = ()
    if len(filters_sizes) != 1:
        raise argparse.ArgumentTypeError(
            "expected KERNELxKERNEL:FILTERS, one number of filters after the "
            f"colon, e.g. 5x5:32; got {text!r}"
        )
    return kernel_size, filters_sizes[0]


def _channels(text: str) -> int:
    try:
        sizes = _sizes(text)
    except argparse.ArgumentTypeError:
        sizes = ()
    if len(sizes) != 1:
        raise argparse.ArgumentTypeError(
            f"expected one positive number of channels, e.g. 16; got {text!r}"
        )
    return sizes[0]


def _times(naive: int, reduced: int, what: str) -> str:
    """'9.68× fewer multiplies (120 / 12)', or '3.31× more multiplies (...)'."""
    if naive >= reduced:
        return f"{naive / reduced:.2f}× fewer {what} ({naive:,} / {reduced:,})"
    return f"{reduced / naive:.2f}× more {what} ({reduced:,} instead of {naive:,})"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m keras_nin",
        description="Count the multiplies and parameters of small networks.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    cost = commands.add_parser(
        "cost",
        help="cost of a convolution, optionally behind a 1×1 bottleneck",
        description="Cost of a 'same'-padded convolution on one example "
        "(channels last), and of the same convolution behind a 1×1 reduction.",
    )
    cost.add_argument(
        "--input",
        type=_sizes,
        required=True,
        metavar="HxWxC",
        help="input shape without the batch, channels last: 28x28x192 "
        "(also 100x64 for sequences, 8x28x28x16 for volumes)",
    )
    cost.add_argument(
        "--conv",
        type=_conv,
        required=True,
        metavar="KxK:F",
        help="kernel size and filters of the convolution, e.g. 5x5:32 (or 5:32)",
    )
    cost.add_argument(
        "--bottleneck",
        type=_channels,
        metavar="C",
        help="also cost a 1×1 reduction to C channels before the convolution",
    )
    cost.add_argument("--markdown", action="store_true", help="print Markdown tables")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status.

    Args:
        argv: the arguments, without the program name. Defaults to
            `sys.argv[1:]`.

    Returns:
        0 on success (argument errors exit with status 2, as argparse does).
    """
    parser = _parser()
    args = parser.parse_args(argv)
    input_shape, (kernel_size, filters) = args.input, args.conv
    rank = len(input_shape) - 1
    if rank not in (1, 2, 3):
        parser.error(
            f"--input needs 2 to 4 sizes (spatial sizes, then channels); "
            f"got {len(input_shape)}: {'x'.join(map(str, input_shape))}"
        )
    if len(kernel_size) == 1:
        kernel_size = kernel_size * rank
    if len(kernel_size) != rank:
        parser.error(
            f"--conv has a {len(kernel_size)}-d kernel but --input has {rank} "
            "spatial dimensions"
        )

    # Imported only once the arguments are known to be good.
    import keras

    from keras_nin.layers import Pointwise
    from keras_nin.theory import cost

    channels = input_shape[-1]

    conv_class = {1: keras.layers.Conv1D, 2: keras.layers.Conv2D}.get(
        rank, keras.layers.Conv3D
    )

    def network(bottleneck: int | None, name: str) -> keras.Sequential:
        # Not built: cost() counts it from shapes, without creating weights.
        layers = []
        if bottleneck is not None:
            layers.append(
                Pointwise(bottleneck, data_format="channels_last", name="reduce")
            )
        conv = conv_class(
            filters,
            kernel_size,
            padding="same",
            data_format="channels_last",
            name="conv",
        )
        return keras.Sequential([*layers, conv], name=name)

    def count(bottleneck: int | None, name: str) -> object:
        return cost(network(bottleneck, name), input_shape=input_shape)

    def show(report: object) -> None:
        print(report.to_markdown() if args.markdown else report, end="\n\n")

    naive = count(None, "convolution")
    show(naive)
    if args.bottleneck is not None:
        reduced = count(args.bottleneck, "bottleneck")
        show(reduced)
        if args.bottleneck >= channels:
            print(
                f"Note: --bottleneck {args.bottleneck} is not a reduction: the "
                f"input has {channels} channels, so the 1×1 layer does not "
                "shrink what the convolution reads."
            )
        print(
            "The bottleneck needs "
            f"{_times(naive.multiplies, reduced.multiplies, 'multiplies')} and "
            f"{_times(naive.params, reduced.params, 'parameters')}."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
