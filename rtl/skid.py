"""Skid buffer: a registered ``ready`` between two stream stages (golden twin: :mod:`golden.skid`).

The stages of the codec each stall on ``~o.valid | o.ready``; chained, their ``ready`` signals would
form one combinational path from the byte output back to the feature input, which is what holds a
naive zero-RLE -> Huffman -> packer chain near 28 MHz on an iCE40UP5K. A skid buffer cuts that path:
its ``i.ready`` comes from a register, and a second register catches the beat that arrives in the
cycle the output stalls. Throughput one beat per cycle, latency one cycle.
"""

from amaranth import Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

__all__ = ["SkidBuffer"]


class SkidBuffer(wiring.Component):
    """Members
    -------
    i : In(stream.Signature(shape))
    o : Out(stream.Signature(shape))
    """

    def __init__(self, shape):
        self._shape = shape
        super().__init__({"i": In(stream.Signature(shape)), "o": Out(stream.Signature(shape))})

    def elaborate(self, platform):
        m = Module()
        spare = Signal(self._shape)
        spare_valid = Signal()
        m.d.comb += self.i.ready.eq(~spare_valid)
        take = self.i.valid & self.i.ready
        with m.If(~self.o.valid | self.o.ready):  # the output register moves on
            with m.If(spare_valid):
                m.d.sync += [self.o.payload.eq(spare), spare_valid.eq(0)]
            with m.Else():
                m.d.sync += [self.o.payload.eq(self.i.payload), self.o.valid.eq(self.i.valid)]
        with m.Elif(take):  # the output holds: park the beat that was in flight
            m.d.sync += [spare.eq(self.i.payload), spare_valid.eq(1)]
        return m
