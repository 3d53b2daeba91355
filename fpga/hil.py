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
from golden.layer_engine import image_for
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
        mine = {"split": cfg.split, "feature_shape": list(cfg.feature_shape),
                "frame_shape": list(cfg.spec.in_shape)}
        theirs = {k: ident[k] for k in mine}
        if mine != theirs:
            raise LinkError(f"the device on {port} runs {theirs}, this configuration needs {mine}: build "
                            f"the device for this configuration or pass its --split")
        image = image_for(cfg)
        memory_bytes = link.load_memories(image, ident["max_payload"])
        link.load(ds)
        start = time.monotonic()
        got = [link.frame(L.frame_bytes(img)) for img in images]
        seconds = time.monotonic() - start
        counters = link.counters(cfg.split)
        stats = {"memory_bytes": memory_bytes, "tx_bytes": link.tx_bytes, "rx_bytes": link.rx_bytes,
                 "retries": link.retries}
    per, decoded = [], []
    q = codec.quantize(cfg, features)
    for i, (g, w) in enumerate(zip(got, want)):
        entry = {"index": i, "identical": g == w, "bytes": len(g)}
        try:
            dec = codec.decode(g)
            entry["decodes_to_golden"] = bool(np.array_equal(dec.levels, q[i]))
            decoded.append(dec)
        except EdgesplitError as exc:
            entry["decodes_to_golden"] = False
            entry["decode_error"] = str(exc)
            decoded.append(None)
        per.append(entry)
    labels = np.asarray(test.labels[:len(per)])
    accuracy, golden = _top1(cfg, [decoded, [codec.decode(w) for w in want]], labels, features.shape[1:])
    return {
        "port": port, "device": ident, "frames": len(per), "frames_identical": sum(e["identical"] for e in per),
        "frames_decoded": sum(e["decodes_to_golden"] for e in per), "accuracy": accuracy,
        "golden_accuracy": golden,
        "fps": len(per) / seconds if seconds else None, "seconds": seconds,
        "link": stats, "frame_bytes": [e["bytes"] for e in per], "device_counters": counters, "per_frame": per,
    }


def _top1(cfg, decoded_sets, labels, shape):
    """Top-1 of the host on each set of decoded frames (:class:`golden.codec.Decoded`, ``None``
    for one that did not decode: zeros) of the first test frames: the network's host layers on the
    dequantized features, or with a bottleneck its decoder and fine-tuned host layers on the code."""
    import torch

    from golden import network, ptq

    if cfg.bottleneck is not None:
        from golden import bottleneck_int

        return [float((bottleneck_int.host_logits(cfg, [d.levels if d else np.zeros(shape) for d in ds], cfg.bits)
                       .argmax(1) == labels).mean()) for ds in decoded_sets]
    model = network.load_bundle(cfg).model(cfg.spec)
    scale = np.float32(ptq.int_model(cfg).scale(cfg.split))
    out = []
    with torch.no_grad():
        for ds in decoded_sets:
            feats = [d.features if d else np.zeros(shape) for d in ds]
            pred = model.host_forward(torch.from_numpy(np.asarray(feats, np.float32) * scale), cfg.split)
            out.append(float((pred.argmax(1).numpy() == labels).mean()))
    return out
