"""edgesplit explore (issue 20): latency and throughput of every operating point from its costs, the
best by each, host-only and edge-only; and the cycle model it uses checked against the RTL, layer by
layer, on three networks."""

import json
import subprocess
import sys

import pytest

from fpga import sweep
from golden import explore, layer_engine
from golden.config import Config
from golden.throughput import packets_bytes
from sim import device

COSTS = {"clock_mhz": 10, "host_full_s": 0.004, "raw_bytes": 4096, "edge_only_cycles": 200_000}


def point(split, bits, accuracy, frame_bits, cycles, host_s):
    return {"method": "edgesplit", "split": split, "bits": bits, "accuracy": accuracy,
            "bits_per_frame": frame_bits, "device_cycles": cycles, "host_s": host_s}


def test_latency_is_the_sum_and_throughput_the_slowest_stage():
    pts = [point(1, 3, 0.98, 8000, 20_000, 0.003), point(3, 4, 0.975, 1600, 150_000, 0.0001),
           point(3, 1, 0.90, 400, 150_000, 0.0001)]  # outside the 1% bound
    slow, fast = explore.explore(pts, [250e3, 10e6], float_top1=0.98, **COSTS)
    assert {p["bits"] for p in slow["points"]} == {3, 4}
    p1 = next(p for p in slow["points"] if p["split"] == 1)
    link = packets_bytes(1000) / (250e3 / 8)
    assert p1["stages_s"] == {"device": 20_000 / 10e6, "link": link, "host": 0.003}
    assert p1["latency_s"] == pytest.approx(0.002 + link + 0.003) and p1["bound"] == "link"
    assert p1["fps"] == pytest.approx(1 / link)
    # a slow link favours the small frame at split 3, a fast one the cheap device work at split 1
    assert slow["best_latency"]["split"] == 3 and fast["best_latency"]["split"] == 1
    assert fast["best_throughput"]["bound"] == "host"  # 3 ms of host layers at split 1
    ho = slow["host_only"]
    assert ho["stages_s"]["link"] == pytest.approx(packets_bytes(4096, ack=False) / (250e3 / 8))
    assert slow["edge_only"]["stages_s"]["device"] == pytest.approx(0.02)
    assert slow["fps_vs_host_only"] == pytest.approx(slow["best_throughput"]["fps"] / ho["fps"])
    curves, host, edge, changes = explore.crossovers(slow["points"], [1e5, 1e6, 1e7, 1e8], **COSTS)
    assert set(curves) == {1, 3} and len(host) == len(edge) == 4 and changes and changes[0][1:] == (3, 1)


def test_explore_on_the_command_line(tmp_path):
    """Its clock from the sweep's build cache (a cached build of the default SoC: explore builds one
    only when none is there), its best point within the bound, a bad argument refused."""
    run = [sys.executable, "-m", "edgesplit", "explore"]
    point = sweep.soc_point(Config(), Config().spec.splits)
    sweep.cache_path(tmp_path, point).write_text(json.dumps(
        {"point": point, "result": {"fmax_mhz": 20.5, "clock_mhz": 24.0, "cells": 5000}}))
    p = subprocess.run(run + ["--splits", "3", "--bits-list", "3", "4", "--bandwidth", "250e3,10e6",
                              "--host-repeats", "2", "--cache", str(tmp_path), "--json", str(tmp_path / "e.json")],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    r = json.loads((tmp_path / "e.json").read_text())
    assert r["clock_mhz"] == 20.5 and "from the build cache" in r["clock_source"]
    assert [e["bandwidth_bps"] for e in r["bandwidths"]] == [250e3, 10e6]
    best = r["bandwidths"][0]["best_latency"]
    assert best["split"] == 3 and best["bits"] in (3, 4) and best["accuracy"] >= r["float_top1"] - 0.01
    assert "schedule model" in r["cycles_source"] and best["device_cycles"] == layer_engine.schedule_for(
        Config())["cycles"]
    p = subprocess.run(run + ["--bandwidth", "fast"], capture_output=True, text=True, timeout=300)
    assert p.returncode == 2 and "Traceback" not in p.stderr and "--bandwidth must be" in p.stderr
    (tmp_path / "failed").mkdir()  # a build that failed is a clear error, not a clock
    sweep.cache_path(tmp_path / "failed", point).write_text(json.dumps(
        {"point": point, "result": {"failed": "does not fit: 9000 of 5280 LCs"}}))
    p = subprocess.run(run + ["--cache", str(tmp_path / "failed")], capture_output=True, text=True, timeout=300)
    assert p.returncode == 2 and "Traceback" not in p.stderr and "9000 of 5280" in p.stderr


MODEL_CHECK = [
    pytest.param(Config(), id="digits64-up5k", marks=pytest.mark.slow),  # test_cocotb_edge checks it per frame
    pytest.param(Config(network="golden/data/networks/rgb32.json"), id="rgb32-up5k", marks=pytest.mark.slow),
    pytest.param(Config(network="golden/data/networks/k5pool3.json", random_weights=1, board="ulx3s-85f"),
                 id="k5pool3-ulx3s", marks=pytest.mark.slow),
]


@pytest.mark.parametrize("cfg", MODEL_CHECK)
def test_the_cycle_model_is_within_2_percent_of_the_rtl_on_every_layer(cfg, tmp_path):
    """What explore takes from the schedule model (it says so) is this close to the RTL's counters."""
    r = device.simulate(cfg, frames=1, build_dir=tmp_path, idle=0.0, stall=0.0)
    assert r["frames_identical"] == 1
    measured = r["per_frame"][0]["layer_cycles"]
    model = [x["cycles"] for x in layer_engine.schedule_for(cfg)["layers"]]
    assert len(measured) == len(model) and all(abs(m - x) / x < 0.02 for m, x in zip(measured, model)), \
        (measured, model)
