"""RegisteredRAM against its golden twin (Amaranth simulator); its ECP5 mapping and the DSPs with
their own output registers (PE, quantizer, requantizer) as RTLIL: what Yosys ships no simulation
model for is checked by structure, and the ECP5 bitstream test builds it."""

import re

import pytest
from amaranth import Const, Signal, signed
from amaranth.back import rtlil
from amaranth.sim import Simulator

from golden.bram import RegisteredRAM as Model
from rtl._dsp import registered_product
from rtl.bram import POISON, RegisteredRAM, dp16kd_bits, spram_count
from rtl.quantizer import Quantizer
from rtl.requant import Requant
from rtl.systolic import PE


class _ECP5:
    family = "ecp5"


class _ICE40:
    family = "iCE40"
    device = "iCE40UP5K"


def run(dut, model, steps):
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    seen = []

    async def bench(ctx):
        for s in steps:
            for k, v in s.items():
                ctx.set(getattr(dut, k), v)
            want = model.step(**s)
            await ctx.tick()
            got = ctx.get(dut.q)
            seen.append(got)
            assert got == want, (len(seen), s)

    sim.add_testbench(bench)
    sim.run()
    return seen


def random_steps(rng, depth, lanes, n, *, hot=4):
    """Writes, reads and register enables at random, mostly over ``hot`` addresses so that reads
    meet the words just written (same edge, the edge after, and later)."""
    steps = []
    for _ in range(n):
        addr = lambda: int(rng.integers(0, hot) if rng.random() < 0.7 else rng.integers(0, depth))  # noqa: E731
        steps.append(dict(w_addr=addr(), w_data=int(rng.integers(0, 1 << (8 * lanes))),
                          w_en=int(rng.integers(0, 1 << lanes)) if rng.random() < 0.6 else 0,
                          r_addr=addr(), r_en=int(rng.random() < 0.7), q_en=int(rng.random() < 0.7)))
    return steps


@pytest.mark.parametrize("registered_writes", [False, True])
def test_random_against_the_model(rng, registered_writes):
    dut = RegisteredRAM(width=32, depth=64, registered_writes=registered_writes)
    model = Model(32, 64, registered_writes=registered_writes)
    seen = run(dut, model, random_steps(rng, 64, 4, 1500))
    assert len(set(seen)) > 100  # the reads returned written data, not only zeros


@pytest.mark.parametrize("registered_writes", [False, True])
def test_single_port_halves_random_against_the_model(rng, registered_writes):
    """Reads and writes at random over both halves: the words the single-port promise forbids
    read as poison, in the RTL as in the model; the others as written."""
    dut = RegisteredRAM(width=32, depth=64, registered_writes=registered_writes, single_port_halves=True)
    model = Model(32, 64, registered_writes=registered_writes, single_port_halves=True)
    steps = random_steps(rng, 64, 4, 1500, hot=64)
    seen = run(dut, model, steps)
    poison = int.from_bytes(bytes([POISON]) * 4, "little")
    assert 50 < seen.count(poison) < len(seen) - 500


def test_single_port_halves_edge_cases():
    """A read in the cycle that writes its half: poison; in the cycle that writes the other half:
    the word; a held word whose half is written before the next read: poison; the next read
    clears it."""
    dut = RegisteredRAM(width=16, depth=8, single_port_halves=True)
    p = int.from_bytes(bytes([POISON]) * 2, "little")
    steps = [dict(w_addr=1, w_data=0x1111, w_en=3), dict(w_addr=5, w_data=0x5555, w_en=3),
             dict(w_addr=2, w_data=0x2222, w_en=3, r_addr=1, r_en=1, q_en=1),  # same half
             dict(w_addr=6, w_data=0x6666, w_en=1, r_addr=1, r_en=1, q_en=1),  # other half
             dict(q_en=1),
             dict(w_addr=0, w_data=0, w_en=1, q_en=1),  # the held word's half written
             dict(q_en=1),
             dict(r_addr=5, r_en=1, q_en=1), dict(q_en=1)]
    seen = run(dut, Model(16, 8, single_port_halves=True), steps)
    assert seen[3:9] == [p, 0x1111, 0x1111, p, p, 0x5555]


def test_ice40_halves_are_sprams():
    """On the iCE40 a 32-bit single-port-halves RAM is four SB_SPRAM256KA (two per half, nibble
    masks from the byte lanes, powered on); wider or deeper ones stay in block RAM."""
    assert [spram_count(32, 16384), spram_count(32, 32768), spram_count(64, 16384),
            spram_count(16, 1024), spram_count(24, 64)] == [4, 4, None, 2, None]
    text = rtlil.convert(RegisteredRAM(width=32, depth=16384, registered_writes=True, single_port_halves=True),
                         platform=_ICE40(), name="ram")
    cells = re.findall(r"cell \\SB_SPRAM256KA .*?\n  end", text, re.S)
    assert len(cells) == 4
    for cell in cells:
        assert "connect \\POWEROFF 1'1" in cell and "connect \\SLEEP 1'0" in cell
    assert "SB_SPRAM256KA" not in rtlil.convert(RegisteredRAM(width=32, depth=16384), platform=_ICE40())
    assert "SB_SPRAM256KA" not in rtlil.convert(
        RegisteredRAM(width=32, depth=16384, single_port_halves=True), platform=_ECP5())


def test_edge_cases():
    """Read of the word written at the same edge (old), at the next edge (new), the register held
    while q_en is low, and a lane-masked write; with and without the write register."""
    for reg in (False, True):
        dut = RegisteredRAM(width=16, depth=8, registered_writes=reg)
        steps = [dict(w_addr=3, w_data=0xBEEF, w_en=3, r_addr=3, r_en=1, q_en=1),
                 dict(w_addr=3, w_data=0x1234, w_en=1, r_addr=3, r_en=1, q_en=1),
                 dict(r_addr=3, r_en=1, q_en=0),
                 dict(r_addr=3, r_en=1, q_en=1),
                 dict(r_addr=7, r_en=0, q_en=1),
                 dict(r_addr=3, r_en=1, q_en=1),
                 dict(q_en=1)]
        seen = run(dut, Model(16, 8, registered_writes=reg), steps)
        assert 0xBE34 in seen


def test_bad_parameters():
    with pytest.raises(ValueError, match="positive multiple of granularity"):
        RegisteredRAM(width=12, depth=8)
    with pytest.raises(ValueError, match="single_port_halves needs an even depth"):
        RegisteredRAM(width=16, depth=9, single_port_halves=True)


@pytest.mark.parametrize("depth, bits, count", [(16384, 1, 32), (8192, 2, 16), (4096, 4, 8)])
def test_ecp5_mapping_uses_the_output_register(depth, bits, count):
    """On the ECP5, one DP16KD per ``bits``-bit slice, output register on, no read mux; the
    address on AD13..AD(log2 bits), as Yosys's own DP16KD map places it."""
    assert dp16kd_bits(depth) == bits
    dut = RegisteredRAM(width=32, depth=depth, registered_writes=True)
    text = rtlil.convert(dut, platform=_ECP5(), name="ram")
    cells = re.findall(r"cell \\DP16KD .*?\n  end", text, re.S)
    assert len(cells) == count
    for cell in cells:
        assert 'parameter \\REG_MODE_B "OUTREG"'.replace("REG_MODE", "REGMODE") in cell
        assert f"parameter \\DATA_WIDTH_B {bits}" in cell
        low = bits.bit_length() - 1
        for a in range(low):
            assert re.search(rf"connect \\ADB{a} 1'0\n", cell)
        assert not re.search(rf"connect \\ADB{low} 1'0\n", cell)
        assert len(re.findall(r"connect \\DOB\d+ ", cell)) == bits  # no dangling outputs
    assert "\\memory" not in text and "$mem" not in text


def test_dp16kd_modes():
    """The widest mode that holds the depth; deeper than one block, or lanes that a mode's bits do
    not divide: a Memory and a fabric register instead."""
    assert [dp16kd_bits(d) for d in (1, 4096, 4097, 8192, 8193, 16384, 16385)] == [4, 4, 2, 2, 1, 1, None]
    assert dp16kd_bits(64, granularity=6) == 2
    assert dp16kd_bits(64, granularity=9) == 1


def test_ecp5_pe_multiplies_in_a_registered_dsp():
    """On the ECP5 the PE's product register is the MULT18X18D's output register, clock-enabled
    by ``en``; operands as Yosys's own map gives them (signed, 18 bits); only the 17 product bits
    used are connected."""
    text = rtlil.convert(PE(), platform=_ECP5(), name="pe")
    cell = re.search(r"cell \\MULT18X18D .*?\n  end", text, re.S).group(0)
    for line in ('parameter \\REG_OUTPUT_CLK "CLK0"', 'parameter \\REG_OUTPUT_CE "CE0"',
                 "connect \\SIGNEDA 1'1", "connect \\SIGNEDB 1'1", "connect \\CE0 \\en"):
        assert line in cell
    assert 'parameter \\REG_INPUTA_CLK' not in cell  # inputs unregistered: latency as simulated
    assert len(re.findall(r"connect \\P\d+ ", cell)) == 17
    plain = rtlil.convert(PE(), name="pe")
    assert "MULT18X18D" not in plain


@pytest.mark.parametrize("make, count", [(Quantizer, 0), (lambda: Requant(acc_width=32), 2),
                                         (lambda: Requant(acc_width=17), 1), (lambda: Requant(acc_width=40), 0)])
def test_ecp5_products_in_registered_dsps(make, count):
    """The requantizer's products: DSPs with their output registers on the ECP5 (a 40-bit
    accumulator's product stays in fabric); none anywhere else. The quantizer is its level table
    (protocol 3): no multiplier at all."""
    cells = re.findall(r"cell \\MULT18X18D .*?\n  end", rtlil.convert(make(), platform=_ECP5()), re.S)
    assert len(cells) == count
    assert all('parameter \\REG_OUTPUT_CLK "CLK0"' in c for c in cells)
    assert "MULT18X18D" not in rtlil.convert(make())


def test_registered_product_refuses_wide_operands():
    with pytest.raises(ValueError, match="18-bit unsigned operand does not fit"):
        registered_product(None, None, Signal(18), Signal(signed(8)), Signal(26), Const(1))


def test_spare_words_belong_to_the_second_half(rng):
    """``spare`` words past ``depth`` (the iCE40UP5K's packet buffer in the activation SPRAMs) are in
    the second half: read while the first half is written they read true, while the second is
    written poison; against the golden model, and their SPRAM addresses past the half's words."""
    steps = [dict(w_addr=9, w_data=0x1234, w_en=3),  # a spare word (depth 8: half 1 is 4 .. 11)
             dict(w_addr=1, w_data=0x5555, w_en=3, r_addr=9, r_en=1, q_en=1),  # other half written
             dict(q_en=1),
             dict(w_addr=5, w_data=0x6666, w_en=3, r_addr=9, r_en=1, q_en=1),  # its half written
             dict(q_en=1)]
    dut = RegisteredRAM(width=16, depth=8, single_port_halves=True, spare=4)
    model = Model(16, 8, single_port_halves=True, spare=4)
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    got, want = [], []

    async def bench(ctx):
        for st in steps:
            for name in ("w_addr", "w_data", "w_en", "r_addr", "r_en", "q_en"):
                ctx.set(getattr(dut, name), st.get(name, 0))
            await ctx.tick()
            got.append(ctx.get(dut.q))
            want.append(model.step(**st))

    sim.add_testbench(bench)
    sim.run()
    assert got == want and got[2] == 0x1234 and got[4] == POISON * 0x101
    text = rtlil.convert(RegisteredRAM(width=32, depth=16384, registered_writes=True, single_port_halves=True,
                                       spare=1024), platform=_ICE40())
    assert text.count("SB_SPRAM256KA") == 4


def test_spram_halves_read_back_in_yosys_model(tmp_path):
    """The iCE40UP5K's activation RAM as its bitstream has it: four SB_SPRAM256KA, two a half, and the
    packet buffer's spare words past the second half's, simulated in Icarus with Yosys's model of the
    primitive against a model, random words and byte masks, each half read while the other is written."""
    from fpga.build import platform_for
    from sim import runner
    dut = RegisteredRAM(width=32, depth=16384, registered_writes=True, single_port_halves=True, spare=1024)
    tests, failures = runner.run(dut, "bram", "sim.cocotb_bram", sim="icarus", build_dir=tmp_path,
                                 env={"WIDTH": 32, "DEPTH": 16384, "SPARE": 1024, "PHASES": 12, "SEED": 5},
                                 platform=platform_for("icebreaker"),
                                 sources=[runner.yosys_cell_models("ice40", ["SB_SPRAM256KA"], tmp_path / "cells.v")])
    assert (tests, failures) == (1, 0)
    assert (tmp_path / "bram.v").read_text().count("SB_SPRAM256KA ") == 4
