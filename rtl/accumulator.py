"""Accumulator of the layer engine: the array's partial sums into the chunk's sums (golden twin:
:func:`golden.accumulator.accumulate`)."""

from amaranth import Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, memory, stream, wiring
from amaranth.lib.wiring import In, Out

from ._params import is_int, require
from .issue import side_layout

__all__ = ["Accumulator", "sums_layout"]


def sums_layout(cols, acc_width):
    """A pixel's finished sums and the n-tile they belong to."""
    return data.StructLayout({"v": data.ArrayLayout(signed(acc_width), cols), "tile": unsigned(8)})


class Accumulator(wiring.Component):
    """Adds every vector of partial sums into its chunk position's sums in a RAM (read-modify-write),
    starting from 0 on the first tap, and gives the last tap's totals on ``o`` instead of writing
    them.

    The side of each vector travels beside it through the array in registers (a fixed latency, no
    stalls). The sums are read ahead of their vector's arrival (two cycles, registered, where
    ``pipelined``: no path runs from a block RAM's output through the adder; one cycle without). A
    position's sums are read again at least four beats after they are written (a chunk holds four
    pixels or more, :data:`golden.layer_engine.MIN_CHUNK`), so a read never meets the write of its
    position and the port need not be transparent (a read-during-write would read the old sums, and
    the tests would see them; the iCE40 build leaves it undefined: fpga.build.READ_WRITE_APART).

    Parameters
    ----------
    cols, acc_width : int
        Sums a vector, and their width (they wrap at it).
    depth : int
        Positions of a chunk.
    latency : int
        Cycles from a vector's ``side`` to its sums on ``y`` (the array's latency, 2 or more).
    pipelined : bool

    Members
    -------
    side : In(side_layout(pos_width))
        The side of the vector entering the array this cycle (``pos_width`` holds ``depth - 1``).
    y : In(stream.Signature(ArrayLayout(signed(acc_width), cols)))
        The array's sums, ``latency`` cycles after their side; always taken.
    o : Out(stream.Signature(sums_layout(cols, acc_width), always_ready=True))
        A last tap's totals and their n-tile, a cycle after its sums; not stalled.
    """

    def __init__(self, *, cols, acc_width, depth, latency, pipelined=True):
        require(self, is_int(cols, 1, 64), f"cols must be an integer between 1 and 64, not {cols!r}")
        require(self, is_int(acc_width, 2, 64), f"acc_width must be an integer between 2 and 64, not {acc_width!r}")
        require(self, is_int(depth, 4, 1 << 16), f"depth must be an integer between 4 and 65536, not {depth!r}")
        require(self, is_int(latency, 2), f"latency must be an integer of 2 or more, not {latency!r}")
        require(self, isinstance(pipelined, bool), f"pipelined must be True or False, not {pipelined!r}")
        self._cols, self._width, self._depth = cols, acc_width, depth
        self._latency, self._pipelined = latency, pipelined
        self._pw = max(1, (depth - 1).bit_length())
        super().__init__({
            "side": In(side_layout(self._pw)),
            "y": In(stream.Signature(data.ArrayLayout(signed(acc_width), cols))),
            "o": Out(stream.Signature(sums_layout(cols, acc_width), always_ready=True)),
        })

    def elaborate(self, platform):
        m = Module()
        C, W, L = self._cols, self._width, self._latency
        m.submodules.amem = amem = memory.Memory(shape=data.ArrayLayout(signed(W), C), depth=self._depth, init=[])
        a_w = amem.write_port()
        a_r = amem.read_port()
        # stages[k]: the side of the vector that entered the array k cycles ago
        stages = [self.side]
        for i in range(L):
            s = Signal(side_layout(self._pw), name=f"side{i + 1}")
            m.d.sync += s.eq(stages[-1])
            stages.append(s)
        here = stages[L]
        if self._pipelined:
            m.d.comb += a_r.addr.eq(stages[L - 2].pos)
            acc_q = Signal(data.ArrayLayout(signed(W), C))
            m.d.sync += acc_q.eq(a_r.data)
        else:  # read a cycle ahead, the adder straight after the RAM
            m.d.comb += a_r.addr.eq(stages[L - 1].pos)
            acc_q = a_r.data
        new = Signal(data.ArrayLayout(signed(W), C))
        for c in range(C):
            m.d.comb += new[c].eq(Mux(here.first, 0, acc_q[c]) + self.y.payload[c])
        m.d.comb += [self.y.ready.eq(1),
                     a_w.addr.eq(here.pos), a_w.data.eq(new), a_w.en.eq(self.y.valid & ~here.last)]
        m.d.sync += [self.o.valid.eq(self.y.valid & here.last), self.o.payload.v.eq(new),
                     self.o.payload.tile.eq(here.tile)]
        return m
