"""UART RTL against golden/uart.py: bytes through the line and back, with gaps and backpressure."""

import pytest
from amaranth.sim import Simulator

from golden.uart import deserialize, serialize
from rtl.uart import UARTRx, UARTTx
from sim.streams import get, put, run


@pytest.mark.parametrize("divisor", [4, 12, 13])
def test_tx_line_matches_golden(divisor, rng):
    data = bytes([0x00, 0xFF, 0xA5, 0x5A]) + bytes(rng.integers(0, 256, 20).astype("uint8"))
    dut = UARTTx(divisor)
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    line = []

    async def producer(ctx):
        await put(ctx, dut.i, list(data), rng=rng, idle=0.3)
        await ctx.tick().repeat(12 * divisor)  # the last byte leaves the line

    async def monitor(ctx):
        async for _, _, tx in ctx.tick().sample(dut.tx):
            line.append(int(tx))

    sim.add_testbench(producer)
    sim.add_testbench(monitor, background=True)
    sim.run()
    assert deserialize(line, divisor) == data
    first = line.index(0)  # back-to-back bytes: the line is exactly the golden serialization
    assert line[first:first + 10 * divisor] == serialize(data[:1], divisor)


@pytest.mark.parametrize("divisor", [4, 12])
def test_rx_bytes_match_golden(divisor, rng):
    data = bytes([0x00, 0xFF, 0xA5]) + bytes(rng.integers(0, 256, 30).astype("uint8"))
    levels = [1] * 5 + serialize(data[:10], divisor) + serialize(data[10:], divisor, gap=3) + [1] * 20
    # a byte with a broken stop bit is dropped and counted
    bad = serialize(b"\x42", divisor)
    bad[-divisor:] = [0] * divisor
    levels += bad + [1] * (3 * divisor) + serialize(b"\x17", divisor) + [1] * 20
    dut = UARTRx(divisor)
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    got = []

    async def line(ctx):
        for v in levels:
            ctx.set(dut.rx, v)
            await ctx.tick()

    async def consumer(ctx):
        while True:
            got.extend(await get(ctx, dut.o, 1, rng=rng, stall=0.3))

    sim.add_testbench(line)
    sim.add_testbench(consumer, background=True)
    sim.run()
    assert bytes(int(b) for b in got) == data + b"\x17"
    assert deserialize(levels, divisor) == data + b"\x17"


def test_rx_idle_counts_from_the_last_byte_and_saturates_at_its_limit():
    """``idle`` counts the cycles since the last byte, is cleared by a byte, and stops at
    ``max_idle`` (the SoC's timeout), so its counter is no wider than the timeout needs."""
    dut = UARTRx(4, max_idle=50)
    assert len(dut.idle) == 6
    levels = [1] * 80 + serialize(b"\x5a", 4) + [1] * 30 + [1] * 60
    seen = []

    async def line(ctx):
        for v in levels:
            ctx.set(dut.rx, v)
            ctx.set(dut.o.ready, 1)
            await ctx.tick()
            seen.append(ctx.get(dut.idle))

    run(dut, line)
    assert seen[78] == 50 and max(seen) == 50  # saturated before the byte
    after = seen[80:]
    zero = after.index(0)  # cleared as the byte is received
    assert after[zero + 10] == 10 and after[-1] == 50
