"""PacketSender RTL against golden/sender.py: replies with empty, short and chunk-sized payloads,
heads and payload bytes with random gaps, the line with random backpressure."""

import pytest
from amaranth.sim import Simulator

from golden import link as L
from golden.sender import send
from rtl.sender import PacketSender
from sim.streams import get, put


@pytest.mark.parametrize("serial, held", [(False, False), (True, False), (True, True)],
                         ids=["parallel-crc", "serial-crc", "serial-crc-held-head"])
def test_packets_match_golden(serial, held, rng):
    replies = [(L.IDENT | 0x80, 1, bytes(range(20))), (L.NAK, 0, bytes([L.BAD_CRC, 0])), (L.FRAME | 0x80, 255, b""),
               (L.DATA, 7, b"\xA5" * L.CHUNK)]
    replies += [(int(rng.integers(0, 256)), int(rng.integers(0, 256)),
                 bytes(rng.integers(0, 256, int(rng.integers(0, 80))).astype("uint8"))) for _ in range(8)]
    want = send(replies)
    dut = PacketSender(serial=serial, held_head=held)
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    got = []

    async def heads(ctx):
        items = [{"type": t, "tag": tag, "length": len(p)} for t, tag, p in replies]
        if not held:
            await put(ctx, dut.head, items, rng=rng, idle=0.5)
            return
        for item in items:  # as the executor does: a head set only while no packet is sent, held
            while ctx.get(dut.busy) or rng.random() < 0.5:
                await ctx.tick()
            ctx.set(dut.head.payload, item)
            ctx.set(dut.head.valid, 1)
            await ctx.tick()
            ctx.set(dut.head.valid, 0)
            await ctx.tick()

    async def body(ctx):
        await put(ctx, dut.body, [b for _, _, p in replies for b in p], rng=rng, idle=0.3)

    async def line(ctx):
        got.extend(await get(ctx, dut.o, len(want), rng=rng, stall=0.4))
        await ctx.tick().repeat(10)
        assert not ctx.get(dut.busy) and not ctx.get(dut.o.valid)  # nothing more is sent

    async def busy(ctx):  # busy from the cycle after a head is taken until its last byte has gone
        took = False
        async for _, _, hv, hr, ov, br in ctx.tick().sample(dut.head.valid, dut.head.ready, dut.o.valid, dut.busy):
            assert (br or not ov) and not (br and hr) and (br or not took)
            took = bool(hv and hr)

    sim.add_testbench(heads, background=True)
    sim.add_testbench(busy, background=True)
    sim.add_testbench(body, background=True)
    sim.add_testbench(line)
    sim.run()
    assert bytes(int(b) for b in got) == want
