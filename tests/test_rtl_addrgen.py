"""AddrGen (rtl/addrgen.py) against golden/addrgen.py on every layer of real programs."""

import numpy as np
import pytest
from amaranth.sim import Simulator

from golden import addrgen
from golden import layer_engine as LE
from rtl.addrgen import AddrGen
from sim.streams import get


def rtl_addrgen(d, *, rng=None, stall=0.0, held=False, pipelined=True):
    dut = AddrGen(held=held, pipelined=pipelined)
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    n = len(addrgen.stream(d))
    out = []

    async def bench(ctx):
        ctx.set(dut.desc, {f: getattr(d, f) for f in addrgen.Descriptor.__dataclass_fields__})
        ctx.set(dut.start, 1)
        await ctx.tick()
        ctx.set(dut.start, 0)
        out.extend(await get(ctx, dut.o, n, rng=rng, stall=stall))
        for _ in range(3):
            await ctx.tick()
            assert not ctx.get(dut.busy) and not ctx.get(dut.o.valid)

    sim.add_testbench(bench)
    sim.run()
    return np.array([[int(getattr(b, f)) for f in addrgen.FIELDS] for b in out], np.int64)


def layer_cases(int_model):
    """Every layer of the default network for several array shapes and chunk sizes."""
    out = []
    for rows, cols, depth in ((4, 4, 256), (2, 3, 64), (8, 8, 128), (4, 4, 4)):
        prog = LE.compile_program(int_model, 3, rows, cols, acc_depth=depth)
        for op in prog.layers:
            out.append(addrgen.Descriptor.of(op, base=7 * op.index))
    return out


@pytest.mark.parametrize("held, pipelined", [(False, True), (True, True), (True, False)],
                         ids=["latched", "held", "held-unpipelined"])
def test_tiny_layer_edge_cases(held, pipelined):
    """A 2x2 input without padding, a 1x1 kernel with pool 1, a chunk of one pool window, pool 3
    (both bits of the 2-bit pool side); the descriptor latched, or held by the testbench; the
    ECP5's six-stage pipeline or the UP5K's five."""
    for d in (addrgen.Descriptor(0, 2, 2, 1, 1, 1, 0, 0, 1, 2, 2, 1, 4),
              addrgen.Descriptor(3, 4, 4, 2, 3, 3, 1, 1, 2, 2, 2, 2, 4),
              addrgen.Descriptor(0, 3, 5, 1, 3, 1, 1, 0, 1, 3, 5, 3, 15),
              addrgen.Descriptor(5, 7, 6, 1, 3, 3, 1, 1, 3, 2, 2, 1, 18)):
        assert np.array_equal(rtl_addrgen(d, held=held, pipelined=pipelined), addrgen.stream(d))


@pytest.mark.parametrize("pipelined", [True, False], ids=["pipelined", "unpipelined"])
def test_real_layers_with_backpressure(int_model, rng, pipelined):
    cases = layer_cases(int_model)
    # the full streams are long; check the two smallest layers completely, the others' first beats
    for d in sorted(cases, key=lambda d: len(addrgen.stream(d)))[:3]:
        got = rtl_addrgen(d, rng=rng, stall=0.3, pipelined=pipelined)
        assert np.array_equal(got, addrgen.stream(d))


@pytest.mark.slow
def test_every_layer_complete(int_model):
    for d in layer_cases(int_model):
        assert np.array_equal(rtl_addrgen(d), addrgen.stream(d))


def test_golden_stream_matches_layer_engine_gather(int_model):
    """The address stream is the one the golden layer engine's gather uses (same schedule)."""
    prog = LE.compile_program(int_model, 2, 4, 4, acc_depth=64)
    op = prog.layers[1]
    d = addrgen.Descriptor.of(op)
    s = addrgen.stream(d)
    order = op.pixel_order
    first, count = op.chunks[1]
    tap_index = 5
    # n_tile 0: chunk 0's passes, then chunk 1's passes of taps 0..4, then tap 5
    start = len(op.taps) * op.chunks[0][1] + tap_index * count
    for i in range(count):
        addr, zero = addrgen.address(d, *order[first + i], op.taps[tap_index])
        assert s[start + i, 0] == addr and s[start + i, 1] == zero
