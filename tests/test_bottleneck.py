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
    assert len(rows) == 3 * len(B.BITS) * len(B.channel_counts(ae))
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
