"""Simulate the edge part (the board's layer engine) in cocotb on test frames and report against golden."""

import json
import time
from pathlib import Path

from golden import layer_engine
from rtl.factory import engine_for

from . import runner


def simulate(cfg, frames=8, sim="verilator", build_dir="build/sim", idle=0.1, stall=0.2, seed=1,
             waves=False):
    """Run ``frames`` test frames through the RTL; returns the JSON-ready report."""
    runner.check_simulator(sim)
    dut, image = engine_for(cfg)
    build_dir = Path(build_dir) / f"{sim}_{cfg.spec.name}_{cfg.rows}x{cfg.cols}_s{cfg.split}"
    result_path = build_dir / "result.json"
    start = time.time()
    runner.run(dut, "edge_part", "sim.cocotb_edge", sim=sim, build_dir=build_dir, waves=waves,
               env={"EDGESPLIT_CONFIG": cfg.to_json(), "FRAMES": frames, "SEED": seed, "IDLE": idle,
                    "STALL": stall, "RESULT_JSON": result_path.resolve()})
    res = json.loads(result_path.read_text())
    per = res["frames"]
    cycles = [f["cycles"] for f in per]
    model = layer_engine.schedule_for(cfg)
    macs = model["macs"]  # of the pixels the engine computes (a pool's dropped edges are not)
    return {
        "simulator": sim, "rows": cfg.rows, "cols": cfg.cols, "split": cfg.split, "frames": len(per),
        "bit_exact": sum(f["bit_exact"] for f in per), "per_frame": per,
        "cycles_per_frame": sum(cycles) / len(cycles), "layer_cycles": per[-1]["layer_cycles"],
        "utilization": macs / (cycles[-1] * cfg.rows * cfg.cols),
        "model_cycles": model["cycles"], "model_layers": model["layers"], "wall_seconds": time.time() - start,
        "sim_seconds": res["wall_seconds"],
        "sim_cycles_per_second": sum(cycles) / res["wall_seconds"] if res["wall_seconds"] else None,
    }
