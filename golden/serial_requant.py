"""Golden twin of :class:`rtl.serial_requant.SerialRequant`: requantization with the product formed
a multiplier nibble a cycle, as the iCE40UP5K's device does it without a DSP.

``y = clamp((acc * m + 2**(shift-1)) >> shift, 0, 255)`` (:func:`golden.requant.requantize`) is
computed as the hardware does:

- ``v = acc`` if ``acc > 0``, else 0 (``m >= 0``, so a sum at or below zero gives 0 either way);
- four steps ``k = 0 .. 3``: ``S = P + v * m[4k:4k+4]``, ``P = S >> 4``, and ``S``'s low nibble is
  kept, so ``Q = P * 2**16 + L`` (``L`` the four kept nibbles, the first lowest) is ``v * m``
  exactly while the adder stays ``acc_width + 3`` bits wide;
- ``R = Q >> (shift - 1)``; ``y = 255`` if ``R > 510``, else ``(R + 1) >> 1`` (round half up:
  ``(p + 2**(s-1)) >> s == ((p >> (s-1)) + 1) >> 1``).
"""

STEPS = 4
"""Cycles a value takes: one multiplier nibble each."""


def product_steps(v, m):
    """``(P, L)`` after the four nibble steps of ``v * m`` (``v >= 0``, ``0 <= m < 2**16``)."""
    p, low = 0, 0
    for k in range(STEPS):
        s = p + v * ((m >> (4 * k)) & 15)
        p, low = s >> 4, low | (s & 15) << (4 * k)
    return p, low


def serial_requantize(acc, m, shift):
    """The byte of one accumulator, as :class:`rtl.serial_requant.SerialRequant` forms it."""
    p, low = product_steps(max(int(acc), 0), int(m))
    r = (p << 16 | low) >> (int(shift) - 1)
    return 255 if r > 510 else (r + 1) >> 1
