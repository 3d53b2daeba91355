"""Golden twin of :class:`rtl.dot_engine.DotEngine`, the iCE40UP5K's output-stationary layer engine.

It runs the same layer program (:class:`golden.layer_engine.Program`, the same descriptors, weight
rows, parameter words and activation memory layout) as the ECP5's weight-stationary engine, in
another order: every tap of a pixel before the next pixel (:func:`golden.tap_walker.beats`), its
sums accumulating in the dot array's registers (:func:`golden.dot_array.dot_pixels`), then a pool
window's pixels max-pooled, biased and requantized a lane at a time
(:func:`golden.requant_stage.requant_stage`, whose requantizer is the serial one of
:mod:`golden.serial_requant`; it gives the bytes of :func:`golden.requant.requantize`). Integer
sums are exact, so :func:`execute` equals :func:`golden.edge.run` and
:func:`golden.layer_engine.execute` bit for bit.
"""

import numpy as np

from .addrgen import Descriptor
from .dot_array import dot_pixels
from . import layer_engine
from .layer_engine import requantizers, rq_steps, to_words
from .requant_stage import requant_stage
from .serial_requant import STEPS
from .tap_walker import FIELDS, beats, setup_cycles

WALK_START = 1
"""Cycles from a layer's start to the walker's setup (:func:`golden.tap_walker.setup_cycles`)."""
DRAIN = 25
"""Cycles from a layer's last beat to its last write: the RAM reads, the array, the pool, the last
window's four serial lanes and the writer."""


def run_layer(op, words, rows, cols, width=32):
    """Output words of layer ``op`` from its input words, beat by beat as the DotEngine runs it."""
    walk = beats(Descriptor.of(op))
    col = {name: walk[:, k] for k, name in enumerate(FIELDS)}
    T = len(op.taps)
    weights = op.weights.reshape(-1, rows, cols)  # tile n * T + t
    dot = [(np.zeros(rows, np.int64) if z else words[a], weights[t], f, la)
           for a, z, t, f, la in zip(col["addr"], col["zero"], col["tile"], col["first"], col["last"])]
    sums = dot_pixels(dot, width)
    tiles = col["n"][col["last"] == 1]
    pooled = requant_stage(list(zip(tiles, sums)), op.pool, layer_engine.param_words(op, cols), 0, width)
    _, ph, pw = op.out_shape
    out = pooled.reshape(op.n_tiles, ph, pw, cols).transpose(0, 3, 1, 2).reshape(op.n_tiles * cols, ph, pw)
    assert len(walk) == op.n_tiles * T * ph * pw * op.pool ** 2
    return to_words(out[:op.out_shape[0]], rows)


def execute(program, frame, width=32):
    """The split features ``(C, H, W)`` uint8 of one camera ``frame`` ``(Cin, H, W)``."""
    return layer_engine.execute(program, frame, run=lambda op, words, rows, cols: run_layer(op, words, rows, cols, width))


def window_cycles(op, cols):
    """Cycles a pool window takes in steady state: its beats; the requantizers' time for the window
    before it; or, since the pool has no output register (``RequantStage(pool_register=False)``)
    and takes no beat while the serializer reads a result's lanes in place, the window's pixels but
    its first plus that hold: the lanes but the last two each wait a requantizer's :data:`STEPS`,
    and two cycles more (the serializer's register and the step that frees the pool). Whichever is
    longest."""
    taps, steps = len(op.taps), rq_steps(cols)
    hold = max(0, steps - 2) * STEPS + 2
    return max(op.pool ** 2 * taps, STEPS * steps, (op.pool ** 2 - 1) * taps + hold)


def schedule_cycles(program):
    """A model of each layer's cycles on the DotEngine, and the array's utilization, with the keys of
    :func:`golden.layer_engine.schedule_cycles`: every beat a cycle, pool windows no faster than the
    requantizers drain them (:func:`window_cycles`), the walker's setup and the pipeline's drain.
    Checked against the RTL's cycle counters in the engine tests."""
    rows, cols = program.rows, program.cols
    layers = []
    for op in program.layers:
        _, ph, pw = op.out_shape
        cycles = WALK_START + setup_cycles(Descriptor.of(op)) + op.n_tiles * ph * pw * window_cycles(op, cols) + DRAIN
        layers.append(layer_engine.layer_figures(op, cycles, rows, cols, gap=1, chunks=1))
    return layer_engine.schedule_figures(layers, rows, cols, requantizers(cols))
