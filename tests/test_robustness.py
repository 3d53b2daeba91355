import pytest

from golden import robustness


def test_seeded_fuzz_share(cfg):
    r = robustness.fuzz(cfg, count=1400, seed=1)
    assert r["crashes"] == 0, r["crash_examples"]
    assert r["wrongly_accepted"] == 0, r["crash_examples"]
    for kind in robustness.MUST_REJECT:
        assert r["kinds"][kind]["rejected"] == r["kinds"][kind]["count"] > 0
    assert r["max_decode_ms"] < 1000


@pytest.mark.slow
def test_full_fuzz(cfg):
    r = robustness.fuzz(cfg, count=10000, seed=0)
    assert r["crashes"] == 0 and r["wrongly_accepted"] == 0
