"""The open toolchain on real blocks: synthesis and place-and-route with YoWASP Yosys and nextpnr."""

import json
import subprocess
import sys

import pytest

from fpga.synth import synthesize
from golden.errors import BuildError


def test_run_coder_places_and_routes_on_up5k(tmp_path):
    """One small block, harnessed, through the standalone flow (Yosys and nextpnr-ice40): it fits,
    and the report has the figures the CLI prints (the Fmax itself is a benchmark figure). The whole
    SoC's UP5K build is `test_build.py::test_icebreaker_bitstream`; the whole codec is slow here."""
    from rtl.rle import ZeroRunCoder

    r = synthesize(ZeroRunCoder(), "rle", "ice40", freq_mhz=36, build_dir=tmp_path)
    assert r["fits"] and r["fmax_mhz"] > 0
    u = r["utilization"]
    assert 0 < u["ICESTORM_LC"]["used"] <= u["ICESTORM_LC"]["available"] == 5280
    assert u.get("ICESTORM_DSP", {"used": 0})["used"] == 0


@pytest.mark.slow
def test_codec_places_and_routes_on_up5k(tmp_path):
    """The whole codec, harnessed, through Yosys and nextpnr-ice40: it fits (the Fmax itself is a
    benchmark figure, not asserted)."""
    from rtl.codec import Codec

    r = synthesize(Codec(), "codec", "ice40", freq_mhz=36, build_dir=tmp_path)
    assert r["fits"] and r["fmax_mhz"] > 0
    u = r["utilization"]
    assert 0 < u["ICESTORM_LC"]["used"] <= u["ICESTORM_LC"]["available"] == 5280
    assert u["ICESTORM_RAM"]["used"] >= 1
    assert u.get("ICESTORM_DSP", {"used": 0})["used"] == 0  # the quantizer is a table: no multiplier


@pytest.mark.slow
def test_codec_places_and_routes_on_ecp5(tmp_path):
    from rtl.codec import Codec

    r = synthesize(Codec(), "codec", "ecp5", freq_mhz=100, build_dir=tmp_path)
    assert r["fits"] and r["fmax_mhz"] > 0 and r["utilization"]["DP16KD"]["used"] >= 1


def test_synth_cli_json_and_bad_arch(tmp_path):
    p = subprocess.run([sys.executable, "-m", "edgesplit", "synth", "--block", "quantizer", "--build-dir",
                        str(tmp_path), "--json", str(tmp_path / "s.json")], capture_output=True, text=True,
                       timeout=600)
    assert p.returncode == 0, p.stderr
    r = json.loads((tmp_path / "s.json").read_text())
    assert r["fits"] and r["part"] == "iCE40UP5K-SG48" and "ICESTORM_LC" in r["utilization"]
    with pytest.raises(BuildError, match="arch must be one of"):
        synthesize(None, "x", "xilinx", freq_mhz=10, build_dir=tmp_path)
