"""hil against serve-sim: the host program drives the simulated SoC (Verilator) through a TCP socket
that carries the UART byte stream, with the same code path it uses for a board's serial port."""

import json
import socket
import subprocess
import sys
import time


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_hil_against_serve_sim(tmp_path):
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "edgesplit", "serve-sim", "--port", str(port),
                               "--build-dir", str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True)
    try:
        deadline = time.time() + 300
        line = ""
        while time.time() < deadline and "socket://" not in line:
            line = server.stdout.readline()
            assert line or server.poll() is None, "serve-sim exited before listening"
        assert "socket://127.0.0.1" in line
        p = subprocess.run([sys.executable, "-m", "edgesplit", "hil", "--port", f"socket://127.0.0.1:{port}",
                            "--frames", "2", "--timeout", "120", "--json", str(tmp_path / "h.json")],
                           capture_output=True, text=True, timeout=600)
        assert p.returncode == 0, p.stdout + p.stderr
        r = json.loads((tmp_path / "h.json").read_text())
        assert r["frames"] == r["frames_identical"] == r["frames_decoded"] == 2
        # the counters are the RTL's own cycle counters: close to the schedule model's prediction
        from golden import layer_engine
        from golden.config import Config

        model = layer_engine.schedule_for(Config())["cycles"]
        measured = sum(r["device_counters"]["layer_cycles"])
        assert r["device_counters"]["frames"] == 2 and abs(measured - model) < 0.03 * model
        server.wait(timeout=120)  # serves one connection, then ends
        assert server.returncode == 0
    finally:
        if server.poll() is None:
            server.kill()
