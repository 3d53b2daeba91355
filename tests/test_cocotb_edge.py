"""cocotb on the generated Verilog of the whole edge part: real test frames, bit-exact with golden."""

import pytest

from golden import layer_engine
from golden.config import Config
from sim import edge

ECP5, UP5K = "ulx3s-85f", "icebreaker"  # the weight-stationary LayerEngine, the DotEngine
CASES = [
    # rows, cols, split, board, simulator, frames
    pytest.param(4, 4, 3, UP5K, "verilator", 8, id="4x4-s3-dot-verilator"),
    pytest.param(4, 4, 3, ECP5, "verilator", 8, id="4x4-s3-ecp5-verilator"),
    pytest.param(2, 3, 3, ECP5, "verilator", 8, id="2x3-s3-ecp5-verilator"),
    pytest.param(8, 8, 3, ECP5, "verilator", 4, id="8x8-s3-ecp5-verilator", marks=pytest.mark.slow),
    # splits 1 and 2 change memory contents only (test_rtl_layer_engine), and 4x4-s3 checks each layer
    pytest.param(4, 4, 1, UP5K, "verilator", 2, id="4x4-s1-dot-verilator", marks=pytest.mark.slow),
    pytest.param(4, 4, 2, ECP5, "verilator", 2, id="4x4-s2-ecp5-verilator", marks=pytest.mark.slow),
    pytest.param(4, 4, 1, UP5K, "icarus", 1, id="4x4-s1-dot-icarus"),
    pytest.param(4, 4, 3, ECP5, "icarus", 1, id="4x4-s3-ecp5-icarus", marks=pytest.mark.slow),
    pytest.param(2, 3, 2, ECP5, "icarus", 1, id="2x3-s2-ecp5-icarus", marks=pytest.mark.slow),
]


@pytest.mark.parametrize("rows, cols, split, board, sim, frames", CASES)
def test_edge_part_bit_exact(rows, cols, split, board, sim, frames, tmp_path):
    """Every layer is checked: the split tensor after blocks 1, 2 and 3 is each layer's output; the
    cycles within 3% of the engine's schedule model."""
    cfg = Config(rows=rows, cols=cols, split=split, board=board)
    r = edge.simulate(cfg, frames=frames, sim=sim, build_dir=tmp_path, seed=rows * 7 + split)
    assert r["bit_exact"] == r["frames"] == frames, r["per_frame"]
    model = layer_engine.schedule_for(cfg)["cycles"]
    assert abs(r["cycles_per_frame"] - model) / model < 0.03, (r["layer_cycles"], model)


def test_edge_part_with_one_pool_window_per_chunk(tmp_path):
    """acc_depth 4: every pass is four beats, so the weight loader, not the array, sets the pace and
    each bank is refilled as soon as the engine allows (the bit-exactness is what is checked; the
    schedule model does not count loader stalls)."""
    cfg = Config(split=2, acc_depth=4, board=ECP5)
    r = edge.simulate(cfg, frames=1, sim="verilator", build_dir=tmp_path, seed=3)
    assert r["bit_exact"] == r["frames"] == 1, r["per_frame"]
