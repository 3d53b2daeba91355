"""cocotb testbench of the edge SoC Verilog at its UART pins: plays a scripted link session and
records every reply; sim/soc.py compares them with the reference device's.

Environment: SESSION (JSON: divisor, timeout, steps with the bytes to send, whether the line then
stays idle past the timeout, and the expected reply bytes; optionally "pins": the names of the
clock, rx, tx and reset ports, reset null where the design resets itself, as a synthesized board
top does), RESULT_JSON.
"""

import json
import os
from pathlib import Path

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge, ReadOnly, RisingEdge, Timer


PINS = {"clk": "clk", "rx": "rx", "tx": "tx", "rst": "rst"}
PERIOD_NS = 10  # the clock start_soc drives


def cycles(n):
    """``n`` clock periods as one simulator timer. ``ClockCycles`` wakes Python on every edge, which
    made the simulated device run at the speed of Python; a timer lets the simulator run the cycles
    itself. Started on a clock edge, it ends on one of the same kind."""
    return Timer(n * PERIOD_NS, unit="ns")


class Line:
    def __init__(self, dut, divisor, pins=PINS):
        self.div = divisor
        self.clk, self.rx, self.tx = (getattr(dut, pins[p]) for p in ("clk", "rx", "tx"))
        self.received = bytearray()

    async def send(self, data):
        await FallingEdge(self.clk)  # rx changes half a period from the edges that sample it
        for b in data:
            for bit in [0] + [(b >> i) & 1 for i in range(8)] + [1]:
                self.rx.value = bit
                await cycles(self.div)

    async def monitor(self):
        div = self.div
        while True:
            await FallingEdge(self.tx)
            await cycles(div + div // 2)
            b = 0
            for i in range(8):
                await ReadOnly()
                b |= int(self.tx.value) << i
                await cycles(div)
            await ReadOnly()
            if int(self.tx.value):
                self.received.append(b)
            await RisingEdge(self.clk)


async def clock_and_reset(clk, rst=None):
    """Start ``clk`` and hold ``rst`` high for 5 cycles; a design without a reset pin (``rst``
    ``None``) gets 40 cycles to reset itself."""
    cocotb.start_soon(Clock(clk, PERIOD_NS, unit="ns").start())
    if rst is not None:
        rst.value = 1
    await ClockCycles(clk, 5 if rst is not None else 40)
    if rst is not None:
        rst.value = 0


async def start_soc(dut, divisor, pins=PINS):
    """Clock and reset the SoC; returns its :class:`Line`, already decoding ``tx``."""
    getattr(dut, pins["rx"]).value = 1
    await clock_and_reset(getattr(dut, pins["clk"]), getattr(dut, pins["rst"]) if pins["rst"] else None)
    line = Line(dut, divisor, pins)
    cocotb.start_soon(line.monitor())
    return line


@cocotb.test()
async def replies_identical(dut):
    setup = json.loads(Path(os.environ["SESSION"]).read_text())
    div, timeout = setup["divisor"], setup["timeout"]
    pins = setup.get("pins", PINS)
    line = await start_soc(dut, div, pins)
    clk = line.clk
    await ClockCycles(clk, 20)
    results = []
    for step in setup["steps"]:
        want = bytes.fromhex(step["want"])
        start = len(line.received)
        await line.send(bytes.fromhex(step["send"]))
        if step["idle"]:
            await cycles(2 * timeout)
        waited = 0
        # wait for the expected reply length, then a little longer for anything extra
        while len(line.received) - start < len(want) and waited < 2_000_000:
            await cycles(50 * div)
            waited += 50 * div
        await cycles(30 * div)
        got = bytes(line.received[start:])
        results.append({"name": step["name"], "got": got.hex(), "cycle": int(cocotb.utils.get_sim_time("ns") // 10)})
        dut._log.info(f"{step['name']}: {len(got)} reply bytes ({len(want)} expected) at cycle {results[-1]['cycle']}")
    # the comparison with the reference device is sim.soc's (the layer counters are measured here
    # and predicted there)
    Path(os.environ["RESULT_JSON"]).write_text(json.dumps({"steps": results, "cycles": results[-1]["cycle"]}))
