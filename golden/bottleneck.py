"""A learned bottleneck shared across the split points (issue 19; Auto-Tiler, Park et al. 2021; the
weight-sharing autoencoder, Choi et al. 2021), first step: the float model and its measured rate.

At split ``s`` the int8 edge features (``C_s`` channels) go through a per-split 1x1 adapter into
``width`` channels, then a strided 3x3 encoder shared by every split into ``code`` channels: the
code. Only its first ``k`` channels are sent (the output dimension chosen at run time, as
Auto-Tiler's) at ``bits`` 2-6 (the run-time bit-width, as the weight-sharing autoencoder's), through
the existing zero-run + Huffman codec. The host upsamples, runs a shared 3x3 decoder and a per-split
1x1 adapter back to ``C_s`` channels, then the network's own layers after the split, fine-tuned with
the edge frozen (Ko et al. 2018). ``shared=False`` gives every split its own encoder and decoder:
the one-autoencoder-per-split baseline.

Every encoder layer is a convolution with a ReLU, as the device's layers are, so the next step runs
it on the device's array as int8 layers. Here the code is quantized in float (straight-through) and
its rate is the real coder's bit count on the code's levels (Huffman codes built from training
frames, frame header and trailer included); nothing here is the device yet.
"""

import json
import time

import numpy as np

from . import datasets, edge, network, ptq
from .frame import frame_bytes
from .huffman import limited_lengths
from .rle import symbol_counts, valid_symbols

BITS = (2, 3, 4, 5, 6)


def build(channels, width=32, code=8, stride=2, shared=True):
    """The autoencoder for splits whose features have ``channels[s - 1]`` channels."""
    import torch
    from torch import nn

    class Bottleneck(nn.Module):
        def __init__(self):
            super().__init__()
            n = 1 if shared else len(channels)
            self.shared, self.stride, self.code = shared, stride, code
            self.enc_a = nn.ModuleList(nn.Conv2d(c, width, 1) for c in channels)
            self.enc = nn.ModuleList(nn.Conv2d(width, code, 3, stride=stride, padding=1) for _ in range(n))
            self.dec = nn.ModuleList(nn.Conv2d(code, width, 3, padding=1) for _ in range(n))
            self.dec_a = nn.ModuleList(nn.Conv2d(width, c, 1) for c in channels)
            self.register_buffer("clip", torch.ones(len(channels)))  # the code's clip per split

        def _core(self, s):
            return 0 if self.shared else s

        def encode(self, x, s):
            """The float code of split ``s + 1``'s features ``x`` (network units)."""
            return torch.relu(self.enc[self._core(s)](torch.relu(self.enc_a[s](x))))

        def decode(self, q, s):
            """Features of split ``s + 1`` from a dequantized code (zeros past its ``k`` channels)."""
            if self.stride > 1:
                q = nn.functional.interpolate(q, scale_factor=self.stride, mode="nearest")
            return torch.relu(self.dec_a[s](torch.relu(self.dec[self._core(s)](q))))

    return Bottleneck()


def quantize(code, bits, clip):
    """``(straight-through dequantized code, levels)`` of a float code at ``bits`` bits."""
    top = (1 << bits) - 1
    idx = (code.clamp(max=clip) / clip * top).round()
    return code + (idx * clip / top - code).detach(), idx


def param_count(ae):
    return sum(p.numel() for p in ae.parameters())


def features(cfg):
    """The int8 edge features of the train and test frames at every split (lists by split - 1)."""
    model = ptq.int_model(cfg)
    tr, te = datasets.embedded(cfg, "train"), datasets.embedded(cfg, "test")
    return edge.run_all(model, tr.images), np.array(tr.labels), edge.run_all(model, te.images), np.array(te.labels)


def train(cfg, ae, feats, labels, epochs=40, lam=0.003, batch=128, lr=2e-3, seed=0, progress=True):
    """Train ``ae`` and fine-tune a copy of the host layers on int8 ``feats``; returns the host model.

    Each batch draws a split, a bit-width from :data:`BITS` and a channel count from ``ks(ae)``.
    The loss is cross-entropy plus ``lam`` times the code's mean (fewer, smaller levels code in
    fewer bits). Each split's clip follows its code's 99.9th percentile.
    """
    import torch
    from tqdm import tqdm

    torch.manual_seed(seed)
    bundle = network.load_bundle(cfg)
    scales, host = bundle.act_scales, bundle.model(cfg.spec)
    params = list(ae.parameters()) + [p for n, p in host.named_parameters() if not n.startswith("edge")]
    opt = torch.optim.Adam(params, lr=lr)
    per_epoch = len(labels) // batch
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=epochs * per_epoch)
    y = torch.from_numpy(labels.astype(np.int64))
    gen = torch.Generator().manual_seed(seed)
    ks, seen = channel_counts(ae.code), [False] * len(feats)
    bar = tqdm(total=epochs * per_epoch, disable=not progress, desc="bottleneck", unit="step")
    ae.train()
    host.train()
    for _ in range(epochs * per_epoch):
        idx = torch.randint(0, len(y), (batch,), generator=gen).numpy()
        s = int(torch.randint(0, len(feats), (1,), generator=gen))
        bits = BITS[int(torch.randint(0, len(BITS), (1,), generator=gen))]
        k = ks[int(torch.randint(0, len(ks), (1,), generator=gen))]
        code = ae.encode(torch.from_numpy(feats[s][idx].astype(np.float32)) * scales[s], s)
        with torch.no_grad():
            hi = torch.quantile(code.flatten()[:200_000], 0.999).clamp(min=1e-3)
            ae.clip[s] = 0.95 * ae.clip[s] + 0.05 * hi if seen[s] else hi
            seen[s] = True
        mask = (torch.arange(ae.code) < k).float().view(1, -1, 1, 1)
        q, _ = quantize(code * mask, bits, float(ae.clip[s]))
        loss = torch.nn.functional.cross_entropy(host.host_forward(ae.decode(q, s), s + 1), y[idx])
        loss = loss + lam * (code * mask).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        bar.update(1)
    bar.close()
    ae.eval()
    return host.eval()


def channel_counts(code):
    """The code channel counts a frame may carry: a quarter, half and all of a ``code``-channel code."""
    return tuple(sorted({max(1, code // 4), max(1, code // 2), code}))


def float_code(ae, f, s, scale, batch=500):
    """The float code of split ``s + 1``'s int8 features ``f``: one encoder pass, quantized after
    at every bit-width and channel count (:func:`levels_of`)."""
    import torch

    with torch.no_grad():
        return torch.cat([ae.encode(torch.from_numpy(f[i:i + batch].astype(np.float32)) * scale, s)
                          for i in range(0, len(f), batch)])


def levels_of(ae, code, s, bits, k):
    """uint8 levels ``(N, k, H', W')`` of a :func:`float_code` at ``bits`` bits, its first ``k`` channels."""
    return quantize(code[:, :k], bits, float(ae.clip[s]))[1].numpy().astype(np.uint8)


def code_levels(ae, f, s, bits, k, scale):
    """uint8 levels ``(N, k, H', W')`` of the code of split ``s + 1``'s int8 features ``f``."""
    return levels_of(ae, float_code(ae, f, s, scale), s, bits, k)


def top1(ae, host, levels, labels, s, bits, batch=500):
    """Top-1 of the host on decoded ``levels`` (the code's first ``k`` channels, the rest zero)."""
    import torch

    top, hits = (1 << bits) - 1, 0
    with torch.no_grad():
        for i in range(0, len(levels), batch):
            lv = levels[i:i + batch]
            z = torch.zeros(len(lv), ae.code, *lv.shape[2:])
            z[:, :lv.shape[1]] = torch.from_numpy(lv.astype(np.float32)) * float(ae.clip[s]) / top
            hits += int((host.host_forward(ae.decode(z, s), s + 1).argmax(1).numpy() == labels[i:i + batch]).sum())
    return hits / len(levels)


def rate_accuracy(cfg, ae, host, data, table_frames=4000):
    """A row per (split, bits, k): top-1 on the test frames and the mean frame bits with a Huffman
    code built from the first ``table_frames`` training frames' code symbols."""
    ftr, _, fte, yte = data
    scales = network.load_bundle(cfg).act_scales
    rows = []
    for s in range(len(ftr)):
        elements = int(np.prod(cfg.spec.shape_after(s + 1)))
        ctr, cte = float_code(ae, ftr[s][:table_frames], s, scales[s]), float_code(ae, fte[s], s, scales[s])
        for bits in BITS:
            for k in channel_counts(ae.code):
                counts, _ = symbol_counts(levels_of(ae, ctr, s, bits, k))
                lengths = limited_lengths(counts + valid_symbols(bits), 16)
                q = levels_of(ae, cte, s, bits, k)
                frame = 8 * frame_bytes(q, lengths)
                rows.append({"split": s + 1, "bits": bits, "k": k, "code_shape": list(q.shape[1:]),
                             "top1": top1(ae, host, q, yte, s, bits), "frame_bits": float(frame.mean()),
                             "bits_per_split_element": float(frame.mean()) / elements})
    return rows


def best_within(rows, float_top1, loss=0.01):
    """The row with the fewest frame bits within ``loss`` of ``float_top1``, or ``None``."""
    ok = [r for r in rows if r["top1"] >= float_top1 - loss]
    return min(ok, key=lambda r: r["frame_bits"]) if ok else None


def study(cfg, epochs=40, width=32, code=8, stride=2, progress=True, log=print):
    """Train the shared bottleneck and the per-split baseline and measure both (the benchmark of
    ``edgesplit bottleneck``)."""
    data = features(cfg)
    channels = [cfg.spec.shape_after(s)[0] for s in cfg.spec.splits]
    float_top1 = network.load_bundle(cfg).meta["float_accuracy"]
    out = {"float_top1": float_top1, "raw_bits": 8 * int(np.prod(cfg.spec.in_shape)), "epochs": epochs,
           "width": width, "code": code, "stride": stride}
    for name, shared in (("shared", True), ("per_split", False)):
        start = time.time()
        ae = build(channels, width, code, stride, shared)
        host = train(cfg, ae, data[0], data[1], epochs=epochs, progress=progress)
        rows = rate_accuracy(cfg, ae, host, data)
        out[name] = {"params": param_count(ae), "train_seconds": time.time() - start, "rows": rows,
                     "best": best_within(rows, float_top1)}
        log(f"{name}: {out[name]['params']} encoder and decoder weights, trained in "
            f"{out[name]['train_seconds']:.0f} s")
    return out


def ship(cfg, epochs=40, width=32, code=8, stride=2, shared=True, progress=True, log=print):
    """Train the shared bottleneck (or with ``shared`` false the per-split baseline), quantize it
    and write the shipped model and tables (:mod:`golden.bottleneck_int`); returns the integer
    path's rows on the test frames and the default code channels (those of the fewest bits within
    1% of float top-1, else all). ``cfg`` is the plain configuration (no bottleneck)."""
    import dataclasses

    import torch

    from . import bottleneck_int as B

    start = time.time()
    data = features(cfg)
    cfg = dataclasses.replace(cfg, bottleneck="shared" if shared else "per-split")
    channels = [cfg.spec.shape_after(s)[0] for s in cfg.spec.splits]
    ae = build(channels, width, code, stride, shared=shared)
    host = train(cfg, ae, data[0], data[1], epochs=epochs, progress=progress)
    scales = network.load_bundle(cfg).act_scales
    adapter = []
    with torch.no_grad():
        for s, f in enumerate(data[0]):
            x = torch.from_numpy(f[:B.CALIBRATION_FRAMES].astype(np.float32)) * scales[s]
            a = torch.relu(ae.enc_a[s](x)).flatten()
            adapter.append(float(torch.quantile(a[torch.randperm(len(a))[:1_000_000]], 0.9999)) / 255.0)
    float_top1 = network.load_bundle(cfg).meta["float_accuracy"]
    meta = {"network": cfg.spec.name, "shared": shared, "width": width, "code": code, "stride": stride,
            "channels": channels,
            "clip": [float(c) for c in ae.clip], "adapter_scale": adapter, "code_channels": code,
            "epochs": epochs, "float_top1": float_top1}
    B.Shipped({k: v.numpy() for k, v in ae.state_dict().items()},
              {k: v.numpy() for k, v in host.state_dict().items()}, meta).save(B.model_path(cfg))
    table_dicts = B.build_tables(cfg, data[0], cfg.max_code_len, log=log)
    B.tables_file(cfg).write_text(json.dumps({"network": cfg.spec.name, "tables": table_dicts}, indent=1))
    rows = B.frame_rows(cfg, data[2], data[3])
    best = best_within(rows, float_top1)
    if best is not None:
        meta["code_channels"] = best["k"]
        meta["operating_point"] = {"split": best["split"], "bits": best["bits"]}
        B.Shipped(B.shipped(cfg).ae, B.shipped(cfg).host, meta).save(B.model_path(cfg))
    log(f"shipped bottleneck: {B.model_path(cfg)} and {B.tables_file(cfg)}, {time.time() - start:.0f} s")
    return {"rows": rows, "best": best, "code_channels": meta["code_channels"], "params": param_count(ae),
            "seconds": time.time() - start}
