"""``edgesplit sweep``: array shapes and boards built as Dask tasks, joined with the codec's
accuracy and rate, and the Pareto front of accuracy, bits per frame, frames per second and logic.

A hardware point is ``(board, rows, cols)``, built as a task: the whole SoC (``fpga.build``, its
Fmax and utilization) or, with ``block`` ``"systolic"``, only the array (``fpga.synth``, minutes
less). Its result is cached on disk under a hash of the point and of the RTL's sources, so a re-run
builds only what changed; a point that failed (does not fit, a tool error) is cached with its reason
and not retried. The tasks run on a ``distributed.LocalCluster`` or, given a scheduler address, on
a real cluster.

Each hardware point is joined with every ``(split, bits)``: accuracy and bits per frame from the
golden codec on the test frames, and the device's cycles from the schedule model (checked against
the RTL within 2% a layer in tests; the report says it is a model). Frames per second are the
slower of the device (cycles at the point's Fmax, capped at its clock) and the link (the frame in
protocol packets at ``bandwidth``).
"""

import hashlib
import json
import time
from pathlib import Path

from golden.errors import EdgesplitError

ARCH = {"icebreaker": "ice40", "ulx3s-85f": "ecp5", "orangecrab-25f": "ecp5"}
_CELLS = ("TRELLIS_COMB", "ICESTORM_LC")


def rtl_fingerprint():
    """sha256 of the RTL's sources: a cached result is only valid for the RTL it was built from."""
    root = Path(__file__).resolve().parent.parent / "rtl"
    h = hashlib.sha256()
    for path in sorted(root.glob("*.py")):
        h.update(path.name.encode() + path.read_bytes())
    return h.hexdigest()


def point_key(point, fingerprint):
    return hashlib.sha256(json.dumps([point, fingerprint], sort_keys=True).encode()).hexdigest()[:24]


def memories_for(cfg, splits):
    """``(act_mem_bytes, weight_mem_bytes)``: the configuration's, or the next powers of two that hold
    the deepest split's program at this array shape (a 12-row array's words are 12 bytes wide)."""
    from golden import layer_engine, ptq

    prog = layer_engine.compile_program(ptq.int_model(cfg), max(splits), cfg.rows, cfg.cols, cfg.acc_depth)
    act, weights = prog.activation_words() * cfg.rows, prog.weight_bytes()
    return (max(cfg.act_mem_bytes, 1 << (act - 1).bit_length()),
            max(cfg.weight_mem_bytes, 1 << (weights - 1).bit_length()))


def soc_point(cfg, splits, block="soc"):
    """The hardware point of ``cfg``'s board and array shape, with memories that hold ``splits``."""
    act, wgt = memories_for(cfg, splits)
    return {"board": cfg.board, "rows": cfg.rows, "cols": cfg.cols, "block": block, "act_mem_bytes": act,
            "weight_mem_bytes": wgt}


def cache_path(cache_dir, point, fingerprint=None):
    return Path(cache_dir) / f"{point_key(point, fingerprint or rtl_fingerprint())}.json"


def cached_or_built(point, cache_dir, building=lambda: None):
    """``(result, from_cache)`` of one hardware point: the cached result, else built here, without
    Dask (``building()`` called first), and cached."""
    path = cache_path(cache_dir, point)
    if path.exists():
        return json.loads(path.read_text())["result"], True
    building()
    result = hardware_task(point, str(Path(cache_dir) / "builds"))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"point": point, "result": result}))
    return result, False


def hardware_task(point, build_root):
    """Build one ``{"board", "rows", "cols", "block", "act_mem_bytes", "weight_mem_bytes"}`` point;
    its figures, or ``{"failed": why}``."""
    from golden.config import TARGET_MHZ, Config

    start = time.time()
    try:
        cfg = Config(board=point["board"], rows=point["rows"], cols=point["cols"],
                     act_mem_bytes=point["act_mem_bytes"], weight_mem_bytes=point["weight_mem_bytes"])
        where = Path(build_root) / "_".join(str(point[k]) for k in ("board", "rows", "cols", "block"))
        if point["block"] == "soc":
            from .build import build

            r = build(cfg, point["board"], build_dir=where)
            if not r["fits"]:
                return {"failed": r.get("error", "does not fit"), "seconds": time.time() - start}
            clock = r["clock_mhz"]
        else:
            from rtl.systolic import SystolicArray

            from .synth import synthesize

            r = synthesize(SystolicArray(rows=cfg.rows, cols=cfg.cols, acc_width=cfg.acc_width), "systolic",
                           ARCH[point["board"]], freq_mhz=TARGET_MHZ[point["board"]], build_dir=where)
            if not r["fits"]:
                return {"failed": "the array does not fit the part", "seconds": time.time() - start}
            clock = cfg.core_mhz
    except EdgesplitError as exc:
        return {"failed": str(exc), "seconds": time.time() - start}
    util = r["utilization"] or {}
    cells = next((util[k]["used"] for k in _CELLS if k in util), None)
    return {"fmax_mhz": r["fmax_mhz"], "clock_mhz": clock, "cells": cells,
            "utilization": {k: v["used"] for k, v in util.items()}, "seconds": time.time() - start}


def run(points, cache_dir, client, progress=True):
    """The result of every hardware point, from the cache where it is, else as a Dask task on
    ``client``; returns ``(results by point index, how many came from the cache)``."""
    from distributed import as_completed
    from tqdm import tqdm

    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    fingerprint = rtl_fingerprint()
    results, todo = {}, {}
    for i, p in enumerate(points):
        path = cache_path(cache_dir, p, fingerprint)
        if path.exists():
            results[i] = json.loads(path.read_text())["result"]
        else:
            todo[client.submit(hardware_task, p, str(cache_dir / "builds"), pure=False)] = (i, path)
    cached = len(results)
    bar = tqdm(total=len(points), initial=cached, disable=not progress, desc="sweep", unit="point")
    for fut in as_completed(list(todo)):
        i, path = todo[fut]
        try:
            results[i] = fut.result()
        except Exception as exc:  # a task that raised (a bug, a lost worker): recorded, not retried
            results[i] = {"failed": f"{type(exc).__name__}: {exc}"}
        path.write_text(json.dumps({"point": points[i], "result": results[i]}))
        bar.update(1)
    bar.close()
    return results, cached


def join(hardware, codec_points, cycles, bandwidth):
    """Rows of every hardware point (``(point, result)``) with every codec point (dicts of ``split``,
    ``bits``, ``accuracy``, ``bits_per_frame``); ``cycles`` maps ``(board, rows, cols, split)``."""
    from golden.throughput import packets_bytes

    rows = []
    for point, res in hardware:
        if "failed" in res:
            continue
        clock = min(res["fmax_mhz"] or 0, res["clock_mhz"])
        for c in codec_points:
            cyc = cycles[(point["board"], point["rows"], point["cols"], c["split"])]
            device = clock * 1e6 / cyc if clock else 0.0
            link = bandwidth / 8 / packets_bytes(c["bits_per_frame"] / 8)
            rows.append(dict(point, **c, cells=res["cells"], fmax_mhz=res["fmax_mhz"], clock_mhz=clock,
                             cycles=cyc, fps=min(device, link), bound="device" if device < link else "link"))
    for r in rows:
        r["pareto"] = not any(_dominates(o, r) for o in rows)
    return rows


def _dominates(a, b):
    """Whether ``a`` is no worse than ``b`` on all four objectives and better on one."""
    ge = (a["accuracy"] >= b["accuracy"], a["bits_per_frame"] <= b["bits_per_frame"], a["fps"] >= b["fps"],
          (a["cells"] or 0) <= (b["cells"] or 0))
    gt = (a["accuracy"] > b["accuracy"], a["bits_per_frame"] < b["bits_per_frame"], a["fps"] > b["fps"],
          (a["cells"] or 0) < (b["cells"] or 0))
    return all(ge) and any(gt)


def plot(rows, path):
    """Bits per frame against frames per second, colour the logic cells, the Pareto points ringed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    sc = ax.scatter([r["bits_per_frame"] for r in rows], [r["fps"] for r in rows], c=[r["cells"] or 0 for r in rows],
                    s=[10 + 200 * max(0.0, r["accuracy"] - 0.9) for r in rows], cmap="viridis")
    front = [r for r in rows if r["pareto"]]
    ax.scatter([r["bits_per_frame"] for r in front], [r["fps"] for r in front], facecolors="none", edgecolors="r",
               s=80, label="Pareto (accuracy, bits, fps, cells)")
    fig.colorbar(sc, label="logic cells (LUT4 / LC)")
    ax.set(xscale="log", yscale="log", xlabel="bits per frame", ylabel="frames per second")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
