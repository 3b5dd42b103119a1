"""The anchor: NiN as a PyTorch user writes it with `torch.nn`, given our weights.

`TorchNiN` has the architecture of `keras_nin.models.NiN` (three mlpconv
blocks, 3×3 stride-2 max then average pooling, dropout 0.5, ReLU on the class
maps, global average pooling). Keras's `"same"` pooling of an even size pads
only after the input and leaves the padding out of the average, which is what
PyTorch's `ceil_mode=True` pooling (the original Caffe model's) computes.
`from_keras` copies a keras-nin model's weights in, and `check_same_outputs`
compares the two in inference before anything is timed.

It runs in the process of every backend (PyTorch is imported alongside
TensorFlow or JAX), so keras-nin on each backend is timed interleaved with the
same native figure.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np


def available() -> str | None:
    """`None` if PyTorch imports, else why the anchor is skipped."""
    try:
        import torch  # noqa: F401
    except ImportError as error:  # pragma: no cover - torch is in the dev extras
        return f"PyTorch is not installed ({error})"
    return None


def torch_nin(num_classes: int = 10, dropout: float = 0.5) -> Any:
    """NiN in `torch.nn`: logits (the class maps, averaged); softmax is the loss's."""
    from torch import nn

    def mlpconv(channels, filters, kernel_size, widths):
        layers = [nn.Conv2d(channels, filters, kernel_size, padding=kernel_size // 2)]
        layers.append(nn.ReLU(inplace=True))
        for width in widths:
            layers += [nn.Conv2d(filters, width, 1), nn.ReLU(inplace=True)]
            filters = width
        return layers

    return nn.Sequential(
        *mlpconv(3, 192, 5, (160, 96)),
        nn.MaxPool2d(3, 2, ceil_mode=True),
        nn.Dropout(dropout),
        *mlpconv(96, 192, 5, (192, 192)),
        nn.AvgPool2d(3, 2, ceil_mode=True),
        nn.Dropout(dropout),
        *mlpconv(192, 192, 3, (192, num_classes)),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
    )


def from_keras(model: keras.Model, device: str = "cpu") -> Any:
    """A `torch_nin` with the weights of a keras-nin `NiN` (channels_last input)."""
    import torch

    net = torch_nin(num_classes=model.output_shape[-1])
    weights = [keras.ops.convert_to_numpy(w) for w in model.weights]
    params = list(net.parameters())
    assert len(weights) == len(params), (len(weights), len(params))
    with torch.no_grad():
        for weight, param in zip(weights, params, strict=True):
            if weight.ndim == 4:  # (kh, kw, C_in, C_out) -> (C_out, C_in, kh, kw)
                weight = weight.transpose(3, 2, 0, 1)
            elif weight.ndim == 2:  # Pointwise (C_in, C_out) -> (C_out, C_in, 1, 1)
                weight = weight.T[:, :, None, None]
            param.copy_(torch.from_numpy(np.ascontiguousarray(weight)))
    return net.to(device)


def to_nchw(x: np.ndarray, device: str = "cpu", channels_last: bool = False) -> Any:
    """A channels_last NumPy batch as PyTorch's NCHW tensor (optionally stored
    channels_last)."""
    import torch

    tensor = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
    tensor = tensor.to(device)
    if channels_last:
        tensor = tensor.contiguous(memory_format=torch.channels_last)
    return tensor


def check_same_outputs(model: keras.Model, net: Any, x: np.ndarray) -> None:
    """keras-nin and the native network compute the same probabilities."""
    import torch

    net.eval()
    device = next(net.parameters()).device
    with torch.no_grad():
        ours = torch.softmax(net(to_nchw(x, device)), dim=1).cpu().numpy()
    theirs = keras.ops.convert_to_numpy(model(x, training=False))
    np.testing.assert_allclose(ours, theirs, atol=1e-4, err_msg="native PyTorch NiN")


def steps(
    model: keras.Model, x: np.ndarray, y: np.ndarray, device: str = "cpu"
) -> tuple[dict, dict]:
    """Training and inference steps of the native network, NCHW and channels_last.

    Training: SGD (Keras's default learning rate 0.01), cross-entropy on the
    logits, as `model.compile(optimizer="sgd",
    loss="sparse_categorical_crossentropy")` trains keras-nin. Inference:
    `torch.inference_mode`, softmax included (keras-nin's `predict` returns
    probabilities).
    """
    import torch
    import torch.nn.functional as F

    synchronize = torch.cuda.synchronize if device.startswith("cuda") else None
    labels = torch.from_numpy(y.astype("int64")).to(device)
    train, infer = {}, {}
    for layout, channels_last in (("NCHW", False), ("channels_last", True)):
        net = from_keras(model, device)
        if channels_last:
            net = net.to(memory_format=torch.channels_last)
        check_same_outputs(model, net, x)
        inputs = to_nchw(x, device, channels_last)
        optimizer = torch.optim.SGD(net.parameters(), lr=0.01)

        def train_step(net=net, inputs=inputs, optimizer=optimizer):
            net.train()
            optimizer.zero_grad(set_to_none=True)
            loss = F.cross_entropy(net(inputs), labels)
            loss.backward()
            optimizer.step()
            if synchronize:
                synchronize()
            return loss

        def infer_step(net=net, inputs=inputs):
            net.eval()
            with torch.inference_mode():
                outputs = torch.softmax(net(inputs), dim=1)
            if synchronize:
                synchronize()
            return outputs

        train[f"native PyTorch ({layout})"] = train_step
        infer[f"native PyTorch ({layout})"] = infer_step
    return train, infer
