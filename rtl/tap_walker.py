"""The output-stationary address generator of the iCE40UP5K's engine (golden twin:
:mod:`golden.tap_walker`)."""

from amaranth import Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from ._params import is_int, require
from .addrgen import descriptor_layout

__all__ = ["TapWalker", "walk_layout"]


def walk_layout(addr_width):
    """A beat: the activation word (``zero``: outside the tensor), the weight tile, the n-tile, and
    whether it is its pixel's first or last tap."""
    return data.StructLayout({"addr": unsigned(addr_width), "zero": 1, "tile": unsigned(16), "n": unsigned(8),
                              "first": 1, "last": 1})


def _times_pool(p, x):
    """``p * x`` for ``p`` of 0 to 3 (a pool side or a padding): a shift and an add."""
    return Mux(p[1], Mux(p[0], x + (x << 1), x << 1), Mux(p[0], x, 0))


class TapWalker(wiring.Component):
    """Every beat of a layer, one a cycle, in the order of :func:`golden.tap_walker.beats`.

    No product is formed per beat: every address is a register that adds a step. The tap address
    adds 1 (the groups of a kernel row's pixels are consecutive words) and a row stride ``W * G`` at
    a kernel row's end; a pixel's first word, its pool window's row, its window and its pooled row
    each keep their first address and add their step (``s * G``, ``s * W * G``, ``p * s * G``,
    ``p * s * W * G``) when their counter moves. The input position ``(y, x)`` is counted beside
    them for the zero test. After ``start``, the steps are summed by one adder in a few cycles
    (:func:`golden.tap_walker.setup_cycles`), then the beats flow.

    Members
    -------
    desc : In(rtl.addrgen.descriptor_layout(16, dim_width))
        The layer program's fields, held from ``start`` to ``done`` (``chunk`` unused); addresses
        are ``addr_width`` bits (the activation RAM's), the program's 16-bit ``base`` truncated.
    tile_base : In(unsigned(16))
        The layer's first weight tile.
    last : In(StructLayout({"pooled_w", "pooled_h", "n_tiles"}))
        Those of ``desc``'s fields less one, held from a cycle after ``start`` (the sequencer
        registers them for its other blocks too).
    start : In(1)
    o : Out(stream.Signature(walk_layout(addr_width)))
    done : Out(1)
        The last beat taken; high until the next ``start``.
    """

    def __init__(self, *, addr_width=16, dim_width=8):
        require(self, is_int(addr_width, 4, 24), f"addr_width must be 4 to 24, not {addr_width!r}")
        require(self, is_int(dim_width, 2, 10), f"dim_width must be 2 to 10, not {dim_width!r}")
        self._aw, self._dw = addr_width, dim_width
        super().__init__({"desc": In(descriptor_layout(16, dim_width)), "tile_base": In(unsigned(16)),
                          "last": In(data.StructLayout({"pooled_w": unsigned(dim_width), "pooled_h": unsigned(dim_width),
                                                        "n_tiles": unsigned(8)})),
                          "start": In(1), "o": Out(stream.Signature(walk_layout(addr_width))), "done": Out(1)})

    def elaborate(self, platform):
        m = Module()
        d, AW = self.desc, self._aw
        pos = signed(self._dw + 3)
        sg, swg, psg, pswg, skip, org = (Signal(AW, name=n) for n in ("sg", "swg", "psg", "pswg", "skip", "org"))
        own = {name: Signal(6, name=f"{name}_last") for name in ("groups", "k_x", "k_y", "pool")}
        lasts = {**own, **{name: self.last[name] for name in ("pooled_w", "pooled_h", "n_tiles")}}
        ps = Signal(4)
        run, init = Signal(), Signal()
        end = self._walk(m, run, init, (org, sg, skip, swg, psg, pswg, ps), lasts, pos)
        with m.FSM():
            with m.State("IDLE"):
                with m.If(self.start):
                    m.d.sync += self.done.eq(0)
                    m.next = "SETUP"
            with m.State("SETUP"):
                s2 = d.stride == 2
                m.d.sync += [v.eq(getattr(d, name) - 1) for name, v in own.items()]
                m.d.sync += [sg.eq(d.groups << s2), ps.eq(_times_pool(d.pool, Mux(s2, 2, 1)))]
                with m.If(self._setup(m, (sg, swg, psg, pswg, skip, org))):
                    m.d.comb += init.eq(1)
                    m.next = "RUN"
            with m.State("RUN"):
                m.d.comb += run.eq(1)
                with m.If(self.o.valid & self.o.ready & end):
                    m.d.sync += self.done.eq(1)
                    m.next = "IDLE"
        return m

    def _setup(self, m, regs):
        """The layer's steps by repeated addition into one accumulator, a phase at a time (each
        ``count`` additions of ``operand``, then a cycle that stores the sum): ``W * G``, the kernel
        row's skip ``(W - k_x) * G + 1``, the origin ``base - (pad_y * W * G + pad_x * G)`` and the
        pool steps ``p * s * G`` and ``p * s * W * G``. One adder for all: a layer starts
        :func:`golden.tap_walker.setup_cycles` cycles later. Returns the last phase's last cycle."""
        d, AW = self.desc, self._aw
        sg, swg, psg, pswg, skip, org = regs
        wg = Signal(AW)
        s2 = d.stride == 2
        # (the accumulator's start, the operand, how many times)
        phases = [(0, d.width, d.groups), (1, d.width - d.k_x, d.groups), (0, wg, d.pad_y), (None, d.groups, d.pad_x),
                  (0, sg, d.pool), (0, swg, d.pool)]
        phase, left, acc = Signal(range(len(phases) + 1)), Signal(6), Signal(AW)
        started = Signal()  # the phase's accumulator and count are set
        operand = Signal(AW)
        with m.Switch(phase):
            for k, (_, op, _) in enumerate(phases):
                with m.Case(k):
                    m.d.comb += operand.eq(op)
        with m.If(~started):
            m.d.sync += started.eq(1)
            with m.Switch(phase):
                for k, (acc0, _, count) in enumerate(phases):
                    with m.Case(k):
                        m.d.sync += left.eq(count)
                        if acc0 is not None:
                            m.d.sync += acc.eq(acc0)
        with m.Elif(left != 0):
            m.d.sync += [acc.eq(acc + operand), left.eq(left - 1)]
        with m.Else():  # the phase's sum is in acc: store it, go on to the next
            m.d.sync += [phase.eq(phase + 1), started.eq(0)]
            with m.Switch(phase):
                with m.Case(0):
                    m.d.sync += [wg.eq(acc), swg.eq(acc << s2)]
                with m.Case(1):
                    m.d.sync += skip.eq(acc)
                with m.Case(3):
                    m.d.sync += org.eq(d.base - acc)
                with m.Case(4):
                    m.d.sync += psg.eq(acc)
                with m.Case(5):
                    m.d.sync += [pswg.eq(acc), phase.eq(0)]
        done = Signal()
        m.d.comb += done.eq(started & (left == 0) & (phase == len(phases) - 1))
        return done

    def _walk(self, m, run, init, steps, lasts, pos):
        d, o, AW = self.desc, self.o, self._aw
        org, sg, skip, swg, psg, pswg, ps = steps
        s = Mux(d.stride == 2, 2, 1)
        g, kx, ky = Signal(6), Signal(3), Signal(3)
        dx, dy = Signal(2), Signal(2)
        px, py, n = Signal(self._dw), Signal(self._dw), Signal(8)
        a, pix, wrow, win, prow = (Signal(AW, name=f"a_{x}") for x in ("tap", "pix", "wrow", "win", "prow"))
        ty, tx, pix_y, pix_x, prow_y, win_x = (Signal(pos, name=x) for x in ("ty", "tx", "pix_y", "pix_x", "prow_y", "win_x"))
        tile, tstart = Signal(16), Signal(16)
        first = Signal()
        # where each loop ends (the carry of the nested counters)
        at = {name: Signal(name=f"at_{name}") for name in lasts}  # each counter at its last value
        m.d.comb += [at[name].eq(counter == lasts[name]) for name, counter in
                     (("groups", g), ("k_x", kx), ("k_y", ky), ("pool", dx), ("pooled_w", px), ("pooled_h", py),
                      ("n_tiles", n))]
        c_row = at["groups"] & at["k_x"]
        c_pix = c_row & at["k_y"]
        c_dx = c_pix & at["pool"]
        c_win = c_dx & (dy == lasts["pool"])
        c_prow = c_win & at["pooled_w"]
        c_tile = c_prow & at["pooled_h"]
        end = c_tile & at["n_tiles"]
        pix_next = Signal(AW)
        y_next, x_next = Signal(pos), Signal(pos)
        # one adder each: the register the step starts from, plus the step
        from_, step = Signal(AW), Signal(AW)
        y_from, y_step, x_from, x_step = Signal(pos), Signal(4), Signal(pos), Signal(4)
        m.d.comb += [
            from_.eq(Mux(~c_dx, pix, Mux(~c_win, wrow, Mux(~c_prow, win, prow)))),
            step.eq(Mux(~c_dx, sg, Mux(~c_win, swg, Mux(~c_prow, psg, pswg)))),
            pix_next.eq(Mux(c_tile, org, from_ + step)),
            y_from.eq(Mux(~c_win, pix_y, prow_y)), y_step.eq(Mux(~c_dx, 0, Mux(~c_win, s, Mux(~c_prow, 0, ps)))),
            y_next.eq(Mux(c_tile, -d.pad_y, y_from + y_step)),
            x_from.eq(Mux(~c_dx, pix_x, win_x)), x_step.eq(Mux(~c_dx, s, Mux(~c_win, 0, ps))),
            x_next.eq(Mux(c_prow, -d.pad_x, x_from + x_step)),
        ]
        m.d.comb += [o.valid.eq(run), o.payload.addr.eq(a), o.payload.tile.eq(tile), o.payload.n.eq(n),
                     o.payload.first.eq(first), o.payload.last.eq(c_pix),
                     o.payload.zero.eq((ty < 0) | (ty >= d.height) | (tx < 0) | (tx >= d.width))]
        with m.If(init):
            m.d.sync += [g.eq(0), kx.eq(0), ky.eq(0), dx.eq(0), dy.eq(0), px.eq(0), py.eq(0), n.eq(0),
                         a.eq(org), pix.eq(org), wrow.eq(org), win.eq(org),
                         prow.eq(org), ty.eq(-d.pad_y), tx.eq(-d.pad_x), pix_y.eq(-d.pad_y),
                         prow_y.eq(-d.pad_y), pix_x.eq(-d.pad_x), win_x.eq(-d.pad_x),
                         tile.eq(self.tile_base), tstart.eq(self.tile_base), first.eq(1)]
        with m.Elif(o.valid & o.ready):
            m.d.sync += [first.eq(c_pix), tile.eq(tile + 1)]
            # a tap adds 1 (a kernel row's groups and pixels are consecutive words), a kernel row's
            # end the rest of the row stride (W - k_x) * G + 1
            m.d.sync += a.eq(Mux(c_pix, pix_next, a + Mux(c_row, skip, 1)))
            with m.If(~c_row):  # the next group, or the next pixel of the kernel row
                m.d.sync += g.eq(Mux(at["groups"], 0, g + 1))
                with m.If(at["groups"]):
                    m.d.sync += [kx.eq(kx + 1), tx.eq(tx + 1)]
            with m.Elif(~c_pix):  # the next kernel row
                m.d.sync += [g.eq(0), kx.eq(0), ky.eq(ky + 1), ty.eq(ty + 1), tx.eq(pix_x)]
            with m.Else():  # the next pixel
                m.d.sync += [pix.eq(pix_next), g.eq(0), kx.eq(0), ky.eq(0),
                             ty.eq(y_next), tx.eq(x_next), pix_y.eq(y_next), pix_x.eq(x_next),
                             dx.eq(Mux(c_dx, 0, dx + 1))]
                with m.If(~c_tile):
                    m.d.sync += tile.eq(tstart)
                with m.Else():
                    m.d.sync += tstart.eq(tile + 1)
                with m.If(c_dx):
                    m.d.sync += [wrow.eq(pix_next), dy.eq(Mux(c_win, 0, dy + 1))]
                with m.If(c_win):
                    m.d.sync += [win.eq(pix_next), win_x.eq(x_next), px.eq(Mux(c_prow, 0, px + 1))]
                with m.If(c_prow):
                    m.d.sync += [prow.eq(pix_next), prow_y.eq(y_next), py.eq(Mux(c_tile, 0, py + 1))]
                with m.If(c_tile):
                    m.d.sync += n.eq(n + 1)
        return end
