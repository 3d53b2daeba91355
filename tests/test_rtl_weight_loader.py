"""WeightLoader (rtl/weight_loader.py) with a weight memory against golden.weight_loader.passes."""

import numpy as np
import pytest
from amaranth import Module, signed
from amaranth.lib import data, memory, wiring
from amaranth.sim import Simulator

from golden.weight_loader import passes
from rtl.weight_loader import WeightLoader


class Harness(wiring.Component):
    def __init__(self, rows, cols, init):
        self.wl = WeightLoader(rows=rows, cols=cols, margin=5)
        self._init, self._cols = init, cols
        super().__init__({})

    def elaborate(self, platform):
        m = Module()
        m.submodules.wl = wl = self.wl
        m.submodules.mem = mem = memory.Memory(shape=data.ArrayLayout(signed(8), self._cols), depth=len(self._init),
                                               init=self._init)
        r = mem.read_port()
        m.d.comb += [r.addr.eq(wl.r_addr), wl.r_data.eq(r.data)]
        return m


def ref_loader(weights, base, rows, taps, chunks, tiles):
    return [(bank, [list(weights[a]) for a in addrs]) for bank, addrs in passes(base, rows, taps, chunks, tiles)]


def rtl_loader(weights, base, rows, taps, chunks, tiles, *, rng):
    cols = weights.shape[1]
    dut = Harness(rows, cols, [list(map(int, w)) for w in weights])
    wl = dut.wl
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    got = []
    n = taps * chunks * tiles

    async def issue(ctx):  # takes each pass's first beat once its weights are in, after a random while
        ctx.set(wl.base, base)
        ctx.set(wl.last_taps, taps - 1)
        ctx.set(wl.last_chunks, chunks - 1)
        ctx.set(wl.last_tiles, tiles - 1)
        ctx.set(wl.start, 1)
        await ctx.tick()
        ctx.set(wl.start, 0)
        ctx.set(wl.run, 1)
        for k in range(n):
            while not ctx.get(wl.ahead):
                await ctx.tick()
            assert ctx.get(wl.parity) == k % 2
            for _ in range(int(rng.integers(0, 3 * rows))):
                await ctx.tick()
            ctx.set(wl.pass_start, 1)
            await ctx.tick()
            ctx.set(wl.pass_start, 0)
        for _ in range(20):
            await ctx.tick()
            assert not ctx.get(wl.ahead)  # no pass beyond the layer's

    async def monitor(ctx):
        async for _, _, valid, payload in ctx.tick().sample(wl.w.valid, wl.w.payload):
            if valid:
                got.append((int(payload.bank), int(payload.row), [int(v) for v in payload.data]))

    sim.add_testbench(issue)
    sim.add_testbench(monitor, background=True)
    sim.run()
    out = []
    for i in range(0, len(got), rows):
        part = got[i:i + rows]
        assert [r for _, r, _ in part] == list(range(rows)) and len({b for b, _, _ in part}) == 1
        out.append((part[0][0], [d for _, _, d in part]))
    return out


@pytest.mark.parametrize("rows, cols, taps, chunks, tiles", [
    (1, 1, 1, 1, 1), (4, 4, 9, 2, 2), (3, 5, 4, 3, 2), (8, 2, 1, 4, 3), (2, 3, 5, 1, 4)],
    ids=["one", "4x4", "3x5", "one-tap", "many-tiles"])
def test_passes_in_order(rng, rows, cols, taps, chunks, tiles):
    base = 5
    weights = rng.integers(-128, 128, (base + taps * tiles * rows + 3, cols), dtype=np.int8)
    assert rtl_loader(weights, base, rows, taps, chunks, tiles, rng=rng) == \
        ref_loader(weights, base, rows, taps, chunks, tiles)
