"""Issue (rtl/issue.py) with the activation memory (rtl/act_memory.py) against golden.issue,
Amaranth simulator."""

import numpy as np
import pytest
from amaranth import Module
from amaranth.lib import wiring
from amaranth.sim import Simulator

from golden.issue import issue
from rtl.act_memory import ActMemory
from rtl.issue import Issue
from sim.streams import put, to_int_list


class Harness(wiring.Component):
    def __init__(self, rows, depth):
        self.mem = ActMemory(rows=rows, depth=depth)
        self.issue = Issue(rows=rows, pos_width=4)
        super().__init__({})

    def elaborate(self, platform):
        m = Module()
        m.submodules.mem, m.submodules.issue = self.mem, self.issue
        m.d.comb += [self.mem.issue_addr.eq(self.issue.act_addr), self.issue.act_q.eq(self.mem.q)]
        return m


def random_beats(rng, words, passes):
    """Passes of 1 to 8 beats (a tap of a chunk), some of them last taps, reading random words or
    padding."""
    beats = []
    for _ in range(passes):
        first, last = (int(v) for v in rng.integers(0, 2, 2))
        tile = int(rng.integers(0, 256))
        for pos in range(int(rng.integers(1, 9))):
            zero = int(rng.random() < 0.25)
            beats.append({"addr": 0 if zero else int(rng.integers(0, words)), "zero": zero, "pos": pos,
                          "first_tap": first, "last_tap": last, "last": 0, "tile": tile})
    beats[-1]["last"] = 1
    return beats


def rtl_issue(words, beats, gap, *, rng, idle, slow_weights, stop):
    rows = words.shape[1]
    dut = Harness(rows, len(words) + len(words) % 2)
    iss = dut.issue
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    got, last_taps = [], []

    async def bench(ctx):
        for a, word in enumerate(words):
            ctx.set(dut.mem.load_w, {"addr": a, "data": sum(int(v) << (8 * r) for r, v in enumerate(word)),
                                     "mask": (1 << rows) - 1})
            await ctx.tick()
        ctx.set(dut.mem.load_w.mask, 0)
        ctx.set(iss.last_gap, gap - 1)
        await ctx.tick().repeat(2)  # the last write lands
        await put(ctx, iss.beats, beats, rng=rng, idle=idle)
        while len(got) < len(beats):
            await ctx.tick()
        await ctx.tick().repeat(Issue.latency + 2)

    async def run(ctx):  # the sequencer: the layer runs, or stops for a while
        while True:
            ctx.set(iss.run, rng.random() >= stop)
            await ctx.tick()

    async def weights(ctx):  # the weight loader: the next pass's tile in a while after a pass starts
        wait = 0
        async for _, _, start, ahead in ctx.tick().sample(iss.pass_start, iss.ahead):
            if start:
                assert ahead  # a pass starts only with its weights in
                ctx.set(iss.parity, 1 - ctx.get(iss.parity))
                ctx.set(iss.ahead, 0)
                wait = int(rng.integers(0, 3 * slow_weights + 1))
            elif wait:
                wait -= 1
            else:
                ctx.set(iss.ahead, 1)

    async def monitor(ctx):
        cycle = 0
        async for _, _, valid, x, side in ctx.tick().sample(iss.x.valid, iss.x.payload, iss.side):
            cycle += 1
            if valid:
                got.append((int(x.bank), tuple(to_int_list(x.data)),
                            (int(side.pos), int(side.first), int(side.last), int(side.tile))))
                if side.last:
                    last_taps.append(cycle)

    sim.add_testbench(bench)
    for background in (run, weights, monitor):
        sim.add_testbench(background, background=True)
    sim.run()
    return got, np.diff(last_taps)


@pytest.mark.parametrize("rows, gap, idle, slow_weights, stop", [
    (1, 1, 0.0, 0, 0.0), (4, 1, 0.3, 2, 0.1), (3, 3, 0.2, 1, 0.0), (8, 5, 0.0, 4, 0.0), (5, 2, 0.5, 0, 0.3)],
    ids=["rows1-back-to-back", "rows4-gaps", "rows3-gap3", "rows8-gap5-slow-weights", "rows5-stops"])
def test_vectors_with_gaps_and_stalls(rng, rows, gap, idle, slow_weights, stop):
    words = rng.integers(0, 256, (24, rows), dtype=np.uint8)
    words[5] = 255
    beats = random_beats(rng, len(words), 12)
    got, spacing = rtl_issue(words, beats, gap, rng=rng, idle=idle, slow_weights=slow_weights, stop=stop)
    assert got == issue(beats, words)
    assert (spacing >= gap).all()  # last-tap beats `gap` cycles apart or more
    if gap > 1 and idle == 0 and stop == 0:
        assert (spacing == gap).any()  # ... and no more when nothing else holds them
