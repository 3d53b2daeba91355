import numpy as np
import pytest
import torch

from golden import datasets, edge, network
from golden.edge import IntLayer, conv_acc, im2col
from golden.netspec import ConvBlock, get_netspec


def direct_conv(x, w, b, k, pad):
    """Loop-nest reference of a convolution in Python integers."""
    n, c, h, wd = x.shape
    cout = w.shape[0]
    xp = np.pad(x.astype(np.int64), ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    oh, ow = h + 2 * pad - k + 1, wd + 2 * pad - k + 1
    out = np.zeros((n, cout, oh, ow), np.int64)
    wk = w.reshape(cout, c, k, k).astype(np.int64)
    for o in range(cout):
        for y in range(oh):
            for xx in range(ow):
                out[:, o, y, xx] = (xp[:, :, y:y + k, xx:xx + k] * wk[o]).sum((1, 2, 3)) + b[o]
    return out


def random_layer(rng, cin, cout, k=3, pad=1):
    return IntLayer(block=ConvBlock(cin, cout, k, pad), weight=rng.integers(-127, 128, (cout, cin * k * k)).astype(np.int8),
                    bias=rng.integers(-5000, 5000, cout).astype(np.int32),
                    mult=rng.integers(1 << 15, 1 << 16, cout), shift=rng.integers(16, 24, cout),
                    in_scale=1.0, out_scale=1.0, w_scale=np.ones(cout))


@pytest.mark.parametrize("cin, cout, k, pad, hw", [(1, 1, 1, 0, 1), (1, 8, 3, 1, 6), (3, 5, 3, 1, 5),
                                                    (2, 4, 3, 0, 4), (4, 2, 5, 2, 7)])
def test_conv_acc_matches_loop_nest(rng, cin, cout, k, pad, hw):
    layer = random_layer(rng, cin, cout, k, pad)
    x = rng.integers(0, 256, (2, cin, hw, hw), dtype=np.uint8)
    assert np.array_equal(conv_acc(x, layer), direct_conv(x, layer.weight, layer.bias, k, pad))


def test_im2col_order_matches_torch_weight_layout(rng):
    x = rng.integers(0, 256, (1, 3, 4, 4), dtype=np.uint8)
    cols, (oh, ow) = im2col(x, 3, 1)
    assert cols.shape == (1, 16, 27) and (oh, ow) == (4, 4)
    # row 5 = output pixel (1, 1): taps (c, ky, kx) read x[c, ky, kx] (window at origin 0,0)
    assert np.array_equal(cols[0, 5].reshape(3, 3, 3), x[0, :, 0:3, 0:3])


def test_extremes_saturate_and_relu(rng):
    layer = random_layer(rng, 2, 3)
    layer = IntLayer(**{**layer.__dict__, "weight": np.full((3, 18), 127, np.int8),
                        "mult": np.full(3, 1 << 15), "shift": np.full(3, 16)})
    hot = np.full((1, 2, 4, 4), 255, np.uint8)
    assert (edge.run_block(hot, layer) == 255).all()
    neg = IntLayer(**{**layer.__dict__, "weight": np.full((3, 18), -127, np.int8)})
    assert (edge.run_block(hot, neg) == 0).all()
    zero = np.zeros((1, 2, 4, 4), np.uint8)
    assert np.array_equal(edge.run_block(zero, layer).reshape(3, -1)[:, 0] > 0, layer.bias > 0)


def test_trace_is_consistent_and_equals_run(cfg, int_model):
    images = datasets.embedded(cfg, "test").images[:6]
    tr = edge.trace(int_model, images)
    assert len(tr) == len(int_model.layers)
    for a, b in zip(tr, tr[1:]):
        assert a["out"] is b["input"]
    for split in cfg.spec.splits:
        out = edge.run(int_model, images, split)
        assert out.shape[1:] == cfg.spec.shape_after(split)
        assert np.array_equal(out, tr[split - 1]["out"])


def test_independent_torch_path_is_bit_exact(cfg, int_model, rng):
    images = np.concatenate([datasets.embedded(cfg, "test").images[:40],
                             rng.integers(0, 256, (8, 1, 64, 64), dtype=np.uint8),
                             np.zeros((1, 1, 64, 64), np.uint8), np.full((1, 1, 64, 64), 255, np.uint8)])
    for split in cfg.spec.splits:
        assert np.array_equal(edge.torch_reference(int_model, images, split),
                              edge.run(int_model, images, split))


def test_accumulator_fits_configured_width(cfg, int_model):
    assert int_model.acc_bits_needed() <= cfg.acc_width
    for layer in int_model.layers:
        assert (layer.mult >= 1 << 15).all() and (layer.mult < 1 << 16).all()
        assert (np.abs(layer.weight.astype(int)) <= 127).all()


def test_edge_part_fits_ice40up5k(cfg):
    spec = get_netspec(cfg.network)
    last = max(spec.splits)
    need = spec.weight_bytes(last) + spec.activation_bytes(last)
    assert need < 64 * 1024  # well under the UP5K's 128 KiB of SPRAM
    assert len(spec.splits) >= 3


def test_int8_accuracy_within_half_percent_of_float(cfg, int_model):
    test = datasets.embedded(cfg, "test")
    bundle = network.load_bundle(cfg)
    model = bundle.model(cfg.spec)
    fl = (network.predict(model, test.images) == test.labels).mean()
    assert fl >= 0.95
    feats = edge.run(int_model, test.images, cfg.spec.splits[-1])
    with torch.no_grad():
        x = torch.from_numpy(feats.astype(np.float32) * np.float32(int_model.scale(3)))
        pred = model.host_forward(x, 3).argmax(1).numpy()
    assert abs((pred == test.labels).mean() - fl) <= 0.005
