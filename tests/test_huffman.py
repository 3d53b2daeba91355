import heapq

import numpy as np
import pytest

from golden.errors import TableError
from golden.huffman import HuffmanCode, canonical_codes, limited_lengths
from golden.rle import EOB, NUM_SYMBOLS


def huffman_cost(freqs):
    """Cost sum(f * len) of an unrestricted optimal Huffman code (textbook heap merge)."""
    heap = [f for f in freqs if f > 0]
    if len(heap) == 1:
        return heap[0]
    heapq.heapify(heap)
    cost = 0
    while len(heap) > 1:
        a, b = heapq.heappop(heap), heapq.heappop(heap)
        cost += a + b
        heapq.heappush(heap, a + b)
    return cost


def test_package_merge_is_optimal_when_limit_does_not_bind(rng):
    for _ in range(50):
        freqs = rng.integers(0, 1000, int(rng.integers(2, 60))).astype(float)
        freqs[:2] += 1
        lengths = limited_lengths(freqs, 30)
        assert (freqs * lengths).sum() == pytest.approx(huffman_cost(freqs))


def test_package_merge_respects_limit_and_kraft(rng):
    freqs = 2.0 ** np.arange(40)  # unrestricted Huffman would need 39-bit codes
    for max_len in (6, 8, 16):
        lengths = limited_lengths(freqs, max_len)
        assert lengths.max() <= max_len and (lengths > 0).all()
        assert sum(2.0 ** -lengths) == pytest.approx(1.0)
    with pytest.raises(TableError, match="do not fit"):
        limited_lengths(np.ones(300), 8)
    assert limited_lengths([0, 5, 0], 16).tolist() == [0, 1, 0]
    with pytest.raises(TableError, match="no symbols"):
        limited_lengths([0, 0], 16)


def test_canonical_codes_are_prefix_free_and_ordered():
    lengths = [3, 3, 3, 3, 3, 2, 4, 4]
    codes = canonical_codes(lengths)
    assert codes == [0b010, 0b011, 0b100, 0b101, 0b110, 0b00, 0b1110, 0b1111]  # DEFLATE's example
    words = [format(c, f"0{n}b") for c, n in zip(codes, lengths)]
    assert not any(a != b and b.startswith(a) for a in words for b in words)


def test_huffman_code_validation():
    ok = [0] * NUM_SYMBOLS
    ok[EOB], ok[0] = 1, 1
    HuffmanCode(ok)
    with pytest.raises(TableError, match=f"has {NUM_SYMBOLS} code lengths, not 3"):
        HuffmanCode([1, 1, 0])
    bad = list(ok)
    bad[5] = 1
    with pytest.raises(TableError, match="Kraft"):
        HuffmanCode(bad)
    bad = list(ok)
    bad[EOB] = 0
    with pytest.raises(TableError, match="end-of-block"):
        HuffmanCode(bad)
    bad = list(ok)
    bad[3] = 17
    with pytest.raises(TableError, match="0..16"):
        HuffmanCode(bad)


def test_lookup_table_decodes_every_code(rng):
    freqs = rng.integers(1, 100, NUM_SYMBOLS)
    code = HuffmanCode(limited_lengths(freqs, 12), 12)
    sym, length = code.lookup_table()
    for s in range(NUM_SYMBOLS):
        n = int(code.lengths[s])
        idx = int(code.codes[s]) << (12 - n)
        assert sym[idx] == s and length[idx] == n
