"""A byte CRC-32 computed a bit a cycle, for links whose bytes come far apart (golden twin: zlib's
``crc32``; the parallel one is ``amaranth.lib.crc``'s CRC32_ETHERNET with ``data_width=8``).

``amaranth.lib.crc``'s bit-serial processor (``data_width=1``, a Galois shift register) takes the
byte's bits least significant first (the CRC is reflected), so a byte takes 8 cycles: a sixth of
the logic cells of the byte-parallel processor on the iCE40, where the byte-wide XOR network of a
CRC-32 costs about 150 cells. A UART byte is 10 bit times, at least 10 cycles, so a byte has always
been taken before the next one comes.
"""

from amaranth import Module, Mux, Signal
from amaranth.lib import crc, wiring
from amaranth.lib.wiring import In, Out

from ._params import require

__all__ = ["CRC_SIGNATURE", "SerialCRC32", "crc32", "crc_members", "crc_user", "share_crc"]

CRC_SIGNATURE = wiring.Signature({"start": In(1), "data": In(8), "valid": In(1), "busy": Out(1), "crc": Out(32)})
"""A :class:`SerialCRC32`'s members (a user of one takes ``In(CRC_SIGNATURE)``)."""


class SerialCRC32(wiring.Component):
    """The members of ``amaranth.lib.crc.Processor`` for CRC32_ETHERNET on bytes, with ``busy``.

    Members
    -------
    start : In(1)
        With ``valid``: the byte is the first of a new CRC.
    data : In(8)
    valid : In(1)
        Take ``data``; only while not ``busy``.
    busy : Out(1)
        High for the 8 cycles after a byte is taken, while its bits go in.
    crc : Out(32)
        The CRC of the bytes taken so far, once ``busy`` is low.
    """

    def __init__(self):
        super().__init__(CRC_SIGNATURE)

    def elaborate(self, platform):
        m = Module()
        m.submodules.proc = proc = crc.catalog.CRC32_ETHERNET(data_width=1).create()
        bits = Signal(8)
        left = Signal(range(9))
        first = Signal()
        m.d.comb += [self.busy.eq(left != 0), self.crc.eq(proc.crc),
                     proc.data.eq(bits[0]), proc.valid.eq(self.busy), proc.start.eq(first & (left == 8))]
        with m.If(self.valid & ~self.busy):
            m.d.sync += [bits.eq(self.data), left.eq(8), first.eq(self.start)]
        with m.Elif(self.busy):
            m.d.sync += [bits.eq(bits >> 1), left.eq(left - 1)]
        return m


def crc32(serial):
    """A CRC32_ETHERNET processor on bytes: :class:`SerialCRC32` (a bit a cycle, with ``busy``) or
    ``amaranth.lib.crc``'s byte-parallel one (a byte a cycle)."""
    return SerialCRC32() if serial else crc.catalog.CRC32_ETHERNET(data_width=8).create()


def crc_members(owner, serial, shared):
    """The members a CRC's user ``owner`` (a receiver or a sender) adds to its signature: with
    ``shared`` (only with ``serial``, checked), a ``crc`` port, ``In(CRC_SIGNATURE)``: it drives
    ``start``, ``data`` and ``valid`` and reads ``busy`` and ``crc`` of a processor outside, which
    :func:`share_crc` gives two users that never need it at the same time."""
    require(owner, shared in (False, True) and (serial or not shared),
            f"shared_crc must be True or False, and True only with serial, not {shared!r}")
    return {"crc": In(CRC_SIGNATURE)} if shared else {}


def crc_user(m, component, serial, shared):
    """The CRC processor ``component`` feeds: its ``crc`` port where ``shared``, else its own
    (:func:`crc32`, a submodule of ``m``)."""
    if shared:
        return component.crc
    m.submodules.crc = crc = crc32(serial)
    return crc


def share_crc(m, first, second, second_owns):
    """One :class:`SerialCRC32` in ``m`` for the ``crc`` ports of ``first`` and ``second``: its
    inputs from ``second`` while ``second_owns``, else from ``first``; both read its outputs. The
    caller guarantees that neither feeds it while the other owns it, nor reads a CRC across a
    change of owner."""
    m.submodules.crc = crc = SerialCRC32()
    for name in ("start", "data", "valid"):
        m.d.comb += getattr(crc, name).eq(Mux(second_owns, getattr(second.crc, name), getattr(first.crc, name)))
    for user in (first, second):
        m.d.comb += [user.crc.busy.eq(crc.busy), user.crc.crc.eq(crc.crc)]
    return crc
