"""Import a trained float PyTorch ``nn.Sequential`` as an edgesplit network file and model bundle
(``edgesplit import``; docs/NETWORK.md, "Importing a PyTorch model").

The module is read with ``torch.load(weights_only=True)`` and an allowlist of the layer classes
below, so a file cannot run code. Its layers must form blocks ``Conv2d [BatchNorm2d] ReLU
[MaxPool2d]`` then ``Flatten [Dropout] Linear``; ``Dropout`` anywhere is ignored (inference). A
``BatchNorm2d`` is folded into the convolution before it::

    s = gamma / sqrt(running_var + eps);  w' = w * s (per output channel);  b' = (b - running_mean) * s + beta

The first ``split`` blocks are the edge part (candidate splits after each), the rest the host's.
The input shape is the first convolution's channels and the square side whose flattened output
matches the ``Linear``'s inputs (``in_shape`` overrides it). The module takes frames as floats
in 0..1 (uint8 / 255), as edgesplit's own networks do.
"""

import json
from pathlib import Path

import numpy as np

from .errors import ConfigError, ModelError
from .netspec import KERNELS, MAX_SIDE, POOLS, STRIDES, ConvBlock, NetSpec, from_dict


def _allowed():
    from torch import nn

    return [nn.Sequential, nn.Conv2d, nn.BatchNorm2d, nn.ReLU, nn.MaxPool2d, nn.Flatten, nn.Linear, nn.Dropout]


def load_module(path):
    """The ``nn.Sequential`` in ``path`` (``torch.save(model, path)``), loaded without running code."""
    import pickle
    import warnings

    import torch
    from torch import nn

    try:
        with torch.serialization.safe_globals(_allowed()), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's advice on legacy pickles; the error below says what to do
            module = torch.load(path, weights_only=True)
    except FileNotFoundError:
        raise ModelError(f"no PyTorch model at {str(path)!r}") from None
    except (pickle.UnpicklingError, RuntimeError, OSError, EOFError, AttributeError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(f"{path}: cannot load it as a PyTorch nn.Sequential of the supported layers "
                         f"({', '.join(c.__name__ for c in _allowed()[1:])}): {first}") from None
    if not isinstance(module, nn.Sequential):
        raise ModelError(f"{path}: holds a {type(module).__name__}, not an nn.Sequential")
    return module.eval()


def _conv_block(conv, where):
    """The :class:`ConvBlock` of ``conv`` (pool 1); :class:`ConfigError` for what the device cannot run."""
    k, s, p = conv.kernel_size, conv.stride, conv.padding
    if (isinstance(p, str) or k[0] != k[1] or s[0] != s[1] or p[0] != p[1] or conv.dilation != (1, 1)
            or conv.groups != 1 or conv.padding_mode != "zeros"):
        raise ConfigError(f"{where}: Conv2d must be square, with equal stride and zero padding on both axes, no "
                          f"dilation and no groups, not kernel {k}, stride {s}, padding {p}")
    if k[0] not in KERNELS or s[0] not in STRIDES or not 0 <= p[0] < k[0]:
        raise ConfigError(f"{where}: Conv2d kernel must be one of {list(KERNELS)}, stride one of {list(STRIDES)} "
                          f"and padding below the kernel, not {k[0]}, {s[0]}, {p[0]}")
    return ConvBlock(cin=conv.in_channels, cout=conv.out_channels, k=k[0], pad=p[0], stride=s[0], pool=1)


def fold_batchnorm(w, b, bn):
    """Conv weights ``w`` and bias ``b`` (NumPy float64) with ``bn`` folded in."""
    scale = bn.weight.detach().double().numpy() / np.sqrt(bn.running_var.double().numpy() + bn.eps)
    w = w * scale[:, None, None, None]
    b = (b - bn.running_mean.double().numpy()) * scale + bn.bias.detach().double().numpy()
    return w, b


def blocks_of(module):
    """``([(ConvBlock, weight, bias)], (fc_weight, fc_bias))`` of ``module`` (NumPy float64)."""
    from torch import nn

    layers = [(i, m) for i, m in enumerate(module) if not isinstance(m, nn.Dropout)]
    blocks, fc, j = [], None, 0
    while j < len(layers):
        i, m = layers[j]
        where = f"layer {i} ({type(m).__name__})"
        if isinstance(m, nn.Conv2d):
            block = _conv_block(m, where)
            w = m.weight.detach().double().numpy()
            b = m.bias.detach().double().numpy() if m.bias is not None else np.zeros(block.cout)
            j += 1
            if j < len(layers) and isinstance(layers[j][1], nn.BatchNorm2d):
                w, b = fold_batchnorm(w, b, layers[j][1])
                j += 1
            if j >= len(layers):
                raise ConfigError(f"{where}: a Conv2d (and its BatchNorm2d) must be followed by a ReLU")
            if not isinstance(layers[j][1], nn.ReLU):
                k, nxt = layers[j]
                raise ConfigError(f"layer {k} ({type(nxt).__name__}): not supported here; a Conv2d (and its "
                                  f"BatchNorm2d) must be followed by a ReLU")
            j += 1
            if j < len(layers) and isinstance(layers[j][1], nn.MaxPool2d):
                block = _pool(block, layers[j][1], f"layer {layers[j][0]} (MaxPool2d)")
                j += 1
            blocks.append((block, w, b))
        elif isinstance(m, nn.Flatten) and blocks and j + 2 == len(layers) and isinstance(layers[j + 1][1], nn.Linear):
            lin = layers[j + 1][1]
            fc = (lin.weight.detach().double().numpy(),
                  lin.bias.detach().double().numpy() if lin.bias is not None else np.zeros(lin.out_features))
            j += 2
        else:
            raise ConfigError(f"{where}: not supported here; a model is blocks of Conv2d [BatchNorm2d] ReLU "
                              f"[MaxPool2d], then Flatten [Dropout] Linear (Dropout anywhere is ignored)")
    if fc is None:
        raise ConfigError("the model must end in Flatten [Dropout] Linear after its Conv2d blocks")
    return blocks, fc


def _pool(block, pool, where):
    k, s = pool.kernel_size, pool.stride
    k = k if isinstance(k, int) else k[0] if k[0] == k[1] else None
    s = s if isinstance(s, int) else s[0] if s[0] == s[1] else None
    if k not in POOLS or s != k or pool.padding not in (0, (0, 0)) or pool.dilation not in (1, (1, 1)) or pool.ceil_mode:
        raise ConfigError(f"{where}: MaxPool2d must have kernel = stride in {list(POOLS)}, no padding, dilation "
                          f"or ceil_mode")
    return ConvBlock(cin=block.cin, cout=block.cout, k=block.k, pad=block.pad, stride=block.stride, pool=k)


def _flat(blocks, h, w):
    """Values the last block's output flattens to on an ``h x w`` input (0: it shrinks to nothing)."""
    for b in blocks:
        h, w = b.out_shape(h, w)
        if min(h, w) < 1:
            return 0
    return blocks[-1].cout * h * w


def infer_shape(blocks, fc_inputs, native=None):
    """``(C, H, W)``: the data's ``native`` side if the last block flattens it to ``fc_inputs``
    values, else the smallest square input that does."""
    c = blocks[0].cin
    if native is not None and _flat(blocks, *native[1:]) == fc_inputs:
        return (c, *native[1:])
    for side in range(1, MAX_SIDE + 1):
        h = w = side
        if _flat(blocks, h, w) == fc_inputs:
            return (c, side, side)
    raise ConfigError(f"no square input up to {MAX_SIDE} pixels gives the Linear's {fc_inputs} inputs: pass "
                      f"--in-shape C,H,W")


def to_network(module, split, name, data, in_shape=None):
    """``(NetSpec, float state dict)`` of ``module`` split after block ``split``, taking frames of
    the data source ``data``."""
    from .sources import native_shape

    blocks, (fw, fb) = blocks_of(module)
    if not 1 <= split <= len(blocks):
        raise ConfigError(f"--split must be between 1 and {len(blocks)} (the model's Conv2d blocks), not {split}")
    shape = tuple(in_shape) if in_shape else infer_shape([b for b, _, _ in blocks], fw.shape[1], native_shape(data))
    spec_blocks = [b for b, _, _ in blocks]
    spec = NetSpec(name=name, in_shape=shape, edge=tuple(spec_blocks[:split]), host=tuple(spec_blocks[split:]),
                   classes=fw.shape[0], data=data)
    spec = from_dict(spec.to_dict(), f"the network of {name!r}")  # every limit a network file has
    state = {}
    for i, (_, w, b) in enumerate(blocks):
        part, j = ("edge", i) if i < split else ("host", i - split)
        state[f"{part}.{j}.weight"], state[f"{part}.{j}.bias"] = w, b
    state["fc.weight"], state["fc.bias"] = fw, fb
    return spec, state


def import_model(path, split, out_dir, data="digits64", name=None, in_shape=None, cfg_changes=None, log=print):
    """Write ``out_dir/network.json`` and ``out_dir/bundle.npz`` (with its codec tables) of the
    PyTorch model at ``path``; returns the report (both top-1s, the paths)."""
    import dataclasses

    import torch

    from . import datasets, network, pipeline
    from .config import Config

    module = load_module(path)
    name = name or "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in Path(path).stem)
    spec, state = to_network(module, split, name, data, in_shape)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    net_path = out_dir / "network.json"
    net_path.write_text(json.dumps(spec.to_dict(), indent=1))
    bundle_path = out_dir / "bundle.npz"
    cfg = dataclasses.replace(Config(network=str(net_path), split=split, weights=str(bundle_path)),
                              **(cfg_changes or {}))
    train, test = datasets.embedded(cfg, "train"), datasets.embedded(cfg, "test")
    model = network.build_model(spec)
    model.load_state_dict({k: torch.from_numpy(v.astype(np.float32)) for k, v in state.items()})
    model.eval()
    ours = float((network.predict(model, test.images) == test.labels).mean())
    with torch.no_grad():
        theirs = float(np.mean(np.concatenate([module(network.to_input(test.images[i:i + 500])).argmax(1).numpy()
                                               for i in range(0, len(test), 500)]) == test.labels))
    if ours != theirs:
        raise ModelError(f"the imported float model's top-1 on {len(test)} test frames of {data} is {ours:.4f}, the "
                         f"original module's {theirs:.4f}: the import changed the model")
    scales = network.calibrate(model, train.images[:network.CALIBRATION_FRAMES], spec)
    bundle = network.Bundle(spec.name, {k: v.astype(np.float32) for k, v in state.items()}, scales,
                            {"float_accuracy": ours, "data": data, "imported_from": str(path)})
    bundle.save(bundle_path)
    pipeline.rebuild_tables(cfg, log=lambda m: None)
    log(f"imported {path}: {len(spec.edge)} edge and {len(spec.host)} host blocks, input "
        f"{'x'.join(map(str, spec.in_shape))}, float top-1 {ours:.4f} (the module's own: {theirs:.4f})")
    return {"network": str(net_path), "bundle": str(bundle_path), "float_top1": ours, "module_top1": theirs,
            "in_shape": list(spec.in_shape), "split": split}
