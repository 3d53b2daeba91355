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
