"""Golden twin of :class:`rtl.dot_array.DotArray`: ``rows x cols`` products a beat, summed over each
column and accumulated over a pixel's taps.

Beat ``(x, w, first, last)``: ``x`` is ``rows`` uint8 activations, ``w`` the ``rows x cols`` int8
weight tile; column ``c`` adds ``sum_r x[r] * w[r][c]`` to its sum, which starts again from zero on
a ``first`` beat, and a ``last`` beat gives the pixel's ``cols`` sums (wrapping at ``width`` bits).
"""

import numpy as np

from .accumulator import wrap


def dot_pixels(beats, width):
    """The sums of every pixel (each ``last`` beat) of ``beats`` ``[(x, w, first, last), ...]``."""
    out, acc = [], None
    for x, w, first, last in beats:
        part = np.asarray(x, np.int64) @ np.asarray(w, np.int64)
        acc = part if first else acc + part
        if last:
            out.append(wrap(acc, width))
    return out
