"""StreamOut (rtl/stream_out.py) with the activation memory (rtl/act_memory.py) against
golden.stream_out, Amaranth simulator."""

import numpy as np
import pytest
from amaranth import Module
from amaranth.lib import wiring
from amaranth.sim import Simulator

from golden.stream_out import stream_out
from rtl.act_memory import ActMemory
from rtl.stream_out import StreamOut
from sim.streams import get


class Harness(wiring.Component):
    def __init__(self, rows, depth):
        self.mem = ActMemory(rows=rows, depth=depth)
        self.out = StreamOut(rows=rows)
        super().__init__({})

    def elaborate(self, platform):
        m = Module()
        m.submodules.mem, m.submodules.out = self.mem, self.out
        m.d.comb += [self.mem.out_r.eq(self.out.r), self.out.q.eq(self.mem.q), self.mem.out_sel.eq(self.out.run)]
        return m


def ref_stream_out(words, shape, rows, base):
    return stream_out(words, shape, rows, base)


def rtl_stream_out(words, shape, rows, base, *, rng=None, stall=0.0, times=1):
    c, h, w = shape
    dut = Harness(rows, len(words) + len(words) % 2)
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    outs = []

    async def bench(ctx):
        mem, out = dut.mem, dut.out
        for a, word in enumerate(words):
            ctx.set(mem.load_w, {"addr": a, "data": sum(int(v) << (8 * r) for r, v in enumerate(word)),
                                 "mask": (1 << rows) - 1})
            await ctx.tick()
        ctx.set(mem.load_w.mask, 0)
        ctx.set(out.base, base)
        ctx.set(out.groups, -(-c // rows))
        ctx.set(out.last_w, w - 1)
        ctx.set(out.last_h, h - 1)
        ctx.set(out.last_c, c - 1)
        for _ in range(times):  # a tensor after another: run falls and rises between them
            await ctx.tick()
            ctx.set(out.run, 1)
            outs.append([int(v) for v in await get(ctx, out.features, c * h * w, rng=rng, stall=stall)])
            for _ in range(4):
                await ctx.tick()
            assert ctx.get(out.done) and not ctx.get(out.features.valid)
            ctx.set(out.run, 0)

    sim.add_testbench(bench)
    sim.run()
    return [np.array(o, np.uint8) for o in outs]


@pytest.mark.parametrize("shape, rows, base", [
    ((1, 1, 1), 1, 0), ((8, 4, 4), 4, 6), ((5, 3, 2), 3, 1), ((16, 2, 3), 4, 0), ((7, 3, 3), 8, 2),
    ((12, 2, 2), 12, 3)], ids=["one-byte", "digits-like", "rows3", "groups4", "padded-word", "rows12"])
def test_tensors_with_backpressure(rng, shape, rows, base):
    c, h, w = shape
    n = base + h * w * -(-c // rows)
    words = rng.integers(0, 256, (n, rows), dtype=np.uint8)
    want = ref_stream_out(words, shape, rows, base)
    for got in rtl_stream_out(words, shape, rows, base, rng=rng, stall=0.5, times=2):
        assert np.array_equal(got, want)
