"""Simulate the codec RTL (rtl.codec.Codec) in cocotb on whole frames and compare with golden bytes.

:func:`codec_cases` builds the frames: the shipped codec tables of every bit width in both modes on
real split features, tensors with 0%, 50%, 90% and 100% zeros, an all-maximum tensor, single
elements, the longest runs (16383 zeros, one LONGRUN, several LONGRUNs and trailing LONGRUNs), and
more real frames until at least ``min_elements`` elements. Consecutive frames share a table in
groups, so both back-to-back frames and code-table reloads between frames are exercised.
"""

import json
import time
from pathlib import Path

import numpy as np

from golden import codec as C
from golden import datasets, edge, ptq
from golden.rle import LONGRUN_LEN

from . import runner


def _real_features(cfg, count):
    images = datasets.embedded(cfg, "test").images[:count]
    return edge.run(ptq.int_model(cfg), images, cfg.split)


def codec_cases(cfg, seed=1, min_elements=100_000):
    """``[(name, DeviceSettings, uint8 features (C, H, W), golden frame bytes)]``."""
    rng = np.random.default_rng(seed)
    codec = C.Codec.for_config(cfg)
    tables = {(t.bits, t.mode): t for t in codec.tables.tables if t.split == cfg.split}
    real = _real_features(cfg, 24)
    cases = []

    def add(name, table, x, clip=None):
        clip = (table.clip if table.mode == "uniform" else 255) if clip is None else clip
        ds = C.device_settings(table, clip, cfg.split, x.shape, seq=len(cases) % 256)
        frame = C.F.encode(table.quantize(x, clip), ds.header, table.code)
        cases.append((name, ds, x.astype(np.uint8), frame))

    for bits in range(1, 9):  # every bit width, both modes, on real features; two frames a table
        for mode in ("uniform", "ecsq"):
            for k in range(2):
                add(f"real-{bits}b-{mode}", tables[(bits, mode)], real[(2 * bits + k) % len(real)])
    t8 = tables[(8, "uniform")]
    shape = (16, 16, 16)
    for zeros in (0.0, 0.5, 0.9, 1.0):
        x = rng.integers(1, 256, shape) * (rng.random(shape) >= zeros)
        add(f"zeros-{int(zeros * 100)}%", t8, x, clip=255)
    add("all-maximum", t8, np.full(shape, 255), clip=255)
    add("all-maximum-3b", tables[(3, "uniform")], np.full((32, 8, 8), 255))
    add("single-zero", t8, np.zeros((1, 1, 1), np.int64), clip=255)
    add("single-element", t8, np.full((1, 1, 1), 200), clip=255)
    longest = np.zeros((1, 1, LONGRUN_LEN), np.int64)
    longest[0, 0, -1] = 9
    add("run-16383", t8, longest, clip=255)
    add("run-16384", t8, np.zeros((1, 1, LONGRUN_LEN), np.int64), clip=255)
    many = np.zeros((1, 2, 2 * LONGRUN_LEN + 9), np.int64)
    many[0, 1, 3] = 77  # 32780 zeros before it: 2 LONGRUNs, pair (12, 77); 32773 after: 2 LONGRUNs, EOB
    add("longruns", t8, many, clip=255)
    k = 0
    while sum(x.size for _, _, x, _ in cases) < min_elements:
        bits, mode = int(rng.integers(1, 9)), ("uniform", "ecsq")[int(rng.integers(2))]
        add(f"real-{bits}b-{mode}", tables[(bits, mode)], real[k % len(real)])
        k += 1
    return cases


def write_cases(cases, path):
    """The cases as JSON for the testbench (plain ints and hex frames)."""
    out = []
    for name, ds, x, frame in cases:
        out.append({"name": name, "settings": ds.settings, "code_words": ds.code_words,
                    "level_table": ds.level_table, "features": x.reshape(-1).tolist(), "frame": frame.hex()})
    Path(path).write_text(json.dumps(out))


def simulate(cfg, *, sim="verilator", build_dir="build/sim", seed=1, min_elements=100_000, idle=0.2,
             stall=0.3, payload_words=128, cases=None, waves=False, serial=False):
    """Run the codec cases through the Verilog; returns the JSON-ready report.

    With ``idle = stall = 0`` the report's throughput and latency figures are the codec's own:
    elements taken per cycle while a frame streams in, and cycles from a frame's last element in
    to its last byte out. ``serial`` simulates the bit-serial codec (:class:`rtl.codec.Codec`'s
    ``serial``, the iCE40UP5K's) instead of the element-a-cycle one.
    """
    from rtl.codec import Codec

    runner.check_simulator(sim)
    cases = codec_cases(cfg, seed, min_elements) if cases is None else cases
    build_dir = Path(build_dir) / f"codec_{sim}{'_serial' if serial else ''}"
    build_dir.mkdir(parents=True, exist_ok=True)
    case_path = build_dir / "cases.json"
    write_cases(cases, case_path)
    result_path = build_dir / "result.json"
    start = time.time()
    runner.run(Codec(payload_words=payload_words, serial=serial), "codec", "sim.cocotb_codec", sim=sim,
               build_dir=build_dir, waves=waves,
               env={"CASES": case_path.resolve(), "SEED": seed, "IDLE": idle, "STALL": stall,
                    "RESULT_JSON": result_path.resolve()})
    res = json.loads(result_path.read_text())
    per = res["frames"]
    return {"simulator": sim, "serial": serial, "frames": len(per),
            "frames_identical": sum(f["identical"] for f in per),
            "elements": sum(f["elements"] for f in per), "per_frame": per,
            "wall_seconds": time.time() - start, "sim_seconds": res["wall_seconds"],
            "cycles": res["cycles"]}


def packer_capacity(bits_per_string, strings=400):
    """Bits per cycle :class:`rtl.bitpack.BitPacker` takes when offered a ``bits_per_string``-bit
    string every cycle with its output always ready (Amaranth simulator; cycles, not wall time)."""
    from amaranth.sim import Simulator

    from rtl.bitpack import BitPacker

    dut = BitPacker()
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    result = {}

    async def producer(ctx):
        ctx.set(dut.o.ready, 1)
        taken = cycles = 0
        while taken < strings:
            ctx.set(dut.i.payload, {"value": (0x5A5A5A5A5A5A5 >> (52 - bits_per_string)), "n": bits_per_string,
                                    "last": 0})
            ctx.set(dut.i.valid, 1)
            _, _, ready = await ctx.tick().sample(dut.i.ready)
            cycles += 1
            taken += int(ready)
        result["bits_per_cycle"] = taken * bits_per_string / cycles

    sim.add_testbench(producer)
    sim.run()
    return result["bits_per_cycle"]


def bench(cfg, build_dir="build/sim", sim="verilator"):
    """The element-a-cycle codec's figures (simulated cycles, output always ready, no input gaps).
    That is the ECP5 boards' codec; the iCE40UP5K's bit-serial one takes about a cycle a coded bit
    (docs/ARCHITECTURE.md).

    - ``codec_elements_per_cycle``: elements taken per cycle over real split-feature frames of every
      bit width and both modes, streamed back to back;
    - per synthetic worst case (random 8-bit levels with no zeros, all-maximum): elements per cycle
      and the coded bits per element that limit it;
    - ``latency_cycles``: from a frame's last element in to its last byte out (real frames);
    - ``packer_bits_per_cycle``: what the bit packer absorbs per cycle offered 8..52-bit strings.
    """
    cases = [c for c in codec_cases(cfg, seed=11, min_elements=0)
             if c[0].startswith("real-") or c[0] in ("zeros-0%", "zeros-50%", "all-maximum")]
    r = simulate(cfg, sim=sim, build_dir=build_dir, cases=cases, idle=0, stall=0)
    real = [f for f in r["per_frame"] if f["name"].startswith("real-")]
    worst = {}
    for f in r["per_frame"]:
        if not f["name"].startswith("real-"):
            worst[f["name"]] = {"elements_per_cycle": f["elements"] / f["in_cycles"],
                                "coded_bits_per_element": 8 * f["bytes"] / f["elements"]}
    lat = [f["latency"] for f in real]
    return {
        "frames": r["frames"], "frames_identical": r["frames_identical"],
        "codec_elements_per_cycle": sum(f["elements"] for f in real) / sum(f["in_cycles"] for f in real),
        "real_frames": len(real),
        "max_coded_bits_per_element_at_full_rate": max(
            [8 * f["bytes"] / f["elements"] for f in r["per_frame"] if f["in_cycles"] == f["elements"]]),
        "worst_cases": worst,
        "latency_cycles": {"mean": sum(lat) / len(lat), "max": max(lat), "min": min(lat)},
        "output_bits_per_cycle": 8,
        "packer_bits_per_cycle": {n: packer_capacity(n) for n in (8, 16, 24, 32, 36, 44, 52)},
    }
