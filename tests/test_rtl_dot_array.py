"""DotArray (rtl/dot_array.py) against golden.dot_array, Amaranth simulator: random and extreme
operands, pixels of 1 to 20 taps, random gaps and backpressure."""

import pytest
from amaranth.sim import Simulator

from golden.dot_array import dot_pixels
from rtl.dot_array import DotArray
from sim.streams import get, put


def random_beats(rng, rows, cols, pixels):
    out = []
    for _ in range(pixels):
        taps = int(rng.choice([1, 2, 3, 9, 20]))
        for t in range(taps):
            x = rng.choice([0, 255, int(rng.integers(0, 256))], size=rows, p=[0.1, 0.2, 0.7])
            w = rng.choice([-128, 127, int(rng.integers(-128, 128))], size=(rows, cols), p=[0.2, 0.1, 0.7])
            out.append((x, w, t == 0, t == taps - 1))
    return out


@pytest.mark.parametrize("rows, cols, idle, stall", [(4, 4, 0.0, 0.0), (4, 4, 0.3, 0.5), (2, 8, 0.2, 0.2),
                                                     (3, 5, 0.5, 0.7)])
def test_pixel_sums_with_gaps_and_backpressure(rng, rows, cols, idle, stall):
    beats = random_beats(rng, rows, cols, 30)
    want = dot_pixels(beats, 24)
    dut = DotArray(rows=rows, cols=cols, acc_width=24)
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    got = []

    async def producer(ctx):
        await put(ctx, dut.i, [{"x": [int(v) for v in x], "w": [int(v) for v in w.reshape(-1)], "n": k % 7,
                                "first": f, "last": la} for k, (x, w, f, la) in enumerate(beats)], rng=rng, idle=idle)

    async def consumer(ctx):
        got.extend([[int(v) for v in p.v] for p in await get(ctx, dut.o, len(want), rng=rng, stall=stall)])
        await ctx.tick().repeat(5)
        assert not ctx.get(dut.o.valid)

    sim.add_testbench(producer)
    sim.add_testbench(consumer)
    sim.run()
    assert got == [[int(v) for v in s] for s in want]
