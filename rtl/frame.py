"""Framer: header, payload words, payload length and CRC-32 as a byte stream (golden twin:
:mod:`golden.frame`; docs/FORMAT.md is the byte layout).

The header of a frame is known before its payload (the codec pushes it when the frame's first element
arrives), so the framer sends the 18 header bytes while the payload is still being coded, then the
payload bytes as the packer's words arrive, then the 4-byte length it counted and the CRC-32
(``amaranth.lib.crc`` CRC32_ETHERNET, the zlib CRC) of everything before it. The output byte is a
register and the CRC takes each byte from it as it leaves, so no path runs from the payload FIFO
through the CRC; the price is one idle cycle before the CRC bytes.

With ``serial_crc`` the CRC takes a byte's bits one a cycle (:class:`rtl._crc.SerialCRC32`, a sixth
of the logic on the iCE40) and the framer sends a byte at most every 10 cycles: a byte is loaded
into the output register only once the one before has left and the CRC has taken it.
"""

from amaranth import Cat, Const, Module, Mux, Signal, unsigned
from amaranth.lib import data, memory, stream, wiring
from amaranth.lib.wiring import In, Out

from golden.frame import FLAG_ECSQ, HEADER, MAGIC, VERSION

from ._crc import crc32
from ._params import require
from .bitpack import word_layout

__all__ = ["Framer", "header_layout", "byte_layout"]


def header_layout():
    """The header fields that change from frame to frame (magic and version are constants)."""
    return data.StructLayout({"ecsq": 1, "split": unsigned(8), "bits": unsigned(4), "clip": unsigned(8),
                              "seq": unsigned(8), "c": unsigned(16), "h": unsigned(16), "w": unsigned(16),
                              "table_id": unsigned(32)})


HEADER_RAM_DEPTH = 16
"""Bytes of the header RAM (``header_ram``): SETTINGS's payload bytes 0 .. 14 (docs/PROTOCOL.md), which
are the frame header's bytes 3 .. 17 in the same order."""


def header_write_layout():
    """A byte of the header RAM: its address (the SETTINGS payload byte) and value."""
    return data.StructLayout({"addr": unsigned(4), "data": unsigned(8)})


def byte_layout():
    """One frame byte; ``first``/``last`` mark a frame's first and last byte."""
    return data.StructLayout({"data": unsigned(8), "first": 1, "last": 1})


def header_bytes(h):
    """The 18 header bytes (docs/FORMAT.md) of a ``header_layout`` value, in order."""
    def be(value, n):
        return [value[8 * (n - 1 - k):8 * (n - k)] for k in range(n)]

    def byte(value):
        value = value.as_value() if hasattr(value, "as_value") else value
        return Cat(value, Const(0, 8 - len(value))) if len(value) < 8 else value

    out = [Const(MAGIC[0], 8), Const(MAGIC[1], 8), Const(VERSION, 8),
           Mux(h.ecsq, FLAG_ECSQ, 0), h.split, h.bits, h.clip, h.seq,
           *be(h.c, 2), *be(h.h, 2), *be(h.w, 2), *be(h.table_id, 4)]
    assert len(out) == HEADER.size
    return [byte(b) for b in out]


class Framer(wiring.Component):
    """Members
    -------
    header : In(stream.Signature(header_layout()))
        One beat per frame; taken after its last header byte is sent.
    payload : In(stream.Signature(word_layout()))
        The payload words of each frame in turn, ``last`` on a frame's final word.
    o : Out(stream.Signature(byte_layout()))
    frames : Out(unsigned(16))
        Frames sent (counted at each frame's last byte).

    header_w : In(stream.Signature(header_write_layout()))
        With ``header_ram``: writes of the header RAM, always taken.

    Parameters
    ----------
    serial_crc : bool
        The CRC a bit a cycle, a byte every 10 cycles at most (see the module).
    header_ram : bool
        With ``serial_crc``: the header's bytes come from a block RAM of :data:`HEADER_RAM_DEPTH`
        bytes that the user writes through ``header_w`` (the SETTINGS payload as it arrives) and
        holds until the frame's header is taken, except its flags and sequence number, which
        ``header`` carries (its other fields are not read): 80 flip-flops fewer, a logic cell each
        on the iCE40, for one of its block RAMs.
    """

    def __init__(self, *, serial_crc=False, header_ram=False):
        require(self, isinstance(serial_crc, bool), f"serial_crc must be True or False, not {serial_crc!r}")
        require(self, header_ram in (False, True) and (serial_crc or not header_ram),
                f"header_ram must be True or False, and True only with serial_crc, not {header_ram!r}")
        self._serial, self._ram = serial_crc, header_ram
        ram = {"header_w": In(stream.Signature(header_write_layout()))} if header_ram else {}
        super().__init__({**ram,
            "header": In(stream.Signature(header_layout())),
            "payload": In(stream.Signature(word_layout())),
            "o": Out(stream.Signature(byte_layout())),
            "frames": Out(unsigned(16)),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.crc = cp = crc32(self._serial)

        idx = Signal(range(HEADER.size))
        rev = Signal(2)  # byte of a big-endian 32-bit value: 3 - idx
        m.d.comb += rev.eq(~idx[:2])
        length = Signal(32)
        # the output is a register; the CRC takes each byte as it leaves (except the CRC's own)
        is_crc = Signal()
        load = Signal()
        sent = Signal()
        if self._serial:  # the output register empty and the CRC free (it takes the byte as it leaves)
            m.d.comb += load.eq(~self.o.valid & ~cp.busy)
        else:
            m.d.comb += load.eq(~self.o.valid | self.o.ready)
        m.d.comb += [sent.eq(self.o.valid & self.o.ready),
                     cp.data.eq(self.o.payload.data), cp.valid.eq(sent & ~is_crc),
                     cp.start.eq(sent & self.o.payload.first)]
        with m.If(sent & self.o.payload.last):
            m.d.sync += self.frames.eq(self.frames + 1)
        with m.If(sent if self._serial else load):  # the byte has left (and none is loaded below)
            m.d.sync += self.o.valid.eq(0)

        def emit(byte, first=0, last=0, crc_byte=0):
            m.d.sync += [self.o.valid.eq(1), self.o.payload.data.eq(byte), self.o.payload.first.eq(first),
                         self.o.payload.last.eq(last), is_crc.eq(crc_byte)]

        if self._ram:
            hbyte = self._header_ram(m, idx)
        else:
            hbyte = Cat(*header_bytes(self.header.payload)).word_select(idx, 8)
        word = self.payload.payload
        with m.FSM():
            with m.State("HEADER"):
                with m.If(load & self.header.valid):
                    emit(hbyte, first=idx == 0)
                    m.d.sync += idx.eq(idx + 1)
                    with m.If(idx == HEADER.size - 1):
                        m.d.comb += self.header.ready.eq(1)
                        m.d.sync += [idx.eq(0), length.eq(0)]
                        m.next = "PAYLOAD"
            with m.State("PAYLOAD"):
                with m.If(load & self.payload.valid):  # bytes of a word, first in bits 31..24
                    emit(word.data.word_select(rev, 8))
                    m.d.sync += [idx.eq(idx + 1), length.eq(length + 1)]
                    with m.If(idx[:2] == word.nbytes - 1):
                        m.d.comb += self.payload.ready.eq(1)
                        m.d.sync += idx.eq(0)
                        with m.If(word.last):
                            m.next = "LENGTH"
            with m.State("LENGTH"):
                with m.If(load):
                    emit(length.word_select(rev, 8))
                    m.d.sync += idx.eq(idx + 1)
                    with m.If(idx == 3):
                        m.d.sync += idx.eq(0)
                        m.next = "CRC"
            with m.State("CRC"):
                # the first CRC byte waits until every byte before it has left (and been taken)
                # (serial: `load` already waits for that and for the CRC's last bit)
                with m.If(load if self._serial else Mux(idx == 0, ~self.o.valid, load)):
                    emit(cp.crc.word_select(rev, 8), last=idx == 3, crc_byte=1)
                    m.d.sync += idx.eq(idx + 1)
                    with m.If(idx == 3):
                        m.d.sync += idx.eq(0)
                        m.next = "HEADER"
        return m

    def _header_ram(self, m, idx):
        """Header byte ``idx`` with the RAM's: the constants, the flags and the sequence number
        from ``header``, the rest read at ``idx - 3`` (a cycle after ``idx`` moves; a serial framer
        loads a byte 10 cycles after the last at the earliest)."""
        m.submodules.header_mem = mem = memory.Memory(shape=8, depth=HEADER_RAM_DEPTH, init=[])
        wp, rp = mem.write_port(), mem.read_port()
        h, w = self.header.payload, self.header_w
        m.d.comb += [wp.addr.eq(w.payload.addr), wp.data.eq(w.payload.data), wp.en.eq(w.valid), w.ready.eq(1),
                     rp.addr.eq(idx - 3)]
        head = header_bytes(h)
        return Mux(idx < 3, Cat(*head[:3]).word_select(idx[:2], 8),
                   Mux(idx == 3, head[3], Mux(idx == 7, head[7], rp.data)))