"""Golden twin of :class:`rtl.tap_walker.TapWalker`: the beats of one layer on the iCE40UP5K's
output-stationary engine (:mod:`golden.dot_engine`).

Where the ECP5's weight-stationary engine runs a tap over a chunk of pixels (:mod:`golden.addrgen`),
this one finishes a pixel before the next: its sums stay in the dot array's accumulators, so there is
no accumulator RAM and no weight bank, and the weight tile changes every beat::

    for n_tile:                              # output channels, `cols` at a time
        for (oy, ox) in pool-window order:   # a pool window's pixels consecutive
            for t, (ky, kx, g) in taps:      # every tap of the pixel, then the next pixel
                word (y * W + x) * G + g of input pixel (s * oy + ky - pad_y, s * ox + kx - pad_x),
                zero outside the tensor; weight tile tile_base + n_tile * T + t

A tile is ``rows x cols`` weights (:class:`golden.layer_engine.LayerOp`'s ``weights[n, t]``): the
weight rows ``(n * T + t) * rows ..`` of the layer program, read as one word.
"""

import numpy as np

from .addrgen import address, pixel, tap_order

FIELDS = ("addr", "zero", "tile", "n", "first", "last")

SETUP_PHASES = 6
"""The walker's setup sums its steps by repeated addition, a phase per step (``W * G``, the kernel
row's skip, the origin in two, the two pool steps): a cycle to begin each, one an addition, one to
store."""


def setup_cycles(d):
    """Cycles from the walker's start to its first beat for layer ``d``: every phase's additions
    (``G`` twice, ``pad_y``, ``pad_x``, the pool side twice) and two cycles each."""
    return 2 * d.groups + d.pad_y + d.pad_x + 2 * d.pool + 2 * SETUP_PHASES


def beats(d, tile_base=0):
    """Every beat of layer ``d`` (a :class:`golden.addrgen.Descriptor`) as an ``(N, len(FIELDS))``
    int64 array, columns as :data:`FIELDS`."""
    taps = tap_order(d.k_y, d.k_x, d.groups)
    T = len(taps)
    rows = []
    for n in range(d.n_tiles):
        for q in range(d.pixels):
            oy, ox = pixel(d, q)
            for t, tap in enumerate(taps):
                addr, zero = address(d, oy, ox, tap)
                rows.append((addr, zero, tile_base + n * T + t, n, t == 0, t == T - 1))
    return np.array(rows, np.int64).reshape(-1, len(FIELDS))
