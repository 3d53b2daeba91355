"""TableCheck (rtl/table_check.py) against golden.table_check, Amaranth simulator: the code table
verdict of real tables and of tables broken each way (a length past 16, a word flipped, a symbol
that can occur without a code, over-subscribed, a word on an unused symbol, a missing end of
block), then the table id of real and seeded level tables in both modes at every ``bits``, a level
never reached among them."""

import random

from amaranth import Module
from amaranth.sim import Simulator

from golden import huffman, rle
from golden import link as L
from golden import table_check as T
from golden.codec import Codec
from golden.config import Config
from rtl.bram import RegisteredRAM
from rtl.table_check import TableCheck


def real_tables():
    out = []
    for cfg in (Config(), Config(bits=4, quantizer="ecsq"), Config(bits=6, quantizer="ecsq")):
        ds = Codec.for_config(cfg).device_settings(cfg, cfg.spec.shape_after(cfg.split), seq=0)
        out.append(([tuple(w) for w in ds.code_words], list(ds.level_table), ds.settings["header"]))
    return out


def canonical(lengths):
    """The canonical code of ``lengths``, kept to 16 bits where it over-subscribes."""
    return [(c & 0xFFFF, n) for c, n in zip(huffman.canonical_codes(lengths), lengths)]


def code_tables(words):
    rng = random.Random(7)
    out = [words]
    for change in ("long", "flip", "lack", "unused word", "eob"):
        w = [list(x) for x in words]
        s = rng.choice([i for i, (_, n) in enumerate(words[:rle.EOB]) if n])
        if change == "long":
            w[s][1] = 17
        elif change == "flip":
            w[s][0] ^= 1 << rng.randrange(4)
        elif change == "lack":
            w = [list(x) for x in canonical([0 if i == s else n for i, (_, n) in enumerate(words)])]
        elif change == "unused word":
            w = [list(x) for x in canonical([0 if i == s else n for i, (_, n) in enumerate(words)])]
            w[s][0] = 1
        else:
            w = [list(x) for x in canonical([0 if i == rle.EOB else n for i, (_, n) in enumerate(words)])]
        out.append([tuple(x) for x in w])
    out.append(canonical([8] * rle.NUM_SYMBOLS))  # complete enough: 210 of 256
    out.append(canonical([7] * rle.NUM_SYMBOLS))  # over-subscribed
    out.append(canonical([rng.choice([0, 0, 5, 9, 16]) for _ in range(rle.NUM_SYMBOLS)]))
    return out


def run(code_cases, id_cases):
    """The RTL's verdicts: ``(canonical, upto)`` of each code table, then ``(id_ok, id)`` of each
    ``(bits, ecsq, code_words, level_table)``."""
    m = Module()
    m.submodules.dut = dut = TableCheck()
    m.submodules.buf = buf = RegisteredRAM(width=8, depth=1024)
    m.d.comb += [buf.r_addr.eq(dut.r_addr), buf.r_en.eq(1), buf.q_en.eq(1), dut.q.eq(buf.q)]
    sim = Simulator(m)
    sim.add_clock(1e-8)
    got = []

    async def wait(ctx):
        await ctx.tick()
        while ctx.get(dut.busy):
            await ctx.tick()

    async def load(ctx, words, levels):
        payload = L.code_table_payload(words)
        ctx.set(buf.w_en, 1)
        for i, b in enumerate(payload):
            ctx.set(buf.w_addr, i)
            ctx.set(buf.w_data, b)
            ctx.set(dut.cw_en, i % 3 == 2)
            ctx.set(dut.cw_addr, i // 3)
            ctx.set(dut.cw_len, b)
            ctx.set(dut.lw_en, i < 256)
            ctx.set(dut.lw_addr, i % 256)
            ctx.set(dut.lw_level, levels[i % 256])
            await ctx.tick()
        ctx.set(buf.w_en, 0)
        ctx.set(dut.cw_en, 0)
        ctx.set(dut.lw_en, 0)

    async def bench(ctx):
        for words in code_cases:
            await load(ctx, words, [0] * 256)
            ctx.set(dut.code_start, 1)
            await wait(ctx)
            ctx.set(dut.code_start, 0)
            got.append((bool(ctx.get(dut.canonical)), ctx.get(dut.upto)))
        for bits, ecsq, words, levels in id_cases:
            await load(ctx, words, levels)
            ctx.set(dut.bits, bits)
            ctx.set(dut.ecsq, ecsq)
            ctx.set(dut.id_start, 1)
            await wait(ctx)
            ctx.set(dut.id_start, 0)
            ok = bool(ctx.get(dut.id_ok))
            got.append((ok, ctx.get(dut.table_id) if ok else None))

    sim.add_testbench(bench)
    sim.run()
    return got


def test_verdicts_and_ids_equal_golden():
    tables = real_tables()
    codes = code_tables(tables[1][0])
    rng = random.Random(2026)
    ids = []
    for words, levels, h in tables:
        ids.append((h["bits"], h["ecsq"], words, levels))
    for bits in range(1, 9):
        ecsq = bits % 2
        levels = sorted(rng.randrange(1 << bits) for _ in range(256))
        if bits == 5:
            levels = [min(x, 30) for x in levels]  # level 31 never reached: no id in ECSQ mode
        ids.append((bits, ecsq, tables[0][0], levels if bits != 3 else [rng.randrange(8) for _ in range(256)]))
    ids.append((8, 1, tables[0][0], list(range(256))))  # 255 thresholds, the last at index 255
    got = run(codes, ids)
    want = [T.code_verdict(w) for w in codes]
    want += [(T.table_id(b, e, [n for _, n in w], lv) is not None, T.table_id(b, e, [n for _, n in w], lv))
             for b, e, w, lv in ids]
    assert got == want
    assert [c for c, _ in want[:len(codes)]] == [True, False, False, True, False, True, True, False, False]
    assert want[3][1] < 4 and want[5][1] == 0  # a symbol that can occur lacks a code; the end of block
    assert any(ok is False for ok, _ in want[len(codes):])
    assert all(ids_[1] == h["table_id"] for ids_, (_, _, h) in zip(want[len(codes):], tables))
