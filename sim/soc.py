"""The edge SoC (rtl.soc.EdgeSoC) in cocotb at its UART pins, against the reference device.

:func:`session` scripts a link session: garbage, a truncated packet, a corrupted one, an oversized
one, an unknown command, a frame before any settings, then the real loads, frames and counters.
:func:`simulate` plays it on the Verilog's ``rx`` pin (8N1, ``divisor`` cycles per bit) and
records what comes out on ``tx``. The reference :class:`golden.link.DeviceModel` gets the same
bytes, and every reply must be byte-identical.
"""

import json
import re
import struct
import time
from dataclasses import dataclass
from pathlib import Path

from golden import datasets, layer_engine
from golden import link as L
from golden.codec import Codec
from golden.edge_device import device_frames, frame_shape
from rtl.factory import soc_for

from .runner import SimulationError

from . import runner

DIVISOR = 4  # cycles per UART bit in simulation (the boards use clk / baud, e.g. 12)
TIMEOUT = 400  # idle cycles that end a truncated packet (1 ms on a board)
LINE = Path(__file__).with_name("uart_line.v")  # serve's UART line, the top level around the SoC


def other_network(cfg, seed=7):
    """An :class:`golden.layer_engine.EngineImage` of a network other than the one the device is
    built with (same shapes; every block's output channels in a seeded random order),
    for LOAD_MEM tests: frames after loading it must be that network's."""
    import dataclasses

    import numpy as np

    from golden import ptq

    rng = np.random.default_rng(seed)
    model = ptq.int_model(cfg)
    layers = list(model.layers)
    perm_in = None
    for i, lay in enumerate(layers):
        # output channels of every block permuted (weights, bias, multiplier, shift move together)
        # and the next block's input channels to match: the features are the built-in network's with
        # their channels permuted, as dense, while every lane of every memory matters
        b = lay.block
        w = lay.weight.reshape(b.cout, b.cin, b.k, b.k)
        if perm_in is not None:
            w = w[:, perm_in]
        perm = rng.permutation(b.cout)
        layers[i] = dataclasses.replace(lay, weight=w[perm].reshape(b.cout, -1), bias=lay.bias[perm],
                                        mult=lay.mult[perm], shift=lay.shift[perm],
                                        w_scale=lay.w_scale[perm])
        perm_in = perm
    other = dataclasses.replace(model, layers=tuple(layers))
    prog = layer_engine.compile_program(other, cfg.device_blocks, cfg.rows, cfg.cols, cfg.acc_depth)
    return other, layer_engine.engine_image(prog, cfg.act_mem_bytes, cfg.weight_mem_bytes)


@dataclass(frozen=True)
class Netlist:
    """A synthesized board top (``fpga.build.synthesize``): its Verilog ``path``, top module, FPGA
    family, UART divisor and receive timeout in core cycles, and its ports (``clk``, ``rx``, ``tx``,
    ``rst`` None)."""

    path: str
    top: str
    arch: str
    divisor: int
    timeout: int
    pins: dict


_PAD = re.compile(r"^\s*TRELLIS_IO #\(\s*\.DIR\(\"(INPUT|OUTPUT)\"\)\s*\) \S+\s*\((.*?)\);", re.M | re.S)


_SB_IO = re.compile(r"^\s*SB_IO #\((.*?)\) \S+\s*\((.*?)\);", re.M | re.S)
SB_IO_INPUT, SB_IO_OUTPUT = 0x01, 0x29
"""The iCE40 ``SB_IO`` pin types of a plain input (``D_IN_0``) and a plain output (``D_OUT_0``, its
enable tied high): what Amaranth's iCE40 platform makes of a UART's pins."""


def pads_to_wires(text):
    """The netlist with its I/O pads (the ECP5's ``TRELLIS_IO`` and the iCE40's ``SB_IO``, each a
    plain input or output) as the wires they are logically: Yosys's pad models drive an input pad
    with 'z through an inout port, which Verilator refuses at a top-level input. Anything else in
    the netlist is left as it is."""
    def wire(mo):
        conn = dict(re.findall(r"\.(\w+)\(([^()]*?)\)", mo.group(2)))
        if mo.group(1) == "INPUT":
            return f"  assign {conn['O']} = {conn['B']};"
        if conn.get("T", "1'h0") != "1'h0":
            raise SimulationError(f"an output pad with a tristate control ({conn['T']}) is not modelled")
        return f"  assign {conn['B']} = {conn['I']};"

    directions = {}  # an SB_IO's pin: the top's inout port becomes an input or an output (Verilator
    # splits an inout it drives into parts that a testbench does not see)

    def sb_io(mo):
        params = dict(re.findall(r"\.(\w+)\(([^()]*?)\)", mo.group(1)))
        conn = dict(re.findall(r"\.(\w+)\(([^()]*?)\)", mo.group(2)))
        kind = int(params.get("PIN_TYPE", "6'h0").split("'h")[-1], 16)
        if kind == SB_IO_INPUT:
            directions[conn["PACKAGE_PIN"]] = "input"
            return f"  assign {conn['D_IN_0']} = {conn['PACKAGE_PIN']};"
        if kind == SB_IO_OUTPUT and conn.get("OUTPUT_ENABLE", "1'h1") == "1'h1":
            directions[conn["PACKAGE_PIN"]] = "output"
            return f"  assign {conn['PACKAGE_PIN']} = {conn['D_OUT_0']};"
        raise SimulationError(f"an SB_IO of pin type {kind:#04x} with {sorted(conn)} is not modelled")
    text = _SB_IO.sub(sb_io, _PAD.sub(wire, text))
    for pin, direction in directions.items():
        text = re.sub(rf"^(\s*)inout {re.escape(pin)};", rf"\1{direction} {pin};", text, flags=re.M)
    return text


def session(cfg, frames=1, full=True):
    """``[(name, bytes to send, idle after?)]``: a robustness prologue, then loads, frames, counters.

    The loads include the weights, parameters and program of :func:`other_network`, written with
    LOAD_MEM after three LOAD_MEMs the device must refuse, so the frames are that network's. Not
    ``full`` (a gate-level netlist, about 40 times slower to simulate): garbage, a corrupted packet,
    the codec loads, the frames and the counters, on the network the device was built with.
    """
    codec = Codec.for_config(cfg)
    images = datasets.embedded(cfg, "test").images[:frames]
    ds = codec.device_settings(cfg, frame_shape(cfg), seq=0)
    corrupt = bytearray(L.packet(L.IDENT, 3))
    corrupt[1] ^= 0x01  # the type byte: the CRC no longer matches
    steps = [
        ("garbage", b"\x00\x13\x37garbage\xff", False),
        ("truncated", L.packet(L.COUNTERS, 1)[:5], True),
        ("corrupted", bytes(corrupt), False),
        ("too long", bytes([L.SYNC, L.FRAME, 2, 0xFF, 0xFF]), True),
        ("unknown", L.packet(0x42, 4), False),
        ("frame too early", L.packet(L.FRAME, 5, L.frame_bytes(images[0])), False),
        ("ident", L.packet(L.IDENT, 6), False),
        ("settings", L.packet(L.SETTINGS, 7, L.settings_payload(ds.settings)), False),
        ("code table", L.packet(L.CODE_TABLE, 8, L.code_table_payload(ds.code_words)), False),
        ("level table", L.packet(L.LEVEL_TABLE, 9, bytes(ds.level_table)), False),
    ]
    if not full:
        steps = [steps[0], steps[2]] + steps[6:]
        steps += [(f"frame {i}", L.packet(L.FRAME, 10 + i, L.frame_bytes(img)), False) for i, img in enumerate(images)]
        return steps + [("counters", L.packet(L.COUNTERS, 99), False)]
    _, img = other_network(cfg)
    rb = L.row_bytes(L.PARAMS, img.cols)
    steps += [  # refused: rows past the memory's end, a count the length disagrees with, no memory 3
        ("load beyond", L.packet(L.LOAD_MEM, 30, L.LOAD_HEAD.pack(L.PARAMS, img.param_words - 1, 2)
                                 + bytes(2 * rb)), False),
        ("load short", L.packet(L.LOAD_MEM, 31, L.LOAD_HEAD.pack(L.WEIGHTS, 0, 3) + bytes(8)), False),
        ("load no memory", L.packet(L.LOAD_MEM, 32, L.LOAD_HEAD.pack(3, 0, 1) + bytes(4)), False)]
    for i, p in enumerate(L.load_mem_payloads(img, L.BUFFER_BYTES)):
        steps.append((f"load {i}", L.packet(L.LOAD_MEM, 40 + i, p), False))
    for i, img in enumerate(images):
        steps.append((f"frame {i}", L.packet(L.FRAME, 10 + i, L.frame_bytes(img)), False))
    steps.append(("counters", L.packet(L.COUNTERS, 99), False))
    return steps


def expected(cfg, steps):
    """The reference device's reply bytes to each step."""
    dev = L.DeviceModel(cfg)
    out = []
    for _, data, idle in steps:
        r = dev.receive(data)
        if idle:
            r += dev.idle()
        out.append(r)
    return out


def simulate(cfg, frames=1, sim="verilator", build_dir="build/sim", waves=False, netlist=None, platform=None,
             cell_models=None):
    """Play :func:`session` on the SoC's pins; returns the report (``replies_identical`` per step).

    With ``netlist`` (:class:`Netlist`: a synthesized board top's Verilog, its UART divisor and
    timeout in core cycles), the session plays on that netlist at the board's UART pins instead of
    on the Amaranth SoC, with Yosys's cell models and ours (sim/<arch>_models.v). With ``platform``
    (a board's, ``fpga.build.platform_for``) the Amaranth SoC is elaborated for it, its FPGA
    primitives instances (the iCE40's SB_MAC16 products and activation SPRAMs), simulated with
    Yosys's models of ``cell_models`` (``(arch, [cell, ...])``)."""
    frames_n = frames
    runner.check_simulator(sim)
    steps = session(cfg, frames, full=netlist is None)
    want = expected(cfg, steps)
    kind = "netlist" if netlist else "soc" if platform is None else f"soc-{platform.family}"
    build_dir = Path(build_dir) / f"{kind}_{sim}_{cfg.spec.name}_{cfg.board}_{runner.split_tag(cfg)}"
    build_dir.mkdir(parents=True, exist_ok=True)
    divisor, timeout = (netlist.divisor, netlist.timeout) if netlist else (DIVISOR, TIMEOUT)
    setup = {"divisor": divisor, "timeout": timeout,
             "steps": [{"name": n, "send": d.hex(), "idle": i, "want": w.hex()} for (n, d, i), w in zip(steps, want)]}
    if netlist:
        setup["pins"] = netlist.pins
    (build_dir / "session.json").write_text(json.dumps(setup))
    result_path = build_dir / "result.json"
    start = time.time()
    env = {"SESSION": (build_dir / "session.json").resolve(), "RESULT_JSON": result_path.resolve()}
    if netlist:
        ours = Path(__file__).parent / f"{netlist.arch}_models.v"
        models = runner.netlist_cell_models(netlist.arch, build_dir / "cells_sim.v")
        flat = runner.flatten_logic(pads_to_wires(Path(netlist.path).read_text()), netlist.top, netlist.arch,
                                    build_dir / "flat")
        runner.run_verilog([flat, models, ours], netlist.top, "sim.cocotb_soc", sim=sim,
                           build_dir=build_dir, waves=waves, env=env,
                           build_args=["-Wno-lint", "-Wno-style", "--no-timing"] if sim == "verilator"
                           # Icarus takes no port defaults; the netlist connects every port it uses
                           else ["-DNO_ICE40_DEFAULT_ASSIGNMENTS"])
    else:
        models = [runner.yosys_cell_models(*cell_models, build_dir / "cells.v")] if cell_models else []
        runner.run(soc_for(cfg, divisor=DIVISOR, timeout=TIMEOUT), "edge_soc", "sim.cocotb_soc", sim=sim,
                   build_dir=build_dir, waves=waves, env=env, platform=platform, sources=models)
    res = json.loads(result_path.read_text())
    report = []
    for (name, _, _), w, r in zip(steps, want, res["steps"]):
        got = bytes.fromhex(r["got"])
        entry = {"name": name, "bytes": len(got), "identical": got == w}
        if name == "counters":  # frames and NAKs exact; layer cycles measured, the model's predicted
            entry.update(_counters(got, w, cfg.split))
        report.append(entry)
    frames = {e["name"]: e for e in report if e["name"].startswith("frame ") and e["name"] != "frame too early"}
    built_in, _ = device_frames(cfg, datasets.embedded(cfg, "test").images[:frames_n])
    differ = 0
    for (name, _, _), r in zip(steps, res["steps"]):
        if name in frames:
            evs = L.Receiver().feed(bytes.fromhex(r["got"]))
            data = b"".join(e.payload for e in evs if getattr(e, "type", None) in (L.DATA, L.DATA_END))
            differ += data != built_in[int(name.split()[1])]
    return {"simulator": sim, "steps": report, "replies_identical": sum(e["identical"] for e in report),
            "frames_differ_from_built_in": differ,
            "frames_identical": sum(e["identical"] for e in frames.values()), "frames": len(frames),
            "cycles": res["cycles"], "wall_seconds": time.time() - start}


def _counters(got, want, layers):
    """COUNTERS replies: equal apart from the layer cycles, which must be within 3% of the model."""
    rx = L.Receiver()
    g, w = rx.feed(got), rx.feed(want)
    if len(g) != 1 or len(w) != 1 or g[0].type != w[0].type or len(g[0].payload) != len(w[0].payload):
        return {"counters_ok": False}
    n = layers + 2
    gv = struct.unpack(f">{n}I", g[0].payload)
    wv = struct.unpack(f">{n}I", w[0].payload)
    close = all(abs(a - b) <= 0.03 * b for a, b in zip(gv[1:-1], wv[1:-1]))
    return {"counters_ok": gv[0] == wv[0] and gv[-1] == wv[-1] and close, "layer_cycles": list(gv[1:-1]),
            "model_layer_cycles": list(wv[1:-1]), "frames_counted": gv[0], "naks": gv[-1]}


def quiet_cycles(cfg):
    """Cycles of silence after which a served SoC has nothing left to send: past the receiver's
    timeout and past the longest a frame computes before its first DATA packet (the schedule
    model's cycles, doubled)."""
    return 2 * (TIMEOUT + layer_engine.schedule_for(cfg)["cycles"])


def serve(cfg, port, sim="verilator", build_dir="build/sim", ready=None):
    """Build the SoC and serve it on 127.0.0.1:``port``, one connection after another, its state
    kept between them, until the process is stopped (sim/cocotb_serve.py).

    ``ready(port)`` is called from a watcher thread once the simulator listens.
    """
    import threading

    runner.check_simulator(sim)
    build_dir = Path(build_dir) / f"serve_{sim}_{cfg.spec.name}_{cfg.board}_{runner.split_tag(cfg)}"
    build_dir.mkdir(parents=True, exist_ok=True)
    ready_file = build_dir / "ready"
    ready_file.unlink(missing_ok=True)
    done = threading.Event()

    def watch():
        while not done.is_set():
            if ready_file.exists() and ready_file.read_text():
                if ready:
                    ready(int(ready_file.read_text()))
                return
            time.sleep(0.05)

    threading.Thread(target=watch, daemon=True).start()
    try:
        soc = runner.write_verilog(soc_for(cfg, divisor=DIVISOR, timeout=TIMEOUT), "edge_soc",
                                   build_dir.resolve() / "edge_soc.v", icarus=sim == "icarus")
        runner.run_verilog([soc, LINE], "uart_line", "sim.cocotb_serve", sim=sim, build_dir=build_dir,
                           parameters={"DIV": DIVISOR},
                           env={"PORT": port, "DIVISOR": DIVISOR, "QUIET": quiet_cycles(cfg),
                                "READY_FILE": ready_file.resolve()})
    finally:
        done.set()
