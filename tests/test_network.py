import numpy as np
import pytest

from golden import network, ptq
from golden.config import Config
from golden.errors import ModelError


def test_bundle_round_trip_and_errors(cfg, tmp_path):
    b = network.load_bundle(cfg)
    b.save(tmp_path / "m.npz")
    again = network.Bundle.load(tmp_path / "m.npz", cfg.network)
    assert again.act_scales == b.act_scales
    assert all(np.array_equal(again.state[k], b.state[k]) for k in b.state)
    with pytest.raises(ModelError, match="does not exist"):
        network.Bundle.load(tmp_path / "none.npz")
    (tmp_path / "junk.npz").write_bytes(b"junk")
    with pytest.raises(ModelError, match="not an edgesplit model bundle"):
        network.Bundle.load(tmp_path / "junk.npz")
    with pytest.raises(ModelError, match="is for network"):
        network.Bundle.load(tmp_path / "m.npz", "othernet")


def test_quantized_bundle_is_deterministic(cfg):
    a = ptq.quantize_bundle(network.load_bundle(cfg), cfg.spec)
    b = ptq.quantize_bundle(network.load_bundle(cfg), cfg.spec)
    for la, lb in zip(a.layers, b.layers):
        assert np.array_equal(la.weight, lb.weight) and np.array_equal(la.mult, lb.mult)


def test_training_smoke(tmp_path):
    """One short epoch on a few frames: the loop runs, the bundle loads and quantizes."""
    cfg = Config(train_frames=256, test_frames=128)
    b = network.train(cfg, epochs=1, batch=64, progress=False, log=lambda m: None)
    assert len(b.act_scales) == len(cfg.spec.edge) and all(s > 0 for s in b.act_scales)
    b.save(tmp_path / "m.npz")
    model = ptq.quantize_bundle(network.Bundle.load(tmp_path / "m.npz"), cfg.spec)
    assert len(model.layers) == 3


@pytest.mark.slow
def test_full_training_reaches_its_accuracy(tmp_path):
    """The full training run and its table build. How long it takes is a benchmark figure, not a
    pass/fail check (a shared machine is slow): ``edgesplit train --json`` prints and writes
    ``train_seconds``, which this checks is recorded."""
    from golden import pipeline

    cfg = Config(weights=str(tmp_path / "m.npz"))
    _, _, b = pipeline.train_and_build(cfg, out=tmp_path / "m.npz", progress=False, log=lambda m: None)
    assert b.meta["train_seconds"] > 0
    assert b.meta["float_accuracy"] >= 0.95


def test_an_interrupted_training_resumes_where_it_stopped(tmp_path, monkeypatch):
    """Killed in its second epoch, a run with a checkpoint resumes after its first and ends with the
    weights an uninterrupted run gets, bit for bit; the checkpoint is gone at the end."""
    import torch

    cfg = Config(train_frames=128, test_frames=100)
    quiet = {"progress": False, "log": lambda m: None}
    whole = network.train(cfg, epochs=2, batch=64, **quiet)
    ck = tmp_path / "m.partial.pt"
    step = torch.optim.lr_scheduler.OneCycleLR.step
    calls = []

    def dying_step(self, *a, **k):
        calls.append(1)
        if len(calls) == 4:  # the scheduler steps once when made, then twice an epoch: epoch 2's first
            raise KeyboardInterrupt
        return step(self, *a, **k)

    monkeypatch.setattr(torch.optim.lr_scheduler.OneCycleLR, "step", dying_step)
    with pytest.raises(KeyboardInterrupt):
        network.train(cfg, epochs=2, batch=64, checkpoint=ck, **quiet)
    monkeypatch.setattr(torch.optim.lr_scheduler.OneCycleLR, "step", step)
    assert ck.exists()
    said = []
    resumed = network.train(cfg, epochs=2, batch=64, checkpoint=ck, progress=False, log=said.append)
    assert any("resuming" in m and "after epoch 1" in m for m in said) and not ck.exists()
    assert all(np.array_equal(whole.state[k], resumed.state[k]) for k in whole.state)
    # a checkpoint of another run is not used
    torch.save({"key": {"network": "other"}}, ck)
    said.clear()
    network.train(cfg, epochs=1, batch=64, checkpoint=ck, progress=False, log=said.append)
    assert any("another run" in m for m in said)


def test_the_shipped_rgb_example_meets_its_figures():
    """The RGB example (golden/data/networks/rgb32.json, trained on digits-rgb and shipped): float
    top-1 at least 95%, the int8 edge part within half a point of it at every split."""
    from golden import datasets, edge

    cfg = Config(network="golden/data/networks/rgb32.json", split=3)
    bundle = network.load_bundle(cfg)
    assert bundle.meta["data"] == "digits-rgb" and bundle.meta["float_accuracy"] >= 0.95
    test = datasets.embedded(cfg, "test")
    model, im = bundle.model(cfg.spec), ptq.int_model(cfg)
    import torch

    feats = edge.run_all(im, test.images)
    with torch.no_grad():
        for s, f in enumerate(feats, 1):
            x = torch.from_numpy(f.astype(np.float32) * np.float32(im.scale(s)))
            top1 = float((model.host_forward(x, s).argmax(1).numpy() == test.labels).mean())
            assert top1 >= bundle.meta["float_accuracy"] - 0.005, (s, top1)


def test_train_a_network_file_on_an_image_folder_then_run_it(tmp_path):
    """edgesplit train --network FILE --data folder:DIR, then demo on the user's network and bundle."""
    import json
    import subprocess
    import sys

    from PIL import Image

    rng = np.random.default_rng(0)
    for c in range(3):
        (tmp_path / "imgs" / f"c{c}").mkdir(parents=True)
        for i in range(30):
            img = rng.integers(0, 60, (20, 20, 3), dtype=np.uint8)
            img[:, :, c] += 150  # the class is the colour
            Image.fromarray(img).save(tmp_path / "imgs" / f"c{c}" / f"{i}.png")
    (tmp_path / "net.json").write_text(json.dumps({"name": "tiny", "in_shape": [3, 16, 16], "classes": 3,
                                                   "edge": [{"cout": 4, "k": 3, "pool": 2}]}))
    user = ["--network", str(tmp_path / "net.json"), "--data", f"folder:{tmp_path / 'imgs'}"]
    run = [sys.executable, "-m", "edgesplit"]
    p = subprocess.run(run + ["train", *user, "--epochs", "3", "--out", str(tmp_path / "tiny.npz"), "--json",
                              str(tmp_path / "t.json")], capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    meta = json.loads((tmp_path / "t.json").read_text())
    assert meta["data"] == f"folder:{tmp_path / 'imgs'}" and meta["float_accuracy"] > 0.9
    assert (tmp_path / "tiny_tables.json").exists() and not (tmp_path / "tiny.partial.pt").exists()
    # the bundle remembers its data: no --data needed from here on
    p = subprocess.run(run + ["demo", *user[:2], "--weights", str(tmp_path / "tiny.npz"), "--rtl-frames", "0",
                              "--frames", "4"], capture_output=True, text=True, timeout=600)
    assert p.returncode == 0 and "4/4 decode bit-exact" in p.stdout, p.stdout + p.stderr
