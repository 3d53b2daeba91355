"""The frame: header, Huffman-coded payload, trailer with length and CRC-32.

Byte layout (all integers big-endian; docs/FORMAT.md is the normative description)::

    offset size field
    0      2    magic "ES" (0x45 0x53)
    2      1    version (1)
    3      1    flags: bit 0 = ECSQ (non-uniform) quantizer; bits 1..7 zero
    4      1    split point (1..255)
    5      1    bits per level (1..8)
    6      1    clip (1..255)
    7      1    sequence number (0..255, chosen by the sender)
    8      2    C          10  2  H          12  2  W
    14     4    table id (CRC-32 of the codec table, see golden.tables)
    18     P    payload: the items of golden.rle as Huffman code + refinement bits, MSB first,
                zero-padded to a whole byte
    18+P   4    P, the payload length in bytes
    22+P   4    CRC-32 (IEEE 802.3: reflected, polynomial 0x04C11DB7, init and xor-out 0xFFFFFFFF)
                over bytes 0 .. 21+P

Every header field is known before the first feature arrives, and the length follows the payload, so
a streaming encoder needs no buffer.
"""

import struct
import zlib
from dataclasses import dataclass

import numpy as np

from .bitpack import pack
from .errors import FrameError
from .rle import EOB, EXTRA_BITS, expand, frame_bits, items

MAGIC = b"ES"
VERSION = 1
FLAG_ECSQ = 0x01
HEADER = struct.Struct(">2sBBBBBBHHHI")
TRAILER = struct.Struct(">II")
OVERHEAD = HEADER.size + TRAILER.size
MAX_ELEMENTS = 1 << 22


@dataclass(frozen=True)
class FrameHeader:
    split: int
    bits: int
    clip: int
    mode: str
    shape: tuple
    table_id: int
    seq: int = 0

    def pack(self):
        flags = FLAG_ECSQ if self.mode == "ecsq" else 0
        return HEADER.pack(MAGIC, VERSION, flags, self.split, self.bits, self.clip, self.seq & 0xFF,
                           *self.shape, self.table_id)

    @property
    def elements(self):
        c, h, w = self.shape
        return c * h * w


def frame_bytes(q, lengths):
    """Bytes of every whole frame of a batch of levels ``q`` ``(F, ...)`` under code ``lengths``:
    header, payload padded to whole bytes, trailer (what :func:`encode` writes), vectorised."""
    return OVERHEAD + (frame_bits(q, lengths) + 7) // 8


def encode_payload(q, code):
    """Payload bytes and bit count (before padding) of the level tensor ``q``."""
    sym, extra_val, extra_len = items(q)
    lengths = code.lengths[sym]
    if not lengths.all():
        bad = sorted(set(sym[lengths == 0].tolist()))
        raise FrameError(f"symbols {bad[:8]} have no code in this table")
    values = (code.codes[sym] << extra_len) | extra_val
    nbits = int((lengths + extra_len).sum())
    return pack(values, lengths + extra_len), nbits


def encode(q, header, code):
    """The frame bytes of level tensor ``q`` (shape ``header.shape``) under Huffman ``code``."""
    payload, _ = encode_payload(q, code)
    body = header.pack() + payload + struct.pack(">I", len(payload))
    return body + struct.pack(">I", zlib.crc32(body))


def parse(data):
    """Check a frame's structure and CRC; returns ``(FrameHeader, payload bytes)``."""
    data = bytes(data)
    if len(data) < OVERHEAD + 1:
        raise FrameError(f"truncated frame: {len(data)} bytes, a frame has at least {OVERHEAD + 1}")
    magic, version, flags, split, bits, clip, seq, c, h, w, table_id = HEADER.unpack_from(data)
    if magic != MAGIC:
        raise FrameError(f"not an edgesplit frame: magic {magic!r}, expected {MAGIC!r}")
    if version != VERSION:
        raise FrameError(f"frame version {version} is not supported (this decoder reads {VERSION})")
    if flags & ~FLAG_ECSQ:
        raise FrameError(f"reserved flag bits set (flags 0x{flags:02x})")
    if not 1 <= bits <= 8:
        raise FrameError(f"bits field {bits} is outside 1..8")
    if clip == 0 or split == 0:
        raise FrameError("clip and split fields must not be zero")
    if c == 0 or h == 0 or w == 0 or c * h * w > MAX_ELEMENTS:
        raise FrameError(f"tensor shape {(c, h, w)} is empty or larger than {MAX_ELEMENTS} elements")
    payload_len, crc = TRAILER.unpack_from(data, len(data) - TRAILER.size)
    if payload_len != len(data) - OVERHEAD:
        raise FrameError(f"length field says {payload_len} payload bytes but the frame holds "
                         f"{len(data) - OVERHEAD}: truncated or padded frame")
    if zlib.crc32(data[:-4]) != crc:
        raise FrameError("CRC-32 mismatch: the frame is corrupt")
    mode = "ecsq" if flags & FLAG_ECSQ else "uniform"
    header = FrameHeader(split, bits, clip, mode, (c, h, w), table_id, seq)
    return header, data[HEADER.size:HEADER.size + payload_len]


def decode_payload(payload, count, code, bits):
    """Flat level array of ``count`` elements from ``payload``; FrameError on any inconsistency.

    Table-driven: the next ``max_len`` bits at every bit position index one lookup table giving the
    symbol and the bits to skip to the next code; a tight loop then follows that chain from bit 0
    to the end-of-block symbol, and the refinement bits are read for all codes at once.
    """
    nbits = len(payload) * 8
    step_lut, sym_lut = code.decode_tables(bits)
    buf = np.frombuffer(bytes(payload) + bytes(8), np.uint8).astype(np.int64)
    b24 = (buf[:-2] << 16) | (buf[1:-1] << 8) | buf[2:]
    p = np.arange(nbits)
    top = (b24[p >> 3] >> (8 - (p & 7) + 16 - code.max_len)) & ((1 << code.max_len) - 1)
    sym = sym_lut[top]
    # step 0 marks EOB and invalid codes; positions past the end are fixed points too
    nxt = (p + step_lut[top]).tolist() + list(range(nbits, nbits + 40))
    p = 0
    pos = []
    append = pos.append
    for _ in range(count + count // 16384 + 2):
        q = nxt[p]
        if q == p:
            break
        append(p)
        p = q
    else:
        raise FrameError("payload holds more symbols than the tensor has elements")
    if p >= nbits:
        raise FrameError("payload ends before the end-of-block symbol")
    if sym[p] < 0:
        raise FrameError(f"invalid code at payload bit {p}")
    end = p + int(code.lengths[EOB])
    if (end + 7) // 8 != len(payload):
        raise FrameError(f"{len(payload) * 8 - end} bits follow the end-of-block symbol; at most 7 "
                         f"padding bits may")
    if end < nbits and int(payload[-1]) & ((1 << (nbits - end)) - 1):
        raise FrameError("padding bits after the end-of-block symbol are not zero")
    pos = np.asarray(pos, np.int64)
    s = sym[pos]
    el = EXTRA_BITS[s]
    at = pos + code.lengths[s]  # first refinement bit
    i = at >> 3
    w40 = (buf[i] << 32) | (buf[i + 1] << 24) | (buf[i + 2] << 16) | (buf[i + 3] << 8) | buf[i + 4]
    extras = (w40 >> (40 - (at & 7) - el)) & ((1 << el) - 1)
    try:
        return expand(s, extras, count)
    except ValueError as exc:
        raise FrameError(str(exc)) from None
