"""Golden twin of :class:`rtl.addrgen.AddrGen`: the activation-memory addresses of one layer.

For a :class:`golden.layer_engine.LayerOp` the sequencer visits, in this order::

    for n_tile:                       # output channels, `cols` at a time
        for chunk:                    # output pixels, pool windows whole, at most acc_depth
            for t, (ky, kx, g) in taps:
                for pos, (oy, ox) in chunk's pixels (pool-window order):
                    word (y * W + x) * G + g  of input pixel
                        (y, x) = (s * oy + ky - pad_y, s * ox + kx - pad_x)     (s: the stride)

An address outside the tensor is marked ``zero``: the array then gets a zero vector. Every beat
also carries the position in the chunk, first/last-tap flags and the n-tile that the accumulator
needs. (Weight banks follow the global pass parity, which the engine counts itself.)
"""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Descriptor:
    """What the address generator needs of a layer (the runtime layer descriptor)."""

    base: int  # first word of the input tensor
    height: int
    width: int
    groups: int
    k_y: int
    k_x: int
    pad_y: int
    pad_x: int
    pool: int
    pooled_h: int
    pooled_w: int
    n_tiles: int
    chunk: int  # pixels per chunk, a multiple of pool * pool
    stride: int = 1

    @classmethod
    def of(cls, op, base=0, acc_depth=None):
        _, h, w = op.in_shape
        _, ph, pw = op.out_shape
        chunk = op.chunks[0][1] if acc_depth is None else acc_depth
        return cls(base=base, height=h, width=w, groups=op.groups, k_y=op.k_y, k_x=op.k_x,
                   pad_y=op.pad_y, pad_x=op.pad_x, pool=op.pool, pooled_h=ph, pooled_w=pw,
                   n_tiles=op.n_tiles, chunk=chunk, stride=op.stride)

    @property
    def taps(self):
        return self.k_y * self.k_x * self.groups

    @property
    def pixels(self):
        return self.pooled_h * self.pooled_w * self.pool * self.pool


FIELDS = ("addr", "zero", "pos", "first_tap", "last_tap", "last", "tile")


def addresses(d, oy, ox, tap):
    """``(word address, inside)`` of output pixels ``(oy, ox)`` (integers or arrays) under
    ``tap = (ky, kx, g)``; the address means nothing where the tap falls in the padding."""
    ky, kx, g = tap
    y, x = d.stride * oy + ky - d.pad_y, d.stride * ox + kx - d.pad_x
    return d.base + (y * d.width + x) * d.groups + g, (y >= 0) & (y < d.height) & (x >= 0) & (x < d.width)


def address(d, oy, ox, tap):
    """``(word address, zero)`` of output pixel ``(oy, ox)`` under ``tap = (ky, kx, g)``."""
    addr, inside = addresses(d, oy, ox, tap)
    return (addr, 0) if inside else (0, 1)


def pixel(d, q):
    """Output pixel of pool-order index ``q``."""
    p = d.pool
    win, rest = divmod(q, p * p)
    py, px = divmod(win, d.pooled_w)
    dy, dx = divmod(rest, p)
    return p * py + dy, p * px + dx


def tap_order(k_y, k_x, groups):
    """The tap tiles ``(ky, kx, g)`` of a layer in the order the sequencer visits them."""
    return tuple((ky, kx, g) for ky in range(k_y) for kx in range(k_x) for g in range(groups))


def stream(d):
    """Every beat of the layer as an ``(N, len(FIELDS))`` int64 array, columns as :data:`FIELDS`."""
    taps = tap_order(d.k_y, d.k_x, d.groups)
    order = [pixel(d, q) for q in range(d.pixels)]
    rows = []
    for nt in range(d.n_tiles):
        for first in range(0, d.pixels, d.chunk):
            count = min(d.chunk, d.pixels - first)
            for t, tap in enumerate(taps):
                for pos in range(count):
                    addr, zero = address(d, *order[first + pos], tap)
                    rows.append((addr, zero, pos, t == 0, t == len(taps) - 1, 0, nt))
    out = np.array(rows, np.int64)
    out[-1, FIELDS.index("last")] = 1
    return out
