"""Zero run-length item generator (golden twin: :mod:`golden.rle`).

One quantized level in per cycle; at most one item beat out per level. A beat carries the item the
level completes (a pair ``(r, v)`` for a non-zero level, a LONGRUN when the 16384th counted zero
arrives) and, on the frame's last level, the end-of-block flag: the EOB item rides in the same beat, so
the coder never needs a second cycle for one input and never looks ahead.
"""

from amaranth import Const, Module, Mux, Signal, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from golden.rle import DIRECT_RUNS, LEVEL_CLASSES, LONGRUN, LONGRUN_LEN

from .quantizer import element_layout

__all__ = ["ZeroRunCoder", "item_layout", "EXTRA_WIDTH"]

RUN_WIDTH = (LONGRUN_LEN - 1).bit_length()  # 14
EXTRA_WIDTH = (RUN_WIDTH - 1) + (LEVEL_CLASSES - 1)  # 13 run + 7 level refinement bits


def item_layout():
    """``item``: ``sym``/``extra``/``nextra`` hold an item; ``eob``: the end-of-block item follows
    it (then ``item`` may be 0). ``extra`` holds ``nextra`` refinement bits, right-aligned."""
    return data.StructLayout({"item": 1, "sym": unsigned(8), "extra": unsigned(EXTRA_WIDTH),
                              "nextra": unsigned(5), "eob": 1})


def bit_length(m, value, width, name):
    """A signal equal to ``value.bit_length()`` (a priority encoder)."""
    out = Signal(range(width + 1), name=name)
    expr = 0
    for i in range(width):  # highest set bit wins: build from the bottom up
        expr = Mux(value[i], i + 1, expr)
    m.d.comb += out.eq(expr)
    return out


class ZeroRunCoder(wiring.Component):
    """Levels (``first``/``last`` framed) to run-length item beats.

    Members
    -------
    i : In(stream.Signature(element_layout()))
    o : Out(stream.Signature(item_layout()))

    Throughput one level per cycle, latency one cycle; levels that complete no item (zeros) give no
    beat. Only a back-pressured ``o`` stalls ``i``.
    """

    def __init__(self):
        super().__init__({
            "i": In(stream.Signature(element_layout())),
            "o": Out(stream.Signature(item_layout())),
        })

    def elaborate(self, platform):
        m = Module()
        en = Signal()
        m.d.comb += [en.eq(~self.o.valid | self.o.ready), self.i.ready.eq(en)]
        take = Signal()
        m.d.comb += take.eq(self.i.valid & en)

        count = Signal(RUN_WIDTH)
        run = Signal(RUN_WIDTH)  # zeros since the last item, before this level
        m.d.comb += run.eq(Mux(self.i.payload.first, 0, count))
        v = self.i.payload.data
        zero = v == 0
        longrun = zero & (run == LONGRUN_LEN - 1)

        run_len = bit_length(m, run, RUN_WIDTH, "run_len")
        lev_len = bit_length(m, v, 8, "lev_len")
        direct = run < DIRECT_RUNS
        run_class = Mux(direct, run, DIRECT_RUNS + run_len - 5)
        run_top = Signal(4)  # bit_length(run) - 1: the run's refinement bits (runs >= 16)
        lev_top = Signal(3)  # bit_length(v) - 1: the level's refinement bits (v >= 1)
        m.d.comb += [run_top.eq(run_len - 1), lev_top.eq(lev_len - 1)]
        run_ref = Signal(RUN_WIDTH - 1)
        run_bits = Signal(4)
        m.d.comb += [run_ref.eq(Mux(direct, 0, run ^ (Const(1, RUN_WIDTH) << run_top))),
                     run_bits.eq(Mux(direct, 0, run_top))]
        lev_ref = Signal(7)
        m.d.comb += lev_ref.eq(v ^ (Const(1, 8) << lev_top))
        pair_sym = Signal(8)
        m.d.comb += pair_sym.eq(run_class * LEVEL_CLASSES + lev_top)

        with m.If(take):
            m.d.sync += count.eq(Mux(zero & ~longrun & ~self.i.payload.last, run + 1, 0))
        with m.If(en):
            m.d.sync += [
                self.o.valid.eq(take & (~zero | longrun | self.i.payload.last)),
                self.o.payload.item.eq(~zero | longrun),
                self.o.payload.sym.eq(Mux(zero, LONGRUN, pair_sym)),
                self.o.payload.extra.eq(Mux(zero, 0, (run_ref << lev_top) | lev_ref)),
                self.o.payload.nextra.eq(Mux(zero, 0, run_bits + lev_top)),
                self.o.payload.eob.eq(self.i.payload.last),
            ]
        return m
