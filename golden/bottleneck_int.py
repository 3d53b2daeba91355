"""The learned bottleneck on the device (issue 19): the shared autoencoder of :mod:`golden.bottleneck`
as int8 layers of the edge device's layer program, its codec tables and its host side.

At split ``s`` the device runs the network's edge blocks ``1 .. s``, then two more layers on the
same array, quantized by :func:`golden.ptq.quantize_conv` (the edge layers' scheme):

1. the split's adapter: 1x1 convolution ``C_s -> width``, ReLU, no pooling; its output scale is
   the 99.99th percentile of its float activations on training frames / 255;
2. the shared encoder: 3x3, stride 2, padding 1, ``width -> k`` (its first ``k`` output channels,
   ``k`` = ``code_channels``), ReLU, no pooling; its output scale is the split's code clip / 255,
   so the uint8 code saturates at the clip.

The codec quantizes the uint8 code uniformly with clip 255 at ``bits`` bits and codes it with the
table of ``(split, bits, k)`` (built here from training frames' levels). The host dequantizes the
levels (level ``q`` is ``q * clip / (2**bits - 1)`` in code units), pads the code to all its
channels with zeros, runs the decoder and the fine-tuned host layers.

The trained model ships as ``<network>_bottleneck.npz`` beside the network's bundle (float weights
of the autoencoder and of the fine-tuned host, the code clips, the adapters' scales) with its tables
in ``<network>_bottleneck_tables.json`` (each table with its ``code_channels``).
"""

import dataclasses
import json
from pathlib import Path

import numpy as np

from . import edge, ptq
from .errors import ConfigError, ModelError, TableError
from .netspec import ConvBlock, NetSpec
from .tables import CodecTable, TableSet, _table

CALIBRATION_FRAMES = 2000
TABLE_FRAMES = 1000


def kind(cfg):
    """``"shared"`` (the default) or ``"per-split"`` (the baseline: an autoencoder per split)."""
    return cfg.bottleneck or "shared"


def model_path(cfg):
    """``<bundle stem>_bottleneck.npz`` (shared) or ``<bundle stem>_bottleneck_per_split.npz``."""
    from .network import bundle_path

    path = bundle_path(cfg)
    return path.with_name(path.stem + ("_bottleneck.npz" if kind(cfg) == "shared" else "_bottleneck_per_split.npz"))


def tables_file(cfg):
    path = model_path(cfg)
    return path.with_name(path.stem + "_tables.json")


@dataclasses.dataclass
class Shipped:
    """A trained shared bottleneck: float state dicts (NumPy) of the autoencoder (``ae``) and of the
    network with its host layers fine-tuned (``host``), and ``meta`` (``width``, ``code``,
    ``stride``, ``channels``, ``clip`` and ``adapter_scale`` per split, ``code_channels``)."""

    ae: dict
    host: dict
    meta: dict

    def save(self, path):
        arrays = {f"ae.{k}": v for k, v in self.ae.items()} | {f"host.{k}": v for k, v in self.host.items()}
        with open(path, "wb") as f:
            np.savez_compressed(f, __meta__=np.frombuffer(json.dumps(self.meta).encode(), np.uint8),
                                **{k: np.asarray(v, np.float32) for k, v in arrays.items()})

    @classmethod
    def load(cls, path):
        try:
            with np.load(path, allow_pickle=False) as z:
                meta = json.loads(bytes(z["__meta__"]).decode())
                parts = {"ae": {}, "host": {}}
                for name in z.files:
                    if name != "__meta__":
                        part, key = name.split(".", 1)
                        parts[part][key] = z[name]
        except FileNotFoundError:
            raise ModelError(f"no trained bottleneck at {str(path)!r}: run 'edgesplit bottleneck --save' "
                             f"to train one") from None
        except (OSError, ValueError, KeyError, json.JSONDecodeError) as exc:
            raise ModelError(f"{path}: not an edgesplit bottleneck ({exc})") from None
        return cls(parts["ae"], parts["host"], meta)

    def torch_models(self, spec):
        """``(autoencoder, host network)``, float PyTorch modules in eval mode."""
        import torch

        from . import bottleneck, network

        m = self.meta
        ae = bottleneck.build(m["channels"], m["width"], m["code"], m["stride"], shared=m.get("shared", True))
        host = network.build_model(spec)
        try:
            ae.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in self.ae.items()})
            host.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in self.host.items()})
        except RuntimeError as exc:
            raise ModelError(f"the bottleneck's weights do not match network {spec.name!r}: {exc}") from None
        return ae.eval(), host.eval()


_SHIPPED = {}


def shipped(cfg):
    """The (cached) :class:`Shipped` bottleneck of ``cfg``'s network."""
    path = model_path(cfg).resolve()
    key = (str(path), path.stat().st_mtime_ns if path.exists() else 0)
    if key not in _SHIPPED:
        _SHIPPED[key] = Shipped.load(path)
    return _SHIPPED[key]


def code_channels(cfg):
    """``k``: the code channels ``cfg``'s frames carry; :class:`ConfigError` beyond the code."""
    m = shipped(cfg).meta
    k = m["code_channels"] if cfg.code_channels is None else cfg.code_channels
    if not 1 <= k <= m["code"]:
        raise ConfigError(f"code_channels must be between 1 and {m['code']} for this bottleneck, not {k}")
    return k


def blocks(meta, s, k):
    """The adapter's and the encoder's :class:`ConvBlock` at split ``s`` (1-based), ``k`` channels out."""
    cin = meta["channels"][s - 1]
    return (ConvBlock(cin=cin, cout=meta["width"], k=1, pad=0, pool=1),
            ConvBlock(cin=meta["width"], cout=k, k=3, pad=1, pool=1, stride=meta["stride"]))


def int_layers(cfg, base, s, k):
    """The adapter's and the encoder's :class:`golden.edge.IntLayer` after split ``s`` of ``base``."""
    sh = shipped(cfg)
    m = sh.meta
    if len(m["channels"]) < s or m["channels"][s - 1] != cfg.spec.shape_after(s)[0]:
        raise ModelError(f"the shipped bottleneck has no adapter for split {s} of network {cfg.spec.name!r}")
    a, e = blocks(m, s, k)
    i = s - 1
    adapter = ptq.quantize_conv(a, sh.ae[f"enc_a.{i}.weight"], sh.ae[f"enc_a.{i}.bias"], base.scale(s),
                                m["adapter_scale"][i], f"the bottleneck's adapter at split {s}")
    core = 0 if m.get("shared", True) else i  # the per-split baseline has an encoder a split
    encoder = ptq.quantize_conv(e, sh.ae[f"enc.{core}.weight"][:k], sh.ae[f"enc.{core}.bias"][:k],
                                adapter.out_scale, m["clip"][i] / 255.0, "the bottleneck's encoder")
    return adapter, encoder


def int_model(cfg, base):
    """The :class:`golden.edge.IntModel` the device runs with the bottleneck: ``base``'s layers up
    to the split, the adapter and the encoder (``cfg.device_blocks`` layers)."""
    s, spec = cfg.split, cfg.spec
    layers = tuple(base.layers[:s]) + int_layers(cfg, base, s, code_channels(cfg))
    derived = NetSpec(name=spec.name, in_shape=spec.in_shape, edge=tuple(lay.block for lay in layers), host=(),
                      classes=spec.classes)
    return edge.IntModel(spec=derived, layers=layers)


def code_shape(cfg):
    """``(k, H', W')`` of the code frames of ``cfg`` carry."""
    s = cfg.split
    a, e = blocks(shipped(cfg).meta, s, code_channels(cfg))
    _, h, w = cfg.spec.shape_after(s)
    return (e.cout, *e.out_shape(*a.out_shape(h, w)))


def tables(cfg):
    """The codec tables of ``cfg``'s code channels (a :class:`golden.tables.TableSet`)."""
    path = tables_file(cfg)
    try:
        data = json.loads(Path(path).read_text())
        k = code_channels(cfg)
        chosen = [d for d in data["tables"] if d["code_channels"] == k]
    except FileNotFoundError:
        raise TableError(f"no bottleneck tables at {str(path)!r}: run 'edgesplit bottleneck --save'") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise TableError(f"{path}: not a bottleneck table file ({exc})") from None
    return TableSet([CodecTable.from_dict(d) for d in chosen], data.get("network", ""))


def codec(cfg):
    """The :class:`golden.codec.Codec` of ``cfg``'s code frames."""
    from .codec import Codec

    return Codec(tables(cfg), cfg.spec, shapes={cfg.split: code_shape(cfg)})


def build_tables(cfg, features, max_code_len=16, log=None):
    """A table per ``(split, bits, k)`` from the first :data:`TABLE_FRAMES` int8 features of each
    split (a list by split - 1): JSON-ready dicts with their ``code_channels``."""
    from .bottleneck import BITS, channel_counts

    out = []
    code = shipped(cfg).meta["code"]
    for s in cfg.spec.splits:
        if s > len(shipped(cfg).meta["channels"]):
            continue
        c = cfg.replace(split=s, bottleneck=kind(cfg), code_channels=code, quantizer="uniform")
        codes = encode_features(c, features[s - 1][:TABLE_FRAMES])
        for k in channel_counts(code):
            for bits in BITS:
                q = quantize_code(codes[:, :k], bits)
                out.append(dict(_table(s, bits, "uniform", q, max_code_len, clip=255).to_dict(), code_channels=k))
        if log:
            log(f"bottleneck tables of split {s}")
    return out


def encode_features(cfg, features, batch=200):
    """The uint8 code (all of ``cfg``'s code channels) of uint8 split features ``(N, C_s, H, W)``."""
    model = ptq.int_model(cfg)
    tail = model.layers[cfg.split:]
    out = []
    for i in range(0, len(features), batch):
        x = np.asarray(features[i:i + batch], np.uint8)
        for layer in tail:
            x = edge.run_block(x, layer)
        out.append(x)
    return np.concatenate(out)


def quantize_code(code, bits):
    """Levels of a uint8 code at ``bits`` bits (the uniform quantizer with clip 255)."""
    from .quantizer import quantize_uniform

    return quantize_uniform(code, bits, 255)


_MODELS = {}


def host_logits(cfg, levels, bits, batch=500):
    """Logits of the host on code ``levels`` ``(N, k, H', W')`` of split ``cfg.split``."""
    import torch

    sh = shipped(cfg)
    if id(sh) not in _MODELS:
        _MODELS[id(sh)] = sh.torch_models(cfg.spec)
    ae, host = _MODELS[id(sh)]
    s, clip = cfg.split, sh.meta["clip"][cfg.split - 1]
    top = (1 << bits) - 1
    out = []
    with torch.no_grad():
        for i in range(0, len(levels), batch):
            lv = np.asarray(levels[i:i + batch], np.float32)
            z = torch.zeros(len(lv), ae.code, *lv.shape[2:])
            z[:, :lv.shape[1]] = torch.from_numpy(lv) * (clip / top)
            out.append(host.host_forward(ae.decode(z, s - 1), s).numpy())
    return np.concatenate(out)


def point(cfg, features, labels):
    """``cfg``'s operating point (its split, bits and code channels) on uint8 split ``features``
    ``(N, C_s, H, W)``: top-1, mean frame bits (the real coder's, header and trailer included)."""
    from .frame import frame_bytes

    q = quantize_code(encode_features(cfg, features), cfg.bits)
    frame = 8 * frame_bytes(q, tables(cfg).get(cfg.split, cfg.bits, "uniform").lengths)
    return {"split": cfg.split, "bits": cfg.bits, "k": q.shape[1], "code_shape": list(q.shape[1:]),
            "top1": float((host_logits(cfg, q, cfg.bits).argmax(1) == labels).mean()),
            "frame_bits": float(frame.mean())}


def frame_rows(cfg, test_features, labels, ks=None):
    """A row per ``(split, bits, k)`` of the device's integer path on the test frames: top-1 of the
    host on the decoded code and the mean frame bits with the shipped tables (header and trailer
    included); ``test_features`` is a list of uint8 split features by split - 1; ``ks`` the code
    channel counts (default: every one the tables have)."""
    from .bottleneck import BITS, channel_counts
    from .frame import frame_bytes

    m = shipped(cfg).meta
    rows = []
    for s in range(1, len(m["channels"]) + 1):
        c = cfg.replace(split=s, bottleneck=kind(cfg), code_channels=m["code"], quantizer="uniform")
        codes = encode_features(c, test_features[s - 1])
        elements = int(np.prod(cfg.spec.shape_after(s)))
        for k in channel_counts(m["code"]) if ks is None else ks:
            ts = tables(c.replace(code_channels=k))
            for bits in BITS:
                q = quantize_code(codes[:, :k], bits)
                frame = 8 * frame_bytes(q, ts.get(s, bits, "uniform").lengths)
                top1 = float((host_logits(c, q, bits).argmax(1) == labels).mean())
                rows.append({"split": s, "bits": bits, "k": k, "code_shape": list(q.shape[1:]), "top1": top1,
                             "frame_bits": float(frame.mean()),
                             "bits_per_split_element": float(frame.mean()) / elements})
    return rows
