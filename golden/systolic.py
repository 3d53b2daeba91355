"""Golden twin of :class:`rtl.systolic.SystolicArray`: a weight-stationary rows x cols array.

The array holds two banks of ``rows x cols`` int8 weights. Every activation vector (``rows`` uint8
values) names the bank it is multiplied with and yields one vector of ``cols`` partial sums::

    y[m, c] = sum_r x[m, r] * W[bank[m], r, c]

(one K-tile of ``rows`` taps times one N-tile of ``cols`` output channels of an im2col matrix
product). Results leave in the order the vectors entered, :func:`latency` cycles after they entered
when nothing stalls, one per cycle.
"""

import numpy as np


def latency(rows, cols):
    """Cycles from an activation vector's handshake to its partial sums being valid at the output:
    the input skew and the partial-sum chain (``rows + cols - 1``) and each PE's product register."""
    return rows + cols


def systolic(x, banks, bank_sel):
    """Partial sums ``(M, cols)`` int64 of activations ``x`` ``(M, rows)`` under weight ``banks``
    ``(2, rows, cols)``, vector ``m`` using bank ``bank_sel[m]``."""
    x = np.asarray(x, np.int64)
    banks = np.asarray(banks, np.int64)
    sel = np.asarray(bank_sel, np.int64)
    return np.einsum("mr,mrc->mc", x, banks[sel])
