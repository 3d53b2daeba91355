"""cocotb testbench of the generated SystolicArray Verilog against golden.systolic.

Environment: ROWS, COLS, ACC (accumulator width), VECTORS, SEED. Ports follow Amaranth's flattening: ``x__payload`` holds the
``rows`` activations (8 bits each, element 0 in the low bits) then the bank bit; ``w__payload`` the
``cols`` weights, the row index, the bank bit; ``y__payload`` ``cols`` signed accumulators.
"""

import os

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, ReadOnly, RisingEdge

from golden.systolic import systolic


def pack(values, width):
    out = 0
    for i, v in enumerate(values):
        out |= (int(v) & ((1 << width) - 1)) << (i * width)
    return out


def unpack_signed(value, count, width):
    out = []
    for i in range(count):
        v = (value >> (i * width)) & ((1 << width) - 1)
        out.append(v - (1 << width) if v >> (width - 1) else v)
    return out


class TB:
    """Clock, reset, a stream driver for x and w and a monitor with backpressure for y."""

    def __init__(self, dut, rows, cols, rng):
        self.dut, self.rows, self.cols, self.rng = dut, rows, cols, rng
        self.acc = int(os.environ["ACC"])
        self.row_bits = max(1, (rows - 1).bit_length())

    async def start(self):
        cocotb.start_soon(Clock(self.dut.clk, 10, unit="ns").start())
        self.dut.rst.value = 1
        for name in ("x__valid", "w__valid", "y__ready"):
            getattr(self.dut, name).value = 0
        await ClockCycles(self.dut.clk, 3)
        self.dut.rst.value = 0

    async def put(self, port, payloads, idle=0.0):
        valid, payload, ready = (getattr(self.dut, f"{port}__{n}") for n in ("valid", "payload", "ready"))
        for p in payloads:
            while self.rng.random() < idle:
                valid.value = 0
                await RisingEdge(self.dut.clk)
            payload.value = p
            valid.value = 1
            while True:
                await ReadOnly()
                fire = int(ready.value)
                await RisingEdge(self.dut.clk)
                if fire:
                    break
        valid.value = 0

    async def load(self, bank, weights):
        beats = [pack(weights[r], 8) | (r << (8 * self.cols)) | (bank << (8 * self.cols + self.row_bits))
                 for r in range(self.rows)]
        await self.put("w", beats)

    async def get(self, count, stall=0.0):
        out = []
        while len(out) < count:
            self.dut.y__ready.value = int(self.rng.random() >= stall)
            await ReadOnly()
            if int(self.dut.y__ready.value) and int(self.dut.y__valid.value):
                out.append(unpack_signed(self.dut.y__payload.value.to_unsigned(), self.cols, self.acc))
            await RisingEdge(self.dut.clk)
        self.dut.y__ready.value = 0
        return np.array(out, np.int64)


@cocotb.test()
async def random_matrices_with_backpressure(dut):
    rows, cols = int(os.environ["ROWS"]), int(os.environ["COLS"])
    n = int(os.environ.get("VECTORS", "200"))
    rng = np.random.default_rng(int(os.environ.get("SEED", "1")))
    tb = TB(dut, rows, cols, rng)
    await tb.start()
    banks = rng.integers(-128, 128, (2, rows, cols))
    banks[0, 0, 0], banks[1, -1, -1] = -128, 127
    x = rng.integers(0, 256, (n, rows))
    x[0] = 255
    sel = (np.arange(n) >= n // 2).astype(int)
    await tb.load(0, banks[0])
    await tb.load(1, banks[1])
    beats = [pack(x[m], 8) | (int(sel[m]) << (8 * rows)) for m in range(n)]
    cocotb.start_soon(tb.put("x", beats, idle=0.2))
    got = await tb.get(n, stall=0.2)
    want = systolic(x, banks, sel)
    assert np.array_equal(got, want), f"rtl\n{got}\ngolden\n{want}"
