"""Offline steps that produce the shipped model: training, calibration, codec tables."""

import time
from pathlib import Path

from . import datasets, edge, network, ptq
from .tables import TABLE_FRAMES, build_tables, tables_path


def _host_accuracy(float_model, int_model, labels):
    import numpy as np
    import torch

    def accuracy(split, feats):
        with torch.no_grad():
            x = torch.from_numpy(np.asarray(feats, np.float32) * np.float32(int_model.scale(split)))
            pred = float_model.host_forward(x, split).argmax(1).numpy()
        return float((pred == labels).mean())

    return accuracy


def rebuild_tables(cfg, log=print):
    """Rebuild the codec tables of ``cfg``'s existing bundle (no training)."""
    bundle = network.load_bundle(cfg)
    return _tables(cfg, bundle, network.bundle_path(cfg), log, True)


def train_and_build(cfg, out=None, epochs=14, progress=True, log=print):
    """Train, calibrate and quantize the network of ``cfg``, build its codec tables, save both.

    Returns ``(bundle_path, tables_path, bundle)``.
    """
    out = network.bundle_path(cfg) if out is None else out
    bundle = network.train(cfg, epochs=epochs, progress=progress, log=log,
                           checkpoint=Path(out).with_name(Path(out).stem + ".partial.pt"))
    bundle.save(out)
    network._BUNDLES.clear()
    ptq._CACHE.clear()
    _tables(cfg, bundle, out, log, progress)
    return out, tables_path(out), bundle


def _tables(cfg, bundle, out, log, progress):
    start = time.time()
    model = ptq.quantize_bundle(bundle, cfg.spec)
    train_set = datasets.embedded(cfg, "train")
    features = edge.run_all(model, train_set.images[:TABLE_FRAMES])
    val = datasets.embedded(cfg, "val")
    val_features = edge.run_all(model, val.images)
    float_model = bundle.model(cfg.spec)
    tables = build_tables(cfg.spec, features, cfg.max_code_len,
                          validation=(val_features, _host_accuracy(float_model, model, val.labels)),
                          log=log if progress else None)
    tables.save(tables_path(out))
    log(f"codec tables for {len(tables.tables)} operating points built from {len(features[0])} train "
        f"frames, operating points chosen on {len(val)} validation frames, in "
        f"{time.time() - start:.0f} s")
    return tables
