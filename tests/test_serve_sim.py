"""hil against serve-sim: the host program drives the simulated SoC (Verilator) through a TCP socket
that carries the UART byte stream, with the same code path it uses for a board's serial port."""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from fpga.fuzz import KINDS
from fpga.host import Link
from golden import layer_engine
from golden import link as L
from golden.config import Config


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@contextlib.contextmanager
def serve_sim(tmp_path, *args):
    """``edgesplit serve-sim`` with ``args`` on a free port: yields ``(port, process)``; killed after."""
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "edgesplit", "serve-sim", "--port", str(port),
                               "--build-dir", str(tmp_path), *args], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, start_new_session=True)  # its simulator stops with it
    try:
        deadline = time.time() + 900  # a hang guard: the Verilator build is slow on a loaded machine
        line = ""
        while time.time() < deadline and "socket://" not in line:
            line = server.stdout.readline()
            assert line or server.poll() is None, "serve-sim exited before listening"
        assert "socket://127.0.0.1" in line
        yield port, server
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)  # serve-sim and the simulator it started
            server.wait(timeout=60)


def hil(port, tmp_path, name, *args):
    """The report of ``edgesplit hil`` with ``args`` against 127.0.0.1:``port``."""
    p = subprocess.run([sys.executable, "-m", "edgesplit", "hil", "--port", f"socket://127.0.0.1:{port}",
                        "--timeout", "120", "--json", str(tmp_path / name), *args],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout + p.stderr
    return json.loads((tmp_path / name).read_text())


def test_hil_against_serve_sim(tmp_path):
    with serve_sim(tmp_path) as (port, server):
        with socket.create_connection(("127.0.0.1", port)) as c:  # half a packet, then the line drops
            c.sendall(L.packet(L.IDENT, 7, b"")[:5])
        r = hil(port, tmp_path, "h.json", "--frames", "2")
        assert r["frames"] == r["frames_identical"] == r["frames_decoded"] == 2
        assert r["link"]["retries"] == 0  # the cut packet timed out and the receiver resynced
        # the counters are the RTL's own cycle counters: close to the schedule model's prediction
        model = layer_engine.schedule_for(Config())["cycles"]
        measured = sum(r["device_counters"]["layer_cycles"])
        assert r["device_counters"]["frames"] == 2 and abs(measured - model) < 0.03 * model
        # a third connection finds the device as the second left it, as a powered board keeps it
        with Link(f"socket://127.0.0.1:{port}", timeout=60) as link:
            counters = link.counters(Config().split)
        assert counters["frames"] == 2 and counters["naks"] == 1  # the cut packet's TIMEOUT
        # CI's share of the link fuzz against the RTL (docs/RESULTS.md has the runs): damaged packets,
        # garbage, two packets in one write, coherent loads and frames; a valid session after each
        p = subprocess.run([sys.executable, "-m", "edgesplit", "fuzz", "--link", "--port", f"socket://127.0.0.1:{port}",
                            "--kinds", "link", "--count", "4", "--seed", "1", "--quiet", "0.2", "--frame-timeout", "120",
                            "--json", str(tmp_path / "fuzz.json")], capture_output=True, text=True, timeout=900)
        assert p.returncode == 0, p.stdout + p.stderr
        f = json.loads((tmp_path / "fuzz.json").read_text())
        assert f["sessions_identical"] == 4 and f["problems"] == [] and {"BAD_CRC", "TIMEOUT"} <= set(f["naks"])
        # the shared learned bottleneck on the same device: its two layers loaded by LOAD_MEM
        r = hil(port, tmp_path, "b.json", "--bottleneck", "shared", "--frames", "2")
        assert r["frames"] == r["frames_identical"] == r["frames_decoded"] == 2 and max(r["frame_bytes"]) < 100
        assert server.poll() is None  # still serving


def test_link_fuzz_against_the_ecp5_soc(tmp_path):
    """CI's share of the link fuzz of every kind against the ECP5 SoC, which checks every command as
    the reference device does (docs/PROTOCOL.md, conformance): out-of-range fields, nonsense
    programs, commands out of order, and a valid session after each sequence, golden byte for byte.
    docs/RESULTS.md has the long runs."""
    with serve_sim(tmp_path, "--board", "ulx3s-85f") as (port, server):
        p = subprocess.run([sys.executable, "-m", "edgesplit", "fuzz", "--link", "--board", "ulx3s-85f",
                            "--port", f"socket://127.0.0.1:{port}", "--count", "6", "--seed", "20", "--quiet", "0.2",
                            "--frame-timeout", "120", "--json", str(tmp_path / "fuzz.json")],
                           capture_output=True, text=True, timeout=900)
        assert p.returncode == 0, p.stdout + p.stderr
        f = json.loads((tmp_path / "fuzz.json").read_text())
        assert f["sessions_identical"] == 6 and f["problems"] == [] and f["hangs"] == 0 and f["dead"] is None
        assert len(f["items"]) == len(KINDS) and {"NOT_READY", "BAD_VALUE", "BAD_CRC"} <= set(f["naks"]), f
        assert server.poll() is None


@pytest.mark.slow
def test_rgb_example_hil_against_serve_sim(tmp_path):
    """The shipped RGB example (issue 22) end to end: its SoC simulated, colour frames over the link."""
    net = ("--network", "golden/data/networks/rgb32.json")
    with serve_sim(tmp_path, *net) as (port, _):
        r = hil(port, tmp_path, "rgb.json", *net, "--frames", "3")
    assert r["frames"] == r["frames_identical"] == r["frames_decoded"] == 3
    assert r["device"]["frame_shape"] == [3, 32, 32] and r["accuracy"] == r["golden_accuracy"]
