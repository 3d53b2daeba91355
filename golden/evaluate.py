"""Rate-accuracy evaluation of the split system and its baselines (``edgesplit eval``).

For every candidate split, bits 1..8 and both quantizer modes the test frames go through the integer
edge part, the quantizer and the codec; the host dequantizes and finishes inference in float. Top-1
accuracy is measured on every test frame; rates are exact bit counts of the frames the encoder emits
(:func:`golden.rle.frame_bits`, equal to the encoder's own output; every point also round-trips a
sample of frames through the real encoder and decoder and fails loudly on any difference).

Baselines, per split:

- ``raw``: host-only inference on the raw uint8 frame (float accuracy, 8 bits per pixel);
- ``png``: lossless PNG of the channel-tiled quantized levels (same accuracy as ``edgesplit``);
- ``jpeg``: JPEG of the channel-tiled uint8 features over a quality sweep (Ko et al. 2018), the
  host dequantizing the decoded image; only the entropy-coded segment is counted (headers and tables
  are free for JPEG, a generous baseline);
- ``adaptive-bound``: the ideal code length of an adaptive arithmetic coder (Krichevsky-Trofimov
  estimates, restarted each frame, context = previous element zero or not) on the same quantized
  levels, the class of coder Choi and Bajic use;
- ``rle-entropy``: the empirical entropy of our own run-length symbols on the test frames plus their
  raw refinement bits, the floor for any static code of these symbols.
"""

import dataclasses
import io
import time

import numpy as np

from . import bottleneck_int, datasets, edge, network, ptq
from .codec import Codec
from .frame import OVERHEAD
from .rle import LONGRUN, frame_bits, symbol_counts

JPEG_QUALITIES = (5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95)
SAMPLE_FRAMES = 400  # frames used for the slower rate-only baselines (png, adaptive bound)
ROUNDTRIP_FRAMES = 16


def tile(feat):
    """Channel-tiled image of features ``(N, C, H, W)`` -> ``(N, rows*H, cols*W)``."""
    n, c, h, w = feat.shape
    cols = int(np.ceil(np.sqrt(c)))
    rows = (c + cols - 1) // cols
    pad = np.zeros((n, rows * cols - c, h, w), feat.dtype)
    x = np.concatenate([feat, pad], 1).reshape(n, rows, cols, h, w)
    return x.transpose(0, 1, 3, 2, 4).reshape(n, rows * h, cols * w)


def untile(img, c, h, w):
    n = img.shape[0]
    cols = int(np.ceil(np.sqrt(c)))
    rows = (c + cols - 1) // cols
    x = img.reshape(n, rows, h, cols, w).transpose(0, 1, 3, 2, 4).reshape(n, rows * cols, h, w)
    return x[:, :c]


def jpeg_scan_bytes(data):
    """Bytes of a baseline JPEG after its start-of-scan header (entropy-coded data and EOI)."""
    i = 2
    while i < len(data):
        marker, length = data[i + 1], int.from_bytes(data[i + 2:i + 4], "big")
        if marker == 0xDA:
            return len(data) - (i + 2 + length)
        i += 2 + length
    raise ValueError("no start-of-scan marker")


def jpeg_roundtrip(images, quality):
    """Decoded images and entropy-coded bytes of each uint8 image under JPEG ``quality``."""
    from PIL import Image

    out = np.empty_like(images)
    sizes = np.empty(len(images), np.int64)
    for i, img in enumerate(images):
        bio = io.BytesIO()
        Image.fromarray(img).save(bio, "JPEG", quality=int(quality))
        data = bio.getvalue()
        sizes[i] = jpeg_scan_bytes(data)
        with Image.open(io.BytesIO(data)) as im:
            out[i] = np.asarray(im.convert("L"))
    return out, sizes


def png_bytes(images):
    from PIL import Image

    sizes = np.empty(len(images), np.int64)
    for i, img in enumerate(images):
        bio = io.BytesIO()
        Image.fromarray(img).save(bio, "PNG", compress_level=9)
        sizes[i] = len(bio.getvalue())
    return sizes


def adaptive_bound(q, levels):
    """Ideal adaptive arithmetic-coding bits of each frame of ``q`` ``(F, ...)``.

    Krichevsky-Trofimov estimate per context (previous element zero / non-zero), restarted each
    frame: ``p(v) = (count(v) + 1/2) / (count + levels/2)`` over what the context has seen so far.
    """
    flat = np.asarray(q, np.int64).reshape(len(q), -1)
    f, n = flat.shape
    ctx = np.zeros_like(flat)
    ctx[:, 1:] = flat[:, :-1] != 0
    frame = np.repeat(np.arange(f), n)
    c = ctx.reshape(-1)
    v = flat.reshape(-1)

    def rank(key):
        order = np.argsort(key, kind="stable")
        sk = key[order]
        start = np.r_[0, np.flatnonzero(sk[1:] != sk[:-1]) + 1]
        run = np.repeat(start, np.diff(np.r_[start, len(sk)]))
        r = np.empty(len(key), np.int64)
        r[order] = np.arange(len(key)) - run
        return r

    seen_v = rank((frame * 2 + c) * levels + v)
    seen = rank(frame * 2 + c)
    bits = -np.log2((seen_v + 0.5) / (seen + levels / 2))
    return np.bincount(frame, weights=bits, minlength=f)


class Evaluator:
    """Shared state of an evaluation: models, test features, the host classifier."""

    def __init__(self, cfg, progress=None):
        import torch

        self.torch = torch
        self.cfg = cfg
        self.progress = progress or (lambda msg: None)
        self.bundle = network.load_bundle(cfg)
        self.model = self.bundle.model(cfg.spec)
        self.int_model = ptq.int_model(cfg)
        self.codec = Codec.for_config(cfg)
        self.test = datasets.embedded(cfg, "test")
        self.labels = np.asarray(self.test.labels)
        self._features = None

    @property
    def features(self):
        """uint8 features of all test frames after every edge block (integer reference)."""
        if self._features is None:
            self.progress("integer edge part on the test frames")
            self._features = edge.run_all(self.int_model, self.test.images)
        return self._features

    def float_accuracy(self):
        return float((network.predict(self.model, self.test.images) == self.labels).mean())

    def host_accuracy(self, split, feats):
        """Top-1 of the float host part on features ``feats`` in uint8 units (float array)."""
        torch = self.torch
        scale = self.int_model.scale(split)
        hits = 0
        with torch.no_grad():
            for i in range(0, len(feats), 600):
                x = torch.from_numpy(np.asarray(feats[i:i + 600], np.float32) * np.float32(scale))
                pred = self.model.host_forward(x, split).argmax(1).numpy()
                hits += int((pred == self.labels[i:i + 600]).sum())
        return hits / len(feats)

    def codec_point(self, split, bits, mode, clip=None, roundtrip=ROUNDTRIP_FRAMES):
        """Accuracy and rate of the edgesplit codec at one operating point on all test frames."""
        cfg = self.cfg.replace(split=split, bits=bits, quantizer=mode, clip=clip)
        table = self.codec.table(cfg)
        clip = self.codec.clip(cfg)
        f = self.features[split - 1]
        q = table.quantize(f, clip)
        payload_bits = frame_bits(q, table.code.lengths)
        frame_bytes = (payload_bits + 7) // 8 + OVERHEAD
        for i in range(min(roundtrip, len(f))):
            data = self.codec.encode(cfg, f[i], seq=i)
            dec = self.codec.decode(data)
            if len(data) != frame_bytes[i] or not np.array_equal(dec.levels, q[i]):
                raise AssertionError(f"codec round trip failed: split {split}, {bits} bits, {mode}, "
                                     f"frame {i}")
        acc = self.host_accuracy(split, table.levels(clip)[q])
        counts, extra = symbol_counts(q)
        code_bits = int((counts * table.code.lengths).sum())
        p = counts[counts > 0] / counts.sum()
        entropy_bits = float(-(p * np.log2(p)).sum() * counts.sum())
        elements = f[0].size
        return {
            "method": "edgesplit" if mode == "uniform" else "edgesplit-ecsq", "split": split,
            "bits": bits, "quantizer": mode, "clip": clip, "table_id": f"0x{table.table_id:08x}",
            "accuracy": acc, "bits_per_frame": float(frame_bytes.mean() * 8),
            "payload_bits_per_frame": float(payload_bits.mean()),
            "bits_per_element": float(payload_bits.mean() / elements),
            "zero_fraction": float((q == 0).mean()),
            "huffman_code_bits": code_bits, "symbol_entropy_bits": entropy_bits,
            "refinement_bits": extra, "longruns": int(counts[LONGRUN]),
            "_q": q,
        }


AE_METHODS = {"shared": "edgesplit-ae", "per-split": "ae-per-split"}


def bottleneck_points(cfg, ev, splits, bits_range, kind="shared"):
    """``edgesplit-ae`` points (``kind`` ``"per-split"``: ``ae-per-split``, the baseline of one
    autoencoder per split): the shipped bottleneck at its default code channels, as the device
    computes and codes it (:func:`golden.bottleneck_int.frame_rows`), with its weight count."""
    c = dataclasses.replace(cfg, bottleneck=kind, quantizer="uniform", clip=None, code_channels=None)
    sh = bottleneck_int.shipped(c)
    params = int(sum(np.asarray(v).size for k, v in sh.ae.items() if k != "clip"))
    rows = bottleneck_int.frame_rows(c, ev.features, ev.labels, ks=(sh.meta["code_channels"],))
    return [{"method": AE_METHODS[kind], "split": r["split"], "bits": r["bits"], "code_channels": r["k"],
             "code_shape": r["code_shape"], "accuracy": r["top1"], "bits_per_frame": r["frame_bits"],
             "bits_per_element": r["bits_per_split_element"], "params": params}
            for r in rows if r["split"] in splits and r["bits"] in bits_range]


def evaluate(cfg, splits=None, bits_range=range(1, 9), modes=("uniform", "ecsq"),
             jpeg_qualities=JPEG_QUALITIES, baselines=True, progress=None, bottleneck=True):
    """The whole rate-accuracy evaluation; returns the JSON-ready result dict."""
    start = time.time()
    ev = Evaluator(cfg, progress)
    say = ev.progress
    spec = cfg.spec
    splits = spec.splits if splits is None else splits
    frame_elems = int(np.prod(spec.in_shape))
    say("float accuracy")
    float_acc = ev.float_accuracy()
    result = {"config": cfg.to_dict(), "test_frames": len(ev.test), "float_accuracy": float_acc,
              "raw_bits_per_frame": frame_elems * 8, "int8_accuracy": {}, "points": []}
    points = result["points"]
    points.append({"method": "raw", "split": 0, "bits": 8, "accuracy": float_acc,
                   "bits_per_frame": float(frame_elems * 8), "bits_per_element": 8.0})
    sample = slice(0, min(SAMPLE_FRAMES, len(ev.test)))
    for split in splits:
        f = ev.features[split - 1]
        c, h, w = f.shape[1:]
        elements = c * h * w
        int8 = ev.host_accuracy(split, f)
        result["int8_accuracy"][str(split)] = int8
        say(f"split {split}: int8 top-1 {int8:.4f}")
        for mode in modes:
            for bits in bits_range:
                pt = ev.codec_point(split, bits, mode)
                q = pt.pop("_q")
                points.append(pt)
                say(f"split {split} {mode:7s} {bits} bits: top-1 {pt['accuracy']:.4f}, "
                    f"{pt['bits_per_frame']:.0f} bits/frame, {pt['bits_per_element']:.3f} bits/elem")
                if not baselines or mode != "uniform":
                    continue
                ent = (pt["symbol_entropy_bits"] + pt["refinement_bits"]) / len(q)
                points.append({"method": "rle-entropy", "split": split, "bits": bits,
                               "accuracy": pt["accuracy"], "bits_per_frame": ent,
                               "bits_per_element": ent / elements})
                adaptive = adaptive_bound(q[sample], 1 << bits).mean()
                points.append({"method": "adaptive-bound", "split": split, "bits": bits,
                               "accuracy": pt["accuracy"], "bits_per_frame": float(adaptive),
                               "bits_per_element": float(adaptive / elements)})
                png = png_bytes(tile(q[sample].astype(np.uint8))).mean() * 8
                points.append({"method": "png", "split": split, "bits": bits,
                               "accuracy": pt["accuracy"], "bits_per_frame": float(png),
                               "bits_per_element": float(png / elements)})
        if baselines:
            tiles = tile(f)
            for quality in jpeg_qualities:
                dec, sizes = jpeg_roundtrip(tiles, quality)
                acc = ev.host_accuracy(split, untile(dec, c, h, w).astype(np.float32))
                points.append({"method": "jpeg", "split": split, "bits": 8, "quality": quality,
                               "accuracy": acc, "bits_per_frame": float(sizes.mean() * 8),
                               "bits_per_element": float(sizes.mean() * 8 / elements)})
            say(f"split {split}: jpeg sweep done")
    for kind in AE_METHODS if bottleneck and cfg.bottleneck is None else ():
        if bottleneck_int.model_path(dataclasses.replace(cfg, bottleneck=kind)).exists():
            say(f"{kind} bottleneck (int8 on the device's path) at every split and bit-width")
            points.extend(bottleneck_points(cfg, ev, splits, bits_range, kind))
    result["summary"] = summarize(result)
    result["seconds"] = time.time() - start
    return result


def summarize(result):
    """The figures the issue asks for, with their targets."""
    fl = result["float_accuracy"]
    raw = result["raw_bits_per_frame"]
    pts = result["points"]
    ok = [p for p in pts if p["method"] in ("edgesplit", "edgesplit-ecsq") and p["accuracy"] >= fl - 0.01]
    summary = {"accuracy_floor": fl - 0.01}
    summary["bottleneck"] = summarize_bottleneck(result)
    if not ok:
        summary["best"] = None
        return summary
    keys = ("method", "split", "bits", "quantizer", "clip", "accuracy", "bits_per_frame",
            "bits_per_element")
    best = min(ok, key=lambda p: p["bits_per_frame"])
    summary["best"] = {k: best[k] for k in keys}
    lowest = min(ok, key=lambda p: p["bits_per_element"])
    summary["lowest_bits_per_element"] = dict({k: lowest[k] for k in keys},
                                              reduction_vs_raw=raw / lowest["bits_per_frame"])
    summary["best_by_split"] = {}
    for split in sorted({p["split"] for p in ok}):
        b = min((p for p in ok if p["split"] == split), key=lambda p: p["bits_per_frame"])
        jp = [p["bits_per_frame"] for p in pts if p["method"] == "jpeg" and p["split"] == split
              and p["accuracy"] >= b["accuracy"]]
        summary["best_by_split"][str(split)] = dict(
            {k: b[k] for k in keys}, reduction_vs_raw=raw / b["bits_per_frame"],
            jpeg_bits_at_equal_accuracy=min(jp, default=None))
    summary["reduction_vs_raw"] = raw / best["bits_per_frame"]
    jpeg = [p for p in pts if p["method"] == "jpeg" and p["split"] == best["split"]
            and p["accuracy"] >= best["accuracy"]]
    jpeg_any = [p for p in pts if p["method"] == "jpeg" and p["accuracy"] >= fl - 0.01]
    summary["jpeg_same_split_bits"] = min((p["bits_per_frame"] for p in jpeg), default=None)
    summary["jpeg_best_bits"] = min((p["bits_per_frame"] for p in jpeg_any), default=None)
    summary["ratio_vs_jpeg"] = (best["bits_per_frame"] / summary["jpeg_same_split_bits"]
                                if summary["jpeg_same_split_bits"] else None)
    summary["huffman_over_entropy"] = best["huffman_code_bits"] / best["symbol_entropy_bits"]
    targets = {
        "bits_per_element <= 0.5": (best["bits_per_element"], best["bits_per_element"] <= 0.5),
        "reduction_vs_raw >= 16": (summary["reduction_vs_raw"], summary["reduction_vs_raw"] >= 16),
        "ratio_vs_jpeg <= 0.5": (summary["ratio_vs_jpeg"],
                                 summary["ratio_vs_jpeg"] is not None
                                 and summary["ratio_vs_jpeg"] <= 0.5),
        "huffman_over_entropy <= 1.05": (summary["huffman_over_entropy"],
                                         summary["huffman_over_entropy"] <= 1.05),
    }
    summary["targets"] = {k: {"value": v, "met": bool(m)} for k, (v, m) in targets.items()}
    return summary


def summarize_bottleneck(result):
    """The shared bottleneck's best point within 1% of float against JPEG on tiles and the plain
    codec, each at its own best split (issue 19's figures), or ``None`` without ``edgesplit-ae``."""
    fl, raw, pts = result["float_accuracy"], result["raw_bits_per_frame"], result["points"]
    ae = [p for p in pts if p["method"] == "edgesplit-ae" and p["accuracy"] >= fl - 0.01]
    if not any(p["method"] == "edgesplit-ae" for p in pts):
        return None
    if not ae:
        return {"best": None}
    best = min(ae, key=lambda p: p["bits_per_frame"])
    jpeg = [p["bits_per_frame"] for p in pts if p["method"] == "jpeg" and p["accuracy"] >= best["accuracy"]]
    plain = [p["bits_per_frame"] for p in pts if p["method"] in ("edgesplit", "edgesplit-ecsq")
             and p["accuracy"] >= fl - 0.01]
    out = {"best": best, "reduction_vs_raw": raw / best["bits_per_frame"],
           "jpeg_best_split_bits": min(jpeg, default=None), "plain_codec_best_bits": min(plain, default=None)}
    out["ratio_vs_jpeg_best_split"] = best["bits_per_frame"] / out["jpeg_best_split_bits"] if jpeg else None
    apart = [p for p in pts if p["method"] == "ae-per-split"]
    if apart:  # the baseline: its best point within 1% and its weights against the shared model's
        ok = [p for p in apart if p["accuracy"] >= fl - 0.01]
        out["per_split"] = {"best": min(ok, key=lambda p: p["bits_per_frame"]) if ok else None,
                            "params": apart[0]["params"], "weights_ratio": apart[0]["params"] / best["params"],
                            "best_top1": max(p["accuracy"] for p in apart),
                            "shared_best_top1": max(p["accuracy"] for p in pts if p["method"] == "edgesplit-ae")}
    out["ratio_vs_plain_best"] = best["bits_per_frame"] / out["plain_codec_best_bits"] if plain else None
    ratio = out["ratio_vs_jpeg_best_split"]
    out["targets"] = {k: {"value": v, "met": bool(m)} for k, (v, m) in {
        "bits_per_element <= 0.25": (best["bits_per_element"], best["bits_per_element"] <= 0.25),
        "reduction_vs_raw >= 30 (goal 64)": (out["reduction_vs_raw"], out["reduction_vs_raw"] >= 30),
        "ratio_vs_jpeg_best_split <= 0.35": (ratio, ratio is not None and ratio <= 0.35)}.items()}
    return out


def plot(result, path):
    """Rate-accuracy plot: one panel per split, one curve per method."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    splits = sorted({p["split"] for p in result["points"] if p["split"] > 0})
    fig, axes = plt.subplots(1, len(splits), figsize=(5.2 * len(splits), 4.2), squeeze=False)
    styles = {"edgesplit": ("C0", "o-"), "edgesplit-ecsq": ("C1", "s-"), "jpeg": ("C2", "^-"),
              "png": ("C3", "v--"), "adaptive-bound": ("C4", ":"), "rle-entropy": ("C5", "--"),
              "edgesplit-ae": ("C6", "D-"), "ae-per-split": ("C7", "d:")}
    for ax, split in zip(axes[0], splits):
        for method, (color, style) in styles.items():
            pts = sorted((p for p in result["points"] if p["method"] == method and p["split"] == split),
                         key=lambda p: p["bits_per_frame"])
            if pts:
                ax.plot([p["bits_per_frame"] for p in pts], [p["accuracy"] for p in pts], style,
                        color=color, label=method, markersize=4)
        ax.axhline(result["float_accuracy"], color="k", lw=0.8, label="float")
        ax.axhline(result["float_accuracy"] - 0.01, color="k", lw=0.8, ls="--", label="float - 1%")
        ax.axvline(result["raw_bits_per_frame"], color="gray", lw=0.8, ls="-.", label="raw frame")
        ax.set_xscale("log")
        ax.set_ylim(max(0.0, result["float_accuracy"] - 0.25), 1.0)
        ax.set_xlabel("bits per frame")
        ax.set_ylabel("top-1 accuracy")
        ax.set_title(f"split after block {split}")
        ax.grid(True, which="both", alpha=0.3)
    axes[0][0].legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
