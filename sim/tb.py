"""Shared cocotb testbench plumbing for the generated Verilog: clock and reset, a cycle counter,
always-ready table writes, a stream sender with random idle cycles, and a receiver of frame bytes
(``byte_layout`` payloads) with random backpressure; and the layer cycle counts of a device.

Port names follow Amaranth's flattening (``i__valid``, ``i__payload``, ``o__ready``).
"""

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, ReadOnly, RisingEdge

from rtl.layer_engine import counts_of_words


class StreamTB:
    """``inputs``: the ``valid`` ports to hold low in reset; ``rng`` with ``idle``/``stall``
    probabilities drives the gaps and the backpressure."""

    def __init__(self, dut, rng, idle, stall, inputs):
        self.dut, self.rng, self.idle, self.stall = dut, rng, idle, stall
        self.inputs = inputs
        self.cycle = 0

    async def start(self):
        dut = self.dut
        cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
        dut.rst.value = 1
        for name in self.inputs:
            getattr(dut, name).value = 0
        await ClockCycles(dut.clk, 3)
        dut.rst.value = 0
        cocotb.start_soon(self._count())

    async def _count(self):
        while True:
            await RisingEdge(self.dut.clk)
            self.cycle += 1

    async def write(self, port, payloads):
        """Writes to an always-ready port (table RAMs): one a cycle."""
        valid, payload = getattr(self.dut, f"{port}__valid"), getattr(self.dut, f"{port}__payload")
        for p in payloads:
            payload.value = p
            valid.value = 1
            await RisingEdge(self.dut.clk)
        valid.value = 0

    async def send(self, port, values, sleep=False):
        """Send ``values`` on stream ``port`` with random idle cycles; returns the cycles of the
        first and the last handshake. With ``sleep`` the sender waits for ``ready`` to rise instead
        of polling every cycle (for a consumer that is busy for long stretches)."""
        dut = self.dut
        valid, payload, ready = (getattr(dut, f"{port}__{n}") for n in ("valid", "payload", "ready"))
        first = last = None
        for v in values:
            while self.idle and self.rng.random() < self.idle:
                valid.value = 0
                await RisingEdge(dut.clk)
            payload.value = int(v)
            valid.value = 1
            while True:
                await ReadOnly()
                if int(ready.value):
                    last = self.cycle
                    first = last if first is None else first
                    await RisingEdge(dut.clk)
                    break
                if sleep:
                    await RisingEdge(ready)
                else:
                    await RisingEdge(dut.clk)
        valid.value = 0
        return first, last

    async def receive_frame(self, port="o"):
        """Bytes of one frame from a ``byte_layout`` stream (until ``last``) and the cycle of the
        last byte. Sleeps through stretches without ``valid``."""
        dut = self.dut
        valid_p, payload_p, ready_p = (getattr(dut, f"{port}__{n}") for n in ("valid", "payload", "ready"))
        out = bytearray()
        while True:
            ready = not (self.stall and self.rng.random() < self.stall)
            ready_p.value = int(ready)
            await ReadOnly()
            valid = valid_p.value
            if not valid.is_resolvable:
                raise AssertionError(f"X/Z on {port}__valid")
            if ready and int(valid):
                v = payload_p.value
                if not v.is_resolvable:
                    raise AssertionError(f"X/Z on {port}__payload")
                v = v.to_unsigned()
                out.append(v & 0xFF)
                if (v >> 9) & 1:  # last
                    cycle = self.cycle
                    await RisingEdge(dut.clk)
                    ready_p.value = 0
                    return bytes(out), cycle
                await RisingEdge(dut.clk)
            elif ready:
                await RisingEdge(valid_p)
            else:
                await RisingEdge(dut.clk)


async def layer_cycles(dut, layers):
    """The per-layer cycle counts of the last frame of an engine or edge device at the top of a
    cocotb simulation: its ``cycles`` port (``layers`` 32-bit words), or read from its block RAM
    through ``cycles_r`` and ``cycles_q`` (two words a layer, the high half first;
    :func:`rtl.layer_engine.count_ram_members`), two clock cycles a word."""
    if not hasattr(dut, "cycles_q"):
        v = dut.cycles.value.to_unsigned()
        return [(v >> (32 * i)) & 0xFFFFFFFF for i in range(layers)]
    words = []
    for a in range(2 * layers):
        dut.cycles_r.value = a
        await RisingEdge(dut.clk)  # the RAM takes the address
        await RisingEdge(dut.clk)  # its word is on cycles_q
        words.append(dut.cycles_q.value.to_unsigned())
    return counts_of_words(words)
