"""The core clock: PLL dividers within each family's limits, and the PLL in the board top."""

import pytest

from fpga import pll
from fpga.build import SoCTop, clock_plan, platform_for
from golden.config import Config
from golden.errors import BuildError, ConfigError


@pytest.mark.parametrize("family,f_in", [("ice40", 12e6), ("ecp5", 25e6), ("ecp5", 48e6)])
@pytest.mark.parametrize("f_out", [20e6, 36e6, 48e6, 75e6, 100e6])
def test_plans_stay_within_the_limits(family, f_in, f_out):
    p = pll.plan(family, f_in, f_out)
    d = p.dividers
    if family == "ice40":
        pfd = f_in / (d["DIVR"] + 1)
        assert pll.ICE40_PFD[0] <= pfd <= pll.ICE40_PFD[1]
        assert pll.ICE40_VCO[0] <= pfd * (d["DIVF"] + 1) == p.f_vco <= pll.ICE40_VCO[1]
        assert p.f_out == p.f_vco / 2 ** d["DIVQ"]
    else:
        pfd = f_in / d["CLKI_DIV"]
        assert pll.ECP5_PFD[0] <= pfd <= pll.ECP5_PFD[1]
        assert p.f_out == pytest.approx(pfd * d["CLKFB_DIV"])
        assert pll.ECP5_VCO[0] <= p.f_out * d["CLKOP_DIV"] <= pll.ECP5_VCO[1]
    assert abs(p.f_out - f_out) / f_out < 0.03


def test_known_settings():
    # icepll -i 12 -o 36: DIVR 0, DIVF 47, DIVQ 4, FILTER_RANGE 1
    assert pll.plan("ice40", 12e6, 36e6).dividers == {"DIVR": 0, "DIVF": 47, "DIVQ": 4, "FILTER_RANGE": 1}
    # 36 MHz cannot be made from 25 MHz (the phase detector would run at 1 MHz): 25 * 10 / 7
    p = pll.plan("ecp5", 25e6, 36e6)
    assert p.f_out == pytest.approx(25e6 * 10 / 7)
    with pytest.raises(BuildError, match="makes 16 to 275 MHz"):
        pll.plan("ice40", 12e6, 8e6)


def test_clock_plan_refuses_clearly():
    plan, divisor = clock_plan(Config(board="icebreaker"), "icebreaker")
    assert plan.f_out == 24e6 and divisor == 8  # the clock the UP5K's SoC closes timing at
    plan, divisor = clock_plan(Config(board="icebreaker", clock_mhz=36), "icebreaker")
    assert plan.f_out == 36e6 and divisor == 12  # issue 18's target
    with pytest.raises(BuildError, match="nearest 46.875 MHz"):
        clock_plan(Config(board="ulx3s-85f", clock_mhz=48), "ulx3s-85f")
    with pytest.raises(BuildError, match="3000000 baud cannot be made from the 31.5 MHz clock"):
        clock_plan(Config(board="icebreaker", clock_mhz=31.5), "icebreaker")
    with pytest.raises(ConfigError, match="clock_mhz must be"):
        Config(clock_mhz=1000)


@pytest.mark.parametrize("board,prim,param", [("icebreaker", "SB_PLL40_PAD", "DIVF"),
                                               ("ulx3s-85f", "EHXPLLL", "CLKFB_DIV"),
                                               ("orangecrab-25f", "EHXPLLL", "CLKFB_DIV")])
def test_board_top_runs_from_the_pll(board, prim, param, tmp_path):
    """The board top instantiates the family's PLL with the planned dividers, and the SoC's clock
    is its output (checked in the RTLIL the build hands to Yosys)."""
    cfg = Config(board=board)
    plan, divisor = clock_plan(cfg, board)
    build = platform_for(board).prepare(SoCTop(cfg, plan, divisor), name="top")
    rtlil = build.files["top.il"]
    assert f"cell \\{prim} " in rtlil
    assert f"parameter \\{param} {plan.dividers[param]}" in rtlil


def test_orangecrab_uart_is_on_the_feather_header():
    """The OrangeCrab has no USB-serial chip: the link's RX and TX are Feather pins 0 and 1."""
    cfg = Config(board="orangecrab-25f")
    plan, divisor = clock_plan(cfg, "orangecrab-25f")
    build = platform_for("orangecrab-25f").prepare(SoCTop(cfg, plan, divisor), name="top")
    lpf = build.files["top.lpf"]
    assert 'LOCATE COMP "uart_0__rx__io" SITE "N17";' in lpf
    assert 'LOCATE COMP "uart_0__tx__io" SITE "M18";' in lpf
