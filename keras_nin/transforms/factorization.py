"""Low-rank factorization of a 1×1 convolution or dense layer by truncated SVD.

A `(C_in, C_out)` kernel `W = U·diag(s)·Vᵀ` is replaced by the product of a
`(C_in, r)` reduce kernel and an `(r, C_out)` expand kernel that keep the `r`
largest singular values: the best rank-`r` approximation (Eckart–Young), with
Frobenius error `sqrt(s[r]² + s[r+1]² + ...)`. It has `r·(C_in + C_out)`
weights instead of `C_in·C_out`: fewer only below the break-even rank
`C_in·C_out / (C_in + C_out)`.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import keras
import numpy as np

from keras_nin._validation import _invalid, check_positive_int, check_real
from keras_nin.layers import Pointwise
from keras_nin.transforms._copies import built_input_shape, copy_any, keep_frozen

_CONVOLUTIONS = (keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D)


def break_even_rank(input_channels: int, output_channels: int) -> float:
    """The rank at which a factorized kernel has as many weights as the full one.

    `r·(C_in + C_out) = C_in·C_out`: a factorization reduces the weights only
    for ranks strictly below `C_in·C_out / (C_in + C_out)`.

    Args:
        input_channels: int, `C_in`.
        output_channels: int, `C_out`.

    Returns:
        The break-even rank, a float below `min(C_in, C_out)`.

    Examples:
        >>> from keras_nin.transforms import break_even_rank
        >>> break_even_rank(256, 64)  # a rank-51 pair already has more weights
        51.2
    """
    return input_channels * output_channels / (input_channels + output_channels)


def _kind(layer: Any) -> str | None:
    """`"pointwise"`, `"conv"` or `"dense"` if `factorize` takes `layer`."""
    if isinstance(layer, Pointwise):
        return "pointwise"
    if isinstance(layer, keras.layers.Dense):
        return "dense"
    if (
        isinstance(layer, _CONVOLUTIONS)
        and set(layer.kernel_size) == {1}
        and layer.groups == 1
    ):
        return "conv"
    return None


def _check_layer(name: str, layer: Any) -> str:
    kind = _kind(layer)
    expected = "a Pointwise, a 1×1 Conv1D/Conv2D/Conv3D (groups=1) or a Dense layer"
    if kind is None:
        raise TypeError(_invalid(name, layer, expected))
    if not layer.built:
        raise ValueError(_invalid(name, layer, f"{expected}, built"))
    if getattr(layer, "quantization_mode", None) or getattr(
        layer, "lora_enabled", False
    ):
        raise ValueError(_invalid(name, layer, f"{expected}, not quantized, no LoRA"))
    return kind


def _kernel_matrix(layer: keras.layers.Layer) -> np.ndarray:
    kernel = np.asarray(keras.ops.convert_to_numpy(layer.kernel.value), np.float64)
    return kernel.reshape(-1, kernel.shape[-1])


def _energy_rank(singular_values: np.ndarray, energy: float) -> int:
    """The smallest rank keeping `energy` of the sum of squared singular values."""
    squares = singular_values**2
    kept = np.cumsum(squares) / np.sum(squares)
    # Rounding: a fraction that reaches `energy` up to float error counts.
    return int(np.searchsorted(kept, energy - 1e-12) + 1)


def _resolve_rank(
    layer: keras.layers.Layer,
    rank: object,
    energy: float | None,
    singular_values: np.ndarray,
) -> int:
    c_in, c_out = _kernel_matrix(layer).shape
    break_even = break_even_rank(c_in, c_out)
    largest = math.ceil(break_even) - 1
    where = f"layer '{layer.name}' ({c_in} → {c_out} channels)"
    if rank is not None:
        rank = check_positive_int("rank", rank)
        if rank >= min(c_in, c_out):
            raise ValueError(
                _invalid(
                    "rank",
                    rank,
                    f"0 < rank < min(C_in, C_out) = {min(c_in, c_out)} for {where}",
                )
            )
        if rank > largest:
            raise ValueError(
                _invalid(
                    "rank",
                    rank,
                    f"a rank below the break-even rank C_in·C_out/(C_in + C_out) "
                    f"= {break_even:.2f} of {where} (at most {largest}): at "
                    "this rank the pair has as many weights as the layer or more",
                )
            )
        return rank
    chosen = _energy_rank(singular_values, energy)
    if chosen > largest:
        raise ValueError(
            _invalid(
                "energy",
                energy,
                f"an energy reached below the break-even rank {break_even:.2f} of "
                f"{where}: keeping {energy} of the squared singular values needs "
                f"rank {chosen}, and ranks above {largest} do not reduce the "
                "weights",
            )
        )
    return chosen


def _check_energy(energy: object) -> float | None:
    if energy is None:
        return None
    energy = check_real("energy", energy)
    if not 0 < energy <= 1:
        raise ValueError(_invalid("energy", energy, "a fraction in (0, 1]"))
    return energy


def _pair(layer: keras.layers.Layer, kind: str, rank: int) -> list[keras.layers.Layer]:
    """The reduce and expand layers for `layer` at `rank`, built, with weights."""
    kernel = _kernel_matrix(layer)
    u, s, vt = np.linalg.svd(kernel, full_matrices=False)
    root = np.sqrt(s[:rank])
    reduce_kernel = u[:, :rank] * root
    expand_kernel = root[:, None] * vt[:rank]
    config = layer.get_config()
    size = {"dense": "units"}.get(kind, "filters")
    if config.get("kernel_constraint"):
        warnings.warn(
            f"factorize left out the kernel_constraint of layer '{layer.name}': "
            "the SVD factors need not meet it.",
            stacklevel=4,
        )
    # The output's activation, bias and activity penalty stay on the expand.
    linear = {"activation": None, "use_bias": False, "activity_regularizer": None}
    if kind == "pointwise":
        config.update(mode=None, ratio=None)
    config["kernel_constraint"] = None
    reduce_config = {**config, size: rank, **linear, "name": f"{layer.name}_reduce"}
    expand_config = {
        **config,
        size: kernel.shape[1],
        "name": f"{layer.name}_expand",
    }
    if kind == "conv":
        # The strides (and padding) stay on the reduce convolution.
        expand_config.update(strides=1, padding="valid", dilation_rate=1)
    reduce = type(layer).from_config(reduce_config)
    expand = type(layer).from_config(expand_config)
    shape = built_input_shape(layer)
    reduce.build(shape)
    expand.build(reduce.compute_output_shape(shape))
    original_shape = tuple(layer.kernel.shape)
    reduce.kernel.assign(
        reduce_kernel.reshape(*original_shape[:-1], rank).astype(reduce.kernel.dtype)
    )
    expand.kernel.assign(
        expand_kernel.reshape(*original_shape[:-2], rank, -1).astype(
            expand.kernel.dtype
        )
    )
    if layer.use_bias:
        expand.bias.assign(layer.bias.value)
    return [reduce, expand]


def _factorize_layer(
    layer: keras.layers.Layer, rank: object, energy: float | None, name: str
) -> list[keras.layers.Layer]:
    kind = _check_layer(name, layer)
    singular_values = np.linalg.svd(_kernel_matrix(layer), compute_uv=False)
    rank = _resolve_rank(layer, rank, energy, singular_values)
    return _pair(layer, kind, rank)


def _ranks_for_model(
    model: keras.Model, rank: object, energy: float | None
) -> dict[str, Any]:
    """`{layer name: rank or None}` of the layers to factorize."""
    if rank is None:
        if energy is None:
            raise ValueError(
                "factorize needs `rank` (a `{layer name: rank}` mapping or a list "
                "of layer names for a model) or `energy`. "
                "Received: rank=None, energy=None."
            )
        return {layer.name: None for layer in model.layers if _kind(layer)}
    if isinstance(rank, Mapping):
        ranks = dict(rank)
    elif isinstance(rank, Sequence) and not isinstance(rank, str):
        ranks = dict.fromkeys(rank)
    else:
        raise TypeError(
            _invalid(
                "rank",
                rank,
                "for a model, a {layer name: rank} mapping or a list of layer "
                "names (with `energy`)",
            )
        )
    names = {layer.name for layer in model.layers}
    unknown = [name for name in ranks if name not in names]
    if unknown:
        raise ValueError(
            _invalid(
                "rank",
                rank,
                f"names of layers of model '{model.name}'; unknown: {unknown}",
            )
        )
    if energy is None and any(value is None for value in ranks.values()):
        raise ValueError(
            _invalid("rank", rank, "a rank for every layer, or `energy` to choose")
        )
    return ranks


def _factorize_model(
    model: keras.Model, rank: object, energy: float | None
) -> keras.Model:
    ranks = _ranks_for_model(model, rank, energy)
    everything = rank is None
    pairs: dict[int, list[keras.layers.Layer]] = {}
    skipped = []
    for layer in model.layers:
        if layer.name not in ranks:
            continue
        try:
            pairs[id(layer)] = _factorize_layer(
                layer, ranks[layer.name], energy, f"rank['{layer.name}']"
            )
        except ValueError as error:
            if not everything or "break-even" not in str(error):
                raise
            skipped.append(layer.name)
    if skipped:
        warnings.warn(
            f"factorize left {len(skipped)} layer(s) of model '{model.name}' "
            f"unchanged: keeping energy={energy} needs a rank at or above their "
            f"break-even rank: {skipped}.",
            stacklevel=3,
        )
    if isinstance(model, keras.Sequential):
        if not model.built or not model.inputs:
            raise ValueError(_invalid("target", model, "a built model"))
        (tensor,) = model.inputs
        new_layers = [keras.Input(batch_shape=tensor.shape, dtype=tensor.dtype)]
        for layer in model.layers:
            new_layers.extend(pairs.get(id(layer)) or [copy_any(layer)])
        return keras.Sequential(new_layers, name=model.name)
    markers: dict[int, list[keras.layers.Layer]] = {}

    def clone_function(layer: keras.layers.Layer) -> keras.layers.Layer:
        if id(layer) in pairs:
            marker = keras.layers.Identity(name=layer.name)
            markers[id(marker)] = pairs[id(layer)]
            return marker
        return copy_any(layer)

    def call_function(layer: keras.layers.Layer, *args: Any, **kwargs: Any) -> Any:
        if id(layer) in markers:
            outputs = args[0]
            for sublayer in markers[id(layer)]:
                outputs = sublayer(outputs)
            return outputs
        return layer(*args, **kwargs)

    return keras.models.clone_model(
        model, clone_function=clone_function, call_function=call_function
    )


def factorize(
    target: keras.layers.Layer | keras.Model,
    rank: int | Mapping[str, int | None] | Sequence[str] | None = None,
    *,
    energy: float | None = None,
) -> keras.layers.Layer | keras.Model:
    """Replace 1×1 convolutions or dense layers by low-rank pairs (truncated SVD).

    The `(C_in, C_out)` kernel `W` of a `Pointwise`, a 1×1
    `Conv1D`/`Conv2D`/`Conv3D` (`groups=1`) or a `Dense` layer is factorized by
    its singular value decomposition `W = U·diag(s)·Vᵀ`. Keeping the `rank`
    largest singular values gives two layers of the same type: a *reduce* layer
    to `rank` channels, linear and without bias (kernel `U_r·diag(√s_r)`;
    a strided convolution keeps its strides here), and an *expand* layer back to
    `C_out` channels (kernel `diag(√s_r)·V_rᵀ`) with the original bias and
    activation. Their product is the best rank-`rank` approximation of `W`:
    the Frobenius norm of the difference is `sqrt(sum(s[rank:] ** 2))`, and
    for a linear layer the outputs differ by exactly `x·(W − W_r)`.

    The pair has `rank·(C_in + C_out)` weights instead of `C_in·C_out`, fewer
    only below the break-even rank `C_in·C_out / (C_in + C_out)`; ranks at or
    above it are refused (so is the full rank).

    Args:
        target: a built layer of the kinds above, or a built functional or
            `Sequential` model.
        rank: for a layer, the int rank. For a model, a `{layer name: rank}`
            mapping (a `None` rank is chosen by `energy`), or a list of layer
            names whose ranks `energy` chooses; `None` with `energy` means
            every layer of the model's top level that `factorize` takes (those
            whose chosen rank would not reduce their weights are kept and
            listed in a `UserWarning`).
        energy: float in `(0, 1]`: choose the smallest rank that keeps this
            fraction of the sum of the squared singular values (e.g. 0.99).

    Returns:
        For a layer, a `keras.Sequential` of the two layers, named after the
        layer, built and holding the factorized weights. For a model, a new
        model of the same kind where each named layer `name` is replaced by
        the layers `name_reduce` and `name_expand`. The input is not changed.

    Raises:
        TypeError: for a `target` that is neither a model nor a layer of the
            kinds above, or a `rank` of the wrong type.
        ValueError: for a rank that is not in `0 < rank < min(C_in, C_out)`
            or not below the break-even rank (the message gives it), an
            `energy` outside `(0, 1]` or one that needs such a rank, both or
            neither of `rank` and `energy` for a layer, unknown layer
            names, or a layer that is not built, has LoRA or is quantized.

    Examples:
        >>> import numpy as np
        >>> from keras_nin.layers import Pointwise
        >>> from keras_nin.transforms import factorize
        >>> layer = Pointwise(64, activation=None)
        >>> layer.build((None, 8, 8, 96))
        >>> layer.count_params()  # 96·64 weights and 64 biases
        6208
        >>> pair = factorize(layer, 16)
        >>> [sub.name for sub in pair.layers], pair.count_params()
        (['pointwise_reduce', 'pointwise_expand'], 2624)
        >>> x = np.random.rand(2, 8, 8, 96).astype("float32")
        >>> tuple(pair(x).shape)
        (2, 8, 8, 64)
        >>> factorize(layer, 40)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: ... the break-even rank C_in·C_out/(C_in + C_out) = 38.40 ...
    """
    energy = _check_energy(energy)
    if isinstance(target, keras.Model):
        if not hasattr(target, "_nodes_by_depth") and not isinstance(
            target, keras.Sequential
        ):
            raise TypeError(
                _invalid("target", target, "a functional or Sequential model")
            )
        return keep_frozen(target, _factorize_model(target, rank, energy))
    if not isinstance(target, keras.layers.Layer):
        raise TypeError(
            _invalid("target", target, "a Keras layer or a functional model")
        )
    if (rank is None) == (energy is None):
        raise ValueError(
            "factorize needs exactly one of `rank` and `energy` for a layer. "
            f"Received: rank={rank!r}, energy={energy!r}."
        )
    if rank is not None and (
        isinstance(rank, bool) or not isinstance(rank, numbers.Integral)
    ):
        raise TypeError(_invalid("rank", rank, "a strictly positive integer"))
    pair = _factorize_layer(target, rank, energy, "target")
    model = keras.Sequential(pair, name=target.name)
    model.build(built_input_shape(target))
    return model
