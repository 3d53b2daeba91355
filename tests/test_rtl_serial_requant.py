"""SerialRequant (rtl/serial_requant.py) against golden.serial_requant and golden.requant, Amaranth
simulator; and the golden twin against the plain requantizer."""

import numpy as np
import pytest
from amaranth.sim import Simulator

from golden.requant import requantize
from golden.serial_requant import serial_requantize
from rtl.serial_requant import SerialRequant
from sim.streams import get, put


def cases(rng, width, n):
    lo, hi = -(1 << (width - 1)), (1 << (width - 1)) - 1
    edge = [(a, m, s) for a in (lo, -1, 0, 1, 2, hi) for m in (0, 1, 1 << 15, 65535) for s in (1, 2, 16, 17, 30, 62)]
    rand = [(int(rng.integers(-1 << 12, 1 << min(width - 1, 24))), int(rng.integers(1 << 15, 1 << 16)),
             int(rng.integers(15, 30))) for _ in range(n)]
    return edge + rand


def test_golden_twin_equals_the_plain_requantizer(rng):
    for acc, m, s in cases(rng, 32, 3000):
        assert serial_requantize(acc, m, s) == int(requantize(acc, m, s)), (acc, m, s)


@pytest.mark.parametrize("width, idle, stall", [(32, 0.0, 0.0), (24, 0.3, 0.5), (20, 0.6, 0.2)])
def test_rtl_bytes_with_gaps_and_backpressure(rng, width, idle, stall):
    vals = cases(rng, width, 150)
    dut = SerialRequant(acc_width=width)
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    got = []

    async def producer(ctx):
        await put(ctx, dut.i, [{"acc": a, "mult": m, "shift": s} for a, m, s in vals], rng=rng, idle=idle)

    async def consumer(ctx):
        got.extend(await get(ctx, dut.o, len(vals), rng=rng, stall=stall))
        await ctx.tick().repeat(12)
        assert not ctx.get(dut.o.valid)

    sim.add_testbench(producer)
    sim.add_testbench(consumer)
    sim.run()
    assert [int(v) for v in got] == [serial_requantize(a, m, s) for a, m, s in vals]


def test_rtl_takes_a_value_every_four_cycles(rng):
    vals = cases(rng, 32, 40)
    dut = SerialRequant(acc_width=32)
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    taken = []

    async def bench(ctx):
        ctx.set(dut.o.ready, 1)
        ctx.set(dut.i.valid, 1)
        for n in range(4 * len(vals) + 8):
            a, mm, s = vals[min(len(taken), len(vals) - 1)]
            ctx.set(dut.i.payload, {"acc": a, "mult": mm, "shift": s})
            if ctx.get(dut.i.ready):
                taken.append(n)
            await ctx.tick()

    sim.add_testbench(bench)
    sim.run()
    assert len(taken) > len(vals) and np.all(np.diff(taken) == 4), taken
