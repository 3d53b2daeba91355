"""Seeded random networks: any network file checked bit-exact without training.

``--random-weights SEED`` gives a network random float weights (PyTorch's default initialisation under
``torch.manual_seed(SEED)``), calibrates its activation scales on seeded random frames of the
network's input shape, quantizes it with :func:`golden.ptq.quantize_bundle` exactly as a trained
bundle is quantized, and builds codec tables from the same frames' features. Everything is a pure
function of the network and the seed, so the golden model, the RTL simulation and a reference device
all see the same weights.
"""

import numpy as np

from .network import CALIBRATION_PERCENTILE, Bundle, build_model, to_input

CALIBRATION = 64
"""Random frames the activation scales and the codec tables are calibrated on."""

_CACHE = {}


def frames(spec, count, seed, part="test"):
    """``count`` seeded random uint8 camera frames ``(N, C, H, W)`` of ``spec``'s input shape:
    smooth blobs on noise, so that features have image-like statistics (``part`` "calibration"
    draws frames that the "test" frames never repeat)."""
    rng = np.random.default_rng([seed, {"calibration": 1, "test": 2}[part]])
    c, h, w = spec.in_shape
    low = rng.uniform(0, 255, (count, c, max(1, h // 8), max(1, w // 8)))
    up = low.repeat(8, axis=2).repeat(8, axis=3)[:, :, :h, :w]
    pad = np.zeros((count, c, h, w))
    pad[:, :, :up.shape[2], :up.shape[3]] = up
    noise = rng.normal(0, 24, (count, c, h, w))
    return np.clip(pad + noise, 0, 255).astype(np.uint8)


def bundle(spec, seed):
    """The float :class:`golden.network.Bundle` of ``spec`` with seeded random weights and
    activation scales calibrated on :data:`CALIBRATION` random frames."""
    key = ("bundle", spec, seed)
    if key not in _CACHE:
        import torch

        torch.manual_seed(seed)
        model = build_model(spec).eval()
        x = to_input(frames(spec, CALIBRATION, seed, "calibration"))
        scales = []
        with torch.no_grad():
            for i in range(1, len(spec.edge) + 1):
                a = model.edge_forward(x, i).numpy()
                top = float(np.percentile(a, CALIBRATION_PERCENTILE))
                scales.append(max(top, 1e-6) / 255.0)
        state = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
        _CACHE[key] = Bundle(spec.name, state, scales, {"random_weights": seed})
    return _CACHE[key]


def int_model(spec, seed):
    """The :class:`golden.edge.IntModel` of :func:`bundle`."""
    key = ("int", spec, seed)
    if key not in _CACHE:
        from .ptq import quantize_bundle

        _CACHE[key] = quantize_bundle(bundle(spec, seed), spec)
    return _CACHE[key]


def tables(spec, seed, max_code_len=16):
    """Codec tables of every split and bit-width from the calibration frames' integer features."""
    key = ("tables", spec, seed, max_code_len)
    if key not in _CACHE:
        from .edge import run_all
        from .tables import build_tables

        feats = run_all(int_model(spec, seed), frames(spec, CALIBRATION, seed, "calibration"))
        _CACHE[key] = build_tables(spec, feats, max_code_len)
    return _CACHE[key]
