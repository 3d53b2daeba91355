"""Bit packing: variable-length words into bytes, MSB first, and windows for reading them back.

A word of length ``n`` and value ``v`` contributes its bits from bit ``n-1`` down to bit 0. Words
follow each other without gaps; the first bit of the stream is the most significant bit of the first
byte. The last byte is padded with zero bits.
"""

import numpy as np


def pack(values, lengths):
    """Bytes of the words ``values`` (non-negative, < 2**63) of ``lengths`` bits each."""
    values = np.asarray(values, np.uint64)
    lengths = np.asarray(lengths, np.int64)
    total = int(lengths.sum())
    if total == 0:
        return b""
    starts = np.cumsum(lengths) - lengths
    word = np.repeat(np.arange(len(lengths)), lengths)
    offset = np.arange(total) - starts[word]
    shift = (lengths[word] - 1 - offset).astype(np.uint64)
    bits = ((values[word] >> shift) & np.uint64(1)).astype(np.uint8)
    return np.packbits(bits).tobytes()


def windows(data, nbits=None):
    """For every bit position ``p`` below ``nbits``, the 64 bits of ``data`` starting at ``p``.

    Bits past the end of ``data`` read as zero. Returned as uint64, first bit in the MSB.
    """
    nbits = len(data) * 8 if nbits is None else nbits
    buf = np.frombuffer(bytes(data) + bytes(9), np.uint8).astype(np.uint64)
    p = np.arange(nbits)
    idx = p >> 3
    w = np.zeros(nbits, np.uint64)
    for k in range(8):
        w |= buf[idx + k] << np.uint64(56 - 8 * k)
    sh = (p & 7).astype(np.uint64)
    spill = buf[idx + 8] >> (np.uint64(8) - sh)
    return (w << sh) | np.where(sh > 0, spill, np.uint64(0))
