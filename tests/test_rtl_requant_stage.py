"""RequantStage (rtl/requant_stage.py) with its parameter RAM (rtl/engine_memory.py) against
golden.requant_stage, Amaranth simulator."""

import numpy as np
import pytest
from amaranth import Module
from amaranth.lib import wiring
from amaranth.sim import Simulator

from golden.requant_stage import requant_stage
from rtl.engine_memory import EngineMemory
from rtl.requant_stage import RequantStage
from sim.streams import get, put, to_int_list

PARAM_WORDS = 6


class Harness(wiring.Component):
    def __init__(self, cols, width, params, pipelined, serial=False):
        self.mem = EngineMemory(cols=cols, weight_rows=1, param_words=PARAM_WORDS, layers=1, params=params)
        self.rq = RequantStage(cols=cols, acc_width=width, param_words=PARAM_WORDS, pipelined=pipelined,
                               serial=serial)
        super().__init__({})

    def elaborate(self, platform):
        m = Module()
        m.submodules.mem, m.submodules.rq = mem, rq = self.mem, self.rq
        m.d.comb += [mem.p_word.eq(rq.p_word), mem.p_step.eq(rq.p_step), mem.p_en.eq(rq.p_en),
                     rq.p_data.eq(mem.p_data)]
        return m


def extreme_or(rng, lo, hi, typical, p):
    return int(rng.choice([lo, hi, typical], p=[p, p, 1 - 2 * p]))


def random_params(rng, cols):
    """Parameter words with biases, multipliers and shifts at the ends of their range, or such that
    most bytes fall inside 0 .. 255."""
    def lane():
        return {"bias": extreme_or(rng, -1 << 31, (1 << 31) - 1, rng.integers(-1 << 11, 1 << 11), 0.05),
                "mult": extreme_or(rng, 0, 65535, rng.integers(1 << 15, 1 << 16), 0.05),
                "shift": extreme_or(rng, 1, 62, rng.integers(20, 25), 0.05)}
    return [tuple(lane() for _ in range(cols)) for _ in range(PARAM_WORDS)]


def random_beats(rng, cols, width, windows, pool, tiles):
    lo, hi = -(1 << (width - 1)), (1 << (width - 1)) - 1
    return [(int(rng.integers(0, tiles)), [extreme_or(rng, lo, hi, rng.integers(-1 << 12, 1 << 13), 0.03)
                                          for _ in range(cols)]) for _ in range(windows * pool * pool)]


def rtl_requant_stage(beats, pool, params, param_base, width, pipelined, *, rng, idle, stall, serial=False):
    cols = len(params[0])
    dut = Harness(cols, width, params, pipelined, serial)
    rq = dut.rq
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    got = []

    async def producer(ctx):
        ctx.set(rq.pool, pool)
        ctx.set(rq.param_base, param_base)
        await ctx.tick()  # the window is registered
        await put(ctx, rq.i, [{"v": v, "tile": t} for t, v in beats], rng=rng, idle=idle)

    async def consumer(ctx):
        got.extend(tuple(to_int_list(b)) for b in await get(ctx, rq.o, len(beats) // pool ** 2, rng=rng, stall=stall))
        await ctx.tick().repeat(20)
        assert not ctx.get(rq.o.valid)  # nothing more

    sim.add_testbench(producer)
    sim.add_testbench(consumer)
    sim.run()
    return np.array(got, np.uint8).reshape(-1, cols)


@pytest.mark.parametrize("cols, width, pool, pipelined, idle, stall", [
    (1, 20, 1, True, 0.0, 0.0), (4, 32, 2, True, 0.3, 0.5), (5, 24, 2, False, 0.2, 0.3), (12, 32, 3, True, 0.1, 0.6),
    (3, 18, 1, False, 0.5, 0.5), (8, 32, 1, False, 0.0, 0.8)],
    ids=["one-lane", "4-lanes-one-step", "5-lanes-padded-step", "12-lanes-3x3", "3-lanes-unpipelined",
         "8-lanes-stalled"])
def test_pooled_bytes_with_gaps_and_backpressure(rng, cols, width, pool, pipelined, idle, stall):
    params = random_params(rng, cols)
    beats = random_beats(rng, cols, width, 8, pool, 3)
    want = requant_stage(beats, pool, params, 2, width)
    got = rtl_requant_stage(beats, pool, params, 2, width, pipelined, rng=rng, idle=idle, stall=stall)
    assert np.array_equal(got, want), (got, want)


@pytest.mark.parametrize("cols, pool, idle, stall", [(4, 2, 0.0, 0.0), (4, 1, 0.3, 0.5), (5, 3, 0.2, 0.3)],
                         ids=["4-lanes", "4-lanes-unpooled-stalled", "5-lanes-3x3"])
def test_serial_requantizers(rng, cols, pool, idle, stall):
    """The iCE40UP5K's requantizers, a lane in four cycles (rtl.serial_requant): the same bytes."""
    params = random_params(rng, cols)
    beats = random_beats(rng, cols, 32, 8, pool, 3)
    want = requant_stage(beats, pool, params, 2, 32)
    got = rtl_requant_stage(beats, pool, params, 2, 32, False, rng=rng, idle=idle, stall=stall, serial=True)
    assert np.array_equal(got, want), (got, want)
