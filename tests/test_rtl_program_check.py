"""ProgramCheck (rtl/program_check.py) against golden.program_check.walk, Amaranth simulator: the
built-in programs of three splits, each rule broken in turn on a chosen layer, and seeded nonsense
rows, read from a program memory laid out as the engine's."""

import dataclasses
import itertools
import random

import pytest
from amaranth import Cat, Module
from amaranth.lib import memory
from amaranth.sim import Simulator

from golden import layer_engine as LE
from golden import link as L
from golden.config import Config
from golden.program_check import NONZERO, walk
from rtl.engine_memory import PROGRAM_STRIDE, PROGRAM_WORDS
from rtl.program_check import ProgramCheck

IMAGE = LE.image_for(Config(split=3, board="ulx3s-85f"))


def program_words(rows, cols):
    """The engine's program memory words of descriptor rows (rtl.engine_memory's layout)."""
    words = []
    for row in rows:
        wire = L.encode_rows(L.PROGRAM, [row], cols) + bytes(2 * PROGRAM_WORDS - L.DESCRIPTOR_BYTES)
        words += [wire[2 * j] | wire[2 * j + 1] << 8 for j in range(PROGRAM_WORDS)]
        words += [0] * (PROGRAM_STRIDE - PROGRAM_WORDS)
    return words


def rtl_walks(programs, image=IMAGE):
    """``(ok, shape)`` of the RTL's walk of each program (rows padded with zero rows), run one after
    another on one instance (a walk leaves nothing behind for the next)."""
    results = []
    for rows in programs:
        rows = list(rows) + [{k: 0 for k, _, _ in L.DESCRIPTOR_FIELDS}] * (image.max_layers - len(rows))
        m = Module()
        m.submodules.check = dut = ProgramCheck(image=image)
        m.submodules.mem = mem = memory.Memory(shape=16, depth=image.max_layers * PROGRAM_STRIDE,
                                               init=program_words(rows, image.cols))
        rp = mem.read_port()
        m.d.comb += [rp.addr.eq(Cat(dut.d_word, dut.d_layer)), dut.d_data.eq(rp.data)]
        sim = Simulator(m)
        sim.add_clock(1e-8)

        async def bench(ctx):
            for _ in range(2):  # twice: the second walk starts from what the first left
                ctx.set(dut.start, 1)
                await ctx.tick()
                ctx.set(dut.start, 0)
                assert ctx.get(dut.busy)
                for _ in range(image.max_layers * 300):
                    if not ctx.get(dut.busy):
                        break
                    await ctx.tick()
                assert not ctx.get(dut.busy)
            shape = (ctx.get(dut.shape.c), ctx.get(dut.shape.h), ctx.get(dut.shape.w))
            results.append((bool(ctx.get(dut.ok)), shape if ctx.get(dut.ok) else None))

        sim.add_testbench(bench)
        sim.run()
    return results


def broken(layer, **changes):
    rows = [dict(d) for d in IMAGE.descriptors]
    rows[layer].update(changes)
    return rows


def cases():
    d = IMAGE.descriptors
    out = {"as built": list(d), "split 1": [dict(d[0], last=1)],
           "no last": [dict(x, last=0) for x in d]}
    for i, k in enumerate(NONZERO):
        out[f"{k}=0"] = broken(i % len(d), **{k: 0})
    out.update({
        "stride 0": broken(1, stride=0), "stride 3": broken(2, stride=3),
        "base moved": broken(1, base=d[1]["base"] + 1), "height": broken(2, height=d[2]["height"] + 1),
        "first input": broken(0, groups=d[0]["groups"] + 1),
        "out_groups": broken(0, out_groups=d[0]["out_groups"] + 1),
        "out_channels > tiles": broken(2, out_channels=d[2]["n_tiles"] * IMAGE.cols + 1),
        "out_channels one less": broken(2, out_channels=d[2]["out_channels"] - 1),
        "taps": broken(1, taps=d[1]["taps"] + 1), "pooled": broken(0, pooled=d[0]["pooled"] - 1),
        "n_chunks +1": broken(1, n_chunks=d[1]["n_chunks"] + 1),
        "n_chunks -1": broken(0, n_chunks=d[0]["n_chunks"] - 1),
        "chunk covers all": broken(2, n_chunks=1, chunk=d[2]["pooled"] * d[2]["pool"] ** 2),
        "pad_y = k_y": broken(1, pad_y=d[1]["k_y"]), "pad_x = k_x": broken(0, pad_x=d[0]["k_x"]),
        "chunk + 1": broken(0, chunk=d[0]["chunk"] + 1),  # past the accumulator, and a pool window split
        "chunk splits a pool window": broken(1, chunk=254, n_chunks=5),  # 4 * 254 < 1024 <= 5 * 254
        "chunk past the accumulator": broken(2, chunk=IMAGE.acc_depth + 4),
        "weights past the end": broken(1, weight_base=IMAGE.weight_rows - 1),
        "weights at the end": broken(2, weight_base=IMAGE.weight_rows - d[2]["n_tiles"] * d[2]["taps"] * IMAGE.rows),
        "params past the end": broken(0, param_base=IMAGE.param_words - d[0]["n_tiles"] + 1),
        "output past the end": broken(2, out_base=IMAGE.act_words - 1),
        "input past the end": [dict(d[0], out_base=IMAGE.act_words - 100), dict(d[1], base=IMAGE.act_words - 100)]
        + list(d[2:]),
    })
    # every row of the memory a layer that runs: 1x1 layers that keep the last layer's shape, moving
    # between the activation halves; with no row marked last, then the last marked last
    tail = d[-1]
    same = dict(tail, height=tail["pooled_h"], width=tail["pooled_w"], groups=tail["out_groups"], k_y=1, k_x=1,
                pad_y=0, pad_x=0, pool=1, stride=1, taps=tail["out_groups"], n_chunks=1, chunk=tail["pooled"],
                weight_base=0, param_base=0, last=0, gap=LE.drain_cycles(IMAGE.rows, IMAGE.cols, tail["out_channels"]))
    full = list(d[:-1]) + [dict(tail, last=0)]
    while len(full) < IMAGE.max_layers:
        full.append(dict(same, base=full[-1]["out_base"], out_base=full[-2]["out_base"]))
    out["every row, none last"] = full
    out["every row, the last last"] = full[:-1] + [dict(full[-1], last=1)]
    # the chunk rules on an unpooled 1x1 layer (64 pixels) and one pooled 3x3 (576)
    head = list(d[:-1]) + [dict(tail, last=0)]
    for chunk, n in ((60, 2), (61, 2)):  # a last chunk of 4 pixels (MIN_CHUNK), then of 3
        out[f"1x1 chunk {chunk}"] = head + [dict(same, base=tail["out_base"], out_base=0, chunk=chunk, n_chunks=n, last=1)]
    for gap in (same["gap"] - 1, 0):  # results faster than they drain: the engine would wait forever
        out[f"1x1 gap {gap}"] = head + [dict(same, base=tail["out_base"], out_base=0, gap=gap, last=1)]
    out["pooled gap 0"] = broken(1, gap=0)
    for chunk in (252, 250, 256):  # 9 * 28, then not a multiple of 9 (256 is of 4)
        out[f"pool 3 chunk {chunk}"] = head + [dict(same, base=tail["out_base"], out_base=0, pool=3, chunk=chunk,
                                                    n_chunks=3, last=1)]
    rng = random.Random(2026)
    for n in range(12):  # nonsense rows, from one layer to all of them
        raw = bytes(rng.randrange(256) for _ in range(L.DESCRIPTOR_BYTES * rng.randint(1, IMAGE.max_layers)))
        out[f"nonsense {n}"] = L.decode_rows(L.PROGRAM, raw, IMAGE.cols)
    return out


CASES = cases()


def test_walk_equals_golden():
    got = rtl_walks(CASES.values())
    for (name, rows), rtl in zip(CASES.items(), got):
        why, shape = walk(rows, IMAGE)
        assert rtl == (why is None, shape), (name, why)
    verdicts = {name: ok for name, (ok, _) in zip(CASES, got)}
    assert verdicts["as built"] and verdicts["chunk covers all"] and verdicts["out_channels one less"]
    assert verdicts["split 1"] and verdicts["weights at the end"] and verdicts["every row, the last last"]
    assert verdicts["1x1 chunk 60"] and verdicts["pool 3 chunk 252"]
    assert sum(verdicts.values()) == 8


@pytest.mark.parametrize("split", [1, 2])
def test_walk_of_every_split(split):
    image = LE.image_for(Config(split=split, board="ulx3s-85f"))
    assert rtl_walks([image.descriptors], image)[0] == (True, tuple(LE.program_from_image(image).out_shape))


@pytest.mark.parametrize("rows, cols", [(3, 8), (1, 8)])
def test_drain_rule_on_an_array_whose_rows_and_cols_do_not_divide(rows, cols):
    """The drain rule's table (rtl.program_check, by min(cols, out_channels)) against the golden walk
    where the drain cycles depend on out_channels (on the default 4x4 array they do not): one layer
    of each pool and out_channels, at the least gap the rule takes and one under it."""
    image = dataclasses.replace(IMAGE, rows=rows, cols=cols)
    d0 = image.descriptors[0]
    programs, want = [], []
    for pool, oc in itertools.product((1, 2, 3), (1, cols - 1, cols, cols + 1, 40)):
        need = LE.drain_cycles(rows, cols, oc)
        least = -(-need // (pool * pool))
        pixels = 16 * pool * pool  # a 4x4 output, one chunk
        for gap in (least, least - 1):
            programs.append([dict(d0, pool=pool, pooled_h=4, pooled_w=4, pooled=16, chunk=pixels, n_chunks=1,
                                  out_channels=oc, out_groups=-(-oc // rows), n_tiles=-(-oc // cols), gap=gap,
                                  last=1)])
            want.append(gap == least)
    got = rtl_walks(programs, image)
    for rows_, rtl in zip(programs, got):
        why, shape = walk(rows_, image)
        assert rtl == (why is None, shape), (rows_[0], why)
    assert [ok for ok, _ in got] == want
