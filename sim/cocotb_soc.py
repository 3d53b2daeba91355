"""cocotb testbench of the edge SoC Verilog at its UART pins: plays a scripted link session and
records every reply; sim/soc.py compares them with the reference device's.

Environment: SESSION (JSON: divisor, timeout, steps with the bytes to send, whether the line then
stays idle past the timeout, and the expected reply bytes), RESULT_JSON.
"""

import json
import os
from pathlib import Path

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge, ReadOnly, RisingEdge


class Line:
    def __init__(self, dut, divisor):
        self.dut, self.div = dut, divisor
        self.received = bytearray()

    async def send(self, data):
        for b in data:
            for bit in [0] + [(b >> i) & 1 for i in range(8)] + [1]:
                self.dut.rx.value = bit
                await ClockCycles(self.dut.clk, self.div)

    async def monitor(self):
        dut, div = self.dut, self.div
        while True:
            await FallingEdge(dut.tx)
            await ClockCycles(dut.clk, div + div // 2)
            b = 0
            for i in range(8):
                await ReadOnly()
                b |= int(dut.tx.value) << i
                await ClockCycles(dut.clk, div)
            await ReadOnly()
            if int(dut.tx.value):
                self.received.append(b)
            await RisingEdge(dut.clk)


async def start_soc(dut, divisor):
    """Clock and reset the SoC; returns its :class:`Line`, already decoding ``tx``."""
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    dut.rst.value = 1
    dut.rx.value = 1
    await ClockCycles(dut.clk, 5)
    dut.rst.value = 0
    line = Line(dut, divisor)
    cocotb.start_soon(line.monitor())
    return line


@cocotb.test()
async def replies_identical(dut):
    setup = json.loads(Path(os.environ["SESSION"]).read_text())
    div, timeout = setup["divisor"], setup["timeout"]
    line = await start_soc(dut, div)
    await ClockCycles(dut.clk, 20)
    results = []
    for step in setup["steps"]:
        want = bytes.fromhex(step["want"])
        start = len(line.received)
        await line.send(bytes.fromhex(step["send"]))
        if step["idle"]:
            await ClockCycles(dut.clk, 2 * timeout)
        waited = 0
        # wait for the expected reply length, then a little longer for anything extra
        while len(line.received) - start < len(want) and waited < 2_000_000:
            await ClockCycles(dut.clk, 50 * div)
            waited += 50 * div
        await ClockCycles(dut.clk, 30 * div)
        got = bytes(line.received[start:])
        results.append({"name": step["name"], "got": got.hex(), "cycle": int(cocotb.utils.get_sim_time("ns") // 10)})
    # the comparison with the reference device is sim.soc's (the layer counters are measured here
    # and predicted there)
    Path(os.environ["RESULT_JSON"]).write_text(json.dumps({"steps": results, "cycles": results[-1]["cycle"]}))
