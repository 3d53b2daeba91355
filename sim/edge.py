"""Simulate the edge part (LayerEngine) in cocotb on test frames and report against golden."""

import json
import time
from pathlib import Path

from golden import layer_engine

from . import runner


def engine_for(cfg):
    """The :class:`rtl.layer_engine.LayerEngine` of ``cfg`` (checked program and memory image), as
    the board's device has it (without the ECP5's RAM register stages where ``cfg.serial``)."""
    from rtl.layer_engine import LayerEngine

    image = layer_engine.engine_image(layer_engine.program_for(cfg), cfg.act_mem_bytes, cfg.weight_mem_bytes)
    return LayerEngine(image=image, acc_width=cfg.acc_bits, pipelined=not cfg.serial), image


def simulate(cfg, frames=8, sim="verilator", build_dir="build/sim", idle=0.1, stall=0.2, seed=1,
             waves=False):
    """Run ``frames`` test frames through the RTL; returns the JSON-ready report."""
    runner.check_simulator(sim)
    dut, image = engine_for(cfg)
    build_dir = Path(build_dir) / f"{sim}_{cfg.rows}x{cfg.cols}_s{cfg.split}"
    result_path = build_dir / "result.json"
    start = time.time()
    runner.run(dut, "edge_part", "sim.cocotb_edge", sim=sim, build_dir=build_dir, waves=waves,
               env={"EDGESPLIT_CONFIG": cfg.to_json(), "FRAMES": frames, "SEED": seed, "IDLE": idle,
                    "STALL": stall, "RESULT_JSON": result_path.resolve()})
    res = json.loads(result_path.read_text())
    per = res["frames"]
    cycles = [f["cycles"] for f in per]
    macs = sum(cfg.spec.macs(i) for i in range(1, cfg.split + 1))
    model = layer_engine.schedule_cycles(layer_engine.program_for(cfg))
    return {
        "simulator": sim, "rows": cfg.rows, "cols": cfg.cols, "split": cfg.split, "frames": len(per),
        "bit_exact": sum(f["bit_exact"] for f in per), "per_frame": per,
        "cycles_per_frame": sum(cycles) / len(cycles), "layer_cycles": per[-1]["layer_cycles"],
        "utilization": macs / (cycles[-1] * cfg.rows * cfg.cols),
        "model_cycles": model["cycles"], "wall_seconds": time.time() - start,
        "sim_seconds": res["wall_seconds"],
        "sim_cycles_per_second": sum(cycles) / res["wall_seconds"] if res["wall_seconds"] else None,
    }
