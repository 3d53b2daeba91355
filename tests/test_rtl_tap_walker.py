"""TapWalker (rtl/tap_walker.py) against golden.tap_walker, Amaranth simulator: every beat of layers
with strides, padding, pools of 1 to 3, kernels of 1 to 7 and several groups and tiles, with random
backpressure; and the golden order against the ECP5 engine's set of addresses."""

import numpy as np
import pytest
from amaranth.sim import Simulator

from golden.addrgen import Descriptor
from golden.addrgen import stream as chunked_stream
from golden.tap_walker import FIELDS, beats
from rtl.tap_walker import TapWalker
from sim.streams import get

LAYERS = {  # height, width, groups, k, pad, pool, stride, n_tiles
    "3x3-pool2": (8, 8, 2, 3, 1, 2, 1, 2),
    "folded-3x1": (6, 10, 1, (3, 1), (1, 0), 2, 1, 1),
    "1x1-nopool": (5, 7, 3, 1, 0, 1, 1, 2),
    "5x5-stride2-pool3": (13, 11, 1, 5, 2, 3, 2, 1),
    "7x7-pad3-stride2": (9, 9, 2, 7, 3, 1, 2, 1),
    "3x3-nopad-pool2": (9, 6, 1, 3, 0, 2, 1, 3),
}


def descriptor(h, w, groups, k, pad, pool, stride, n_tiles):
    ky, kx = k if isinstance(k, tuple) else (k, k)
    py, pxx = pad if isinstance(pad, tuple) else (pad, pad)
    oh, ow = (h + 2 * py - ky) // stride + 1, (w + 2 * pxx - kx) // stride + 1
    return Descriptor(base=37, height=h, width=w, groups=groups, k_y=ky, k_x=kx, pad_y=py, pad_x=pxx, pool=pool,
                      pooled_h=oh // pool, pooled_w=ow // pool, n_tiles=n_tiles, chunk=0, stride=stride)


def rtl_beats(d, tile_base, rng, stall):
    dut = TapWalker()
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    want = beats(d, tile_base)
    got = []

    async def bench(ctx):
        for name in ("base", "height", "width", "groups", "k_y", "k_x", "pad_y", "pad_x", "pool", "stride",
                     "pooled_h", "pooled_w", "n_tiles"):
            ctx.set(getattr(dut.desc, name), getattr(d, name))
        ctx.set(dut.tile_base, tile_base)
        for name in ("pooled_w", "pooled_h", "n_tiles"):
            ctx.set(dut.last[name], getattr(d, name) - 1)
        ctx.set(dut.start, 1)
        await ctx.tick()
        ctx.set(dut.start, 0)
        for p in await get(ctx, dut.o, len(want), rng=rng, stall=stall):
            got.append(tuple(0 if name == "addr" and p.zero else int(getattr(p, name)) for name in FIELDS))
        await ctx.tick().repeat(2)
        assert ctx.get(dut.done) and not ctx.get(dut.o.valid)

    sim.add_testbench(bench)
    sim.run()
    return np.array(got, np.int64), want


@pytest.mark.parametrize("name", list(LAYERS))
def test_beats_with_backpressure(rng, name):
    d = descriptor(*LAYERS[name])
    got, want = rtl_beats(d, 5, rng, 0.3)
    assert got.shape == want.shape and np.array_equal(got, want), (got[:20], want[:20])


@pytest.mark.parametrize("name", list(LAYERS))
def test_golden_order_reads_what_the_chunked_engine_reads(name):
    d = descriptor(*LAYERS[name])
    mine = beats(d)
    theirs = chunked_stream(Descriptor(**{**d.__dict__, "chunk": d.pool * d.pool}))
    key = lambda rows: sorted(map(tuple, rows))  # noqa: E731
    assert key(mine[:, :2]) == key(theirs[:, :2])
