"""EngineMemory (rtl/engine_memory.py) against golden.engine_memory, Amaranth simulator."""

import pytest
from amaranth.sim import Simulator

from golden import engine_memory as golden
from golden.layer_engine import requantizers, rq_steps
from golden.link import DESCRIPTOR_FIELDS, PARAM_LANE, PARAMS, PROGRAM, WEIGHTS, row_bytes
from rtl.engine_memory import PROGRAM_STRIDE, EngineMemory
from sim.streams import put, to_int_list

DEPTHS = {WEIGHTS: 6, PARAMS: 5, PROGRAM: 3}


def random_image(rng, cols):
    """Initial rows, the last row of each memory left to its zeros."""
    weights = [tuple(int(v) for v in rng.integers(-128, 128, cols)) for _ in range(DEPTHS[WEIGHTS] - 1)]
    params = [tuple({"bias": int(rng.integers(-1 << 31, 1 << 31)), "mult": int(rng.integers(0, 1 << 16)),
                     "shift": int(rng.integers(0, 64))} for _ in range(cols)) for _ in range(DEPTHS[PARAMS] - 1)]
    program = [{name: int(rng.integers(0, 1 << bits)) for name, _, bits in DESCRIPTOR_FIELDS}
               for _ in range(DEPTHS[PROGRAM] - 1)]
    return weights, params, program


def random_loads(rng, cols, n):
    """LOAD_MEM beats of ``n`` rows of random memories and bytes, some cut short, some extreme."""
    beats = []
    for _ in range(n):
        mem = int(rng.choice([WEIGHTS, PARAMS, PROGRAM]))
        size = row_bytes(mem, cols)
        if rng.random() < 0.2:
            size = int(rng.integers(1, size + 1))
        data = rng.choice([rng.integers(0, 256, size), [0] * size, [255] * size], p=[0.8, 0.1, 0.1])
        addr = int(rng.integers(0, DEPTHS[mem]))
        beats += [(mem, addr, int(v), int(j == size - 1)) for j, v in enumerate(data)]
    return beats


def read_all(cols, read, tile_rows=1):
    """``read(port, address...)`` of every word of the three read ports."""
    return ([read("w", a) for a in range(-(-DEPTHS[WEIGHTS] // tile_rows))],
            [read("p", w, k) for w in range(DEPTHS[PARAMS]) for k in range(rq_steps(cols))],
            [read("d", layer, j) for layer in range(DEPTHS[PROGRAM]) for j in range(PROGRAM_STRIDE)])


def ref_memory(cols, image, beats, tile_rows=1):
    mems = golden.load(golden.memories(cols, *DEPTHS.values(), *image), beats)
    ports = {"w": lambda a: golden.weight_word(mems, a, tile_rows), "p": lambda w, k: golden.param_step(mems, w, k, cols),
             "d": lambda layer, j: golden.program_word(mems, layer, j)}
    return read_all(cols, lambda port, *a: ports[port](*a), tile_rows)


def lanes_of(v, cols):
    """The lanes of a parameter RAM word: lane ``j`` its wire bytes in bits ``56 j ..``."""
    bits = 8 * PARAM_LANE.size
    return [PARAM_LANE.unpack((v >> (bits * j) & ((1 << bits) - 1)).to_bytes(PARAM_LANE.size, "big"))
            for j in range(requantizers(cols))]


def rtl_memory(cols, image, beats, *, rng, idle, closed, tile_rows=1):
    dut = EngineMemory(cols=cols, weight_rows=DEPTHS[WEIGHTS], param_words=DEPTHS[PARAMS], layers=DEPTHS[PROGRAM],
                       weights=image[0], params=image[1], program=image[2], tile_rows=tile_rows)
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    got = []

    async def gate(ctx):  # the engine opens the port between frames only
        while True:
            ctx.set(dut.open, rng.random() >= closed)
            assert ctx.get(dut.load.ready) == ctx.get(dut.open)
            await ctx.tick()

    async def read(ctx, port, *a):
        if port == "w":
            ctx.set(dut.w_addr, a[0])
        elif port == "p":
            ctx.set(dut.p_word, a[0])
            ctx.set(dut.p_step, a[1])
            ctx.set(dut.p_en, 1)
        else:
            ctx.set(dut.d_layer, a[0])
            ctx.set(dut.d_word, a[1])
        await ctx.tick()
        ctx.set(dut.p_en, 0)
        return {"w": lambda: tuple(to_int_list(ctx.get(dut.w_data))),
                "p": lambda: lanes_of(ctx.get(dut.p_data), cols), "d": lambda: ctx.get(dut.d_data)}[port]()

    async def bench(ctx):
        await put(ctx, dut.load, [{"mem": m, "addr": a, "data": d, "last": e} for m, a, d, e in beats],
                  rng=rng, idle=idle)
        await ctx.tick()  # the last write lands
        calls = read_all(cols, lambda *a: a, tile_rows)
        for part in calls:
            got.append([await read(ctx, *a) for a in part])

    sim.add_testbench(bench)
    sim.add_testbench(gate, background=True)
    sim.run()
    return tuple(got)


@pytest.mark.parametrize("cols", [1, 4, 5, 12], ids=["cols1", "cols4", "cols5-padded-step", "cols12-3-steps"])
def test_loads_with_gaps_and_closed_cycles(rng, cols):
    image = random_image(rng, cols)
    beats = random_loads(rng, cols, 14)
    assert rtl_memory(cols, image, [], rng=rng, idle=0, closed=0) == ref_memory(cols, image, [])  # the image
    assert rtl_memory(cols, image, beats, rng=rng, idle=0.3, closed=0.4) == ref_memory(cols, image, beats)


@pytest.mark.parametrize("cols, tile_rows", [(4, 4), (3, 2)], ids=["4x4-tiles", "2x3-tiles"])
def test_weight_tiles_a_word(rng, cols, tile_rows):
    """The iCE40UP5K's weight RAM: ``tile_rows`` rows side by side in a word, LOAD_MEM's bytes into
    their row's lanes."""
    image = random_image(rng, cols)
    beats = random_loads(rng, cols, 14)
    want = ref_memory(cols, image, beats, tile_rows)
    assert rtl_memory(cols, image, beats, rng=rng, idle=0.3, closed=0.4, tile_rows=tile_rows) == want
