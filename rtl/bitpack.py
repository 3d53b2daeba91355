"""Bit packer: variable-length bit strings into 32-bit words, MSB first (golden twin:
:mod:`golden.bitpack`).

The accumulator keeps the newest bits at the bottom: taking an ``n``-bit string is
``acc = (acc << n) | value`` and ``fill += n``; sending a word reads the 32 bits at
``fill - 1 .. fill - 32`` and ``fill -= 32``. Taking depends only on the string and a compare of the
registered ``fill`` with a constant, sending only on such compares and the output's ``ready``; the
next ``fill`` is computed for each case in parallel and selected last. So no path runs from the output's ``ready``
through an adder, and the longest are one 6-level shifter and one 7-level selector. It sends 32
bits a cycle and takes up to :data:`rtl.huffman.MAX_BITS` (52) in one cycle, so a stream that
averages at most 32 bits a cycle never stalls its producer.

A payload's last string ends it. The bits of the payload still in the accumulator are counted
(``rest``) and its last word takes only those, zero-padded to a whole byte, with ``nbytes`` (1..4)
valid bytes and ``last``. The next payload's bits are already behind them, so frames follow each
other without a flush cycle.
"""

from amaranth import Cat, Const, Module, Mux, Signal, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from .huffman import MAX_BITS, bits_layout

__all__ = ["BitPacker", "word_layout", "ACC", "WORD"]

WORD = 32
ACC = 2 * MAX_BITS


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
        pend = Signal()  # a payload's end is in the accumulator ...
        rest = Signal(range(ACC + 1))  # ... after its first `rest` bits (counted from the oldest)
        # flags of the registered state (compares with constants: two LUT levels)
        room = Signal()  # a string of any length fits
        big = Signal()  # a full word is there
        ends = Signal()  # the next word is the payload's last
        m.d.comb += [room.eq(fill <= ACC - MAX_BITS), big.eq(fill >= WORD), ends.eq(pend & (rest <= WORD))]

        # sending is two registered stages: the byte-aligned 40 bits around the word, then the word
        s1 = Signal(data.StructLayout({"valid": 1, "chunk": unsigned(WORD + 8), "fine": unsigned(3),
                                       "tail": 1, "rest": unsigned(6)}))
        o_free = Signal()
        out_free = Signal()
        m.d.comb += [o_free.eq(~self.o.valid | self.o.ready), out_free.eq(~s1.valid | o_free)]
        tail = Signal()  # send the payload's last word now
        full = Signal()  # send a full word now
        m.d.comb += [tail.eq(out_free & ends), full.eq(out_free & ~ends & big)]

        # the 32 oldest bits are acc[fill-32 .. fill-1] (zeros below bit 0 when fill < 32): bits
        # fill .. fill+31 of `ext`, taken as the bytes around them, then the bits within
        ext = Cat(Const(0, WORD), acc, Const(0, 8))
        with m.If(out_free):
            m.d.sync += [s1.valid.eq(tail | full), s1.chunk.eq(ext.bit_select(Cat(Const(0, 3), fill[3:]), WORD + 8)),
                         s1.fine.eq(fill[:3]), s1.tail.eq(tail), s1.rest.eq(rest)]
        with m.If(o_free):
            # the tail word keeps its first `rest` bits; the rest is padding
            m.d.sync += [self.o.valid.eq(s1.valid),
                         self.o.payload.data.eq(s1.chunk.bit_select(s1.fine, WORD)
                                                & Mux(s1.tail, self._mask(s1.rest), Const(-1, WORD))),
                         self.o.payload.nbytes.eq(Mux(s1.tail, (s1.rest + 7) >> 3, 4)),
                         self.o.payload.last.eq(s1.tail)]

        # one pending payload end at a time
        m.d.comb += self.i.ready.eq(room & ~(pend & self.i.payload.last))
        take = Signal()
        m.d.comb += take.eq(self.i.valid & self.i.ready)
        with m.If(take):
            m.d.sync += acc.eq((acc << self.i.payload.n) | self.i.payload.value)
        # the next fill for each case (a string taken or not, a tail, a word or nothing sent),
        # computed in parallel and selected once `take`, `tail` and `full` are known
        grown = Signal(range(ACC + 1))
        m.d.comb += grown.eq(fill + self.i.payload.n)
        starts = Signal()  # this cycle's string ends a payload: its bits are all that is left of it
        m.d.comb += starts.eq(take & self.i.payload.last)
        for sel, gone, new_rest in ((tail, rest, None), (full, WORD, rest - WORD), (~tail & ~full, 0, rest)):
            name = gone if isinstance(gone, int) else "tail"
            nfill = Signal(range(ACC + 1), name=f"fill_if_{name}")
            kept, taken = Signal.like(nfill, name=f"kept_{name}"), Signal.like(nfill, name=f"taken_{name}")
            m.d.comb += [kept.eq(fill - gone), taken.eq(grown - gone), nfill.eq(Mux(take, taken, kept))]
            with m.If(sel):
                m.d.sync += fill.eq(nfill)
                if new_rest is None:  # the tail left: pend ends, unless a new end comes in now
                    m.d.sync += [pend.eq(starts), rest.eq(taken)]
                else:
                    m.d.sync += [pend.eq(pend | starts), rest.eq(Mux(starts, taken, new_rest))]
        return m

    @staticmethod
    def _mask(rest):
        """A 32-bit word whose top ``rest`` bits are ones."""
        return Cat(*[rest >= WORD - k for k in range(WORD)])
