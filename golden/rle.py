"""Zero run-length symbols of a quantized feature tensor (scanned in C, H, W order).

Every non-zero level ``v`` (1..255) with ``r`` zeros before it becomes one *item*: a symbol naming
the *run class* and the *level class*, and raw refinement bits (JPEG's AC coding uses the same idea).

- run class ``rc``: runs 0..15 have classes 0..15 of their own (no refinement bits); class
  ``16 + k`` (k = 0..9) holds ``16 * 2**k <= r < 16 * 2**(k+1)`` and carries ``4 + k`` refinement bits
  ``r - 16 * 2**k``;
- level class ``lc = bit_length(v)`` (1..8) carries ``lc - 1`` refinement bits ``v - 2**(lc-1)``;
- symbol ``rc * 8 + (lc - 1)`` (0..207); its refinement bits are the run's then the level's, MSB first.

Two more symbols, with no refinement bits:

- ``LONGRUN`` (209): exactly 16384 zeros. A zero run of ``r`` becomes ``r // 16384`` LONGRUNs before
  the pair of ``r % 16384``. The hardware emits a LONGRUN as soon as it has counted 16384 zeros, so it
  never looks ahead;
- ``EOB`` (208): every remaining element is zero. Every tensor ends with exactly one EOB (after any
  LONGRUNs that its trailing zeros complete).

Each input element causes at most one item, plus the EOB after the last element.
"""

from functools import lru_cache

import numpy as np

DIRECT_RUNS = 16
RUN_CLASSES = DIRECT_RUNS + 10
LEVEL_CLASSES = 8
EOB = RUN_CLASSES * LEVEL_CLASSES
LONGRUN = EOB + 1
NUM_SYMBOLS = LONGRUN + 1
LONGRUN_LEN = 16384

_BITLEN = np.array([int(i).bit_length() for i in range(LONGRUN_LEN)], np.int64)
RUN_CLASS = np.where(np.arange(LONGRUN_LEN) < DIRECT_RUNS, np.arange(LONGRUN_LEN),
                     DIRECT_RUNS + _BITLEN - 5)
"""Run class of every run length 0..16383."""
RUN_BASE = np.array([min(rc, DIRECT_RUNS) << max(rc - DIRECT_RUNS, 0) for rc in range(RUN_CLASSES)],
                    np.int64)
"""Smallest run of every run class."""
RUN_BITS = np.array([0] * DIRECT_RUNS + [4 + k for k in range(RUN_CLASSES - DIRECT_RUNS)], np.int64)
"""Refinement bits of every run class."""


def symbol_of(rc, lc):
    return rc * LEVEL_CLASSES + (lc - 1)


def _symbol_extra_bits():
    extra = np.zeros(NUM_SYMBOLS, np.int64)
    for rc in range(RUN_CLASSES):
        for lc in range(1, LEVEL_CLASSES + 1):
            extra[symbol_of(rc, lc)] = RUN_BITS[rc] + (lc - 1)
    return extra


EXTRA_BITS = _symbol_extra_bits()
"""Refinement bits that follow each symbol's code."""


@lru_cache(maxsize=None)
def valid_symbols(bits):
    """Boolean mask (read-only) of the symbols that can occur with ``bits``-bit levels."""
    ok = np.zeros(NUM_SYMBOLS, bool)
    for rc in range(RUN_CLASSES):
        for lc in range(1, bits + 1):
            ok[symbol_of(rc, lc)] = True
    ok[EOB] = ok[LONGRUN] = True
    ok.setflags(write=False)
    return ok


def items(q):
    """Items of the flattened tensor ``q``: ``(symbols, extra_values, extra_lengths)`` int64 arrays."""
    flat = np.asarray(q).reshape(-1).astype(np.int64)
    nz = np.flatnonzero(flat)
    levels = flat[nz]
    runs = np.diff(np.concatenate([[-1], nz])) - 1
    trailing = len(flat) - 1 - (nz[-1] if len(nz) else -1)
    longs = runs // LONGRUN_LEN
    runs = runs % LONGRUN_LEN
    rc = RUN_CLASS[runs]
    lc = _BITLEN[levels]
    sym = rc * LEVEL_CLASSES + lc - 1
    run_ref = runs - RUN_BASE[rc]
    lev_ref = levels - (1 << (lc - 1))
    extra_len = RUN_BITS[rc] + lc - 1
    extra_val = (run_ref << (lc - 1)) | lev_ref
    if longs.any() or trailing >= LONGRUN_LEN:
        # rare (runs of 16384 zeros): interleave LONGRUN items before their pair
        counts = longs + 1
        n = int(counts.sum())
        s = np.full(n, LONGRUN, np.int64)
        ev = np.zeros(n, np.int64)
        el = np.zeros(n, np.int64)
        ends = np.cumsum(counts) - 1
        s[ends], ev[ends], el[ends] = sym, extra_val, extra_len
        sym, extra_val, extra_len = s, ev, el
    tail = trailing // LONGRUN_LEN
    sym = np.concatenate([sym, np.full(tail, LONGRUN, np.int64), [EOB]])
    extra_val = np.concatenate([extra_val, np.zeros(tail + 1, np.int64)])
    extra_len = np.concatenate([extra_len, np.zeros(tail + 1, np.int64)])
    return sym, extra_val, extra_len


def _batch(q):
    """Per non-zero element of a batch ``(F, ...)``: frame index, run and level classes, LONGRUNs
    before it; per frame: trailing zeros."""
    flat = np.asarray(q).reshape(len(q), -1)
    f, pos = np.nonzero(flat)
    levels = flat[f, pos].astype(np.int64)
    first = np.ones(len(f), bool)
    first[1:] = f[1:] != f[:-1]
    prev = np.where(first, -1, np.concatenate([[0], pos[:-1]]))
    runs = pos - prev - 1
    is_last = np.ones(len(f), bool)
    is_last[:-1] = f[1:] != f[:-1]
    last = np.full(len(flat), -1)
    last[f[is_last]] = pos[is_last]
    trailing = flat.shape[1] - 1 - last
    return f, RUN_CLASS[runs % LONGRUN_LEN], _BITLEN[levels], runs // LONGRUN_LEN, trailing


def symbol_counts(q):
    """Symbol histogram (length :data:`NUM_SYMBOLS`) and refinement bits of a batch ``(F, ...)``.

    Vectorised over all frames; equal to summing :func:`items` of each frame.
    """
    f, rc, lc, longs, trailing = _batch(q)
    counts = np.bincount(rc * LEVEL_CLASSES + lc - 1, minlength=NUM_SYMBOLS).astype(np.int64)
    counts[LONGRUN] += int(longs.sum() + (trailing // LONGRUN_LEN).sum())
    counts[EOB] += len(trailing)
    return counts, int((RUN_BITS[rc] + lc - 1).sum())


def frame_bits(q, lengths):
    """Payload bits of every frame of a batch ``q`` ``(F, ...)`` under code ``lengths``.

    Vectorised; equal to the bit count the encoder produces before padding to whole bytes.
    """
    lengths = np.asarray(lengths, np.int64)
    f, rc, lc, longs, trailing = _batch(q)
    per_item = (lengths[rc * LEVEL_CLASSES + lc - 1] + RUN_BITS[rc] + lc - 1
                + longs * lengths[LONGRUN])
    bits = np.bincount(f, weights=per_item, minlength=len(trailing)).astype(np.int64)
    return bits + (trailing // LONGRUN_LEN) * lengths[LONGRUN] + lengths[EOB]


def expand(symbols, extras, count):
    """Inverse of :func:`items` for already-validated items: the flat level array of ``count``.

    ``symbols``/``extras`` cover the items before the EOB. Raises ``ValueError`` when the items
    describe more than ``count`` elements.
    """
    symbols = np.asarray(symbols, np.int64)
    extras = np.asarray(extras, np.int64)
    is_long = symbols == LONGRUN
    rc = np.where(is_long, 0, symbols // LEVEL_CLASSES)
    lc = np.where(is_long, 1, symbols % LEVEL_CLASSES + 1)
    runs = RUN_BASE[rc] + (extras >> (lc - 1))
    levels = (1 << (lc - 1)) + (extras & ((1 << (lc - 1)) - 1))
    advance = np.where(is_long, LONGRUN_LEN, runs + 1)
    ends = np.cumsum(advance)
    if len(ends) and ends[-1] > count:
        raise ValueError(f"run-length items describe {int(ends[-1])} elements, the tensor has {count}")
    out = np.zeros(count, np.uint8)
    keep = ~is_long
    out[ends[keep] - 1] = levels[keep]
    return out
