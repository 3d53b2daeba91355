"""The packet receiver's golden twin (:class:`rtl.receiver.PacketReceiver`): the requests it hands
the executor for the bytes of a line.

A request is a received packet (type, tag, payload; the payload is in the packet buffer from
address 0) or a refusal with its NAK code (BAD_LENGTH with the refused type, TIMEOUT, BAD_CRC).
:class:`golden.link.Receiver` is the state machine; this names its output as the RTL's.
"""

from .link import BAD_LENGTH, Packet, Receiver

__all__ = ["requests"]


def requests(parts, buffer_bytes):
    """The requests for the line bytes ``parts`` (a list of ``bytes``), the line going idle past the
    timeout after each part: ``(type, tag, payload, code)`` for each, where ``code`` is ``None``
    for a packet received whole and checked, else the refusal's NAK code (type, tag and payload
    then ``None``, but a BAD_LENGTH's type)."""
    rx = Receiver(buffer_bytes)
    out = []
    for part in parts:
        for e in rx.feed(part) + rx.idle():
            if isinstance(e, Packet):
                out.append((e.type, e.tag, e.payload, None))
            else:
                out.append((e.type if e.code == BAD_LENGTH else None, None, None, e.code))
    return out
