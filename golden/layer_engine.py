"""Golden twin of the layer engine: the tile schedule and memory layout the RTL sequencer executes.

:func:`compile_program` turns the quantized edge part and an array shape (``rows`` = K-tile,
``cols`` = N-tile) into a :class:`Program`. :func:`execute` runs it exactly as the hardware will,
with :func:`golden.systolic.systolic` for every pass, and must equal :func:`golden.edge.run` bit for
bit. :func:`schedule_cycles` counts the cycles of that schedule. It is the design model that the RTL
cycle counters will be checked against, not a measurement.

**Activation memory.** A tensor ``(Ch, H, W)`` is stored as words of ``rows`` bytes. Word
``(y * W + x) * G + g`` holds channels ``g*rows .. g*rows + rows - 1`` of pixel ``(y, x)``
(``G = ceil(Ch / rows)`` groups, missing channels are zero). One memory read therefore gives the
``rows`` activations the array takes in one cycle.

**Tap order.** A layer's reduction runs over tap tiles ``(ky, kx, g)``. Tile ``(ky, kx, g)`` multiplies
the word of input pixel ``(oy + ky - pad, ox + kx - pad)`` (a zero word outside the tensor) with
weights ``W[n, g*rows + r, ky, kx]``. The golden im2col order is (c, ky, kx); integer addition is
exact, so the order changes nothing.

**Folded first layer.** When the input has fewer channels than ``rows`` (the 1- or 3-channel camera
frame), the loader that writes the frame folds the ``k`` horizontal taps into channels when that
fills more of the array's rows. Virtual channel ``j = kx * Cin + c`` of pixel ``(y, x)`` holds
``in[c, y, x + kx - pad]``, and the layer runs as a ``k x 1`` convolution over ``k * Cin`` channels
(stride and vertical padding unchanged): 3 of 4 array rows busy instead of 1 for a 1-channel frame.

**Stride.** Output pixel ``(oy, ox)`` of a stride-``s`` layer reads input pixel
``(s * oy + ky - pad, s * ox + kx - pad)`` for tap ``(ky, kx)``.

**Output order.** Output pixels are computed in chunks of at most ``acc_depth`` pixels (and at
least :data:`MIN_CHUNK`, so that a pixel's sums are read again only after their write), pooled
window by window (a pool that does not divide the convolution's output drops its last rows and
columns, which are then never computed): for pooled pixel ``(py, px)`` the ``p x p`` pixels ``(p*py + dy, p*px + dx)`` are
consecutive, so the stream max-pool takes groups of ``p*p`` beats. For each chunk, all tap tiles are
accumulated (bias first), then max-pooled, requantized and written to the output tensor's words.
Pooling the accumulator sums before requantizing gives the same bytes as the other order, because
requantization (a positive multiplier, a rounding shift, a clamp) never decreases; it lets
:func:`requantizers` units, time-shared over the lanes, requantize one pooled pixel per window. A
layer without pooling makes a result every beat of its last tap, faster than they drain, so the
sequencer spaces those beats :func:`drain_gap` cycles apart.

**Split tensor out.** After the last edge layer, the features leave in C, H, W scan order (the
frame format's order) as bytes read from the words.
"""

import math
from dataclasses import dataclass

import numpy as np

from .addrgen import Descriptor, addresses, tap_order
from .errors import ConfigError
from .frame_loader import load_frame, to_words
from .maxpool import maxpool_beats
from .requant import requantize
from .stream_out import stream_out as _stream_out
from .systolic import latency as array_latency
from .systolic import systolic


@dataclass(frozen=True)
class LayerOp:
    """One edge layer as the sequencer runs it."""

    index: int
    in_shape: tuple  # (channels as stored, H, W) of the input tensor (folded channels if folded)
    out_shape: tuple  # (Cout, OH/p, OW/p) after pooling
    conv_shape: tuple  # (Cout, OH, OW) before pooling
    k_y: int
    k_x: int  # 1 when folded
    pad_y: int
    pad_x: int  # 0 when folded (the fold applied it)
    pool: int
    stride: int
    folded: bool
    groups: int  # input channel groups of `rows`
    n_tiles: int
    taps: tuple  # ((ky, kx, g), ...)
    weights: np.ndarray  # (n_tiles, len(taps), rows, cols) int8
    bias: np.ndarray  # (n_tiles * cols,) int64, 0 beyond Cout
    mult: np.ndarray  # (n_tiles * cols,)
    shift: np.ndarray  # (n_tiles * cols,)
    chunks: tuple  # ((first_pixel, pixels), ...) in the pooled pixel order
    macs: int  # MACs of the pixels the layer computes (its pooled windows)

    @property
    def pixel_order(self):
        """Output pixels ``(oy, ox)`` in computation order (pool windows consecutive)."""
        _, ph, pw = self.out_shape
        p = self.pool
        return [(p * py + dy, p * px + dx) for py in range(ph) for px in range(pw)
                for dy in range(p) for dx in range(p)]


@dataclass(frozen=True)
class Program:
    rows: int
    cols: int
    layers: tuple
    acc_depth: int

    @property
    def out_shape(self):
        return self.layers[-1].out_shape

    def weight_bytes(self):
        return sum(op.weights.size for op in self.layers)

    def activation_words(self):
        """Words of the ping-pong activation memory: two halves, each holding the largest tensor."""
        return 2 * max(max(_words(op.in_shape, self.rows), _words(op.out_shape, self.rows))
                       for op in self.layers)


def _groups(ch, rows):
    return -(-ch // rows)


def _words(shape, rows):
    c, h, w = shape
    return h * w * _groups(c, rows)


def chunking(pixels, step):
    """Chunks ``(first pixel, pixels)`` of ``step`` output pixels, the last one shorter."""
    return tuple((s, min(step, pixels - s)) for s in range(0, pixels, step))


MIN_CHUNK = 4
"""Fewest pixels in a chunk: a pixel's sums are read for its next tap at least this many beats
after their write (the accumulator RAM's port is not transparent, fpga.build.READ_WRITE_APART)."""


def chunk_step(pixels, pool, acc_depth):
    """Pixels per chunk of a layer: the largest multiple of ``pool**2`` up to ``acc_depth`` whose
    last chunk is :data:`MIN_CHUNK` pixels or more (a pool window has 4 or more; a layer without
    pooling may need a smaller step); :class:`ConfigError` if there is none."""
    p2 = pool * pool
    if p2 > acc_depth:
        raise ConfigError(f"a {pool}x{pool} pool window is {p2} pixels, more than the accumulator's "
                          f"{acc_depth}; choose a deeper accumulator")
    for step in range(acc_depth // p2 * p2, 0, -p2):
        if min(step, pixels - (pixels - 1) // step * step) >= MIN_CHUNK:
            return step
    raise ConfigError(f"a layer of {pixels} output pixels cannot be cut into chunks of {MIN_CHUNK} "
                      f"pixels or more; the engine needs at least {MIN_CHUNK}")


def compile_program(model, split, rows, cols, acc_depth=256):
    """The :class:`Program` running edge blocks ``1 .. split`` of ``model`` on a ``rows x cols`` array."""
    if acc_depth < 4:
        raise ConfigError(f"acc_depth must be at least 4, not {acc_depth}")
    ops = []
    c, h, w = model.spec.in_shape
    for i, layer in enumerate(model.layers[:split]):
        b = layer.block
        if b.cin != c:
            raise ConfigError(f"layer {i + 1} expects {b.cin} input channels, its input has {c}")
        if b.k != 1 and not b.pad < b.k:
            raise ConfigError(f"layer {i + 1}: padding {b.pad} must be below the kernel size {b.k}")
        fill = c / (rows * _groups(c, rows))
        fill_folded = b.k * c / (rows * _groups(b.k * c, rows))
        folded = i == 0 and b.k > 1 and fill_folded > fill
        in_ch = b.k * c if folded else c
        groups = _groups(in_ch, rows)
        kx_n = 1 if folded else b.k
        taps = tap_order(b.k, kx_n, groups)
        n_tiles = -(-b.cout // cols)
        w4 = layer.weight.reshape(b.cout, b.cin, b.k, b.k).astype(np.int64)
        wt = np.zeros((n_tiles, len(taps), rows, cols), np.int64)
        for t, (ky, kx, g) in enumerate(taps):
            for r in range(rows):
                j = g * rows + r
                if j >= in_ch:
                    continue
                cin, kxx = (j % c, j // c) if folded else (j, kx)
                for n in range(b.cout):
                    wt[n // cols, t, r, n % cols] = w4[n, cin, ky, kxx]
        oh, ow = b.conv_shape(h, w)
        ph, pw = oh // b.pool, ow // b.pool
        if min(ph, pw) < 1:
            raise ConfigError(f"layer {i + 1}: its {oh}x{ow} output has no whole {b.pool}x{b.pool} pool window")
        pixels = ph * pw * b.pool * b.pool
        try:
            chunks = chunking(pixels, chunk_step(pixels, b.pool, acc_depth))
        except ConfigError as exc:
            raise ConfigError(f"layer {i + 1}: {exc}") from None
        pad_to = n_tiles * cols
        ops.append(LayerOp(
            index=i + 1, in_shape=(in_ch, h, w), out_shape=(b.cout, ph, pw),
            conv_shape=(b.cout, oh, ow), k_y=b.k, k_x=kx_n, pad_y=b.pad, pad_x=0 if folded else b.pad,
            pool=b.pool, stride=b.stride, folded=folded, groups=groups, n_tiles=n_tiles, taps=taps,
            weights=wt.astype(np.int8), bias=_per_channel(layer.bias, pad_to),
            mult=_per_channel(layer.mult, pad_to, 1 << 15), shift=_per_channel(layer.shift, pad_to, 16),
            chunks=chunks, macs=pixels * b.cout * b.taps))
        c, h, w = b.cout, ph, pw
    return Program(rows=rows, cols=cols, layers=tuple(ops), acc_depth=acc_depth)


def _per_channel(values, pad_to, fill=0):
    """Per-output-channel values padded to whole n-tiles (padding channels are never written)."""
    out = np.full(pad_to, fill, np.int64)
    out[:len(values)] = values
    return out


# -- memory images -----------------------------------------------------------------------------------


def from_words(words, shape, rows):
    ch, h, w = shape
    g = _groups(ch, rows)
    return words.reshape(h, w, g, rows).transpose(2, 3, 0, 1).reshape(g * rows, h, w)[:ch]


# -- execution ---------------------------------------------------------------------------------------
def gather(words, d, rows, pixels, tap):
    """The ``rows``-wide activation vectors the address generator feeds for ``pixels`` and ``tap``
    of the layer with :class:`golden.addrgen.Descriptor` ``d``."""
    addr, inside = addresses(d, *np.asarray(pixels, np.int64).reshape(-1, 2).T, tap)
    out = np.zeros((len(addr), rows), np.int64)
    out[inside] = words[addr[inside]]
    return out


def run_layer(op, words, rows, cols, trace=None):
    """Output words of one layer from its input words, pass by pass as the hardware does."""
    order = np.asarray(op.pixel_order, np.int64).reshape(-1, 2)
    d = Descriptor.of(op)
    out = np.zeros((op.n_tiles * cols, *op.out_shape[1:]), np.uint8)
    _, ph, pw = op.out_shape
    p2 = op.pool * op.pool
    for nt in range(op.n_tiles):
        lanes = slice(nt * cols, (nt + 1) * cols)
        for first, count in op.chunks:
            pixels = order[first:first + count]
            acc = np.broadcast_to(op.bias[lanes], (count, cols)).copy()
            for t, tap in enumerate(op.taps):
                x = gather(words, d, rows, pixels, tap)
                bank = np.full(count, t % 2)  # taps alternate banks: one loads while one computes
                banks = np.zeros((2, rows, cols), np.int64)
                banks[t % 2] = op.weights[nt, t]
                acc += systolic(x, banks, bank)
            if trace is not None:
                trace.append((op.index, nt, first, acc.copy()))
            pooled = requantize(maxpool_beats(acc, p2), op.mult[lanes], op.shift[lanes])
            for q, (py_px) in enumerate(range(first // p2, (first + count) // p2)):
                out[lanes, py_px // pw, py_px % pw] = pooled[q]
    return to_words(out[:op.out_shape[0]], rows)


def execute(program, frame, trace=None, run=None):
    """The split features ``(C, H, W)`` uint8 of one camera ``frame`` ``(Cin, H, W)``; each layer run
    by ``run(op, words, rows, cols)`` (default: this engine's :func:`run_layer`)."""
    rows, cols = program.rows, program.cols
    first = program.layers[0]
    words = load_frame(frame, rows, first.k_y if first.folded else 1, first.pad_y)
    for op in program.layers:
        words = run_layer(op, words, rows, cols, trace) if run is None else run(op, words, rows, cols)
    return from_words(words, program.out_shape, rows)


def stream_out(program, words):
    """The split tensor's bytes in C, H, W order, read from its words as the hardware streams it."""
    return _stream_out(words, program.out_shape, program.rows)


# -- schedule ----------------------------------------------------------------------------------------
def requantizers(cols, pool=2):
    """Requantizers the engine shares over ``cols`` lanes: enough for one pooled pixel of ``cols``
    values every ``pool * pool`` cycles, the rate at which the array makes them (the engine is
    built for 2x2 windows; larger ones leave it idle longer, none is paced by :func:`drain_gap`)."""
    return -(-cols // (pool * pool))


def rq_steps(cols):
    """Cycles a pooled pixel takes to enter the engine's :func:`requantizers`."""
    return -(-cols // requantizers(cols))


def widest_beat(rows, cols, channels):
    """Activation words the widest output beat of a layer of ``channels`` output channels can cover
    (the writer takes a cycle a word and one more to take the next beat): a beat holds at most
    ``min(cols, channels)`` channels from a multiple of ``cols``, whose offset in its word is a
    multiple of ``gcd(rows, cols)``, at most ``rows - gcd``."""
    return (rows - math.gcd(rows, cols) + min(cols, channels) - 1) // rows + 1


def drain_cycles(rows, cols, channels):
    """Cycles the requantizers and the writer need between two results of a layer of ``channels``
    output channels: the last-tap beats of a layer without pooling come this far apart, and a pooled
    layer's window of ``pool * pool`` beats must last as long (:func:`golden.program_check.walk`
    refuses a program whose layer paces them faster: the engine would lose a result and wait for
    it)."""
    return max(rq_steps(cols), widest_beat(rows, cols, channels) + 1)


def drain_gap(op, rows, cols):
    """Cycles between two last-tap beats of layer ``op``: 1 (back to back) for a pooled layer, whose
    window of four or more beats leaves the requantizers and the writer time for its result; for a
    layer without pooling every beat is a result, so they are spaced :func:`drain_cycles` apart."""
    return 1 if op.pool > 1 else drain_cycles(rows, cols, op.out_shape[0])


def schedule_cycles(program, requant_lanes=None, mem_latency=1):
    """Cycles of every layer under the engine's schedule, and the array's utilization.

    The array takes one vector per cycle; tap passes of a chunk and chunks follow each other with
    no gap (weights for the next tap load into the other bank meanwhile), but the beats of a last
    tap come :func:`drain_gap` cycles apart, and a pass takes at least as long as loading the next
    pass's weights into the bank that a pass before it used (its last beat through the array,
    then ``rows`` rows): short passes (chunks of few pixels) are weight-load-bound. A chunk's pooling and
    requantization (``count / p**2 * cols`` pooled values at ``requant_lanes`` per cycle) overlaps
    the next chunk's passes, so a layer waits for it only when it is longer. The pipeline fills once
    per layer. The RTL has :func:`requantizers` units (the default).
    """
    rows, cols = program.rows, program.cols
    fill = array_latency(rows, cols) + mem_latency + 3
    load_floor = array_latency(rows, cols) + 4 + rows + 2  # the RTL's MARGIN, the rows, two turns
    layers = []
    for op in program.layers:
        p2 = op.pool * op.pool
        lanes = requantizers(cols) if requant_lanes is None else requant_lanes
        gap = drain_gap(op, rows, cols)
        cycles = 0
        for _ in range(op.n_tiles):
            for _, count in op.chunks:
                compute = ((len(op.taps) - 1) * max(count, load_floor)
                           + max((count - 1) * gap + 1, load_floor))
                drain = -(-(count // p2) * cols // lanes)
                cycles += max(compute, drain)
        # then the last results through the pool, the requantizers and the writer: a chunk's
        # worth of them, or for a paced layer the few that follow its last beat
        cycles += fill + p2 + (-(-(op.chunks[-1][1] // p2) * cols // lanes) if gap == 1 else 10 * gap)
        layers.append(layer_figures(op, cycles, rows, cols, gap=gap, chunks=len(op.chunks)))
    return schedule_figures(layers, rows, cols, lanes)


def layer_figures(op, cycles, rows, cols, *, gap, chunks):
    """A layer's entry of a schedule model (:func:`schedule_cycles`, :func:`golden.dot_engine.schedule_cycles`)."""
    ideal = op.macs / (rows * cols)
    return {"layer": op.index, "macs": op.macs, "cycles": cycles, "ideal_cycles": ideal,
            "utilization": ideal / cycles, "folded": op.folded, "taps": len(op.taps),
            "in_channels": op.in_shape[0] // (op.k_y if op.folded else 1),
            "k": op.k_y, "stride": op.stride, "pool": op.pool, "gap": gap,
            "n_tiles": op.n_tiles, "chunks": chunks}


def schedule_figures(layers, rows, cols, lanes):
    """A schedule model's totals over its :func:`layer_figures`."""
    total = sum(x["cycles"] for x in layers)
    macs = sum(x["macs"] for x in layers)
    return {"rows": rows, "cols": cols, "requant_lanes": lanes, "layers": layers,
            "cycles": total, "macs": macs, "utilization": macs / (total * rows * cols)}


def schedule_for(cfg, program=None):
    """The schedule model of ``cfg``'s engine for ``program`` (``cfg``'s by default): this module's
    :func:`schedule_cycles` for the ECP5's engine, :func:`golden.dot_engine.schedule_cycles` for the
    iCE40UP5K's (``cfg.serial``)."""
    from . import dot_engine

    program = program_for(cfg) if program is None else program
    return (dot_engine.schedule_cycles if cfg.serial else schedule_cycles)(program)


def program_for(cfg, model=None):
    """The checked :class:`Program` of ``cfg``: its model, split, array shape and memory sizes.

    Raises :class:`ConfigError` naming the limit when the network does not fit the memories.
    """
    from .ptq import int_model

    model = int_model(cfg) if model is None else model
    prog = compile_program(model, cfg.device_blocks, cfg.rows, cfg.cols, cfg.acc_depth)
    check_memories(prog, cfg.act_mem_bytes, cfg.weight_mem_bytes)
    return prog


def check_memories(prog, act_mem_bytes, weight_mem_bytes):
    """:class:`ConfigError` naming the limit when ``prog`` does not fit the engine's memories."""
    rows, cols = prog.rows, prog.cols
    act = prog.activation_words() * rows
    if act > act_mem_bytes:
        worst = max(prog.layers, key=lambda op: max(_words(op.in_shape, rows), _words(op.out_shape, rows)))
        raise ConfigError(
            f"layer {worst.index} needs {act} bytes of activation memory (two ping-pong halves of "
            f"{rows}-byte words) but act_mem_bytes is {act_mem_bytes}; raise act_mem_bytes, "
            f"choose an earlier split or another array shape")
    if prog.weight_bytes() > weight_mem_bytes:
        raise ConfigError(
            f"the edge layers need {prog.weight_bytes()} bytes of weight memory as {rows}x{cols} "
            f"tiles but weight_mem_bytes is {weight_mem_bytes}; raise weight_mem_bytes or choose "
            f"an earlier split")


# -- memory image of the RTL engine ------------------------------------------------------------------
@dataclass(frozen=True)
class EngineImage:
    """Everything the RTL layer engine is initialised with; its structure depends only on sizes.

    - ``descriptors``: one dict per layer, the :class:`golden.addrgen.Descriptor` fields plus
      ``out_base``, ``out_groups``, ``out_channels``, ``pooled`` (pooled pixels), ``n_chunks``,
      ``taps``, ``weight_base``, ``param_base``, ``gap`` (:func:`drain_gap`), ``last``;
    - ``weights``: rows of ``cols`` int8 weights, layer by layer in (n_tile, tap, row) order;
    - ``params``: one word per (layer, n_tile): ``cols`` lanes of ``{"bias", "mult", "shift"}``;
    - ``half``: words of each ping-pong activation region (layer ``i`` reads region ``i % 2``);
    - the loader: ``in_channels`` bytes a camera pixel (interleaved), ``fold_k`` taps folded into
      channels (1: none), ``fold_pad``, ``in_groups`` words per pixel;
    - memory sizes (``act_words``, ``weight_rows``, ``param_words``, ``max_layers``) from the
      configuration, not from the program: another split or network changes contents only.
    """

    rows: int
    cols: int
    acc_depth: int
    half: int
    descriptors: tuple
    weights: tuple
    params: tuple
    frame_shape: tuple  # (H, W) of the camera frame
    in_channels: int  # its channels, interleaved in raster order
    fold_k: int
    fold_pad: int
    in_groups: int
    out_shape: tuple
    act_words: int
    weight_rows: int
    param_words: int
    max_layers: int


PARAM_WORDS = 64
MAX_LAYERS = 8
MAX_IN_CHANNELS = 3


def program_from_image(image, descriptors=None, weights=None, params=None):
    """The :class:`Program` the engine runs from the memory contents of ``image``: layers from the
    descriptors up to the one marked ``last``, each with its weight rows and parameter words.

    ``descriptors``, ``weights`` and ``params`` replace the image's memories (what a LOAD_MEM wrote;
    rows beyond the image's are allowed). This is the golden view of the RTL's memories: running it
    with :func:`execute` is what the engine computes. :class:`ConfigError` for contents the engine
    cannot run (a program with no last layer, a layer reading beyond the memories).
    """
    descriptors = image.descriptors if descriptors is None else descriptors
    weights = image.weights if weights is None else weights
    params = image.params if params is None else params
    rows, cols = image.rows, image.cols
    ops = []
    for i, d in enumerate(descriptors):
        if min(d["height"], d["width"], d["groups"], d["k_y"], d["k_x"], d["pool"], d["pooled_h"],
               d["pooled_w"], d["n_tiles"], d["chunk"]) < 1:
            raise ConfigError(f"layer descriptor {i} has a zero dimension")
        taps = tap_order(d["k_y"], d["k_x"], d["groups"])
        nt, p = d["n_tiles"], d["pool"]
        wb, pb = d["weight_base"], d["param_base"]
        if wb + nt * len(taps) * rows > len(weights) or pb + nt > len(params):
            raise ConfigError(f"layer descriptor {i} reads beyond the weight or parameter memory")
        w = np.array([weights[wb + j] for j in range(nt * len(taps) * rows)], np.int64)
        lanes = [lane for j in range(nt) for lane in params[pb + j]]
        pixels = d["pooled_h"] * d["pooled_w"] * p * p
        folded = i == 0 and image.fold_k > 1
        stride = d.get("stride", 1)
        if stride not in (1, 2):
            raise ConfigError(f"layer descriptor {i} has stride {stride}; the engine takes 1 or 2")
        in_words = d["groups"] * d["height"] * d["width"]
        out_words = _groups(d["out_channels"], rows) * d["pooled_h"] * d["pooled_w"]
        if max(in_words, out_words) > image.half or d["base"] + in_words > image.act_words \
                or d["out_base"] + out_words > image.act_words or d["out_channels"] > nt * cols:
            raise ConfigError(f"layer descriptor {i} reads or writes beyond the activation memory, or has more "
                              f"output channels than its n-tiles")
        src = image.descriptors[0] if i == 0 else descriptors[i - 1]
        keys = ("base", "height", "width", "groups") if i == 0 else ("out_base", "pooled_h", "pooled_w", "out_groups")
        if tuple(src[k] for k in keys) != (d["base"], d["height"], d["width"], d["groups"]) \
                or d["out_groups"] != _groups(d["out_channels"], rows):
            raise ConfigError(f"layer descriptor {i}'s input is not where and what " + (
                "the frame loader writes" if i == 0 else f"layer descriptor {i - 1} writes"))
        ops.append(LayerOp(
            index=i + 1, in_shape=(d["groups"] * rows, d["height"], d["width"]),
            out_shape=(d["out_channels"], d["pooled_h"], d["pooled_w"]),
            conv_shape=(d["out_channels"], d["pooled_h"] * p, d["pooled_w"] * p), k_y=d["k_y"], k_x=d["k_x"],
            pad_y=d["pad_y"], pad_x=d["pad_x"], pool=p, stride=stride, folded=folded, groups=d["groups"], n_tiles=nt,
            taps=taps, weights=w.reshape(nt, len(taps), rows, cols).astype(np.int8),
            bias=np.array([x["bias"] for x in lanes], np.int64), mult=np.array([x["mult"] for x in lanes], np.int64),
            shift=np.array([x["shift"] for x in lanes], np.int64),
            chunks=chunking(pixels, d["chunk"]),
            macs=pixels * d["out_channels"] * len(taps) * rows))
        if d["last"]:
            return Program(rows=rows, cols=cols, layers=tuple(ops), acc_depth=image.acc_depth)
    raise ConfigError("the layer program has no layer marked last")


def param_words(op, cols):
    """The parameter words of layer ``op``: one an n-tile, ``cols`` lanes of
    ``{"bias", "mult", "shift"}`` each."""
    return [tuple({"bias": int(b), "mult": int(m), "shift": int(s)}
                  for b, m, s in zip(op.bias[n * cols:(n + 1) * cols], op.mult[n * cols:(n + 1) * cols],
                                     op.shift[n * cols:(n + 1) * cols]))
            for n in range(op.n_tiles)]


def image_for(cfg):
    """The :class:`EngineImage` of ``cfg``: its program in its memories (:class:`ConfigError` naming
    the layer and the limit of what the engine cannot run)."""
    return engine_image(program_for(cfg), cfg.act_mem_bytes, cfg.weight_mem_bytes)


def engine_image(program, act_mem_bytes=65536, weight_mem_bytes=8192):
    """The :class:`EngineImage` of ``program`` in memories of the given sizes; :class:`ConfigError`
    for what the RTL cannot run or hold."""
    rows, cols = program.rows, program.cols
    first = program.layers[0]
    in_channels = first.in_shape[0] // first.k_y if first.folded else first.in_shape[0]
    if in_channels > MAX_IN_CHANNELS:
        raise ConfigError(f"the engine's loader takes camera frames of 1 to {MAX_IN_CHANNELS} channels, "
                          f"not {in_channels}")
    for op in program.layers:
        if op.pool > 3 or op.k_y > 7 or op.stride > 2 or max(op.pad_y, op.pad_x) > 3:
            raise ConfigError(f"layer {op.index}: the engine runs kernels up to 7x7, stride 1 or 2, "
                              f"padding up to 3 and pools up to 3x3, not k {op.k_y}, stride {op.stride}, "
                              f"pad {op.pad_y}, pool {op.pool}")
    check_memories(program, act_mem_bytes, weight_mem_bytes)
    act_words = act_mem_bytes // rows // 2 * 2  # two equal ping-pong halves
    half = act_words // 2
    if len(program.layers) > MAX_LAYERS:
        raise ConfigError(f"the engine runs at most {MAX_LAYERS} layers, not {len(program.layers)}")
    descs, weights, params = [], [], []
    for i, op in enumerate(program.layers):
        cout = op.out_shape[0]
        if op.pool > 1 and drain_cycles(rows, cols, cout) > op.pool * op.pool:
            # the writer takes a cycle per word and one to take the next pooled pixel
            span = widest_beat(rows, cols, cout)
            raise ConfigError(f"layer {op.index}: a {cols}-channel output beat can span {span} "
                              f"activation words; writing them takes {span + 1} cycles, more than "
                              f"the {op.pool * op.pool} a pool window leaves; choose cols and rows that divide "
                              f"each other")
        d = Descriptor.of(op, base=(i % 2) * half)
        descs.append(dict(d.__dict__, out_base=((i + 1) % 2) * half, out_groups=_groups(cout, rows),
                          out_channels=cout, pooled=op.out_shape[1] * op.out_shape[2],
                          n_chunks=len(op.chunks), taps=len(op.taps), weight_base=len(weights),
                          param_base=len(params), gap=drain_gap(op, rows, cols),
                          last=int(i == len(program.layers) - 1)))
        for nt in range(op.n_tiles):
            for t in range(len(op.taps)):
                weights.extend(tuple(int(v) for v in op.weights[nt, t, r]) for r in range(rows))
        params.extend(param_words(op, cols))
    if len(params) > PARAM_WORDS:
        raise ConfigError(f"the layers need {len(params)} parameter words, the engine has {PARAM_WORDS}")
    return EngineImage(rows=rows, cols=cols, acc_depth=program.acc_depth, half=half, descriptors=tuple(descs),
                       weights=tuple(weights), params=tuple(params),
                       frame_shape=first.in_shape[1:], in_channels=in_channels,
                       fold_k=first.k_y if first.folded else 1,
                       fold_pad=first.pad_y if first.folded else 0, in_groups=first.groups,
                       out_shape=program.out_shape, act_words=act_words,
                       weight_rows=weight_mem_bytes // cols, param_words=PARAM_WORDS, max_layers=MAX_LAYERS)
