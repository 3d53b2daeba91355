"""What a device checks of its loaded tables before a FRAME (golden twin of
:class:`rtl.table_check.TableCheck`; docs/PROTOCOL.md section 3, FRAME).

- **The code table** (:func:`code_verdict`): the code words are the canonical code of their lengths
  (docs/FORMAT.md section 4), every length is at most 16 and the lengths do not over-subscribe the
  code space (Kraft sum at most 1); a symbol with no code carries the word 0. The verdict is
  ``(canonical, upto)``: ``upto`` is the largest ``bits`` (0 to 8) at which every symbol that can
  occur has a code (:func:`golden.rle.valid_symbols`), so a FRAME needs ``bits <= upto``.
- **The table id** (:func:`table_id`): the id docs/FORMAT.md section 5 gives the loaded tables,
  which SETTINGS's must equal.

The device checks the code table as it is loaded, in 17 passes over the CODE_TABLE payload: pass 0
the lengths and unused words, pass ``L`` (1 to 16) the words of the symbols of length ``L``, in
symbol order, against the canonical code's next word. The table id is computed at a FRAME, a byte a
cycle: the 4 bytes ``1, bits, ecsq, 16``, the 210 lengths, then, in ECSQ mode, the thresholds of
levels 1 to ``2**bits - 1``, each the first level-table index with that level or more.
"""

import zlib

from . import rle
from .huffman import MAX_CODE_LEN

__all__ = ["code_verdict", "thresholds", "table_id"]


def code_verdict(code_words):
    """``(canonical, upto)`` of loaded ``(code, length)`` words, one a symbol (see the module)."""
    lengths = [n for _, n in code_words]
    canonical = all(n <= MAX_CODE_LEN for n in lengths) and all(c == 0 for c, n in code_words if n == 0)
    nxt = 0
    for length in range(1, MAX_CODE_LEN + 1):
        for code, n in code_words:
            if n == length:
                canonical &= code == nxt & 0xFFFF
                nxt += 1
        if length < MAX_CODE_LEN:
            nxt <<= 1
    canonical &= nxt <= 1 << MAX_CODE_LEN  # the Kraft sum, times 2**16
    upto = rle.LEVEL_CLASSES
    for s, n in enumerate(lengths):
        if n == 0:
            upto = min(upto, s % rle.LEVEL_CLASSES if s < rle.EOB else 0)
    return canonical, upto


def thresholds(level_table, bits):
    """The ECSQ thresholds of levels 1 to ``2**bits - 1`` in ``level_table`` (each the first index
    with that level or more), or ``None`` when a level is never reached."""
    out, i = [], 0
    for level in range(1, 1 << bits):
        while i < len(level_table) and level_table[i] < level:
            i += 1
        if i == len(level_table):
            return None
        out.append(i)
    return out


def table_id(bits, ecsq, lengths, level_table):
    """The table id of loaded tables: ``max_code_len`` 16 (the device's code word width), the code
    lengths and, in ECSQ mode, the level table's thresholds; ``None`` when a threshold is missing."""
    steps = thresholds(level_table, bits) if ecsq else []
    if steps is None:
        return None
    return zlib.crc32(bytes([1, bits, int(ecsq), MAX_CODE_LEN]) + bytes(lengths) + bytes(steps))
