"""Feature quantizer: uint8 split features -> n-bit levels (golden twin: :mod:`golden.quantizer`)."""

from amaranth import Module, Signal, unsigned
from amaranth.lib import data, memory, stream, wiring
from amaranth.lib.wiring import In, Out

__all__ = ["Quantizer", "element_layout"]


def element_layout():
    return data.StructLayout({"data": unsigned(8), "first": 1, "last": 1})


class Quantizer(wiring.Component):
    """Quantizes one feature element per cycle through a 256-entry level table.

    The table holds the level of every uint8 feature value, clip included:
    :func:`golden.quantizer.level_table` for either mode (uniform clip-and-round, or ECSQ
    thresholds). The host fills it between frames, so both modes are one block RAM read and the
    device needs no multiplier. (Before protocol version 3 the uniform mode was an 8 x 26-bit
    multiply, a rounding add and a shift here: two SB_MAC16 of the UP5K's eight.)

    Members
    -------
    table_w : In(stream.Signature(StructLayout({"addr": unsigned(8), "level": unsigned(8)})))
        Table writes, always accepted; write between frames.
    i : In(stream.Signature(element_layout()))
    o : Out(stream.Signature(element_layout()))
        The level in ``data``; ``first``/``last`` passed through.

    Throughput one element per cycle, latency 2 cycles (table read, output register); a
    back-pressured ``o`` stalls it.
    """

    def __init__(self):
        super().__init__({
            "table_w": In(stream.Signature(data.StructLayout({"addr": unsigned(8), "level": unsigned(8)}))),
            "i": In(stream.Signature(element_layout())),
            "o": Out(stream.Signature(element_layout())),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.table = table = memory.Memory(shape=unsigned(8), depth=256, init=[])
        tw = table.write_port()
        tr = table.read_port()
        m.d.comb += [tw.addr.eq(self.table_w.payload.addr), tw.data.eq(self.table_w.payload.level),
                     tw.en.eq(self.table_w.valid), self.table_w.ready.eq(1)]

        en = Signal()
        m.d.comb += [en.eq(~self.o.valid | self.o.ready), self.i.ready.eq(en)]
        # stage 0: the table read (the RAM's own register), the flags beside it
        flags = data.StructLayout({"valid": 1, "first": 1, "last": 1})
        s0 = Signal(flags)
        m.d.comb += [tr.addr.eq(self.i.payload.data), tr.en.eq(en)]
        with m.If(en):
            m.d.sync += [s0.valid.eq(self.i.valid), s0.first.eq(self.i.payload.first),
                         s0.last.eq(self.i.payload.last)]
        # stage 1: the output register
        with m.If(en):
            m.d.sync += [self.o.valid.eq(s0.valid), self.o.payload.first.eq(s0.first),
                         self.o.payload.last.eq(s0.last), self.o.payload.data.eq(tr.data)]
        return m
