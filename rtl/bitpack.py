"""Bit packer: variable-length bit strings into 32-bit words, MSB first (golden twin:
:mod:`golden.bitpack`).

An accumulator of ``ACC`` bits holds the bits not yet sent, first bit at the top. Every cycle it sends
the top 32 bits as a word once it holds 32, and takes one bit string of up to
:data:`rtl.huffman.MAX_BITS` (52) bits if they fit beside what remains after that word. So it sends 32
bits a cycle and absorbs up to 52 in one cycle; a stream that averages at most 32 bits a cycle never
stalls its producer. A payload's last string ends it: its bits are zero-padded to a whole byte and
the next payload's bits start after them in the accumulator, so frames follow each other without a
flush cycle; the payload's last word has ``nbytes`` (1..4) valid bytes and ``last``.
"""

from amaranth import Module, Mux, Signal, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from .huffman import MAX_BITS, bits_layout

__all__ = ["BitPacker", "word_layout", "ACC", "WORD"]

WORD = 32
ACC = WORD + 64


def word_layout():
    """``nbytes`` bytes of ``data``, the first in bits 31..24; ``last`` ends a payload."""
    return data.StructLayout({"data": unsigned(WORD), "nbytes": unsigned(3), "last": 1})


class BitPacker(wiring.Component):
    """Members
    -------
    i : In(stream.Signature(bits_layout()))
    o : Out(stream.Signature(word_layout()))

    Words other than a payload's last are full (``nbytes`` 4). Only a back-pressured ``o`` (or more
    than 32 bits a cycle sustained, which the run-length items never produce) stalls ``i``.
    """

    def __init__(self):
        super().__init__({
            "i": In(stream.Signature(bits_layout())),
            "o": Out(stream.Signature(word_layout())),
        })

    def elaborate(self, platform):
        m = Module()
        acc = Signal(ACC)
        fill = Signal(range(ACC + 1))
        # a payload's end lies in the accumulator: its bits (zero-padded to a byte) are the first
        # `bound`; the next payload's bits follow from there, so coding never waits for a flush
        pend = Signal()
        bound = Signal(range(ACC + 1))

        out_free = Signal()
        m.d.comb += out_free.eq(~self.o.valid | self.o.ready)
        tail = Signal()  # send the payload's last word now
        full = Signal()  # send a full word now
        m.d.comb += [tail.eq(out_free & pend & (bound <= WORD)),
                     full.eq(out_free & ~tail & (fill >= WORD))]
        acc1 = Signal(ACC)
        fill1 = Signal(range(ACC + 1))
        pend1 = Signal()
        bound1 = Signal(range(ACC + 1))
        m.d.comb += [acc1.eq(acc), fill1.eq(fill), pend1.eq(pend), bound1.eq(bound)]
        with m.If(tail):
            with m.Switch(bound[3:6]):
                for nbytes in (1, 2, 3, 4):
                    with m.Case(nbytes):
                        m.d.comb += acc1.eq(acc << (8 * nbytes))
            m.d.comb += [fill1.eq(fill - bound), pend1.eq(0)]
        with m.Elif(full):
            m.d.comb += [acc1.eq(acc << WORD), fill1.eq(fill - WORD), bound1.eq(bound - WORD)]
        with m.If(out_free):
            m.d.sync += self.o.valid.eq(tail | full)
        with m.If(tail | full):
            m.d.sync += [self.o.payload.data.eq(acc[ACC - WORD:]),
                         self.o.payload.nbytes.eq(Mux(tail, bound[3:6], 4)),
                         self.o.payload.last.eq(tail)]

        # room for the longest string and its payload's padding; one pending end at a time
        m.d.comb += self.i.ready.eq((fill1 <= ACC - MAX_BITS - 7) & ~(pend1 & self.i.payload.last))
        take = Signal()
        m.d.comb += take.eq(self.i.valid & self.i.ready)
        shift = Signal(range(ACC + 1))
        m.d.comb += shift.eq(ACC - fill1 - self.i.payload.n)
        end = Signal(range(ACC + 8))
        m.d.comb += end.eq(fill1 + self.i.payload.n)
        padded = Signal(range(ACC + 8))
        m.d.comb += padded.eq((end + 7) & ~7)
        value = Signal(ACC)
        m.d.comb += value.eq(self.i.payload.value)
        m.d.sync += [acc.eq(acc1), fill.eq(fill1), pend.eq(pend1), bound.eq(bound1)]
        with m.If(take):
            m.d.sync += [acc.eq(acc1 | (value << shift)), fill.eq(end)]
            with m.If(self.i.payload.last):
                m.d.sync += [fill.eq(padded), pend.eq(1), bound.eq(padded)]
        return m
