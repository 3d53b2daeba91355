"""Bit packer: variable-length bit strings into 32-bit words, MSB first (golden twin:
:mod:`golden.bitpack`).

The 128-bit accumulator is MSB-aligned: its top bit is the oldest, and ``free`` bits at the bottom
are unused. Taking an ``n``-bit string ORs it in just above them, ``acc |= value << (free - n)``,
and ``free -= n``; sending a word reads the top 32 bits, always the same wires, and shifts the
accumulator up by the constant 32 (``free += 32``). So there is one variable shifter (the string
into place), in two registered halves (by ``left % 8`` as the string is taken, by whole bytes as
it is merged a cycle later), and no word-select mux. A payload's last string also rounds ``free``
down to a whole word: the padding is the zeros already there, every payload starts on a word
boundary, and its last word is simply the word that holds its end, with ``nbytes`` (1..4) valid
bytes and ``last``. The next payload's bits may already be behind it, so frames follow each other
without a flush cycle.

It sends 32 bits a cycle and takes up to :data:`rtl.huffman.MAX_BITS` (52) in one cycle, so a
stream that averages at most 32 bits a cycle never stalls its producer. Taking depends on the
registered ``free`` (a compare with a constant) and the string; sending on ``free <= 96`` and the
output's ``ready``, which only selects the shifted or the unshifted accumulator, and the next
``free`` among values computed in parallel, in the last level.
"""

from amaranth import Cat, Const, Module, Mux, Signal, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from .huffman import MAX_BITS, bits_layout

__all__ = ["BitPacker", "SerialBitPacker", "word_layout", "ACC", "WORD"]

WORD = 32
ACC = 4 * WORD  # a multiple of the word, at least 2 * MAX_BITS (104)


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
        merged = Signal(ACC)  # the accumulator with the string taken a cycle ago in place
        # the state is kept as free bits, not used ones: a string's place is then one subtraction
        # from a register, and a payload's padding to a word is clearing free's low bits
        free = Signal(range(ACC + 1), init=ACC)  # bits below the ones in use (padding counts as used)
        pend = Signal()  # a payload's end is in the accumulator ...
        rfree = Signal(range(ACC + 1))  # ... and ACC - rfree of its bits are left, from the top
        room = Signal()  # a string of any length fits
        big = Signal()  # a whole word is in use: send it
        tail = Signal()  # the word at the top is the pending payload's last
        m.d.comb += [room.eq(free >= MAX_BITS), big.eq(free <= ACC - WORD),
                     tail.eq(pend & (rfree >= ACC - WORD))]

        o_free = Signal()
        send = Signal()
        m.d.comb += [o_free.eq(~self.o.valid | self.o.ready), send.eq(o_free & big)]
        with m.If(o_free):
            # the tail word's bytes: ceil((ACC - rfree) / 8) = ACC / 8 - floor(rfree / 8)
            # the top word is whole once `big`: every string above `free` was taken a cycle ago
            # or earlier, and the one taken a cycle ago is merged now
            m.d.sync += [self.o.valid.eq(big), self.o.payload.data.eq(merged[ACC - WORD:]),
                         self.o.payload.nbytes.eq(Mux(tail, ACC // 8 - rfree[3:], 4)),
                         self.o.payload.last.eq(tail)]

        # one pending payload end at a time
        m.d.comb += self.i.ready.eq(room & ~(pend & self.i.payload.last))
        take = Signal()
        m.d.comb += take.eq(self.i.valid & self.i.ready)
        left = Signal(range(ACC + 1))  # free bits once this cycle's string is in
        m.d.comb += left.eq(free - self.i.payload.n)  # >= 0 whenever `room`
        # the string goes into place over two cycles: shifted by left % 8 as it is taken, then by
        # the whole bytes as it is merged (a cycle later: a send in between moves it up a word too)
        # (nothing of an idle input reaches the accumulator, not even as X in a simulation)
        part = Signal(len(self.i.payload.value) + 7)
        part_at = Signal(range(ACC // 8 + WORD // 8 + 1))  # in bytes
        with m.If(take):
            m.d.sync += [part.eq(self.i.payload.value << left[:3]),
                         part_at.eq(left[3:] + Mux(send, WORD // 8, 0))]
        with m.Else():
            m.d.sync += part.eq(0)
        m.d.comb += merged.eq(acc | (part << Cat(Const(0, 3), part_at))[:ACC])
        m.d.sync += acc.eq(Mux(send, merged << WORD, merged)[:ACC])

        # the next `free`: the string's cases selected, then a word sent or not
        lg = WORD.bit_length() - 1
        padded = Signal.like(free)  # a payload's last string: the rest of its last word is padding
        m.d.comb += padded.eq(Cat(Const(0, lg), left[lg:]))
        ends = Signal()  # this cycle's string ends a payload (no end was pending)
        m.d.comb += ends.eq(take & self.i.payload.last)
        base = Mux(ends, padded, Mux(take, left, free))
        m.d.sync += free.eq(Mux(send, base + WORD, base))
        with m.If(ends):  # everything in use is this payload's
            m.d.sync += [pend.eq(1), rfree.eq(Mux(send, left + WORD, left))]
        with m.Elif(send & pend):
            with m.If(tail):
                m.d.sync += pend.eq(0)
            with m.Else():
                m.d.sync += rfree.eq(rfree + WORD)
        return m


class SerialBitPacker(BitPacker):
    """The bit packer a bit a cycle, for a part whose link, not its codec, sets the frame rate (the
    iCE40UP5K: 3 Mbaud is a bit every 12 cycles at 36 MHz). Same members and output words as
    :class:`BitPacker`, a tenth of the logic: no accumulator and no shifter.

    The string being taken stays on ``i`` (a stream holds its payload until the handshake), and
    ``i.ready`` rises in the cycle its last bit moves into the word, so the string is never copied.
    Bit ``n - 1 - k`` of it moves in at step ``k`` (one multiplexer, no shifter). A payload's last
    word is filled with zero bits to 32 and leaves with ``nbytes`` (1..4) and ``last``; a word waits
    in place for ``o.ready`` (a cycle a word), so a 52-bit string takes 52 cycles and a payload of
    ``b`` bits about ``b + b / 32`` cycles and the zero bits that fill its last word.

    A string of ``n = 0`` is taken in one cycle and adds nothing; a payload's last string has at
    least one bit (the codec's is the end-of-block code).
    """

    def elaborate(self, platform):
        m = Module()
        s = self.i.payload
        word = Signal(WORD)  # bits in order, the newest in bit 0
        nb = Signal(range(WORD + 1))  # bits in `word`
        k1 = Signal(range(MAX_BITS + 1), init=1)  # bits of the current string moved, plus 1
        pad = Signal()  # the payload has ended: fill the word with zeros
        full = Signal()  # the word waits for o.ready
        nbytes = Signal(3, init=4)
        lastw = Signal()
        m.d.comb += [self.o.valid.eq(full), self.o.payload.data.eq(word),
                     self.o.payload.nbytes.eq(nbytes), self.o.payload.last.eq(lastw)]

        shift = Signal()
        bit = Signal()
        with m.If(full):
            with m.If(self.o.ready):
                m.d.sync += [full.eq(0), nb.eq(0), nbytes.eq(4), lastw.eq(0)]
        with m.Elif(pad):
            m.d.comb += [shift.eq(1), bit.eq(0)]
        with m.Elif(self.i.valid):
            # equality with a register, no subtraction, decides the handshake; the bit index is
            # off that path
            at_end = Signal()  # this cycle takes the string's last bit (or the string is empty)
            m.d.comb += at_end.eq((s.n == 0) | (k1 == s.n))
            at = Signal(range(MAX_BITS))  # the bit that moves in: n - 1 - k
            m.d.comb += at.eq(s.n - k1)
            m.d.comb += [self.i.ready.eq(at_end), shift.eq(s.n != 0), bit.eq(s.value.bit_select(at, 1))]
            m.d.sync += k1.eq(Mux(at_end, 1, k1 + 1))
            with m.If(at_end & s.last):  # the payload's bits in its last word: nb + 1 (n >= 1)
                m.d.sync += [nbytes.eq((nb + 8) >> 3), lastw.eq(1), pad.eq(nb != WORD - 1)]
        with m.If(shift):
            m.d.sync += [word.eq(Cat(bit, word[:-1])), nb.eq(nb + 1)]
            with m.If(nb == WORD - 1):
                m.d.sync += [full.eq(1), pad.eq(0)]
        return m
