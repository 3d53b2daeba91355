"""cocotb on the generated codec Verilog: whole frames byte-identical with the golden frames."""

import pytest

from golden.config import Config
from sim import codec

# every bit width and both modes on real features, 0/50/90/100% zeros, all-maximum, single
# elements, the longest runs; table reloads between groups; > 100,000 elements
MIN_ELEMENTS = 100_000


@pytest.mark.parametrize("sim, serial", [("verilator", False), ("icarus", False), ("verilator", True)],
                         ids=["verilator", "icarus", "verilator-serial"])
def test_codec_frames_identical_with_backpressure(sim, serial, tmp_path):
    """The element-a-cycle codec (ECP5 boards) on both simulators, the bit-serial one (iCE40UP5K)
    on Verilator: every case's frame byte-identical with golden's."""
    r = codec.simulate(Config(), sim=sim, build_dir=tmp_path, seed=3, min_elements=MIN_ELEMENTS,
                       idle=0.2, stall=0.3, serial=serial)
    bad = [f["name"] for f in r["per_frame"] if not f["identical"]]
    assert not bad and r["frames_identical"] == r["frames"]
    assert r["elements"] >= MIN_ELEMENTS
    names = {f["name"] for f in r["per_frame"]}
    assert {f"real-{b}b-{m}" for b in range(1, 9) for m in ("uniform", "ecsq")} <= names
    assert {"zeros-0%", "zeros-50%", "zeros-90%", "zeros-100%", "all-maximum", "single-element",
            "run-16383", "run-16384", "longruns"} <= names


def test_codec_takes_one_element_per_cycle(tmp_path):
    """Output always ready, no input gaps: every real frame streams in at one element per cycle
    (cycle counts of the simulation, not wall time)."""
    cfg = Config()
    cases = [c for c in codec.codec_cases(cfg, seed=5, min_elements=0) if c[0].startswith("real-")]
    r = codec.simulate(cfg, build_dir=tmp_path, cases=cases, idle=0, stall=0)
    assert r["frames_identical"] == r["frames"] == len(cases)
    assert all(f["in_cycles"] == f["elements"] for f in r["per_frame"]), r["per_frame"]
