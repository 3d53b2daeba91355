"""The learned bottleneck's first step (issue 19): the model, its training, and a rate that is the
real coder's bit count."""

import numpy as np
import pytest

from golden import bottleneck as B
from golden import datasets, edge, network, ptq
from golden import frame as F
from golden.huffman import HuffmanCode, limited_lengths
from golden.rle import frame_bits, symbol_counts, valid_symbols


@pytest.fixture(scope="module")
def small(cfg):
    """int8 features of 384 training and 100 test frames, and a shared model trained a little."""
    model = ptq.int_model(cfg)
    tr, te = datasets.embedded(cfg, "train"), datasets.embedded(cfg, "test")
    data = (edge.run_all(model, tr.images[:384]), np.array(tr.labels[:384]),
            edge.run_all(model, te.images[:100]), np.array(te.labels[:100]))
    channels = [cfg.spec.shape_after(s)[0] for s in cfg.spec.splits]
    ae = B.build(channels, width=8, code=4, stride=2)
    host = B.train(cfg, ae, data[0], data[1], epochs=2, progress=False)
    return ae, host, data


def test_shared_weights_are_fewer_than_one_autoencoder_per_split(cfg):
    channels = [cfg.spec.shape_after(s)[0] for s in cfg.spec.splits]
    shared, apart = B.build(channels), B.build(channels, shared=False)
    assert B.param_count(shared) < B.param_count(apart)
    # the adapters are per split in both; the encoder and decoder cores are one against one a split
    core = B.param_count(apart) - B.param_count(shared)
    assert core == (len(channels) - 1) * (32 * 8 * 9 + 8 + 8 * 32 * 9 + 32)


def test_code_shape_levels_and_clip(cfg, small):
    ae, _, (ftr, _, _, _) = small
    assert all(float(c) > 0 for c in ae.clip)  # each split's clip followed its code
    for s in range(3):
        h, w = cfg.spec.shape_after(s + 1)[1:]
        for bits in (2, 6):
            q = B.code_levels(ae, ftr[s][:20], s, bits, 2, 0.1)
            assert q.shape == (20, 2, (h + 1) // 2, (w + 1) // 2)
            assert q.max() <= (1 << bits) - 1


def test_rate_is_the_real_coders_frame_length(cfg, small):
    """The rows' frame bits are what golden.frame.encode writes for those levels (header, payload
    padded to whole bytes, trailer), averaged over the test frames."""
    ae, host, data = small
    rows = B.rate_accuracy(cfg, ae, host, data, table_frames=200)
    assert len(rows) == 3 * len(B.BITS) * len(B.channel_counts(ae.code))
    r = next(r for r in rows if r["split"] == 2 and r["bits"] == 3 and r["k"] == 2)
    scale = network.load_bundle(cfg).act_scales[1]
    counts, _ = symbol_counts(B.code_levels(ae, data[0][1][:200], 1, 3, 2, scale))
    lengths = limited_lengths(counts + valid_symbols(3), 16)
    q = B.code_levels(ae, data[2][1], 1, 3, 2, scale)
    code = HuffmanCode(lengths)
    sizes = [len(F.encode(x, F.FrameHeader(2, 3, 255, "uniform", x.shape, 0), code)) for x in q]
    assert r["frame_bits"] == pytest.approx(8 * np.mean(sizes))
    assert np.array_equal(8 * (F.OVERHEAD + (frame_bits(q, lengths) + 7) // 8), 8 * np.array(sizes))
    assert 0 <= r["top1"] <= 1 and r["code_shape"] == list(q.shape[1:])


def test_best_within_picks_the_fewest_bits_inside_the_bound():
    rows = [{"top1": 0.98, "frame_bits": 900}, {"top1": 0.975, "frame_bits": 700},
            {"top1": 0.95, "frame_bits": 300}]
    assert B.best_within(rows, 0.98)["frame_bits"] == 700
    assert B.best_within(rows, 0.999, loss=0.001) is None


# -- on the device: the shipped shared bottleneck as int8 layers of the layer program -------------------
from golden import bottleneck_int as BI  # noqa: E402
from golden import layer_engine  # noqa: E402
from golden.codec import Codec  # noqa: E402
from golden.config import Config  # noqa: E402
from golden.edge_device import device_frames, frame_shape  # noqa: E402
from golden.errors import ConfigError  # noqa: E402

ON_DEVICE = [Config(split=1, bits=3, bottleneck="shared"), Config(split=2, bits=5, bottleneck="shared", code_channels=4),
             Config(split=3, bits=4, bottleneck="per-split")]
IDS = ["s1-3b", "s2-5b-k4", "per-split-s3-4b"]


@pytest.mark.parametrize("c", ON_DEVICE, ids=IDS)
def test_int8_encoder_equals_an_independent_pytorch_integer_path(c):
    """The golden int8 encoder (im2col and integer requantization) against PyTorch's direct float64
    convolution with int64 requantization, bit for bit, on real frames."""
    model = ptq.int_model(c)
    images = datasets.embedded(c, "test").images[:24]
    got = edge.run(model, images, c.device_blocks)
    assert got.shape[1:] == BI.code_shape(c) == frame_shape(c)
    assert got.shape[1] == BI.code_channels(c) and got.max() > 0 and (got == 0).mean() > 0.05
    assert np.array_equal(got, edge.torch_reference(model, images, c.device_blocks))
    # the edge blocks before the split are the network's own
    assert np.array_equal(edge.run(model, images, c.split), edge.run(ptq.int_model(Config(split=c.split)), images,
                                                                      c.split))


@pytest.mark.parametrize("c", ON_DEVICE, ids=IDS)
def test_the_layer_program_runs_the_encoder_and_frames_decode(c):
    prog = layer_engine.program_for(c)
    adapter, encoder = prog.layers[-2:]
    assert len(prog.layers) == c.split + 2
    assert (adapter.k_y, adapter.pool, adapter.stride) == (1, 1, 1)
    assert (encoder.k_y, encoder.pool, encoder.stride) == (3, 1, 2)
    images = datasets.embedded(c, "test").images[:4]
    frames, codes = device_frames(c, images)
    assert np.array_equal(layer_engine.execute(prog, images[0]), codes[0])  # the engine's own model
    codec = Codec.for_config(c)
    for f, code in zip(frames, codes):
        d = codec.decode(f)
        assert d.header.shape == BI.code_shape(c) and d.header.clip == 255 and d.header.split == c.split
        assert np.array_equal(d.levels, BI.quantize_code(code, c.bits))
    plain = Codec.for_config(Config(split=c.split, bits=c.bits))
    with pytest.raises(Exception, match="codec table|shape"):
        plain.decode(frames[0])  # a decoder without the bottleneck's tables refuses its frames


def test_bottleneck_configuration_is_checked():
    for bad in ({"bottleneck": "per_split"}, {"code_channels": 2}, {"bottleneck": "shared", "quantizer": "ecsq"},
                {"bottleneck": "shared", "clip": 100}, {"bottleneck": "shared", "random_weights": 1},
                {"bottleneck": "shared", "code_channels": 0}):
        with pytest.raises(ConfigError):
            Config(**bad)
    with pytest.raises(ConfigError, match="code_channels must be between 1 and"):
        ptq.int_model(Config(bottleneck="shared", code_channels=99))
    assert Config(bottleneck="shared", split=2).device_blocks == 4 and Config(split=2).device_blocks == 2


def test_shipped_bottleneck_keeps_accuracy_on_the_integer_path(cfg):
    """The shipped model's default point, as the device computes it and the host decodes it, stays
    near float top-1 on 600 test frames (the benchmark measures all of them)."""
    meta = BI.shipped(cfg).meta
    test = datasets.embedded(cfg, "test")
    c = Config(split=1, bits=3, bottleneck="shared")
    codes = edge.run(ptq.int_model(c), test.images[:600], c.device_blocks)
    top1 = (BI.host_logits(c, BI.quantize_code(codes, c.bits), c.bits).argmax(1) == np.array(test.labels[:600])).mean()
    assert top1 >= meta["float_top1"] - 0.03
