"""The layer program walk a device makes before it takes a FRAME (golden twin of
:class:`rtl.program_check.ProgramCheck`; docs/PROTOCOL.md section 3, FRAME).

The engine runs a layer by the counts its descriptor holds. A count of zero, or counts that
disagree with each other (the pooled pixels against the pooled rows and columns, the chunks against
the pixels, the taps against the kernel), would leave one of its parts waiting for a beat another
never sends: the device would hang. A layer that does not read where the one before wrote, or a
last layer whose shape is not the SETTINGS shape, would make a frame the format forbids. So a device
walks the program from descriptor 0 to the one marked ``last`` and checks, for each layer:

1. no zero: ``height``, ``width``, ``groups``, ``k_y``, ``k_x``, ``pool``, ``pooled_h``,
   ``pooled_w``, ``n_tiles``, ``chunk``, ``pooled``, ``n_chunks``, ``taps``;
2. ``stride`` is 1 or 2, ``pad_y`` is less than ``k_y`` and ``pad_x`` less than ``k_x``, and
   ``pool * pool * gap`` is at least :func:`golden.layer_engine.drain_cycles` of ``out_channels``
   (a result at most every ``pool * pool * gap`` cycles is what the requantizers and the writer
   keep up with; faster, the engine loses one and waits for it: a hang);
3. its input is where and what the layer before wrote: ``base``, ``height``, ``width``, ``groups``
   equal the previous layer's ``out_base``, ``pooled_h``, ``pooled_w``, ``out_groups`` (layer 0's
   equal the frame loader's, the built-in program's first descriptor);
4. ``out_groups == ceil(out_channels / rows)`` and ``out_channels <= n_tiles * cols``;
5. ``taps == k_y * k_x * groups``, ``pooled == pooled_h * pooled_w``, and ``n_chunks`` chunks of
   ``chunk`` pixels cover ``pooled * pool * pool`` pixels with the last one at least
   :data:`golden.layer_engine.MIN_CHUNK` (4) pixels; ``chunk`` is a multiple of ``pool * pool`` (a
   chunk ends on a pooling window's end) and at most the accumulator's depth (``acc_depth``);
6. it stays within the memories: its weight rows (``weight_base + n_tiles * taps * rows``) within
   the weight memory, its parameter words (``param_base + n_tiles``) within the parameter memory,
   its input (``groups * height * width`` words from ``base``) and output (``out_groups * pooled_h *
   pooled_w`` words from ``out_base``) each within half the activation memory and within the whole.

A program with no ``last`` among the device's descriptors fails. The walk's result is the last
layer's output shape ``(out_channels, pooled_h, pooled_w)``, which FRAME compares with SETTINGS's C,
H, W. The reference device then also runs the program once on a blank frame
(:meth:`golden.executor.Executor.program`), which the RTL does not: with these rules, no program the
walk passes has been seen to fail that run (tests/test_program_check.py).
"""

from .layer_engine import MIN_CHUNK, drain_cycles

__all__ = ["NONZERO", "walk"]

NONZERO = ("height", "width", "groups", "k_y", "k_x", "pool", "pooled_h", "pooled_w", "n_tiles", "chunk",
           "pooled", "n_chunks", "taps")
"""The descriptor fields that count something the engine runs (rule 1)."""
INPUT = ("base", "height", "width", "groups")
"""A layer's input fields, which rule 3 compares with :data:`WRITTEN` of the layer before."""
WRITTEN = ("out_base", "pooled_h", "pooled_w", "out_groups")


def layer_problem(d, prev, image):
    """Why descriptor ``d`` breaks rules 1 to 6 (``prev``: the values :data:`INPUT` must equal;
    ``image``: the array and memory sizes), or ``None``."""
    rows, cols = image.rows, image.cols
    zero = [k for k in NONZERO if d[k] == 0]
    if zero:
        return f"{zero[0]} is 0"
    if d["stride"] not in (1, 2):
        return f"stride {d['stride']}"
    if d["pad_y"] >= d["k_y"] or d["pad_x"] >= d["k_x"]:
        return "its padding is not less than its kernel"
    if d["pool"] * d["pool"] * d["gap"] < drain_cycles(rows, cols, d["out_channels"]):
        return "its results come faster than the requantizers and the writer take them"
    if tuple(d[k] for k in INPUT) != tuple(prev):
        return "its input is not where and what the layer before wrote"
    if d["out_groups"] != -(-d["out_channels"] // rows) or d["out_channels"] > d["n_tiles"] * cols:
        return "its output channels disagree with its groups or n-tiles"
    pixels = d["pooled"] * d["pool"] * d["pool"]
    if d["taps"] != d["k_y"] * d["k_x"] * d["groups"] or d["pooled"] != d["pooled_h"] * d["pooled_w"] \
            or not (d["n_chunks"] - 1) * d["chunk"] + MIN_CHUNK <= pixels <= d["n_chunks"] * d["chunk"] \
            or d["chunk"] % (d["pool"] * d["pool"]) or d["chunk"] > image.acc_depth:
        return "its taps, pooled pixels or chunks disagree with its shape or the accumulator"
    in_words = d["groups"] * d["height"] * d["width"]
    out_words = d["out_groups"] * d["pooled_h"] * d["pooled_w"]
    if d["weight_base"] + d["n_tiles"] * d["taps"] * rows > image.weight_rows \
            or d["param_base"] + d["n_tiles"] > image.param_words or max(in_words, out_words) > image.half \
            or d["base"] + in_words > image.act_words or d["out_base"] + out_words > image.act_words:
        return "it reads or writes beyond the weight, parameter or activation memory"
    return None


def walk(descriptors, image):
    """``(problem, shape)``: the first rule a layer of ``descriptors`` breaks (a message naming the
    layer), or ``None`` and the last layer's output shape ``(out_channels, pooled_h, pooled_w)``.
    ``image`` (:class:`golden.layer_engine.EngineImage`) gives ``rows``, ``cols``, the memory sizes,
    the first layer's input and ``max_layers``, the descriptors the device holds."""
    prev = tuple(image.descriptors[0][k] for k in INPUT)
    for i, d in enumerate(descriptors[:image.max_layers]):
        why = layer_problem(d, prev, image)
        if why:
            return f"layer descriptor {i}: {why}", None
        if d["last"]:
            return None, (d["out_channels"], d["pooled_h"], d["pooled_w"])
        prev = tuple(d[k] for k in WRITTEN)
    return "the layer program has no layer marked last", None
