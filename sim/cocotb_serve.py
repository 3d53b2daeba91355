"""cocotb: the edge SoC Verilog behind a TCP socket on 127.0.0.1 (``edgesplit serve-sim``).

Bytes from the socket go onto the SoC's ``rx`` pin as 8N1 frames (DIVISOR cycles per bit); bytes the
SoC sends on ``tx`` go back to the socket. So the socket carries exactly the UART byte stream, and a
host reaches the simulated device with ``socket://127.0.0.1:PORT``, as it reaches a board with its
serial port. It serves one connection after another until the simulator is stopped, as a powered
board does: the SoC's state (loads, settings, counters) persists. When a connection closes, the
line goes idle until the device has been quiet for QUIET cycles (past the receiver's timeout, and
past a frame still being computed), and what it sends meanwhile is lost, as on a board with no
host listening: a packet cut off by the close ends in the receiver's timeout and resync.
Environment: PORT, DIVISOR, QUIET, READY_FILE (written once listening).
"""

import os
import socket
import time
from pathlib import Path

import cocotb
from sim.cocotb_soc import cycles, start_soc

CHUNK = 64  # line bytes sent between looks at the socket


def _accept(srv):
    """The next connection; real time passes while nobody connects, simulated time does not."""
    while True:
        try:
            conn, _ = srv.accept()
        except BlockingIOError:
            time.sleep(0.01)
            continue
        conn.setblocking(False)
        return conn


async def _session(dut, line, conn, div):
    """Bytes both ways until the client closes the connection."""
    queue, out, sent, open_ = bytearray(), bytearray(), len(line.received), True
    while open_ or queue:
        if open_:
            try:
                data = conn.recv(65536)
                open_ = bool(data)  # b"": the client closed the connection
            except BlockingIOError:
                data = b""  # nothing arrived yet
            except OSError:
                data, open_ = b"", False
            queue += data
        if queue:  # what the client wrote before it closed still goes out, as a port flushes
            chunk, queue = bytes(queue[:CHUNK]), queue[CHUNK:]
            await line.send(chunk)
        elif open_:
            await cycles(100 * div)
        out += line.received[sent:]
        sent = len(line.received)
        if out and open_:  # what the client's socket takes now; the rest waits, as in a port's buffer
            try:
                del out[:conn.send(out)]
            except BlockingIOError:
                pass
            except OSError:
                open_ = False
    conn.close()


async def _until_quiet(dut, line, quiet):
    """Run the idle line until the device has sent nothing for ``quiet`` cycles."""
    step = max(1, quiet // 8)
    while True:
        before = len(line.received)
        for _ in range(8):
            await cycles(step)
            if len(line.received) != before:
                break
        else:
            return


@cocotb.test()
async def serve(dut):
    div, quiet = int(os.environ["DIVISOR"]), int(os.environ["QUIET"])
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", int(os.environ["PORT"])))
    srv.listen(1)
    srv.setblocking(False)
    line = await start_soc(dut, div)
    Path(os.environ["READY_FILE"]).write_text(str(srv.getsockname()[1]))
    while True:
        await _session(dut, line, _accept(srv), div)
        await _until_quiet(dut, line, quiet)
