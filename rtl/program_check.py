"""The layer program walk before a FRAME (golden twin: :mod:`golden.program_check`, whose rules it
checks, in the same order of layers).

It reads each descriptor's words from the engine's program memory through a read port of its own
(:func:`rtl.layer_engine.program_port_members`), as the engine's sequencer does. The products
the rules need (:data:`PRODUCTS`) come from one shift-and-add multiplier, a bit of the multiplier a
cycle (no DSP: the OrangeCrab's ECP5-25F has 28 and the engine takes 20), then each comparison is
registered and their AND taken a cycle later. A layer takes ``PROGRAM_WORDS + 2 + 18 *
len(PRODUCTS) + 2`` cycles (about 240), a walk of the default 3 layers about 720, once per FRAME,
before its ACK.
"""

import operator
from functools import reduce

from amaranth import Cat, Const, Module, Mux, Signal
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from golden.layer_engine import MIN_CHUNK, drain_cycles
from golden.program_check import INPUT, NONZERO, WRITTEN

from .engine_memory import DW, PROGRAM_STRIDE, PROGRAM_WORDS
from .layer_engine import program_field

__all__ = ["ProgramCheck", "shape_layout"]


def shape_layout():
    """The last layer's output shape: ``out_channels``, ``pooled_h``, ``pooled_w``."""
    return data.StructLayout({"c": 8, "h": 8, "w": 8})


class ProgramCheck(wiring.Component):
    """Parameters
    ----------
    image : golden.layer_engine.EngineImage
        ``rows``, ``cols``, ``max_layers``, the memory sizes and the first layer's input (the frame
        loader's).

    Members
    -------
    start : In(1)
        Starts a walk (taken when not ``busy``).
    busy : Out(1)
    ok : Out(1); shape : Out(shape_layout())
        The last walk's verdict and, where ``ok``, the last layer's output shape.
    d_layer, d_word : Out; d_data : In(DW)
        The program memory's read port: the word a cycle after its address.
    """

    def __init__(self, *, image):
        self._img = image
        super().__init__({"start": In(1), "busy": Out(1), "ok": Out(1), "shape": Out(shape_layout()),
                          "d_layer": Out(range(max(2, image.max_layers))), "d_word": Out(range(PROGRAM_STRIDE)),
                          "d_data": In(DW)})

    def elaborate(self, platform):
        m = Module()
        img = self._img
        words = Signal(PROGRAM_WORDS * DW)
        f = {name: program_field(words, name) for name in set(NONZERO + INPUT + WRITTEN) | {
            "stride", "out_channels", "last", "weight_base", "param_base", "pooled", "chunk", "pad_y", "pad_x", "gap"}}
        fk = Signal(range(PROGRAM_WORDS + 2))
        dq = Signal(DW)  # the program word read, registered: the block RAM's output goes no further
        m.d.sync += dq.eq(self.d_data)
        prev = {k: Signal(len(f[k]), name=f"prev_{k}", init=img.descriptors[0][k]) for k in INPUT}
        layer = Signal.like(self.d_layer)
        m.d.comb += [self.d_layer.eq(layer), self.d_word.eq(fk)]
        checks = Signal(14)
        with m.FSM(name="check"):
            with m.State("IDLE"):
                with m.If(self.start):
                    m.d.sync += [layer.eq(0), fk.eq(0), self.busy.eq(1), self.ok.eq(0)]
                    m.d.sync += [prev[k].eq(img.descriptors[0][k]) for k in INPUT]
                    m.next = "FETCH"
            with m.State("FETCH"):  # word fk requested, word fk - 2 in dq (the RAM's output registered)
                m.d.sync += fk.eq(fk + 1)
                with m.Switch(fk):
                    for j in range(2, PROGRAM_WORDS + 2):
                        with m.Case(j):
                            m.d.sync += words[DW * (j - 2):DW * (j - 1)].eq(dq)
                with m.If(fk == PROGRAM_WORDS + 1):
                    m.next = "MUL"
            p = self._products(m, f, img)
            with m.State("CMP"):
                pooled, oc = f["pooled"], f["out_channels"]
                m.d.sync += checks.eq(Cat(
                    _all(f[k] != 0 for k in NONZERO) & ((f["stride"] == 1) | (f["stride"] == 2)),
                    _all(f[k] == prev[k] for k in INPUT),
                    # out_groups == ceil(out_channels / rows), with no subtraction; the n-tiles' channels
                    (p["og_rows"] >= oc) & (p["og_rows"] < oc + img.rows) & (oc <= p["nt_cols"]),
                    (f["taps"] == p["taps"]) & (pooled == p["pooled"]),
                    p["covered_min"] <= p["pixels_chunk"], p["pixels"] <= p["covered"], p["chunk_ok"],
                    (f["pad_y"] < f["k_y"]) & (f["pad_x"] < f["k_x"]), p["paced"],
                    f["weight_base"] + p["weight_rows"] <= img.weight_rows,
                    f["param_base"] + f["n_tiles"] <= img.param_words,
                    (p["in_words"] <= img.half) & (p["out_words"] <= img.half),
                    f["base"] + p["in_words"] <= img.act_words, f["out_base"] + p["out_words"] <= img.act_words))
                m.next = "NEXT"
            with m.State("NEXT"):
                good = checks.all()
                m.d.sync += [prev[k].eq(f[w]) for k, w in zip(INPUT, WRITTEN)]
                m.d.sync += [layer.eq(layer + 1), fk.eq(0)]
                m.next = "FETCH"
                with m.If(~good | f["last"] | (layer == img.max_layers - 1)):
                    m.d.sync += [self.busy.eq(0), self.ok.eq(good & f["last"]),
                                 self.shape.c.eq(f["out_channels"]), self.shape.h.eq(f["pooled_h"]),
                                 self.shape.w.eq(f["pooled_w"])]
                    m.next = "IDLE"
        return m

    def _products(self, m, f, img):
        """MUL: :data:`PRODUCTS` in order, each by 16 shift-and-add cycles after a load cycle and
        before a store cycle; then CMP. Returns the products' registers by name, and the pixels'
        (``pixels``, ``pixels_chunk``)."""
        widths = {"kk": 6, "taps": 12, "pooled": 16, "covered": 32, "gh": 14, "in_words": 22, "ogph": 14,
                  "out_words": 22, "nt_taps": 20, "weight_rows": 28, "og_rows": 13, "nt_cols": 15}
        p = {name: Signal(widths[name], name=f"p_{name}") for name, _, _ in PRODUCTS}
        consts = {"rows": img.rows, "cols": img.cols}

        def operand(x):
            return p[x] if x in p else Const(consts[x], 16) if x in consts else f[x]

        step = Signal(range(len(PRODUCTS)))
        n = Signal(range(18))  # 0: load, 1..16: a bit of the multiplier each, 17: store
        a, acc, b = Signal(32), Signal(32), Signal(16)
        # the pixels a chunk count covers: pooled * pool * pool by shifts and adds (pool is 1 to 3
        # where it matters), then that plus a chunk, each registered while MUL runs
        pooled = f["pooled"]
        p["pixels"], p["pixels_chunk"] = Signal(20, name="p_pixels"), Signal(21, name="p_pixels_chunk")
        # the last chunk's pixels at least MIN_CHUNK: covered + MIN_CHUNK <= pixels + chunk; the chunk
        # within the accumulator and a multiple of pool * pool (pool 3: one of a constant set, the
        # chunk being at most acc_depth)
        p["covered_min"], p["chunk_ok"] = Signal(33, name="p_covered_min"), Signal(name="p_chunk_ok")
        # results at most every pool * pool * gap cycles: as slow as the requantizers and the writer
        # need for a beat of min(cols, out_channels) channels (a constant of that, from a table)
        p["paced"], gap, oc = Signal(name="p_paced"), f["gap"], f["out_channels"]
        needs = [drain_cycles(img.rows, img.cols, c) for c in range(img.cols + 1)]
        beat, need = Signal(range(img.cols + 1)), Signal(range(max(needs) + 1))
        chunk, nine = f["chunk"], Signal()
        with m.State("MUL"):
            m.d.sync += [p["pixels"].eq(Mux(f["pool"] == 3, (pooled << 3) + pooled,
                                            Mux(f["pool"] == 2, pooled << 2, pooled))),
                         p["pixels_chunk"].eq(p["pixels"] + f["chunk"]), p["covered_min"].eq(p["covered"] + MIN_CHUNK),
                         beat.eq(Mux(oc < img.cols, oc, img.cols)),
                         p["paced"].eq(Mux(f["pool"] == 3, (gap << 3) + gap, Mux(f["pool"] == 2, gap << 2, gap))
                                       >= need),
                         p["chunk_ok"].eq((chunk <= img.acc_depth)
                                          & Mux(f["pool"] == 3, nine, Mux(f["pool"] == 2, chunk[:2] == 0, 1)))]
            with m.Switch(beat):
                for c, cycles in enumerate(needs):
                    with m.Case(c):
                        m.d.sync += need.eq(cycles)
            low = chunk[:max(1, img.acc_depth.bit_length())]
            with m.Switch(low):
                with m.Case(*range(0, 1 << len(low), 9)):
                    m.d.sync += nine.eq(1)
                with m.Default():
                    m.d.sync += nine.eq(0)
            m.d.sync += n.eq(n + 1)
            with m.If(n == 0):
                m.d.sync += acc.eq(0)
                with m.Switch(step):
                    for i, (_, x, y) in enumerate(PRODUCTS):
                        with m.Case(i):
                            m.d.sync += [a.eq(operand(x)), b.eq(operand(y))]
            with m.Elif(n < 17):
                m.d.sync += [a.eq(a << 1), b.eq(b >> 1)]
                with m.If(b[0]):
                    m.d.sync += acc.eq(acc + a)
            with m.Else():
                m.d.sync += [n.eq(0), step.eq(step + 1)]
                with m.Switch(step):
                    for i, (name, _, _) in enumerate(PRODUCTS):
                        with m.Case(i):
                            m.d.sync += p[name].eq(acc)
                with m.If(step == len(PRODUCTS) - 1):
                    m.d.sync += step.eq(0)
                    m.next = "CMP"
        return p


PRODUCTS = (("kk", "k_y", "k_x"), ("taps", "kk", "groups"), ("pooled", "pooled_h", "pooled_w"),
            ("covered", "n_chunks", "chunk"), ("gh", "groups", "height"), ("in_words", "gh", "width"),
            ("ogph", "out_groups", "pooled_h"), ("out_words", "ogph", "pooled_w"), ("nt_taps", "n_tiles", "taps"),
            ("weight_rows", "nt_taps", "rows"), ("og_rows", "out_groups", "rows"), ("nt_cols", "n_tiles", "cols"))
"""The products the rules compare, ``(name, a, b)``: ``name = a * b``, in order (an operand names a
descriptor field, an earlier product, or the array's ``rows`` or ``cols``)."""


def _all(conditions):
    return reduce(operator.and_, conditions)
