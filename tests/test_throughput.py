"""The fps benchmark's model (golden.throughput) and `edgesplit fps`."""

import json
import subprocess
import sys

import pytest

from golden import datasets, throughput
from golden import link as L
from golden.edge_device import device_frames


def test_reply_bytes_are_what_the_device_sends(cfg, codec):
    """packets_bytes(frame) is the length of the reference device's whole reply to FRAME."""
    images = datasets.embedded(cfg, "test").images[:4]
    frames, feats = device_frames(cfg, images, codec=codec)
    dev = L.DeviceModel(cfg)
    ds = codec.device_settings(cfg, feats.shape[1:], seq=0)
    dev.receive(L.packet(L.SETTINGS, 1, L.settings_payload(ds.settings)))
    dev.receive(L.packet(L.CODE_TABLE, 2, L.code_table_payload(ds.code_words)))
    dev.receive(L.packet(L.LEVEL_TABLE, 4, bytes(ds.level_table)))
    for img, f in zip(images, frames):
        assert len(dev.receive(L.packet(L.FRAME, 3, img.tobytes()))) == throughput.packets_bytes(len(f))
    assert throughput.packets_bytes(0) == 2 * 9  # an ACK and an empty DATA_END


def test_each_way_runs_at_its_slowest_stage():
    r = throughput.compare(clock_mhz=10, split_cycles=100_000, edge_only_cycles=200_000, coded_bytes=200,
                           raw_bytes=4096, host_tail_s=1e-4, host_full_s=1e-3, links={"slow": 1000.0})["slow"]
    assert r["split"]["bound"] == "link" and r["split"]["fps"] == pytest.approx(1000 / (9 + 4 * 9 + 200))
    assert r["host_only"]["fps"] == pytest.approx(1000 / (64 * 9 + 4096))
    assert r["edge_only"]["bound"] == "device" and r["edge_only"]["fps"] == pytest.approx(50)
    assert r["split_vs_host_only"] == pytest.approx(r["split"]["fps"] / r["host_only"]["fps"])


def test_edge_only_is_the_whole_network_on_the_array(cfg):
    from golden import layer_engine

    eo = throughput.edge_only(cfg)
    sched = layer_engine.schedule_for(cfg)
    assert eo["edge_layer_cycles"] == sched["cycles"]
    assert eo["host_block_cycles"] > 0 and eo["classifier_cycles"] == 256 * 3  # 1024 inputs, 10 classes
    assert eo["cycles"] == eo["edge_layer_cycles"] + eo["host_block_cycles"] + eo["classifier_cycles"]
    # the fourth block's 18 KB of weights do not fit the default 8 KB weight memory
    assert not eo["fits_memories"] and "8192" in eo["does_not_fit"]
    assert throughput.edge_only(cfg.replace(weight_mem_bytes=32768))["fits_memories"]


def test_fps_cli(tmp_path):
    out = tmp_path / "fps.json"
    p = subprocess.run([sys.executable, "-m", "edgesplit", "fps", "--rtl-frames", "0", "--frames", "20",
                        "--host-repeats", "3", "--fmax", "40", "--all-splits", "--json", str(out)],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    r = json.loads(out.read_text())
    assert r["clock_mhz"] == 40 and r["frames"] == 20
    for name in throughput.LINKS:
        row = r["links"][name]
        assert row["split"]["fps"] == min(row["split"]["stages"].values())
        assert row["split"]["stages"]["device"] == pytest.approx(40e6 / r["split_cycles_per_frame"])
        # (the host stages are timed on this machine, so the ratios themselves are not asserted)
        assert row["split_vs_host_only"] == pytest.approx(row["split"]["fps"] / row["host_only"]["fps"])
    assert "split / host-only" in p.stdout
    assert sorted(r["splits"]) == ["1", "2", "3"]
    assert r["splits"]["3"]["2 Mbps"]["host_only"]["stages"]["link"] == r["links"]["2 Mbps"]["host_only"]["stages"]["link"]
    bad = subprocess.run([sys.executable, "-m", "edgesplit", "fps", "--fmax", "-3"], capture_output=True,
                         text=True, timeout=300)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and "--fmax" in bad.stderr
    missing = subprocess.run([sys.executable, "-m", "edgesplit", "fps", "--build-json", str(tmp_path / "no.json")],
                             capture_output=True, text=True, timeout=300)
    assert missing.returncode == 2 and "cannot read fmax_mhz" in missing.stderr
