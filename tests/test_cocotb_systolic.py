"""cocotb on the generated Verilog of the systolic array, Verilator and Icarus, several shapes."""

import pytest

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
