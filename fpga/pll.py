"""The core clock of a board: its PLL's dividers, and the PLL itself as an Amaranth component.

The SoC runs from the board oscillator through the FPGA's PLL, so the core clock is chosen by the
configuration (``clock_mhz``) and not fixed by the crystal. :func:`plan` finds the dividers whose
output is nearest the request within each family's limits (those of Lattice's iCE40 sysCLOCK and
ECP5 sysCLOCK guides, as ``icepll`` and ``ecppll`` apply them); the UART divisor is then derived
from the clock actually made.
"""

from dataclasses import dataclass

from amaranth import ClockDomain, Elaboratable, Instance, Module, Signal
from amaranth.lib import io

from golden.errors import BuildError

# iCE40 SB_PLL40 (SIMPLE feedback): f_out = f_in * (DIVF + 1) / ((DIVR + 1) * 2**DIVQ)
ICE40_PFD = (10e6, 133e6)
ICE40_VCO = (533e6, 1066e6)
ICE40_OUT = (16e6, 275e6)
# ECP5 EHXPLLL (CLKOP feedback): f_out = f_in / CLKI_DIV * CLKFB_DIV, VCO = f_out * CLKOP_DIV
ECP5_PFD = (3.125e6, 400e6)
ECP5_VCO = (400e6, 800e6)
ECP5_OUT = (3.125e6, 400e6)


@dataclass(frozen=True)
class PLLPlan:
    """Dividers of one PLL and the frequencies they make (Hz)."""

    family: str
    f_in: float
    f_out: float
    f_vco: float
    dividers: dict


def plan(family, f_in, f_out):
    """The :class:`PLLPlan` nearest ``f_out`` from ``f_in`` (Hz); :class:`BuildError` if the PLL
    cannot make any clock in range."""
    lo, hi = {"ice40": ICE40_OUT, "ecp5": ECP5_OUT}[family]
    if not lo <= f_out <= hi:
        raise BuildError(f"the {family} PLL makes {lo / 1e6:g} to {hi / 1e6:g} MHz, not {f_out / 1e6:g} MHz; "
                         f"choose clock_mhz in that range")
    best = None
    for cand in (_ice40 if family == "ice40" else _ecp5)(f_in):
        if best is None or abs(cand.f_out - f_out) < abs(best.f_out - f_out):
            best = cand
    if best is None:
        raise BuildError(f"no {family} PLL setting makes a clock from {f_in / 1e6:g} MHz")
    return best


def _ice40(f_in):
    for divr in range(16):
        pfd = f_in / (divr + 1)
        if not ICE40_PFD[0] <= pfd <= ICE40_PFD[1]:
            continue
        for divf in range(128):
            vco = pfd * (divf + 1)
            if not ICE40_VCO[0] <= vco <= ICE40_VCO[1]:
                continue
            for divq in range(1, 7):
                out = vco / (1 << divq)
                if ICE40_OUT[0] <= out <= ICE40_OUT[1]:
                    yield PLLPlan("ice40", f_in, out, vco, {"DIVR": divr, "DIVF": divf, "DIVQ": divq,
                                                           "FILTER_RANGE": _filter_range(pfd)})


def _filter_range(pfd):
    for rng, top in enumerate((17e6, 26e6, 44e6, 66e6, 101e6), start=1):
        if pfd < top:
            return rng
    return 6


def _ecp5(f_in):
    for clki in range(1, 129):
        pfd = f_in / clki
        if not ECP5_PFD[0] <= pfd <= ECP5_PFD[1]:
            continue
        for clkfb in range(1, 81):
            out = pfd * clkfb
            if not ECP5_OUT[0] <= out <= ECP5_OUT[1]:
                continue
            for clkop in range(1, 129):
                vco = out * clkop
                if ECP5_VCO[0] <= vco <= ECP5_VCO[1]:
                    yield PLLPlan("ecp5", f_in, out, vco, {"CLKI_DIV": clki, "CLKFB_DIV": clkfb,
                                                          "CLKOP_DIV": clkop})
                    break


class PLLClock(Elaboratable):
    """Drives clock domain ``cd`` (defined by the parent) from the board's default clock through the
    PLL of ``pll``, and holds it in reset until the PLL locks and for a further 16 us (iCE40 block
    RAMs read zeros for about 3 us after configuration)."""

    def __init__(self, pll, cd):
        self.pll = pll
        self.cd = cd
        self.locked = Signal()

    def elaborate(self, platform):
        m = Module()
        p = self.pll
        cd_sync = self.cd
        platform.add_clock_constraint(cd_sync.clk, p.f_out)
        d = p.dividers
        if p.family == "ice40":
            pin = platform.request(platform.default_clk, dir="-")
            m.submodules.pll = Instance(
                "SB_PLL40_PAD", p_FEEDBACK_PATH="SIMPLE", p_DIVR=d["DIVR"], p_DIVF=d["DIVF"],
                p_DIVQ=d["DIVQ"], p_FILTER_RANGE=d["FILTER_RANGE"],
                i_PACKAGEPIN=pin.io, i_RESETB=1, i_BYPASS=0, o_PLLOUTGLOBAL=cd_sync.clk, o_LOCK=self.locked)
        else:
            m.submodules.clk_in = clk_in = io.Buffer("i", platform.request(platform.default_clk, dir="-"))
            m.submodules.pll = Instance(
                "EHXPLLL", p_PLLRST_ENA="DISABLED", p_INTFB_WAKE="DISABLED", p_STDBY_ENABLE="DISABLED",
                p_DPHASE_SOURCE="DISABLED", p_OUTDIVIDER_MUXA="DIVA", p_CLKOP_ENABLE="ENABLED",
                p_CLKOP_DIV=d["CLKOP_DIV"], p_CLKOP_CPHASE=d["CLKOP_DIV"] - 1, p_CLKOP_FPHASE=0,
                p_FEEDBK_PATH="CLKOP", p_CLKFB_DIV=d["CLKFB_DIV"], p_CLKI_DIV=d["CLKI_DIV"],
                a_FREQUENCY_PIN_CLKI=f"{p.f_in / 1e6:g}", a_FREQUENCY_PIN_CLKOP=f"{p.f_out / 1e6:.6g}",
                a_ICP_CURRENT="12", a_LPF_RESISTOR="8",
                i_CLKI=clk_in.i, i_CLKFB=cd_sync.clk, i_RST=0, i_STDBY=0, i_PHASESEL0=0, i_PHASESEL1=0,
                i_PHASEDIR=0, i_PHASESTEP=0, i_PHASELOADREG=0, i_PLLWAKESYNC=0, i_ENCLKOP=0,
                o_CLKOP=cd_sync.clk, o_LOCK=self.locked)
        # reset: held while unlocked, released 16 us after lock
        m.domains.por = cd_por = ClockDomain("por", local=True)
        delay = int(16e-6 * p.f_out)
        timer = Signal(range(delay + 1))
        ready = Signal()
        m.d.comb += [cd_por.clk.eq(cd_sync.clk), cd_por.rst.eq(~self.locked),
                     cd_sync.rst.eq(~ready)]
        with m.If(timer == delay):
            m.d.por += ready.eq(1)
        with m.Else():
            m.d.por += timer.eq(timer + 1)
        return m
