"""im2col address generator of the layer engine (golden twin: :mod:`golden.addrgen`)."""

from amaranth import Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from ._dsp import registered_product
from ._params import is_int, require, step_nested

__all__ = ["AddrGen", "descriptor_layout", "beat_layout"]


def descriptor_layout(addr_width, dim_width):
    return data.StructLayout({
        "base": unsigned(addr_width), "height": unsigned(dim_width), "width": unsigned(dim_width),
        "groups": unsigned(6), "k_y": unsigned(3), "k_x": unsigned(3), "pad_y": unsigned(2),
        "pad_x": unsigned(2), "pool": unsigned(2), "stride": unsigned(2), "pooled_h": unsigned(dim_width),
        "pooled_w": unsigned(dim_width), "n_tiles": unsigned(8), "chunk": unsigned(16),
    })


def beat_layout(addr_width, pos_width=16):
    return data.StructLayout({"addr": unsigned(addr_width), "zero": 1, "pos": unsigned(pos_width),
                              "first_tap": 1, "last_tap": 1, "last": 1, "tile": unsigned(8)})


class AddrGen(wiring.Component):
    """Walks one layer's schedule and emits the activation word address of every array vector.

    Order (see :func:`golden.addrgen.stream`): output-channel tiles, then chunks of output pixels
    in pool-window order, then taps ``(ky, kx, g)``, then the chunk's pixels. Output pixel
    ``(oy, ox)`` reads input pixel ``(stride * oy + ky - pad_y, stride * ox + kx - pad_x)``. Addresses outside the
    input tensor come with ``zero`` set (the vector is all zeros).

    Parameters
    ----------
    addr_width : int
        Width of word addresses.
    dim_width : int
        Width of tensor heights and widths.
    pos_width : int
        Width of a beat's ``pos`` (its position in the chunk, below the layer's ``chunk``): the
        bits the consumer uses (the layer engine's sums take 8 for 256 of them).
    pipelined : bool
        The six-stage address pipeline the ECP5's 100 MHz needs; without it (the iCE40UP5K's 36
        MHz) the output pixel and the input position are one stage, and a beat is five cycles deep.
    held : bool
        The producer holds ``desc`` while the generator is busy (the layer engine's descriptor
        register does), so it is used where it is, not copied into a register of its own (90
        flip-flops, each a logic cell on the iCE40).

    Members
    -------
    desc : In(descriptor_layout(addr_width, dim_width))
        The layer; latched when ``start`` is high while idle (used as it is with ``held``).
    start : In(1)
    busy : Out(1)
        High from the cycle after ``start`` until the last beat is taken.
    o : Out(stream.Signature(beat_layout(addr_width, pos_width)))
        One beat per cycle while ``o.ready``. The layer's pixel and tap counts are five products
        of one shift-and-add multiplier after ``start`` (two cycles plus one per bit of the smaller
        operand each, under 60 cycles a layer); the address of a beat is then computed in a
        six-stage pipeline behind the counters (pixel, input position, row offset, pixel index, word
        offset, address).
    """

    def __init__(self, *, addr_width=16, dim_width=8, held=False, pos_width=16, pipelined=True):
        require(self, is_int(addr_width, 4, 32), f"addr_width must be an integer between 4 and 32, not {addr_width!r}")
        require(self, is_int(dim_width, 2, 16), f"dim_width must be an integer between 2 and 16, not {dim_width!r}")
        require(self, isinstance(held, bool), f"held must be True or False, not {held!r}")
        require(self, is_int(pos_width, 1, 16), f"pos_width must be an integer between 1 and 16, not {pos_width!r}")
        require(self, isinstance(pipelined, bool), f"pipelined must be True or False, not {pipelined!r}")
        self._aw, self._dw, self._held = addr_width, dim_width, held
        self._pw, self._pipelined = pos_width, pipelined
        super().__init__({
            "desc": In(descriptor_layout(addr_width, dim_width)),
            "start": In(1),
            "busy": Out(1),
            "o": Out(stream.Signature(beat_layout(addr_width, pos_width))),
        })

    def elaborate(self, platform):
        m = Module()
        dw = self._dw
        d = self.desc if self._held else Signal(descriptor_layout(self._aw, dw))
        # pixel counters of the current beat and of the current chunk's first pixel
        py, px, dy, dx = (Signal(dw, name=n) for n in ("py", "px", "dy", "dx"))
        c_py, c_px, c_dy, c_dx = (Signal(dw, name=n) for n in ("c_py", "c_px", "c_dy", "c_dx"))
        q, c_q = Signal(2 * dw + 4), Signal(2 * dw + 4)
        pos = Signal(16)
        ky, kx, g = Signal(3), Signal(3), Signal(6)
        t = Signal(12)
        nt = Signal(8)

        gen = Signal()  # the counters hold a beat not yet in the pipeline
        # the counters' "at last value" flags, registered with the counters: each is computed from
        # the value the counter takes (a compare of `counter + 1`, or a flag of the value restored),
        # so the branch conditions below are registers, not 12- to 20-bit compares
        pos_end, q_end, cq_end, t_end = Signal(), Signal(), Signal(), Signal()
        # the layer's pixel and tap counts from one shift-and-add multiplier (one bit of the smaller
        # operand a cycle, about 50 cycles a layer), then the counters run: no DSP for set-up
        # products. step k (5 .. 1) computes dest[k] = a[k] * b[k] - minus_one[k]: the layer's
        # pixel and tap counts are kept as their last values, which is how the counters use them
        hw, hwp, kk = Signal(2 * dw), Signal(2 * dw + 2), Signal(6)
        pixels_last, taps_last = Signal(2 * dw + 4), Signal(12)
        ops = {5: (d.pooled_h, d.pooled_w, hw, 0), 4: (hw, d.pool, hwp, 0), 3: (hwp, d.pool, pixels_last, 1),
               2: (d.k_y, d.k_x, kk, 0), 1: (kk, d.groups, taps_last, 1)}
        # every "last value" a counter is compared with is a register, so the counters compare for
        # equality with registers (no subtraction on the path into them); the descriptor's are set
        # while the products are made, the products' with them
        lasts = {name: Signal(d[name].shape(), name=f"{name}_last")
                 for name in ("pool", "pooled_w", "groups", "k_x", "chunk", "n_tiles")}
        m.d.sync += [v.eq(d[name] - 1) for name, v in lasts.items()]
        step = Signal(range(6))
        loaded = Signal()
        mul_a, mul_b, mul_p = Signal(2 * dw + 4), Signal(max(dw, 6)), Signal(2 * dw + 4)
        with m.If(~self.busy & self.start):
            m.d.sync += [self.busy.eq(1), step.eq(5), loaded.eq(0)]
            if not self._held:
                m.d.sync += d.eq(self.desc)
            m.d.sync += [s.eq(0) for s in (py, px, dy, dx, c_py, c_px, c_dy, c_dx, q, c_q, pos, ky, kx, g, t, nt)]
        with m.If(step != 0):
            with m.If(~loaded):
                with m.Switch(step):
                    for k, (a, b, _, _) in ops.items():
                        with m.Case(k):
                            m.d.sync += [mul_a.eq(a), mul_b.eq(b)]
                m.d.sync += [mul_p.eq(0), loaded.eq(1)]
            with m.Elif(mul_b == 0):
                with m.Switch(step):
                    for k, (_, _, dest, minus_one) in ops.items():
                        with m.Case(k):
                            m.d.sync += dest.eq(mul_p - minus_one)
                m.d.sync += [step.eq(step - 1), loaded.eq(0)]
                with m.If(step == 1):
                    # every counter is 0; taps_last is mul_p - 1 from this cycle on
                    m.d.sync += [gen.eq(1), t_end.eq(mul_p == 1), pos_end.eq(lasts["chunk"] == 0),
                                 q_end.eq(pixels_last == 0), cq_end.eq(pixels_last == 0)]
            with m.Else():
                with m.If(mul_b[0]):
                    m.d.sync += mul_p.eq(mul_p + mul_a)
                m.d.sync += [mul_a.eq(mul_a << 1), mul_b.eq(mul_b >> 1)]

        # the beat of the current counters, computed in a pipeline of registered stages that all
        # move when the output moves (so no path runs from the counters through the multipliers)
        en = Signal()
        m.d.comb += en.eq(~self.o.valid | self.o.ready)
        flags = data.StructLayout({"valid": 1, "pos": unsigned(self._pw), "first_tap": 1, "last_tap": 1,
                                   "last": 1, "tile": unsigned(8), "g": unsigned(6)})

        last_pos = Signal()
        last_tap = Signal()
        last_pixel = Signal()
        m.d.comb += [last_pixel.eq(q_end), last_pos.eq(pos_end | q_end), last_tap.eq(t_end)]
        # the flags of the values the counters take when they count up
        pos_inc_end, q_inc_end, t_inc_end = Signal(), Signal(), Signal()
        m.d.comb += [pos_inc_end.eq(pos + 1 == lasts["chunk"]), q_inc_end.eq(q + 1 == pixels_last),
                     t_inc_end.eq(t + 1 == taps_last)]
        f0 = Signal(flags)
        m.d.comb += [f0.valid.eq(gen), f0.pos.eq(pos[:self._pw]), f0.first_tap.eq(t == 0), f0.last_tap.eq(last_tap),
                     f0.last.eq(last_pos & last_tap & last_pixel & (nt == lasts["n_tiles"])), f0.tile.eq(nt),
                     f0.g.eq(g)]
        self._address(m, platform, d, en, f0, (py, px, dy, dx), (ky, kx))
        # busy until the last beat has left the pipeline
        with m.If(self.o.valid & self.o.ready & self.o.payload.last):
            m.d.sync += self.busy.eq(0)

        # the pixel after the current one in pool-window order
        n_py, n_px, n_dy, n_dx = (Signal(dw, name=f"n_{n}") for n in ("py", "px", "dy", "dx"))
        m.d.comb += [n_py.eq(py), n_px.eq(px), n_dy.eq(dy), n_dx.eq(dx + 1)]
        with m.If(dx == lasts["pool"]):
            m.d.comb += [n_dx.eq(0), n_dy.eq(dy + 1)]
            with m.If(dy == lasts["pool"]):
                m.d.comb += [n_dy.eq(0), n_px.eq(px + 1)]
                with m.If(px == lasts["pooled_w"]):
                    m.d.comb += [n_px.eq(0), n_py.eq(py + 1)]

        def next_pixel():
            m.d.sync += [py.eq(n_py), px.eq(n_px), dy.eq(n_dy), dx.eq(n_dx)]

        def restore_chunk():
            m.d.sync += [py.eq(c_py), px.eq(c_px), dy.eq(c_dy), dx.eq(c_dx), q.eq(c_q), pos.eq(0),
                         q_end.eq(cq_end), pos_end.eq(lasts["chunk"] == 0)]

        with m.If(gen & en):
            with m.If(~last_pos):
                next_pixel()
                m.d.sync += [pos.eq(pos + 1), q.eq(q + 1), pos_end.eq(pos_inc_end), q_end.eq(q_inc_end)]
            with m.Elif(~last_tap):
                restore_chunk()
                m.d.sync += [t.eq(t + 1), t_end.eq(t_inc_end)]
                step_nested(m, [(g, lasts["groups"]), (kx, lasts["k_x"]), (ky, None)])
            with m.Else():
                m.d.sync += [t.eq(0), ky.eq(0), kx.eq(0), g.eq(0), pos.eq(0),
                             t_end.eq(taps_last == 0), pos_end.eq(lasts["chunk"] == 0)]
                with m.If(~last_pixel):
                    # the next chunk starts at the next pixel
                    next_pixel()
                    m.d.sync += [q.eq(q + 1), c_q.eq(q + 1), q_end.eq(q_inc_end), cq_end.eq(q_inc_end)]
                    m.d.sync += [c_py.eq(n_py), c_px.eq(n_px), c_dy.eq(n_dy), c_dx.eq(n_dx)]
                with m.Elif(nt != lasts["n_tiles"]):
                    m.d.sync += [nt.eq(nt + 1), q.eq(0), c_q.eq(0), q_end.eq(pixels_last == 0),
                                 cq_end.eq(pixels_last == 0)]
                    m.d.sync += [s.eq(0) for s in (py, px, dy, dx, c_py, c_px, c_dy, c_dx)]
                with m.Else():
                    m.d.sync += gen.eq(0)
        return m


    def _address(self, m, platform, d, en, f0, pixel, tap):
        """The output beat of ``f0`` (the flags of the counters' beat) from the pipeline's stages:
        output pixel, input position, row offset, pixel index, word offset, address."""
        dw = self._dw
        py, px, dy, dx = pixel
        ky, kx = tap
        flags = f0.shape()
        # stage 1: output pixel (oy, ox) of the beat, tap offsets
        f1 = Signal(flags)
        oy = Signal(dw + 2)
        ox = Signal(dw + 2)
        s1_ky, s1_kx = Signal(3), Signal(3)
        # stage 2: input pixel, inside the tensor?
        f2 = Signal(flags)
        y = Signal(signed(dw + 4))
        x = Signal(signed(dw + 4))
        # stage 3: row offset y * width (the product in a DSP's register: rtl._dsp); stage 4: pixel
        # index; stage 5: word offset pix * groups (likewise); stage 6 (the output): word address.
        # No path runs through a multiplier into an adder.
        f3, f4, f5 = Signal(flags), Signal(flags), Signal(flags)
        in3, in4, in5 = Signal(), Signal(), Signal()
        row = Signal(2 * dw)
        x3 = Signal(dw)
        pix = Signal(2 * dw)
        word = Signal(self._aw)
        g5 = Signal.like(f4.g)
        registered_product(m, platform, y[:dw], d.width, row, en, name="mul_row")
        registered_product(m, platform, pix, d.groups, word, en, name="mul_word")
        with m.If(en):
            if self._pipelined:
                m.d.sync += [f1.eq(f0), oy.eq(_times_pool(d.pool, py) + dy), ox.eq(_times_pool(d.pool, px) + dx),
                             s1_ky.eq(ky), s1_kx.eq(kx)]
                m.d.sync += [f2.eq(f1), y.eq(_times_stride(d.stride, oy) + s1_ky - d.pad_y),
                             x.eq(_times_stride(d.stride, ox) + s1_kx - d.pad_x)]
            else:  # stages 1 and 2 in one
                m.d.sync += [f2.eq(f0), y.eq(_times_stride(d.stride, _times_pool(d.pool, py) + dy) + ky - d.pad_y),
                             x.eq(_times_stride(d.stride, _times_pool(d.pool, px) + dx) + kx - d.pad_x)]
            m.d.sync += [f3.eq(f2), in3.eq((y >= 0) & (y < d.height) & (x >= 0) & (x < d.width)),
                         x3.eq(x[:dw])]
            m.d.sync += [f4.eq(f3), in4.eq(in3), pix.eq(row + x3)]
            m.d.sync += [f5.eq(f4), in5.eq(in4), g5.eq(f4.g)]
            beat = self.o.payload
            m.d.sync += [
                self.o.valid.eq(f5.valid),
                beat.addr.eq(Mux(in5, d.base + word + g5, 0)),
                beat.zero.eq(~in5),
                beat.pos.eq(f5.pos),
                beat.first_tap.eq(f5.first_tap),
                beat.last_tap.eq(f5.last_tap),
                beat.last.eq(f5.last),
                beat.tile.eq(f5.tile),
            ]


def _times_stride(stride, v):
    """``stride * v`` for stride 1 or 2: a shift."""
    return Mux(stride[1], v << 1, v)


def _times_pool(pool, v):
    """``pool * v`` for the 2-bit pool side as a shift and an add (an ECP5 build put the product in
    an unregistered MULT18X18D, its critical path at 100 MHz)."""
    return Mux(pool[1], v << 1, 0) + Mux(pool[0], v, 0)
