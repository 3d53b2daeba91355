"""Canonical, length-limited Huffman codes over the run-length symbols.

Code lengths come from symbol frequencies by package-merge (optimal under the length limit).
Codes are canonical (as in DEFLATE): symbols sorted by (length, symbol value) get consecutive codes,
the code is incremented and shifted left whenever the length grows. The code lengths alone therefore
define the code; they are what tables store and what the hardware's code RAM is loaded from.
"""

import numpy as np

from .errors import TableError
from .rle import EOB, NUM_SYMBOLS

MAX_CODE_LEN = 16
"""The longest code any table may have (the hardware's code RAM word holds this many bits)."""


def limited_lengths(freqs, max_len):
    """Optimal code lengths (0 for absent symbols) no longer than ``max_len`` (package-merge)."""
    freqs = np.asarray(freqs, np.float64)
    syms = np.flatnonzero(freqs > 0)
    lengths = np.zeros(len(freqs), np.int64)
    if len(syms) == 0:
        raise TableError("cannot build a code for no symbols")
    if len(syms) == 1:
        lengths[syms[0]] = 1
        return lengths
    if len(syms) > 1 << max_len:
        raise TableError(f"{len(syms)} symbols do not fit codes of at most {max_len} bits")
    eye = np.eye(len(freqs), dtype=np.int64)
    leaves = sorted(((freqs[s], int(s)), eye[s]) for s in syms)
    leaves = [(w, c) for (w, _), c in leaves]
    current = leaves
    for _ in range(max_len - 1):
        packages = [(current[i][0] + current[i + 1][0], current[i][1] + current[i + 1][1])
                    for i in range(0, len(current) - 1, 2)]
        current = sorted(leaves + packages, key=lambda item: item[0])
    for _, counts in current[:2 * len(syms) - 2]:
        lengths += counts
    return lengths


def canonical_codes(lengths):
    """Canonical code of every symbol with a non-zero length (0 elsewhere)."""
    lengths = [int(x) for x in lengths]
    codes = [0] * len(lengths)
    code, prev = -1, 0
    for length, sym in sorted((n, s) for s, n in enumerate(lengths) if n > 0):
        code = (code + 1) << (length - prev)
        codes[sym] = code
        prev = length
    return codes


def code_ram(lengths):
    """The words of :class:`rtl.huffman.HuffmanCoder`'s code RAM: ``(code, length)`` per symbol.

    Validates the lengths first (:class:`HuffmanCode`), so a malformed table never reaches the RAM.
    """
    code = HuffmanCode(lengths, MAX_CODE_LEN)
    return [(int(c), int(n)) for c, n in zip(code.codes, code.lengths)]


class HuffmanCode:
    """A validated canonical code: ``lengths`` (one per symbol, 0 = no code) and ``max_len``.

    Raises
    ------
    TableError
        Wrong number of lengths, a length outside 0..max_len, lengths that no prefix code has (Kraft
        sum above 1), or no code for the end-of-block symbol.
    """

    def __init__(self, lengths, max_len=16):
        lengths = list(lengths)
        if len(lengths) != NUM_SYMBOLS:
            raise TableError(f"a code table has {NUM_SYMBOLS} code lengths, not {len(lengths)}")
        if any(not isinstance(n, (int, np.integer)) or not 0 <= n <= max_len for n in lengths):
            raise TableError(f"code lengths must be integers in 0..{max_len}")
        kraft = sum(1 << (max_len - int(n)) for n in lengths if n)
        if kraft > 1 << max_len:
            raise TableError("code lengths over-subscribe the code space (Kraft sum > 1): no prefix "
                             "code has them")
        if not lengths[EOB]:
            raise TableError("the end-of-block symbol has no code")
        self.lengths = np.array(lengths, np.int64)
        self.max_len = max_len
        self.codes = np.array(canonical_codes(lengths), np.int64)
        self._lut = None
        self._decode = {}

    def lookup_table(self):
        """``(symbol, length)`` arrays indexed by the next ``max_len`` bits; symbol -1 = no code."""
        if self._lut is None:
            size = 1 << self.max_len
            sym = np.full(size, -1, np.int64)
            length = np.zeros(size, np.int64)
            for s in np.flatnonzero(self.lengths):
                n = int(self.lengths[s])
                lo = int(self.codes[s]) << (self.max_len - n)
                sym[lo:lo + (1 << (self.max_len - n))] = s
                length[lo:lo + (1 << (self.max_len - n))] = n
            self._lut = sym, length
        return self._lut

    def decode_tables(self, bits):
        """``(step, symbol)`` arrays indexed by the next ``max_len`` bits, for ``bits``-bit levels.

        ``step`` is the code length plus the symbol's refinement bits; it is 0 for the end-of-block
        symbol and where no code (or a symbol impossible with ``bits``-bit levels) starts, so that
        a decoder stops there. ``symbol`` is -1 where no valid code starts.
        """
        if bits not in self._decode:
            from .rle import EXTRA_BITS, valid_symbols

            sym, length = self.lookup_table()
            ok = (sym >= 0) & valid_symbols(bits)[np.maximum(sym, 0)]
            sym = np.where(ok, sym, -1)
            step = np.where(ok & (sym != EOB), length + EXTRA_BITS[np.maximum(sym, 0)], 0)
            self._decode[bits] = step, sym
        return self._decode[bits]
