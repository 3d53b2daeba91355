"""The link's packet sender (docs/PROTOCOL.md section 2; golden twin: :mod:`golden.sender`).

A reply's head (type, tag, payload length) and its payload bytes in; the packet's bytes out: SYNC,
the head, the payload, and the CRC-32 of head and payload, big-endian. The payload comes as a
stream, so its source (the chunk FIFO of a frame's DATA packets, or bytes formed as they are sent)
is the executor's business; exactly ``length`` bytes of it are taken.
"""

from amaranth import Cat, Module, Signal, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from golden import link as L

from ._crc import crc_members, crc_user

__all__ = ["PacketSender", "head_layout"]


def head_layout():
    return data.StructLayout({"type": 8, "tag": 8, "length": 16})


class PacketSender(wiring.Component):
    """Parameters
    ----------
    serial : bool
        A bit-serial CRC (:func:`rtl._crc.crc32`): a byte goes out 9 cycles after the last at the
        earliest (a UART's bytes are 10 bit times apart).
    held_head : bool
        The user holds ``head``'s payload from the cycle it is taken until ``busy`` falls (the SoC's
        executor sets a head only while no packet is being sent): the head is read where it is,
        not copied (32 flip-flops fewer, a logic cell each on the iCE40).
    shared_crc : bool
        With ``serial``: the CRC is outside, on the ``crc`` port (:func:`rtl._crc.share_crc`).

    Members
    -------
    head : In(stream.Signature(head_layout()))
        The next reply, taken while no packet is being sent.
    body : In(stream.Signature(unsigned(8)))
        Its payload bytes.
    o : Out(stream.Signature(unsigned(8)))
        The packet's bytes, to the UART.
    busy : Out(1)
        A packet is being sent (from the cycle after its head is taken).
    crc : In(rtl._crc.CRC_SIGNATURE)
        With ``shared_crc``: the CRC processor it feeds while it sends.
    """

    def __init__(self, *, serial=False, held_head=False, shared_crc=False):
        crc = crc_members(self, serial, shared_crc)
        self._serial, self._held, self._shared = serial, held_head, shared_crc
        super().__init__({"head": In(stream.Signature(head_layout())), "body": In(stream.Signature(unsigned(8))),
                          "o": Out(stream.Signature(unsigned(8))), "busy": Out(1),
                          **crc})

    def elaborate(self, platform):
        m = Module()
        crc = crc_user(m, self, self._serial, self._shared)
        head = self.head.payload if self._held else Signal(head_layout())
        idx = Signal(16)
        rev = Signal(2)  # byte 3 - idx of a big-endian 32-bit value
        m.d.comb += rev.eq(~idx[:2])
        sent = Signal()
        take = Signal()  # a byte can go: the serial CRC has taken the last one's bits
        m.d.comb += [sent.eq(self.o.valid & self.o.ready), crc.data.eq(self.o.payload),
                     take.eq(~crc.busy if self._serial else 1)]
        with m.FSM(name="tx") as fsm:
            with m.State("IDLE"):
                m.d.comb += self.head.ready.eq(1)
                with m.If(self.head.valid):
                    if not self._held:
                        m.d.sync += head.eq(self.head.payload)
                    m.next = "SYNC"
            with m.State("SYNC"):
                m.d.comb += [self.o.payload.eq(L.SYNC), self.o.valid.eq(1)]
                with m.If(sent):
                    m.d.sync += idx.eq(0)
                    m.next = "HEAD"
            with m.State("HEAD"):
                word = Cat(head.length, head.tag, head.type)  # sent from the top byte down
                m.d.comb += [self.o.payload.eq(word.word_select(rev, 8)), self.o.valid.eq(take),
                             crc.valid.eq(sent), crc.start.eq(sent & (idx == 0))]
                with m.If(sent):
                    m.d.sync += idx.eq(idx + 1)
                    with m.If(idx == 3):
                        m.d.sync += idx.eq(0)
                        m.next = "BODY"
            with m.State("BODY"):
                with m.If(idx == head.length):
                    m.next = "LATCH"
                with m.Else():
                    m.d.comb += [self.o.payload.eq(self.body.payload), self.o.valid.eq(self.body.valid & take),
                                 self.body.ready.eq(self.o.ready & take), crc.valid.eq(sent)]
                    with m.If(sent):
                        m.d.sync += idx.eq(idx + 1)
            with m.State("LATCH"):  # the CRC has taken the last byte (a serial one: all its bits)
                with m.If(take):
                    m.d.sync += idx.eq(0)
                    m.next = "CRC"
            with m.State("CRC"):  # the CRC takes nothing more: its value holds while it is sent
                m.d.comb += [self.o.payload.eq(crc.crc.word_select(rev, 8)), self.o.valid.eq(1)]
                with m.If(sent):
                    m.d.sync += idx.eq(idx + 1)
                    with m.If(idx == 3):
                        m.next = "IDLE"
        m.d.comb += self.busy.eq(~fsm.ongoing("IDLE"))
        return m
