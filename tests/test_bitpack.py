import numpy as np

from golden.bitpack import pack


def ref_pack(values, lengths):
    bits = "".join(format(int(v), f"0{n}b") if n else "" for v, n in zip(values, lengths))
    bits += "0" * (-len(bits) % 8)
    return bytes(int(bits[i:i + 8], 2) for i in range(0, len(bits), 8))


def test_pack_matches_bit_string_reference(rng):
    assert pack([], []) == b""
    assert pack([1], [1]) == b"\x80"
    assert pack([0b101, 0xFF], [3, 8]) == bytes([0b10111111, 0b11100000])
    for _ in range(100):
        n = int(rng.integers(1, 200))
        lengths = rng.integers(0, 37, n)
        values = np.array([int(rng.integers(0, 1 << int(k))) if k else 0 for k in lengths], np.uint64)
        assert pack(values, lengths) == ref_pack(values, lengths)
