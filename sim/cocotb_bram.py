"""cocotb testbench of a single-port-halves RegisteredRAM as the iCE40UP5K's bitstream has it (its
SB_SPRAM256KA, Yosys's model): random writes to one half while the other is read, phase after
phase, the spare words past ``depth`` included, each word read back against a model.

Environment: WIDTH, DEPTH, SPARE, PHASES, SEED.
"""

import os

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge, ReadOnly, RisingEdge


@cocotb.test()
async def halves_read_back(dut):
    width, depth, spare = (int(os.environ[k]) for k in ("WIDTH", "DEPTH", "SPARE"))
    rng = np.random.default_rng(int(os.environ["SEED"]))
    lanes, half = width // 8, depth // 2
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    for name in ("w_en", "r_en", "w_addr", "r_addr", "w_data"):
        getattr(dut, name).value = 0
    dut.q_en.value = 1  # q takes the word last read, every cycle
    dut.rst.value = 1
    await ClockCycles(dut.clk, 3)
    dut.rst.value = 0
    await FallingEdge(dut.clk)
    model = {}
    spans = [(0, half), (half, depth + spare)]  # a half's words (the second's spare ones with it)
    checked = 0
    for phase in range(int(os.environ["PHASES"])):
        wh = phase % 2
        readable = [a for a in model if spans[1 - wh][0] <= a < spans[1 - wh][1]]
        last_read = None
        for _ in range(40):
            # a random word, or one at an edge: a half's first and last, the spare words' first
            # (each the same low bits as another word of its half)
            edges = [w for w in (0, 1, half - 1, half, half + 1, depth - 1, depth, depth + 1, depth + spare - 1)
                     if spans[wh][0] <= w < spans[wh][1]]
            a = int(rng.integers(*spans[wh])) if rng.random() < 0.5 else int(rng.choice(edges))
            # a word's first write whole (the model's bytes are undefined until written)
            mask = int(rng.integers(0, 1 << lanes)) if a in model else (1 << lanes) - 1
            data = int.from_bytes(rng.integers(0, 256, lanes).astype(np.uint8).tobytes(), "little")
            dut.w_addr.value, dut.w_data.value, dut.w_en.value = a, data, mask
            old = model.get(a, 0)
            model[a] = sum(((data if mask >> k & 1 else old) >> (8 * k) & 0xFF) << (8 * k) for k in range(lanes))
            read = int(rng.choice(readable)) if readable and rng.random() < 0.8 else None
            dut.r_addr.value, dut.r_en.value = (read, 1) if read is not None else (0, 0)
            await RisingEdge(dut.clk)
            await ReadOnly()
            if last_read is not None:  # read at the edge before: on q since this one
                got = int(dut.q.value)
                assert got == model[last_read], f"phase {phase}: word {last_read}: {got:x}, not {model[last_read]:x}"
                checked += 1
            last_read = read if read is not None else last_read
            await FallingEdge(dut.clk)
        dut.w_en.value = dut.r_en.value = 0
        await ClockCycles(dut.clk, 3)
        await FallingEdge(dut.clk)
    assert checked > 100, checked
