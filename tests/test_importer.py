"""edgesplit import (issue 22): a user's PyTorch nn.Sequential, with BatchNorm, becomes a network file
and a bundle that run like edgesplit's own; what cannot run is refused in one line."""

import json
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch
from torch import nn

from golden import datasets, edge, importer, ptq
from golden.config import Config
from golden.errors import ConfigError, ModelError

SMALL = {"train_frames": 200, "test_frames": 200}


def model(seed=0):
    """Conv-BN-ReLU-pool, a strided conv without bias and BN, a 1x1 conv, a classifier: digits64 frames."""
    torch.manual_seed(seed)
    m = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                      nn.Conv2d(4, 6, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(6), nn.ReLU(),
                      nn.Dropout(0.1), nn.Conv2d(6, 8, 1), nn.ReLU(), nn.MaxPool2d(2),
                      nn.Flatten(), nn.Dropout(0.2), nn.Linear(8 * 8 * 8, 10))
    with torch.no_grad():
        for bn in (m[1], m[5]):  # statistics as a trained network has them
            bn.running_mean.uniform_(-0.2, 0.2)
            bn.running_var.uniform_(0.3, 2.0)
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.uniform_(-0.1, 0.1)
    return m.eval()


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    out = tmp_path_factory.mktemp("imp")
    torch.save(model(), out / "m.pt")
    r = importer.import_model(out / "m.pt", 2, out / "net", cfg_changes=SMALL, log=lambda m: None)
    return r, out


def test_batchnorm_folds_into_the_convolution():
    m = model()
    (b1, w1, c1), (b2, w2, c2), _ = importer.blocks_of(m)[0]
    x = torch.rand(3, 1, 20, 20, dtype=torch.float64)
    want = m[1].double()(m[0].double()(x))
    got = nn.functional.conv2d(x, torch.from_numpy(w1), torch.from_numpy(c1), padding=1)
    assert torch.allclose(got, want, atol=1e-10) and (b1.pool, b2.stride, b2.pool) == (2, 2, 1)


def test_import_writes_a_network_and_bundle_equal_to_the_module(imported):
    r, out = imported
    assert r["float_top1"] == r["module_top1"] and r["in_shape"] == [1, 64, 64]  # digits64's frames
    net = json.loads((out / "net" / "network.json").read_text())
    assert [(b["k"], b["stride"], b["pool"]) for b in net["edge"]] == [(3, 1, 2), (3, 2, 1)]
    assert [(b["k"], b["pool"]) for b in net["host"]] == [(1, 2)] and net["data"] == "digits64"
    assert (out / "net" / "bundle_tables.json").exists()


def test_the_folded_int8_edge_equals_the_independent_integer_path(imported):
    r, _ = imported
    cfg = Config(network=r["network"], weights=r["bundle"], split=2, **SMALL)
    model_int = ptq.int_model(cfg)
    images = datasets.embedded(cfg, "test").images[:16]
    got = edge.run(model_int, images, 2)
    assert got.max() > 0 and np.array_equal(got, edge.torch_reference(model_int, images, 2))


def test_unsupported_models_are_refused(tmp_path):
    for bad, why in ((nn.Sequential(nn.Conv2d(1, 4, 3), nn.Sigmoid(), nn.Flatten(), nn.Linear(4, 2)),
                      "Sigmoid"),
                     (nn.Sequential(nn.Conv2d(1, 4, 2), nn.ReLU(), nn.Flatten(), nn.Linear(4, 2)), "kernel"),
                     (nn.Sequential(nn.Conv2d(1, 4, 3), nn.Flatten(), nn.Linear(4, 2)), "Flatten.*followed by a ReLU"),
                     (nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.AvgPool2d(2), nn.Flatten(), nn.Linear(4, 2)),
                      "AvgPool2d")):
        with pytest.raises((ConfigError, ModelError), match=why):
            importer.blocks_of(bad)
    with pytest.raises(ConfigError, match="--split must be between 1 and 3"):
        importer.to_network(model(), 4, "m", "digits64")


class Evil:
    def __reduce__(self):
        return (print, ("this must never run",))


def test_a_file_cannot_run_code_and_errors_are_one_line(tmp_path, capfd):
    evil = tmp_path / "evil.pt"
    torch.save({"x": Evil()}, evil)  # a pickle that would call print if loaded unsafely
    with pytest.raises(ModelError, match="cannot load it"):
        importer.load_module(evil)
    assert "this must never run" not in capfd.readouterr().out
    (tmp_path / "junk.pt").write_bytes(pickle.dumps([1, 2]) + b"junk")
    run = [sys.executable, "-m", "edgesplit", "import"]
    for args, msg in (([str(evil), "--split", "1", "-o", str(tmp_path / "o")], "cannot load it"),
                      ([str(tmp_path / "none.pt"), "--split", "1", "-o", str(tmp_path / "o")], "no PyTorch model"),
                      ([str(tmp_path / "junk.pt"), "--split", "1", "-o", str(tmp_path / "o")], "cannot load it"),
                      ([str(evil), "--split", "1", "-o", "o", "--data", "folder:"], "data must be")):
        p = subprocess.run(run + args, capture_output=True, text=True, timeout=300)
        assert p.returncode != 0 and "Traceback" not in p.stderr and msg in p.stderr, p.stderr
        assert len(p.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_import_on_the_command_line_then_sim(tmp_path):
    """The CLI end to end: import, then the user's network and bundle through the device's RTL."""
    torch.save(model(), tmp_path / "m.pt")
    run = [sys.executable, "-m", "edgesplit"]
    p = subprocess.run(run + ["import", str(tmp_path / "m.pt"), "--split", "2", "-o", str(tmp_path / "net")],
                       capture_output=True, text=True, timeout=900)
    assert p.returncode == 0, p.stderr
    user = ["--network", str(tmp_path / "net" / "network.json"), "--weights", str(tmp_path / "net" / "bundle.npz")]
    p = subprocess.run(run + ["sim", *user, "--frames", "2", "--build-dir", str(tmp_path / "b"), "--json",
                              str(tmp_path / "s.json")], capture_output=True, text=True, timeout=900)
    assert p.returncode == 0, p.stdout + p.stderr
    assert json.loads((tmp_path / "s.json").read_text())["frames_identical"] == 2


def test_a_network_too_big_for_the_device_is_refused_naming_the_memory(tmp_path):
    """A network the golden model runs but whose edge the device's weight memory cannot hold: one
    line naming the memory and what it needs (random weights: no training)."""
    net = {"name": "big", "in_shape": [1, 64, 64], "classes": 10, "edge": [
        {"cout": 8, "k": 3, "pool": 3}, {"cout": 64, "k": 5, "pool": 3}]}
    (tmp_path / "big.json").write_text(json.dumps(net))
    p = subprocess.run([sys.executable, "-m", "edgesplit", "schedule", "--network", str(tmp_path / "big.json"),
                        "--random-weights", "1"], capture_output=True, text=True, timeout=300)
    assert p.returncode == 2 and "Traceback" not in p.stderr, p.stderr
    assert "weight memory" in p.stderr and "weight_mem_bytes is 8192" in p.stderr, p.stderr
