"""Post-training quantization of the float edge blocks into an :class:`golden.edge.IntModel`.

- Weights: per output channel, symmetric int8 in -127..127, ``w_scale = max|w| / 127``.
- Activations: uint8 with zero point 0 (they follow a ReLU); the input frame's scale is 1/255, each
  block's output scale is its calibrated 99.99th-percentile activation / 255 (stored in the bundle).
- Bias: int32 in accumulator units, ``round(b / (in_scale * w_scale))``.
- Requantization: ``in_scale * w_scale / out_scale`` as ``m / 2**shift``
  (:func:`golden.requant.choose_multiplier`).
Rounding of float values to integers is round-half-to-even (``numpy.rint``); it only happens here,
offline, never in the datapath.
"""

import dataclasses

import numpy as np

from .edge import IntLayer, IntModel
from .errors import ConfigError, ModelError
from .network import load_bundle
from .requant import choose_multiplier


def quantize_bundle(bundle, spec):
    """:class:`IntModel` from a float :class:`golden.network.Bundle`."""
    layers = []
    in_scale = 1.0 / 255.0
    for i, block in enumerate(spec.edge):
        try:
            w = np.asarray(bundle.state[f"edge.{i}.weight"], np.float64)
            b = np.asarray(bundle.state[f"edge.{i}.bias"], np.float64)
        except KeyError as exc:
            raise ModelError(f"bundle has no weights {exc} for edge block {i + 1}") from None
        if w.shape != (block.cout, block.cin, block.k, block.k):
            raise ModelError(f"edge block {i + 1} weights are {w.shape}, the network needs "
                             f"{(block.cout, block.cin, block.k, block.k)}")
        layers.append(quantize_conv(block, w, b, in_scale, bundle.act_scales[i], f"edge block {i + 1}"))
        in_scale = bundle.act_scales[i]
    return IntModel(spec=spec, layers=tuple(layers))


def quantize_conv(block, w, b, in_scale, out_scale, what="a layer"):
    """The :class:`IntLayer` of float weights ``w`` ``(Cout, Cin, k, k)`` and bias ``b`` between
    activation scales ``in_scale`` and ``out_scale``, by this module's scheme."""
    w = np.asarray(w, np.float64).reshape(block.cout, -1)
    b = np.asarray(b, np.float64)
    amax = np.abs(w).max(1)
    w_scale = np.where(amax > 0, amax / 127.0, 1.0)
    wq = np.clip(np.rint(w / w_scale[:, None]), -127, 127).astype(np.int8)
    bq = np.rint(b / (in_scale * w_scale)).astype(np.int64)
    if np.abs(bq).max(initial=0) >= 2 ** 31:
        raise ModelError(f"{what}: a bias does not fit int32")
    ms = [choose_multiplier(in_scale * s / out_scale) for s in w_scale]
    return IntLayer(block=block, weight=wq, bias=bq.astype(np.int32),
                    mult=np.array([m for m, _ in ms], np.int64), shift=np.array([s for _, s in ms], np.int64),
                    in_scale=in_scale, out_scale=out_scale, w_scale=w_scale)


_CACHE = {}


def int_model(cfg):
    """The :class:`IntModel` of ``cfg``'s bundle (or random weights), checked against ``cfg.acc_width``."""
    if cfg.bottleneck is not None:
        from . import bottleneck_int

        plain = dataclasses.replace(cfg, bottleneck=None, code_channels=None)
        base = int_model(plain)
        key = (id(base), cfg.split, bottleneck_int.code_channels(cfg), id(bottleneck_int.shipped(cfg)))
        if key not in _CACHE:
            _CACHE[key] = bottleneck_int.int_model(cfg, base)
        model = _CACHE[key]
    elif cfg.random_weights is not None:
        from . import randomnet

        model = randomnet.int_model(cfg.spec, cfg.random_weights)
    else:
        bundle = load_bundle(cfg)
        key = id(bundle)
        if key not in _CACHE:
            _CACHE[key] = quantize_bundle(bundle, cfg.spec)
        model = _CACHE[key]
    need = model.acc_bits_needed()
    if need > cfg.acc_width:
        raise ConfigError(f"acc_bits {cfg.acc_width} is too small for this model: its worst-case "
                          f"accumulator needs {need} bits")
    return model
