"""The edge device's data path: the layer engine's split features straight into the codec (golden
twin: :mod:`golden.edge_device`).

::

    frame (camera pixels) -> LayerEngine -> features (C, H, W order) -> skid buffer -> Codec -> o (frame bytes)

The engine's ``features`` stream is the codec's input as it is: the codec takes one element a cycle,
so coding adds no cycles to a frame beyond the codec's latency after the last element.
"""

from amaranth import Module, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out, connect, flipped

from .codec import Codec, settings_layout
from .frame import byte_layout
from .factory import engine_of
from .layer_engine import count_ram_members, program_port_members
from .skid import SkidBuffer

__all__ = ["EdgeDevice"]


class EdgeDevice(wiring.Component):
    """Parameters
    ----------
    image : golden.layer_engine.EngineImage
    acc_width : int
    payload_words : int
        The codec's payload FIFO depth (32-bit words).
    serial : bool
        The iCE40UP5K's device: the codec a bit a cycle (:class:`rtl.codec.Codec`'s ``serial``: the
        same frames, whose features then take about as many cycles to leave as the payload has
        bits), and the output-stationary :class:`rtl.dot_engine.DotEngine` instead of the ECP5's
        :class:`rtl.layer_engine.LayerEngine` (the same layer program and bytes).
    buffer_bytes : int
        With ``serial``: the link's packet buffer, this many bytes, kept in the engine's activation
        RAM (:class:`rtl.act_memory.ActMemory`) instead of block RAM of its own; :attr:`buffer` is
        then the engine, whose ports ``buf_w``, ``buf_r`` and ``buf_q`` the link drives (they are
        not in this component's signature, which the link's executor takes whole).

    Members
    -------
    frame : In(stream.Signature(unsigned(8)))
    load : the engine's run-time memory writes (see :class:`rtl.layer_engine.LayerEngine`)
    settings, level_w, code_w, header_w : the codec's (see :class:`rtl.codec.Codec`; ``header_w`` where
        ``serial``)
    o : Out(stream.Signature(byte_layout()))
    cycles : the engine's per-layer cycle counters of the last frame; or ``cycles_r`` and
        ``cycles_q``, the read port of the block RAM that holds them where the engine keeps them
        there (:func:`rtl.layer_engine.count_ram_members`, the iCE40UP5K's)
    frames : Out(unsigned(16))
        Frames sent.
    prog_layer, prog_word, prog_data :
        A read port of the engine's program memory of its own, where the engine has one (the
        layer engine: :func:`rtl.layer_engine.program_port_members`).
    """

    def __init__(self, *, image, acc_width=32, payload_words=128, serial=False, buffer_bytes=0):
        self.engine = engine_of(image, acc_width, serial, buffer_bytes if serial else 0)
        self._buf, self._serial = serial and buffer_bytes, serial
        # the SoC changes the settings only between requests (rtl.executor): the codec reads the
        # frame header from them where a logic cell is dear
        self.codec = Codec(payload_words=payload_words, serial=serial, held_settings=serial, header_ram=serial)
        ram = {"header_w": In(self.codec.header_w.signature.flip())} if serial else {}
        self._count_ram = "cycles_q" in self.engine.signature.members
        counts = count_ram_members(image.max_layers) if self._count_ram else \
            {"cycles": Out(data.ArrayLayout(unsigned(32), image.max_layers))}
        self._prog = "prog_data" in self.engine.signature.members
        prog = program_port_members(image.max_layers) if self._prog else {}
        super().__init__({**ram, **counts, **prog,
            "frame": In(stream.Signature(unsigned(8))),
            "load": In(self.engine.load.signature.flip()),
            "settings": In(settings_layout()),
            "level_w": In(self.codec.level_w.signature.flip()),
            "code_w": In(self.codec.code_w.signature.flip()),
            "o": Out(stream.Signature(byte_layout())),
            "frames": Out(unsigned(16)),
        })

    @property
    def buffer(self):
        """The component with the packet buffer's ports (``buf_w``, ``buf_r``, ``buf_q``: the
        engine), or None where the buffer is the link's own block RAM."""
        return self.engine if self._buf else None

    def elaborate(self, platform):
        m = Module()
        m.submodules.engine = engine = self.engine
        m.submodules.codec = codec = self.codec
        connect(m, flipped(self.frame), engine.frame)
        connect(m, flipped(self.load), engine.load)
        if self._serial:  # at the UP5K's clock the codec's ready goes straight back
            connect(m, engine.features, codec.i)
        else:  # a skid buffer between them: no path from the codec's ready back into the engine's
            # stream-out pipeline and the activation RAM's read enable (the ECP5's 100 MHz)
            m.submodules.feature_skid = skid = SkidBuffer(unsigned(8))
            connect(m, engine.features, skid.i)
            connect(m, skid.o, codec.i)
        connect(m, flipped(self.level_w), codec.level_w)
        connect(m, flipped(self.code_w), codec.code_w)
        if self._serial:
            connect(m, flipped(self.header_w), codec.header_w)
        connect(m, codec.o, flipped(self.o))
        m.d.comb += [codec.settings.eq(self.settings), self.frames.eq(codec.frames)]
        if self._prog:
            m.d.comb += [engine.prog_layer.eq(self.prog_layer), engine.prog_word.eq(self.prog_word),
                         self.prog_data.eq(engine.prog_data)]
        if self._count_ram:
            m.d.comb += [engine.cycles_r.eq(self.cycles_r), self.cycles_q.eq(engine.cycles_q)]
        else:
            m.d.comb += self.cycles.eq(engine.cycles)

        return m
