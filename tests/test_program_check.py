"""golden.program_check.walk, the reference device's check of a loaded layer program (its RTL twin is
tested in tests/test_rtl_program_check.py): every program of the networks shipped passes, and a
program it passes runs. The reference device also runs a new program once on a blank frame
(golden.executor.Executor.program), which the RTL does not; seeded mutations of real programs show
that run refuses nothing the walk passes."""

import itertools
import random

import numpy as np
import pytest

from golden import layer_engine as LE
from golden import link as L
from golden.config import Config
from golden.errors import ConfigError
from golden.executor import Executor
from golden.program_check import walk

NETWORKS = ("digits64", "golden/data/networks/k5pool3.json", "golden/data/networks/k7s2.json",
            "golden/data/networks/rgb32.json")


def _config(network, split, board, rows=4, cols=4):
    """Shipped weights where there are some, else seeded random ones (the program is the same)."""
    return Config(network=network, split=split, board=board, rows=rows, cols=cols,
                  random_weights=None if (rows, cols) == (4, 4) and network in ("digits64", "golden/data/networks/rgb32.json")
                  else 1)


def _image(network, split, board, rows=4, cols=4):
    try:
        return LE.image_for(_config(network, split, board, rows, cols))
    except ConfigError:
        return None  # a split the network does not have


@pytest.mark.parametrize("board", ["ulx3s-85f", "icebreaker"])
def test_every_shipped_program_passes(board):
    walked = 0
    for network, split, (rows, cols) in itertools.product(NETWORKS, range(1, 5), ((4, 4), (2, 8), (3, 4), (8, 8))):
        image = _image(network, split, board, rows, cols)  # random weights where rows, cols are not 4, 4
        if image is not None:
            assert walk(list(image.descriptors), image) == (None, tuple(LE.program_from_image(image).out_shape))
            walked += 1
    assert walked == {"ulx3s-85f": 38, "icebreaker": 25}[board]  # of 64; the rest refused when built


def _mutant(rng, base):
    """Rows of ``base`` with one to three fields changed (to a neighbour, a double, a half, 0, 1 or a
    random value the field holds), sometimes cut short with its new last layer marked last."""
    bits = {k: b for k, _, b in L.DESCRIPTOR_FIELDS}
    rows = [dict(r) for r in base]
    for _ in range(rng.choice([1, 1, 2, 3])):
        row, k = rng.randrange(len(rows)), rng.choice(list(bits))
        v = rows[row][k]
        rows[row][k] = rng.choice([v + 1, v - 1, v * 2, v // 2, rng.randrange(1 << bits[k]), 0, 1]) % (1 << bits[k])
    if rng.random() < 0.2:
        rows = rows[:rng.randrange(1, len(rows) + 1)]
        rows[-1]["last"] = 1
    return rows


@pytest.mark.parametrize("network", ["digits64", "golden/data/networks/k5pool3.json"])
def test_a_program_the_walk_passes_runs_on_a_blank_frame(network):
    cfg = _config(network, 3 if network == "digits64" else 2, "ulx3s-85f")
    image = LE.image_for(cfg)
    memories = Executor(cfg).memories  # as deep as the device's
    base = [{k: d[k] for k, _, _ in L.DESCRIPTOR_FIELDS} for d in image.descriptors]
    zero = {k: 0 for k, _, _ in L.DESCRIPTOR_FIELDS}
    rng, passed, refused = random.Random(2026), 0, 0
    while passed < 150:
        rows = _mutant(rng, base)
        why, shape = walk(rows + [zero] * (image.max_layers - len(rows)), image)
        if why:
            refused += 1
            continue
        passed += 1
        prog = LE.program_from_image(image, descriptors=rows, weights=memories[L.WEIGHTS], params=memories[L.PARAMS])
        out = LE.execute(prog, np.zeros(cfg.spec.in_shape, np.uint8))
        assert out.shape == shape, rows
    assert refused > passed  # the mutations do break rules
