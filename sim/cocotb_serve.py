"""cocotb: the edge SoC Verilog behind a TCP socket on 127.0.0.1 (``edgesplit serve-sim``).

Bytes from the socket go onto the SoC's ``rx`` pin as 8N1 frames (DIVISOR cycles per bit); bytes the
SoC sends on ``tx`` go back to the socket. So the socket carries exactly the UART byte stream, and a
host reaches the simulated device with ``socket://127.0.0.1:PORT``, as it reaches a board with its
serial port. Serves one connection, then ends. Environment: PORT, DIVISOR, READY_FILE (written once
listening).
"""

import os
import socket
import time
from pathlib import Path

import cocotb
from cocotb.triggers import ClockCycles

from sim.cocotb_soc import start_soc


@cocotb.test()
async def serve(dut):
    div = int(os.environ["DIVISOR"])
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", int(os.environ["PORT"])))
    srv.listen(1)
    srv.setblocking(False)
    line = await start_soc(dut, div)
    Path(os.environ["READY_FILE"]).write_text(str(srv.getsockname()[1]))
    conn = None
    while conn is None:
        try:
            conn, _ = srv.accept()
        except BlockingIOError:
            time.sleep(0.01)  # nobody yet: let real time pass, not simulated time
    conn.setblocking(False)
    queue = bytearray()
    sent = 0
    open_ = True
    while open_ or queue or len(line.received) > sent:
        if open_:
            try:
                data = conn.recv(65536)
                open_ = bool(data)  # b"": the client closed the connection
            except BlockingIOError:
                data = b""  # nothing arrived yet
            except OSError:
                data, open_ = b"", False
            queue += data
        if queue:
            chunk, queue = bytes(queue[:64]), queue[64:]
            await line.send(chunk)
        else:
            await ClockCycles(dut.clk, 100 * div)
        if len(line.received) > sent:
            try:
                conn.sendall(bytes(line.received[sent:]))
            except OSError:
                open_ = False
            sent = len(line.received)
        if not open_ and not queue:
            break
    conn.close()
    srv.close()
