"""The layer engine: runs the edge layers of one frame on the systolic array (golden twin:
:mod:`golden.layer_engine`, whose schedule and memory layout it follows beat for beat).

Data path of a layer::

    AddrGen -> activation RAM read -> SystolicArray -> accumulator RAM (read-modify-write, bias on
    the first tap) -> on the last tap: MaxPool of the sums (the layer's window) -> lanes
    time-shared over ceil(cols / 4) Requant units -> ActWriter (byte-lane writes into the other
    ping-pong region of ActMemory)

while a WeightLoader fills the array's idle weight bank with the next pass's tile. A frame arrives
as pixels in raster order, each pixel's channels side by side, and the FrameLoader writes it,
folded where that fills more rows (see :func:`golden.frame_loader.fold_input`); after the last
layer the StreamOut sends the split tensor on ``features`` in C, H, W order, the frame format's
scan order.
"""

from amaranth import Cat, Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, memory, stream, wiring
from amaranth.lib.wiring import In, Out

from golden.errors import ConfigError
from golden.layer_engine import requantizers, rq_steps
from golden.link import (DESCRIPTOR_BYTES, DESCRIPTOR_FIELDS, PARAM_FIELDS, PARAM_LANE, PARAMS, PROGRAM, WEIGHTS,
                         encode_rows)
from golden.systolic import latency as array_latency

from ._params import require
from .act_memory import ActMemory
from .act_writer import ActWriter
from .addrgen import AddrGen, descriptor_layout
from .frame_loader import FrameLoader
from .maxpool import MaxPool
from .requant import Requant
from .skid import SkidBuffer
from .stream_out import StreamOut
from .weight_loader import WeightLoader
from .systolic import SystolicArray

__all__ = ["LayerEngine"]

ADDR = 16
DIM = 8
DW = 16
"""Width of a layer program memory word."""
_DESCRIPTOR = descriptor_layout(ADDR, DIM)
EXTRA = tuple(name for name, _, _ in DESCRIPTOR_FIELDS if name not in _DESCRIPTOR.members)
"""Fields of a layer program word besides the address generator's descriptor."""
RQ_LANE = data.StructLayout({name: unsigned(bits) for name, _, bits in PARAM_FIELDS if name in ("mult", "shift")})
"""What a pooled lane carries to the requantizers besides its sum."""


def descriptor_word_layout():
    """A word of the layer program memory: the address generator's descriptor and the rest, with
    the widths the link protocol gives them (:data:`golden.link.DESCRIPTOR_FIELDS`)."""
    return data.StructLayout({"d": _DESCRIPTOR, **{name: unsigned(bits) for name, _, bits in DESCRIPTOR_FIELDS
                                                  if name in EXTRA}})


def load_layout():
    """One byte written through the engine's ``load`` port: ``mem`` selects the memory, ``addr`` the
    row, ``data`` is the row's next byte as LOAD_MEM carries it (docs/PROTOCOL.md) and ``last``
    marks the row's last byte. A row's bytes come in order (the same layout for every array)."""
    return data.StructLayout({"mem": unsigned(2), "addr": unsigned(16), "data": unsigned(8), "last": 1})


PARAM_BYTES = PARAM_LANE.size
"""Bytes of a parameter lane on the wire and in the parameter RAM (bias, multiplier, shift)."""


def param_lane_fields(v):
    """``(bias, mult, shift)`` of a parameter lane ``v`` as the RAM holds it (wiring only)."""
    offset, fields = 8 * PARAM_BYTES, {}
    for name, size, bits in PARAM_FIELDS:
        offset -= 8 * size
        fields[name] = v[offset:offset + bits]
    return fields["bias"].as_signed(), fields["mult"], fields["shift"]


class LayerEngine(wiring.Component):
    """Edge layers of a split network on a ``rows x cols`` weight-stationary array.

    Parameters
    ----------
    image : golden.layer_engine.EngineImage
        Memory contents (weights, per-channel bias/multiplier/shift, layer descriptors) and sizes.
    acc_width : int
        Accumulator width.
    pipelined : bool
        The register stages the ECP5's 100 MHz needs after two block RAMs: the sums registered
        before the accumulator's adders, the parameter word and the sums registered before the
        bias add. Without them (the iCE40UP5K's device at 36 MHz) the adders follow the RAMs
        directly, and the address generator a stage shorter (``AddrGen(pipelined=False)``): about
        250 fewer flip-flops, each a whole logic cell there, and the same schedule.

    Members
    -------
    frame : In(stream.Signature(unsigned(8)))
        Camera bytes: pixels in raster order, each pixel's channels side by side, one frame after
        another.
    features : Out(stream.Signature(unsigned(8)))
        The split tensor of each frame in C, H, W order.
    load : In(stream.Signature(load_layout()))
        Run-time writes of weight rows, parameter words and layer descriptors (LOAD_MEM), a byte a
        beat, each written into its memory's byte lane as it is taken. Taken only between frames
        (before a frame's first pixel).
    busy : Out(1)
        High while a frame is being computed or streamed out.
    cycles : Out(ArrayLayout(unsigned(32), image.max_layers))
        Cycles each layer took on the last frame, from its start to its last output write.

    The structure depends only on the array shape, the memory sizes, the accumulator depth, the pool
    size and the camera frame's shape and fold; the layers to run (their number included), their
    weights and parameters are memory contents.
    frames : Out(unsigned(16))
        Frames completed.
    """

    def __init__(self, *, image, acc_width=32, pipelined=True):
        require(self, image.act_words <= 1 << ADDR,
                f"{image.act_words} activation words need more than the engine's {ADDR}-bit addresses; "
                f"lower act_mem_bytes", ConfigError)
        dims = [v for d in image.descriptors for v in (d["height"], d["width"], d["pooled_h"], d["pooled_w"])]
        require(self, max(dims + list(image.frame_shape)) < 1 << DIM,
                f"a tensor side exceeds the engine's {DIM}-bit dimensions (255)", ConfigError)
        require(self, max(d["n_tiles"] for d in image.descriptors) < 256 and image.acc_depth < 1 << 16,
                "too many output-channel tiles (255 at most) or acc_depth of 65536 or more", ConfigError)
        require(self, isinstance(pipelined, bool), f"pipelined must be True or False, not {pipelined!r}")
        self._img = image
        self._acc_width = acc_width
        self._pipelined = pipelined
        super().__init__({
            "frame": In(stream.Signature(unsigned(8))),
            "features": Out(stream.Signature(unsigned(8))),
            "load": In(stream.Signature(load_layout())),
            "busy": Out(1),
            "cycles": Out(data.ArrayLayout(unsigned(32), image.max_layers)),
            "frames": Out(unsigned(16)),
        })

    @property
    def image(self):
        return self._img

    def elaborate(self, platform):
        m = Module()
        img = self._img
        R, C, W = img.rows, img.cols, self._acc_width
        L = array_latency(R, C)
        n_layers = img.max_layers

        # -- memories -----------------------------------------------------------------------------
        dlayout = descriptor_word_layout()
        # activation RAM: read data registered before use (the block RAM's output register where
        # it has one); writes registered after the loader's and the writer's lane muxes (a write
        # lands a cycle late; the first read after a layer's last write comes two edges after it at
        # the earliest, RUN -> OUT, or after FETCH, START, KICK and the address generator's
        # set-up); the ping-pong regions are its halves, a layer reads one and writes the other, so
        # each half can be a single-port RAM (the UP5K's SPRAM; the simulations poison a read that
        # meets a write to its half)
        m.submodules.act = act = ActMemory(rows=R, depth=img.act_words, addr_width=ADDR)
        m.submodules.wmem = wmem = memory.Memory(shape=data.ArrayLayout(signed(8), C),
                                                 depth=img.weight_rows, init=[list(w) for w in img.weights])
        # the requantizers: n_rq units take a pooled pixel's cols lanes over rq_cycles steps
        n_rq = requantizers(C)
        rq_cycles = rq_steps(C)  # cycles a pooled pixel spends entering the requantizers
        rq_bits = (rq_cycles - 1).bit_length()
        pw_bits = max(1, (img.param_words - 1).bit_length())
        # the parameters a requantizer step at a time: word `(param_base + tile) << rq_bits | k`
        # holds lanes k * n_rq .. k * n_rq + n_rq - 1 of the tile (zero past cols), read beside the
        # pooled sums that step takes, so no lane waits in registers and the RAM is n_rq lanes
        # wide (4 EBR on the iCE40 for 4 lanes, not 14). A lane is its 7 wire bytes (lane j of a
        # word in bytes 7j .. 7j + 6, the wire's first byte on top), so LOAD_MEM writes each byte
        # into its byte lane as it comes
        lane_w = 8 * PARAM_BYTES

        def param_steps(word):  # a lane's RAM value is its wire bytes, big-endian
            wire = encode_rows(PARAMS, [word], C)
            padded = [int.from_bytes(wire[PARAM_BYTES * c:PARAM_BYTES * (c + 1)], "big") for c in range(C)]
            padded += [0] * (rq_cycles * n_rq - C)
            steps = [sum(v << (lane_w * j) for j, v in enumerate(padded[k * n_rq:(k + 1) * n_rq]))
                     for k in range(rq_cycles)]
            return steps + [0] * ((1 << rq_bits) - rq_cycles)

        m.submodules.pmem = pmem = memory.Memory(shape=unsigned(n_rq * lane_w),
                                                 depth=img.param_words << rq_bits,
                                                 init=[st for p in img.params for st in param_steps(p)])
        # the layer program in DW-bit words, a layer's descriptor in words `layer * nwp + j`: its
        # wire bytes (DESCRIPTOR_BYTES), byte i in bits 8 * (i % 2) of word i // 2, so LOAD_MEM
        # writes each byte into its byte lane as it comes; one block RAM, where one word a
        # descriptor would take 12 of the iCE40's (16 bits wide at most)
        nw = -(-DESCRIPTOR_BYTES // 2)
        nwp = 1 << (nw - 1).bit_length()
        words = []
        for x in img.descriptors:
            wire = encode_rows(PROGRAM, [x], C) + bytes(2 * nw - DESCRIPTOR_BYTES)
            words += [wire[2 * j] | wire[2 * j + 1] << 8 for j in range(nw)] + [0] * (nwp - nw)
        m.submodules.dmem = dmem = memory.Memory(shape=unsigned(DW), depth=n_layers * nwp, init=words)
        m.submodules.amem = amem = memory.Memory(shape=data.ArrayLayout(signed(W), C),
                                                 depth=img.acc_depth, init=[])
        w_r = wmem.read_port()
        p_r = pmem.read_port()
        d_r = dmem.read_port()
        # run-time loads (LOAD_MEM) between frames, a byte a beat into its memory's byte lane: a
        # weight row's byte j is weight j; a parameter word's bytes walk its lanes (byte pb of lane
        # ps of step pk); a descriptor's byte j goes to word j // 2. No row is assembled.
        load = self.load.payload
        load_ok = Signal()  # set below: no frame under way
        taken = Signal()
        m.d.comb += taken.eq(self.load.valid & load_ok)
        ld_j = Signal(range(max(C, DESCRIPTOR_BYTES)))
        pb, ps, pk = Signal(range(PARAM_BYTES)), Signal(range(n_rq)), Signal(range(rq_cycles))
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
        m.d.comb += [w_w.addr.eq(load.addr), w_w.data.eq(Cat(*[load.data] * C)),
                     w_w.en.eq(Mux(taken & (load.mem == WEIGHTS), Const(1, C) << ld_j, 0)),
                     p_w.addr.eq(Cat(pk, load.addr)), p_w.data.eq(Cat(*[load.data] * (n_rq * PARAM_BYTES))),
                     p_w.en.eq(Mux(taken & (load.mem == PARAMS),
                                   Const(1, n_rq * PARAM_BYTES) << p_lane, 0)),
                     d_w.addr.eq(Cat(ld_j[1:1 + (nwp - 1).bit_length()], load.addr)),
                     d_w.data.eq(Cat(load.data, load.data)),
                     d_w.en.eq(Mux(taken & (load.mem == PROGRAM), Cat(~ld_j[0], ld_j[0]), 0))]
        a_w = amem.write_port()
        a_r = amem.read_port()

        # the descriptor register holds the layer while the generator runs (FETCH comes only after
        # the layer's last write), so the generator keeps no copy of its own
        # a beat's position in its chunk addresses the sums: acc_depth of them, so its low bits
        pos_bits = max(1, (img.acc_depth - 1).bit_length())
        m.submodules.agen = agen = AddrGen(addr_width=ADDR, dim_width=DIM, held=True, pos_width=pos_bits,
                                           pipelined=self._pipelined)
        m.submodules.array = array = SystolicArray(rows=R, cols=C, acc_width=W)
        lanes = [Requant(acc_width=W) for _ in range(n_rq)]
        for j, rq in enumerate(lanes):
            m.submodules[f"requant_{j}"] = rq
        # the side of a pooled pixel is its tile's parameter word
        # the layer's pool window (1, 4 or 9 beats) set from its descriptor
        m.submodules.pool = pool = MaxPool(lanes=C, window=9, shape=signed(W), side=unsigned(pw_bits),
                                           dynamic=True)

        layer = Signal(range(max(2, n_layers)))
        # the descriptor's wire bytes, a word a cycle in FETCH, each into its place (not shifted
        # through: the bytes the fields do not keep then need no flip-flop)
        desc_words = Signal(nw * DW)
        desc = Signal(dlayout)
        offset = 0
        for name, size, bits in DESCRIPTOR_FIELDS:  # big-endian fields, the bits the engine keeps
            wire = Cat(*[desc_words[8 * (offset + size - 1 - t):8 * (offset + size - t)] for t in range(size)])
            m.d.comb += (desc.d[name] if name in _DESCRIPTOR.members else desc[name]).eq(wire[:bits])
            offset += size
        m.d.comb += agen.desc.eq(desc.d)
        fk = Signal(range(nwp + 1))  # descriptor words requested in FETCH
        cyc = Signal(32)
        cyc_done = Signal()
        cyc_layer = Signal.like(layer)
        cyc_value = Signal(32)
        # the descriptor's "last" values (field - 1), registered: counters compare with registers
        # for equality, with no subtraction on the path (set the cycle after START, before use)
        last = {name: Signal(unsigned(16), name=f"{name}_last")
                for name in ("taps", "n_chunks", "n_tiles", "pooled", "out_channels", "pooled_h", "pooled_w", "gap")}
        for name, v in last.items():
            m.d.sync += v.eq((desc.d[name] if name in _DESCRIPTOR.members else desc[name]) - 1)
        with m.Switch(desc.d.pool):  # beats of a pool window, less one
            for p in (1, 2, 3):
                with m.Case(p):
                    m.d.sync += pool.last.eq(p * p - 1)
        loader_done = Signal()
        writes_done = Signal()
        out_done = Signal()
        m.d.comb += d_r.addr.eq(Cat(fk[:(nwp - 1).bit_length()], layer))

        with m.FSM(name="seq") as fsm:
            with m.State("LOAD"):
                with m.If(loader_done):
                    m.d.sync += [layer.eq(0), fk.eq(0)]
                    m.next = "FETCH"
            with m.State("FETCH"):  # word fk requested, word fk - 1 read
                m.d.sync += fk.eq(fk + 1)
                with m.Switch(fk):
                    for j in range(1, nw + 1):
                        with m.Case(j):
                            m.d.sync += desc_words[DW * (j - 1):DW * j].eq(d_r.data)
                with m.If(fk == nw):
                    m.next = "START"
            with m.State("START"):
                m.d.sync += cyc.eq(1)
                m.next = "KICK"
            with m.State("KICK"):
                m.d.comb += agen.start.eq(1)
                m.d.sync += cyc.eq(cyc + 1)
                m.next = "RUN"
            with m.State("RUN"):
                m.d.sync += cyc.eq(cyc + 1)
                with m.If(writes_done):
                    m.d.sync += [cyc_done.eq(1), cyc_layer.eq(layer), cyc_value.eq(cyc)]
                    with m.If(desc.last):
                        m.next = "OUT"
                    with m.Else():
                        m.d.sync += [layer.eq(layer + 1), fk.eq(0)]
                        m.next = "FETCH"
            with m.State("OUT"):
                with m.If(out_done):
                    m.d.sync += self.frames.eq(self.frames + 1)
                    m.next = "LOAD"
        # a layer's cycle count reaches `cycles` a cycle after the layer ends (registered: no path
        # from the sequencer's state into the counters' write enables)
        with m.If(cyc_done):
            m.d.sync += [self.cycles[cyc_layer].eq(cyc_value), cyc_done.eq(0)]
        in_load, in_run, in_out = fsm.ongoing("LOAD"), fsm.ongoing("RUN"), fsm.ongoing("OUT")
        starting = fsm.ongoing("KICK")
        m.d.comb += self.busy.eq(~in_load)

        # -- loader: camera pixels (channels interleaved) -> (folded) words of region 0 ---------
        m.submodules.loader = loader = FrameLoader(
            rows=R, frame_shape=img.frame_shape, in_channels=img.in_channels, fold_k=img.fold_k,
            fold_pad=img.fold_pad, groups=img.in_groups, addr_width=ADDR)
        wiring.connect(m, wiring.flipped(self.frame), loader.frame)
        m.d.comb += [loader.run.eq(in_load), loader_done.eq(loader.done), act.load_w.eq(loader.w)]
        # memories are written only while no frame is under way
        m.d.comb += [load_ok.eq(in_load & loader.idle),
                     self.load.ready.eq(load_ok)]

        # -- weight loader: the next pass's tile into the idle bank -------------------------------
        # a bank is free again MARGIN cycles after the first beat of the pass that follows its last
        # pass: PRE cycles from a beat's issue to the array's input (activation read, word register,
        # zero register), then the array
        PRE = 3
        m.submodules.wload = wload = WeightLoader(rows=R, cols=C, margin=L + PRE + 1)
        wiring.connect(m, wload.w, array.w)
        m.d.comb += [wload.start.eq(starting), wload.run.eq(in_run), wload.base.eq(desc.weight_base),
                     wload.last_taps.eq(last["taps"]), wload.last_chunks.eq(last["n_chunks"]),
                     wload.last_tiles.eq(last["n_tiles"]), w_r.addr.eq(wload.r_addr), wload.r_data.eq(w_r.data)]

        # -- issue: address beat -> activation read -> array ------------------------------------
        # the beats through a skid buffer: the issue condition (sequencer state, weight passes) is
        # not on a combinational path into the address generator's counters
        m.submodules.beats = beats = SkidBuffer(agen.o.payload.shape())
        wiring.connect(m, agen.o, beats.i)
        beat = beats.o.payload
        issue = Signal()
        # a layer without pooling spaces its last tap's beats `gap` cycles apart: each is a result
        # that the requantizers and the writer take longer than a cycle over (drain_gap)
        gap_wait = Signal(5)
        gap_ok = Signal()
        m.d.comb += gap_ok.eq((gap_wait == 0) | ~beat.last_tap)
        m.d.comb += beats.o.ready.eq(in_run & ((beat.pos != 0) | wload.ahead) & gap_ok)
        m.d.comb += issue.eq(beats.o.valid & beats.o.ready)
        with m.If(issue & beat.last_tap):
            m.d.sync += gap_wait.eq(last["gap"])
        with m.Elif(gap_wait != 0):
            m.d.sync += gap_wait.eq(gap_wait - 1)
        m.d.comb += wload.pass_start.eq(issue & (beat.pos == 0))
        # the bank is the global pass parity, the one the weight loader fills
        bank = Signal()
        m.d.comb += bank.eq(Mux(beat.pos == 0, wload.parity, ~wload.parity))
        side = data.StructLayout({"valid": 1, "zero": 1, "bank": 1, "pos": unsigned(pos_bits), "first": 1,
                                  "last": 1, "tile": unsigned(8)})
        s0 = Signal(side)
        m.d.comb += act.issue_addr.eq(beat.addr)
        m.d.sync += [s0.valid.eq(issue), s0.zero.eq(beat.zero), s0.bank.eq(bank), s0.pos.eq(beat.pos),
                     s0.first.eq(beat.first_tap), s0.last.eq(beat.last_tap), s0.tile.eq(beat.tile)]
        # the activation word is registered straight from the RAM (no logic after a block RAM's
        # slow output), then zeroed where the beat is padding and registered again for the array
        s1 = Signal(side)
        w1 = act.q  # the RAM's registered word
        s2 = Signal(side)
        x2 = Signal(data.ArrayLayout(unsigned(8), R))
        m.d.sync += [s1.eq(s0), s2.eq(s1)]
        for r in range(R):
            m.d.sync += x2[r].eq(Mux(s1.zero, 0, w1[8 * r:8 * r + 8]))
        m.d.comb += [array.x.valid.eq(s2.valid), array.x.payload.bank.eq(s2.bank), array.y.ready.eq(1),
                     array.x.payload.data.eq(x2)]
        # side information travels with the vector through the array (fixed latency, no stalls);
        # stages[k] is k cycles after the issue (PRE of them before the array)
        stages = [s0, s1, s2]
        assert len(stages) == PRE
        for i in range(L):
            s = Signal(side, name=f"side{i + 1}")
            m.d.sync += s.eq(stages[-1])
            stages.append(s)
        here = stages[PRE - 1 + L]

        # -- accumulate: read-modify-write ------------------------------------------------------
        # the sums are read two cycles ahead and registered, so no path runs from a block RAM's
        # output through the adder. A pixel's sums are read again at least four beats after they
        # are written (a chunk holds whole pool windows of 2x2 or more; engine_image refuses pool
        # 1), so a read never meets the write of its pixel and the port need not be transparent (a
        # read-during-write would read the old sums, and the tests would see them; the iCE40 build
        # leaves it undefined: fpga.build.READ_WRITE_APART). The first tap starts from 0: the bias
        # is added after pooling (below).
        if self._pipelined:
            early2 = stages[PRE - 1 + L - 2]
            m.d.comb += a_r.addr.eq(early2.pos)
            acc_q = Signal(data.ArrayLayout(signed(W), C))
            m.d.sync += acc_q.eq(a_r.data)
        else:  # read a cycle ahead, the adder straight after the RAM
            m.d.comb += a_r.addr.eq(stages[PRE - 1 + L - 1].pos)
            acc_q = a_r.data
        new = Signal(data.ArrayLayout(signed(W), C))
        for c in range(C):
            m.d.comb += new[c].eq(Mux(here.first, 0, acc_q[c]) + array.y.payload[c])
        m.d.comb += [a_w.addr.eq(here.pos), a_w.data.eq(new), a_w.en.eq(array.y.valid & ~here.last)]
        # the last tap's sums are registered with their tile's parameter word, then max-pooled
        # *before* the bias and requantization: a lane's bias is the same over its window and
        # requantization never decreases, so the bytes are the same as pooling after them (golden
        # adds the bias first), and a pooled pixel comes only every window beats, so `n_rq`
        # requantizers shared over the lanes keep up (golden.layer_engine.requantizers)
        pool_valid = Signal()
        pool_v = Signal(data.ArrayLayout(signed(W), C))
        pool_word = Signal(pw_bits)
        m.d.sync += [pool_valid.eq(array.y.valid & here.last), pool_v.eq(new),
                     pool_word.eq(desc.param_base + here.tile)]
        m.d.comb += [pool.i.valid.eq(pool_valid), pool.i.payload.v.eq(pool_v),
                     pool.i.payload.side.eq(pool_word)]

        # serializer: a pooled pixel's lanes, n_rq a cycle, into the requantizers. The pool's output
        # register holds the pixel until its last lanes are taken; `cur` registers the sums of step
        # ser_k while the parameter RAM reads that step's lanes beside them; next the sums and the
        # RAM's word are registered (no logic after a block RAM's slow output), then each lane's
        # sum plus its bias, with its multiplier and shift, as a requantizer takes it. The three
        # stages stall together.
        lane_bits = W + RQ_LANE.size
        assert lanes[0].i.payload.shape().size == lane_bits
        pixel_sums = [pool.o.payload.v[c] for c in range(C)]
        pixel_sums += [Const(0, W)] * (rq_cycles * n_rq - C)
        steps = [Cat(*pixel_sums[k * n_rq:(k + 1) * n_rq]) for k in range(rq_cycles)]
        cur = Signal(n_rq * W)
        cur_v = Signal()
        ser_k = Signal(range(rq_cycles))
        cur2 = Signal(n_rq * W)
        par2 = Signal(n_rq * lane_w)
        v2 = Signal()
        rq_in = Signal(n_rq * lane_bits)
        rq_v = Signal()
        adv2, adv3 = Signal(), Signal()
        feed = Signal()
        step = Signal()
        m.d.comb += [adv3.eq(~rq_v | lanes[0].i.ready), adv2.eq(~v2 | adv3), feed.eq(cur_v & adv2)]
        for j, rq in enumerate(lanes):
            m.d.comb += [rq.i.valid.eq(rq_v), rq.i.payload.eq(rq_in[j * lane_bits:(j + 1) * lane_bits])]
        m.d.comb += [step.eq(pool.o.valid & (~cur_v | feed)), pool.o.ready.eq(step & (ser_k == rq_cycles - 1)),
                     p_r.addr.eq(Cat(ser_k, pool.o.payload.side)), p_r.en.eq(step)]
        with m.If(step):
            m.d.sync += [cur.eq(Cat(*steps).word_select(ser_k, len(cur)) if rq_cycles > 1 else steps[0]),
                         cur_v.eq(1), ser_k.eq(Mux(ser_k == rq_cycles - 1, 0, ser_k + 1))]
        with m.Elif(feed):
            m.d.sync += cur_v.eq(0)
        if self._pipelined:
            with m.If(adv2):
                m.d.sync += [v2.eq(cur_v), cur2.eq(cur), par2.eq(p_r.data)]
        else:  # no stage between the RAM and the bias add: the sums and the word straight on
            m.d.comb += [v2.eq(cur_v), cur2.eq(cur), par2.eq(p_r.data)]
        with m.If(adv3):
            m.d.sync += rq_v.eq(v2)
            for j in range(n_rq):
                bias, mult, shift = param_lane_fields(par2[j * lane_w:(j + 1) * lane_w])
                m.d.sync += rq_in[j * lane_bits:(j + 1) * lane_bits].eq(
                    Cat((cur2[j * W:(j + 1) * W] + bias)[:W], mult, shift))

        # collector: the requantized bytes, n_rq at a time, back into one beat of cols lanes
        col = Signal(rq_cycles * n_rq * 8)
        col_k = Signal(range(rq_cycles))
        arriving = Signal(n_rq * 8)
        m.d.comb += arriving.eq(Cat(*(rq.o.payload for rq in lanes)))
        filled = Signal(rq_cycles * n_rq * 8)
        m.d.comb += filled.eq(Cat(col[n_rq * 8:], arriving))
        take = Signal()
        m.submodules.writer = writer = ActWriter(rows=R, cols=C, addr_width=ADDR)
        m.d.comb += [writer.i.valid.eq(lanes[0].o.valid & (col_k == rq_cycles - 1)),
                     writer.i.payload.eq(filled[:8 * C]),
                     take.eq(lanes[0].o.valid & ((col_k != rq_cycles - 1) | writer.i.ready))]
        m.d.comb += [rq.o.ready.eq(take) for rq in lanes]
        with m.If(take):
            m.d.sync += [col.eq(filled), col_k.eq(Mux(col_k == rq_cycles - 1, 0, col_k + 1))]

        # -- writer: output beats -> words of the output region ----------------------------------
        m.d.comb += [writer.start.eq(starting), writer.base.eq(desc.out_base), writer.groups.eq(desc.out_groups),
                     writer.channels.eq(desc.out_channels), writer.last_pooled.eq(last["pooled"]),
                     writer.last_tile.eq(last["n_tiles"]), act.layer_w.eq(writer.w),
                     writes_done.eq(in_run & writer.done)]

        # -- stream out: the last layer's tensor in C, H, W order -------------------------------
        # the shape comes from the last layer's descriptor, still in `desc`
        m.submodules.out = out = StreamOut(rows=R, addr_width=ADDR, dim_width=DIM)
        wiring.connect(m, out.features, wiring.flipped(self.features))
        m.d.comb += [out.run.eq(in_out), out.base.eq(desc.out_base), out.groups.eq(desc.out_groups),
                     out.last_w.eq(last["pooled_w"]), out.last_h.eq(last["pooled_h"]),
                     out.last_c.eq(last["out_channels"]), act.out_r.eq(out.r), act.out_sel.eq(in_out),
                     out.q.eq(act.q), out_done.eq(out.done)]
        return m
