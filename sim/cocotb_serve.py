"""cocotb: the edge SoC Verilog behind a TCP socket on 127.0.0.1 (``edgesplit serve-sim``).

Bytes from the socket go onto the SoC's ``rx`` pin as 8N1 frames (DIVISOR cycles per bit); bytes the
SoC sends on ``tx`` go back to the socket. So the socket carries exactly the UART byte stream, and
a host reaches the simulated device with ``socket://127.0.0.1:PORT``, as it reaches a board with
its serial port. The UART line is Verilog around the SoC (sim/uart_line.v, the top level), so that
Python wakes once a chunk of bytes, not once a bit. It serves one connection after another until
the simulator is stopped, as a powered board does: the SoC's state (loads, settings, counters)
persists. When a connection closes, the
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
from cocotb.triggers import ClockCycles

from sim.cocotb_soc import clock_and_reset, cycles
from sim.runner import SimulationError


class Line:
    """The UART line of sim/uart_line.v, the top level around the SoC: ``send`` bytes on the SoC's
    rx, ``chunk`` at a time (its ``send_data``); ``received``, every byte the SoC has sent on tx so
    far, from a ring of ``ring`` (its ``recv_ring``)."""

    def __init__(self, dut, div):
        self.dut, self.div, self.go, self._received = dut, div, 0, bytearray()
        self.chunk, self.ring = len(dut.send_data) // 8, len(dut.recv_ring) // 8
        # cycles between looks at the ring, at most: half the ring's bytes at 10 * div cycles a byte
        self.longest_wait = min(4096, self.ring * 10 * div // 2)

    async def send(self, data):
        dut = self.dut
        for i in range(0, len(data), self.chunk):
            chunk = data[i:i + self.chunk]
            dut.send_data.value = int.from_bytes(chunk, "little")
            dut.send_count.value = len(chunk)
            self.go ^= 1
            dut.send_go.value = self.go
            await cycles(10 * self.div * len(chunk) + 2)
            while int(dut.send_busy.value):
                await cycles(self.div)
            self._collect()  # before the ring could wrap

    @property
    def received(self):
        return self._collect()

    def _collect(self):
        count = int(self.dut.recv_count.value)
        new = count - len(self._received)
        if new > self.ring:
            raise SimulationError(f"the line's ring lost {new - self.ring} of the device's bytes: looked too late")
        if new:
            ring = int(self.dut.recv_ring.value).to_bytes(self.ring, "little")
            self._received += bytes(ring[(len(self._received) + k) % self.ring] for k in range(new))
        return self._received


async def start_line(dut, div):
    """Clock and reset the SoC; returns its :class:`Line`."""
    dut.send_go.value = 0
    dut.send_count.value = 0
    dut.send_data.value = 0
    await clock_and_reset(dut.clk, dut.rst)
    await ClockCycles(dut.clk, 5)
    return Line(dut, div)


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


async def _session(line, conn):
    """Bytes both ways until the client closes the connection."""
    queue, out, sent, open_, broken = bytearray(), bytearray(), len(line.received), True, False
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
            chunk, queue = bytes(queue[:line.chunk]), queue[line.chunk:]
            await line.send(chunk)
        elif open_:
            await cycles(100 * line.div)
        out += line.received[sent:]
        sent = len(line.received)
        if out and not broken:  # what the client's socket takes now; the rest waits, as in a port's buffer
            try:
                taken = conn.send(out)
            except BlockingIOError:
                taken = 0  # its buffer is full: the bytes wait here
            except OSError:
                taken, open_, broken = 0, False, True
            del out[:taken]
    conn.close()


async def _until_quiet(line, quiet):
    """Run the idle line until the device has sent nothing for ``quiet`` cycles."""
    step, still = min(max(1, quiet // 8), line.longest_wait), 0
    while still < quiet:
        before = len(line.received)
        await cycles(step)
        still = still + step if len(line.received) == before else 0


@cocotb.test()
async def serve(dut):
    div, quiet = int(os.environ["DIVISOR"]), int(os.environ["QUIET"])
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", int(os.environ["PORT"])))
    srv.listen(1)
    srv.setblocking(False)
    line = await start_line(dut, div)
    Path(os.environ["READY_FILE"]).write_text(str(srv.getsockname()[1]))
    while True:
        await _session(line, _accept(srv))
        await _until_quiet(line, quiet)
