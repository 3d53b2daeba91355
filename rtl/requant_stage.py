"""Pool and requantizers of the layer engine: a last tap's sums -> a pooled pixel's output bytes
(golden twin: :func:`golden.requant_stage.requant_stage`)."""

from amaranth import Cat, Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from golden.layer_engine import requantizers, rq_steps
from golden.link import PARAM_FIELDS

from ._params import is_int, require
from .accumulator import sums_layout
from .engine_memory import PARAM_BYTES
from .maxpool import MaxPool
from .requant import Requant
from .serial_requant import SerialRequant

__all__ = ["RequantStage", "param_lane_fields"]

RQ_LANE = data.StructLayout({name: unsigned(bits) for name, _, bits in PARAM_FIELDS if name in ("mult", "shift")})
"""What a pooled lane carries to the requantizers besides its sum."""


def param_lane_fields(v):
    """``(bias, mult, shift)`` of a parameter lane ``v`` as the RAM holds it (wiring only)."""
    offset, fields = 8 * PARAM_BYTES, {}
    for name, size, bits in PARAM_FIELDS:
        offset -= 8 * size
        fields[name] = v[offset:offset + bits]
    return fields["bias"].as_signed(), fields["mult"], fields["shift"]


class RequantStage(wiring.Component):
    """Max-pools a layer's last-tap sums over its pool window, then adds each lane's bias and
    requantizes it with its multiplier and shift: one beat of ``cols`` bytes a pooled pixel.

    Pooling comes *before* the bias and requantization: a lane's bias is the same over its window
    and requantization never decreases, so the bytes are those of pooling after them (golden adds
    the bias first), and a pooled pixel comes only every window beats, so ``n_rq`` requantizers
    (:func:`golden.layer_engine.requantizers`) shared over the lanes keep up. A serializer takes a
    pooled pixel's lanes, ``n_rq`` a step, into them, reading the step's parameter lanes from the
    parameter RAM (word ``param_base + tile``, :class:`rtl.engine_memory.EngineMemory`) beside them:
    the pool's output register holds the pixel until its last lanes are taken; ``cur`` registers
    the sums of a step while the RAM reads its lanes; next the sums and the RAM's word are
    registered where ``pipelined`` (no logic after a block RAM's slow output), then each lane's sum
    plus its bias, with its multiplier and shift, as a requantizer takes it. The three stages stall
    together. A collector puts the bytes, ``n_rq`` at a time, back into one beat.

    Parameters
    ----------
    cols, acc_width : int
        Lanes of a pixel and the width of its sums (a sum plus its bias wraps at it).
    param_words : int
        Words of the parameter RAM.
    pipelined : bool
    serial : bool
        Requantizers without a DSP, a lane in four cycles (:class:`rtl.serial_requant.SerialRequant`,
        the iCE40UP5K's), instead of :class:`rtl.requant.Requant`'s lane a cycle.
    pool_register : bool
        The pool's output register (:class:`rtl.maxpool.MaxPool`'s ``out_register``). Without it
        (the iCE40UP5K's, ``cols`` sums of flip-flops fewer) the serializer reads the running
        maximum in place, and the pool takes no beat until the serializer has taken the pixel's
        last lanes: a pixel whose taps are fewer than those cycles waits
        (:func:`golden.dot_engine.window_cycles`).

    Members
    -------
    i : In(stream.Signature(sums_layout(cols, acc_width)))
        Last-tap sums and their n-tile, a window's beats in a row.
    pool : In(unsigned(2))
        The layer's pool side, 1 to 3 (held while it runs).
    param_base : In(unsigned(10))
        The layer's first parameter word.
    p_word, p_step, p_en : Out
    p_data : In(unsigned(n_rq * 56))
        The parameter RAM's read port: lanes of a step, a cycle after a read.
    o : Out(stream.Signature(ArrayLayout(unsigned(8), cols)))
        A pooled pixel's bytes.
    """

    def __init__(self, *, cols, acc_width, param_words, pipelined=True, serial=False, pool_register=True):
        require(self, is_int(cols, 1, 64), f"cols must be an integer between 1 and 64, not {cols!r}")
        require(self, is_int(acc_width, 2, 48), f"acc_width must be an integer between 2 and 48, not {acc_width!r}")
        require(self, is_int(param_words, 1, 1024), f"param_words must be 1 to 1024, not {param_words!r}")
        require(self, isinstance(pipelined, bool), f"pipelined must be True or False, not {pipelined!r}")
        require(self, isinstance(serial, bool), f"serial must be True or False, not {serial!r}")
        require(self, isinstance(pool_register, bool), f"pool_register must be True or False, not {pool_register!r}")
        self._cols, self._width, self._pipelined, self._serial = cols, acc_width, pipelined, serial
        self._pool_reg = pool_register
        self._n_rq, self._steps = requantizers(cols), rq_steps(cols)
        self._pw_bits = max(1, (param_words - 1).bit_length())
        super().__init__({
            "i": In(stream.Signature(sums_layout(cols, acc_width))), "pool": In(unsigned(2)),
            "param_base": In(unsigned(10)),
            "p_word": Out(unsigned(self._pw_bits)), "p_step": Out(range(self._steps)), "p_en": Out(1),
            "p_data": In(unsigned(self._n_rq * 8 * PARAM_BYTES)),
            "o": Out(stream.Signature(data.ArrayLayout(unsigned(8), cols))),
        })

    def elaborate(self, platform):
        m = Module()
        C, W, n_rq, steps = self._cols, self._width, self._n_rq, self._steps
        unit = SerialRequant if self._serial else Requant
        lanes = [unit(acc_width=W) for _ in range(n_rq)]
        for j, rq in enumerate(lanes):
            m.submodules[f"requant_{j}"] = rq
        # the side of a pooled pixel is its tile's parameter word
        m.submodules.pool = pool = MaxPool(lanes=C, window=9, shape=signed(W),
                                           side=unsigned(self._pw_bits), dynamic=True, out_register=self._pool_reg)
        with m.Switch(self.pool):  # beats of a pool window, less one
            for p in (1, 2, 3):
                with m.Case(p):
                    m.d.sync += pool.last.eq(p * p - 1)
        m.d.comb += [pool.i.valid.eq(self.i.valid), pool.i.payload.v.eq(self.i.payload.v),
                     pool.i.payload.side.eq(self.param_base + self.i.payload.tile), self.i.ready.eq(pool.i.ready)]
        self._serializer(m, pool.o, lanes)

        # collector: the requantized bytes, n_rq at a time, back into one beat of cols lanes
        col = Signal(steps * n_rq * 8)
        col_k = Signal(range(steps))
        filled = Signal(steps * n_rq * 8)
        m.d.comb += filled.eq(Cat(col[n_rq * 8:], *(rq.o.payload for rq in lanes)))
        take = Signal()
        m.d.comb += [self.o.valid.eq(lanes[0].o.valid & (col_k == steps - 1)), self.o.payload.eq(filled[:8 * C]),
                     take.eq(lanes[0].o.valid & ((col_k != steps - 1) | self.o.ready))]
        m.d.comb += [rq.o.ready.eq(take) for rq in lanes]
        with m.If(take):
            m.d.sync += [col.eq(filled), col_k.eq(Mux(col_k == steps - 1, 0, col_k + 1))]
        return m

    def _serializer(self, m, pixel, lanes):
        """The pooled ``pixel``'s lanes, with their parameters, ``n_rq`` a step into the requantizers
        ``lanes``."""
        W, n_rq, steps = self._width, self._n_rq, self._steps
        lane_w, lane_bits = 8 * PARAM_BYTES, W + RQ_LANE.size
        assert lanes[0].i.payload.shape().size == lane_bits
        sums = [pixel.payload.v[c] for c in range(self._cols)] + [Const(0, W)] * (steps * n_rq - self._cols)
        step_sums = [Cat(*sums[k * n_rq:(k + 1) * n_rq]) for k in range(steps)]
        cur, cur_v, ser_k = Signal(n_rq * W), Signal(), Signal(range(steps))
        cur2, par2, v2 = Signal(n_rq * W), Signal(n_rq * lane_w), Signal()
        rq_in, rq_v = Signal(data.ArrayLayout(lane_bits, n_rq)), Signal()
        adv2, adv3, feed, step = Signal(), Signal(), Signal(), Signal()
        m.d.comb += [adv3.eq(~rq_v | lanes[0].i.ready), adv2.eq(~v2 | adv3), feed.eq(cur_v & adv2)]
        for j, rq in enumerate(lanes):
            m.d.comb += [rq.i.valid.eq(rq_v), rq.i.payload.eq(rq_in[j])]
        m.d.comb += [step.eq(pixel.valid & (~cur_v | feed)), pixel.ready.eq(step & (ser_k == steps - 1)),
                     self.p_step.eq(ser_k), self.p_word.eq(pixel.payload.side), self.p_en.eq(step)]
        with m.If(step):
            m.d.sync += [cur.eq(Cat(*step_sums).word_select(ser_k, len(cur)) if steps > 1 else step_sums[0]),
                         cur_v.eq(1), ser_k.eq(Mux(ser_k == steps - 1, 0, ser_k + 1))]
        with m.Elif(feed):
            m.d.sync += cur_v.eq(0)
        if self._pipelined:
            with m.If(adv2):
                m.d.sync += [v2.eq(cur_v), cur2.eq(cur), par2.eq(self.p_data)]
        else:  # no stage between the RAM and the bias add: the sums and the word straight on
            m.d.comb += [v2.eq(cur_v), cur2.eq(cur), par2.eq(self.p_data)]
        with m.If(adv3):
            m.d.sync += rq_v.eq(v2)
            for j in range(n_rq):
                bias, mult, shift = param_lane_fields(par2[j * lane_w:(j + 1) * lane_w])
                m.d.sync += rq_in[j].eq(Cat((cur2[j * W:(j + 1) * W] + bias)[:W], mult, shift))
