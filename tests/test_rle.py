import numpy as np
import pytest

from golden import rle
from golden.rle import EOB, LONGRUN, LONGRUN_LEN


def ref_items(flat):
    """Straightforward sequential reference of the run-length items (what the hardware does)."""
    out, run = [], 0
    for v in map(int, flat):
        if v == 0:
            run += 1
            if run == LONGRUN_LEN:
                out.append((LONGRUN, 0, 0))
                run = 0
            continue
        if run < 16:
            rc, rbits, rref = run, 0, 0
        else:
            k = run.bit_length() - 5
            rc, rbits, rref = 16 + k, 4 + k, run - (16 << k)
        lc = v.bit_length()
        out.append((rc * 8 + lc - 1, (rref << (lc - 1)) | (v - (1 << (lc - 1))), rbits + lc - 1))
        run = 0
    out.append((EOB, 0, 0))
    return out


def cases():
    """Empty of non-zeros, single element, all maximum, long runs around the LONGRUN boundary."""
    z = lambda n: np.zeros(n, np.uint8)  # noqa: E731
    one = lambda n, i, v=1: np.where(np.arange(n) == i, v, 0).astype(np.uint8)  # noqa: E731
    return [z(1), np.array([255], np.uint8), np.array([1], np.uint8), np.full(100, 255, np.uint8),
            z(4096), one(20, 19), one(20, 0), one(40000, LONGRUN_LEN), one(40000, LONGRUN_LEN - 1),
            one(40000, LONGRUN_LEN + 1), one(40000, 2 * LONGRUN_LEN, 7), z(LONGRUN_LEN),
            z(2 * LONGRUN_LEN + 5), one(LONGRUN_LEN + 1, 0), one(300, 15), one(300, 16), one(300, 17)]


@pytest.mark.parametrize("i", range(len(cases())))
def test_items_edge_cases(i):
    x = cases()[i]
    s, ev, el = rle.items(x)
    assert list(zip(s.tolist(), ev.tolist(), el.tolist())) == ref_items(x)
    assert np.array_equal(rle.expand(s[:-1], ev[:-1], len(x)), x)


def test_items_random(rng):
    for _ in range(200):
        n = int(rng.integers(1, 3000))
        bits = int(rng.integers(1, 9))
        density = rng.choice([0.0, 0.01, 0.1, 0.5, 0.9, 1.0])
        x = np.where(rng.random(n) < density, rng.integers(1, 1 << bits, n), 0).astype(np.uint8)
        s, ev, el = rle.items(x)
        assert list(zip(s.tolist(), ev.tolist(), el.tolist())) == ref_items(x)
        assert np.array_equal(rle.expand(s[:-1], ev[:-1], n), x)
        assert (el == rle.EXTRA_BITS[s]).all()
        assert rle.valid_symbols(bits)[s].all()


def test_batch_counts_equal_per_frame_items(rng):
    q = np.where(rng.random((30, 500)) < 0.2, rng.integers(1, 16, (30, 500)), 0)
    q[3] = 0
    q[4, -1] = 9
    lengths = rng.integers(1, 17, rle.NUM_SYMBOLS)
    counts, extra = rle.symbol_counts(q)
    want = np.zeros(rle.NUM_SYMBOLS, np.int64)
    want_extra = 0
    for f, row in enumerate(q):
        s, _, el = rle.items(row)
        np.add.at(want, s, 1)
        want_extra += int(el.sum())
        assert rle.frame_bits(q, lengths)[f] == int((lengths[s] + el).sum())
    assert np.array_equal(counts, want) and extra == want_extra


def test_expand_rejects_overlong():
    s, ev, _ = rle.items(np.array([0, 0, 3], np.uint8))
    with pytest.raises(ValueError, match="describe 3 elements"):
        rle.expand(s[:-1], ev[:-1], 2)
