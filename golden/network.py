"""The float split network (PyTorch), its training, and the shipped model bundle.

The bundle (``golden/data/<network>.npz``) holds the float weights and the activation scales
calibrated on training frames; everything integer (int8 weights, requantization multipliers) is
derived from it deterministically by :mod:`golden.ptq`.
"""

import json
import time
from pathlib import Path

import numpy as np

from .errors import ModelError

DATA_DIR = Path(__file__).parent / "data"
CALIBRATION_FRAMES = 1000
CALIBRATION_PERCENTILE = 99.99
SPARSITY = 0.008
QAT_PROBABILITY = 0.5


def bundle_path(cfg):
    """Path of the model bundle ``cfg`` uses: ``cfg.weights`` or the shipped one."""
    return Path(cfg.weights) if cfg.weights else DATA_DIR / f"{cfg.spec.name}.npz"


def _torch():
    import torch

    return torch


def build_model(spec):
    """A fresh float :class:`SplitNet` for ``spec``."""
    torch = _torch()
    nn = torch.nn

    class SplitNet(nn.Module):
        """Edge blocks (candidate splits after each), host blocks, then a linear classifier."""

        def __init__(self):
            super().__init__()
            self.spec = spec
            self.edge = nn.ModuleList(nn.Conv2d(b.cin, b.cout, b.k, stride=b.stride, padding=b.pad) for b in spec.edge)
            self.host = nn.ModuleList(nn.Conv2d(b.cin, b.cout, b.k, stride=b.stride, padding=b.pad) for b in spec.host)
            c, h, w = spec.in_shape
            for b in spec.edge + spec.host:
                c, (h, w) = b.cout, b.out_shape(h, w)
            self.fc = nn.Linear(c * h * w, spec.classes)
            self.dropout = nn.Dropout(0.2)

        @staticmethod
        def _block(conv, block, x):
            x = torch.relu(conv(x))
            return torch.nn.functional.max_pool2d(x, block.pool) if block.pool > 1 else x

        def edge_forward(self, x, upto):
            """Float features after edge block ``upto`` from frames ``x`` scaled to 0..1."""
            for conv, b in zip(self.edge[:upto], self.spec.edge[:upto]):
                x = self._block(conv, b, x)
            return x

        def host_forward(self, feat, split):
            """Logits from the float features after edge block ``split``."""
            x = feat
            for conv, b in zip(self.edge[split:], self.spec.edge[split:]):
                x = self._block(conv, b, x)
            for conv, b in zip(self.host, self.spec.host):
                x = self._block(conv, b, x)
            return self.fc(self.dropout(x.flatten(1)))

        def forward(self, x):
            return self.host_forward(self.edge_forward(x, 0), 0)

    return SplitNet()


class Bundle:
    """A trained model: float state dict (NumPy arrays), calibrated activation scales, metadata."""

    def __init__(self, network, state, act_scales, meta):
        self.network = network
        self.state = state
        self.act_scales = tuple(float(s) for s in act_scales)
        self.meta = dict(meta)

    def save(self, path):
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = dict(self.meta, network=self.network, act_scales=list(self.act_scales))
        with open(path, "wb") as f:
            np.savez_compressed(f, __meta__=np.frombuffer(json.dumps(meta).encode(), np.uint8),
                                **{k: v.astype(np.float32) for k, v in self.state.items()})

    @classmethod
    def load(cls, path, network=None):
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as z:
                meta = json.loads(bytes(z["__meta__"]).decode())
                state = {k: z[k] for k in z.files if k != "__meta__"}
        except FileNotFoundError:
            raise ModelError(f"model bundle {str(path)!r} does not exist; run 'edgesplit train' "
                             f"to create it") from None
        except (OSError, ValueError, KeyError, json.JSONDecodeError) as exc:
            raise ModelError(f"{path}: not an edgesplit model bundle ({exc})") from None
        if network is not None and meta.get("network") != network:
            raise ModelError(f"{path}: bundle is for network {meta.get('network')!r}, "
                             f"the configuration asks for {network!r}")
        return cls(meta["network"], state, meta["act_scales"], meta)

    def model(self, spec):
        """The float PyTorch model with these weights, in eval mode."""
        torch = _torch()
        model = build_model(spec)
        try:
            model.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in self.state.items()})
        except RuntimeError as exc:
            raise ModelError(f"bundle weights do not match network {spec.name!r}: {exc}") from None
        return model.eval()


_BUNDLES = {}


def load_bundle(cfg):
    """The (cached) :class:`Bundle` of ``cfg``."""
    path = bundle_path(cfg).resolve()
    key = (str(path), path.stat().st_mtime_ns if path.exists() else 0)
    if key not in _BUNDLES:
        _BUNDLES[key] = Bundle.load(path, cfg.spec.name)
    return _BUNDLES[key]


def to_input(images):
    """uint8 frames ``(N, C, H, W)`` -> float tensor in 0..1 (the integer model's input scale 1/255)."""
    torch = _torch()
    return torch.from_numpy(np.array(images, dtype=np.float32)) / 255.0


def predict(model, images, batch=500):
    """Top-1 classes of uint8 ``images`` under the float ``model``."""
    torch = _torch()
    out = []
    with torch.no_grad():
        for i in range(0, len(images), batch):
            out.append(model(to_input(images[i:i + batch])).argmax(1).numpy())
    return np.concatenate(out)


def calibrate(model, images, spec):
    """Activation scale of every edge block: the 99.99th percentile of its float output / 255."""
    torch = _torch()
    scales = []
    with torch.no_grad():
        x = to_input(images)
        for upto in range(1, len(spec.edge) + 1):
            act = model.edge_forward(x, upto).numpy()
            hi = float(np.percentile(act, CALIBRATION_PERCENTILE))
            scales.append(max(hi, 1e-6) / 255.0)
    return scales


def fake_quantize(x, bits, clip):
    """Uniform ``bits``-bit quantization of non-negative ``x`` clipped at ``clip``, with a
    straight-through gradient (the host learns to read coarse features)."""
    levels = (1 << bits) - 1
    q = _torch().round(x.clamp(max=clip) / clip * levels) * clip / levels
    return x + (q - x).detach()


def _resume(checkpoint, key, model, opt, sched, gen, log):
    """The epoch to start from: after the last whole epoch of a matching ``checkpoint``, else 0."""
    torch = _torch()
    if checkpoint is None or not Path(checkpoint).exists():
        return 0
    try:
        state = torch.load(checkpoint, weights_only=True)
    except Exception as exc:  # a file cut by the interrupt: start again
        log(f"checkpoint {checkpoint} is unreadable ({exc}); training from the start")
        return 0
    if state.get("key") != key:
        log(f"checkpoint {checkpoint} is of another run ({state.get('key')}); training from the start")
        return 0
    model.load_state_dict(state["model"])
    opt.load_state_dict(state["opt"])
    sched.load_state_dict(state["sched"])
    gen.set_state(state["gen"])
    torch.set_rng_state(state["rng"])  # dropout's
    log(f"resuming from {checkpoint} after epoch {state['epoch']} of {key['epochs']}")
    return int(state["epoch"])


def train(cfg, epochs=10, batch=64, lr=2e-3, sparsity=SPARSITY, qat=QAT_PROBABILITY, progress=True,
          log=print, checkpoint=None):
    """Train the float network on the embedded train frames; returns a calibrated :class:`Bundle`.

    Besides cross-entropy the loss has an L1 penalty (``sparsity``) on every edge block's output, so
    that split features have many zeros for the run-length coder. With probability ``qat`` a batch
    runs with its features quantized (straight-through) at a random candidate split to 1-4 bits, the
    clip drawn between the 90th and 99.5th percentile of the non-zero activations: the host part
    learns to classify from coarsely quantized features.

    With ``checkpoint`` (a path) the state after each epoch is saved there, and a run finding one
    of the same network, data, seed and epochs resumes after its last whole epoch; it is removed at
    the end.
    """
    from tqdm import tqdm

    from . import datasets

    torch = _torch()
    torch.manual_seed(cfg.seed)
    spec = cfg.spec
    train_set = datasets.embedded(cfg, "train")
    test_set = datasets.embedded(cfg, "test")
    model = build_model(spec)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    steps = epochs * ((len(train_set) + batch - 1) // batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
    x_all = to_input(train_set.images)
    y_all = torch.from_numpy(np.array(train_set.labels))
    gen = torch.Generator().manual_seed(cfg.seed)
    start = time.time()
    key = {"network": spec.name, "data": cfg.data_source, "seed": cfg.seed, "epochs": epochs,
           "train_frames": len(train_set)}
    first = _resume(checkpoint, key, model, opt, sched, gen, log)
    bar = tqdm(total=steps, initial=first * (steps // epochs), disable=not progress, desc="train", unit="step")
    for epoch in range(first, epochs):
        model.train()
        perm = torch.randperm(len(x_all), generator=gen)
        for i in range(0, len(perm), batch):
            idx = perm[i:i + batch]
            x = x_all[idx]
            # photometric jitter: the network must not depend on exact brightness
            x = (x * (0.8 + 0.4 * torch.rand(len(x), 1, 1, 1, generator=gen))).clamp(0, 1)
            feats = []
            h = x
            for conv, block in zip(model.edge, spec.edge):
                h = model._block(conv, block, h)
                feats.append(h)
            split = len(spec.edge)
            h = feats[-1]
            if torch.rand(1, generator=gen).item() < qat:
                split = int(torch.randint(1, len(spec.edge) + 1, (1,), generator=gen))
                bits = int(torch.randint(1, 5, (1,), generator=gen))
                h = feats[split - 1]
                nz = h.detach()[h.detach() > 0]
                frac = 0.9 + 0.095 * torch.rand(1, generator=gen).item()
                clip = torch.quantile(nz[:100000], frac) if len(nz) else torch.tensor(1.0)
                h = fake_quantize(h, bits, clip.clamp(min=1e-3))
            loss = torch.nn.functional.cross_entropy(model.host_forward(h, split), y_all[idx])
            loss = loss + sparsity * sum(f.mean() for f in feats)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            bar.update(1)
            bar.set_postfix(epoch=epoch + 1, loss=f"{loss.item():.3f}")
        if checkpoint is not None:
            torch.save({"key": key, "epoch": epoch + 1, "model": model.state_dict(), "opt": opt.state_dict(),
                        "sched": sched.state_dict(), "gen": gen.get_state(),
                        "rng": torch.get_rng_state()}, checkpoint)
    bar.close()
    if checkpoint is not None:
        Path(checkpoint).unlink(missing_ok=True)
    model.eval()
    acc = float((predict(model, test_set.images) == test_set.labels).mean())
    scales = calibrate(model, train_set.images[:CALIBRATION_FRAMES], spec)
    log(f"trained {spec.name} in {time.time() - start:.0f} s: float top-1 on "
        f"{len(test_set)} test frames = {acc:.4f}")
    state = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    meta = {"float_accuracy": acc, "data": cfg.data_source, "epochs": epochs, "sparsity": sparsity, "qat": qat, "train_frames": len(train_set),
            "test_frames": len(test_set), "seed": cfg.seed, "train_seconds": time.time() - start}
    return Bundle(spec.name, state, scales, meta)
