from fractions import Fraction

import numpy as np
import pytest

from golden.maxpool import maxpool
from golden.requant import MULT_BITS, choose_multiplier, requantize


def ref_requantize(acc, m, shift):
    """Exact rational reference: round half up of acc * m / 2**shift, clamped to 0..255."""
    v = Fraction(int(acc) * int(m), 2 ** int(shift))
    r = int(np.floor(v + Fraction(1, 2)))
    return min(max(r, 0), 255)


def test_choose_multiplier_normalised_and_close(rng):
    for real in np.concatenate([10.0 ** rng.uniform(-9, 0.5, 200), [1.0, 0.5, 2 ** -20]]):
        m, s = choose_multiplier(float(real))
        assert 1 << (MULT_BITS - 1) <= m < 1 << MULT_BITS
        assert abs(m / 2 ** s - real) <= real * 2 ** -MULT_BITS


@pytest.mark.parametrize("bad", [0.0, -1.0, float("inf"), float("nan"), 1e30, 1e-30])
def test_choose_multiplier_rejects(bad):
    with pytest.raises(ValueError):
        choose_multiplier(bad)


def cases():
    """Edge cases: zero, negative (ReLU), exact halves (rounding), saturation, int32 extremes."""
    m, s = 1 << 15, 16  # multiply by one half
    return [(0, m, s), (-1, m, s), (1, m, s), (3, m, s), (-3, m, s), (510, m, s), (511, m, s),
            (512, m, s), (2 ** 31 - 1, m, s), (-2 ** 31, m, s), (2 ** 31 - 1, (1 << 16) - 1, 62)]


def test_requantize_edge_cases():
    for acc, m, s in cases():
        assert requantize(acc, m, s) == ref_requantize(acc, m, s), (acc, m, s)


def test_requantize_random(rng):
    acc = rng.integers(-2 ** 24, 2 ** 24, 2000)
    m = rng.integers(1 << 15, 1 << 16, 2000)
    s = rng.integers(12, 30, 2000)
    got = requantize(acc, m, s)
    want = [ref_requantize(a, b, c) for a, b, c in zip(acc, m, s)]
    assert got.tolist() == want


def test_maxpool_edges(rng):
    x = rng.integers(0, 256, (2, 3, 5, 7), dtype=np.uint8)
    y = maxpool(x, 2)
    assert y.shape == (2, 3, 2, 3)
    for i in range(2):
        for j in range(3):
            assert y[0, 1, i, j] == x[0, 1, 2 * i:2 * i + 2, 2 * j:2 * j + 2].max()
    assert np.array_equal(maxpool(x, 1), x)
    assert maxpool(np.full((1, 1, 2, 2), 255, np.uint8), 2).item() == 255
