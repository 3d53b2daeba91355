"""Codec RTL blocks in the Amaranth simulator against their golden twins: zero-run coder
(golden.rle), Huffman coder (golden.huffman), bit packer (golden.bitpack), framer (golden.frame) and
the whole codec (golden.codec). Every test runs with random input gaps and output stalls."""

import numpy as np
import pytest
from amaranth.sim import Simulator

from golden import bitpack, rle
from golden import frame as F
from golden.codec import device_settings
from golden.huffman import HuffmanCode, code_ram
from golden.tables import CodecTable
from rtl.bitpack import BitPacker, SerialBitPacker
from rtl.codec import Codec
from rtl.frame import Framer
from rtl.huffman import HuffmanCoder, SerialHuffmanCoder
from rtl.rle import ZeroRunCoder
from sim.streams import get, put


def _run(dut, producers, consumer):
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    for p in producers:
        sim.add_testbench(p)
    out = []

    async def collect(ctx):
        out.extend(await consumer(ctx))

    sim.add_testbench(collect)
    sim.run()
    return out


async def get_until(ctx, stream, flag, count, rng):
    """Beats of ``stream`` (30% stalls) until ``count`` of them had ``flag`` set."""
    out, seen = [], 0
    while seen < count:
        (b,) = await get(ctx, stream, 1, rng=rng, stall=0.3)
        out.append(b)
        seen += int(getattr(b, flag))
    return out


def level_frames(rng):
    """Level tensors covering the run-length coder's edge cases."""
    n = 700
    frames = [
        np.zeros(n, np.int64),  # 100% zeros: EOB only
        np.full(n, 255),  # all maximum
        np.array([0]), np.array([7]),  # single element
        np.zeros(rle.LONGRUN_LEN, np.int64),  # exactly one LONGRUN then EOB
        np.r_[np.zeros(rle.LONGRUN_LEN - 1, np.int64), 3],  # the longest pair run (16383)
        np.r_[np.zeros(2 * rle.LONGRUN_LEN + 5, np.int64), 1, 0, 0],  # LONGRUNs before a pair
    ]
    for density in (0.5, 0.1, 0.02):
        x = rng.integers(1, 256, n) * (rng.random(n) < density)
        frames.append(x)
    return frames


def golden_items(levels):
    sym, ev, el = rle.items(levels)
    return list(zip(sym.tolist(), ev.tolist(), el.tolist()))


def rtl_items(beats):
    """Flatten item beats into golden's item list (the EOB flag becomes an EOB item)."""
    out = []
    for b in beats:
        if b.item:
            out.append((int(b.sym), int(b.extra), int(b.nextra)))
        if b.eob:
            out.append((rle.EOB, 0, 0))
    return out


@pytest.mark.parametrize("registered", [True, False])
def test_zero_run_coder_items(rng, registered):
    frames = level_frames(rng)
    dut = ZeroRunCoder(registered=registered)
    want = [golden_items(f) for f in frames]
    elements = [{"data": int(v), "first": k == 0, "last": k == len(f) - 1}
                for f in frames for k, v in enumerate(f)]

    async def producer(ctx):
        await put(ctx, dut.i, elements, rng=rng, idle=0.2)

    async def consumer(ctx):
        # beats: a pair or LONGRUN each, the EOB alone only when the last element completes no item
        return await get_until(ctx, dut.o, "eob", len(frames), rng)

    beats = _run(dut, [producer], consumer)
    got, cur = [], []
    for b in beats:
        cur.extend(rtl_items([b]))
        if b.eob:
            got.append(cur)
            cur = []
    assert got == want


@pytest.mark.parametrize("registered", [True, False])
def test_zero_run_coder_one_element_per_cycle(registered):
    """With the output always ready a level is taken every cycle, whatever it codes to."""
    dut = ZeroRunCoder(registered=registered)
    x = np.tile([0, 0, 5, 255, 0, 1], 50)
    elements = [{"data": int(v), "first": k == 0, "last": k == len(x) - 1} for k, v in enumerate(x)]
    cycles = []
    n_beats = len(rle.items(x)[0]) - 1  # EOB rides on the final element's beat (x ends in 1)

    async def producer(ctx):
        await put(ctx, dut.i, elements)

    async def consumer(ctx):
        return await get(ctx, dut.o, n_beats, cycles=cycles)

    beats = _run(dut, [producer], consumer)
    assert rtl_items(beats) == golden_items(x)
    # 300 elements, 200 items: the last beat leaves one cycle after the last element enters
    assert cycles[-1] <= len(x) + 2


def _table(rng, bits):
    freqs = rng.integers(0, 1000, rle.NUM_SYMBOLS) + rle.valid_symbols(bits)
    from golden.huffman import limited_lengths

    return tuple(int(v) for v in limited_lengths(freqs * rle.valid_symbols(bits), 16))


@pytest.mark.parametrize("coder", [HuffmanCoder, SerialHuffmanCoder])
def test_huffman_coder_with_table_reload(rng, coder):
    """Three payloads, a new code table before each: every payload's strings pack to golden's
    bits, ``last`` on its final string only. The parallel coder sends a string an item (the EOB
    code appended to the last), the serial one the code, the refinement bits and the EOB code as
    strings of their own (none longer than 20 bits)."""
    dut = coder()
    cases = []
    for bits, n in ((8, 600), (2, 400), (5, 300)):  # a new code table before each frame
        lengths = _table(rng, bits)
        levels = rng.integers(0, 1 << bits, n) * (rng.random(n) < 0.4)
        cases.append((lengths, levels))
    out = []

    async def producer(ctx):
        for k, (lengths, levels) in enumerate(cases):
            await put(ctx, dut.table_w, [{"addr": s, "code": c, "len": n}
                                         for s, (c, n) in enumerate(code_ram(lengths))])
            sym, ev, el = rle.items(levels)
            beats = [{"item": 1, "sym": int(s), "extra": int(v), "nextra": int(e), "eob": 0}
                     for s, v, e in zip(sym[:-1], ev[:-1], el[:-1])]
            beats[-1]["eob"] = 1
            await put(ctx, dut.i, beats, rng=rng, idle=0.2)
            while sum(int(b.last) for b in out) < k + 1:  # the payload out before the next table
                await ctx.tick()

    async def consumer(ctx):
        while sum(int(b.last) for b in out) < len(cases):
            out.extend(await get(ctx, dut.o, 1, rng=rng, stall=0.3))
        return []

    _run(dut, [producer], consumer)
    k = 0
    for lengths, levels in cases:
        code = HuffmanCode(lengths)
        sym, ev, el = rle.items(levels)
        v, n = np.zeros(2 * len(sym), np.uint64), np.zeros(2 * len(sym), np.int64)
        v[0::2], v[1::2] = code.codes[sym], ev  # each item's code, then its refinement bits
        n[0::2], n[1::2] = code.lengths[sym], el
        want = bitpack.pack(v, n)
        end = next(j for j in range(k, len(out)) if out[j].last) + 1
        got = out[k:end]
        k = end
        assert bitpack.pack([int(b.value) for b in got], [int(b.n) for b in got]) == want
        if coder is HuffmanCoder:
            want_v = ((code.codes[sym] << el) | ev).tolist()
            want_n = (code.lengths[sym] + el).tolist()
            # the final item carries the EOB code after its own bits
            want_v[-2] = (want_v[-2] << int(want_n[-1])) | want_v[-1]
            want_n[-2] += want_n[-1]
            assert [int(b.value) for b in got] == want_v[:-1]
            assert [int(b.n) for b in got] == want_n[:-1]
        else:
            assert max(int(b.n) for b in got) <= 20
    assert k == len(out)


def test_huffman_loader_refuses_malformed_tables():
    from golden.errors import TableError

    with pytest.raises(TableError, match="Kraft"):
        code_ram([1] * rle.NUM_SYMBOLS)
    with pytest.raises(TableError, match="end-of-block"):
        code_ram([0] * rle.NUM_SYMBOLS)
    with pytest.raises(TableError, match="210 code lengths"):
        code_ram([1, 1])


def _packer_case(rng, n_strings, max_n):
    n = rng.integers(1, max_n + 1, n_strings)
    v = np.array([int(rng.integers(0, 1 << int(k))) for k in n], np.uint64)
    return v, n


@pytest.mark.parametrize("packer", [BitPacker, SerialBitPacker])
@pytest.mark.parametrize("idle", [0.3, 0.0])
def test_bit_packer_words(rng, idle, packer):
    """Payloads of random strings (up to 52 bits, single bits, bytes, one word exactly) back to
    back: each payload's bytes exactly, its last word short and marked; with idle 0 a payload's
    first string follows the last one of the payload before in the next cycle."""
    dut = packer()
    payloads = [_packer_case(rng, 300, 52), _packer_case(rng, 1, 1), _packer_case(rng, 64, 8),
                (np.array([0xFFFFFFFF], np.uint64), np.array([32]))]

    async def producer(ctx):
        for v, n in payloads:
            await put(ctx, dut.i, [{"value": int(a), "n": int(b), "last": k == len(v) - 1}
                                   for k, (a, b) in enumerate(zip(v, n))], rng=rng, idle=idle)

    async def consumer(ctx):
        return await get_until(ctx, dut.o, "last", len(payloads), rng)

    words = _run(dut, [producer], consumer)
    k = 0
    for v, n in payloads:
        want = bitpack.pack(v, n)
        got = b""
        while True:
            w = words[k]
            k += 1
            got += int(w.data).to_bytes(4, "big")[:int(w.nbytes)]
            assert int(w.nbytes) == 4 or w.last
            if w.last:
                break
        assert got == want


def test_bit_packer_absorbs_32_bits_a_cycle():
    """Strings of 32 bits (and a 52-bit burst) every cycle, output always ready: never a stall."""
    dut = BitPacker()
    n = np.array([32] * 40 + [52] + [12] * 40)
    v = np.array([(0x9E3779B9 * (i + 1)) % (1 << int(b)) for i, b in enumerate(n)], np.uint64)
    in_cycles = []

    async def producer(ctx):
        for k, (a, b) in enumerate(zip(v, n)):
            ctx.set(dut.i.payload, {"value": int(a), "n": int(b), "last": k == len(v) - 1})
            ctx.set(dut.i.valid, 1)
            _, _, ready = await ctx.tick().sample(dut.i.ready)
            assert ready, f"stalled at string {k}"
            in_cycles.append(k)
        ctx.set(dut.i.valid, 0)

    async def consumer(ctx):
        total = (int(n.sum()) + 31) // 32
        return await get(ctx, dut.o, total)

    words = _run(dut, [producer], consumer)
    got = b"".join(int(w.data).to_bytes(4, "big")[:int(w.nbytes)] for w in words)
    assert got == bitpack.pack(v, n)


def _header(rng):
    return F.FrameHeader(int(rng.integers(1, 256)), int(rng.integers(1, 9)), int(rng.integers(1, 256)),
                         ["uniform", "ecsq"][int(rng.integers(2))],
                         tuple(int(x) for x in rng.integers(1, 65536, 3)), int(rng.integers(0, 1 << 32)),
                         int(rng.integers(0, 256)))


@pytest.mark.parametrize("serial_crc, header_ram", [(False, False), (True, False), (True, True)],
                         ids=["crc-parallel", "crc-serial", "crc-serial-header-ram"])
def test_framer_frames(rng, serial_crc, header_ram):
    import struct
    import zlib

    dut = Framer(serial_crc=serial_crc, header_ram=header_ram)
    cases = []
    for nbytes in (1, 3, 4, 5, 37, 200):
        h = _header(rng)
        cases.append((h, rng.integers(0, 256, nbytes).astype(np.uint8).tobytes()))

    def fields(h):
        return {"ecsq": int(h.mode == "ecsq"), "split": h.split, "bits": h.bits, "clip": h.clip, "seq": h.seq,
                "c": h.shape[0], "h": h.shape[1], "w": h.shape[2], "table_id": h.table_id}

    async def headers(ctx):
        if not header_ram:
            await put(ctx, dut.header, [fields(h) for h, _ in cases], rng=rng, idle=0.3)
            return
        for h, _ in cases:  # the SETTINGS payload's bytes into the RAM, held until the header is taken
            f = fields(h)
            ram = struct.pack(">BBBBBHHHI", *(f[k] for k in ("ecsq", "split", "bits", "clip", "seq", "c", "h", "w",
                                                            "table_id")))
            for addr, byte in enumerate(ram):
                ctx.set(dut.header_w.payload, {"addr": addr, "data": byte})
                ctx.set(dut.header_w.valid, 1)
                await ctx.tick()
            ctx.set(dut.header_w.valid, 0)
            # only the flags and the sequence number are read from the header stream
            await put(ctx, dut.header, [{"ecsq": f["ecsq"], "seq": f["seq"]}], rng=rng, idle=0.3)

    async def payloads(ctx):
        words = []
        for _, p in cases:
            chunks = [p[i:i + 4] for i in range(0, len(p), 4)]
            words += [{"data": int.from_bytes(c.ljust(4, b"\0"), "big"), "nbytes": len(c),
                       "last": i == len(chunks) - 1} for i, c in enumerate(chunks)]
        await put(ctx, dut.payload, words, rng=rng, idle=0.3)

    async def consumer(ctx):
        total = sum(F.OVERHEAD + len(p) for _, p in cases)
        return await get(ctx, dut.o, total, rng=rng, stall=0.3)

    out = _run(dut, [headers, payloads], consumer)
    k = 0
    for h, p in cases:
        body = h.pack() + p + struct.pack(">I", len(p))
        want = body + struct.pack(">I", zlib.crc32(body))
        got = out[k:k + len(want)]
        k += len(want)
        assert bytes(int(b.data) for b in got) == want
        assert [int(b.first) for b in got] == [1] + [0] * (len(want) - 1)
        assert [int(b.last) for b in got] == [0] * (len(want) - 1) + [1]


def codec_cases(rng, tables):
    """(DeviceSettings, uint8 features) pairs: both modes, several bit widths and densities."""
    cases = []
    for i, t in enumerate(tables):
        shape = (int(rng.integers(1, 5)), int(rng.integers(1, 12)), int(rng.integers(1, 12)))
        n = int(np.prod(shape))
        density = (0.0, 0.5, 0.9, 1.0)[i % 4]
        x = (rng.integers(1, 256, shape) * (rng.random(shape) < 1 - density)).astype(np.uint8)
        clip = t.clip if t.mode == "uniform" else 255
        cases.append((device_settings(t, clip, t.split, shape, seq=i), x))
        assert n == cases[-1][0].settings["count"]
    return cases


def run_codec(cases, *, rng=None, idle=0.0, stall=0.0, serial=False):
    """Frames from :class:`rtl.codec.Codec` in the Amaranth simulator: a list of byte strings."""
    dut = Codec(payload_words=8, serial=serial)

    async def producer(ctx):
        for ds, x in cases:
            ctx.set(dut.settings, ds.settings)
            await put(ctx, dut.code_w, [{"addr": s, "code": c, "len": n}
                                        for s, (c, n) in enumerate(ds.code_words)])
            await put(ctx, dut.level_w, [{"addr": a, "level": v} for a, v in enumerate(ds.level_table)])
            await put(ctx, dut.i, [int(v) for v in x.reshape(-1)], rng=rng, idle=idle)
            # tables may change only once this frame is out: wait for its last byte
            while ctx.get(dut.frames) < len(done) + 1:
                await ctx.tick()
            done.append(1)

    done = []

    async def consumer(ctx):
        frames, cur = [], b""
        while len(frames) < len(cases):
            (b,) = await get(ctx, dut.o, 1, rng=rng, stall=stall)
            cur += bytes([int(b.data)])
            if b.last:
                frames.append(cur)
                cur = b""
        return frames

    return _run(dut, [producer], consumer)


@pytest.mark.parametrize("serial", [False, True], ids=["parallel", "serial"])
def test_codec_frames_match_golden(rng, serial):
    from golden import quantizer as Q

    tables = []
    for bits in (1, 3, 8):
        lengths = _table(rng, bits)
        tables.append(CodecTable(split=3, bits=bits, mode="uniform", clip=int(rng.integers(1, 256)),
                                 lengths=lengths))
        hist = np.bincount(rng.integers(0, 256, 4000), minlength=256).astype(float)
        thr, rec, _, _ = Q.design_ecsq(hist, bits, 2.0)
        tables.append(CodecTable(split=2, bits=bits, mode="ecsq", clip=255, lengths=lengths,
                                 thresholds=tuple(int(v) for v in thr), recon=tuple(float(r) for r in rec)))
    cases = codec_cases(rng, tables)
    frames = run_codec(cases, rng=rng, idle=0.2, stall=0.3, serial=serial)
    for (ds, x), got in zip(cases, frames):
        t = next(t for t in tables if t.table_id == ds.header.table_id)
        want = F.encode(t.quantize(x, ds.header.clip), ds.header, t.code)
        assert got == want


def test_skid_buffer_is_identity_under_backpressure(rng):
    from amaranth import unsigned

    from golden.skid import skid
    from rtl.skid import SkidBuffer

    dut = SkidBuffer(unsigned(16))
    beats = [int(v) for v in rng.integers(0, 1 << 16, 500)]

    async def producer(ctx):
        await put(ctx, dut.i, beats, rng=rng, idle=0.3)

    async def consumer(ctx):
        return await get(ctx, dut.o, len(beats), rng=rng, stall=0.3)

    assert [int(b) for b in _run(dut, [producer], consumer)] == skid(beats)
    # with the output always ready it passes a beat every cycle
    dut = SkidBuffer(unsigned(16))
    cycles = []

    async def producer2(ctx):
        await put(ctx, dut.i, beats)

    async def consumer2(ctx):
        return await get(ctx, dut.o, len(beats), cycles=cycles)

    assert [int(b) for b in _run(dut, [producer2], consumer2)] == beats
    assert cycles[-1] - cycles[0] == len(beats) - 1
