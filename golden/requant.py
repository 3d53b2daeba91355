"""Requantization: int32/int64 accumulator -> uint8 activation, exactly as the hardware does it.

``y = clamp((acc * m + 2**(shift - 1)) >> shift, 0, 255)``

``m`` is a positive integer multiplier below ``2**MULT_BITS`` (normalised to ``[2**15, 2**16)``, so
it fits one unsigned 16-bit DSP operand), ``shift`` is 1 to 62 and ``>>`` is an arithmetic shift
(floor). Adding ``2**(shift-1)`` first makes the rounding *round half up* (towards +infinity). The
clamp to 0 is the ReLU, the clamp to 255 the saturation.
"""

import math

import numpy as np

MULT_BITS = 16
MAX_SHIFT = 62


def choose_multiplier(real):
    """Integer ``(m, shift)`` with ``m / 2**shift`` closest to the positive float ``real``.

    ``m`` lies in ``[2**(MULT_BITS-1), 2**MULT_BITS)``; raises ValueError if ``real`` needs a shift
    outside ``1 .. MAX_SHIFT``.
    """
    if not (real > 0 and math.isfinite(real)):
        raise ValueError(f"requantization scale must be positive and finite, not {real!r}")
    mant, exp = math.frexp(real)  # real = mant * 2**exp, mant in [0.5, 1)
    shift = MULT_BITS - exp
    m = int(round(mant * (1 << MULT_BITS)))
    if m == 1 << MULT_BITS:
        m >>= 1
        shift -= 1
    if not 1 <= shift <= MAX_SHIFT:
        raise ValueError(f"requantization scale {real!r} needs a shift of {shift}, outside 1..{MAX_SHIFT}")
    return m, shift


def requantize(acc, m, shift):
    """uint8 activations from int64 accumulators; ``m`` and ``shift`` broadcast against ``acc``."""
    acc = np.asarray(acc, np.int64)
    m = np.asarray(m, np.int64)
    shift = np.asarray(shift, np.int64)
    y = (acc * m + (np.int64(1) << (shift - 1))) >> shift
    return np.clip(y, 0, 255).astype(np.uint8)
