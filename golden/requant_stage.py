"""Golden twin of :class:`rtl.requant_stage.RequantStage`: a layer's last-tap sums pooled and
requantized into its output bytes.

Every ``pool * pool`` consecutive beats (a pool window) are max-pooled lane by lane
(:func:`golden.maxpool.maxpool_beats`); the window's last beat names its n-tile, whose parameter
word is ``param_base + tile``. Each lane then gets its bias, wrapping at the sums' width, and is
requantized with its multiplier and shift (:func:`golden.requant.requantize`). Pooling before the
bias gives the bytes of :func:`golden.layer_engine.run_layer`, which adds the bias first: a lane's
bias is the same over its window and requantization never decreases.
"""

import numpy as np

from .accumulator import wrap
from .maxpool import maxpool_beats
from .requant import requantize


def requant_stage(beats, pool, params, param_base, width):
    """Output beats ``(N // pool**2, cols)`` uint8 of ``beats`` ``[(tile, sums), ...]`` under
    ``params`` (parameter words: ``cols`` lanes of ``{"bias", "mult", "shift"}`` each)."""
    window = pool * pool
    pooled = maxpool_beats(np.array([sums for _, sums in beats], object), window)
    out = []
    for q, sums in enumerate(pooled):
        lanes = params[param_base + beats[(q + 1) * window - 1][0]]
        bias, mult, shift = ([lane[k] for lane in lanes] for k in ("bias", "mult", "shift"))
        out.append(requantize(np.array(wrap(sums + np.array(bias, object), width), np.int64), mult, shift))
    return np.array(out, np.uint8).reshape(-1, len(params[0]))
