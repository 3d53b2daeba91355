"""Requantization pipeline: accumulator -> uint8 activation (golden twin: :mod:`golden.requant`)."""

from amaranth import Module, Signal, signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from golden.requant import MULT_BITS

from ._dsp import registered_product
from ._params import is_int, require

__all__ = ["Requant"]


class Requant(wiring.Component):
    """``y = clamp((acc * mult + 2**(shift-1)) >> shift, 0, 255)``, exactly as
    :func:`golden.requant.requantize` (round half up, ReLU and saturation in the clamp).

    Parameters
    ----------
    acc_width : int
        Width of the signed accumulator input.

    Members
    -------
    i : In(stream.Signature(StructLayout({"acc": signed(acc_width), "mult": unsigned(16),
        "shift": unsigned(6)})))
        ``mult`` and ``shift`` travel with each value (per output channel); ``shift`` is 1 to 62.
    o : Out(stream.Signature(unsigned(8)))

    Throughput one value per cycle, latency 4 cycles (multiply, add the partial products, shift,
    round and clamp). A back-pressured ``o`` stalls the pipeline.
    """

    def __init__(self, *, acc_width=32):
        require(self, is_int(acc_width, 2, 48), f"acc_width must be an integer between 2 and 48, not {acc_width!r}")
        self._acc_width = acc_width
        layout = data.StructLayout({"acc": signed(acc_width), "mult": unsigned(MULT_BITS),
                                    "shift": unsigned(6)})
        super().__init__({"i": In(stream.Signature(layout)), "o": Out(stream.Signature(unsigned(8)))})

    acc_width = property(lambda self: self._acc_width)
    latency = 4

    def elaborate(self, platform):
        m = Module()
        en = Signal()
        m.d.comb += [en.eq(~self.o.valid | self.o.ready), self.i.ready.eq(en)]

        # the product, registered: in one DSP (its own output register where the FPGA has one) for
        # accumulators of up to 17 bits, as two 16-bit-wide partial products summed in the round
        # stage up to 34 bits, in fabric beyond
        acc, mult = self.i.payload.acc, self.i.payload.mult
        W = self._acc_width
        if W <= 17:
            prod = Signal(signed(W + MULT_BITS))
            registered_product(m, platform, acc, mult, prod, en)
        elif W <= 34:
            p_lo = Signal(unsigned(16 + MULT_BITS))
            p_hi = Signal(signed(W - 16 + MULT_BITS))
            registered_product(m, platform, acc[:16], mult, p_lo, en, name="mul_lo")
            registered_product(m, platform, acc[16:].as_signed(), mult, p_hi, en, name="mul_hi")
            prod = p_lo + (p_hi << 16)
        else:
            prod = Signal(signed(W + MULT_BITS + 1))
            with m.If(en):
                m.d.sync += prod.eq(acc * mult)
        # round half up and shift as one shift and a 9-bit increment:
        # (p + 2**(s-1)) >> s == ((p >> (s-1)) + 1) >> 1 for every integer p (floor division), so
        # no rounding constant is made or added; the clamp reads the sign and whether
        # (p >> (s-1)) > 510 (255 after the increment and shift)
        tw = W + MULT_BITS + 1
        shift1 = Signal(6)  # shift - 1
        v1 = Signal()
        total = Signal(signed(tw))
        shift2 = Signal(6)
        v2 = Signal()
        t = Signal(signed(tw))
        v3 = Signal()
        with m.If(en):
            m.d.sync += [
                shift1.eq(self.i.payload.shift - 1),
                v1.eq(self.i.valid),
                total.eq(prod),
                shift2.eq(shift1),
                v2.eq(v1),
                t.eq(total >> shift2),
                v3.eq(v2),
                self.o.valid.eq(v3),
            ]
            with m.If(t < 0):
                m.d.sync += self.o.payload.eq(0)
            with m.Elif(t > 510):
                m.d.sync += self.o.payload.eq(255)
            with m.Else():
                m.d.sync += self.o.payload.eq((t[:9] + 1) >> 1)
        return m
