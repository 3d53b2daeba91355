"""LayerEngine (rtl/layer_engine.py) in the Amaranth simulator against golden.edge / golden.layer_engine."""

import numpy as np
import pytest
from amaranth.sim import Simulator

from golden import datasets, edge, layer_engine
from golden.config import Config
from golden.errors import ConfigError
from golden.ptq import int_model
from rtl.layer_engine import LayerEngine
from sim.edge import engine_for
from sim.streams import get, put


def rtl_engine(cfg, frames, *, rng=None, idle=0.0, stall=0.0):
    dut, image = engine_for(cfg)
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    size = int(np.prod(image.out_shape))
    out, cycles = [], []

    async def producer(ctx):
        for f in frames:
            await put(ctx, dut.frame, f.reshape(-1).tolist(), rng=rng, idle=idle)

    async def consumer(ctx):
        for _ in frames:
            out.append(np.array([int(v) for v in await get(ctx, dut.features, size, rng=rng, stall=stall)],
                                np.uint8).reshape(image.out_shape))
            cycles.append([ctx.get(dut.cycles[i]) for i in range(len(image.descriptors))])

    sim.add_testbench(producer)
    sim.add_testbench(consumer)
    sim.run()
    return out, cycles


@pytest.mark.parametrize("board", ["icebreaker", "ulx3s-85f"], ids=["unpipelined", "pipelined"])
def test_first_layer_many_chunks_with_gaps_and_backpressure(rng, board):
    """The engine with and without the ECP5's register stages after its RAMs (the iCE40UP5K's
    device has none): bit-exact, and within 3% of the schedule model's cycles."""
    cfg = Config(split=1, acc_depth=64, board=board)
    frame = datasets.embedded(cfg, "test").images[3]
    got, cycles = rtl_engine(cfg, [frame], rng=rng, idle=0.2, stall=0.3)
    want = edge.run(int_model(cfg), frame[None], 1)[0]
    assert np.array_equal(got[0], want)
    model = layer_engine.schedule_cycles(layer_engine.program_for(cfg))["layers"][0]["cycles"]
    assert abs(cycles[0][0] - model) / model < 0.03, (cycles, model)


@pytest.mark.parametrize("board", ["icebreaker", "ulx3s-85f"], ids=["unpipelined", "pipelined"])
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
    with pytest.raises(ConfigError, match="spans 4 activation words; writing them takes 5 cycles"):
        layer_engine.engine_image(layer_engine.program_for(Config(rows=2, cols=8)))


def test_engine_refuses_layers_without_pooling():
    """Pool-1 layers are refused before any RTL is built (the engine's accumulator relies on chunks
    of whole pool windows, four pixels or more)."""
    from types import SimpleNamespace

    from golden.edge import IntLayer, IntModel
    from golden.netspec import ConvBlock

    b = ConvBlock(1, 4, pool=1)
    lay = IntLayer(block=b, weight=np.ones((4, 9), np.int8), bias=np.zeros(4, np.int32),
                   mult=np.full(4, 1 << 15, np.int64), shift=np.full(4, 20, np.int64), in_scale=1.0,
                   out_scale=1.0, w_scale=np.ones(4))
    prog = layer_engine.compile_program(IntModel(spec=SimpleNamespace(in_shape=(1, 8, 8)), layers=(lay,)),
                                        1, 4, 4, acc_depth=64)
    with pytest.raises(ConfigError, match="pool 1"):
        layer_engine.engine_image(prog)


@pytest.mark.slow
def test_two_frames_back_to_back_extremes():
    cfg = Config(split=2)
    frames = [np.full((1, 64, 64), 255, np.uint8), np.zeros((1, 64, 64), np.uint8)]
    got, _ = rtl_engine(cfg, frames)
    want = edge.run(int_model(cfg), np.stack(frames), 2)
    assert all(np.array_equal(g, w) for g, w in zip(got, want))


def test_rows_must_be_power_of_two():
    image = layer_engine.engine_image(layer_engine.program_for(Config(rows=3, cols=4)))
    with pytest.raises(ConfigError, match="rows must be a power of two"):
        LayerEngine(image=image)


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
