"""Canonical Huffman coder (golden twin: :mod:`golden.huffman`).

The code table lives in a RAM of one ``(code, length)`` word per symbol, written between frames
through ``table_w``: :func:`golden.huffman.code_ram` gives the words of a table (the host loader
computes the canonical codes from the lengths and checks the table first). The end-of-block word is
also kept in a register as it is written, so that an item beat that carries the EOB flag is coded in
the same cycle as its item (the parallel coder's; the serial one reads it from the RAM as it sends
the item's other strings).
"""

from amaranth import Module, Mux, Signal, unsigned
from amaranth.lib import data, memory, stream, wiring
from amaranth.lib.wiring import In, Out

from golden.huffman import MAX_CODE_LEN
from golden.rle import EOB, NUM_SYMBOLS

from .rle import EXTRA_WIDTH, item_layout

__all__ = ["HuffmanCoder", "SerialHuffmanCoder", "bits_layout", "code_word_layout", "MAX_BITS"]

LEN_WIDTH = MAX_CODE_LEN.bit_length()  # 5: lengths 0..16
MAX_BITS = MAX_CODE_LEN + EXTRA_WIDTH + MAX_CODE_LEN  # an item with its refinement bits, then EOB


def code_word_layout():
    return data.StructLayout({"code": unsigned(MAX_CODE_LEN), "len": unsigned(LEN_WIDTH)})


def bits_layout():
    """``n`` bits of ``value`` (right-aligned), first bit at ``n - 1``; ``last`` ends a payload."""
    return data.StructLayout({"value": unsigned(MAX_BITS), "n": unsigned(6),
                              "last": 1})


class HuffmanCoder(wiring.Component):
    """Item beats to bit strings: the symbol's code, its refinement bits, the EOB code if flagged.

    Members
    -------
    table_w : In(stream.Signature(StructLayout({"addr": 8, "code": 16, "len": 5})))
        Code RAM writes, always accepted; write between frames.
    i : In(stream.Signature(item_layout()))
    o : Out(stream.Signature(bits_layout()))

    Throughput one beat per cycle, latency 4 (RAM read, code word register, item, EOB append).
    """

    def __init__(self):
        super().__init__({
            "table_w": In(stream.Signature(data.StructLayout({
                "addr": unsigned(8), "code": unsigned(MAX_CODE_LEN), "len": unsigned(LEN_WIDTH)}))),
            "i": In(stream.Signature(item_layout())),
            "o": Out(stream.Signature(bits_layout())),
        })

    def _table(self, m):
        """The code RAM, written through ``table_w``, and the EOB word's register: ``(ram, eob)``."""
        m.submodules.ram = ram = memory.Memory(shape=code_word_layout(), depth=NUM_SYMBOLS, init=[])
        wp = ram.write_port()
        tw = self.table_w
        m.d.comb += [wp.addr.eq(tw.payload.addr), wp.data.code.eq(tw.payload.code),
                     wp.data.len.eq(tw.payload.len), wp.en.eq(tw.valid & (tw.payload.addr < NUM_SYMBOLS)),
                     tw.ready.eq(1)]
        eob = Signal(code_word_layout())
        with m.If(tw.valid & (tw.payload.addr == EOB)):
            m.d.sync += [eob.code.eq(tw.payload.code), eob.len.eq(tw.payload.len)]
        return ram, eob

    def elaborate(self, platform):
        m = Module()
        ram, eob = self._table(m)
        rp = ram.read_port()

        en = Signal()
        m.d.comb += [en.eq(~self.o.valid | self.o.ready), self.i.ready.eq(en)]
        m.d.comb += [rp.addr.eq(self.i.payload.sym), rp.en.eq(en)]

        # stage 1: the code RAM read; the item waits beside it
        s1 = Signal(data.StructLayout({"valid": 1, "item": item_layout()}))
        with m.If(en):
            m.d.sync += [s1.valid.eq(self.i.valid), s1.item.eq(self.i.payload)]
        # stage 1b: the code word registered (no path from the RAM's output through the shift)
        s1b = Signal(data.StructLayout({"valid": 1, "item": item_layout(), "word": code_word_layout()}))
        with m.If(en):
            m.d.sync += [s1b.valid.eq(s1.valid), s1b.item.eq(s1.item), s1b.word.eq(rp.data)]
        # stage 2: code followed by the refinement bits
        s2 = Signal(data.StructLayout({"valid": 1, "value": unsigned(MAX_CODE_LEN + EXTRA_WIDTH),
                                       "n": unsigned(6), "eob": 1}))
        with m.If(en):
            it, word = s1b.item, s1b.word
            m.d.sync += [s2.valid.eq(s1b.valid), s2.eob.eq(it.eob),
                         s2.value.eq(Mux(it.item, (word.code << it.nextra) | it.extra, 0)),
                         s2.n.eq(Mux(it.item, word.len + it.nextra, 0))]
        # stage 3: the EOB code appended when flagged
        with m.If(en):
            m.d.sync += [self.o.valid.eq(s2.valid), self.o.payload.last.eq(s2.eob),
                         self.o.payload.value.eq(Mux(s2.eob, (s2.value << eob.len) | eob.code, s2.value)),
                         self.o.payload.n.eq(Mux(s2.eob, s2.n + eob.len, s2.n))]
        return m


class SerialHuffmanCoder(HuffmanCoder):
    """The Huffman coder for :class:`rtl.bitpack.SerialBitPacker`: the same members, table and bit
    stream as :class:`HuffmanCoder`, but an item beat leaves as up to three strings, one a beat: the
    symbol's code, its refinement bits (when it has any), the EOB code (when flagged, with
    ``last``). So no string is shifted into another (the parallel coder's two shifters are most of
    its logic), and no string is longer than 20 bits.

    An item is read where the coder's input holds it (no register of it: the stage before holds
    it until it is taken, 26 flip-flops fewer, a logic cell each on the iCE40) and taken as its last
    string is; its code is read from the RAM the cycle it begins and its first string is in the
    output register the cycle after, so an item takes two cycles more than its strings. The RAM
    then reads the EOB symbol's word, which the END string takes from its output (no register of
    the EOB word either).
    """

    def elaborate(self, platform):
        m = Module()
        ram, _ = self._table(m)  # the EOB register unused: synthesis removes it
        rp = ram.read_port()

        CODE, EXTRA, END = 0, 1, 2
        item = self.i.payload
        busy = Signal()  # the item at the input is begun and not yet all sent
        fetch = Signal()  # its code word is on the RAM's output this cycle
        ph = Signal(2)
        begin, strings = Signal(), Signal()
        o = self.o.payload
        # the item's symbol (EOB for an item that is only an EOB) as it begins; EOB while it is sent
        m.d.comb += [begin.eq(self.i.valid & ~busy), strings.eq(item.item | item.eob),
                     rp.addr.eq(Mux(busy | ~item.item, EOB, item.sym)), rp.en.eq(begin | busy)]
        with m.If(begin & strings):
            m.d.sync += [busy.eq(1), fetch.eq(1)]
        with m.If(begin & ~strings):  # nothing to send (the run coder never makes one): taken as it is
            m.d.comb += self.i.ready.eq(1)

        # the output is a register, loaded with the item's first string the cycle after the RAM
        # read and with the next string as each one is taken (no path from the RAM's output or
        # from the packer's bit count through the coder)
        def send(phase):
            value, n = {CODE: (rp.data.code, rp.data.len), EXTRA: (item.extra, item.nextra),
                        END: (rp.data.code, rp.data.len)}[phase]
            m.d.sync += [ph.eq(phase), o.value.eq(value), o.n.eq(n), o.last.eq(phase == END),
                         self.o.valid.eq(1)]

        with m.If(fetch):
            m.d.sync += fetch.eq(0)
            with m.If(item.item):
                send(CODE)
            with m.Else():
                send(END)
        with m.Elif(self.o.valid & self.o.ready):
            with m.If((ph == CODE) & (item.nextra != 0)):
                send(EXTRA)
            with m.Elif((ph != END) & item.eob):
                send(END)
            with m.Else():  # the item's last string is taken: so is the item
                m.d.sync += [self.o.valid.eq(0), busy.eq(0)]
                m.d.comb += self.i.ready.eq(1)
        return m
