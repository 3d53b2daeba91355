"""cocotb testbench of the codec Verilog (rtl.codec.Codec): whole frames against golden bytes.

Environment: CASES (JSON from sim.codec.write_cases), SEED, IDLE, STALL, RESULT_JSON. Before each
frame whose table differs from the previous frame's, the testbench waits for the codec to finish
the previous frame, then writes the code RAM (and the ECSQ level table); frames that share a table
stream back to back, their settings changed as soon as the previous frame's last element is taken.
Elements go in with random idle cycles, bytes come out with random backpressure; every frame is
compared byte for byte. A cycle counter stamps each frame's first and last element and last byte.
"""

import json
import os
import time
from pathlib import Path

import cocotb
import numpy as np
from cocotb.triggers import RisingEdge

from rtl.codec import settings_layout
from sim.tb import StreamTB


@cocotb.test()
async def frames_identical(dut):
    cases = json.loads(Path(os.environ["CASES"]).read_text())
    rng = np.random.default_rng(int(os.environ.get("SEED", "1")))
    tb = StreamTB(dut, rng, float(os.environ.get("IDLE", "0.2")), float(os.environ.get("STALL", "0.3")),
                  ["i__valid", "o__ready", "code_w__valid", "level_w__valid", "settings"])
    layout = settings_layout()
    await tb.start()
    stamps = [dict() for _ in cases]
    start = time.time()

    async def driver():
        table = None
        for i, case in enumerate(cases):
            key = (json.dumps(case["code_words"]), json.dumps(case["level_table"]))
            if key != table:
                while int(dut.frames.value) < i:  # the previous frame is out: tables may change
                    await RisingEdge(dut.clk)
                await tb.write("code_w", [s | (c << 8) | (n << 24)
                                          for s, (c, n) in enumerate(case["code_words"])])
                await tb.write("level_w", [a | (v << 8) for a, v in enumerate(case["level_table"])])
                table = key
            dut.settings.value = layout.const(case["settings"]).as_bits()
            stamps[i]["first_in"], stamps[i]["last_in"] = await tb.send("i", case["features"])

    sender = cocotb.start_soon(driver())
    frames = []
    for i, case in enumerate(cases):
        got, last_out = await tb.receive_frame()
        want = bytes.fromhex(case["frame"])
        s = stamps[i]
        frames.append({"name": case["name"], "identical": got == want, "elements": len(case["features"]),
                       "bytes": len(got), "want_bytes": len(want),
                       "in_cycles": s["last_in"] - s["first_in"] + 1,
                       "latency": last_out - s["last_in"]})
        if got != want:
            at = next((k for k, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))
            dut._log.warning(f"frame {i} ({case['name']}): {len(got)} bytes, golden {len(want)}, first "
                             f"difference at byte {at}")
    await sender
    result = {"frames": frames, "wall_seconds": time.time() - start, "cycles": tb.cycle}
    Path(os.environ["RESULT_JSON"]).write_text(json.dumps(result))
    bad = [f"{i} ({f['name']})" for i, f in enumerate(frames) if not f["identical"]]
    assert not bad, f"frames {bad} differ from the golden frames"
