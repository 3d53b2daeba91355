"""Feature quantizer: uint8 split features -> n-bit levels (golden twin: :mod:`golden.quantizer`)."""

from amaranth import Module, Mux, Signal, unsigned
from amaranth.lib import data, memory, stream, wiring
from amaranth.lib.wiring import In, Out

from golden.quantizer import UNIFORM_SHIFT

from ._dsp import registered_product

__all__ = ["Quantizer", "element_layout", "settings_layout"]

MULT_WIDTH = UNIFORM_SHIFT + 8  # ceil(255 * 2**18 / 1) fits 26 bits


def element_layout():
    return data.StructLayout({"data": unsigned(8), "first": 1, "last": 1})


def settings_layout():
    return data.StructLayout({"ecsq": 1, "clip": unsigned(8), "mult": unsigned(MULT_WIDTH)})


class Quantizer(wiring.Component):
    """Quantizes one feature element per cycle, in one of two modes set between frames.

    - uniform: ``q = (min(x, clip) * mult + 2**17) >> 18``, ``mult`` computed by the host as
      :func:`golden.quantizer.uniform_multiplier` (exactly round half up of ``x'(2**bits-1)/clip``);
    - ecsq: ``q = table[min(x, clip)]``, a 256-entry table the host fills from the thresholds
      (:func:`golden.quantizer.level_table`) through ``table_w``.

    Members
    -------
    settings : In(settings_layout())
        Sampled with the ``first`` element of every frame; hold them while a frame passes.
    table_w : In(stream.Signature(StructLayout({"addr": unsigned(8), "level": unsigned(8)})))
        Table writes, always accepted; write between frames.
    i : In(stream.Signature(element_layout()))
    o : Out(stream.Signature(element_layout()))
        The level in ``data``; ``first``/``last`` passed through.

    Throughput one element per cycle, latency 3 cycles (clip, multiply or table read, round);
    a back-pressured ``o`` stalls it.
    """

    def __init__(self):
        super().__init__({
            "settings": In(settings_layout()),
            "table_w": In(stream.Signature(data.StructLayout({"addr": unsigned(8), "level": unsigned(8)}))),
            "i": In(stream.Signature(element_layout())),
            "o": Out(stream.Signature(element_layout())),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.table = table = memory.Memory(shape=unsigned(8), depth=256, init=[])
        tw = table.write_port()
        tr = table.read_port()
        m.d.comb += [tw.addr.eq(self.table_w.payload.addr), tw.data.eq(self.table_w.payload.level),
                     tw.en.eq(self.table_w.valid), self.table_w.ready.eq(1)]

        en = Signal()
        m.d.comb += [en.eq(~self.o.valid | self.o.ready), self.i.ready.eq(en)]
        take = Signal()
        m.d.comb += take.eq(self.i.valid & en)

        held = Signal(settings_layout())
        current = Signal(settings_layout())  # the settings this element uses
        m.d.comb += current.eq(Mux(self.i.payload.first, self.settings, held))
        with m.If(take & self.i.payload.first):
            m.d.sync += held.eq(self.settings)

        flags = data.StructLayout({"valid": 1, "ecsq": 1, "first": 1, "last": 1})
        # stage 0: clip, with the settings the element uses
        clipped = Signal(8)
        mult0 = Signal(MULT_WIDTH)
        s0 = Signal(flags)
        with m.If(en):
            m.d.sync += [clipped.eq(Mux(self.i.payload.data > current.clip, current.clip, self.i.payload.data)),
                         mult0.eq(current.mult), s0.valid.eq(take), s0.ecsq.eq(current.ecsq),
                         s0.first.eq(self.i.payload.first), s0.last.eq(self.i.payload.last)]
        m.d.comb += [tr.addr.eq(clipped), tr.en.eq(en)]

        # stage 1: product (uniform) and table read (ecsq) in parallel; the product as two 8x13
        # partial products, each in a DSP with its own output register where the FPGA has one
        half = MULT_WIDTH // 2
        p_lo = Signal(8 + half)
        # only the bits that reach the level (product bits up to UNIFORM_SHIFT + 7): a DSP output
        # nothing reads would trip Yosys 0.70's ABC9 (see rtl/_dsp.py)
        p_hi = Signal(UNIFORM_SHIFT + 8 - half)
        registered_product(m, platform, clipped, mult0[:half], p_lo, en, name="mul_lo")
        registered_product(m, platform, clipped, mult0[half:], p_hi, en, name="mul_hi")
        s1 = Signal(flags)
        with m.If(en):
            m.d.sync += s1.eq(s0)
        # stage 2: sum the partial products, round, shift, or take the table's level
        with m.If(en):
            prod = p_lo + (p_hi << half)
            uniform = (prod + (1 << (UNIFORM_SHIFT - 1))) >> UNIFORM_SHIFT
            m.d.sync += [self.o.valid.eq(s1.valid), self.o.payload.first.eq(s1.first),
                         self.o.payload.last.eq(s1.last),
                         self.o.payload.data.eq(Mux(s1.ecsq, tr.data, uniform[:8]))]
        return m
