"""Stream max-pool (golden twin: :func:`golden.maxpool.maxpool_beats`)."""

from amaranth import Module, Shape, Signal, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from ._params import is_int, require

__all__ = ["MaxPool"]


class MaxPool(wiring.Component):
    """Lane-wise maximum of every ``window`` consecutive beats of ``lanes`` values.

    Parameters
    ----------
    lanes : int
        Values per beat (output channels side by side), 1 to 64.
    window : int
        Beats per output (4 for 2x2 pooling; 1 passes beats through).
    shape : shape-like
        Shape of a value (``unsigned(8)`` by default; signed shapes compare signed).
    dynamic : bool
        The window is set at run time on ``last`` (beats per window minus one, at most
        ``window - 1``), held while beats flow; ``window`` is then the largest.
    side : shape-like or None
        With a shape, beats are ``{"v": values, "side": side}``: ``side`` is carried, not compared,
        and each output has the side of its window's last beat (the engine's per-channel
        requantization parameters ride along this way).
    out_register : bool
        With (the default), a window's result moves into an output register, so the next window's
        beats are taken while a consumer reads it. Without, the output is the running maximum
        itself, held until read, and no beat is taken meanwhile: ``lanes`` values of flip-flops
        fewer (a logic cell each on the iCE40, where the flip-flop sits behind a pass-through LUT).

    Members
    -------
    i : In(stream.Signature(ArrayLayout(shape, lanes)))
    o : Out(stream.Signature(ArrayLayout(shape, lanes)))
        (``StructLayout({"v": ArrayLayout(shape, lanes), "side": side})`` with a ``side``)

    Accepts one beat per cycle, except a window's first beat while both the output register and the
    running maximum hold unread results (a consumer may take a result over the whole next window);
    the result of a window is valid two cycles after its last beat. Without ``out_register``: a
    cycle after its last beat, and no beat is taken until it is read.
    """

    def __init__(self, *, lanes, window=4, shape=unsigned(8), side=None, dynamic=False, out_register=True):
        require(self, is_int(lanes, 1, 64), f"lanes must be an integer between 1 and 64, not {lanes!r}")
        require(self, is_int(window, 1, 256), f"window must be an integer between 1 and 256, not {window!r}")
        require(self, isinstance(dynamic, bool), f"dynamic must be True or False, not {dynamic!r}")
        require(self, isinstance(out_register, bool), f"out_register must be True or False, not {out_register!r}")
        self._lanes, self._window, self._dynamic, self._out_reg = lanes, window, dynamic, out_register
        self._values = data.ArrayLayout(Shape.cast(shape), lanes)
        self._side = side
        layout = self._values if side is None else data.StructLayout({"v": self._values, "side": side})
        ports = {"i": In(stream.Signature(layout)), "o": Out(stream.Signature(layout))}
        if dynamic:
            ports["last"] = In(range(window))
        super().__init__(ports)

    lanes = property(lambda self: self._lanes)
    window = property(lambda self: self._window)

    def elaborate(self, platform):
        m = Module()
        lanes, window = self._lanes, self._window
        count = Signal(range(window))
        best = Signal(self._values)  # the running maximum; a whole window's once `pending`
        pending = Signal()  # `best` holds a finished window's result, not yet in the output register
        if self._side is None:
            x_in, x_out = self.i.payload, self.o.payload
        else:
            x_in, x_out = self.i.payload.v, self.o.payload.v
            side = Signal(self._side)
        if self._out_reg:
            # the output register is loaded from `best` a cycle after a window's last beat, so the
            # compare feeds one register only (the ECP5's critical path at 100 MHz was the compare
            # into the output register and its muxes)
            o_free = ~self.o.valid | self.o.ready
            with m.If(o_free):
                m.d.sync += self.o.valid.eq(pending)
                with m.If(pending):
                    m.d.sync += [x_out.eq(best), pending.eq(0)]
                    if self._side is not None:
                        m.d.sync += self.o.payload.side.eq(side)
            # a window's first beat overwrites `best`: it waits while `best` holds an unmoved
            # result; every other beat is taken (a consumer may read a result over the next
            # window's beats)
            m.d.comb += self.i.ready.eq((count != 0) | ~pending | o_free)
        else:  # `best` is the output: once it holds a result, the next beat (a window's first) waits
            m.d.comb += [self.o.valid.eq(pending), x_out.eq(best), self.i.ready.eq(~pending | self.o.ready)]
            if self._side is not None:
                m.d.comb += self.o.payload.side.eq(side)
            with m.If(self.o.ready):
                m.d.sync += pending.eq(0)
        with m.If(self.i.valid & self.i.ready):
            for k in range(lanes):
                with m.If((count == 0) | (x_in[k] > best[k])):
                    m.d.sync += best[k].eq(x_in[k])
            with m.If(count == (self.last if self._dynamic else window - 1)):
                m.d.sync += [pending.eq(1), count.eq(0)]
                if self._side is not None:
                    m.d.sync += side.eq(self.i.payload.side)
            with m.Else():
                m.d.sync += count.eq(count + 1)
        return m
