"""Stream-out of the layer engine (golden twin: :func:`golden.stream_out.stream_out`)."""

from amaranth import Module, Mux, Signal, unsigned
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ._params import is_int, require
from .act_memory import read_layout

__all__ = ["StreamOut"]


class StreamOut(wiring.Component):
    """The split tensor out of the activation memory in C, H, W order, a byte a beat.

    Word ``base + (y * W + x) * groups + c // rows`` holds channel ``c`` of pixel ``(y, x)`` as byte
    ``c % rows``; the address is kept by adding (``groups`` a pixel, the next channel's first pixel
    at ``base + (c + 1) // rows``), no multiplier. Three stages stall together: the read
    (``pending``), the word in the memory's output register, the byte (``features``).

    Parameters
    ----------
    rows : int
        Bytes a word.
    addr_width, dim_width : int

    Members
    -------
    run : In(1)
        Stream the tensor; low resets (the shape inputs are read then).
    base, groups : In
        The tensor's first word and words a pixel.
    last_w, last_h, last_c : In
        Its width, height and channels, each less one.
    r : Out(read_layout(addr_width))
        Reads of the activation memory (:class:`rtl.act_memory.ActMemory`'s ``out_r``).
    q : In(8 * rows)
        The memory's registered word, :attr:`rtl.act_memory.ActMemory.latency` cycles after ``r``.
    features : Out(stream.Signature(unsigned(8)))
    done : Out(1)
        Every byte sent.
    """

    def __init__(self, *, rows, addr_width=16, dim_width=8):
        require(self, is_int(rows, 1, 64), f"rows must be an integer between 1 and 64, not {rows!r}")
        self._rows = rows
        super().__init__({
            "run": In(1), "base": In(unsigned(addr_width)), "groups": In(unsigned(6)),
            "last_w": In(unsigned(dim_width)), "last_h": In(unsigned(dim_width)), "last_c": In(unsigned(8)),
            "r": Out(read_layout(addr_width)), "q": In(8 * rows),
            "features": Out(stream.Signature(unsigned(8))), "done": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        R = self._rows
        c_, y_, x_ = Signal(8), Signal.like(self.last_h), Signal.like(self.last_w)
        c_r = Signal(range(R))  # c_ % R, the channel's byte in its word
        remaining = Signal()
        pending = Signal()  # a word read, not yet in the output register
        byte_d = Signal(range(R))
        word_v = Signal()  # the output register holds a word
        byte_q = Signal(range(R))
        out_v = Signal()
        out_q = Signal(8)
        adv = Signal()
        addr = Signal.like(self.base)
        cbase = Signal.like(self.base)  # the current channel's first word
        with m.If(~self.run):
            m.d.sync += [c_.eq(0), c_r.eq(0), y_.eq(0), x_.eq(0), remaining.eq(1), pending.eq(0), word_v.eq(0),
                         out_v.eq(0), addr.eq(self.base), cbase.eq(self.base)]
        m.d.comb += adv.eq(~self.features.valid | self.features.ready)
        m.d.comb += [self.r.addr.eq(addr), self.r.en.eq(self.run & adv)]
        with m.If(self.run & adv):
            m.d.sync += [pending.eq(remaining), byte_d.eq(c_r), word_v.eq(pending), byte_q.eq(byte_d),
                         out_v.eq(word_v), out_q.eq(self.q.word_select(byte_q, 8))]
            with m.If(remaining):
                m.d.sync += addr.eq(addr + self.groups)
                with m.If(x_ != self.last_w):
                    m.d.sync += x_.eq(x_ + 1)
                with m.Else():
                    m.d.sync += x_.eq(0)
                    with m.If(y_ != self.last_h):
                        m.d.sync += y_.eq(y_ + 1)
                    with m.Else():
                        m.d.sync += y_.eq(0)
                        next_c = Signal.like(self.base)
                        m.d.comb += next_c.eq(cbase + (c_r == R - 1))
                        m.d.sync += [cbase.eq(next_c), addr.eq(next_c)]
                        with m.If(c_ != self.last_c):
                            m.d.sync += [c_.eq(c_ + 1), c_r.eq(Mux(c_r == R - 1, 0, c_r + 1))]
                        with m.Else():
                            m.d.sync += remaining.eq(0)
        m.d.comb += [self.features.valid.eq(self.run & out_v), self.features.payload.eq(out_q),
                     self.done.eq(self.run & ~remaining & ~pending & ~word_v & ~out_v & (c_ == self.last_c))]
        return m
