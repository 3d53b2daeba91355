"""The edgesplit command as a user runs it: exit codes, one-line errors, JSON outputs."""

import hashlib
import json
import subprocess
import sys

import numpy as np
import pytest


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "edgesplit", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, timeout=600)


def assert_one_line_error(p, text):
    assert p.returncode == 2, (p.returncode, p.stderr)
    assert "Traceback" not in p.stderr
    lines = [line for line in p.stderr.splitlines() if line.startswith("edgesplit: error")]
    assert len(lines) == 1 and text in lines[0], p.stderr


def test_config_prints_and_writes(tmp_path):
    p = run("config", "--bits", 4, "--json", tmp_path / "c.json")
    assert p.returncode == 0
    assert json.loads(p.stdout)["bits"] == 4
    assert json.loads((tmp_path / "c.json").read_text())["bits"] == 4


@pytest.mark.parametrize("args, text", [
    (["config", "--bits", "9"], "bits must be between 1 and 8, not 9"),
    (["config", "--split", "7"], "split must be one of [1, 2, 3]"),
    (["config", "--clip", "0"], "clip must be an integer between 1 and 255"),
    (["config", "--config", "/nonexistent/c.json"], "does not exist"),
    (["decode", "/nonexistent/frame.bin"], "cannot read /nonexistent/frame.bin"),
    (["encode", "--index", "99999", "-o", "x.bin"], "--index must be between 0 and"),
    (["eval", "--splits", "5"], "unknown split(s) [5]"),
    (["bottleneck", "--epochs", "0"], "--epochs must be between 1 and 1000, not 0"),
    (["demo", "--weights", "/nonexistent/m.npz"], "does not exist"),
    (["demo", "--rtl-frames", "-1"], "--rtl-frames must be between 0 and 64, not -1"),
    (["sim", "--frames", "0"], "--frames must be between 1 and"),
    (["sim", "--stall", "1.5"], "--stall must be between 0.0 and 0.9, not 1.5"),
    (["sim", "--network", "/nonexistent/n.json"], "network file '/nonexistent/n.json' does not exist"),
    (["sim", "--network", "rgb32"], "unknown network 'rgb32'"),
    (["sim", "--random-weights", "-1"], "random_weights must be a non-negative integer seed"),
    (["sim", "--part", "netlist", "--sim", "icarus"], "the post-synthesis check models the FPGAs' cells in Verilator"),
])
def test_bad_input_one_line_nonzero(args, text, tmp_path):
    assert_one_line_error(run(*args, cwd=tmp_path), text)


def test_bad_json_config(tmp_path):
    (tmp_path / "c.json").write_text("{bits: 3")
    assert_one_line_error(run("config", "--config", tmp_path / "c.json"), "not valid JSON")
    (tmp_path / "d.json").write_text('{"bits": 3, "colour": 1}')
    assert_one_line_error(run("config", "--config", tmp_path / "d.json"), "unknown configuration key")


def test_encode_decode_round_trip(tmp_path, cfg, codec, test_features):
    c = cfg.replace(split=2, bits=3)
    p = run("encode", "--index", 5, "--split", 2, "--bits", 3, "-o", tmp_path / "f.bin")
    assert p.returncode == 0, p.stderr
    p = run("decode", tmp_path / "f.bin", "--json", tmp_path / "d.json")
    assert p.returncode == 0, p.stderr
    out = json.loads((tmp_path / "d.json").read_text())
    q = codec.quantize(c, test_features[1][5])
    assert out["shape"] == list(q.shape) and out["dtype"] == "uint8"
    assert out["sha256"] == hashlib.sha256(q.tobytes()).hexdigest()
    data = bytearray((tmp_path / "f.bin").read_bytes())
    data[30] ^= 0x04
    (tmp_path / "bad.bin").write_bytes(bytes(data))
    assert_one_line_error(run("decode", tmp_path / "bad.bin"), "CRC-32 mismatch")
    (tmp_path / "short.bin").write_bytes(bytes(data[:12]))
    assert_one_line_error(run("decode", tmp_path / "short.bin"), "truncated frame")


def test_eval_small_json_and_plot(tmp_path):
    p = run("eval", "--splits", 3, "--bits-list", 2, 3, "--no-baselines", "--json", tmp_path / "e.json",
            "--plot", tmp_path / "e.png")
    assert p.returncode == 0, p.stderr
    r = json.loads((tmp_path / "e.json").read_text())
    for key in ("float_accuracy", "int8_accuracy", "raw_bits_per_frame", "points"):
        assert key in r
    pts = [x for x in r["points"] if x["method"] == "edgesplit"]
    assert {x["bits"] for x in pts} == {2, 3}
    for x in pts:
        assert {"method", "split", "bits", "accuracy", "bits_per_frame", "bits_per_element"} <= set(x)
    assert (tmp_path / "e.png").stat().st_size > 1000


def test_demo_json(tmp_path):
    p = run("demo", "--frames", 4, "--rtl-frames", 1, "--build-dir", tmp_path, "--json", tmp_path / "demo.json")
    assert p.returncode == 0, p.stderr
    r = json.loads((tmp_path / "demo.json").read_text())
    assert r["roundtrip_identical"] == r["roundtrip_frames"] == 4
    assert r["float_accuracy"] >= 0.95 and r["bits_per_frame"] < r["raw_bits_per_frame"]
    assert "bit-exact" in p.stdout
    # the simulated edge device: one camera frame to frame bytes, identical with golden
    rtl = r["rtl"]
    assert rtl["frames"] == rtl["frames_identical"] == rtl["frames_decoded"] == 1
    assert rtl["latency_cycles"][0] > rtl["compute_cycles_per_frame"] > 0 and rtl["projected_fps"] > 0


def test_bench_and_fuzz_small(tmp_path):
    p = run("bench", "--frames", 50, "--repeats", 1, "--no-rtl", "--json", tmp_path / "b.json")
    assert p.returncode == 0, p.stderr
    b = json.loads((tmp_path / "b.json").read_text())["codec"]
    assert b["frames"] == 50 and b["decode_mbit_per_s"] > 0 and b["uart_payload_mbit_per_s"] == 2.4
    p = run("fuzz", "--count", 140, "--seed", 3, "--json", tmp_path / "f.json")
    assert p.returncode == 0, p.stderr
    f = json.loads((tmp_path / "f.json").read_text())
    assert f["frames"] == 140 and f["crashes"] == 0 and f["wrongly_accepted"] == 0
    assert np.isfinite(f["max_decode_ms"])


def test_verilog_and_schedule(tmp_path):
    p = run("verilog", "--block", "edge", "-o", tmp_path / "e.v", "--split", 1)
    assert p.returncode == 0, p.stderr
    assert "module edge_part(" in (tmp_path / "e.v").read_text().replace(" (", "(")
    p = run("verilog", "-o", tmp_path / "d.v")
    assert p.returncode == 0, p.stderr
    text = (tmp_path / "d.v").read_text().replace(" (", "(")
    assert "module edge_device(" in text and "codec.framer" in text and "code_w__payload" in text
    p = run("verilog", "--block", "systolic", "-o", tmp_path / "s.v", "--rows", 2, "--cols", 3)
    assert p.returncode == 0, p.stderr
    text = (tmp_path / "s.v").read_text()
    assert "module systolic" in text and "x__payload" in text and "y__payload" in text
    p = run("schedule", "--json", tmp_path / "s.json")
    assert p.returncode == 0, p.stderr
    s = json.loads((tmp_path / "s.json").read_text())
    assert {"utilization", "layers", "cycles"} <= set(s) and len(s["layers"]) == 3
    assert_one_line_error(run("schedule", "--rows", 0), "rows must be between 1 and 64, not 0")
    assert_one_line_error(run("schedule", "--split", 3, "--config", tmp_path / "nope.json"), "does not exist")


def test_sim_small(tmp_path):
    p = run("sim", "--frames", 2, "--split", 1, "--bits", 2, "--rows", 8, "--cols", 8, "--build-dir", tmp_path,
            "--json", tmp_path / "s.json")
    assert p.returncode == 0, p.stderr
    r = json.loads((tmp_path / "s.json").read_text())
    assert r["frames"] == r["frames_identical"] == r["frames_decoded"] == 2
    assert r["frame_period_cycles"] > r["compute_cycles_per_frame"] > 0
    p = run("sim", "--part", "edge", "--frames", 1, "--split", 1, "--build-dir", tmp_path,
            "--json", tmp_path / "e.json")
    assert p.returncode == 0, p.stderr
    r = json.loads((tmp_path / "e.json").read_text())
    assert r["frames"] == r["bit_exact"] == 1 and r["cycles_per_frame"] > 0
    assert_one_line_error(run("sim", "--rows", 2, "--cols", 8, "--build-dir", tmp_path),
                          "layer 1: a 8-channel output beat can span 4 activation words")
