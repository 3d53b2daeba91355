"""Accumulator (rtl/accumulator.py) against golden.accumulator.accumulate, Amaranth simulator."""

import pytest
from amaranth.sim import Simulator

from golden.accumulator import accumulate
from rtl.accumulator import Accumulator
from sim.streams import to_int_list


def random_beats(rng, cols, width, chunks):
    """Chunks of 4 to 8 positions (MIN_CHUNK or more) and 1 to 4 taps, position by position in each
    tap; sums random or at the ends of their range, so that totals wrap."""
    lo, hi = -(1 << (width - 1)), (1 << (width - 1)) - 1
    beats = []
    for _ in range(chunks):
        count, taps, tile = (int(v) for v in (rng.integers(4, 9), rng.integers(1, 5), rng.integers(0, 256)))
        for t in range(taps):
            for pos in range(count):
                sums = [int(rng.choice([lo, hi, rng.integers(lo, hi + 1)], p=[0.1, 0.1, 0.8])) for _ in range(cols)]
                beats.append((pos, int(t == 0), int(t == taps - 1), tile, sums))
    return beats


def rtl_accumulate(beats, cols, width, latency, pipelined, *, rng, idle):
    dut = Accumulator(cols=cols, acc_width=width, depth=16, latency=latency, pipelined=pipelined)
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    got = []
    schedule = []  # a beat or a bubble a cycle, as the issue stage feeds the array
    for b in beats:
        while rng.random() < idle:
            schedule.append(None)
        schedule.append(b)

    async def array(ctx):  # the side of a vector entering the array, its sums `latency` cycles later
        for t in range(len(schedule) + latency + 2):
            now = schedule[t] if t < len(schedule) else None
            bubble = (int(rng.integers(0, 16)), *(int(v) for v in rng.integers(0, 2, 2)), 7, None)
            pos, first, last, tile, _ = now or bubble
            ctx.set(dut.side, {"pos": pos, "first": first, "last": last, "tile": tile})
            out = schedule[t - latency] if latency <= t < len(schedule) + latency else None
            ctx.set(dut.y.valid, out is not None)
            if out is not None:
                ctx.set(dut.y.payload, out[4])
            assert ctx.get(dut.y.ready)  # the array is never stalled
            await ctx.tick()

    async def monitor(ctx):
        async for _, _, valid, payload in ctx.tick().sample(dut.o.valid, dut.o.payload):
            if valid:
                got.append((int(payload.tile), tuple(to_int_list(payload.v))))

    sim.add_testbench(array)
    sim.add_testbench(monitor, background=True)
    sim.run()
    return got


@pytest.mark.parametrize("cols, width, latency, pipelined, idle", [
    (1, 20, 2, True, 0.0), (4, 32, 8, True, 0.3), (5, 24, 9, False, 0.2), (3, 18, 2, False, 0.5),
    (12, 32, 24, True, 0.1)],
    ids=["one-lane-shortest", "4x4-gaps", "5x4-unpipelined", "unpipelined-shortest", "12x12"])
def test_chunks_with_gaps(rng, cols, width, latency, pipelined, idle):
    beats = random_beats(rng, cols, width, 6)
    assert rtl_accumulate(beats, cols, width, latency, pipelined, rng=rng, idle=idle) == accumulate(beats, width)
