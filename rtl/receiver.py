"""The link's packet receiver (docs/PROTOCOL.md section 2; golden twin: :mod:`golden.receiver`).

Bytes from the UART in; a request out: its type, tag and payload length, its payload written into
the packet buffer from address 0, or the refusal that ended it (a header whose length the buffer
cannot hold, the line idle mid-packet, a CRC that does not match). The receiver hunts for SYNC,
takes the four header bytes, the payload and the CRC, and checks the CRC over header and payload.

Requests run one at a time: the request stays valid until the executor has answered it (``ready``
comes when the reply is sent), and no byte is taken meanwhile. Bytes that arrive then are left to
the UART, which drops them and counts an overrun.
"""

from amaranth import Cat, Module, Signal, unsigned
from amaranth.lib import data, enum, stream, wiring
from amaranth.lib.wiring import In, Out

from golden import link as L

from ._crc import crc_members, crc_user
from ._params import is_int, require

__all__ = ["Refused", "PacketReceiver", "request_layout"]


class Refused(enum.Enum, shape=2):
    """Why the receiver refused a packet: not at all, or the NAK code it is answered with."""

    NONE = 0
    BAD_LENGTH = 1  # the header's length is more than the packet buffer holds
    TIMEOUT = 2  # the line went idle mid-packet
    BAD_CRC = 3


NAK_CODE = {Refused.BAD_LENGTH: L.BAD_LENGTH, Refused.TIMEOUT: L.TIMEOUT, Refused.BAD_CRC: L.BAD_CRC}


def request_layout():
    return data.StructLayout({"type": 8, "tag": 8, "length": 16, "refused": Refused})


class PacketReceiver(wiring.Component):
    """Parameters
    ----------
    buffer_bytes : int
        The packet buffer's size: a longer payload is refused at its header.
    serial : bool
        A bit-serial CRC (:func:`rtl._crc.crc32`): a byte is taken 9 cycles after the last at the
        earliest (a UART's bytes are 10 bit times apart).
    shared_crc : bool
        With ``serial``: the CRC is outside, on the ``crc`` port (:func:`rtl._crc.share_crc`); the
        receiver feeds it only while no request is pending (``req.valid`` low).

    Members
    -------
    i : In(stream.Signature(unsigned(8)))
        The line's bytes.
    timed_out : In(1)
        The line has been idle for longer than the packet timeout.
    w_en, w_addr, w_data : Out
        The packet buffer's write port: payload byte ``w_addr`` of the request.
    req : Out(stream.Signature(request_layout()))
        The request, valid until it has been answered.
    crc : In(rtl._crc.CRC_SIGNATURE)
        With ``shared_crc``: the CRC processor it feeds while it receives.
    """

    def __init__(self, *, buffer_bytes, serial=False, shared_crc=False):
        require(self, is_int(buffer_bytes, 1, L.MAX_PAYLOAD), f"buffer_bytes must be 1..{L.MAX_PAYLOAD}")
        crc = crc_members(self, serial, shared_crc)
        self._buf, self._serial, self._shared = buffer_bytes, serial, shared_crc
        super().__init__({"i": In(stream.Signature(unsigned(8))), "timed_out": In(1),
                          "w_en": Out(1), "w_addr": Out(16), "w_data": Out(8),
                          "req": Out(stream.Signature(request_layout())),
                          **crc})

    def elaborate(self, platform):
        m = Module()
        crc = crc_user(m, self, self._serial, self._shared)
        req = self.req.payload
        count = Signal(16)
        crc_bad = Signal()  # a CRC byte received differs from the CRC's (compared a byte at a time)
        byte = self.i.payload
        got = Signal()
        m.d.comb += [got.eq(self.i.valid & self.i.ready), crc.data.eq(byte), self.w_data.eq(byte),
                     self.w_addr.eq(count)]
        take = Signal()  # a byte can be taken: the serial CRC has taken the last one's bits
        m.d.comb += take.eq(~crc.busy if self._serial else 1)

        def refuse(why):
            m.d.sync += [req.refused.eq(why), self.req.valid.eq(1)]
            m.next = "WAIT"

        with m.FSM(name="rx"):
            with m.State("HUNT"):
                m.d.comb += self.i.ready.eq(1)
                with m.If(got & (byte == L.SYNC)):
                    m.d.sync += [count.eq(0), req.refused.eq(Refused.NONE), crc_bad.eq(0)]
                    m.next = "HEADER"
            with m.State("HEADER"):
                m.d.comb += [self.i.ready.eq(take), crc.valid.eq(got), crc.start.eq(got & (count == 0))]
                with m.If(got):
                    m.d.sync += [count.eq(count + 1), Cat(req.length, req.tag, req.type).eq(
                        Cat(byte, req.length, req.tag))]
                    with m.If(count == 3):
                        m.d.sync += count.eq(0)
                        with m.If(Cat(byte, req.length[:8]) > self._buf):
                            refuse(Refused.BAD_LENGTH)
                        with m.Elif(Cat(byte, req.length[:8]) == 0):
                            m.next = "CRC"
                        with m.Else():
                            m.next = "PAYLOAD"
                with m.Elif(self.timed_out):
                    refuse(Refused.TIMEOUT)
            with m.State("PAYLOAD"):
                m.d.comb += [self.i.ready.eq(take), crc.valid.eq(got), self.w_en.eq(got)]
                with m.If(got):
                    m.d.sync += count.eq(count + 1)
                    with m.If(count == req.length - 1):
                        m.d.sync += count.eq(0)
                        m.next = "CRC"
                with m.Elif(self.timed_out):
                    refuse(Refused.TIMEOUT)
            with m.State("CRC"):  # big-endian, each byte against the CRC's (which holds: all taken)
                m.d.comb += self.i.ready.eq(take)
                with m.If(got):
                    m.d.sync += count.eq(count + 1)
                    with m.If(byte != crc.crc.word_select(~count[:2], 8)):  # byte 3 - count
                        m.d.sync += crc_bad.eq(1)
                    with m.If(count == 3):
                        m.next = "CHECK"
                with m.Elif(self.timed_out):
                    refuse(Refused.TIMEOUT)
            with m.State("CHECK"):
                refuse(Refused.NONE)
                with m.If(crc_bad):
                    m.d.sync += req.refused.eq(Refused.BAD_CRC)  # overrides NONE
            with m.State("WAIT"):
                with m.If(self.req.ready):
                    m.d.sync += self.req.valid.eq(0)
                    m.next = "HUNT"
        return m
