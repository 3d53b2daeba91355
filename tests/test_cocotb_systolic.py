"""cocotb on the generated Verilog of the systolic array, Verilator and Icarus, several shapes."""

import pytest

from fpga.build import platform_for
from rtl.systolic import SystolicArray
from sim import runner

CASES = [
    pytest.param(2, 3, "icarus"), pytest.param(4, 4, "icarus"), pytest.param(8, 8, "icarus"),
    pytest.param(2, 3, "verilator"), pytest.param(4, 4, "verilator"),
    pytest.param(8, 8, "verilator", marks=pytest.mark.slow),
]


@pytest.mark.parametrize("rows, cols, sim", CASES)
def test_systolic_random_matrices(rows, cols, sim, tmp_path):
    dut = SystolicArray(rows=rows, cols=cols)
    tests, failures = runner.run(dut, "systolic", "sim.cocotb_systolic", sim=sim, build_dir=tmp_path,
                                 env={"ROWS": rows, "COLS": cols, "ACC": dut.acc_width, "VECTORS": 150,
                                      "SEED": rows * 31 + cols})
    assert (tests, failures) == (1, 0)


def test_unknown_simulator():
    with pytest.raises(runner.SimulationError, match="simulator must be one of"):
        runner.check_simulator("modelsim")


@pytest.mark.parametrize("rows, cols", [(4, 4), (3, 3)])
def test_systolic_on_ice40_dsps_against_yosys_model(rows, cols, tmp_path):
    """The array as the iCEBreaker's bitstream has it, two PEs' products in each SB_MAC16 (8x8
    mode), simulated in Icarus with Yosys's model of the primitive: bit-exact with the golden array
    (random matrices, both banks, gaps, backpressure). 3x3 leaves one product to a plain multiply."""
    dut = SystolicArray(rows=rows, cols=cols)
    tests, failures = runner.run(dut, "systolic", "sim.cocotb_systolic", sim="icarus", build_dir=tmp_path,
                                 env={"ROWS": rows, "COLS": cols, "ACC": dut.acc_width, "VECTORS": 150,
                                      "SEED": 7 * rows + cols},
                                 platform=platform_for("icebreaker"),
                                 sources=[runner.yosys_cell_models("ice40", ["SB_MAC16"], tmp_path / "cells.v")])
    assert (tests, failures) == (1, 0)
    text = (tmp_path / "systolic.v").read_text()
    assert text.count("SB_MAC16 #(") == rows * cols // 2
