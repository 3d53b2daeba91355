"""cocotb on the generated edge device (layer engine + codec): camera frames in, frames out that are
byte-identical with the golden frames and decode to the golden levels. The default board's device
(iCE40UP5K) codes a bit a cycle, the ECP5 boards' an element a cycle (golden.config.SERIAL_BOARDS):
both are here."""

import pytest

from golden.config import Config
from sim import device

CASES = [
    pytest.param(Config(), "verilator", 2, id="default-verilator"),
    pytest.param(Config(bits=4, quantizer="ecsq", split=2, board="ulx3s-85f"), "verilator", 1,
                 id="s2-4b-ecsq-ulx3s-verilator"),
    pytest.param(Config(bits=2, split=1), "icarus", 1, id="s1-2b-icarus", marks=pytest.mark.slow),
    # the shared learned bottleneck (issue 19): its adapter and encoder as two more layers of the program
    pytest.param(Config(bits=5, split=2, code_channels=4, bottleneck="shared", board="ulx3s-85f"), "verilator", 8,
                 id="bottleneck-s2-5b-k4-ulx3s-verilator"),
    pytest.param(Config(bits=3, split=1, bottleneck="shared"), "verilator", 8, id="bottleneck-s1-3b-verilator",
                 marks=pytest.mark.slow),
    # the shipped RGB example (issue 22): a network file, its trained bundle, colour frames
    pytest.param(Config(network="golden/data/networks/rgb32.json", split=3), "verilator", 4, id="rgb32-s3-verilator"),
]


@pytest.mark.parametrize("cfg, sim, frames", CASES)
def test_device_frames_identical(cfg, sim, frames, tmp_path):
    r = device.simulate(cfg, frames=frames, sim=sim, build_dir=tmp_path, seed=7)
    assert r["frames_identical"] == r["frames_decoded"] == r["frames"] == frames, r["per_frame"]
