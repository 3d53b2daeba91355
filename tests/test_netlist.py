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

def _ports(p):
    """The MULT18X18D port connections of the testbench, product on ``p``."""
    bits = [f".{n}{i}({v}[{i}])" for n, v, w in (("A", "a", 18), ("B", "b", 18), ("P", p, 36)) for i in range(w)]
    return ", ".join(bits + [".SIGNEDA(sa)", ".SIGNEDB(sb)", ".SOURCEA(1'b0)", ".SOURCEB(1'b0)"])


TB = """
module tb;
  reg clk = 0, ce = 1, rst = 0;
  reg [17:0] a, b;
  reg sa, sb;
  wire [35:0] p_comb, p_reg;
  reg [35:0] mem [0:{n3}];
  integer i;
  MULT18X18D comb ({comb});
  MULT18X18D #(.REG_OUTPUT_CLK("CLK0"), .REG_OUTPUT_CE("CE0"), .REG_OUTPUT_RST("RST0"), .RESETMODE("SYNC")) regd (
    {regd}, .CLK0(clk), .CE0(ce), .RST0(rst));
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
    (tmp_path / "tb.v").write_text(TB.format(n=n, n3=3 * n - 1, comb=_ports("p_comb"), regd=_ports("p_reg")))
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
