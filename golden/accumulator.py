"""Golden twin of :class:`rtl.accumulator.Accumulator`: the array's partial sums of a chunk's taps
added up, position by position.

Every vector of partial sums belongs to a position of its chunk (``pos``). On the first tap the
position's sums start from zero, and every later tap adds to them; the last tap's totals leave
(with the vector's n-tile) instead of being stored. Sums wrap at ``width`` bits, as two's
complement.
"""

import numpy as np


def wrap(v, width):
    """``v`` as a ``width``-bit two's complement value."""
    half = 1 << (width - 1)
    return (np.asarray(v, object) + half) % (2 * half) - half


def accumulate(beats, width):
    """``[(tile, sums), ...]`` for ``beats`` ``[(pos, first, last, tile, sums), ...]``, one entry a
    last-tap beat, in order; ``sums`` as tuples of ints."""
    store, out = {}, []
    for pos, first, last, tile, sums in beats:
        total = wrap((0 if first else store[pos]) + np.asarray(sums, object), width)
        if last:
            out.append((tile, tuple(int(v) for v in total)))
        else:
            store[pos] = total
    return out
