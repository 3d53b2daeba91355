"""A requantizer without a DSP: the product a multiplier nibble a cycle (golden twin:
:mod:`golden.serial_requant`)."""

from amaranth import Cat, Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from golden.requant import MULT_BITS
from golden.serial_requant import STEPS

from ._params import is_int, require

__all__ = ["SerialRequant"]


class SerialRequant(wiring.Component):
    """``y = clamp((acc * mult + 2**(shift-1)) >> shift, 0, 255)`` in :data:`STEPS` cycles a value,
    in fabric: the iCE40UP5K's eight SB_MAC16 are the array's, so its requantizer has none.

    The same ports as :class:`rtl.requant.Requant`, so :class:`rtl.requant_stage.RequantStage`
    takes either. An input is read in place over its four cycles and taken (``ready``) in the last:
    no copy of it is registered. Two stages: the nibble's partial product ``v * m[4k:4k+4]``
    (registered), then its sum into the running product, whose low nibble is shifted out, so the
    adder stays ``acc_width + 3`` bits wide. After a value's last step its byte is formed from the
    product in three registered steps of the shift (16, 4, then 1 bit at a time, each keeping only
    the bits the byte can still need and whether a higher one is set), while the next value's
    steps run.
    Throughput a value every four cycles; ``o`` back-pressured stalls the whole unit.
    """

    def __init__(self, *, acc_width=32):
        require(self, is_int(acc_width, 2, 48), f"acc_width must be an integer between 2 and 48, not {acc_width!r}")
        self._w = acc_width
        layout = data.StructLayout({"acc": signed(acc_width), "mult": unsigned(MULT_BITS), "shift": unsigned(6)})
        super().__init__({"i": In(stream.Signature(layout)), "o": Out(stream.Signature(unsigned(8)))})

    acc_width = property(lambda self: self._w)
    latency = STEPS + 4

    def elaborate(self, platform):
        m = Module()
        W = self._w
        en = Signal()
        m.d.comb += en.eq(~self.o.valid | self.o.ready)
        acc, mult = self.i.payload.acc, self.i.payload.mult
        v = Signal(W - 1)  # the sum if positive, else 0: requantizes to 0 either way (mult >= 0)
        m.d.comb += v.eq(Mux(acc[-1], 0, acc[:W - 1]))

        # stage 1: the partial product of nibble k, registered with its step's flags
        k = Signal(range(STEPS))
        nib = Signal(4)
        m.d.comb += nib.eq(mult.word_select(k, 4))
        part = Signal(W + 3)
        first1, last1, v1 = Signal(), Signal(), Signal()
        shift1 = Signal(6)
        m.d.comb += self.i.ready.eq(en & (k == STEPS - 1))
        with m.If(en):
            m.d.sync += [part.eq(Mux(nib[0], v, 0) + Mux(nib[1], v << 1, 0) + Mux(nib[2], v << 2, 0)
                                 + Mux(nib[3], v << 3, 0)),
                         v1.eq(self.i.valid), first1.eq(k == 0), last1.eq(k == STEPS - 1)]
            with m.If(self.i.valid):
                m.d.sync += k.eq(k + 1)
            with m.If(self.i.valid & (k == STEPS - 1)):
                m.d.sync += shift1.eq(self.i.payload.shift - 1)

        # stage 2: the running product P and the kept low nibbles L
        p = Signal(W + 3)
        low = Signal(4 * STEPS)
        s = Signal(W + 3)
        done = Signal()
        m.d.comb += s.eq(Mux(first1, 0, p) + part)
        with m.If(en):
            m.d.sync += done.eq(v1 & last1)
            with m.If(v1):
                m.d.sync += [p.eq(s >> 4), low.eq(Cat(low[4:], s[:4]))]

        # the byte: R = (P * 2**16 + L) >> (shift - 1), rounded half up and clamped; the shift in
        # three registered steps (16, 4 and 1 bits at a time), each keeping only the bits the
        # byte can still need and whether any bit above them is set (then R > 510: 255). The three
        # steps read the shift where stage 1 holds it: the next value's shift replaces it only as
        # that value is taken, four cycles after this one was, the cycle of the last step
        q = Cat(low, p)
        v_a, ovf_a, q_a = Signal(), Signal(), Signal(26)
        v_b, ovf_b, q_b = Signal(), Signal(), Signal(14)
        with m.If(en):
            m.d.sync += [v_a.eq(done), v_b.eq(v_a), self.o.valid.eq(v_b)]
            with m.If(done):
                coarse = (q >> (shift1[4:] * 16))
                m.d.sync += [q_a.eq(coarse[:26]), ovf_a.eq(coarse[26:] != 0)]
            with m.If(v_a):
                mid = q_a >> (shift1[2:4] * 4)
                m.d.sync += [q_b.eq(mid[:14]), ovf_b.eq(ovf_a | (mid[14:] != 0))]
            with m.If(v_b):
                r = q_b >> shift1[:2]
                m.d.sync += self.o.payload.eq(Mux(ovf_b | (r > 510), 255, (r[:9] + 1) >> 1))
        return m
