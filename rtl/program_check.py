"""The layer program walk before a FRAME (golden twin: :mod:`golden.program_check`, whose rules it
checks, in the same order of layers).

It reads each descriptor's words from the engine's program memory while the engine waits for a
frame (:func:`rtl.layer_engine.program_port_members`), as the engine's sequencer does, then checks
it in four cycles, one multiplier deep each: the zero counts, the stride, the input against the
layer before, the output channels against the groups and n-tiles, and the products (taps, pooled
pixels, chunks, the words and rows it reads and writes) in the first two, each comparison registered
in the third, their AND in the fourth. A walk of ``L`` layers takes ``L * (PROGRAM_WORDS + 6)``
cycles, once per FRAME, before its ACK.
"""

import operator
from functools import reduce

from amaranth import Cat, Module, Mux, Signal
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

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
        ``rows``, ``cols``, ``max_layers`` and the first layer's input (the frame loader's).

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
            "stride", "out_channels", "last", "weight_base", "param_base"}}
        fk = Signal(range(PROGRAM_WORDS + 2))
        dq = Signal(DW)  # the program word read, registered: the block RAM's output goes no further
        m.d.sync += dq.eq(self.d_data)
        prev = {k: Signal(len(f[k]), name=f"prev_{k}", init=img.descriptors[0][k]) for k in INPUT}
        # one multiplier deep a stage: factors registered in MUL, products in MUL2, each comparison in
        # CMP, their AND in NEXT (the ECP5's 100 MHz)
        kk, phpw, gh, ogph, nt_taps = Signal(6), Signal(16), Signal(14), Signal(14), Signal(20)
        pixels, covered, simple_ok = Signal(20), Signal(32), Signal()
        taps3, in_words, out_words, w_end, p_end = Signal(12), Signal(22), Signal(22), Signal(28), Signal(11)
        checks = Signal(11)
        layer = Signal.like(self.d_layer)
        m.d.comb += [self.d_layer.eq(layer), self.d_word.eq(fk)]
        rows, cols = img.rows, img.cols
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
            with m.State("MUL"):
                pooled, groups_out = f["pooled"], f["out_groups"]
                m.d.sync += [
                    kk.eq(f["k_y"] * f["k_x"]), phpw.eq(f["pooled_h"] * f["pooled_w"]),
                    gh.eq(f["groups"] * f["height"]), ogph.eq(f["out_groups"] * f["pooled_h"]),
                    nt_taps.eq(f["n_tiles"] * f["taps"]), covered.eq(f["n_chunks"] * f["chunk"]),
                    # pooled * pool * pool by shifts and adds (pool is 1 to 3 where it matters)
                    pixels.eq(Mux(f["pool"] == 3, (pooled << 3) + pooled, Mux(f["pool"] == 2, pooled << 2, pooled))),
                    simple_ok.eq(
                        _all(f[k] != 0 for k in NONZERO) & ((f["stride"] == 1) | (f["stride"] == 2))
                        & _all(f[k] == prev[k] for k in INPUT)
                        # out_groups == ceil(out_channels / rows), with no subtraction
                        & (groups_out * rows >= f["out_channels"]) & (groups_out * rows < f["out_channels"] + rows)
                        & (f["out_channels"] <= f["n_tiles"] * cols)),
                ]
                m.next = "MUL2"
            with m.State("MUL2"):
                m.d.sync += [taps3.eq(kk * f["groups"]), in_words.eq(gh * f["width"]),
                             out_words.eq(ogph * f["pooled_w"]), w_end.eq(f["weight_base"] + nt_taps * rows),
                             p_end.eq(f["param_base"] + f["n_tiles"])]
                m.next = "CMP"
            with m.State("CMP"):
                m.d.sync += checks.eq(Cat(
                    simple_ok, f["taps"] == taps3, f["pooled"] == phpw,
                    covered < pixels + f["chunk"], pixels <= covered,
                    w_end <= img.weight_rows, p_end <= img.param_words, in_words <= img.half, out_words <= img.half,
                    f["base"] + in_words <= img.act_words, f["out_base"] + out_words <= img.act_words))
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


def _all(conditions):
    return reduce(operator.and_, conditions)
