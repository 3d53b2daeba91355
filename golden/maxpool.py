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
