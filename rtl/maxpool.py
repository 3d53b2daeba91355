"""Stream max-pool (golden twin: :func:`golden.maxpool.maxpool_beats`)."""

from amaranth import Module, Mux, Shape, Signal, unsigned
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
    side : shape-like or None
        With a shape, beats are ``{"v": values, "side": side}``: ``side`` is carried, not compared,
        and each output has the side of its window's last beat (the engine's per-channel
        requantization parameters ride along this way).

    Members
    -------
    i : In(stream.Signature(ArrayLayout(shape, lanes)))
    o : Out(stream.Signature(ArrayLayout(shape, lanes)))
        (``StructLayout({"v": ArrayLayout(shape, lanes), "side": side})`` with a ``side``)

    Accepts one beat per cycle, except a window's last beat while the output register still holds
    an unread result (so a consumer may take a result over the next window's other beats); the
    result of a window is valid the cycle after its last beat.
    """

    def __init__(self, *, lanes, window=4, shape=unsigned(8), side=None):
        require(self, is_int(lanes, 1, 64), f"lanes must be an integer between 1 and 64, not {lanes!r}")
        require(self, is_int(window, 1, 256), f"window must be an integer between 1 and 256, not {window!r}")
        self._lanes, self._window = lanes, window
        self._values = data.ArrayLayout(Shape.cast(shape), lanes)
        self._side = side
        layout = self._values if side is None else data.StructLayout({"v": self._values, "side": side})
        super().__init__({"i": In(stream.Signature(layout)), "o": Out(stream.Signature(layout))})

    lanes = property(lambda self: self._lanes)
    window = property(lambda self: self._window)

    def elaborate(self, platform):
        m = Module()
        lanes, window = self._lanes, self._window
        count = Signal(range(window))
        best = Signal(self._values)
        new = Signal(self._values)
        if self._side is None:
            x_in, x_out = self.i.payload, self.o.payload
        else:
            x_in, x_out = self.i.payload.v, self.o.payload.v
        for k in range(lanes):
            x = x_in[k]
            m.d.comb += new[k].eq(Mux((count == 0) | (x > best[k]), x, best[k]))
        # a beat that does not end a window only updates `best`: it is taken while the output
        # still holds the last window's maximum (a consumer may take that over the next window)
        m.d.comb += self.i.ready.eq(~self.o.valid | self.o.ready | (count != window - 1))
        with m.If(self.o.valid & self.o.ready):
            m.d.sync += self.o.valid.eq(0)
        with m.If(self.i.valid & self.i.ready):
            with m.If(count == window - 1):
                m.d.sync += [x_out.eq(new), self.o.valid.eq(1), count.eq(0)]
                if self._side is not None:
                    m.d.sync += self.o.payload.side.eq(self.i.payload.side)
            with m.Else():
                m.d.sync += [best.eq(new), count.eq(count + 1)]
        return m
