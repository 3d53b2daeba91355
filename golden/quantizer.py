"""Feature quantizer: uint8 split features -> n-bit levels (and back, on the host).

Uniform mode (computed by the host into the device's level table, :func:`level_table`)::

    x' = min(x, clip)
    m  = ceil((2**bits - 1) * 2**18 / clip)
    q  = (x' * m + 2**17) >> 18

``m`` depends only on the run-time settings; the host computes the table with integers only. The result is exactly ``floor(x' * (2**bits - 1) / clip + 1/2)``, round half up: ``m``
overshoots ``(2**bits-1)/clip`` by less than ``2**-18``, so ``x' * m / 2**18`` exceeds the exact ratio
by less than ``255 / 2**18 < 1 / (2 * 255)``, less than the distance from any non-tie ratio to the next
half-integer. ``q`` never exceeds ``2**bits - 1`` because ``x' <= clip``.

Non-uniform (ECSQ) mode: ``q`` = the number of thresholds ``t_1 < ... < t_{L-1}`` (integers in
1..255) that are ``<= min(x, clip)``. Thresholds come from an entropy-constrained scalar quantizer
(Choi and Bajic, ICME 2020) designed on the training histogram of the split features: the
partition of 0..255 into ``2**bits`` intervals minimising ``MSE + lambda * entropy``, solved exactly by
dynamic programming. ``lambda`` is set so that the design's MSE equals that of the uniform quantizer
with its MSE-optimal clip: the same distortion at a lower rate.

In both modes a zero feature maps to level 0, which the run-length coder relies on.
"""

import numpy as np

UNIFORM_SHIFT = 18


def uniform_multiplier(bits, clip):
    """The integer multiplier ``m`` of the uniform quantizer for ``(bits, clip)``."""
    levels1 = (1 << bits) - 1
    return -((-levels1 << UNIFORM_SHIFT) // clip)


def quantize_uniform(x, bits, clip):
    """n-bit levels of uint8 ``x`` (any shape) with clip value ``clip``."""
    m = uniform_multiplier(bits, clip)
    xc = np.minimum(np.asarray(x, np.int64), clip)
    q = (xc * m + (1 << (UNIFORM_SHIFT - 1))) >> UNIFORM_SHIFT
    return q.astype(np.uint8)


def uniform_levels(bits, clip):
    """Reconstruction value (uint8 feature units) of each level of the uniform quantizer."""
    return np.arange(1 << bits, dtype=np.float64) * clip / ((1 << bits) - 1)


def quantize_thresholds(x, thresholds, clip=255):
    """Levels of uint8 ``x``: the count of ``thresholds`` at or below ``min(x, clip)``."""
    t = np.asarray(thresholds, np.int64)
    return np.searchsorted(t, np.minimum(np.asarray(x, np.int64), clip), side="right").astype(np.uint8)


def quantize(x, bits, mode, clip, thresholds=None):
    """Dispatch on ``mode`` (``"uniform"`` or ``"ecsq"``)."""
    if mode == "uniform":
        return quantize_uniform(x, bits, clip)
    return quantize_thresholds(x, thresholds, clip)


# -- design from a histogram of uint8 feature values -----------------------------------------------
def _cell_stats(hist):
    p = hist / hist.sum()
    v = np.arange(len(p), dtype=np.float64)
    c0 = np.concatenate([[0.0], np.cumsum(p)])
    c1 = np.concatenate([[0.0], np.cumsum(p * v)])
    c2 = np.concatenate([[0.0], np.cumsum(p * v * v)])
    return c0, c1, c2


def uniform_mse(hist, bits, clip):
    """Mean squared error (uint8 units) of the uniform quantizer on values distributed as ``hist``."""
    v = np.arange(256)
    rec = uniform_levels(bits, clip)[quantize_uniform(v, bits, clip)]
    return float((hist * (v - rec) ** 2).sum() / hist.sum())


def best_clip(hist, bits):
    """The clip value in 1..255 with the smallest uniform-quantizer MSE on ``hist``."""
    errs = [uniform_mse(hist, bits, c) for c in range(1, 256)]
    return int(np.argmin(errs)) + 1


def design_ecsq(hist, bits, lam):
    """Optimal ``2**bits``-cell partition of 0..255 for ``MSE + lam * entropy`` (bits per element).

    Returns ``(thresholds, recon, mse, entropy)``; ``thresholds`` has ``2**bits - 1`` strictly
    increasing integers in 1..255, ``recon`` the centroid of each cell (its midpoint when empty).
    """
    hist = np.asarray(hist, np.float64)
    n = len(hist)
    levels = 1 << bits
    c0, c1, c2 = _cell_stats(hist)
    a = np.arange(n)[:, None]  # cell start
    b = np.arange(n)[None, :]  # cell end (inclusive)
    valid = b >= a
    with np.errstate(divide="ignore", invalid="ignore"):
        pm = c0[b + 1] - c0[a]
        s1 = c1[b + 1] - c1[a]
        s2 = c2[b + 1] - c2[a]
        dist = np.where(pm > 0, s2 - s1 * s1 / pm, 0.0)
        rate = np.where(pm > 0, -pm * np.log2(pm), 0.0)
    cost = np.where(valid, np.maximum(dist, 0) + lam * rate, np.inf)
    # best[k][e]: cost of covering 0..e with k+1 cells; arg[k][e]: start of the last cell
    best = cost[0].copy()
    args = []
    for _ in range(1, levels):
        # new[e] = min over s in 1..e of best[s-1] + cost[s, e]
        cand = best[:-1, None] + cost[1:, :]
        arg = np.argmin(cand, axis=0)
        new = cand[arg, np.arange(n)]
        new[0] = np.inf
        args.append(arg + 1)
        best = new
    starts = []
    e = n - 1
    for arg in reversed(args):
        s = int(arg[e])
        starts.append(s)
        e = s - 1
    thresholds = np.array(sorted(starts), np.int64)
    edges = np.concatenate([[0], thresholds, [n]])
    recon = np.empty(levels)
    for i in range(levels):
        lo, hi = edges[i], edges[i + 1]
        pm = c0[hi] - c0[lo]
        recon[i] = (c1[hi] - c1[lo]) / pm if pm > 0 else (lo + hi - 1) / 2
    q = quantize_thresholds(np.arange(n), thresholds)
    p = hist / hist.sum()
    mse = float((p * (np.arange(n) - recon[q]) ** 2).sum())
    pl = np.bincount(q, weights=p, minlength=levels)
    pl = pl[pl > 0]
    return thresholds, recon, mse, float(-(pl * np.log2(pl)).sum())


def design_ecsq_matching(hist, bits, target_mse, iters=30):
    """ECSQ design with the largest ``lambda`` whose MSE stays at or below ``target_mse``."""
    best = design_ecsq(hist, bits, 0.0)
    if best[2] > target_mse:
        return best
    lo, hi = 0.0, 1.0
    while design_ecsq(hist, bits, hi)[2] <= target_mse and hi < 1e6:
        lo, hi = hi, hi * 4
    for _ in range(iters):
        mid = (lo + hi) / 2
        d = design_ecsq(hist, bits, mid)
        if d[2] <= target_mse:
            lo, best = mid, d
        else:
            hi = mid
    return best


def level_table(bits, mode, clip, thresholds=None):
    """The quantizer as a 256-entry table: ``table[x]`` is the level of uint8 feature ``x``.

    This is what :class:`rtl.quantizer.Quantizer` holds in its table RAM, in either mode: the host
    loader computes it (clip and rounding, or the thresholds) and the device only looks it up.
    """
    return quantize(np.arange(256), bits, mode, clip, thresholds).astype(np.uint8)
