"""PacketReceiver RTL against golden/receiver.py: the requests for a line of good, corrupt,
oversized, truncated and empty packets and garbage, with random gaps between bytes and an executor
that answers each request after a random delay."""

import zlib

import pytest
from amaranth.sim import Simulator

from golden import link as L
from golden.receiver import requests
from rtl.receiver import NAK_CODE, PacketReceiver, Refused
from sim.streams import put

BUFFER = 64


def line_parts(rng):
    def payload(n):
        return bytes(rng.integers(0, 256, n).astype("uint8"))

    corrupt = bytearray(L.packet(L.SETTINGS, 7, payload(12)))
    corrupt[8] ^= 0x40  # a payload byte: the CRC no longer matches
    parts = [b"\x00\x13garbage\xff" + L.packet(L.IDENT, 1),
             L.packet(L.FRAME, 2, payload(BUFFER)),  # as long as the buffer holds
             bytes(corrupt) + L.packet(L.COUNTERS, 255),
             bytes([L.SYNC, L.FRAME, 3]) + (BUFFER + 1).to_bytes(2, "big") + payload(5),  # too long
             L.packet(L.LOAD_MEM, 4, payload(20))[:11],  # truncated: the line goes idle
             bytes([L.SYNC, 0x42]),  # truncated in its header
             L.packet(L.LEVEL_TABLE, 5, b"\xA5" * 9),  # SYNC bytes inside a payload
             L.packet(L.SETTINGS, 8, payload(30)) + L.packet(L.CODE_TABLE, 9, payload(40))]  # back to back
    for k in range(1, 5):  # each byte of the CRC itself wrong in turn (the bytes are compared one by one)
        bad = bytearray(L.packet(L.FRAME, 10 + k, payload(k)))
        bad[-k] ^= 1 << k
        parts.append(bytes(bad) + L.packet(L.IDENT, 20 + k))
    parts += [L.packet(int(rng.integers(0, 256)), int(rng.integers(0, 256)), payload(int(rng.integers(0, BUFFER + 1))))
              for _ in range(6)]
    return parts


@pytest.mark.parametrize("serial", [False, True], ids=["parallel-crc", "serial-crc"])
def test_requests_match_golden(serial, rng):
    parts = line_parts(rng)
    assert zlib.crc32(b"") == 0  # (the golden CRC is zlib's)
    dut = PacketReceiver(buffer_bytes=BUFFER, serial=serial)
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    buf = {}
    got = []

    async def line(ctx):
        for part in parts:
            await put(ctx, dut.i, list(part), rng=rng, idle=0.3)
            await ctx.tick().repeat(40)  # a complete packet has been answered; then the line idles
            ctx.set(dut.timed_out, 1)
            await ctx.tick()
            ctx.set(dut.timed_out, 0)
        await ctx.tick().repeat(40)

    async def memory(ctx):
        async for _, _, en, addr, d, pending in ctx.tick().sample(dut.w_en, dut.w_addr, dut.w_data, dut.req.valid):
            assert not (en and pending)  # nothing is written while a request waits for its answer
            if en:
                buf[int(addr)] = int(d)

    async def executor(ctx):
        while True:
            await ctx.tick()
            if not ctx.get(dut.req.valid):
                continue
            r = ctx.get(dut.req.payload)
            why = Refused(r.refused)
            if why == Refused.NONE:
                got.append((r.type, r.tag, bytes(buf[i] for i in range(r.length)), None))
            else:
                got.append((r.type if why == Refused.BAD_LENGTH else None, None, None, NAK_CODE[why]))
            for _ in range(int(rng.integers(1, 10))):  # the request holds until it is answered
                await ctx.tick()
                assert ctx.get(dut.req.valid) and ctx.get(dut.req.payload) == r
            ctx.set(dut.req.ready, 1)
            await ctx.tick()
            ctx.set(dut.req.ready, 0)

    sim.add_testbench(line)
    sim.add_testbench(memory, background=True)
    sim.add_testbench(executor, background=True)
    sim.run()
    want = requests(parts, BUFFER)
    assert [w[3] for w in want].count(L.TIMEOUT) == 2 and [w[3] for w in want].count(L.BAD_CRC) == 5
    assert got == want
