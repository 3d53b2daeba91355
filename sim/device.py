"""Simulate the edge device (layer engine + codec) in cocotb on test frames and report against
the golden model: each frame byte-identical to the golden frame, and decoded to the golden levels."""

import json
import time
from pathlib import Path

import numpy as np

from golden import datasets
from golden import link as L
from golden.codec import Codec
from golden.edge_device import device_frames
from golden.errors import EdgesplitError
from rtl.factory import device_for

from . import runner


def simulate(cfg, frames=4, sim="verilator", build_dir="build/sim", idle=0.1, stall=0.2, seed=1,
             waves=False):
    """Run ``frames`` test frames through the device RTL; returns the JSON-ready report."""
    runner.check_simulator(sim)
    codec = Codec.for_config(cfg)
    images, _ = datasets.test_frames(cfg, frames)
    want, features = device_frames(cfg, images, codec=codec)
    ds = codec.device_settings(cfg, features.shape[1:], seq=0)
    dut, _ = device_for(cfg)
    build_dir = Path(build_dir) / f"device_{sim}_{cfg.spec.name}_{cfg.rows}x{cfg.cols}_{runner.split_tag(cfg)}"
    build_dir.mkdir(parents=True, exist_ok=True)
    setup = {"settings": ds.settings, "code_words": ds.code_words, "level_table": ds.level_table,
             "pixels": [list(L.frame_bytes(img)) for img in images], "frames": [f.hex() for f in want],
             "layers": cfg.device_blocks}
    (build_dir / "setup.json").write_text(json.dumps(setup))
    result_path = build_dir / "result.json"
    start = time.time()
    runner.run(dut, "edge_device", "sim.cocotb_device", sim=sim, build_dir=build_dir, waves=waves,
               env={"SETUP": (build_dir / "setup.json").resolve(), "SEED": seed, "IDLE": idle,
                    "STALL": stall, "RESULT_JSON": result_path.resolve()})
    res = json.loads(result_path.read_text())
    per = res["frames"]
    q = codec.quantize(cfg, features)
    for f, levels in zip(per, q):
        data = bytes.fromhex(f.pop("frame_hex"))
        try:
            f["decodes_to_golden"] = bool(np.array_equal(codec.decode(data).levels, levels))
        except EdgesplitError as exc:  # a corrupt frame from the RTL is a finding, not a crash
            f["decodes_to_golden"] = False
            f["decode_error"] = str(exc)
    latency = [f["last_byte_cycle"] - f["first_pixel_cycle"] for f in per if f["first_pixel_cycle"] is not None]
    ends = [f["last_byte_cycle"] for f in per]
    period = (ends[-1] - ends[0]) / (len(ends) - 1) if len(ends) > 1 else None
    return {
        "simulator": sim, "rows": cfg.rows, "cols": cfg.cols, "split": cfg.split, "bits": cfg.bits,
        "quantizer": cfg.quantizer, "frames": len(per),
        "frames_identical": sum(f["identical"] for f in per),
        "frames_decoded": sum(f["decodes_to_golden"] for f in per), "per_frame": per,
        "frame_bytes": [f["bytes"] for f in per],
        "compute_cycles_per_frame": float(np.mean([f["compute_cycles"] for f in per])),
        "latency_cycles": latency, "frame_period_cycles": period,
        "wall_seconds": time.time() - start, "sim_seconds": res["wall_seconds"],
        "sim_cycles_per_second": res["cycles"] / res["wall_seconds"] if res["wall_seconds"] else None,
    }
