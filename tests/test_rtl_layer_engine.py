"""LayerEngine (rtl/layer_engine.py) in the Amaranth simulator against golden.edge / golden.layer_engine."""

import json

import numpy as np
import pytest
from amaranth.sim import Simulator

from golden import datasets, edge, layer_engine, randomnet
from golden.config import Config
from golden.errors import ConfigError
from golden.link import frame_bytes
from golden.ptq import int_model
from rtl.layer_engine import LayerEngine
from rtl.factory import engine_for, engine_image_for
from sim.streams import get, layer_cycles, put


def model_layers(cfg):
    """The schedule model of ``cfg``'s engine: the ECP5's, or the iCE40UP5K's DotEngine's."""
    return layer_engine.schedule_for(cfg)["layers"]


def rtl_engine(cfg, frames, *, rng=None, idle=0.0, stall=0.0, dut=None, budget=None):
    """The engine's features and per-layer cycles for ``frames``; with a ``budget`` of cycles, only
    those that come within it (an engine that hangs gives none)."""
    dut, image = engine_for(cfg) if dut is None else (dut, dut.image)
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    size = int(np.prod(image.out_shape))
    out, cycles = [], []

    async def producer(ctx):
        for f in frames:
            await put(ctx, dut.frame, list(frame_bytes(f)), rng=rng, idle=idle)

    async def consumer(ctx):
        for _ in frames:
            out.append(np.array([int(v) for v in await get(ctx, dut.features, size, rng=rng, stall=stall)],
                                np.uint8).reshape(image.out_shape))
            cycles.append(await layer_cycles(ctx, dut, len(image.descriptors)))

    sim.add_testbench(producer, background=budget is not None)
    sim.add_testbench(consumer, background=budget is not None)
    if budget is None:
        sim.run()
    else:
        sim.run_until(budget * 1e-8)
    return out, cycles


@pytest.mark.parametrize("board", ["icebreaker", "ulx3s-85f"], ids=["dot-engine", "pipelined"])
def test_first_layer_many_chunks_with_gaps_and_backpressure(rng, board):
    """The ECP5's engine and the iCE40UP5K's DotEngine: bit-exact, and within 3% of their schedule
    models' cycles."""
    cfg = Config(split=1, acc_depth=64, board=board)
    frame = datasets.embedded(cfg, "test").images[3]
    got, cycles = rtl_engine(cfg, [frame], rng=rng, idle=0.2, stall=0.3)
    want = edge.run(int_model(cfg), frame[None], 1)[0]
    assert np.array_equal(got[0], want)
    model = model_layers(cfg)[0]["cycles"]
    assert abs(cycles[0][0] - model) / model < 0.03, (cycles, model)


def test_unpipelined_layer_engine(rng):
    """The ECP5's engine without its RAM register stages (no board builds it now): bit-exact, and
    two cycles a layer fewer than the pipelined one's model."""
    cfg = Config(split=1, acc_depth=64, board="ulx3s-85f")
    frame = datasets.embedded(cfg, "test").images[2]
    dut = LayerEngine(image=engine_image_for(cfg), acc_width=cfg.acc_width, pipelined=False)
    got, cycles = rtl_engine(cfg, [frame], rng=rng, idle=0.2, stall=0.3, dut=dut)
    assert np.array_equal(got[0], edge.run(int_model(cfg), frame[None], 1)[0])
    model = model_layers(cfg)[0]["cycles"]
    assert abs(cycles[0][0] - model) / model < 0.03, (cycles, model)


@pytest.mark.parametrize("board", ["icebreaker", "ulx3s-85f"], ids=["dot-engine", "pipelined"])
def test_shared_requantizers_with_a_padded_lane(board):
    """cols 5 with 2x2 pooling: two requantizers take a pooled pixel's five lanes in three cycles,
    the sixth lane a pad; the n-tiles are 5 and 3 channels wide. Bit-exact with golden."""
    cfg = Config(split=1, rows=4, cols=5, acc_depth=64, board=board)
    assert layer_engine.requantizers(cfg.cols, 2) == 2
    frame = datasets.embedded(cfg, "test").images[5]
    got, _ = rtl_engine(cfg, [frame])
    assert np.array_equal(got[0], edge.run(int_model(cfg), frame[None], 1)[0])


def test_engine_refuses_beats_the_writer_cannot_keep_up_with():
    """rows 2, cols 8: an output beat spans 4 words, and writing a pooled pixel takes 5 cycles of
    the 4 that a 2x2 window leaves (the array cannot wait), so the image is refused."""
    with pytest.raises(ConfigError, match="can span 4 activation words; writing them takes 5 cycles"):
        layer_engine.engine_image(layer_engine.program_for(Config(rows=2, cols=8)))


TINY_RGB = {"name": "tinyrgb", "in_shape": [3, 16, 16], "classes": 2,
            "edge": [{"cout": 6, "k": 3, "stride": 1, "pad": 1, "pool": 2},
                     {"cout": 9, "k": 3, "stride": 2, "pad": 1, "pool": 1},
                     {"cout": 5, "k": 1, "stride": 1, "pad": 0, "pool": 1}]}
TINY_K57 = {"name": "tinyk57", "in_shape": [1, 24, 24], "classes": 2,
            "edge": [{"cout": 4, "k": 5, "stride": 1, "pad": 2, "pool": 2},
                     {"cout": 6, "k": 3, "stride": 1, "pad": 1, "pool": 3},
                     {"cout": 7, "k": 7, "stride": 2, "pad": 3, "pool": 1}]}


def network_file(tmp_path, net):
    path = tmp_path / f"{net['name']}.json"
    path.write_text(json.dumps(net))
    return str(path)


@pytest.mark.parametrize("net, rows, cols, board", [
    (TINY_RGB, 4, 4, "ulx3s-85f"), (TINY_RGB, 2, 8, "icebreaker"), (TINY_K57, 5, 3, "ulx3s-85f"),
    (TINY_K57, 4, 4, "icebreaker"), pytest.param(TINY_K57, 1, 1, "icebreaker", marks=pytest.mark.slow)],
    ids=["rgb-4x4", "rgb-2x8-dot-engine", "k57-5x3", "k57-4x4-dot-engine", "k57-1x1-dot-engine"])
def test_general_layers_bit_exact(tmp_path, rng, net, rows, cols, board):
    """RGB input (interleaved), strides 1 and 2, kernels 1, 3, 5 and 7, pools 1, 2 and 3 in one
    network, channel counts that are no multiple of the array's, arrays whose rows are no power of
    two: every layer's output bit-exact with golden.edge, with input gaps and output stalls."""
    cfg = Config(network=network_file(tmp_path, net), random_weights=7, split=3, rows=rows, cols=cols,
                 acc_depth=64, board=board)
    frames = randomnet.frames(cfg.spec, 2, 11)
    got, cycles = rtl_engine(cfg, list(frames), rng=rng, idle=0.2, stall=0.3)
    want = edge.run(int_model(cfg), frames, 3)
    for g, w in zip(got, want):
        assert np.array_equal(g, w), np.argwhere(g != w)[:8]
    model = model_layers(cfg)
    for got_c, m in zip(cycles[0], model):  # the model is a model: within 25% on these tiny layers
        assert abs(got_c - m["cycles"]) / m["cycles"] < 0.25, (cycles, model)


@pytest.mark.slow
def test_two_frames_back_to_back_extremes():
    cfg = Config(split=2)
    frames = [np.full((1, 64, 64), 255, np.uint8), np.zeros((1, 64, 64), np.uint8)]
    got, _ = rtl_engine(cfg, frames)
    want = edge.run(int_model(cfg), np.stack(frames), 2)
    assert all(np.array_equal(g, w) for g, w in zip(got, want))


def test_split_changes_memory_contents_not_rtl(tmp_path):
    """Two splits of one network give the same Verilog once the memories' initial contents are removed."""
    import re

    from sim.runner import write_verilog

    raw, texts = [], []
    for split in (2, 3):
        dut, _ = engine_for(Config(split=split))
        raw.append(write_verilog(dut, "edge_part", tmp_path / f"s{split}.v").read_text())
        texts.append(re.sub(r"(?m)^\s+\\?[\w.$]+\[\d+\] = [^;]+;\n", "", raw[-1]))
    assert raw[0] != raw[1]  # the programs differ ...
    assert texts[0] == texts[1]  # ... only in what the memories hold


def test_engine_refuses_what_its_widths_cannot_address():
    cfg = Config(act_mem_bytes=1 << 20)
    image = layer_engine.engine_image(layer_engine.program_for(cfg), cfg.act_mem_bytes, cfg.weight_mem_bytes)
    with pytest.raises(ConfigError, match="16-bit addresses; lower act_mem_bytes"):
        LayerEngine(image=image)


def test_program_word_has_the_widths_of_the_link_protocol():
    """Every LOAD_MEM descriptor field lands in a program-memory field of exactly its protocol bits."""
    from amaranth import Shape

    from golden.link import DESCRIPTOR_FIELDS
    from rtl.layer_engine import descriptor_word_layout

    word = descriptor_word_layout()
    widths = {}
    d = word.members["d"]
    for name, _, bits in DESCRIPTOR_FIELDS:
        shape = d.members[name] if name in d.members else word.members[name]
        widths[name] = Shape.cast(shape).width
    assert widths == {name: bits for name, _, bits in DESCRIPTOR_FIELDS}


@pytest.mark.slow
def test_a_drain_gap_under_the_drain_cycles_hangs_the_engine():
    """Why the program walk refuses ``pool * pool * gap < drain_cycles`` (golden.program_check, rule
    2): k7s2's first layer has no pooling; at its compiled gap (the drain cycles) the ECP5 engine
    makes the golden features, one cycle less and it loses a result and never finishes."""
    import dataclasses

    from golden.program_check import walk
    from rtl.factory import engine_of

    cfg = Config(network="golden/data/networks/k7s2.json", split=1, random_weights=1, board="ulx3s-85f")
    image = engine_image_for(cfg)
    frame = np.random.default_rng(1).integers(0, 256, cfg.spec.in_shape, dtype=np.uint8)
    want = layer_engine.execute(layer_engine.program_from_image(image), frame)
    d0 = image.descriptors[0]
    assert d0["pool"] == 1 and d0["gap"] == layer_engine.drain_cycles(image.rows, image.cols, d0["out_channels"])
    budget = 2 * sum(x["cycles"] for x in model_layers(cfg))
    for gap, finishes in ((d0["gap"], True), (d0["gap"] - 1, False)):
        img = dataclasses.replace(image, descriptors=(dict(d0, gap=gap),) + tuple(image.descriptors[1:]))
        assert (walk(list(img.descriptors), img)[0] is None) == finishes
        out, _ = rtl_engine(cfg, [frame], dut=engine_of(img, cfg.acc_width, cfg.serial), budget=budget)
        assert bool(out) == finishes, (gap, budget)
        if finishes:
            assert (out[0] == want).all()
