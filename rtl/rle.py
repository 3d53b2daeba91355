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

from ._params import require
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
    """A signal equal to ``value.bit_length()``: a priority encoder built as a balanced tree
    (logarithmic depth), the upper half deciding when it is non-zero."""
    def tree(lo, hi):  # (any bit set, bit length within value[lo:hi] counted from lo)
        if hi - lo == 1:
            return value[lo], value[lo]
        mid = (lo + hi + 1) // 2
        lo_any, lo_len = tree(lo, mid)
        hi_any, hi_len = tree(mid, hi)
        return lo_any | hi_any, Mux(hi_any, (mid - lo) + hi_len, lo_len)

    out = Signal(range(width + 1), name=name)
    m.d.comb += out.eq(tree(0, width)[1])
    return out


class ZeroRunCoder(wiring.Component):
    """Levels (``first``/``last`` framed) to run-length item beats.

    Members
    -------
    i : In(stream.Signature(element_layout()))
    o : Out(stream.Signature(item_layout()))

    Throughput one level per cycle, latency two cycles (one without ``registered``: the bit lengths
    are not registered before the symbol is formed, 33 flip-flops fewer, for the iCE40UP5K's clock);
    levels that complete no item (zeros) give no beat. Only a back-pressured ``o`` stalls ``i``.
    """

    def __init__(self, *, registered=True):
        require(self, isinstance(registered, bool), f"registered must be True or False, not {registered!r}")
        self._registered = registered
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

        # stage 1: the zero counter, and the bit lengths of the run and the level
        count = Signal(RUN_WIDTH)
        run = Signal(RUN_WIDTH)  # zeros since the last item, before this level
        m.d.comb += run.eq(Mux(self.i.payload.first, 0, count))
        v = self.i.payload.data
        zero = v == 0
        longrun = zero & (run == LONGRUN_LEN - 1)
        with m.If(take):
            m.d.sync += count.eq(Mux(zero & ~longrun & ~self.i.payload.last, run + 1, 0))
        s1 = Signal(data.StructLayout({"valid": 1, "zero": 1, "longrun": 1, "last": 1,
                                       "run": unsigned(RUN_WIDTH), "v": unsigned(8),
                                       "run_len": unsigned(4), "lev_len": unsigned(4)}))
        stage1 = [s1.valid.eq(take & (~zero | longrun | self.i.payload.last)), s1.zero.eq(zero),
                  s1.longrun.eq(longrun), s1.last.eq(self.i.payload.last), s1.run.eq(run),
                  s1.v.eq(v), s1.run_len.eq(bit_length(m, run, RUN_WIDTH, "run_len")),
                  s1.lev_len.eq(bit_length(m, v, 8, "lev_len"))]
        if self._registered:
            with m.If(en):
                m.d.sync += stage1
        else:  # the level's bit lengths and class straight into the output register
            m.d.comb += stage1

        # stage 2: symbol and refinement bits
        direct = s1.run < DIRECT_RUNS
        run_class = Mux(direct, s1.run, DIRECT_RUNS + s1.run_len - 5)
        run_top = Signal(4)  # bit_length(run) - 1: the run's refinement bits (runs >= 16)
        lev_top = Signal(3)  # bit_length(v) - 1: the level's refinement bits (v >= 1)
        m.d.comb += [run_top.eq(s1.run_len - 1), lev_top.eq(s1.lev_len - 1)]
        run_ref = Signal(RUN_WIDTH - 1)
        run_bits = Signal(4)
        m.d.comb += [run_ref.eq(Mux(direct, 0, s1.run ^ (Const(1, RUN_WIDTH) << run_top))),
                     run_bits.eq(Mux(direct, 0, run_top))]
        lev_ref = Signal(7)
        m.d.comb += lev_ref.eq(s1.v ^ (Const(1, 8) << lev_top))
        pair_sym = Signal(8)
        m.d.comb += pair_sym.eq(run_class * LEVEL_CLASSES + lev_top)
        with m.If(en):
            m.d.sync += [
                self.o.valid.eq(s1.valid),
                self.o.payload.item.eq(~s1.zero | s1.longrun),
                self.o.payload.sym.eq(Mux(s1.zero, LONGRUN, pair_sym)),
                self.o.payload.extra.eq(Mux(s1.zero, 0, (run_ref << lev_top) | lev_ref)),
                self.o.payload.nextra.eq(Mux(s1.zero, 0, run_bits + lev_top)),
                self.o.payload.eob.eq(s1.last),
            ]
        return m
