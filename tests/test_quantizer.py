import itertools

import numpy as np
import pytest

from golden import quantizer as Q


def ref_uniform(x, bits, clip):
    """Round half up of min(x, clip) * (2**bits - 1) / clip in exact integer arithmetic."""
    levels1 = (1 << bits) - 1
    xc = min(int(x), clip)
    return (2 * xc * levels1 + clip) // (2 * clip)


def test_uniform_exact_for_every_setting():
    v = np.arange(256)
    for bits in range(1, 9):
        for clip in range(1, 256):
            got = Q.quantize_uniform(v, bits, clip)
            want = [ref_uniform(x, bits, clip) for x in v]
            assert got.tolist() == want, (bits, clip)


@pytest.mark.parametrize("bits", range(1, 9))
def test_uniform_edges(bits):
    top = (1 << bits) - 1
    assert Q.quantize_uniform(0, bits, 1) == 0
    assert Q.quantize_uniform(255, bits, 255) == top
    assert Q.quantize_uniform(255, bits, 1) == top
    if bits == 8:
        assert np.array_equal(Q.quantize_uniform(np.arange(256), 8, 255), np.arange(256))


def test_thresholds():
    t = [3, 10, 200]
    assert Q.quantize_thresholds([0, 2, 3, 9, 10, 199, 200, 255], t).tolist() == [0, 0, 1, 1, 2, 2, 3, 3]
    assert Q.quantize_thresholds([255], t, clip=150).tolist() == [2]


def test_ecsq_design_is_a_valid_partition(rng):
    x = np.concatenate([np.zeros(5000, int), np.minimum(rng.exponential(40, 5000).astype(int), 255)])
    hist = np.bincount(x, minlength=256).astype(float)
    for bits in range(1, 6):
        thr, rec, mse, ent = Q.design_ecsq(hist, bits, 20.0)
        assert len(thr) == (1 << bits) - 1 and len(rec) == 1 << bits
        assert thr[0] >= 1 and thr[-1] <= 255 and (np.diff(thr) > 0).all()
        assert Q.quantize_thresholds(0, thr) == 0
        assert mse >= 0 and 0 <= ent <= bits


def test_ecsq_dp_is_optimal_on_small_histogram(rng):
    hist = rng.integers(0, 50, 12).astype(float)
    hist[0] = 200
    lam = 3.0
    thr, _, mse, ent = Q.design_ecsq(hist, 2, lam)
    p = hist / hist.sum()
    v = np.arange(12)

    def cost(t):
        q = np.searchsorted(np.array(t), v, side="right")
        total = 0.0
        for k in range(4):
            pk = p[q == k].sum()
            if pk > 0:
                mu = (p[q == k] * v[q == k]).sum() / pk
                total += (p[q == k] * (v[q == k] - mu) ** 2).sum() - lam * pk * np.log2(pk)
        return total

    best = min(cost(t) for t in itertools.combinations(range(1, 12), 3))
    assert cost(list(thr)) == pytest.approx(best)
    assert mse + lam * ent == pytest.approx(best)


def test_ecsq_matching_keeps_distortion_and_saves_rate(rng):
    x = np.concatenate([np.zeros(7000, int), np.minimum(rng.exponential(30, 3000).astype(int), 255)])
    hist = np.bincount(x, minlength=256).astype(float)
    for bits in (2, 3, 4):
        clip = Q.best_clip(hist, bits)
        target = Q.uniform_mse(hist, bits, clip)
        thr, _, mse, ent = Q.design_ecsq_matching(hist, bits, target)
        q = Q.quantize_uniform(x, bits, clip)
        p = np.bincount(q) / len(q)
        p = p[p > 0]
        assert mse <= target + 1e-9
        assert ent <= -(p * np.log2(p)).sum() + 1e-9
