"""The golden layer engine (tile schedule, memory layout) against the golden integer reference."""

from types import SimpleNamespace

import numpy as np
import pytest

from golden import datasets, edge
from golden import layer_engine as LE
from golden.config import Config
from golden.errors import ConfigError
from golden.frame_loader import fold_input

SHAPES = [(1, 1), (2, 3), (3, 5), (4, 4), (8, 8), (4, 2)]


@pytest.fixture(scope="module")
def frames(cfg):
    rng = np.random.default_rng(7)
    test = datasets.embedded(cfg, "test").images[:2]
    return np.concatenate([test, rng.integers(0, 256, (1, 1, 64, 64), dtype=np.uint8),
                           np.zeros((1, 1, 64, 64), np.uint8), np.full((1, 1, 64, 64), 255, np.uint8)])


@pytest.mark.parametrize("rows, cols", SHAPES)
def test_schedule_is_bit_exact_with_golden(int_model, frames, rows, cols):
    split = 3 if rows * cols > 1 else 2  # the 1x1 array is slow in this Python model
    prog = LE.compile_program(int_model, split, rows, cols, acc_depth=64)
    want = edge.run(int_model, frames, split)
    for f, w in zip(frames, want):
        assert np.array_equal(LE.execute(prog, f), w)


def test_trace_accumulators_equal_golden(int_model, frames):
    prog = LE.compile_program(int_model, 2, 4, 4, acc_depth=128)
    trace = []
    LE.execute(prog, frames[0], trace)
    golden = edge.trace(int_model, frames[:1], 2)
    for layer, nt, first, acc in trace:
        op = prog.layers[layer - 1]
        pixels = op.pixel_order[first:first + len(acc)]
        want = np.array([golden[layer - 1]["acc"][0, nt * 4:nt * 4 + 4, y, x] for y, x in pixels])
        assert np.array_equal(acc[:, :want.shape[1]], want)


def test_layout_helpers(rng):
    x = rng.integers(0, 256, (6, 3, 5), dtype=np.uint8)
    words = LE.to_words(x, 4)
    assert words.shape == (3 * 5 * 2, 4)
    assert np.array_equal(words[(1 * 5 + 2) * 2 + 1], [x[4, 1, 2], x[5, 1, 2], 0, 0])
    assert np.array_equal(LE.from_words(words, x.shape, 4), x)
    folded = fold_input(x[:1], 3, 1)
    assert folded.shape == (3, 3, 5)
    assert folded[0, 2, 0] == 0 and folded[0, 2, 1] == x[0, 2, 0] and folded[2, 2, 4] == 0
    prog = LE.Program(rows=4, cols=4, layers=(), acc_depth=64)
    assert prog.rows == 4


def test_stream_out_is_chw_scan(int_model, frames):
    prog = LE.compile_program(int_model, 3, 4, 4)
    feats = LE.execute(prog, frames[0])
    assert np.array_equal(LE.stream_out(prog, LE.to_words(feats, 4)), feats.reshape(-1))


@pytest.mark.parametrize("board, floor", [("ulx3s-85f", 0.90), ("icebreaker", 0.885)],
                         ids=["layer-engine", "dot-engine"])
def test_default_array_utilization_model(cfg, board, floor):
    """Design guard: the default 4x4 schedule keeps the array busy over the edge layers: >= 90% on
    the ECP5's engine; on the iCE40UP5K's DotEngine 88.9% since its pool gave up its output
    register to fit the part (issue 18 aims at 90%: missed, docs/RESULTS.md), and no less."""
    c = cfg.replace(board=board)
    s = LE.schedule_for(c)
    assert s["utilization"] >= floor
    assert s["macs"] == sum(c.spec.macs(i) for i in range(1, c.split + 1))


def test_first_layer_is_folded_only_when_it_helps(int_model):
    assert LE.compile_program(int_model, 1, 4, 4).layers[0].folded
    assert not LE.compile_program(int_model, 1, 1, 4).layers[0].folded


@pytest.mark.parametrize("changes, message", [
    (dict(act_mem_bytes=1000), "needs .* bytes of activation memory .* act_mem_bytes is 1000"),
    (dict(weight_mem_bytes=100), "bytes of weight memory .* weight_mem_bytes is 100"),
])
def test_memory_limits_named(changes, message):
    with pytest.raises(ConfigError, match=message):
        LE.program_for(Config(**changes))


@pytest.mark.parametrize("changes, message", [
    (dict(acc_depth=2), "acc_depth must be between 4 and 65536"),
    (dict(act_mem_bytes=0), "act_mem_bytes must be positive"),
])
def test_engine_config_validation(changes, message):
    with pytest.raises(ConfigError, match=message):
        Config(**changes)


NETWORK_FILES = ("rgb32", "k5pool3", "k7s2")


@pytest.mark.parametrize("name", NETWORK_FILES)
@pytest.mark.parametrize("rows, cols", [(4, 4), (3, 5), (12, 12), (1, 2)])
def test_network_files_bit_exact_with_golden(name, rows, cols):
    """The schedule (and the program read back from the engine's memory image) equals golden.edge
    and the independent PyTorch path on the shipped example networks, for array shapes whose rows
    are no power of two and channel counts that do not tile."""
    from golden import edge, randomnet
    from golden.netspec import get_netspec
    from golden.ptq import int_model

    path = f"golden/data/networks/{name}.json"
    split = len(get_netspec(path).edge)
    cfg = Config(network=path, random_weights=5, split=split, rows=rows, cols=cols, acc_depth=64,
                 act_mem_bytes=1 << 17, weight_mem_bytes=1 << 15, board="ulx3s-85f")
    model = int_model(cfg)
    frames = randomnet.frames(cfg.spec, 2, 9)
    want = edge.run(model, frames, split)
    assert np.array_equal(want, edge.torch_reference(model, frames, split))
    prog = LE.program_for(cfg)
    image = LE.engine_image(prog, cfg.act_mem_bytes, cfg.weight_mem_bytes)
    again = LE.program_from_image(image)
    for f, w in zip(frames, want):
        assert np.array_equal(LE.execute(prog, f), w)
        assert np.array_equal(LE.execute(again, f), w)


def test_chunks_keep_the_accumulator_apart():
    """A layer without pooling is cut into chunks of MIN_CHUNK pixels or more; too few pixels are refused."""
    assert LE.chunk_step(257, 1, 256) == 253  # 256 would leave a last chunk of 1 pixel
    assert LE.chunk_step(256, 1, 256) == 256
    assert LE.chunk_step(36, 3, 64) == 63
    assert LE.chunk_step(4, 2, 4) == 4
    with pytest.raises(ConfigError, match="needs at least 4"):
        LE.chunk_step(3, 1, 256)


def test_drain_gap_spaces_results_without_pooling():
    from golden.netspec import from_dict

    spec = from_dict({"name": "g", "in_shape": [1, 8, 8], "classes": 2,
                      "edge": [{"cout": 8, "k": 3, "pool": 2}, {"cout": 8, "k": 1, "pool": 1}]})
    layers = [SimpleNamespace(block=b, weight=np.ones((b.cout, b.taps), np.int8), bias=np.zeros(b.cout, np.int32),
                              mult=np.full(b.cout, 1 << 15, np.int64), shift=np.full(b.cout, 20, np.int64))
              for b in spec.edge]
    prog = LE.compile_program(SimpleNamespace(spec=spec, layers=layers), 2, 4, 4, acc_depth=64)
    assert [LE.drain_gap(op, 4, 4) for op in prog.layers] == [1, 4]  # 1 requantizer: 4 cycles a pixel
    assert [LE.drain_gap(op, 3, 4) for op in prog.layers] == [1, 4]  # 4 lanes over 2 words: 3 cycles
    assert LE.drain_gap(prog.layers[1], 1, 4) == 5  # 4 words: 5 writer cycles
