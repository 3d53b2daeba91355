"""CommandExecutor RTL against golden/executor.py, in the link's core (:class:`rtl.soc.LinkCore`:
receiver, packet buffer, executor, sender, a small edge device) with no UART: every reply of a
session of every command (refusals, loads, LOAD_MEM, two frames, counters) byte-identical with the
reference device's, the line's bytes with random gaps and the replies with random backpressure."""

import json
import struct

import pytest
from amaranth.sim import Simulator

from golden import link as L
from golden import randomnet
from golden.codec import Codec
from golden.config import Config
from rtl.factory import engine_image_for
from rtl.soc import LinkCore
from sim.streams import put

NET = {"name": "tiny", "in_shape": [1, 12, 12], "classes": 2,
       "edge": [{"cout": 4, "k": 3, "stride": 1, "pad": 1, "pool": 2},
                {"cout": 6, "k": 1, "stride": 1, "pad": 0, "pool": 1}],
       "host": [{"cout": 4, "k": 3, "stride": 1, "pad": 1, "pool": 2}]}


def checked(cfg, ds, frame):
    """``[(bytes, idle after?)]`` of what a device that checks every command refuses: SETTINGS with a
    split or C of 0, a count other than C*H*W (one more, then a FRAME; C*H*W that is the count
    plus 2**32; one above 2**22), a non-zero reserved byte; FRAMEs after a shape other than the program's, a level above
    2**bits - 1, a nonsense program row, a table id not the tables', a code word not canonical; each
    then put right, and a frame."""
    h, count = ds.settings["header"], ds.settings["count"]

    def settings(tag, count=count, **changes):
        return L.packet(L.SETTINGS, tag, L.settings_payload({"header": dict(h, **changes), "count": count}))

    reserved = bytearray(L.settings_payload(ds.settings))
    reserved[-1] = 1
    img = engine_image_for(cfg)
    levels = bytearray(ds.level_table)
    levels[-1] = 1 << h["bits"]
    good_row = L.encode_rows(L.PROGRAM, [img.descriptors[1]], img.cols)
    steps = [settings(30, split=0), settings(31, c=0, count=0), settings(32, count=count + 1),
             L.packet(L.FRAME, 29, frame),  # a count refused after its product: the settings unloaded
             settings(28, c=0x8001, h=0x8000, w=4, count=0x20000),  # C*H*W is 2**32 + 2**17
             settings(33, c=0xFFFF, h=0xFFFF, w=0x101, count=(0xFFFF * 0xFFFF * 0x101) % (1 << 32)),
             settings(34, c=255, h=255, w=255, count=255 ** 3), L.packet(L.SETTINGS, 35, bytes(reserved)),
             settings(36, c=h["c"] + 1, count=(h["c"] + 1) * h["h"] * h["w"]), L.packet(L.FRAME, 37, frame),
             settings(38), L.packet(L.LEVEL_TABLE, 39, bytes(levels)), L.packet(L.FRAME, 40, frame),
             L.packet(L.LEVEL_TABLE, 41, bytes(ds.level_table)),
             L.packet(L.LOAD_MEM, 42, L.LOAD_HEAD.pack(L.PROGRAM, 1, 1) + bytes([0x5A]) * len(good_row)),
             L.packet(L.FRAME, 43, frame), L.packet(L.LOAD_MEM, 44, L.LOAD_HEAD.pack(L.PROGRAM, 1, 1) + good_row),
             L.packet(L.FRAME, 45, frame)]
    flipped = [list(w) for w in ds.code_words]
    flipped[next(s for s, (_, n) in enumerate(flipped) if n)][0] ^= 1
    steps += [settings(46, table_id=h["table_id"] ^ 1), L.packet(L.FRAME, 47, frame), settings(48),
              L.packet(L.CODE_TABLE, 49, L.code_table_payload(flipped)), L.packet(L.FRAME, 50, frame),
              L.packet(L.CODE_TABLE, 51, L.code_table_payload(ds.code_words)), L.packet(L.FRAME, 52, frame)]
    return [(p, False) for p in steps]


def session(cfg, checks=False):
    """``[(bytes, idle after?)]``: refusals, the loads, a LOAD_MEM, two frames, with ``checks`` what
    :func:`checked` sends, then the counters."""
    ds = Codec.for_config(cfg).device_settings(cfg, cfg.spec.shape_after(cfg.split), seq=0)
    frames = [L.frame_bytes(f) for f in randomnet.frames(cfg.spec, 2, 5)]
    bad = dict(ds.settings, header=dict(ds.settings["header"], bits=0))
    corrupt = bytearray(L.packet(L.IDENT, 3))
    corrupt[2] ^= 0x10
    img = engine_image_for(cfg)
    row = L.encode_rows(L.WEIGHTS, [tuple((3 * i - 7) % 256 - 128 for i in range(img.cols))], img.cols)
    params = L.encode_rows(L.PARAMS, [img.params[0]], img.cols)  # rows rewritten with what they hold
    program = L.encode_rows(L.PROGRAM, [img.descriptors[0]], img.cols)
    return [(b"\x00garbage" + bytes(corrupt), False), (L.packet(L.IDENT, 1), False),
            (L.packet(L.COUNTERS, 2)[:6], True), (L.packet(L.FRAME, 4, frames[0]), False),
            (bytes([L.SYNC, L.FRAME, 3, 0x20, 0x00]), False),  # longer than the buffer: BAD_LENGTH
            (L.packet(0x42, 5) + L.packet(L.SETTINGS, 6, L.settings_payload(bad)), False),
            (L.packet(L.SETTINGS, 7, L.settings_payload(ds.settings)), False),
            (L.packet(L.CODE_TABLE, 8, L.code_table_payload(ds.code_words)), False),
            (L.packet(L.LEVEL_TABLE, 9, bytes(ds.level_table)), False),
            (L.packet(L.LOAD_MEM, 10, L.LOAD_HEAD.pack(L.WEIGHTS, img.weight_rows, 1) + row), False),
            (L.packet(L.LOAD_MEM, 15, L.LOAD_HEAD.pack(L.WEIGHTS, 0, 0)), False),  # no rows
            (L.packet(L.IDENT, 16, b"x") + L.packet(L.LEVEL_TABLE, 17, bytes(255)), False),  # wrong lengths
            # refused: rows against length short and long, an unknown memory, a range past 65535, no rows
            (L.packet(L.LOAD_MEM, 23, L.LOAD_HEAD.pack(L.WEIGHTS, 1, 2) + row)
             + L.packet(L.LOAD_MEM, 24, L.LOAD_HEAD.pack(L.WEIGHTS, 1, 1) + row + b"\x01"), False),
            (L.packet(L.LOAD_MEM, 25, L.LOAD_HEAD.pack(3, 0, 1) + row)
             + L.packet(L.LOAD_MEM, 26, L.LOAD_HEAD.pack(L.WEIGHTS, 0xFFFF, 2) + row + row)
             + L.packet(L.LOAD_MEM, 27, L.LOAD_HEAD.pack(L.WEIGHTS, 0, 0) + row), False),
            (L.packet(L.LOAD_MEM, 11, L.LOAD_HEAD.pack(L.WEIGHTS, 1, 1) + row), False),
            (L.packet(L.LOAD_MEM, 18, L.LOAD_HEAD.pack(L.PARAMS, 0, 1) + params)
             + L.packet(L.LOAD_MEM, 19, L.LOAD_HEAD.pack(L.PROGRAM, 0, 1) + program), False),
            # refused settings unload the settings: a frame is refused until they are loaded again
            (L.packet(L.SETTINGS, 20, L.settings_payload(bad)) + L.packet(L.FRAME, 21, frames[1]), False),
            (L.packet(L.SETTINGS, 22, L.settings_payload(ds.settings)), False),
            (L.packet(L.FRAME, 12, frames[0]) + L.packet(L.FRAME, 13, frames[1]), False)] \
        + (checked(cfg, ds, frames[1]) if checks else []) + [(L.packet(L.COUNTERS, 14), False)]


@pytest.mark.parametrize("board, rows, cols", [("ulx3s-85f", 3, 5), ("icebreaker", 2, 4)],
                         ids=["ecp5-engine", "up5k-dot-engine"])
def test_replies_match_golden(tmp_path, rng, board, rows, cols):
    """The ECP5's core, which checks every command as the reference device does (but for the
    reference's run of a new program on a blank frame), and the iCE40UP5K's (its dot engine, serial CRCs and codec, the
    packet buffer in the activation RAM, the header RAM), which checks fewer (docs/PROTOCOL.md,
    conformance)."""
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(NET))
    cfg = Config(network=str(path), random_weights=3, split=2, rows=rows, cols=cols, acc_depth=64, board=board)
    steps = session(cfg, checks=not cfg.serial)
    dev = L.DeviceModel(cfg)
    # LinkCore has no UART: its input waits while a reply is pending, so no byte is dropped; the
    # reference device, whose UART drops them (PROTOCOL.md section 2), is given them one at a time
    want = b"".join(b"".join(dev.receive(bytes([b])) for b in p) + (dev.idle() if idle else b"") for p, idle in steps)
    dut = LinkCore(image=engine_image_for(cfg), layers=cfg.split, ident=L.identity(cfg), acc_width=cfg.acc_width,
                   serial=cfg.serial)
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    got = bytearray()

    async def line(ctx):
        ctx.set(dut.timed_out, 0)
        for part, idle in steps:
            await put(ctx, dut.i, list(part), rng=rng, idle=0.2)
            if idle:
                await ctx.tick().repeat(20)
                ctx.set(dut.timed_out, 1)
                await ctx.tick()
                ctx.set(dut.timed_out, 0)
        for _ in range(100_000):  # the last replies
            if len(got) >= len(want):
                break
            await ctx.tick()
        await ctx.tick().repeat(50)

    async def replies(ctx):
        out = L.Receiver()
        while True:
            ctx.set(dut.o.ready, int(rng.random() > 0.3))
            _, _, valid, ready, byte, taking = await ctx.tick().sample(dut.o.valid, dut.o.ready, dut.o.payload,
                                                                        dut.i.ready)
            # a request is answered (the next one taken) only once its last reply has gone
            assert not (taking and out.in_packet)
            if valid and ready:
                got.append(int(byte))
                out.feed(bytes([int(byte)]))

    sim.add_testbench(line)
    sim.add_testbench(replies, background=True)
    sim.run()
    assert len(got) == len(want)
    # COUNTERS: frames and NAKs exact; a layer's cycles are the RTL's count, the model's estimate
    g, w = (L.Receiver().feed(bytes(x)) for x in (got, want))
    assert [(e.type, e.tag) for e in g] == [(e.type, e.tag) for e in w]
    assert g[:-1] == w[:-1]
    n = cfg.split
    gc, wc = (struct.unpack(f">I{n}II", e[-1].payload) for e in (g, w))
    assert gc[0] == wc[0] == sum(e.type == L.DATA_END for e in w) == (2 if cfg.serial else 4)
    assert gc[-1] == wc[-1] == sum(e.type == L.NAK for e in w) == (17 if cfg.serial else 30)
    assert all(abs(a - b) / b < 0.25 for a, b in zip(gc[1:-1], wc[1:-1])), (gc, wc)
