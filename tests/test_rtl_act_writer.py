"""ActWriter (rtl/act_writer.py) against golden.act_writer.writes, Amaranth simulator."""

import numpy as np
import pytest
from amaranth.sim import Simulator

from golden.act_writer import apply, writes
from rtl.act_writer import ActWriter
from sim.streams import put


def ref_writer(beats, cout, rows, cols, pooled, base):
    return writes(beats, cout, rows, cols, pooled, base)


def rtl_writer(beats, cout, rows, cols, pooled, base, *, rng=None, idle=0.0):
    dut = ActWriter(rows=rows, cols=cols)
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    got = []

    async def bench(ctx):
        ctx.set(dut.base, base)
        ctx.set(dut.groups, -(-cout // rows))
        ctx.set(dut.channels, cout)
        ctx.set(dut.last_pooled, pooled - 1)
        ctx.set(dut.last_tile, -(-cout // cols) - 1)
        ctx.set(dut.start, 1)
        await ctx.tick()
        ctx.set(dut.start, 0)
        assert not ctx.get(dut.done)
        await put(ctx, dut.i, [[int(v) for v in b] for b in beats], rng=rng, idle=idle)
        for _ in range(rows + cols + 4):
            await ctx.tick()
        assert ctx.get(dut.done)

    async def monitor(ctx):
        async for _, _, mask, addr, word in ctx.tick().sample(dut.w.mask, dut.w.addr, dut.w.data):
            if mask:
                data = tuple((word >> (8 * b)) & 0xFF if mask >> b & 1 else 0 for b in range(rows))
                got.append((addr, mask, data))

    sim.add_testbench(bench)
    sim.add_testbench(monitor, background=True)
    sim.run()
    return got


@pytest.mark.parametrize("cout, rows, cols, pooled", [
    (1, 1, 1, 1), (16, 4, 4, 6), (5, 4, 5, 3), (9, 3, 5, 4), (7, 5, 3, 2), (24, 12, 12, 2), (8, 2, 3, 3),
    (32, 8, 8, 2), (6, 4, 4, 5), (13, 2, 4, 3), (10, 2, 6, 2)],
    ids=["one", "digits", "cols5", "rows3-cols5", "rows5-cols3", "12x12", "rows2-cols3", "8x8", "4x4-partial-tile",
         "rows2-cols4", "rows2-cols6"])
def test_layers_with_gaps(rng, cout, rows, cols, pooled):
    beats = rng.integers(0, 256, (-(-cout // cols) * pooled, cols), dtype=np.uint8)
    base = 3
    want = ref_writer(beats, cout, rows, cols, pooled, base)
    got = rtl_writer(beats, cout, rows, cols, pooled, base, rng=rng, idle=0.4)
    assert got == want
    # every channel of every pooled pixel written once
    groups = -(-cout // rows)
    mem = apply(want, [[None] * rows for _ in range(base + pooled * groups)])
    for q in range(pooled):
        for n in range(cout):
            nt, lane = divmod(n, cols)
            assert mem[base + q * groups + n // rows][n % rows] == beats[nt * pooled + q, lane]
