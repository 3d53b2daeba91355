"""DotEngine (rtl/dot_engine.py), the iCE40UP5K's engine, in the Amaranth simulator against
golden.edge, golden.dot_engine and its cycle model."""

import numpy as np

from golden import datasets, dot_engine, edge, layer_engine
from golden.config import Config
from golden.ptq import int_model
from tests.test_rtl_layer_engine import rtl_engine


def test_golden_twin_equals_the_weight_stationary_engine(rng):
    cfg = Config()
    prog = layer_engine.program_for(cfg)
    frame = datasets.embedded(cfg, "test").images[0]
    assert np.array_equal(dot_engine.execute(prog, frame), layer_engine.execute(prog, frame))


def test_first_layer_with_gaps_and_backpressure(rng):
    cfg = Config(split=1, board="icebreaker")
    frame = datasets.embedded(cfg, "test").images[3]
    got, cycles = rtl_engine(cfg, [frame], rng=rng, idle=0.2, stall=0.3)
    assert np.array_equal(got[0], edge.run(int_model(cfg), frame[None], 1)[0])
    model = dot_engine.schedule_cycles(layer_engine.program_for(cfg))["layers"][0]["cycles"]
    assert abs(cycles[0][0] - model) / model < 0.02, (cycles, model)
