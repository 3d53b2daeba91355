"""The packet sender's golden twin (:class:`rtl.sender.PacketSender`): a reply's bytes on the line.

SYNC, then type, tag and the payload length (big-endian), the payload, and the CRC-32 (zlib's, the
Ethernet polynomial, reflected) of everything after SYNC, big-endian: :func:`golden.link.packet`.
"""

from .link import packet

__all__ = ["send"]


def send(replies):
    """The line bytes of ``replies``, a list of ``(type, tag, payload)``, sent one after another."""
    return b"".join(packet(t, tag, payload) for t, tag, payload in replies)
