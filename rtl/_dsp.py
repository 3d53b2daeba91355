"""Multipliers whose product register is the DSP's own where the FPGA needs it so.

Yosys maps a multiplier to an ECP5 MULT18X18D without the block's registers, which leaves the
routing into the DSP, its 3.9 ns and the routing out of it in one cycle (about 10 ns: the limit of
the 100 MHz ECP5 build). :func:`registered_product` puts the product register inside the DSP on the
ECP5 and is a plain registered multiply elsewhere, the same cycle for cycle.
"""

from amaranth import ClockSignal, Const, ResetSignal, Signal, signed
from amaranth.hdl import Instance

__all__ = ["registered_product"]


def registered_product(m, platform, a, b, p, en, *, name="dsp"):
    """``p <= a * b`` at each edge where ``en`` is high, in module ``m``. ``a`` and ``b`` must each
    fit 18 signed bits (unsigned: 17 bits at most), ``p`` is their product, truncated to its width;
    ``name`` names the DSP instance (unique in ``m``).

    Every bit of ``p`` must be used: on the ECP5 each is a DSP output, and Yosys 0.70's ABC9 stops
    with an internal assertion (``GetSize(conn.first) == GetSize(conn.second)``) on a design whose
    DSP outputs are left dangling; only the bits of ``p`` are connected."""
    for v in (a, b):
        width = len(v) + (0 if v.shape().signed else 1)
        if width > 18:
            raise ValueError(f"a {len(v)}-bit {'signed' if v.shape().signed else 'unsigned'} operand "
                             f"does not fit an 18x18 signed multiplier")
    if getattr(platform, "family", None) == "ecp5":
        _ecp5_registered_mult(m, a, b, p, en, name)
    else:
        with m.If(en):
            m.d.sync += p.eq(a * b)


def _ecp5_registered_mult(m, a, b, p, ce, name):
    """An ECP5 MULT18X18D computing ``p <= a * b`` into its output register, clock-enabled by
    ``ce`` and reset with the sync domain.

    The ports are connected as Yosys's own ``$__MUL18X18`` map (share/lattice/dsp_map_18x18.v)
    connects them, the operands extended to 18 signed bits; only ``REG_OUTPUT_*`` differ. Yosys
    ships no simulation model of the primitive: the RTL simulations take the other branch of
    :func:`registered_product`; tests/test_rtl_bram.py checks this one's structure, and the ECP5
    bitstream builds and the board's HIL run take it.
    """
    a18 = Signal(signed(18))
    b18 = Signal(signed(18))
    p36 = Signal(signed(36))
    ports = {"p_REG_OUTPUT_CLK": "CLK0", "p_REG_OUTPUT_CE": "CE0", "p_REG_OUTPUT_RST": "RST0",
             "p_RESETMODE": "SYNC", "i_SIGNEDA": Const(1), "i_SIGNEDB": Const(1),
             "i_SOURCEA": Const(0), "i_SOURCEB": Const(0),
             "i_CLK0": ClockSignal(), "i_CE0": ce, "i_RST0": ResetSignal()}
    for i in range(18):
        ports[f"i_A{i}"] = a18[i]
        ports[f"i_B{i}"] = b18[i]
        ports[f"i_C{i}"] = Const(0)
    for i in range(len(p)):
        ports[f"o_P{i}"] = p36[i]
    m.submodules[name] = Instance("MULT18X18D", **ports)
    m.d.comb += [a18.eq(a), b18.eq(b), p.eq(p36)]
