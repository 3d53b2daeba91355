"""Golden twin of :class:`rtl.frame_loader.FrameLoader`: a camera frame as the activation words the
first layer reads.

The frame arrives as FRAME carries it (docs/PROTOCOL.md): pixels in raster order, each pixel's ``C``
channels side by side. The loader writes word ``(y * W + x) * G + g`` of region 0 for every pixel:
the pixel's channels (or, folded, the ``k`` horizontal taps of its channels, see
:func:`fold_input`) ``g * rows .. g * rows + rows - 1``, zero past the last.
"""

import numpy as np


def fold_input(frame, k, pad):
    """The folded first-layer input ``(k*C, H, W)``: channel ``kx*C + c`` = ``frame[c, y, x+kx-pad]``."""
    c, h, w = frame.shape
    padded = np.pad(frame, ((0, 0), (0, 0), (pad, k - 1 - pad)))  # zeros past the row for any pad
    return np.concatenate([padded[:, :, kx:kx + w] for kx in range(k)], axis=0)


def to_words(x, rows):
    """Words ``(H*W*G, rows)`` uint8 of a tensor ``(Ch, H, W)`` in the grouped layout."""
    ch, h, w = x.shape
    g = -(-ch // rows)
    padded = np.zeros((g * rows, h, w), np.uint8)
    padded[:ch] = x
    return padded.reshape(g, rows, h, w).transpose(2, 3, 0, 1).reshape(h * w * g, rows)


def load_frame(frame, rows, fold_k=1, fold_pad=0):
    """The words ``(H*W*G, rows)`` the loader writes for ``frame`` ``(C, H, W)``, in write order."""
    x = fold_input(frame, fold_k, fold_pad) if fold_k > 1 else np.asarray(frame, np.uint8)
    return to_words(x, rows)
