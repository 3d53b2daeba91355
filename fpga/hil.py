"""Hardware in the loop: drive an edge device over the link and compare it with the golden model.

The device is a board on a serial port or a simulated device on ``socket://127.0.0.1:P``; the code
path is the same (:class:`fpga.host.Link`).
"""

import time

import numpy as np

from golden import datasets
from golden.codec import Codec
from golden.edge_device import device_frames
from golden.errors import EdgesplitError
from golden.layer_engine import engine_image, program_for
from golden import link as L
from golden.link import LinkError

from .host import Link


def run(cfg, port, frames=8, baud=None, timeout=5.0):
    """Load the device (weights, parameters and layer program, then codec settings and tables), send
    ``frames`` test frames, check every reply; returns the report."""
    codec = Codec.for_config(cfg)
    test = datasets.embedded(cfg, "test")
    images = test.images[:frames]
    want, features = device_frames(cfg, images, codec=codec)
    ds = codec.device_settings(cfg, features.shape[1:], seq=0)
    with Link(port, baud or cfg.baud, timeout) as link:
        ident = link.ident()
        mine = {"split": cfg.split, "feature_shape": list(features.shape[1:]),
                "frame_shape": list(cfg.spec.in_shape)}
        theirs = {k: ident[k] for k in mine}
        if mine != theirs:
            raise LinkError(f"the device on {port} runs {theirs}, this configuration needs {mine}: build "
                            f"the device for this configuration or pass its --split")
        image = engine_image(program_for(cfg), cfg.act_mem_bytes, cfg.weight_mem_bytes)
        memory_bytes = link.load_memories(image, ident["max_payload"])
        link.load(ds)
        start = time.monotonic()
        got = [link.frame(L.frame_bytes(img)) for img in images]
        seconds = time.monotonic() - start
        counters = link.counters(cfg.split)
        stats = {"memory_bytes": memory_bytes, "tx_bytes": link.tx_bytes, "rx_bytes": link.rx_bytes,
                 "retries": link.retries}
    per, feats = [], []
    q = codec.quantize(cfg, features)
    for i, (g, w) in enumerate(zip(got, want)):
        entry = {"index": i, "identical": g == w, "bytes": len(g)}
        try:
            dec = codec.decode(g)
            entry["decodes_to_golden"] = bool(np.array_equal(dec.levels, q[i]))
            feats.append(dec.features)
        except EdgesplitError as exc:
            entry["decodes_to_golden"] = False
            entry["decode_error"] = str(exc)
            feats.append(np.zeros(features.shape[1:]))
        per.append(entry)
    labels = np.asarray(test.labels[:len(per)])
    accuracy, golden = _top1(cfg, [feats, [codec.decode(w).features for w in want]], labels)
    return {
        "port": port, "device": ident, "frames": len(per), "frames_identical": sum(e["identical"] for e in per),
        "frames_decoded": sum(e["decodes_to_golden"] for e in per), "accuracy": accuracy,
        "golden_accuracy": golden,
        "fps": len(per) / seconds if seconds else None, "seconds": seconds,
        "link": stats, "frame_bytes": [e["bytes"] for e in per], "device_counters": counters, "per_frame": per,
    }


def _top1(cfg, feature_sets, labels):
    """Top-1 of the host layers on each set of dequantized features (uint8 units) of the first test
    frames (the model is loaded once)."""
    import torch

    from golden import network, ptq

    model = network.load_bundle(cfg).model(cfg.spec)
    scale = np.float32(ptq.int_model(cfg).scale(cfg.split))
    out = []
    with torch.no_grad():
        for feats in feature_sets:
            pred = model.host_forward(torch.from_numpy(np.asarray(feats, np.float32) * scale), cfg.split)
            out.append(float((pred.argmax(1).numpy() == labels).mean()))
    return out
