"""edgesplit sweep (issue 20): builds as Dask tasks on a LocalCluster, cached by point and RTL hash,
joined with the codec's accuracy and rate into a Pareto front."""

import json
import subprocess
import sys

from fpga import sweep


def row(acc, bits, fps, cells):
    return {"accuracy": acc, "bits_per_frame": bits, "fps": fps, "cells": cells}


def test_pareto_marks_the_points_no_other_beats_on_all_four():
    hw = [({"board": "ulx3s-85f", "rows": 2, "cols": 2, "block": "soc"},
           {"fmax_mhz": 120.0, "clock_mhz": 100.0, "cells": 100}),
          ({"board": "ulx3s-85f", "rows": 4, "cols": 4, "block": "soc"},
           {"fmax_mhz": 90.0, "clock_mhz": 100.0, "cells": 400}),
          ({"board": "ulx3s-85f", "rows": 8, "cols": 8, "block": "soc"}, {"failed": "does not fit"})]
    codec = [{"split": 1, "bits": 2, "accuracy": 0.95, "bits_per_frame": 4000},
             {"split": 1, "bits": 3, "accuracy": 0.97, "bits_per_frame": 8000}]
    cycles = {("ulx3s-85f", 2, 2, 1): 400_000, ("ulx3s-85f", 4, 4, 1): 100_000}
    rows = sweep.join(hw, codec, cycles, bandwidth=10e6)
    assert len(rows) == 4  # the failed point is left out
    r = next(x for x in rows if x["rows"] == 2 and x["bits"] == 2)
    assert r["clock_mhz"] == 100.0 and r["fps"] == 250.0 and r["bound"] == "device"  # Fmax capped at the clock
    r4 = next(x for x in rows if x["rows"] == 4 and x["bits"] == 3)
    assert r4["clock_mhz"] == 90.0 and r4["fps"] == min(900.0, 10e6 / 8 / sweep_packets(1000))
    assert all(x["pareto"] for x in rows)  # each is best at something: cells, fps, bits or accuracy
    assert sweep._dominates(row(0.97, 100, 10, 5), row(0.96, 100, 10, 5))
    assert not sweep._dominates(row(0.97, 100, 10, 5), row(0.97, 100, 10, 5))


def sweep_packets(n):
    from golden.throughput import packets_bytes

    return packets_bytes(n)


def test_a_tiny_sweep_on_a_local_cluster_then_from_the_cache(tmp_path):
    run = [sys.executable, "-m", "edgesplit", "sweep", "--rows", "2", "--cols", "2,3", "--block", "systolic",
           "--split", "3", "--bits", "3", "--workers", "2", "--cache", str(tmp_path / "cache")]
    first = subprocess.run(run + ["--json", str(tmp_path / "a.json")], capture_output=True, text=True, timeout=900)
    assert first.returncode == 0, first.stderr
    a = json.loads((tmp_path / "a.json").read_text())
    assert a["built"] == 2 and a["from_cache"] == 0 and len(a["rows"]) == 2
    assert all(r["fmax_mhz"] > 50 and r["cells"] > 0 for r in a["rows"])
    assert {(r["rows"], r["cols"]) for r in a["rows"]} == {(2, 2), (2, 3)}
    second = subprocess.run(run + ["--json", str(tmp_path / "b.json")], capture_output=True, text=True, timeout=900)
    assert second.returncode == 0, second.stderr
    b = json.loads((tmp_path / "b.json").read_text())
    assert b["built"] == 0 and b["from_cache"] == 2 and b["rows"] == a["rows"]
    bad = subprocess.run([sys.executable, "-m", "edgesplit", "sweep", "--rows", "2,x"], capture_output=True,
                         text=True, timeout=300)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and "--rows must be" in bad.stderr
