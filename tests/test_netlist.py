"""Parts of the post-synthesis check (sim/soc.py with a netlist, fpga.build.synthesize): our models of
the ECP5 primitives Yosys has none of, and the pads as wires. The link session on the ULX3S netlist
itself does not run yet (docs/RESULTS.md, issue #17)."""

import shutil
import subprocess
from pathlib import Path

import pytest

from sim.soc import pads_to_wires
from sim.runner import SimulationError

MODELS = Path(__file__).parent.parent / "sim" / "ecp5_models.v"

TB = """
module tb;
  reg clk = 0, ce = 1, rst = 0;
  reg [17:0] a, b;
  reg sa, sb;
  wire [35:0] p_comb, p_reg;
  reg [35:0] mem [0:{n3}];
  integer i;
  MULT18X18D comb (.A17(a[17]), .A16(a[16]), .A15(a[15]), .A14(a[14]), .A13(a[13]), .A12(a[12]), .A11(a[11]),
    .A10(a[10]), .A9(a[9]), .A8(a[8]), .A7(a[7]), .A6(a[6]), .A5(a[5]), .A4(a[4]), .A3(a[3]), .A2(a[2]),
    .A1(a[1]), .A0(a[0]), .B17(b[17]), .B16(b[16]), .B15(b[15]), .B14(b[14]), .B13(b[13]), .B12(b[12]),
    .B11(b[11]), .B10(b[10]), .B9(b[9]), .B8(b[8]), .B7(b[7]), .B6(b[6]), .B5(b[5]), .B4(b[4]), .B3(b[3]),
    .B2(b[2]), .B1(b[1]), .B0(b[0]), .SIGNEDA(sa), .SIGNEDB(sb), .SOURCEA(1'b0), .SOURCEB(1'b0),
    .P35(p_comb[35]), .P34(p_comb[34]), .P33(p_comb[33]), .P32(p_comb[32]), .P31(p_comb[31]), .P30(p_comb[30]),
    .P29(p_comb[29]), .P28(p_comb[28]), .P27(p_comb[27]), .P26(p_comb[26]), .P25(p_comb[25]), .P24(p_comb[24]),
    .P23(p_comb[23]), .P22(p_comb[22]), .P21(p_comb[21]), .P20(p_comb[20]), .P19(p_comb[19]), .P18(p_comb[18]),
    .P17(p_comb[17]), .P16(p_comb[16]), .P15(p_comb[15]), .P14(p_comb[14]), .P13(p_comb[13]), .P12(p_comb[12]),
    .P11(p_comb[11]), .P10(p_comb[10]), .P9(p_comb[9]), .P8(p_comb[8]), .P7(p_comb[7]), .P6(p_comb[6]),
    .P5(p_comb[5]), .P4(p_comb[4]), .P3(p_comb[3]), .P2(p_comb[2]), .P1(p_comb[1]), .P0(p_comb[0]));
  MULT18X18D #(.REG_OUTPUT_CLK("CLK0"), .REG_OUTPUT_CE("CE0"), .REG_OUTPUT_RST("RST0"), .RESETMODE("SYNC")) regd (
    .A17(a[17]), .A16(a[16]), .A15(a[15]), .A14(a[14]), .A13(a[13]), .A12(a[12]), .A11(a[11]),
    .A10(a[10]), .A9(a[9]), .A8(a[8]), .A7(a[7]), .A6(a[6]), .A5(a[5]), .A4(a[4]), .A3(a[3]), .A2(a[2]),
    .A1(a[1]), .A0(a[0]), .B17(b[17]), .B16(b[16]), .B15(b[15]), .B14(b[14]), .B13(b[13]), .B12(b[12]),
    .B11(b[11]), .B10(b[10]), .B9(b[9]), .B8(b[8]), .B7(b[7]), .B6(b[6]), .B5(b[5]), .B4(b[4]), .B3(b[3]),
    .B2(b[2]), .B1(b[1]), .B0(b[0]), .SIGNEDA(sa), .SIGNEDB(sb), .SOURCEA(1'b0), .SOURCEB(1'b0),
    .CLK0(clk), .CE0(ce), .RST0(rst),
    .P35(p_reg[35]), .P34(p_reg[34]), .P33(p_reg[33]), .P32(p_reg[32]), .P31(p_reg[31]), .P30(p_reg[30]),
    .P29(p_reg[29]), .P28(p_reg[28]), .P27(p_reg[27]), .P26(p_reg[26]), .P25(p_reg[25]), .P24(p_reg[24]),
    .P23(p_reg[23]), .P22(p_reg[22]), .P21(p_reg[21]), .P20(p_reg[20]), .P19(p_reg[19]), .P18(p_reg[18]),
    .P17(p_reg[17]), .P16(p_reg[16]), .P15(p_reg[15]), .P14(p_reg[14]), .P13(p_reg[13]), .P12(p_reg[12]),
    .P11(p_reg[11]), .P10(p_reg[10]), .P9(p_reg[9]), .P8(p_reg[8]), .P7(p_reg[7]), .P6(p_reg[6]),
    .P5(p_reg[5]), .P4(p_reg[4]), .P3(p_reg[3]), .P2(p_reg[2]), .P1(p_reg[1]), .P0(p_reg[0]));
  initial begin
    $readmemh("vectors.hex", mem);
    for (i = 0; i < {n}; i = i + 1) begin
      a = mem[3 * i]; b = mem[3 * i + 1]; {{sa, sb}} = mem[3 * i + 2];
      ce = (i % 5) != 4; rst = (i % 7) == 6;
      #1 $display("C %h", p_comb);
      clk = 1; #1 clk = 0;
      $display("R %h", p_reg);
    end
    $finish;
  end
endmodule
"""


@pytest.mark.skipif(shutil.which("iverilog") is None, reason="Icarus Verilog is not installed")
def test_mult18x18d_model(tmp_path, rng):
    """Our MULT18X18D model against Python's integers: signed and unsigned operands, extremes, the
    output register with its clock enable and synchronous reset."""
    n = 400
    a = rng.integers(0, 1 << 18, n)
    b = rng.integers(0, 1 << 18, n)
    a[:8] = [0, 1, 0x1FFFF, 0x20000, 0x3FFFF, 0x20000, 0x1FFFF, 0x3FFFF]
    b[:8] = [0x3FFFF, 0x3FFFF, 0x1FFFF, 0x20000, 0x3FFFF, 0x1FFFF, 0x20000, 1]
    signs = rng.integers(0, 4, n)
    (tmp_path / "vectors.hex").write_text("".join(f"{x:x}\n{y:x}\n{s:x}\n" for x, y, s in zip(a, b, signs)))
    (tmp_path / "tb.v").write_text(TB.format(n=n, n3=3 * n - 1))
    subprocess.run(["iverilog", "-g2012", "-o", "tb.vvp", "tb.v", str(MODELS)], cwd=tmp_path, check=True)
    out = subprocess.run(["vvp", "-n", "tb.vvp"], cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    comb = [int(x.split()[1], 16) for x in out.splitlines() if x.startswith("C ")]
    regd = [int(x.split()[1], 16) for x in out.splitlines() if x.startswith("R ")]
    assert len(comb) == len(regd) == n
    q = 0
    for i in range(n):
        sa, sb = signs[i] >> 1 & 1, signs[i] & 1
        x = int(a[i]) - (1 << 18) * (sa and a[i] >> 17)
        y = int(b[i]) - (1 << 18) * (sb and b[i] >> 17)
        want = (x * y) & ((1 << 36) - 1)
        assert comb[i] == want, (i, x, y)
        if i % 7 == 6:
            q = 0
        elif i % 5 != 4:
            q = want
        assert regd[i] == q, i


def test_pads_become_wires():
    text = """  TRELLIS_IO #(
    .DIR("INPUT")
  ) \\clk.buf  (
    .B(clk25_0__io),
    .O(\\clock.i )
  );
  LUT4 x ();
  TRELLIS_IO #(
    .DIR("OUTPUT")
  ) \\tx.buf  (
    .B(uart_0__tx__io),
    .I(\\soc.tx ),
    .T(1'h0)
  );
"""
    out = pads_to_wires(text)
    assert "TRELLIS_IO" not in out and "LUT4 x ();" in out
    assert "assign \\clock.i  = clk25_0__io;" in out and "assign uart_0__tx__io = \\soc.tx ;" in out
    with pytest.raises(SimulationError, match="tristate"):
        pads_to_wires(text.replace(".T(1'h0)", ".T(\\soc.oe )"))
