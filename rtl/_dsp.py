"""Multipliers whose product register is the DSP's own where the FPGA needs it so.

Yosys maps a multiplier to an ECP5 MULT18X18D without the block's registers, which leaves the
routing into the DSP, its 3.9 ns and the routing out of it in one cycle (about 10 ns: the limit of
the 100 MHz ECP5 build). :func:`registered_product` puts the product register inside the DSP on the
ECP5 and is a plain registered multiply elsewhere, the same cycle for cycle.

The iCE40UP5K has 8 SB_MAC16, and Yosys gives each 8x8 product one of them.
:func:`registered_products` puts two uint8 x int8 products in each (its 8x8 mode, both product
registers inside), so the 16 PEs of a 4x4 array take 8.
"""

from amaranth import Cat, ClockSignal, Const, ResetSignal, Signal, signed, unsigned
from amaranth.hdl import Instance

__all__ = ["registered_product", "registered_products"]


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


def is_ice40(platform):
    """Whether ``platform`` is an iCE40 (Amaranth's family name is ``"iCE40"``)."""
    return getattr(platform, "family", None) == "iCE40"


def registered_products(m, platform, products, en, *, name="dsp"):
    """``p <= a * b`` for each ``(a, b, p)`` of ``products`` at each edge where ``en`` is high, as
    :func:`registered_product` does one. On the iCE40, consecutive pairs of uint8 x int8 products
    share an SB_MAC16 (:func:`_ice40_dual_8x8`); an odd one left, or operands of other shapes, take
    :func:`registered_product`. Instances are named ``name`` and a number."""
    products = list(products)
    pairs = []
    if is_ice40(platform):
        dual = [t for t in products if t[0].shape() == unsigned(8) and t[1].shape() == signed(8)
                and len(t[2]) >= 16]
        pairs = list(zip(dual[0::2], dual[1::2]))
    paired = {id(t) for pair in pairs for t in pair}
    for k, (first, second) in enumerate(pairs):
        _ice40_dual_8x8(m, first, second, en, f"{name}_{k}")
    for k, (a, b, p) in enumerate((t for t in products if id(t) not in paired), start=len(pairs)):
        registered_product(m, platform, a, b, p, en, name=f"{name}_{k}")


def _ice40_dual_8x8(m, first, second, ce, name):
    """One SB_MAC16 in 8x8 mode: ``first``'s product in its bottom multiplier, ``second``'s in its
    top, each into the multiplier's own register (``BOT_8x8_MULT_REG``, ``TOP_8x8_MULT_REG``),
    clock-enabled by ``ce``, cleared by the sync domain's reset, and out through ``O`` (output
    selects 2: the 8x8 products). ``A`` holds the two uint8 operands (``A_SIGNED`` 0), ``B`` the two
    int8 ones (``B_SIGNED`` 1, which in 8x8 mode sign-extends both bytes), so each 16-bit product
    is exact. tests/test_cocotb_systolic.py runs the array built this way in Icarus Verilog against
    Yosys's model of the primitive (share/ice40/cells_sim.v)."""
    (a0, b0, p0), (a1, b1, p1) = first, second
    o = Signal(32)
    params = {"NEG_TRIGGER": 0, "A_REG": 0, "B_REG": 0, "C_REG": 0, "D_REG": 0,
              "TOP_8x8_MULT_REG": 1, "BOT_8x8_MULT_REG": 1,
              "PIPELINE_16x16_MULT_REG1": 0, "PIPELINE_16x16_MULT_REG2": 0,
              "TOPOUTPUT_SELECT": 2, "TOPADDSUB_LOWERINPUT": 0, "TOPADDSUB_UPPERINPUT": 0,
              "TOPADDSUB_CARRYSELECT": 0, "BOTOUTPUT_SELECT": 2, "BOTADDSUB_LOWERINPUT": 0,
              "BOTADDSUB_UPPERINPUT": 0, "BOTADDSUB_CARRYSELECT": 0, "MODE_8x8": 1, "A_SIGNED": 0,
              "B_SIGNED": 1}
    ports = {"i_CLK": ClockSignal(), "i_CE": ce, "i_A": Cat(a0, a1), "i_B": Cat(b0, b1),
             "i_C": Const(0, 16), "i_D": Const(0, 16), "i_IRSTTOP": ResetSignal(), "i_IRSTBOT": ResetSignal(),
             "o_O": o}
    for pin in ("AHOLD", "BHOLD", "CHOLD", "DHOLD", "ORSTTOP", "ORSTBOT", "OLOADTOP", "OLOADBOT",
                "ADDSUBTOP", "ADDSUBBOT", "OHOLDTOP", "OHOLDBOT", "CI", "ACCUMCI", "SIGNEXTIN"):
        ports[f"i_{pin}"] = Const(0)
    m.submodules[name] = Instance("SB_MAC16", **{f"p_{k}": Const(v, 2 if k.endswith(("SELECT", "LOWERINPUT")) else 1)
                                                 for k, v in params.items()}, **ports)
    m.d.comb += [p0.eq(o[:16].as_signed()), p1.eq(o[16:].as_signed())]
