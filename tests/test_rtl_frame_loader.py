"""FrameLoader (rtl/frame_loader.py) against golden.frame_loader.load_frame, Amaranth simulator."""

import numpy as np
import pytest
from amaranth.sim import Simulator

from golden.frame_loader import load_frame
from golden.link import frame_bytes
from rtl.frame_loader import FrameLoader
from sim.streams import put


def ref_loader(frame, rows, fold_k, fold_pad):
    return load_frame(frame, rows, fold_k, fold_pad)


def rtl_loader(frame, rows, fold_k, fold_pad, *, rng=None, idle=0.0):
    c, h, w = frame.shape
    groups = -(-fold_k * c // rows)
    dut = FrameLoader(rows=rows, frame_shape=(h, w), in_channels=c, fold_k=fold_k, fold_pad=fold_pad,
                      groups=groups)
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    words = {}
    order = []

    async def bench(ctx):
        assert ctx.get(dut.idle) and not ctx.get(dut.done)
        ctx.set(dut.run, 1)
        await put(ctx, dut.frame, list(frame_bytes(frame)), rng=rng, idle=idle)
        for _ in range(4 * groups + 8):
            await ctx.tick()
        assert ctx.get(dut.done)
        ctx.set(dut.run, 0)
        await ctx.tick()
        assert ctx.get(dut.idle) and not ctx.get(dut.done)

    async def monitor(ctx):
        async for _, _, mask, addr, word in ctx.tick().sample(dut.w.mask, dut.w.addr, dut.w.data):
            if mask:
                assert mask == (1 << rows) - 1  # whole words
                assert addr not in words, f"word {addr} written twice"
                words[addr] = [(word >> (8 * r)) & 0xFF for r in range(rows)]
                order.append(addr)

    sim.add_testbench(bench)
    sim.add_testbench(monitor, background=True)
    sim.run()
    assert order == sorted(order)
    return np.array([words[a] for a in range(len(words))], np.uint8).reshape(-1, rows)


@pytest.mark.parametrize("c, h, w, rows, k, pad", [
    (1, 1, 1, 1, 1, 0),  # one pixel
    (1, 5, 7, 4, 3, 1),  # the default fold: 3 taps of 1 channel in 4 rows
    (1, 4, 6, 2, 3, 1),  # the fold over two words a pixel
    (1, 6, 5, 8, 7, 3),  # a 7-tap fold, pad 3
    (1, 6, 5, 4, 3, 0),  # no padding: two zero pixels close each row
    (3, 4, 5, 4, 1, 0),  # RGB unfolded
    (3, 5, 4, 8, 3, 1),  # RGB folded: 9 channels in 8 rows, two words a pixel
    (3, 3, 6, 3, 5, 2),  # RGB, 5 taps, 3 rows
], ids=["one-pixel", "fold3", "fold3-two-words", "fold7", "pad0", "rgb", "rgb-fold3", "rgb-fold5-3rows"])
def test_frames_with_gaps(rng, c, h, w, rows, k, pad):
    frame = rng.integers(0, 256, (c, h, w), dtype=np.uint8)
    frame[:, 0, 0] = 255
    want = ref_loader(frame, rows, k, pad)
    assert np.array_equal(rtl_loader(frame, rows, k, pad, rng=rng, idle=0.4), want)


def test_extremes_back_to_back():
    for value in (0, 255):
        frame = np.full((3, 4, 4), value, np.uint8)
        assert np.array_equal(rtl_loader(frame, 4, 3, 1), ref_loader(frame, 4, 3, 1))


def test_parameters_checked():
    with pytest.raises(ValueError, match="groups must be ceil"):
        FrameLoader(rows=4, frame_shape=(8, 8), in_channels=3, fold_k=3, fold_pad=1, groups=2)
    with pytest.raises(ValueError, match="in_channels must be 1, 2 or 3"):
        FrameLoader(rows=4, frame_shape=(8, 8), in_channels=4)
