"""Weight loader of the layer engine (golden twin: :func:`golden.weight_loader.passes`)."""

from amaranth import Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from ._params import is_int, require, step_nested

__all__ = ["WeightLoader"]


class WeightLoader(wiring.Component):
    """The next pass's weight tile into the array's idle bank, a row a cycle.

    Passes whose first beat has been issued and passes whose weights are in their bank are kept as
    what the issue stage asks of them (no wide counters to compare): their parities (the banks),
    whether the loader is a pass ahead, and how many were loaded, up to two. A bank is free again
    ``margin`` cycles after the first beat of the pass that follows its last pass (the beat's way to
    the array, then through it). Row addresses are kept by adding ``rows`` (no multiplier).

    Parameters
    ----------
    rows, cols : int
        The array's shape: rows a tile, weights a row.
    margin : int
        Cycles from a pass's first beat until the pass before it has left the array.

    Members
    -------
    start : In(1)
        A layer starts: the loader resets to ``base``; the inputs below are held from here on.
    run : In(1)
        The layer runs: passes are loaded.
    base, last_taps, last_chunks, last_tiles : In(unsigned(16))
        The layer's first weight row, and its taps, chunks and n-tiles, each less one.
    pass_start : In(1)
        The issue stage takes a pass's first beat (allowed only while ``ahead``).
    ahead : Out(1)
        The next pass's tile is in its bank.
    parity : Out(1)
        Passes started, modulo two: a pass's beats use bank ``parity`` (``~parity`` for its first).
    r_addr : Out(unsigned(16))
    r_data : In(ArrayLayout(signed(8), cols))
        The weight memory's read port (data a cycle after the address).
    w : Out(stream.Signature(...))
        Rows into the array's ``w`` port (``data``, ``row``, ``bank``).
    """

    def __init__(self, *, rows, cols, margin):
        require(self, is_int(rows, 1, 64), f"rows must be an integer between 1 and 64, not {rows!r}")
        require(self, is_int(cols, 1, 64), f"cols must be an integer between 1 and 64, not {cols!r}")
        require(self, is_int(margin, 1, 255), f"margin must be an integer between 1 and 255, not {margin!r}")
        self._rows, self._cols, self._margin = rows, cols, margin
        w_layout = data.StructLayout({"data": data.ArrayLayout(signed(8), cols), "row": range(rows), "bank": 1})
        super().__init__({
            "start": In(1), "run": In(1), "base": In(unsigned(16)), "last_taps": In(unsigned(16)),
            "last_chunks": In(unsigned(16)), "last_tiles": In(unsigned(16)), "pass_start": In(1),
            "ahead": Out(1), "parity": Out(1), "r_addr": Out(unsigned(16)),
            "r_data": In(data.ArrayLayout(signed(8), cols)), "w": Out(stream.Signature(w_layout)),
        })

    def elaborate(self, platform):
        m = Module()
        R, MARGIN = self._rows, self._margin
        loaded = Signal()
        n_loaded = Signal(range(3))
        done = Signal()  # every pass of the layer has its weights loaded
        tile_base = Signal(16)
        pass_base = Signal(16)
        since = Signal(range(MARGIN + 2))
        busy = Signal()
        row = Signal(range(R + 1))
        valid = Signal()
        row_d = Signal(range(R + 1))
        t, chunk, nt = Signal(12), Signal(16), Signal(8)
        with m.If(self.start):
            m.d.sync += [self.parity.eq(0), loaded.eq(0), self.ahead.eq(0), n_loaded.eq(0), t.eq(0),
                         chunk.eq(0), nt.eq(0), done.eq(0), tile_base.eq(self.base), pass_base.eq(self.base),
                         since.eq(0)]
        with m.If(self.pass_start):
            m.d.sync += [self.parity.eq(~self.parity), since.eq(0)]
        with m.Elif(since < MARGIN + 1):
            m.d.sync += since.eq(since + 1)
        bank_free = Signal()
        m.d.comb += bank_free.eq((n_loaded != 2) | (since >= MARGIN))
        with m.If(self.run & ~busy & ~done & ~self.ahead & bank_free):
            m.d.sync += [busy.eq(1), row.eq(0)]
        m.d.comb += self.r_addr.eq(pass_base + row)
        m.d.sync += [valid.eq(busy & (row < R)), row_d.eq(row)]
        with m.If(busy & (row < R)):
            m.d.sync += row.eq(row + 1)
        load_done = Signal()
        m.d.comb += load_done.eq(busy & (row == R))
        with m.If(load_done & ~self.pass_start):
            m.d.sync += self.ahead.eq(1)
        with m.Elif(self.pass_start & ~load_done):
            m.d.sync += self.ahead.eq(0)
        with m.If(load_done):
            m.d.sync += [busy.eq(0), loaded.eq(~loaded), n_loaded.eq(Mux(n_loaded == 2, 2, n_loaded + 1))]
            # passes in the address generator's order: taps, chunks, n-tiles
            step_nested(m, [(t, self.last_taps), (chunk, self.last_chunks), (nt, None)])
            with m.If(t != self.last_taps):
                m.d.sync += pass_base.eq(pass_base + R)
            with m.Elif(chunk != self.last_chunks):
                m.d.sync += pass_base.eq(tile_base)
            with m.Else():  # the next tile starts at the row after this tile's last pass
                m.d.sync += [tile_base.eq(pass_base + R), pass_base.eq(pass_base + R)]
                with m.If(nt == self.last_tiles):
                    m.d.sync += done.eq(1)
        # the row is registered straight from the RAM, so it reaches its bank a cycle after `loaded`
        # counts it; the pass's first vector needs it later still
        m.d.sync += [self.w.valid.eq(valid), self.w.payload.data.eq(self.r_data), self.w.payload.row.eq(row_d),
                     self.w.payload.bank.eq(loaded)]
        return m
