"""cocotb testbench of the edge device Verilog (rtl.edge_device.EdgeDevice): camera frames in,
frame bytes out, compared with the golden frames byte for byte.

Environment: SETUP (JSON from sim.device.simulate: the codec's settings, code RAM and level table
(and, on a serial device, its header RAM),
each test frame's pixels and golden frame), SEED, IDLE, STALL, RESULT_JSON. Frames are sent back to
back with random idle cycles and read with random backpressure; each frame's sequence number is set
as soon as the previous frame's last byte is out (the codec samples its settings with a frame's
first feature, which comes a whole computation later). A cycle counter stamps each frame's first
pixel taken and last byte sent; the engine's layer counters are read after each frame.
"""

import json
import os
import time
from pathlib import Path

import cocotb
import numpy as np

from golden import link as L
from rtl.codec import settings_layout
from rtl.frame import HEADER_RAM_DEPTH
from sim.tb import StreamTB, layer_cycles


@cocotb.test()
async def frames_identical(dut):
    setup = json.loads(Path(os.environ["SETUP"]).read_text())
    rng = np.random.default_rng(int(os.environ.get("SEED", "1")))
    header_ram = hasattr(dut, "header_w__valid")  # the serial device's header RAM (rtl.frame.Framer)
    tb = StreamTB(dut, rng, float(os.environ.get("IDLE", "0.1")), float(os.environ.get("STALL", "0.2")),
                  ["frame__valid", "o__ready", "code_w__valid", "level_w__valid", "settings"]
                  + ["header_w__valid"] * header_ram)
    layout = settings_layout()
    settings = setup["settings"]
    await tb.start()
    await tb.write("code_w", [s | (c << 8) | (n << 24) for s, (c, n) in enumerate(setup["code_words"])])
    await tb.write("level_w", [a | (v << 8) for a, v in enumerate(setup["level_table"])])
    if header_ram:  # the SETTINGS payload's bytes, as the SoC's executor writes them
        payload = L.settings_payload(settings)[:HEADER_RAM_DEPTH]
        await tb.write("header_w", [a | (b << 4) for a, b in enumerate(payload)])
    dut.settings.value = layout.const(settings).as_bits()
    firsts = []
    start = time.time()

    async def sender():
        for pixels in setup["pixels"]:
            firsts.append((await tb.send("frame", pixels, sleep=True))[0])

    task = cocotb.start_soon(sender())
    frames = []
    for i, want in enumerate(setup["frames"]):
        got, last_out = await tb.receive_frame()
        settings["header"]["seq"] = (i + 1) % 256
        dut.settings.value = layout.const(settings).as_bits()
        cycles = await layer_cycles(dut, setup["layers"])
        frames.append({"index": i, "identical": got == bytes.fromhex(want), "bytes": len(got),
                       "frame_hex": got.hex(), "layer_cycles": cycles, "compute_cycles": sum(cycles),
                       "last_byte_cycle": last_out, "first_pixel_cycle": firsts[i] if i < len(firsts) else None})
    await task
    result = {"frames": frames, "wall_seconds": time.time() - start, "cycles": tb.cycle}
    Path(os.environ["RESULT_JSON"]).write_text(json.dumps(result))
    bad = [f["index"] for f in frames if not f["identical"]]
    assert not bad, f"frames {bad} differ from the golden frames"
