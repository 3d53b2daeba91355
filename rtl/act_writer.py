"""Writer of the layer engine (golden twin: :func:`golden.act_writer.writes`)."""

from amaranth import Cat, Module, Signal, signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from ._params import is_int, require
from .act_memory import write_layout

__all__ = ["ActWriter"]


class ActWriter(wiring.Component):
    """A layer's output beats (``cols`` bytes, n-tile by n-tile, pooled pixel by pooled pixel) into
    the words of the output region, a word a cycle and one more to take the next beat.

    The tile's first channel ``n0`` is kept as word and byte (``n0 // rows``, ``n0 % rows``) by
    adding ``cols``, a beat's word as the tile lane of its byte 0 and the channels left from it by
    adding ``rows``: no divider and no multiplier for any array shape. A beat ends at the word after
    which none of its lanes, or no channel, is left. Where ``cols`` is a multiple of ``rows`` a beat
    is whole words, written from where it is (see :meth:`_aligned`).

    Parameters
    ----------
    rows, cols : int
        Bytes a word; lanes a beat.
    addr_width : int

    Members
    -------
    i : In(stream.Signature(ArrayLayout(unsigned(8), cols)))
        The beats; one is taken while no word of the last is left to write.
    start : In(1)
        A layer starts: counters reset; the shape inputs are held from here to ``done``.
    base, groups, channels : In
        The output region's first word, words a pixel, output channels.
    last_pooled, last_tile : In
        Pooled pixels and n-tiles of the layer, each less one.
    w : Out(write_layout(addr_width, rows))
    done : Out(1)
        The layer's last beat written; high until the next ``start``.
    """

    def __init__(self, *, rows, cols, addr_width=16):
        require(self, is_int(rows, 1, 64), f"rows must be an integer between 1 and 64, not {rows!r}")
        require(self, is_int(cols, 1, 64), f"cols must be an integer between 1 and 64, not {cols!r}")
        self._rows, self._cols = rows, cols
        super().__init__({
            "i": In(stream.Signature(data.ArrayLayout(unsigned(8), cols))), "start": In(1),
            "base": In(unsigned(addr_width)), "groups": In(unsigned(6)), "channels": In(unsigned(8)),
            "last_pooled": In(unsigned(16)), "last_tile": In(unsigned(8)),
            "w": Out(write_layout(addr_width, rows)), "done": Out(1),
        })

    def elaborate(self, platform):
        if self._cols % self._rows == 0:
            return self._aligned()
        m = Module()
        R, C = self._rows, self._cols
        qp = Signal(16)
        nt = Signal(8)
        held = Signal(data.ArrayLayout(unsigned(8), C))
        busy = Signal()
        wg = Signal(8)
        n0 = Signal(16)  # nt * C, the tile's first output channel
        n0_w = Signal(8)
        n0_r = Signal(range(R))
        q_base = Signal.like(self.base)  # base + qp * groups: the pooled pixel's first word
        with m.If(self.start):
            m.d.sync += [qp.eq(0), nt.eq(0), n0.eq(0), n0_w.eq(0), n0_r.eq(0), self.done.eq(0),
                         q_base.eq(self.base)]
        # the tile lane of the word's byte 0 (wg * R - n0, small) and the channels left from it
        lbase = Signal(signed((C + R).bit_length() + 1))
        room = Signal(signed(18))
        m.d.comb += self.i.ready.eq(~busy)
        with m.If(self.i.valid & self.i.ready):
            m.d.sync += [held.eq(self.i.payload), busy.eq(1), wg.eq(n0_w), lbase.eq(-n0_r),
                         room.eq(self.channels - n0 + n0_r)]
        final = Signal()
        m.d.comb += final.eq((lbase + R >= C) | (room <= R))
        next_r = Signal(range(2 * R))
        m.d.comb += next_r.eq(n0_r + C % R)
        for b in range(R):
            lane = Signal.like(lbase, name=f"lane{b}")
            m.d.comb += lane.eq(lbase + b)
            for c in range(C):
                with m.If(lane == c):
                    m.d.comb += self.w.data[8 * b:8 * b + 8].eq(held[c])
            with m.If(busy):
                m.d.comb += self.w.mask[b].eq((lane >= 0) & (lane < C) & (room > b))
        m.d.comb += self.w.addr.eq(q_base + wg)
        with m.If(busy):
            with m.If(final):
                m.d.sync += busy.eq(0)
                with m.If(qp == self.last_pooled):
                    m.d.sync += [qp.eq(0), nt.eq(nt + 1), n0.eq(n0 + C), q_base.eq(self.base)]
                    with m.If(next_r >= R):
                        m.d.sync += [n0_r.eq(next_r - R), n0_w.eq(n0_w + C // R + 1)]
                    with m.Else():
                        m.d.sync += [n0_r.eq(next_r), n0_w.eq(n0_w + C // R)]
                    with m.If(nt == self.last_tile):
                        m.d.sync += self.done.eq(1)
                with m.Else():
                    m.d.sync += [qp.eq(qp + 1), q_base.eq(q_base + self.groups)]
            with m.Else():
                m.d.sync += [wg.eq(wg + 1), lbase.eq(lbase + R), room.eq(room - R)]
        return m

    def _aligned(self):
        """``cols`` a multiple of ``rows`` (the iCE40UP5K's 4x4): a beat is ``cols // rows`` whole
        words, written from the beat where it is (no copy, no byte crossbar), the first in the
        cycle the beat comes; the beat is taken with its last word."""
        m = Module()
        R, C = self._rows, self._cols
        words = C // R
        qp, nt, n0_w = Signal(16), Signal(8), Signal(8)
        j = Signal(range(words))
        left = Signal(range(-C, 256))  # channels from the tile's first on
        q_base = Signal.like(self.base)
        with m.If(self.start):
            m.d.sync += [qp.eq(0), nt.eq(0), n0_w.eq(0), j.eq(0), left.eq(self.channels), q_base.eq(self.base),
                         self.done.eq(0)]
        room = left - j * R if words > 1 else left
        lanes = self.i.payload
        m.d.comb += [self.w.addr.eq(q_base + n0_w + j),
                     self.w.data.eq(Cat(*lanes).word_select(j, 8 * R) if words > 1 else Cat(*lanes))]
        m.d.comb += self.i.ready.eq(j == words - 1)  # a register's compare, not the beat's valid
        with m.If(self.i.valid):
            m.d.comb += [self.w.mask[b].eq(room > b) for b in range(R)]
            with m.If(j == words - 1):
                m.d.sync += j.eq(0)
                with m.If(qp == self.last_pooled):
                    m.d.sync += [qp.eq(0), nt.eq(nt + 1), n0_w.eq(n0_w + words), left.eq(left - C),
                                 q_base.eq(self.base)]
                    with m.If(nt == self.last_tile):
                        m.d.sync += self.done.eq(1)
                with m.Else():
                    m.d.sync += [qp.eq(qp + 1), q_base.eq(q_base + self.groups)]
            with m.Else():
                m.d.sync += j.eq(j + 1)
        return m
