"""The feature codec: uint8 split features in, edgesplit frames (docs/FORMAT.md) out (golden twin:
:mod:`golden.codec`).

::

    i -> framing (count) -> Quantizer -> ZeroRunCoder -> skid -> HuffmanCoder -> skid -> BitPacker
      -> payload FIFO -> skid buffer -> Framer -> o      (serial: no skid buffers)
         `-> header FIFO (settings at each frame's first element) ----^

The input is the compute engine's ``features`` stream as it is (C, H, W order, no framing): the codec
counts ``settings.count`` elements a frame. Every setting is sampled with a frame's first element, so
the host may change them at any time between frames; the code RAM and the level table must be
written between frames. :func:`golden.codec.device_settings` computes (and checks) all of them.
"""

from amaranth import Module, Mux, Signal, unsigned
from amaranth.lib import data, fifo, stream, wiring
from amaranth.lib.wiring import In, Out, connect

from golden.frame import MAX_ELEMENTS

from ._params import is_int, require
from .bitpack import BitPacker, SerialBitPacker, word_layout
from .frame import Framer, byte_layout, header_layout, header_write_layout
from .huffman import HuffmanCoder, SerialHuffmanCoder, bits_layout
from .quantizer import Quantizer
from .rle import ZeroRunCoder, item_layout
from .skid import SkidBuffer

__all__ = ["Codec", "settings_layout"]

COUNT_WIDTH = MAX_ELEMENTS.bit_length()


def settings_layout():
    """Frame header fields and the element count ``C*H*W``."""
    return data.StructLayout({"header": header_layout(), "count": unsigned(COUNT_WIDTH)})


class Codec(wiring.Component):
    """Parameters
    ----------
    payload_words : int
        Depth of the payload FIFO in 32-bit words between the packer and the byte-wide framer.
        Coding never waits for the framer while a frame's payload has this much room to be ahead of
        the byte output (the header's 18 bytes go out first).
    serial : bool
        A bit a cycle (the iCE40UP5K's codec).
    held_settings : bool
        The user holds ``settings`` from a frame's first element until its header has gone out (the
        SoC's executor changes them only between requests, and the sequence number after a frame's
        last byte): the framer then reads the header from ``settings`` itself, and the one-entry
        header FIFO that copies it (108 flip-flops, a logic cell each on the iCE40) is left out.
    header_ram : bool
        With ``serial`` and ``held_settings``: the header's bytes but its flags and sequence number
        come from the framer's header RAM (:class:`rtl.frame.Framer`), written through
        ``header_w``; ``settings.header``'s other fields are not read.

    Members
    -------
    settings : In(settings_layout())
    level_w : In(stream.Signature(StructLayout({"addr": 8, "level": 8})))
        The quantizer's level table (256 entries, either mode), always accepted.
    code_w : In(stream.Signature(StructLayout({"addr": 8, "code": 16, "len": 5})))
        The Huffman code RAM (210 entries), always accepted.
    i : In(stream.Signature(unsigned(8)))
    o : Out(stream.Signature(byte_layout()))
    frames : Out(unsigned(16))
        Frames sent.
    """

    def __init__(self, *, payload_words=128, serial=False, held_settings=False, header_ram=False):
        require(self, is_int(payload_words, 2, 1 << 16),
                f"payload_words must be an integer in 2..65536, not {payload_words!r}")
        require(self, isinstance(serial, bool), f"serial must be True or False, not {serial!r}")
        self._payload_words = payload_words
        self._serial = serial
        self._held = held_settings
        require(self, not header_ram or (serial and held_settings), "header_ram needs serial and held_settings")
        self._ram = header_ram
        self.quantizer = Quantizer()
        self.huffman = SerialHuffmanCoder() if serial else HuffmanCoder()
        ram = {"header_w": In(stream.Signature(header_write_layout()))} if header_ram else {}
        super().__init__({**ram,
            "settings": In(settings_layout()),
            "level_w": In(self.quantizer.table_w.signature.flip()),
            "code_w": In(self.huffman.table_w.signature.flip()),
            "i": In(stream.Signature(unsigned(8))),
            "o": Out(stream.Signature(byte_layout())),
            "frames": Out(unsigned(16)),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.quantizer = q = self.quantizer
        m.submodules.rle = rle = ZeroRunCoder(registered=not self._serial)
        m.submodules.huffman = huff = self.huffman
        m.submodules.packer = packer = SerialBitPacker() if self._serial else BitPacker()
        if not self._serial:
            # registered readys between the stages: no combinational ready path through the codec
            m.submodules.skid_items = skid_items = SkidBuffer(item_layout())
            m.submodules.skid_bits = skid_bits = SkidBuffer(bits_layout())
        m.submodules.payload_fifo = pf = fifo.SyncFIFOBuffered(width=word_layout().size,
                                                               depth=self._payload_words)
        # one header waits: a frame's first element waits while the framer has not yet begun the
        # frame before it (a second entry cost 109 flip-flops and a whole logic cell each on the
        # iCE40; frames of the edge device are a whole computation apart)
        if self._held:  # the header where the settings hold it: only whether it waits for the framer
            hf = _HeldHeader(m, self.settings.header)
        else:
            m.submodules.header_fifo = hf = fifo.SyncFIFOBuffered(width=header_layout().size, depth=1)
        m.submodules.framer = framer = Framer(serial_crc=self._serial, header_ram=self._ram)
        if self._ram:
            wiring.connect(m, wiring.flipped(self.header_w), framer.header_w)

        wiring.connect(m, wiring.flipped(self.level_w), q.table_w)
        wiring.connect(m, wiring.flipped(self.code_w), huff.table_w)

        # framing: count the elements of a frame down, push its header with the first
        first = Signal(init=1)  # the next element starts a frame
        left = Signal(COUNT_WIDTH)  # elements of the frame still to come, the next one included
        last = Signal()
        m.d.comb += last.eq(Mux(first, self.settings.count == 1, left == 1))
        m.d.comb += [q.i.valid.eq(self.i.valid & (~first | hf.w_rdy)),
                     q.i.payload.data.eq(self.i.payload), q.i.payload.first.eq(first),
                     q.i.payload.last.eq(last),
                     self.i.ready.eq(q.i.ready & (~first | hf.w_rdy)),
                     hf.w_data.eq(self.settings.header), hf.w_en.eq(self.i.valid & self.i.ready & first)]
        with m.If(self.i.valid & self.i.ready):
            m.d.sync += [first.eq(last), left.eq(Mux(first, self.settings.count, left) - 1)]

        connect(m, q.o, rle.i)
        if self._serial:
            # the serial coder's ready is a register, the packer reads the string where it is
            connect(m, rle.o, huff.i)
            connect(m, huff.o, packer.i)
        else:
            connect(m, rle.o, skid_items.i)
            connect(m, skid_items.o, huff.i)
            connect(m, huff.o, skid_bits.i)
            connect(m, skid_bits.o, packer.i)
        m.d.comb += [pf.w_data.eq(packer.o.payload), pf.w_en.eq(packer.o.valid),
                     packer.o.ready.eq(pf.w_rdy),
                     framer.header.payload.eq(hf.r_data), framer.header.valid.eq(hf.r_rdy),
                     hf.r_en.eq(framer.header.ready)]
        if self._serial:  # the FIFO's output register straight to the framer (a byte every 10 cycles)
            m.d.comb += [framer.payload.payload.eq(pf.r_data), framer.payload.valid.eq(pf.r_rdy),
                         pf.r_en.eq(framer.payload.ready)]
        else:  # the RAM output into a skid buffer, not through the framer's byte logic back into
            # the FIFO's read enable
            m.submodules.skid_words = skid_words = SkidBuffer(word_layout())
            m.d.comb += [skid_words.i.payload.eq(pf.r_data), skid_words.i.valid.eq(pf.r_rdy),
                         pf.r_en.eq(skid_words.i.ready)]
            connect(m, skid_words.o, framer.payload)
        connect(m, framer.o, wiring.flipped(self.o))
        m.d.comb += self.frames.eq(framer.frames)
        return m


class _HeldHeader:
    """The header FIFO's ports where the settings hold the header (``held_settings``): a flag that
    a frame's header waits for the framer, and the header read from the settings."""

    def __init__(self, m, header):
        self.w_en, self.r_en, self.w_data = Signal(), Signal(), Signal(header_layout().size)
        self.r_rdy = Signal()
        self.w_rdy = ~self.r_rdy
        self.r_data = header
        with m.If(self.w_en):
            m.d.sync += self.r_rdy.eq(1)
        with m.Elif(self.r_en):
            m.d.sync += self.r_rdy.eq(0)
