"""Issue stage of the layer engine: address beats -> activation reads -> array vectors (golden twin:
:func:`golden.issue.issue`)."""

from amaranth import Module, Mux, Signal, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from ._params import is_int, require
from .addrgen import beat_layout
from .skid import SkidBuffer

__all__ = ["Issue", "side_layout"]


def side_layout(pos_width):
    """What the accumulator needs of a vector besides its sums: its position in the chunk, whether
    its tap is the first or the last, its n-tile."""
    return data.StructLayout({"pos": unsigned(pos_width), "first": 1, "last": 1, "tile": unsigned(8)})


class Issue(wiring.Component):
    """Takes the address generator's beats and feeds the array a vector a beat: the beat's
    activation word (a zero vector where the beat is padding) with its weight bank.

    The beats come through a skid buffer, so the issue condition is not on a combinational path
    into the address generator's counters. A beat is issued while ``run``; a pass's first beat
    (``pos`` 0) only once its weights are in (``ahead``), and a last-tap beat only ``last_gap + 1``
    cycles or more after the one before it (a layer without pooling spaces its results so, as the
    requantizers and the writer take longer than a cycle over each, :func:`golden.layer_engine.drain_gap`).
    The bank is the global pass parity, the one the weight loader fills. The word is read at the
    issue, registered straight from the RAM (no logic after a block RAM's slow output), then zeroed
    where the beat is padding and registered again: a vector reaches the array :attr:`latency`
    cycles after its beat's issue.

    Parameters
    ----------
    rows : int
        Bytes of an activation word, rows of the array.
    addr_width, pos_width : int
        As the address generator's beats have them.

    Members
    -------
    beats : In(stream.Signature(beat_layout(addr_width, pos_width)))
    run, ahead, parity : In(1)
        The layer runs; the weight loader is a pass ahead; its pass parity.
    last_gap : In(unsigned(5))
        The layer's drain gap less one (held while it runs).
    pass_start : Out(1)
        A pass's first beat is issued (to the weight loader).
    act_addr : Out(unsigned(addr_width))
    act_q : In(unsigned(8 * rows))
        The activation memory's read: the word comes back two cycles after its address.
    x : Out(stream.Signature(StructLayout({"data": ArrayLayout(unsigned(8), rows), "bank": 1})))
        Vectors into the array; ``x.ready`` is not looked at (the array never stalls: its sums are
        always taken).
    side : Out(side_layout(pos_width))
        The side of the vector on ``x``, for the accumulator.
    """

    latency = 3
    """Cycles from a beat's issue to its vector on ``x``."""

    def __init__(self, *, rows, addr_width=16, pos_width=8):
        require(self, is_int(rows, 1, 64), f"rows must be an integer between 1 and 64, not {rows!r}")
        require(self, is_int(pos_width, 1, 16), f"pos_width must be an integer between 1 and 16, not {pos_width!r}")
        self._rows, self._aw, self._pw = rows, addr_width, pos_width
        x_layout = data.StructLayout({"data": data.ArrayLayout(unsigned(8), rows), "bank": 1})
        super().__init__({
            "beats": In(stream.Signature(beat_layout(addr_width, pos_width))),
            "run": In(1), "ahead": In(1), "parity": In(1), "last_gap": In(unsigned(5)), "pass_start": Out(1),
            "act_addr": Out(unsigned(addr_width)), "act_q": In(unsigned(8 * rows)),
            "x": Out(stream.Signature(x_layout)), "side": Out(side_layout(pos_width)),
        })

    def elaborate(self, platform):
        m = Module()
        R = self._rows
        m.submodules.skid = skid = SkidBuffer(beat_layout(self._aw, self._pw))
        wiring.connect(m, wiring.flipped(self.beats), skid.i)
        beat = skid.o.payload
        issue = Signal()
        gap_wait = Signal(5)
        gap_ok = Signal()
        m.d.comb += gap_ok.eq((gap_wait == 0) | ~beat.last_tap)
        m.d.comb += skid.o.ready.eq(self.run & ((beat.pos != 0) | self.ahead) & gap_ok)
        m.d.comb += issue.eq(skid.o.valid & skid.o.ready)
        with m.If(issue & beat.last_tap):
            m.d.sync += gap_wait.eq(self.last_gap)
        with m.Elif(gap_wait != 0):
            m.d.sync += gap_wait.eq(gap_wait - 1)
        m.d.comb += self.pass_start.eq(issue & (beat.pos == 0))
        # a pass's first beat is issued before its pass_start turns the parity, its others after
        bank = Signal()
        m.d.comb += bank.eq(Mux(beat.pos == 0, self.parity, ~self.parity))
        stage = data.StructLayout({"valid": 1, "zero": 1, "bank": 1, "side": side_layout(self._pw)})
        s0, s1, s2 = Signal(stage), Signal(stage), Signal(stage)
        m.d.comb += self.act_addr.eq(beat.addr)
        m.d.sync += [s0.valid.eq(issue), s0.zero.eq(beat.zero), s0.bank.eq(bank), s0.side.pos.eq(beat.pos),
                     s0.side.first.eq(beat.first_tap), s0.side.last.eq(beat.last_tap), s0.side.tile.eq(beat.tile)]
        m.d.sync += [s1.eq(s0), s2.eq(s1)]
        x2 = Signal(data.ArrayLayout(unsigned(8), R))
        for r in range(R):  # s1's word is the RAM's registered word
            m.d.sync += x2[r].eq(Mux(s1.zero, 0, self.act_q[8 * r:8 * r + 8]))
        m.d.comb += [self.x.valid.eq(s2.valid), self.x.payload.bank.eq(s2.bank), self.x.payload.data.eq(x2),
                     self.side.eq(s2.side)]
        return m
