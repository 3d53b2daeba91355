"""cocotb testbench of the whole edge part (the board's layer engine, Verilog) against the golden model.

Environment: EDGESPLIT_CONFIG (a Config as JSON), FRAMES, SEED, IDLE, STALL, RESULT_JSON. Frames are
test frames 0 .. FRAMES-1 of the embedded data set; each is sent pixel by pixel with random idle
cycles, its features are read with random backpressure, compared byte for byte with
golden.edge.run, and the per-layer cycle counters are read after it.
"""

import json
import os
import time

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, ReadOnly, RisingEdge

from golden import datasets, edge, ptq
from golden import link as L
from golden.config import Config
from sim.tb import layer_cycles


class TB:
    def __init__(self, dut, rng, idle, stall):
        self.dut, self.rng, self.idle, self.stall = dut, rng, idle, stall

    async def start(self):
        cocotb.start_soon(Clock(self.dut.clk, 10, unit="ns").start())
        self.dut.rst.value = 1
        self.dut.frame__valid.value = 0
        self.dut.features__ready.value = 0
        await ClockCycles(self.dut.clk, 3)
        self.dut.rst.value = 0

    async def send(self, pixels):
        dut = self.dut
        for p in pixels:
            while self.rng.random() < self.idle:
                dut.frame__valid.value = 0
                await RisingEdge(dut.clk)
            dut.frame__payload.value = int(p)
            dut.frame__valid.value = 1
            while True:
                await ReadOnly()
                if int(dut.frame__ready.value):
                    await RisingEdge(dut.clk)
                    break
                await RisingEdge(dut.frame__ready)  # sleep through the computation
        dut.frame__valid.value = 0

    async def receive(self, count):
        dut = self.dut
        out = []
        while len(out) < count:
            ready = self.rng.random() >= self.stall
            dut.features__ready.value = int(ready)
            await ReadOnly()
            valid = int(dut.features__valid.value)
            if valid and ready:
                v = dut.features__payload.value
                out.append(v.to_unsigned() if v.is_resolvable else -1)  # -1: X/Z, never golden
            elif not valid:
                await RisingEdge(dut.features__valid)
                continue
            await RisingEdge(dut.clk)
        dut.features__ready.value = 0
        return np.array(out, np.int64)


@cocotb.test()
async def frames_bit_exact(dut):
    cfg = Config.from_json(os.environ["EDGESPLIT_CONFIG"])
    n = int(os.environ.get("FRAMES", "8"))
    rng = np.random.default_rng(int(os.environ.get("SEED", "1")))
    tb = TB(dut, rng, float(os.environ.get("IDLE", "0.1")), float(os.environ.get("STALL", "0.2")))
    images, _ = datasets.test_frames(cfg, n)
    want = edge.run(ptq.int_model(cfg), images, cfg.split)
    await tb.start()
    start = time.time()
    sender = cocotb.start_soon(_send_all(tb, images))
    frames = []
    for i in range(n):
        got = await tb.receive(want[i].size)
        ok = bool(np.array_equal(got, want[i].reshape(-1)))
        cycles = await layer_cycles(dut, cfg.split)
        bad_at = np.flatnonzero(got != want[i].reshape(-1))
        if len(bad_at):
            dut._log.warning(f"frame {i}: {len(bad_at)} bytes differ, at {bad_at[:4].tolist()}..{bad_at[-4:].tolist()}: "
                             f"rtl {got[bad_at[:8]].tolist()} golden {want[i].reshape(-1)[bad_at[:8]].tolist()}")
        frames.append({"index": i, "bit_exact": ok, "mismatches": int(len(bad_at)),
                       "layer_cycles": cycles, "cycles": sum(cycles)})
    await sender
    wall = time.time() - start
    result = {"frames": frames, "wall_seconds": wall, "sim_time_ns": cocotb.utils.get_sim_time("ns")
              if hasattr(cocotb, "utils") else None}
    path = os.environ.get("RESULT_JSON")
    if path:
        with open(path, "w") as f:
            json.dump(result, f)
    bad = [f["index"] for f in frames if not f["bit_exact"]]
    assert not bad, f"frames {bad} differ from golden: {[frames[i]['mismatches'] for i in bad]} bytes"


async def _send_all(tb, images):
    for img in images:
        await tb.send(np.frombuffer(L.frame_bytes(img), np.uint8))
