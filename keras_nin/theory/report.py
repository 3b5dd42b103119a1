"""The result of `cost`: one row per layer call, totals, text and Markdown."""

from __future__ import annotations

import dataclasses
from typing import Any

from keras_nin.theory.shapes import is_shape


@dataclasses.dataclass(frozen=True)
class CostRow:
    """One layer call in a `CostReport`.

    Attributes:
        name: the layer's path from the costed object, blocks and nested
            models joined by `/`, e.g. `"bottleneck/reduce"`.
        layer_class: the class name, e.g. `"Conv2D"`.
        output_shape: the output shape without the batch dimension (a list
            of shapes for several outputs), or `None` when unknown.
        multiplies: multiply–accumulates for one example, or `None` when they
            cannot be counted (see `note`).
        params: weights first seen at this row (a shared layer's weights are
            counted at its first call only).
        trainable_params: the trainable part of `params`.
        note: empty, or why `multiplies` is `None` or assumed 0.
    """

    name: str
    layer_class: str
    output_shape: Any
    multiplies: int | None
    params: int
    trainable_params: int
    note: str = ""


def _format_int(value: int | None) -> str:
    return "?" if value is None else f"{value:,}"


def _format_shape(shape: Any) -> str:
    if shape is None:
        return "?"
    if is_shape(shape):
        dims = ["?" if d is None else str(d) for d in shape]
        return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"
    return "[" + ", ".join(_format_shape(s) for s in shape) + "]"


@dataclasses.dataclass(frozen=True)
class CostReport:
    """Multiplies and parameters of a network, per layer and in total.

    Made by `cost`. `str(report)` is a text table; `report.to_markdown()` the
    same table in Markdown. The totals sum the rows:
    `report.multiplies == sum(row.multiplies for row in report.rows)` when no
    layer is unknown, and `report.params == sum(row.params ...)`.

    Attributes:
        name: the name of the costed layer or model.
        input_shape: the input shape without the batch dimension (a list of
            shapes for several inputs).
        rows: one `CostRow` per layer call, blocks expanded into their
            sublayers, in call order.
    """

    name: str
    input_shape: Any
    rows: tuple[CostRow, ...]

    @property
    def multiplies(self) -> int:
        """Multiply–accumulates for one example, summed over the rows.

        A lower bound when `unknown_layers` is not empty.
        """
        return sum(row.multiplies or 0 for row in self.rows)

    @property
    def params(self) -> int:
        """All weights, trainable or not, each counted once."""
        return sum(row.params for row in self.rows)

    @property
    def trainable_params(self) -> int:
        """The trainable weights, each counted once."""
        return sum(row.trainable_params for row in self.rows)

    @property
    def unknown_layers(self) -> tuple[str, ...]:
        """Names of the rows whose multiplies could not be counted."""
        return tuple(row.name for row in self.rows if row.multiplies is None)

    def compare(self, other: CostReport) -> float:
        """How many times more multiplies this network needs than `other`.

        `a.compare(b) == a.multiplies / b.multiplies`: above 1 when `a` is the
        more expensive one. Compare the naive 5×5 convolution with its
        bottleneck version to get the lecture's "about ten times fewer".

        Args:
            other: the `CostReport` to divide by.

        Returns:
            The ratio of multiplies, a float.

        Raises:
            TypeError: if `other` is not a `CostReport`.
            ValueError: if `other` counts 0 multiplies.
        """
        if not isinstance(other, CostReport):
            raise TypeError(
                "Invalid value for argument `other`. Expected a CostReport, "
                f"e.g. cost(model). Received: other={other!r}."
            )
        if other.multiplies == 0:
            raise ValueError(
                f"Cannot compare with '{other.name}': it counts 0 multiplies, "
                "so the ratio is undefined."
            )
        return self.multiplies / other.multiplies

    def _table(self) -> tuple[list[str], list[list[str]], list[str]]:
        header = ["Layer", "Class", "Output shape", "Multiplies", "Params"]
        body = [
            [
                row.name,
                row.layer_class,
                _format_shape(row.output_shape),
                _format_int(row.multiplies) + (f" ({row.note})" if row.note else ""),
                _format_int(row.params),
            ]
            for row in self.rows
        ]
        total = [
            "Total",
            "",
            "",
            _format_int(self.multiplies) + ("+?" if self.unknown_layers else ""),
            _format_int(self.params),
        ]
        return header, body, total

    def _footer(self) -> list[str]:
        lines = [
            f"Input shape {_format_shape(self.input_shape)}, one example; "
            f"trainable params: {self.trainable_params:,}."
        ]
        if self.unknown_layers:
            lines.append(
                "Multiplies not counted (total is a lower bound): "
                + ", ".join(self.unknown_layers)
                + "."
            )
        return lines

    def __str__(self) -> str:
        header, body, total = self._table()
        widths = [
            max(len(line[i]) for line in [header, *body, total])
            for i in range(len(header))
        ]
        right = {3, 4}  # numbers align right

        def render(cells: list[str]) -> str:
            return "  ".join(
                cell.rjust(width) if i in right else cell.ljust(width)
                for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
            ).rstrip()

        rule = "-" * len(render(["-" * w for w in widths]))
        lines = [f"Cost of '{self.name}'", render(header), rule]
        lines += [render(cells) for cells in body]
        lines += [rule, render(total), *self._footer()]
        return "\n".join(lines)

    def to_markdown(self) -> str:
        """The table in Markdown, for documentation pages.

        Returns:
            A Markdown table with a bold total row, then the footer lines.
        """
        header, body, total = self._table()

        def render(cells: list[str]) -> str:
            return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

        lines = [render(header), "|" + "---|" * 2 + "---|" + "---:|" * 2]
        lines += [render([f"`{cells[0]}`", *cells[1:]]) for cells in body]
        lines.append(render([f"**{cell}**" if cell else "" for cell in total]))
        lines += ["", *self._footer()]
        return "\n".join(lines)
