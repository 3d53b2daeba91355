"""SystolicArray (rtl/systolic.py) against its golden twin (golden/systolic.py), Amaranth simulator."""

import numpy as np
import pytest
from amaranth.sim import Simulator

from golden.systolic import latency, systolic
from rtl.systolic import PE, SystolicArray, psum_width
from sim.streams import get, put, to_int_list


def rtl_systolic(rows, cols, x, banks, bank_sel, *, rng=None, idle=0.0, stall=0.0, cycles=None):
    """Run the array: load bank 0, stream the bank-0 vectors while loading bank 1, then the rest."""
    dut = SystolicArray(rows=rows, cols=cols)
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    state = {"bank1": False}
    results = []

    def weight_rows(b):
        return [{"data": banks[b][r].tolist(), "row": r, "bank": b} for r in range(rows)]

    async def producer(ctx):
        await put(ctx, dut.w, weight_rows(0))
        first = [i for i, b in enumerate(bank_sel) if b == 0]
        split = first[-1] + 1 if first and all(b == 0 for b in bank_sel[:first[-1] + 1]) else 0
        await put(ctx, dut.x, [{"data": x[m].tolist(), "bank": int(bank_sel[m])} for m in range(split)],
                  rng=rng, idle=idle)
        while not state["bank1"]:
            await ctx.tick()
        await put(ctx, dut.x, [{"data": x[m].tolist(), "bank": int(bank_sel[m])}
                               for m in range(split, len(x))], rng=rng, idle=idle)

    async def loader(ctx):
        await ctx.tick().repeat(rows + 1)
        await put(ctx, dut.w, weight_rows(1))
        state["bank1"] = True

    async def consumer(ctx):
        results.extend(await get(ctx, dut.y, len(x), rng=rng, stall=stall, cycles=cycles))

    sim.add_testbench(producer)
    sim.add_testbench(loader, background=True)
    sim.add_testbench(consumer)
    sim.run()
    return np.array([to_int_list(v) for v in results], np.int64).reshape(len(x), cols)


def cases(rows, cols):
    """Directed edge cases: zeros, int8/uint8 extremes, a single vector."""
    hi = np.full((3, rows), 255)
    return [
        (np.zeros((2, rows), int), np.zeros((2, rows, cols), int), [0, 1]),
        (hi, np.stack([np.full((rows, cols), 127), np.full((rows, cols), -128)]), [0, 1, 1]),
        (hi, np.stack([np.full((rows, cols), -128), np.full((rows, cols), 127)]), [0, 0, 1]),
        (np.arange(rows).reshape(1, rows) + 1, np.ones((2, rows, cols), int), [0]),
    ]


SHAPES = [(1, 1), (2, 3), (3, 2), (4, 4), (1, 8), (8, 2)]


@pytest.mark.parametrize("rows, cols", SHAPES)
def test_edge_cases(rows, cols):
    for x, banks, sel in cases(rows, cols):
        assert np.array_equal(rtl_systolic(rows, cols, x, banks, sel), systolic(x, banks, sel))


@pytest.mark.parametrize("rows, cols", SHAPES)
def test_random_with_gaps_and_backpressure(rows, cols, rng):
    m = 40
    x = rng.integers(0, 256, (m, rows))
    banks = rng.integers(-128, 128, (2, rows, cols))
    sel = np.r_[np.zeros(m // 2, int), np.ones(m - m // 2, int)]
    got = rtl_systolic(rows, cols, x, banks, sel, rng=rng, idle=0.3, stall=0.3)
    want = systolic(x, banks, sel)
    assert np.array_equal(got, want), f"\nrtl\n{got}\ngolden\n{want}"


@pytest.mark.parametrize("rows, cols", [(2, 3), (4, 4)])
def test_throughput_and_latency(rows, cols, rng):
    """Without gaps or stalls: one result per cycle, the first after rows + cols cycles (skew, partial-sum chain, product register)."""
    m = 30
    x = rng.integers(0, 256, (m, rows))
    banks = rng.integers(-128, 128, (2, rows, cols))
    cycles = []
    got = rtl_systolic(rows, cols, x, banks, np.zeros(m, int), cycles=cycles)
    assert np.array_equal(got, systolic(x, banks, np.zeros(m, int)))
    assert np.diff(cycles).tolist() == [1] * (m - 1)
    # weight beats take ticks 1..rows, the first vector's handshake is tick rows + 1
    assert cycles[0] == rows + 1 + latency(rows, cols)


@pytest.mark.parametrize("kwargs, message", [
    (dict(rows=0, cols=4), "rows must be an integer between 1 and 64, not 0"),
    (dict(rows=4, cols=65), "cols must be an integer between 1 and 64, not 65"),
    (dict(rows=2, cols=2, acc_width=8), "acc_width must be an integer of at least 18"),
])
def test_bad_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SystolicArray(**kwargs)
    with pytest.raises(ValueError, match="acc_width"):
        PE(acc_width=4)


def test_pe_against_its_arithmetic(rng):
    """One PE: when enabled, product <= a_in * w[bank_in] and p_out <= p_in + product (the product
    of the previous enabled cycle); both held otherwise; writes ignore en."""
    dut = PE(acc_width=32)
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    steps = [dict(en=int(rng.random() < 0.8), a=int(rng.integers(0, 256)), bank=int(rng.integers(0, 2)),
                  p=int(rng.integers(-2 ** 24, 2 ** 24)), we=int(rng.random() < 0.3),
                  wb=int(rng.integers(0, 2)), wd=int(rng.integers(-128, 128))) for _ in range(300)]
    steps[:4] = [dict(en=0, a=0, bank=0, p=0, we=1, wb=0, wd=-128), dict(en=0, a=0, bank=0, p=0, we=1, wb=1, wd=127),
                 dict(en=1, a=255, bank=0, p=-2 ** 31 + 40000, we=0, wb=0, wd=0),
                 dict(en=1, a=255, bank=1, p=2 ** 31 - 40000, we=0, wb=0, wd=0)]

    async def bench(ctx):
        w = [0, 0]
        p_out = product = 0
        for s in steps:
            ctx.set(dut.en, s["en"])
            ctx.set(dut.a_in, s["a"])
            ctx.set(dut.bank_in, s["bank"])
            ctx.set(dut.p_in, s["p"])
            ctx.set(dut.w_we, s["we"])
            ctx.set(dut.w_bank, s["wb"])
            ctx.set(dut.w_data, s["wd"])
            if s["en"]:
                p_out, product = s["p"] + product, s["a"] * w[s["bank"]]
            if s["we"]:
                w[s["wb"]] = s["wd"]
            await ctx.tick()
            assert ctx.get(dut.p_out) == p_out
            if s["en"]:
                assert ctx.get(dut.a_out) == s["a"] and ctx.get(dut.bank_out) == s["bank"]

    sim.add_testbench(bench)
    sim.run()


def test_partial_sums_hold_their_rows_extremes():
    """Each row keeps its partial sums in psum_width bits: the extremes of row + 1 products fit."""
    for row in range(64):
        w = psum_width(row, 64)
        assert -(row + 1) * 128 * 255 >= -(1 << (w - 1)) and (row + 1) * 127 * 255 < 1 << (w - 1)
        assert psum_width(row, 18) == 18
