"""The iCE40UP5K's MAC array: ``rows x cols`` products a cycle into column sums (golden twin:
:mod:`golden.dot_array`)."""

from amaranth import Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from ._dsp import registered_products
from ._params import is_int, require
from .accumulator import sums_layout

__all__ = ["DotArray", "dot_layout"]


def dot_layout(rows, cols):
    """A beat: the activation vector, the weight tile (weight ``r * cols + c`` multiplies
    activation ``r`` into column ``c``), and the pixel's n-tile and first/last tap."""
    return data.StructLayout({"x": data.ArrayLayout(unsigned(8), rows), "w": data.ArrayLayout(signed(8), rows * cols),
                              "n": unsigned(8), "first": 1, "last": 1})


def _tree(terms):
    """The sum of ``terms`` as a balanced tree of adders (depth log2, not a chain)."""
    while len(terms) > 1:
        terms = [terms[k] + terms[k + 1] if k + 1 < len(terms) else terms[k] for k in range(0, len(terms), 2)]
    return terms[0]


class DotArray(wiring.Component):
    """An output-stationary dot-product array: each beat's ``rows x cols`` uint8 x int8 products in
    DSPs (two per SB_MAC16 on the iCE40, each in its multiplier's own register), each column's
    ``rows`` products summed by an adder tree, and the column sums accumulated over a pixel's taps
    in ``cols`` registers: no weight banks, no partial-sum chain, no skew registers, no accumulator
    RAM. A pixel's sums are ``o``'s payload from the cycle after its last beat until taken; the
    next pixel's first beat then overwrites them, so a back-pressured ``o`` stalls the array
    (``i.ready`` low), and every stage holds.

    Members
    -------
    i : In(stream.Signature(dot_layout(rows, cols)))
    o : Out(stream.Signature(rtl.accumulator.sums_layout(cols, acc_width)))
        A pixel's sums and its n-tile, two cycles after its last beat.
    """

    latency = 2

    def __init__(self, *, rows, cols, acc_width=32):
        require(self, is_int(rows, 1, 16) and is_int(cols, 1, 16), f"rows and cols must be 1 to 16, not {rows}x{cols}")
        require(self, is_int(acc_width, 18, 48), f"acc_width must be 18 to 48, not {acc_width!r}")
        self._rows, self._cols, self._w = rows, cols, acc_width
        super().__init__({"i": In(stream.Signature(dot_layout(rows, cols))),
                          "o": Out(stream.Signature(sums_layout(cols, acc_width)))})

    def elaborate(self, platform):
        m = Module()
        R, C = self._rows, self._cols
        en = Signal()
        m.d.comb += [en.eq(~self.o.valid | self.o.ready), self.i.ready.eq(en)]
        x, w = self.i.payload.x, self.i.payload.w
        prods = [[Signal(signed(16), name=f"p_{r}_{c}") for c in range(C)] for r in range(R)]
        registered_products(m, platform, [(x[r], w[r * C + c], prods[r][c]) for r in range(R) for c in range(C)], en,
                            name="mac")
        v1, first1, last1, n1 = Signal(), Signal(), Signal(), Signal(8)
        with m.If(en):
            m.d.sync += [v1.eq(self.i.valid), first1.eq(self.i.payload.first), last1.eq(self.i.payload.last),
                         n1.eq(self.i.payload.n)]
        acc = self.o.payload.v
        with m.If(en):
            m.d.sync += self.o.valid.eq(v1 & last1)
            with m.If(v1):
                m.d.sync += self.o.payload.tile.eq(n1)
                for c in range(C):
                    col = _tree([prods[r][c] for r in range(R)])
                    m.d.sync += acc[c].eq(Mux(first1, col, acc[c] + col))
        return m
