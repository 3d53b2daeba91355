"""Stream max-pool (golden twin: :func:`golden.maxpool.maxpool_beats`)."""

from amaranth import Module, Mux, Signal, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from ._params import is_int, require

__all__ = ["MaxPool"]


class MaxPool(wiring.Component):
    """Lane-wise maximum of every ``window`` consecutive beats of ``lanes`` uint8 values.

    Parameters
    ----------
    lanes : int
        Values per beat (output channels side by side), 1 to 64.
    window : int
        Beats per output (4 for 2x2 pooling; 1 passes beats through).

    Members
    -------
    i : In(stream.Signature(ArrayLayout(unsigned(8), lanes)))
    o : Out(stream.Signature(ArrayLayout(unsigned(8), lanes)))

    Accepts one beat per cycle while its output register is free or being read; the result of a
    window is valid the cycle after its last beat.
    """

    def __init__(self, *, lanes, window=4):
        require(self, is_int(lanes, 1, 64), f"lanes must be an integer between 1 and 64, not {lanes!r}")
        require(self, is_int(window, 1, 256), f"window must be an integer between 1 and 256, not {window!r}")
        self._lanes, self._window = lanes, window
        layout = data.ArrayLayout(unsigned(8), lanes)
        super().__init__({"i": In(stream.Signature(layout)), "o": Out(stream.Signature(layout))})

    lanes = property(lambda self: self._lanes)
    window = property(lambda self: self._window)

    def elaborate(self, platform):
        m = Module()
        lanes, window = self._lanes, self._window
        count = Signal(range(window))
        best = Signal(data.ArrayLayout(unsigned(8), lanes))
        new = Signal(data.ArrayLayout(unsigned(8), lanes))
        for k in range(lanes):
            x = self.i.payload[k]
            m.d.comb += new[k].eq(Mux((count == 0) | (x > best[k]), x, best[k]))
        m.d.comb += self.i.ready.eq(~self.o.valid | self.o.ready)
        with m.If(self.o.valid & self.o.ready):
            m.d.sync += self.o.valid.eq(0)
        with m.If(self.i.valid & self.i.ready):
            with m.If(count == window - 1):
                m.d.sync += [self.o.payload.eq(new), self.o.valid.eq(1), count.eq(0)]
            with m.Else():
                m.d.sync += [best.eq(new), count.eq(count + 1)]
        return m
