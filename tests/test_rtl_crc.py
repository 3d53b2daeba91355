"""The bit-serial CRC-32 (rtl._crc) against its golden twin, zlib's crc32."""

import zlib

from amaranth.sim import Simulator

from rtl._crc import SerialCRC32


def test_serial_crc32_matches_zlib(rng):
    """Messages of 1 to 300 random bytes (and all-zero, all-ones), back to back and with random
    gaps between bytes: the CRC once ``busy`` falls after the last byte is zlib's; a byte offered
    while busy is not taken."""
    msgs = [bytes([0]), bytes([0xFF] * 4), bytes(64)]
    msgs += [rng.integers(0, 256, int(n)).astype("uint8").tobytes() for n in rng.integers(1, 301, 12)]
    dut = SerialCRC32()
    got = []

    async def tb(ctx):
        for msg in msgs:
            for i, b in enumerate(msg):
                ctx.set(dut.data, int(b))
                ctx.set(dut.start, i == 0)
                ctx.set(dut.valid, 1)
                while True:  # offered at once, held while busy
                    busy = ctx.get(dut.busy)
                    await ctx.tick()
                    if not busy:
                        break
                ctx.set(dut.valid, 0)
                ctx.set(dut.start, 0)
                for _ in range(int(rng.integers(0, 3))):
                    await ctx.tick()
            while ctx.get(dut.busy):
                await ctx.tick()
            got.append(ctx.get(dut.crc))

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(tb)
    sim.run()
    assert got == [zlib.crc32(m) for m in msgs]
