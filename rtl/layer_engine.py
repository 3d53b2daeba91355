"""The layer engine: runs the edge layers of one frame on the systolic array (golden twin:
:mod:`golden.layer_engine`, whose schedule and memory layout it follows beat for beat).

A sequencer (the FSM below) fetches a layer's descriptor from the program memory, starts the
components of its data path and waits for the layer's last write. Data path of a layer::

    AddrGen -> Issue (skid buffer, activation RAM read, zero padding) -> SystolicArray ->
    Accumulator (read-modify-write of the sums) -> RequantStage (on the last tap: MaxPool of the
    sums, ceil(cols / 4) Requant units time-shared over the lanes) -> ActWriter (byte-lane writes
    into the other ping-pong region of ActMemory)

while a WeightLoader fills the array's idle weight bank with the next pass's tile from the weight
RAM. EngineMemory holds the weight, parameter and program RAMs and takes their run-time loads
(LOAD_MEM) between frames. A frame arrives as pixels in raster order, each pixel's channels side by
side, and the FrameLoader writes it, folded where that fills more rows (see
:func:`golden.frame_loader.fold_input`); after the last layer the StreamOut sends the split tensor
on ``features`` in C, H, W order, the frame format's scan order.
"""

from amaranth import Cat, Const, Module, Mux, Signal, unsigned
from amaranth.lib import data, memory, stream, wiring
from amaranth.lib.wiring import In, Out

from golden.errors import ConfigError
from golden.link import DESCRIPTOR_FIELDS
from golden.systolic import latency as array_latency

from ._params import require
from .accumulator import Accumulator
from .act_memory import ActMemory
from .act_writer import ActWriter
from .addrgen import AddrGen, descriptor_layout
from .engine_memory import DW, PROGRAM_STRIDE, PROGRAM_WORDS, EngineMemory, load_layout
from .frame_loader import FrameLoader
from .issue import Issue
from .requant_stage import RequantStage
from .stream_out import StreamOut
from .systolic import SystolicArray
from .weight_loader import WeightLoader

__all__ = ["LayerEngine", "connect_outputs", "count_ram_members", "counts_of_words", "descriptor_word_layout", "load_layout",
           "program_field", "program_port_members", "sequencer"]

ADDR = 16
DIM = 8
_DESCRIPTOR = descriptor_layout(ADDR, DIM)
EXTRA = tuple(name for name, _, _ in DESCRIPTOR_FIELDS if name not in _DESCRIPTOR.members)
"""Fields of a layer program word besides the address generator's descriptor."""


def check_widths(engine, image):
    """:class:`ConfigError` from ``engine``'s constructor for an ``image`` its address and dimension
    widths cannot hold."""
    require(engine, image.act_words <= 1 << ADDR,
            f"{image.act_words} activation words need more than the engine's {ADDR}-bit addresses; "
            f"lower act_mem_bytes", ConfigError)
    dims = [v for d in image.descriptors for v in (d["height"], d["width"], d["pooled_h"], d["pooled_w"])]
    require(engine, max(dims + list(image.frame_shape)) < 1 << DIM,
            f"a tensor side exceeds the engine's {DIM}-bit dimensions (255)", ConfigError)


def program_port_members(max_layers):
    """A read port of the program memory of its own (:class:`EngineMemory`'s second): word
    ``prog_word`` of descriptor ``prog_layer`` on ``prog_data`` a cycle after its address, for
    :class:`rtl.program_check.ProgramCheck`, which reads it only between frames, when LOAD_MEM can
    write it."""
    return {"prog_layer": In(range(max(2, max_layers))), "prog_word": In(range(PROGRAM_STRIDE)),
            "prog_data": Out(DW)}


def count_ram_members(max_layers):
    """The read port of an engine whose layer cycle counts are in a block RAM (``sequencer(...,
    registered_counts=False)``), in place of ``cycles``: word ``2 * i`` is layer ``i``'s count of the
    last frame, bits 31..16, and word ``2 * i + 1`` bits 15..0, on ``cycles_q`` a cycle after its
    address is on ``cycles_r``."""
    return {"cycles_r": In(range(2 * max_layers)), "cycles_q": Out(16)}


def descriptor_word_layout():
    """A word of the layer program memory: the address generator's descriptor and the rest, with
    the widths the link protocol gives them (:data:`golden.link.DESCRIPTOR_FIELDS`)."""
    return data.StructLayout({"d": _DESCRIPTOR, **{name: unsigned(bits) for name, _, bits in DESCRIPTOR_FIELDS
                                                  if name in EXTRA}})


def _field(desc, name):
    return desc.d[name] if name in _DESCRIPTOR.members else desc[name]


_AT = {name: (sum(n for _, n, _ in DESCRIPTOR_FIELDS[:i]), size, bits)
       for i, (name, size, bits) in enumerate(DESCRIPTOR_FIELDS)}
"""Each program field's byte offset, bytes and the bits the engine keeps."""
assert all(o * 8 // DW == ((o + n) * 8 - 1) // DW for o, n, _ in _AT.values()), "a field spans two program words"


def program_field(bytes_, name):
    """Field ``name`` of the program's bytes ``bytes_`` (bits, byte ``b`` at ``8 * b``): big-endian, the
    bits the engine keeps."""
    offset, size, bits = _AT[name]
    return Cat(*[bytes_[8 * (offset + size - 1 - t):8 * (offset + size - t)] for t in range(size)])[:bits]


def _decode(m, words):
    """The descriptor whose wire bytes are ``words`` (big-endian fields, the bits the engine keeps),
    and the registers of its "last" values (field - 1), which :func:`sequencer` sets, so that
    counters compare with registers for equality, with no subtraction on the path."""
    desc = Signal(descriptor_word_layout())
    for name, _, _ in DESCRIPTOR_FIELDS:  # each byte into its place: no shifting through
        m.d.comb += _field(desc, name).eq(program_field(words, name))
    last = {name: Signal(unsigned(16), name=f"{name}_last")
            for name in ("taps", "n_chunks", "n_tiles", "pooled", "out_channels", "pooled_h", "pooled_w", "gap")}
    return desc, last


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
    prog_layer, prog_word : In; prog_data : Out(DW)
        A read port of the program memory of its own (:func:`program_port_members`).

    The structure depends only on the array shape, the memory sizes, the accumulator depth, the pool
    size and the camera frame's shape and fold; the layers to run (their number included), their
    weights and parameters are memory contents.
    frames : Out(unsigned(16))
        Frames completed.
    """

    def __init__(self, *, image, acc_width=32, pipelined=True):
        check_widths(self, image)
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
            **program_port_members(image.max_layers),
        })

    @property
    def image(self):
        return self._img

    def elaborate(self, platform):
        m = Module()
        img, pipelined = self._img, self._pipelined
        R, C, W = img.rows, img.cols, self._acc_width
        L = array_latency(R, C)
        pos_bits = max(1, (img.acc_depth - 1).bit_length())  # a beat's position in its chunk
        m.submodules.act = act = ActMemory(rows=R, depth=img.act_words, addr_width=ADDR)
        m.submodules.memories = mem = EngineMemory(
            cols=C, weight_rows=img.weight_rows, param_words=img.param_words, layers=img.max_layers,
            weights=img.weights, params=img.params, program=img.descriptors, second_program_port=True)
        m.submodules.loader = loader = FrameLoader(
            rows=R, frame_shape=img.frame_shape, in_channels=img.in_channels, fold_k=img.fold_k,
            fold_pad=img.fold_pad, groups=img.in_groups, addr_width=ADDR)
        # the descriptor register holds the layer while the generator runs (FETCH comes only after
        # the layer's last write), so the generator keeps no copy of its own
        m.submodules.agen = agen = AddrGen(addr_width=ADDR, dim_width=DIM, held=True, pos_width=pos_bits,
                                           pipelined=pipelined)
        m.submodules.issue = issue = Issue(rows=R, addr_width=ADDR, pos_width=pos_bits)
        # a bank is free again `margin` cycles after the first beat of the pass that follows its
        # last pass: the beat's way to the array, then through it
        m.submodules.wload = wload = WeightLoader(rows=R, cols=C, margin=L + Issue.latency + 1)
        m.submodules.array = array = SystolicArray(rows=R, cols=C, acc_width=W)
        m.submodules.acc = acc = Accumulator(cols=C, acc_width=W, depth=img.acc_depth, latency=L, pipelined=pipelined)
        m.submodules.rq = rq = RequantStage(cols=C, acc_width=W, param_words=img.param_words, pipelined=pipelined)
        m.submodules.writer = writer = ActWriter(rows=R, cols=C, addr_width=ADDR)
        m.submodules.out = out = StreamOut(rows=R, addr_width=ADDR, dim_width=DIM)

        desc, last, fsm = sequencer(m, self, mem, loader, writer, out)
        in_load, in_run, in_out = fsm.ongoing("LOAD"), fsm.ongoing("RUN"), fsm.ongoing("OUT")
        starting = fsm.ongoing("KICK")
        m.d.comb += [self.busy.eq(~in_load), agen.desc.eq(desc.d)]

        # -- between frames: the camera frame into region 0, run-time loads into the memories ----
        wiring.connect(m, wiring.flipped(self.frame), loader.frame)
        wiring.connect(m, wiring.flipped(self.load), mem.load)
        m.d.comb += [loader.run.eq(in_load), act.load_w.eq(loader.w), mem.open.eq(in_load & loader.idle)]

        # -- a layer: beats -> array (weights a pass ahead) -> sums -> pooled bytes -> writes ----
        wiring.connect(m, agen.o, issue.beats)
        wiring.connect(m, issue.x, array.x)
        wiring.connect(m, wload.w, array.w)
        wiring.connect(m, array.y, acc.y)
        wiring.connect(m, rq.o, writer.i)
        m.d.comb += [agen.start.eq(starting),
                     wload.start.eq(starting), wload.run.eq(in_run), wload.base.eq(desc.weight_base),
                     wload.last_taps.eq(last["taps"]), wload.last_chunks.eq(last["n_chunks"]),
                     wload.last_tiles.eq(last["n_tiles"]), mem.w_addr.eq(wload.r_addr), wload.r_data.eq(mem.w_data),
                     issue.run.eq(in_run), issue.ahead.eq(wload.ahead), issue.parity.eq(wload.parity),
                     issue.last_gap.eq(last["gap"]), wload.pass_start.eq(issue.pass_start),
                     act.issue_addr.eq(issue.act_addr), issue.act_q.eq(act.q), acc.side.eq(issue.side)]
        # the accumulator is not stalled: the pool takes its every beat at the rates the sequencer
        # paces (pool windows, drain_gap)
        m.d.comb += [rq.i.valid.eq(acc.o.valid), rq.i.payload.eq(acc.o.payload)]
        connect_outputs(m, self, (desc, last, starting, in_out), mem, act, rq, writer, out)
        return m


def connect_outputs(m, engine, layer, mem, act, rq, writer, out):
    """The parts of a layer's output side that both engines share: the requantizer stage's layer
    fields and parameter RAM, the writer into the activation RAM, and the stream-out of the last
    layer's tensor in C, H, W order (its shape still in the descriptor) to ``engine.features``.
    ``layer`` is the sequencer's descriptor, its "last" values and its start and stream-out flags."""
    desc, last, starting, in_out = layer
    m.d.comb += [rq.pool.eq(desc.d.pool), rq.param_base.eq(desc.param_base), mem.p_word.eq(rq.p_word),
                 mem.p_step.eq(rq.p_step), mem.p_en.eq(rq.p_en), rq.p_data.eq(mem.p_data)]
    m.d.comb += [writer.start.eq(starting), writer.base.eq(desc.out_base), writer.groups.eq(desc.out_groups),
                 writer.channels.eq(desc.out_channels), writer.last_pooled.eq(last["pooled"]),
                 writer.last_tile.eq(last["n_tiles"]), act.layer_w.eq(writer.w)]
    wiring.connect(m, out.features, wiring.flipped(engine.features))
    m.d.comb += [out.run.eq(in_out), out.base.eq(desc.out_base), out.groups.eq(desc.out_groups),
                 out.last_w.eq(last["pooled_w"]), out.last_h.eq(last["pooled_h"]),
                 out.last_c.eq(last["out_channels"]), act.out_r.eq(out.r), act.out_sel.eq(in_out),
                 out.q.eq(act.q)]


def sequencer(m, engine, mem, loader, writer, out, registered_counts=True, last_at_fetch=False):
    """The sequencer of ``engine`` (a :class:`LayerEngine` or :class:`rtl.dot_engine.DotEngine`: its
    ``image``, ``frames`` and cycle counts): waits for a frame (LOAD), fetches a layer's descriptor
    from the program memory (FETCH), starts the layer (START, KICK), waits for its last write (RUN),
    then the next layer or the stream-out (OUT). Returns the descriptor, its "last" values and the
    FSM. A layer's cycles are counted from START to its last write by one counter. With
    ``registered_counts`` the count reaches the layer's register of ``engine.cycles`` a cycle after
    the layer ends (the ECP5's 100 MHz); without, it is written into a block RAM in the two cycles
    after, which ``engine.cycles_r`` and ``cycles_q`` read (:func:`count_ram_members`: the
    iCE40UP5K's, where a register a layer, its own adder and the reply's multiplexer over every count
    came to about 190 logic cells). With ``last_at_fetch`` the "last" values are set from each
    program word as FETCH reads it, and the descriptor's own bits of the fields only their last
    values are used for are left to synthesis to remove (the iCE40); without, from the descriptor's
    registers a cycle later, off the program RAM's output path (the ECP5's 100 MHz)."""
    img = engine.image
    layer = Signal(range(max(2, img.max_layers)))
    fk = Signal(range(PROGRAM_WORDS + 1))  # descriptor words requested in FETCH
    desc_words = Signal(PROGRAM_WORDS * DW)
    desc, last = _decode(m, desc_words)
    if not last_at_fetch:
        m.d.sync += [v.eq(_field(desc, name) - 1) for name, v in last.items()]
    # cleared at FETCH's end by its flip-flops' synchronous reset (no domain reset on it: that would take
    # the pin), so that each bit is an adder's LUT and its flip-flop in one iCE40 cell
    cyc, cyc_value = Signal(32, reset_less=True), Signal(32)
    cyc_done = Signal()
    cyc_layer = Signal.like(layer)
    m.d.comb += [mem.d_layer.eq(layer), mem.d_word.eq(fk)]

    def count():
        """One more cycle of the running layer."""
        m.d.sync += cyc.eq(cyc + 1)

    with m.FSM(name="seq") as fsm:
        with m.State("LOAD"):
            with m.If(loader.done):
                m.d.sync += [layer.eq(0), fk.eq(0)]
                m.next = "FETCH"
        with m.State("FETCH"):  # word fk requested, word fk - 1 read
            m.d.sync += fk.eq(fk + 1)
            with m.Switch(fk):
                for j in range(1, PROGRAM_WORDS + 1):
                    with m.Case(j):
                        m.d.sync += desc_words[DW * (j - 1):DW * j].eq(mem.d_data)
                        if last_at_fetch:  # the last values of the fields in this word (none spans two)
                            word = Cat(Const(0, DW * (j - 1)), mem.d_data)
                            m.d.sync += [v.eq(program_field(word, name) - 1) for name, v in last.items()
                                         if _AT[name][0] * 8 // DW == j - 1]
            with m.If(fk == PROGRAM_WORDS):  # the last layer's count is written by now
                m.d.sync += cyc.eq(0)
                m.next = "START"
        with m.State("START"):
            count()
            m.next = "KICK"
        with m.State("KICK"):
            count()
            m.next = "RUN"
        with m.State("RUN"):
            with m.If(writer.done):
                m.d.sync += [cyc_done.eq(1), cyc_layer.eq(layer), cyc_value.eq(cyc)]
                with m.If(desc.last):
                    m.next = "OUT"
                with m.Else():
                    m.d.sync += [layer.eq(layer + 1), fk.eq(0)]
                    m.next = "FETCH"
            with m.Else():
                count()
        with m.State("OUT"):
            with m.If(out.done):
                m.d.sync += engine.frames.eq(engine.frames + 1)
                m.next = "LOAD"
    if "prog_layer" in engine.signature.members:  # the program memory's second read port
        m.d.comb += [mem.c_layer.eq(engine.prog_layer), mem.c_word.eq(engine.prog_word),
                     engine.prog_data.eq(mem.c_data)]
    if registered_counts:  # a layer's count reaches `cycles` a cycle after the layer ends: no path
        # from the sequencer's state into the counters' write enables
        with m.If(cyc_done):
            m.d.sync += [engine.cycles[cyc_layer].eq(cyc_value), cyc_done.eq(0)]
    else:
        _count_ram(m, engine, cyc, writer.done & fsm.ongoing("RUN"), layer)
    return desc, last, fsm


def _count_ram(m, engine, cyc, done, layer):
    """The layer cycle counts in a block RAM: on ``done`` (the layer's last write), ``cyc`` holds
    the count until the next layer's START, a few cycles away; its halves are written in the two
    cycles after, the high half at ``2 * layer``."""
    img = engine.image
    m.submodules.counts = ram = memory.Memory(shape=16, depth=2 * img.max_layers, init=[])
    wp, rp = ram.write_port(), ram.read_port()
    half = Signal(2)  # halves still to write: 2 (the high), 1 (the low), 0
    at = Signal(range(2 * img.max_layers))
    with m.If(done):
        m.d.sync += [half.eq(2), at.eq(layer << 1)]
    with m.Elif(half != 0):
        m.d.sync += [half.eq(half - 1), at.eq(at + 1)]
    m.d.comb += [wp.en.eq(half != 0), wp.addr.eq(at), wp.data.eq(Mux(half[1], cyc[16:], cyc[:16])),
                 rp.addr.eq(engine.cycles_r), engine.cycles_q.eq(rp.data)]


def counts_of_words(words):
    """The layer cycle counts of the words a :func:`count_ram_members` RAM holds, in order."""
    return [(words[2 * i] << 16) | words[2 * i + 1] for i in range(len(words) // 2)]
