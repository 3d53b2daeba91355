"""The layer engine's weight, parameter and program RAMs and their run-time loads (golden twin:
:mod:`golden.engine_memory`)."""

from amaranth import Cat, Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, memory, stream, wiring
from amaranth.lib.wiring import In, Out

from golden.layer_engine import requantizers, rq_steps
from golden.link import DESCRIPTOR_BYTES, PARAM_LANE, PARAMS, PROGRAM, WEIGHTS, encode_rows

from ._params import is_int, require

__all__ = ["EngineMemory", "load_layout", "DW", "PARAM_BYTES", "PROGRAM_WORDS", "PROGRAM_STRIDE"]

DW = 16
"""Width of a layer program memory word."""
PROGRAM_WORDS = -(-DESCRIPTOR_BYTES // (DW // 8))
"""Program memory words a layer descriptor fills."""
PROGRAM_STRIDE = 1 << (PROGRAM_WORDS - 1).bit_length()
"""Program memory words a layer: descriptor ``layer`` starts at word ``layer * PROGRAM_STRIDE``."""
PARAM_BYTES = PARAM_LANE.size
"""Bytes of a parameter lane on the wire and in the parameter RAM (bias, multiplier, shift)."""


def load_layout():
    """One byte written through the engine's ``load`` port: ``mem`` selects the memory, ``addr`` the
    row, ``data`` is the row's next byte as LOAD_MEM carries it (docs/PROTOCOL.md) and ``last``
    marks the row's last byte. A row's bytes come in order (the same layout for every array)."""
    return data.StructLayout({"mem": unsigned(2), "addr": unsigned(16), "data": unsigned(8), "last": 1})


class EngineMemory(wiring.Component):
    """The weight, parameter and layer program RAMs of the layer engine, initialised with an image's
    rows, and LOAD_MEM's run-time writes into them: a byte a beat, each written into its RAM's byte
    lane as it is taken, so no row is assembled. Each RAM holds a row as its wire bytes:

    - weights: a row of ``cols`` int8, byte ``j`` weight ``j``;
    - parameters: a requantizer step at a time. Word ``w << rq_bits | k`` holds lanes ``k * n_rq ..
      k * n_rq + n_rq - 1`` of parameter word ``w`` (zero past ``cols``; ``n_rq`` requantizers take
      a pooled pixel in ``rq_steps`` steps, :func:`golden.layer_engine.requantizers`), lane ``j``
      its 7 wire bytes in bits ``56 j ..`` (the first on top), so the RAM is ``n_rq`` lanes wide
      (4 EBR on the iCE40 for 4 lanes, not 14) and no lane waits in registers;
    - program: descriptor ``layer`` in the 16-bit words from ``layer * PROGRAM_STRIDE``, wire byte
      ``i`` in bits ``8 * (i % 2)`` of word ``i // 2``: one block RAM, where a word a descriptor
      would take 12 of the iCE40's (16 bits wide at most).

    Parameters
    ----------
    cols : int
        Weights a row, lanes a parameter word.
    tile_rows : int
        Weight rows a word of the weight RAM (a power of two): 1 for the ECP5's engine, which loads
        a tile a row a cycle into its idle bank; ``rows`` for the iCE40UP5K's, which reads a whole
        ``rows x cols`` tile every beat (row ``i`` is lane group ``i % tile_rows`` of word
        ``i // tile_rows``; a layer's rows start at a multiple of ``rows``).
    weight_rows, param_words, layers : int
        Depths in rows.
    weights, params, program : sequences
        Initial rows (as :class:`golden.layer_engine.EngineImage` has them); zero past them.

    Members
    -------
    load : In(stream.Signature(load_layout()))
        Rows' bytes, in order, each row's last marked; a row of at most its wire length.
    open : In(1)
        Loads are taken (``load.ready``) while high.
    w_addr : In(unsigned(16))
    w_en : In(1, init=1)
        The weight word is read at an edge where it is high, and held while it is low.
    w_data : Out(ArrayLayout(signed(8), tile_rows * cols))
        The weight word, a cycle after its address.
    p_word, p_step, p_en : In
        Parameter word and requantizer step to read while ``p_en``.
    p_data : Out(unsigned(n_rq * 56))
        The step's lanes, a cycle after a read.
    d_layer, d_word : In
    d_data : Out(unsigned(DW))
        Word ``d_word`` of descriptor ``d_layer``, a cycle after its address.
    c_layer, c_word : In; c_data : Out(unsigned(DW))
        With ``second_program_port``: a second read port of the program RAM, the same way.
    """

    def __init__(self, *, cols, weight_rows, param_words, layers, weights=(), params=(), program=(), tile_rows=1,
                 second_program_port=False):
        require(self, is_int(cols, 1, 64), f"cols must be an integer between 1 and 64, not {cols!r}")
        require(self, is_int(tile_rows, 1, 64) and tile_rows & (tile_rows - 1) == 0,
                f"tile_rows must be a power of two up to 64, not {tile_rows!r}")
        self._tr = tile_rows
        for name, depth, init in (("weight_rows", weight_rows, weights), ("param_words", param_words, params),
                                  ("layers", layers, program)):
            require(self, is_int(depth, 1, 1 << 16) and len(init) <= depth,
                    f"{name} must be an integer from 1 to 65536 and hold the initial rows, not {depth!r}")
        self._cols, self._depths = cols, (weight_rows, param_words, layers)
        self._init = (weights, params, program)
        self._n_rq, self._steps = requantizers(cols), rq_steps(cols)
        pw_bits = max(1, (param_words - 1).bit_length())
        super().__init__({
            "load": In(stream.Signature(load_layout())), "open": In(1),
            "w_addr": In(unsigned(16)), "w_en": In(1, init=1), "w_data": Out(data.ArrayLayout(signed(8), tile_rows * cols)),
            "p_word": In(unsigned(pw_bits)), "p_step": In(range(self._steps)), "p_en": In(1),
            "p_data": Out(unsigned(self._n_rq * 8 * PARAM_BYTES)),
            "d_layer": In(range(max(2, layers))), "d_word": In(range(PROGRAM_STRIDE)), "d_data": Out(unsigned(DW)),
            **({"c_layer": In(range(max(2, layers))), "c_word": In(range(PROGRAM_STRIDE)), "c_data": Out(unsigned(DW))}
               if second_program_port else {}),
        })

    def _param_image(self):
        """The parameter RAM's words: a lane is its wire bytes, big-endian."""
        C, n_rq, steps = self._cols, self._n_rq, self._steps
        lane_w = 8 * PARAM_BYTES
        out = []
        for word in self._init[1]:
            wire = encode_rows(PARAMS, [word], C)
            lanes = [int.from_bytes(wire[PARAM_BYTES * c:PARAM_BYTES * (c + 1)], "big") for c in range(C)]
            lanes += [0] * (steps * n_rq - C)
            out += [sum(v << (lane_w * j) for j, v in enumerate(lanes[k * n_rq:(k + 1) * n_rq])) for k in range(steps)]
            out += [0] * ((1 << (steps - 1).bit_length()) - steps)
        return out

    def _program_image(self):
        words = []
        for x in self._init[2]:
            wire = encode_rows(PROGRAM, [x], self._cols) + bytes(2 * PROGRAM_WORDS - DESCRIPTOR_BYTES)
            words += [wire[2 * j] | wire[2 * j + 1] << 8 for j in range(PROGRAM_WORDS)]
            words += [0] * (PROGRAM_STRIDE - PROGRAM_WORDS)
        return words

    def elaborate(self, platform):
        m = Module()
        C, n_rq, steps = self._cols, self._n_rq, self._steps
        weight_rows, param_words, layers = self._depths
        rq_bits = (steps - 1).bit_length()
        tr = self._tr
        tr_bits = (tr - 1).bit_length()
        rows = [list(w) for w in self._init[0]] + [[0] * C] * (-len(self._init[0]) % tr)
        m.submodules.wmem = wmem = memory.Memory(shape=data.ArrayLayout(signed(8), tr * C),
                                                 depth=-(-weight_rows // tr),
                                                 init=[sum(rows[k:k + tr], []) for k in range(0, len(rows), tr)])
        m.submodules.pmem = pmem = memory.Memory(shape=unsigned(n_rq * 8 * PARAM_BYTES),
                                                 depth=param_words << rq_bits, init=self._param_image())
        m.submodules.dmem = dmem = memory.Memory(shape=unsigned(DW), depth=layers * PROGRAM_STRIDE,
                                                 init=self._program_image())
        w_r, p_r, d_r = wmem.read_port(), pmem.read_port(), dmem.read_port()
        m.d.comb += [w_r.addr.eq(self.w_addr), w_r.en.eq(self.w_en), self.w_data.eq(w_r.data),
                     p_r.addr.eq(Cat(self.p_step, self.p_word)), p_r.en.eq(self.p_en), self.p_data.eq(p_r.data),
                     d_r.addr.eq(Cat(self.d_word, self.d_layer)), self.d_data.eq(d_r.data)]
        if "c_data" in self.signature.members:  # its own read port: a second block RAM, no shared output
            c_r = dmem.read_port()
            m.d.comb += [c_r.addr.eq(Cat(self.c_word, self.c_layer)), self.c_data.eq(c_r.data)]

        # the row's byte: a weight row's byte j is weight j; a parameter word's bytes walk its lanes
        # (byte pb of lane ps of step pk); a descriptor's byte j goes to word j // 2
        load = self.load.payload
        taken = Signal()
        m.d.comb += [self.load.ready.eq(self.open), taken.eq(self.load.valid & self.open)]
        ld_j = Signal(range(max(C, DESCRIPTOR_BYTES)))
        pb, ps, pk = Signal(range(PARAM_BYTES)), Signal(range(n_rq)), Signal(range(steps))
        with m.If(taken):
            with m.If(load.last):
                m.d.sync += [ld_j.eq(0), pb.eq(0), ps.eq(0), pk.eq(0)]
            with m.Else():
                m.d.sync += [ld_j.eq(ld_j + 1), pb.eq(pb + 1)]
                with m.If(pb == PARAM_BYTES - 1):
                    m.d.sync += [pb.eq(0), ps.eq(ps + 1)]
                    with m.If(ps == n_rq - 1):
                        m.d.sync += [ps.eq(0), pk.eq(pk + 1)]
        w_w, p_w, d_w = wmem.write_port(granularity=1), pmem.write_port(granularity=8), dmem.write_port(granularity=8)
        p_lane = Signal(range(n_rq * PARAM_BYTES))  # the byte lane of the parameter byte
        m.d.comb += p_lane.eq(ps * PARAM_BYTES + PARAM_BYTES - 1 - pb)
        w_lane = Signal(range(tr * C))  # the weight byte's lane in its word
        m.d.comb += w_lane.eq(ld_j + (load.addr[:tr_bits] * C if tr > 1 else 0))
        m.d.comb += [w_w.addr.eq(load.addr >> tr_bits), w_w.data.eq(Cat(*[load.data] * (tr * C))),
                     w_w.en.eq(Mux(taken & (load.mem == WEIGHTS), Const(1, tr * C) << w_lane, 0)),
                     p_w.addr.eq(Cat(pk, load.addr)), p_w.data.eq(Cat(*[load.data] * (n_rq * PARAM_BYTES))),
                     p_w.en.eq(Mux(taken & (load.mem == PARAMS), Const(1, n_rq * PARAM_BYTES) << p_lane, 0)),
                     d_w.addr.eq(Cat(ld_j[1:1 + (PROGRAM_STRIDE - 1).bit_length()], load.addr)),
                     d_w.data.eq(Cat(load.data, load.data)),
                     d_w.en.eq(Mux(taken & (load.mem == PROGRAM), Cat(~ld_j[0], ld_j[0]), 0))]
        return m

