"""Weight-stationary systolic MAC array (golden twin: :mod:`golden.systolic`)."""

from amaranth import Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from golden.systolic import latency

from ._dsp import registered_product, registered_products
from ._params import is_int, require

__all__ = ["PE", "SystolicArray", "psum_width", "PRODUCT_BITS"]

PRODUCT_BITS = 17
"""Bits of a PE's product: uint8 x int8 lies within +-32640, signed."""


class PE(wiring.Component):
    """Processing element: one int8 weight per bank, a uint8 activation passing right, a partial
    sum passing down.

    Parameters
    ----------
    acc_width : int
        Width of the signed partial sums.
    external_product : bool
        The product register is outside the PE (the array's, two PEs to a DSP on the iCE40): the
        PE gives its multiplier operands on ``mul_a`` (``a_in``) and ``mul_b`` (the bank's weight)
        and adds ``product``, which must be their product registered with ``en``.

    Members
    -------
    en : In(1)
        Clock enable of the whole array (low while the output is back-pressured).
    a_in, bank_in : In
        Activation and weight-bank select from the left neighbour (or the input skew).
    a_out, bank_out : Out
        The same, registered, to the right neighbour.
    p_in : In(signed(acc_width))
        Partial sum from the PE above (0 in the top row).
    p_out : Out(signed(acc_width))
        ``p_in + a_in * w[bank_in]``, registered, where the product is the one registered a cycle
        earlier (so no path runs through the multiplier into the adder).
    w_data, w_we, w_bank : In
        Weight write port: ``w[w_bank] <= w_data`` when ``w_we``; independent of ``en``.

    One multiply-accumulate per enabled cycle; ``p_out`` lags ``a_in`` by 2 cycles and ``p_in`` by 1.
    """

    def __init__(self, *, acc_width=32, external_product=False):
        require(self, is_int(acc_width, 18), f"acc_width must be an integer of at least 18, not {acc_width!r}")
        self._acc_width = acc_width
        self._external = bool(external_product)
        ports = {
            "en": In(1),
            "a_in": In(unsigned(8)), "bank_in": In(1),
            "a_out": Out(unsigned(8)), "bank_out": Out(1),
            "p_in": In(signed(acc_width)), "p_out": Out(signed(acc_width)),
            "w_data": In(signed(8)), "w_we": In(1), "w_bank": In(1),
        }
        if self._external:
            ports.update({"mul_a": Out(unsigned(8)), "mul_b": Out(signed(8)),
                          "product": In(signed(PRODUCT_BITS))})
        super().__init__(ports)

    @property
    def acc_width(self):
        return self._acc_width

    def elaborate(self, platform):
        m = Module()
        w = [Signal(signed(8), name=f"w{b}") for b in range(2)]
        with m.If(self.w_we):
            with m.If(self.w_bank):
                m.d.sync += w[1].eq(self.w_data)
            with m.Else():
                m.d.sync += w[0].eq(self.w_data)
        # an expression, not an If: it becomes a continuous assignment, which every simulator
        # evaluates at time 0 (Icarus never runs an always @* whose inputs keep their initial values)
        weight = Signal(signed(8))
        m.d.comb += weight.eq(Mux(self.bank_in, w[1], w[0]))
        # the product is registered (a DSP's output register) and added a cycle later; every PE
        # of the array lags alike, so the partial sums still meet their products
        if self._external:
            product = self.product
            m.d.comb += [self.mul_a.eq(self.a_in), self.mul_b.eq(weight)]
        else:
            product = Signal(signed(PRODUCT_BITS))
            registered_product(m, platform, self.a_in, weight, product, self.en)
        with m.If(self.en):
            m.d.sync += [
                self.a_out.eq(self.a_in),
                self.bank_out.eq(self.bank_in),
                self.p_out.eq(self.p_in + product),
            ]
        return m


def psum_width(row, acc_width):
    """Bits of row ``row``'s partial sums: ``row + 1`` products of :data:`PRODUCT_BITS` need
    ``PRODUCT_BITS + ceil(log2(row + 1))``; never more than ``acc_width``, and at least 18 (the
    PE's smallest)."""
    return min(acc_width, max(18, PRODUCT_BITS + row.bit_length()))


class SystolicArray(wiring.Component):
    """A ``rows x cols`` weight-stationary array of :class:`PE`.

    Activation vectors enter on ``x`` (``rows`` uint8 values and the weight bank they use); each
    yields one vector of ``cols`` partial sums on ``y``, ``y[c] = sum_r x[r] * W[bank][r][c]``, in
    order. Weights are written one row of ``cols`` values at a time on ``w`` into either bank, so
    one bank loads while the other computes; a bank must not be written while vectors that use it
    are still inside the array (the sequencer's job).

    Parameters
    ----------
    rows, cols : int
        Array shape: ``rows`` taps (K-tile) by ``cols`` output channels (N-tile), 1 to 64 each.
    acc_width : int
        Width of the signed partial sums.

    Members
    -------
    x : In(stream.Signature(StructLayout({"data": ArrayLayout(unsigned(8), rows), "bank": 1})))
    w : In(stream.Signature(StructLayout({"data": ArrayLayout(signed(8), cols), "row": range(rows),
        "bank": 1}))), always accepted.
    y : Out(stream.Signature(ArrayLayout(signed(acc_width), cols)))

    Throughput: one vector per cycle (``rows * cols`` MACs). Latency: ``rows + cols`` cycles
    (:func:`golden.systolic.latency`). A back-pressured ``y`` stalls the whole array (``x.ready`` is
    low while ``y`` holds an unaccepted result).
    """

    def __init__(self, *, rows, cols, acc_width=32):
        for name, v in (("rows", rows), ("cols", cols)):
            require(self, is_int(v, 1, 64), f"{name} must be an integer between 1 and 64, not {v!r}")
        require(self, is_int(acc_width, 18), f"acc_width must be an integer of at least 18, not {acc_width!r}")
        self._rows, self._cols, self._acc_width = rows, cols, acc_width
        x_layout = data.StructLayout({"data": data.ArrayLayout(unsigned(8), rows), "bank": 1})
        w_layout = data.StructLayout({"data": data.ArrayLayout(signed(8), cols),
                                      "row": range(rows), "bank": 1})
        super().__init__({
            "x": In(stream.Signature(x_layout)),
            "w": In(stream.Signature(w_layout)),
            "y": Out(stream.Signature(data.ArrayLayout(signed(acc_width), cols))),
        })

    rows = property(lambda self: self._rows)
    cols = property(lambda self: self._cols)
    acc_width = property(lambda self: self._acc_width)

    @property
    def latency(self):
        return latency(self._rows, self._cols)

    def elaborate(self, platform):
        m = Module()
        rows, cols = self._rows, self._cols
        en = Signal()
        m.d.comb += [en.eq(~self.y.valid | self.y.ready), self.x.ready.eq(en), self.w.ready.eq(1)]
        take = Signal()
        m.d.comb += take.eq(self.x.valid & en)

        # row r's partial sums add r + 1 products: they keep only the bits that sum needs (it is
        # exact, so no narrower sum wraps where acc_width would not), sign-extended at the output
        pes = [[PE(acc_width=psum_width(r, self._acc_width), external_product=True) for _ in range(cols)]
               for r in range(rows)]
        # the products, registered a cycle before each PE adds them: two of a row's PEs to an
        # SB_MAC16 on the iCE40 (rtl._dsp.registered_products)
        registered_products(m, platform, [(pe.mul_a, pe.mul_b, pe.product) for row in pes for pe in row], en,
                            name="mul")
        for r in range(rows):
            for c in range(cols):
                pe = pes[r][c]
                m.submodules[f"pe_{r}_{c}"] = pe
                m.d.comb += [
                    pe.en.eq(en),
                    pe.w_data.eq(self.w.payload.data[c]),
                    pe.w_bank.eq(self.w.payload.bank),
                    pe.w_we.eq(self.w.valid & (self.w.payload.row == r)),
                ]
                if c > 0:
                    m.d.comb += [pe.a_in.eq(pes[r][c - 1].a_out), pe.bank_in.eq(pes[r][c - 1].bank_out)]
                if r > 0:
                    m.d.comb += pe.p_in.eq(pes[r - 1][c].p_out)

        # input skew: row r sees a vector r cycles after row 0 (bubbles enter as zeros)
        for r in range(rows):
            a = Signal(unsigned(8), name=f"skew_a_{r}_0")
            b = Signal(name=f"skew_b_{r}_0")
            m.d.comb += [a.eq(Mux(take, self.x.payload.data[r], 0)), b.eq(self.x.payload.bank)]
            for i in range(r):
                a2, b2 = Signal(unsigned(8), name=f"skew_a_{r}_{i + 1}"), Signal(name=f"skew_b_{r}_{i + 1}")
                with m.If(en):
                    m.d.sync += [a2.eq(a), b2.eq(b)]
                a, b = a2, b2
            m.d.comb += [pes[r][0].a_in.eq(a), pes[r][0].bank_in.eq(b)]

        # output deskew: column c waits cols - 1 - c cycles so that all columns line up
        for c in range(cols):
            p = pes[rows - 1][c].p_out
            for i in range(cols - 1 - c):
                p2 = Signal(signed(psum_width(rows - 1, self._acc_width)), name=f"deskew_{c}_{i}")
                with m.If(en):
                    m.d.sync += p2.eq(p)
                p = p2
            m.d.comb += self.y.payload[c].eq(p)

        valid = Signal(self.latency, name="valid_pipe")
        with m.If(en):
            m.d.sync += valid.eq((valid << 1) | take)
        m.d.comb += self.y.valid.eq(valid[-1])
        return m
