"""cocotb on the edge SoC Verilog at its UART pins: every reply of a scripted link session (garbage,
truncated, corrupted, oversized and unknown packets, a frame before the loads, then IDENT, loads,
weights, parameters and program of another network written with LOAD_MEM, frames and counters) is
byte-identical with the reference device's (golden.link.DeviceModel)."""

import pytest

from golden.config import Config
from sim import soc


@pytest.mark.parametrize("cfg, frames", [
    pytest.param(Config(), 1, id="default"),
    pytest.param(Config(split=2, bits=4, quantizer="ecsq"), 1, id="s2-4b-ecsq", marks=pytest.mark.slow),
])
def test_soc_replies_match_reference_device(cfg, frames, tmp_path):
    check_session(soc.simulate(cfg, frames=frames, build_dir=tmp_path), frames)


@pytest.mark.slow
def test_soc_on_ice40_primitives_replies_match_reference_device(tmp_path):
    """The iCEBreaker's SoC elaborated for its FPGA: the DotArray's products two to an SB_MAC16, the
    activation RAM and the packet buffer in SB_SPRAM256KA, simulated with Yosys's models of them in
    Verilator (about 2 minutes): the same session, the same bytes."""
    from fpga.build import platform_for

    r = soc.simulate(Config(), frames=1, build_dir=tmp_path, platform=platform_for("icebreaker"),
                     cell_models=("ice40", ["SB_MAC16", "SB_SPRAM256KA"]))
    check_session(r, 1)
    assert (next(tmp_path.glob("soc-iCE40_*")) / "edge_soc.v").read_text().count("SB_SPRAM256KA ") == 4


def check_session(r, frames):
    by_name = {s["name"]: s for s in r["steps"]}
    others = [s for s in r["steps"] if s["name"] != "counters"]
    assert all(s["identical"] for s in others), [s["name"] for s in others if not s["identical"]]
    assert r["frames_identical"] == r["frames"] == frames
    c = by_name["counters"]
    assert c["counters_ok"] and c["frames_counted"] == frames and c["naks"] == 8
    # the refusals really were sent (a NAK packet is 11 bytes)
    assert all(by_name[n]["bytes"] == 11 for n in ("truncated", "corrupted", "too long", "unknown",
                                                   "frame too early", "load beyond", "load short",
                                                   "load no memory"))
    # the frames are those of the network written with LOAD_MEM, not of the one built in
    loads = [s for s in r["steps"] if s["name"].startswith("load ") and s["name"][5:].isdigit()]
    assert len(loads) >= 3 and all(s["bytes"] == 9 for s in loads)
    assert r["frames_differ_from_built_in"] == frames
