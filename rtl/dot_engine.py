"""The iCE40UP5K's layer engine: output-stationary, 16 MACs in 8 SB_MAC16 and little else (golden
twin: :mod:`golden.dot_engine`).

It runs the layer program of :class:`rtl.layer_engine.LayerEngine` (the same descriptors, weight
rows, parameter words, activation layout, LOAD_MEM and sequencer), with a data path built for the
UP5K's logic cells rather than the ECP5's clock::

    TapWalker -> ActMemory (read) + weight RAM (a whole tile a read) -> DotArray (sums in registers)
      -> RequantStage (MaxPool, serial requantizer) -> ActWriter -> ActMemory (the other region)

A pixel's taps are consecutive, so its sums never leave the array's registers: no accumulator RAM,
no weight banks or weight loader, no chunks. One stall signal, the array's ``i.ready``, holds the
walker, the RAM reads and the array together while the pool cannot take a pixel.
"""

from amaranth import Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from golden.errors import ConfigError

from ._params import require
from .act_memory import ActMemory, buffer_read_layout, buffer_write_layout
from .act_writer import ActWriter
from .dot_array import DotArray
from .engine_memory import EngineMemory, load_layout
from .frame_loader import FrameLoader
from .layer_engine import DIM, check_widths, connect_outputs, count_ram_members, sequencer
from .requant_stage import RequantStage
from .stream_out import StreamOut
from .tap_walker import TapWalker

__all__ = ["DotEngine"]


class DotEngine(wiring.Component):
    """Edge layers of a split network on a ``rows x cols`` output-stationary dot array.

    The ports and the image are :class:`rtl.layer_engine.LayerEngine`'s, except that the layer
    cycle counts are read from a block RAM (:func:`rtl.layer_engine.count_ram_members`), not
    ``cycles``. ``rows`` must be a power of two (a weight row's word and lane are bits of its
    index) and ``rows * cols`` products take ``rows * cols / 2`` SB_MAC16 on the iCE40. With ``buffer_bytes``, the activation RAM also holds
    the link's packet buffer (:class:`rtl.act_memory.ActMemory`), whose ports ``buf_w``, ``buf_r``
    and ``buf_q`` the engine passes through; the buffer owns the read port between frames.
    """

    def __init__(self, *, image, acc_width=32, buffer_bytes=0):
        require(self, image.rows & (image.rows - 1) == 0,
                f"the dot engine needs a power-of-two number of rows, not {image.rows}", ConfigError)
        check_widths(self, image)
        self._img, self._acc_width, self._buf = image, acc_width, buffer_bytes
        buffer = {"buf_w": In(buffer_write_layout()), "buf_r": In(buffer_read_layout()),
                  "buf_q": Out(8)} if buffer_bytes else {}
        super().__init__({**buffer,
            "frame": In(stream.Signature(8)),
            "features": Out(stream.Signature(8)),
            "load": In(stream.Signature(load_layout())),
            "busy": Out(1),
            **count_ram_members(image.max_layers),
            "frames": Out(16),
        })

    @property
    def image(self):
        return self._img

    def elaborate(self, platform):
        m = Module()
        img = self._img
        R, C, W = img.rows, img.cols, self._acc_width
        ADDR = max(4, (img.act_words - 1).bit_length())  # words, not the program's 16-bit fields
        m.submodules.act = act = ActMemory(rows=R, depth=img.act_words, addr_width=ADDR, buffer_bytes=self._buf)
        m.submodules.memories = mem = EngineMemory(
            cols=C, weight_rows=img.weight_rows, param_words=img.param_words, layers=img.max_layers,
            weights=img.weights, params=img.params, program=img.descriptors, tile_rows=R)
        m.submodules.loader = loader = FrameLoader(
            rows=R, frame_shape=img.frame_shape, in_channels=img.in_channels, fold_k=img.fold_k,
            fold_pad=img.fold_pad, groups=img.in_groups, addr_width=ADDR)
        m.submodules.walker = walker = TapWalker(addr_width=ADDR, dim_width=DIM)
        m.submodules.array = array = DotArray(rows=R, cols=C, acc_width=W)
        m.submodules.rq = rq = RequantStage(cols=C, acc_width=W, param_words=img.param_words, pipelined=False,
                                            serial=True, pool_register=False)
        m.submodules.writer = writer = ActWriter(rows=R, cols=C, addr_width=ADDR)
        m.submodules.out = out = StreamOut(rows=R, addr_width=ADDR, dim_width=DIM)

        desc, last, fsm = sequencer(m, self, mem, loader, writer, out, registered_counts=False, last_at_fetch=True)
        in_load, in_out, starting = fsm.ongoing("LOAD"), fsm.ongoing("OUT"), fsm.ongoing("KICK")
        m.d.comb += [self.busy.eq(~in_load), walker.desc.eq(desc.d), walker.start.eq(starting),
                     walker.tile_base.eq(desc.weight_base >> (R.bit_length() - 1))]
        m.d.comb += [walker.last[name].eq(last[name]) for name in ("pooled_w", "pooled_h", "n_tiles")]

        # -- between frames: the camera frame into region 0, run-time loads into the memories ----
        wiring.connect(m, wiring.flipped(self.frame), loader.frame)
        wiring.connect(m, wiring.flipped(self.load), mem.load)
        # the memories open to loads a cycle after the engine is idle between frames, and close a
        # cycle after a frame's first pixel (registered: no path from the sequencer's state through
        # the link's LOAD_MEM handshake, the UP5K's critical path at 26 MHz); a load taken in that
        # cycle is in before the frame's first layer reads the memories, thousands of cycles later
        is_open = Signal()
        m.d.sync += is_open.eq(in_load & loader.idle)
        m.d.comb += [loader.run.eq(in_load), act.load_w.eq(loader.w), mem.open.eq(is_open)]
        if self._buf:
            m.d.comb += [act.buf_w.eq(self.buf_w), act.buf_r.eq(self.buf_r), act.buf_sel.eq(in_load),
                         self.buf_q.eq(act.buf_q)]

        # -- a layer: beats -> the activation word (2 cycles) and its tile (a cycle after its
        # address, registered once) -> the array; everything moves on the array's `ready`
        en = array.i.ready
        v1, v2, z1, z2, f1, f2, l1, l2 = (Signal(name=n) for n in ("v1", "v2", "z1", "z2", "f1", "f2", "l1", "l2"))
        n1, n2, tile1 = Signal(8), Signal(8), Signal(16)
        m.d.comb += [walker.o.ready.eq(en), act.issue_addr.eq(walker.o.payload.addr), act.issue_en.eq(en),
                     mem.w_addr.eq(tile1), mem.w_en.eq(en)]
        with m.If(en):
            p = walker.o.payload
            m.d.sync += [v1.eq(walker.o.valid), z1.eq(p.zero), f1.eq(p.first), l1.eq(p.last), n1.eq(p.n),
                         tile1.eq(p.tile), v2.eq(v1), z2.eq(z1), f2.eq(f1), l2.eq(l1), n2.eq(n1)]
        x = array.i.payload.x
        m.d.comb += [array.i.valid.eq(v2), array.i.payload.w.eq(mem.w_data), array.i.payload.n.eq(n2),
                     array.i.payload.first.eq(f2), array.i.payload.last.eq(l2)]
        m.d.comb += [x[r].eq(Mux(z2, 0, act.q[8 * r:8 * r + 8])) for r in range(R)]
        wiring.connect(m, array.o, rq.i)
        wiring.connect(m, rq.o, writer.i)
        connect_outputs(m, self, (desc, last, starting, in_out), mem, act, rq, writer, out)
        return m
