"""Quantizer RTL against golden/quantizer.py: every feature value, all bit-widths, both modes.

The device quantizes through its level table in both modes; the host fills it with
:func:`golden.quantizer.level_table`. These tests load the table the host would, then compare the
levels with the golden quantizer's arithmetic (uniform) or thresholds (ECSQ), not with the table.
"""

import numpy as np
from amaranth.sim import Simulator

from golden import quantizer as Q
from rtl.quantizer import Quantizer
from sim.streams import get, put


def rtl_quantize(frames, *, rng=None, idle=0.0, stall=0.0):
    """``frames``: list of (level table, uint8 values). Returns the levels of each."""
    dut = Quantizer()
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    out = []
    total = sum(len(x) for _, x in frames)
    consumed = [0]

    async def producer(ctx):
        done = 0
        for table, x in frames:
            # between frames: wait until the previous frame has left, then load the table
            while consumed[0] < done:
                await ctx.tick()
            await put(ctx, dut.table_w, [{"addr": a, "level": int(v)} for a, v in enumerate(table)])
            await put(ctx, dut.i, [{"data": int(v), "first": k == 0, "last": k == len(x) - 1}
                                   for k, v in enumerate(x)], rng=rng, idle=idle)
            done += len(x)

    async def consumer(ctx):
        for table, x in frames:
            beats = await get(ctx, dut.o, len(x), rng=rng, stall=stall)
            out.extend(beats)
            consumed[0] += len(x)

    sim.add_testbench(producer)
    sim.add_testbench(consumer)
    sim.run()
    assert len(out) == total
    levels = [int(b.data) for b in out]
    firsts = [int(b.first) for b in out]
    lasts = [int(b.last) for b in out]
    res, k = [], 0
    for _, x in frames:
        assert firsts[k] == 1 and lasts[k + len(x) - 1] == 1 and sum(firsts[k:k + len(x)]) == 1
        res.append(np.array(levels[k:k + len(x)]))
        k += len(x)
    return res


def test_uniform_every_value_every_bits(rng):
    frames, want = [], []
    x = np.arange(256)
    for bits in range(1, 9):
        for clip in (1, 2, 7, int(rng.integers(3, 255)), 255):
            frames.append((Q.level_table(bits, "uniform", clip), x))
            want.append(Q.quantize_uniform(x, bits, clip))
    got = rtl_quantize(frames)
    assert all(np.array_equal(g, w) for g, w in zip(got, want))


def test_ecsq_table_and_mode_switches_with_backpressure(rng):
    hist = np.bincount(np.minimum(rng.exponential(30, 5000).astype(int), 255), minlength=256).astype(float)
    frames, want = [], []
    for bits in (1, 2, 3, 4, 8):
        thr, _, _, _ = Q.design_ecsq(hist, bits, 5.0)
        x = rng.integers(0, 256, 300)
        frames.append((Q.level_table(bits, "ecsq", 255, thr), x))
        want.append(Q.quantize_thresholds(x, thr))
        clip = int(rng.integers(1, 256))
        frames.append((Q.level_table(bits, "uniform", clip), x))
        want.append(Q.quantize_uniform(x, bits, clip))
    got = rtl_quantize(frames, rng=rng, idle=0.3, stall=0.3)
    assert all(np.array_equal(g, w) for g, w in zip(got, want))


def test_single_element_frames():
    frames = [(Q.level_table(8, "uniform", 255), np.array([v])) for v in (0, 1, 254, 255)]
    assert [g.tolist() for g in rtl_quantize(frames)] == [[0], [1], [254], [255]]
