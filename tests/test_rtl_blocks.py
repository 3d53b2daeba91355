"""Requant and MaxPool RTL against their golden twins, Amaranth simulator."""

import numpy as np
import pytest
from amaranth import signed, unsigned
from amaranth.lib import data
from amaranth.sim import Simulator

from golden.maxpool import maxpool, maxpool_beats
from golden.requant import requantize
from rtl.maxpool import MaxPool
from rtl.requant import Requant
from sim.streams import get, put, to_int_list


def run_stream(dut, inputs, count, *, rng=None, idle=0.0, stall=0.0):
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    out = []

    async def producer(ctx):
        await put(ctx, dut.i, inputs, rng=rng, idle=idle)

    async def consumer(ctx):
        out.extend(await get(ctx, dut.o, count, rng=rng, stall=stall))

    sim.add_testbench(producer)
    sim.add_testbench(consumer)
    sim.run()
    return out


def rtl_requant(acc, mult, shift, **kw):
    items = [{"acc": int(a), "mult": int(m), "shift": int(s)} for a, m, s in zip(acc, mult, shift)]
    return np.array([int(v) for v in run_stream(Requant(acc_width=32), items, len(items), **kw)])


def requant_cases():
    """Zero, ReLU, exact halves, saturation, int32 extremes, largest multiplier and shifts."""
    half = (1 << 15, 16)
    acc = [0, -1, 1, 3, -3, 510, 511, 512, 2 ** 31 - 1, -2 ** 31, 2 ** 31 - 1, 1000, 7]
    mult = [half[0]] * 10 + [(1 << 16) - 1, (1 << 16) - 1, 1 << 15]
    shift = [half[1]] * 10 + [62, 1, 1]
    return acc, mult, shift


def test_requant_edge_cases():
    acc, mult, shift = requant_cases()
    assert rtl_requant(acc, mult, shift).tolist() == requantize(acc, mult, shift).tolist()


@pytest.mark.parametrize("acc_width", [12, 17, 24, 40])
def test_requant_other_accumulator_widths(rng, acc_width):
    """The product in one DSP (up to 17 bits), as two partial products (up to 34), in fabric beyond."""
    n = 200
    lo, hi = -2 ** (acc_width - 1), 2 ** (acc_width - 1)
    acc = np.concatenate([[lo, hi - 1, 0, -1], rng.integers(lo, hi, n)])
    mult = np.concatenate([[(1 << 16) - 1] * 4, rng.integers(1 << 15, 1 << 16, n)])
    shift = np.concatenate([[1, 62, 5, 1], rng.integers(1, acc_width + 16, n)])
    items = [{"acc": int(a), "mult": int(m), "shift": int(s)} for a, m, s in zip(acc, mult, shift)]
    got = run_stream(Requant(acc_width=acc_width), items, len(items), rng=rng, idle=0.2, stall=0.2)
    assert [int(v) for v in got] == requantize(acc, mult, shift).tolist()


def test_requant_clamp_boundary():
    """t = acc * mult >> (shift - 1) around the clamp's edges 510/511/512 (saturating or not) and
    around 0, at small and large shifts: the clamp reads t's sign and whether t > 510, and rounds
    t's low 9 bits."""
    acc, mult, shift = [], [], []
    for s in (1, 2, 9, 17, 30, 40, 47):
        for t in (0, 1, 509, 510, 511, 512, 513, 1023, 1024):
            for r in (0, 1, (1 << (s - 1)) - 1):
                a = (t << (s - 1)) + min(r, (1 << (s - 1)) - 1)
                if a < 2 ** 47:
                    acc.append(a)
                    mult.append(1)
                    shift.append(s)
                    acc.append(-a - 1)
                    mult.append(1)
                    shift.append(s)
    items = [{"acc": int(a), "mult": int(m), "shift": int(sh)} for a, m, sh in zip(acc, mult, shift)]
    got = run_stream(Requant(acc_width=48), items, len(items))
    assert [int(v) for v in got] == requantize(acc, mult, shift).tolist()
    small = [(a, sh) for a, sh in zip(acc, shift) if -2 ** 31 <= a < 2 ** 31]
    assert rtl_requant([a for a, _ in small], [1] * len(small), [sh for _, sh in small]).tolist() == \
        requantize([a for a, _ in small], [1] * len(small), [sh for _, sh in small]).tolist()


def test_requant_random_with_backpressure(rng):
    n = 300
    acc = rng.integers(-2 ** 24, 2 ** 24, n)
    mult = rng.integers(1 << 15, 1 << 16, n)
    shift = rng.integers(12, 32, n)
    got = rtl_requant(acc, mult, shift, rng=rng, idle=0.3, stall=0.3)
    assert got.tolist() == requantize(acc, mult, shift).tolist()


def rtl_maxpool(beats, lanes, window, out_register=True, **kw):
    out = run_stream(MaxPool(lanes=lanes, window=window, out_register=out_register), [b.tolist() for b in beats],
                     len(beats) // window, **kw)
    return np.array([to_int_list(v) for v in out]).reshape(-1, lanes)


@pytest.mark.parametrize("out_register", [True, False])
@pytest.mark.parametrize("lanes, window", [(1, 1), (1, 4), (4, 4), (3, 2), (8, 4)])
def test_maxpool_random_with_backpressure(rng, lanes, window, out_register):
    beats = rng.integers(0, 256, (window * 25, lanes))
    beats[:window] = 0
    beats[window:2 * window] = 255
    got = rtl_maxpool(beats, lanes, window, out_register, rng=rng, idle=0.3, stall=0.4)
    assert np.array_equal(got, maxpool_beats(beats, window))


@pytest.mark.parametrize("window", [1, 4, 9])
def test_maxpool_window_set_at_run_time(rng, window):
    """dynamic=True (the engine's): the window is set on `last` per layer, up to the largest (9)."""
    lanes = 3
    dut = MaxPool(lanes=lanes, window=9, dynamic=True)
    beats = rng.integers(0, 256, (window * 20, lanes))
    beats[:window] = 255
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    out = []

    async def producer(ctx):
        ctx.set(dut.last, window - 1)
        await put(ctx, dut.i, [b.tolist() for b in beats], rng=rng, idle=0.3)

    async def consumer(ctx):
        out.extend(await get(ctx, dut.o, len(beats) // window, rng=rng, stall=0.4))

    sim.add_testbench(producer)
    sim.add_testbench(consumer)
    sim.run()
    got = np.array([to_int_list(v) for v in out]).reshape(-1, lanes)
    assert np.array_equal(got, maxpool_beats(beats, window))


def test_maxpool_beats_matches_2d_pooling(rng):
    """The stream order a sequencer uses (each 2x2 window as four beats) gives golden maxpool."""
    x = rng.integers(0, 256, (3, 6, 8), dtype=np.uint8)  # (C, H, W)
    beats = [x[:, 2 * i + dy, 2 * j + dx] for i in range(3) for j in range(4) for dy in (0, 1) for dx in (0, 1)]
    pooled = rtl_maxpool(np.array(beats), 3, 4)
    assert np.array_equal(pooled.reshape(3, 4, 3).transpose(2, 0, 1), maxpool(x, 2))


@pytest.mark.parametrize("out_register", [True, False])
def test_maxpool_signed_sums_carry_the_last_beats_side(rng, out_register):
    """The engine's use: 32-bit signed sums pooled, each output with the side (per-lane requant
    parameters) of its window's last beat; extremes and all-negative windows included (the
    iCE40UP5K's engine without the output register)."""
    lanes, window = 3, 4
    side = data.ArrayLayout(data.StructLayout({"mult": unsigned(16), "shift": unsigned(6)}), lanes)
    beats = rng.integers(-2 ** 31, 2 ** 31, (window * 30, lanes))
    beats[:window] = -2 ** 31
    beats[window:2 * window] = rng.integers(-5, 0, (window, lanes))
    beats[2 * window:3 * window] = 2 ** 31 - 1
    sides = [[{"mult": int(rng.integers(0, 1 << 16)), "shift": int(rng.integers(0, 64))}
              for _ in range(lanes)] for _ in beats]
    items = [{"v": b.tolist(), "side": s} for b, s in zip(beats, sides)]
    out = run_stream(MaxPool(lanes=lanes, window=window, shape=signed(32), side=side, out_register=out_register), items,
                     len(beats) // window, rng=rng, idle=0.3, stall=0.4)
    assert np.array_equal(np.array([to_int_list(o.v) for o in out]), maxpool_beats(beats, window))
    want_sides = [sides[k * window + window - 1] for k in range(len(beats) // window)]
    assert [[{"mult": int(x.mult), "shift": int(x.shift)} for x in o.side] for o in out] == want_sides


def test_pooling_sums_before_requantizing_gives_the_same_bytes(rng):
    """The engine pools accumulator sums, then requantizes (golden.layer_engine.run_layer): the same
    bytes as requantizing, then pooling, because requantization never decreases."""
    acc = np.concatenate([rng.integers(-2 ** 31, 2 ** 31, (4000, 4)), rng.integers(-300, 300, (4000, 4)),
                          np.full((8, 4), 2 ** 31 - 1), np.full((8, 4), -2 ** 31)])
    mult = rng.integers(1 << 15, 1 << 16, 4)
    shift = rng.integers(1, 40, 4)
    assert np.array_equal(requantize(maxpool_beats(acc, 4), mult, shift),
                          maxpool_beats(requantize(acc, mult, shift), 4))


@pytest.mark.parametrize("make, message", [
    (lambda: MaxPool(lanes=0), "lanes must be an integer between 1 and 64"),
    (lambda: MaxPool(lanes=2, window=0), "window must be an integer between 1 and 256"),
    (lambda: Requant(acc_width=64), "acc_width must be an integer between 2 and 48"),
])
def test_bad_parameters(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_maxpool_takes_a_whole_window_while_its_result_waits():
    """With the output not read, the next window's beats are all still taken; the window after
    that waits for the output register, and nothing is lost or overwritten."""
    dut = MaxPool(lanes=1, window=4)
    taken = []

    async def bench(ctx):
        for k, v in enumerate([1, 5, 2, 3, 9, 4, 7, 6, 8]):
            ctx.set(dut.i.payload, [v])
            ctx.set(dut.i.valid, 1)
            _, _, ready = await ctx.tick().sample(dut.i.ready)
            taken.append(ready)
            if k == 8:  # the third window's first beat waits: the first result is unread
                assert not ready
                assert ctx.get(dut.o.valid) and to_int_list(ctx.get(dut.o.payload)) == [5]
                ctx.set(dut.o.ready, 1)
                _, _, ready = await ctx.tick().sample(dut.i.ready)
                assert ready  # taken as the first result is read: the second replaces it
                ctx.set(dut.i.valid, 0)
                assert to_int_list(ctx.get(dut.o.payload)) == [9] and ctx.get(dut.o.valid)
        assert taken == [True] * 8 + [False]

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
