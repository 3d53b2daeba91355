"""The golden layer engine (tile schedule, memory layout) against the golden integer reference."""

import numpy as np
import pytest

from golden import datasets, edge
from golden import layer_engine as LE
from golden.config import Config
from golden.errors import ConfigError

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
    folded = LE.fold_input(x[:1], 3, 1)
    assert folded.shape == (3, 3, 5)
    assert folded[0, 2, 0] == 0 and folded[0, 2, 1] == x[0, 2, 0] and folded[2, 2, 4] == 0
    prog = LE.Program(rows=4, cols=4, layers=(), acc_depth=64)
    assert prog.rows == 4


def test_stream_out_is_chw_scan(int_model, frames):
    prog = LE.compile_program(int_model, 3, 4, 4)
    feats = LE.execute(prog, frames[0])
    assert np.array_equal(LE.stream_out(prog, LE.to_words(feats, 4)), feats.reshape(-1))


def test_default_array_utilization_model(cfg):
    """Design guard: the default 4x4 schedule keeps the array >= 90% busy over the edge layers."""
    s = LE.schedule_cycles(LE.program_for(cfg))
    assert s["utilization"] >= 0.90
    assert s["macs"] == sum(cfg.spec.macs(i) for i in range(1, cfg.split + 1))


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
