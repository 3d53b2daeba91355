"""Golden twin of :class:`rtl.stream_out.StreamOut`: the split tensor leaves the activation memory in
the frame format's C, H, W scan order, a byte a beat, read from its grouped words (channel ``c`` of
pixel ``(y, x)`` is byte ``c % rows`` of word ``out_base + (y * W + x) * G + c // rows``)."""

import numpy as np


def stream_out(words, shape, rows, out_base=0):
    """The bytes of the tensor of ``shape`` ``(C, H, W)`` held in ``words`` from ``out_base``."""
    c, h, w = shape
    g = -(-c // rows)
    words = np.asarray(words)
    return np.array([words[out_base + (y * w + x) * g + ch // rows, ch % rows]
                     for ch in range(c) for y in range(h) for x in range(w)], np.uint8)
