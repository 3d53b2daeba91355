"""The integer reference of the edge layers: what the RTL computes, bit for bit.

Each edge block is computed the way the hardware does it:

1. **im2col**: the zero-padded uint8 input ``(C, H, W)`` becomes a matrix ``(OH*OW, C*k*k)`` (every
   ``stride``-th window); rows are
   output pixels in raster order (y, then x), columns are taps in the order (c, ky, kx), which is the
   order of a PyTorch weight ``(Cout, Cin, k, k)`` flattened per output channel.
2. **matrix product** with the int8 weights ``(Cout, C*k*k)`` in wide integers (int64 here; the RTL's
   ``acc_bits`` accumulator is checked never to overflow), plus the int32 bias.
3. **requantization** (:func:`golden.requant.requantize`): multiplier, shift, round half up, clamp to
   0..255 (ReLU and saturation in one).
4. **max-pool** (:func:`golden.maxpool.maxpool`).

:func:`trace` returns every intermediate tensor so that a mismatch can be located to a layer and a
stage. :func:`torch_reference` computes the same result by an independent path (direct float64
convolution in PyTorch, exact for these magnitudes, then integer requantization in PyTorch int64 ops).
"""

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .maxpool import maxpool
from .requant import requantize


@dataclass(frozen=True)
class IntLayer:
    """One quantized edge block.

    Members
    -------
    block : ConvBlock
    weight : (Cout, K) int8, taps ordered (c, ky, kx)
    bias : (Cout,) int32, in accumulator units (``in_scale * w_scale``)
    mult, shift : (Cout,) int64, requantization ``m`` and ``shift`` per output channel
    in_scale, out_scale : float, real value of one input / output activation step
    w_scale : (Cout,) float64, real value of one weight step per output channel
    """

    block: object
    weight: np.ndarray
    bias: np.ndarray
    mult: np.ndarray
    shift: np.ndarray
    in_scale: float
    out_scale: float
    w_scale: np.ndarray

    def max_abs_acc(self):
        """Largest accumulator magnitude any uint8 input can produce."""
        w = self.weight.astype(np.int64)
        pos = np.where(w > 0, w, 0).sum(1) * 255 + self.bias
        neg = np.where(w < 0, w, 0).sum(1) * 255 + self.bias
        return int(max(np.abs(pos).max(), np.abs(neg).max(), np.abs(self.bias).max()))


@dataclass(frozen=True)
class IntModel:
    """The quantized edge part: :class:`IntLayer` per edge block, input scale 1/255."""

    spec: object
    layers: tuple

    def scale(self, split):
        """Real value of one step of the uint8 features after block ``split``."""
        return self.layers[split - 1].out_scale

    def acc_bits_needed(self):
        """Signed accumulator width that holds every layer's worst case."""
        return max(layer.max_abs_acc() for layer in self.layers).bit_length() + 1


def im2col(x, k, pad, stride=1):
    """``(N, C, H, W)`` -> ``(N, OH*OW, C*k*k)`` with zero padding ``pad`` and ``stride``."""
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    win = sliding_window_view(xp, (k, k), axis=(2, 3))[:, :, ::stride, ::stride]  # (N, C, OH, OW, k, k)
    oh, ow = win.shape[2], win.shape[3]
    return win.transpose(0, 2, 3, 1, 4, 5).reshape(n, oh * ow, c * k * k), (oh, ow)


def conv_acc(x, layer):
    """int64 accumulators ``(N, Cout, OH, OW)`` of ``layer`` on uint8 input ``x``."""
    b = layer.block
    cols, (oh, ow) = im2col(x, b.k, b.pad, b.stride)
    acc = cols.astype(np.int64) @ layer.weight.T.astype(np.int64) + layer.bias.astype(np.int64)
    return acc.reshape(x.shape[0], oh, ow, b.cout).transpose(0, 3, 1, 2)


def run_block(x, layer):
    """uint8 output of one edge block on uint8 input ``x`` ``(N, C, H, W)``."""
    act = requantize(conv_acc(x, layer), layer.mult[:, None, None], layer.shift[:, None, None])
    return maxpool(act, layer.block.pool)


def trace(model, images, upto=None):
    """Every intermediate tensor of the edge part on uint8 ``images`` ``(N, C, H, W)``.

    Returns a list with one dict per block up to ``upto`` (default: all):
    ``{"input": uint8, "acc": int64 (N, Cout, OH, OW), "act": uint8 requantized, "out": uint8 pooled}``.
    """
    upto = len(model.layers) if upto is None else upto
    x = np.asarray(images, np.uint8)
    out = []
    for layer in model.layers[:upto]:
        acc = conv_acc(x, layer)
        act = requantize(acc, layer.mult[:, None, None], layer.shift[:, None, None])
        y = maxpool(act, layer.block.pool)
        out.append({"input": x, "acc": acc, "act": act, "out": y})
        x = y
    return out


def run(model, images, upto, batch=200):
    """uint8 features after edge block ``upto`` for all ``images``, computed in batches."""
    outs = []
    for i in range(0, len(images), batch):
        x = np.asarray(images[i:i + batch], np.uint8)
        for layer in model.layers[:upto]:
            x = run_block(x, layer)
        outs.append(x)
    return np.concatenate(outs)


def run_all(model, images, batch=200):
    """uint8 features after every edge block: list indexed by split - 1."""
    outs = [[] for _ in model.layers]
    for i in range(0, len(images), batch):
        x = np.asarray(images[i:i + batch], np.uint8)
        for j, layer in enumerate(model.layers):
            x = run_block(x, layer)
            outs[j].append(x)
    return [np.concatenate(o) for o in outs]


def torch_reference(model, images, upto):
    """The same features as :func:`run` by an independent path in PyTorch.

    Convolution is direct (no im2col) in float64, which is exact here: every partial sum is an integer
    below ``2**53``. Requantization uses PyTorch int64 tensor arithmetic.
    """
    import torch
    import torch.nn.functional as F

    x = torch.from_numpy(np.array(images, dtype=np.float64))
    for layer in model.layers[:upto]:
        assert layer.max_abs_acc() < 2 ** 53
        b = layer.block
        w = torch.from_numpy(layer.weight.reshape(b.cout, b.cin, b.k, b.k).astype(np.float64))
        acc = F.conv2d(x, w, stride=b.stride, padding=b.pad).to(torch.int64)
        acc = acc + torch.from_numpy(layer.bias.astype(np.int64))[None, :, None, None]
        m = torch.from_numpy(layer.mult.astype(np.int64))[None, :, None, None]
        s = torch.from_numpy(layer.shift.astype(np.int64))[None, :, None, None]
        y = torch.bitwise_right_shift(acc * m + torch.bitwise_left_shift(torch.ones_like(s), s - 1), s)
        y = y.clamp(0, 255).to(torch.float64)
        x = F.max_pool2d(y, b.pool) if b.pool > 1 else y
    return x.to(torch.uint8).numpy()
