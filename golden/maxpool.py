"""2x2 (p x p) max-pooling of uint8 activations, stride p, odd edges dropped (floor)."""

import numpy as np


def maxpool(x, p=2):
    """Max over non-overlapping ``p x p`` windows of the last two axes of ``x``."""
    if p == 1:
        return x
    *lead, h, w = x.shape
    h2, w2 = h // p, w // p
    x = x[..., :h2 * p, :w2 * p].reshape(*lead, h2, p, w2, p)
    return x.max(axis=(-3, -1))


def maxpool_beats(beats, window):
    """Lane-wise max of every ``window`` consecutive beats ``(N, lanes)`` -> ``(N // window, lanes)``.

    The stream form of :func:`maxpool` that :class:`rtl.maxpool.MaxPool` computes: a sequencer
    sends the ``p x p`` window of each pooled pixel as ``window = p * p`` consecutive beats.
    """
    beats = np.asarray(beats)
    n = len(beats) // window * window
    return beats[:n].reshape(-1, window, beats.shape[1]).max(axis=1)
