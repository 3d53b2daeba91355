"""The activation memory and its arbiter: every port of the RAM is assigned here, once.

The engine's users of the activation memory never overlap in time, and the sequencer's state says
which one owns a port: the frame loader writes while a frame comes in, the writer while a layer
runs; the issue stage reads while a layer runs, the stream-out after the last layer. This block has
no behaviour of its own to twin in golden: it only selects (its users' twins are
:mod:`golden.frame_loader`, :mod:`golden.act_writer` and :mod:`golden.stream_out`).
"""

from amaranth import Cat, Const, Module, Mux, Signal, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from ._params import is_int, require
from .bram import RegisteredRAM

__all__ = ["ActMemory", "write_layout", "read_layout", "buffer_write_layout", "buffer_read_layout"]


def write_layout(addr_width, rows):
    """A write request: a word address, ``rows`` bytes and their byte enables (none: no write)."""
    return data.StructLayout({"addr": unsigned(addr_width), "data": unsigned(8 * rows), "mask": unsigned(rows)})


def read_layout(addr_width):
    """A read request: address, and ``en`` to read and to move the output register."""
    return data.StructLayout({"addr": unsigned(addr_width), "en": 1})


def buffer_write_layout():
    """A byte of the packet buffer to write (``en``) at its byte address."""
    return data.StructLayout({"addr": unsigned(16), "data": unsigned(8), "en": 1})


def buffer_read_layout():
    """A packet buffer read: byte address, read enable, output register enable."""
    return data.StructLayout({"addr": unsigned(16), "en": 1, "q_en": 1})


class ActMemory(wiring.Component):
    """Ping-pong activation RAM of ``depth`` words of ``rows`` bytes, with its two writers and two
    readers (:class:`rtl.bram.RegisteredRAM`: writes land a cycle late, a word comes back
    :attr:`latency` cycles after its address).

    Parameters
    ----------
    rows : int
        Bytes a word.
    depth : int
        Words; even: layer ``i`` reads one half while writing the other, so each half can be a
        single-port RAM (the UP5K's SPRAM).
    addr_width : int
    buffer_bytes : int
        0, or the link's packet buffer kept here as well, in words past ``depth`` (the second half's
        SPRAMs on the iCE40UP5K, where a half of the default activation RAM uses a quarter of
        them): byte ``b`` is byte ``b % rows`` of word ``depth + b // rows`` (``rows`` a power of
        two). The receiver writes it only between requests, while the engine is idle, and the
        executor reads it only while a request runs, when the engine is idle or its frame loader
        writes the first half: a buffer access never meets the engine's in a half.

    Members
    -------
    load_w, layer_w : In(write_layout(addr_width, rows))
        The frame loader's and the writer's writes; at most one has a mask at a time (the loader's
        wins).
    issue_addr : In(unsigned(addr_width))
        The issue stage's read address, read every cycle unless the stream-out owns the port.
    issue_en : In(1, init=1)
        Low: the issue stage's read and the output register hold (a stalled pipeline).
    out_r : In(read_layout(addr_width))
        The stream-out's read, which owns the read port while ``out_sel`` is high.
    out_sel : In(1)
    q : Out(8 * rows)
        The registered word.
    buf_w : In(buffer_write_layout()), buf_r : In(buffer_read_layout()), buf_sel : In(1),
    buf_q : Out(8)
        With ``buffer_bytes``: the packet buffer's write, its read (which owns the read port while
        ``buf_sel`` is high) and the byte read, :attr:`latency` cycles after its address.
    """

    latency = RegisteredRAM.latency

    def __init__(self, *, rows, depth, addr_width=16, buffer_bytes=0):
        require(self, is_int(rows, 1, 64), f"rows must be an integer between 1 and 64, not {rows!r}")
        require(self, is_int(depth, 2, 1 << addr_width) and depth % 2 == 0,
                f"depth must be an even number of words up to 2**addr_width, not {depth!r}")
        require(self, is_int(buffer_bytes, 0) and (buffer_bytes == 0 or rows & (rows - 1) == 0),
                f"buffer_bytes must be 0 or, with a power-of-two rows, positive, not {buffer_bytes!r}")
        self._rows, self._depth, self._aw = rows, depth, addr_width
        self._buf_words = -(-buffer_bytes // rows)
        buffer = {"buf_w": In(buffer_write_layout()), "buf_r": In(buffer_read_layout()), "buf_sel": In(1),
                  "buf_q": Out(8)} if buffer_bytes else {}
        super().__init__({**buffer,
            "load_w": In(write_layout(addr_width, rows)), "layer_w": In(write_layout(addr_width, rows)),
            "issue_addr": In(unsigned(addr_width)), "issue_en": In(1, init=1), "out_r": In(read_layout(addr_width)), "out_sel": In(1),
            "q": Out(8 * rows),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.ram = ram = RegisteredRAM(width=8 * self._rows, depth=self._depth, registered_writes=True,
                                               single_port_halves=True, spare=self._buf_words)
        w = Mux(self.load_w.mask != 0, self.load_w, self.layer_w)
        w = data.View(write_layout(self._aw, self._rows), w)
        m.d.comb += [ram.w_addr.eq(w.addr), ram.w_data.eq(w.data), ram.w_en.eq(w.mask),
                     ram.r_addr.eq(Mux(self.out_sel, self.out_r.addr, self.issue_addr)),
                     ram.r_en.eq(Mux(self.out_sel, self.out_r.en, self.issue_en)),
                     ram.q_en.eq(Mux(self.out_sel, self.out_r.en, self.issue_en)),
                     self.q.eq(ram.q)]
        if self._buf_words:
            self._buffer(m, ram, w)
        return m

    def _buffer(self, m, ram, w):
        """The packet buffer's bytes in the words past ``depth``: its write when no other writes,
        its read while ``buf_sel``, and the byte of the word read."""
        lb = (self._rows - 1).bit_length()
        bw, br = self.buf_w, self.buf_r
        with m.If((w.mask == 0) & bw.en):
            m.d.comb += [ram.w_addr.eq(self._depth + (bw.addr >> lb)), ram.w_data.eq(Cat(*[bw.data] * self._rows)),
                         ram.w_en.eq(Const(1, self._rows) << bw.addr[:lb] if lb else 1)]
        with m.If(self.buf_sel):
            m.d.comb += [ram.r_addr.eq(self._depth + (br.addr >> lb)), ram.r_en.eq(br.en), ram.q_en.eq(br.q_en)]
        if lb:
            lane1, lane2 = Signal(lb), Signal(lb)
            with m.If(self.buf_sel & br.en):
                m.d.sync += lane1.eq(br.addr[:lb])
            with m.If(self.buf_sel & br.q_en):
                m.d.sync += lane2.eq(lane1)
            m.d.comb += self.buf_q.eq(ram.q.word_select(lane2, 8))
        else:
            m.d.comb += self.buf_q.eq(ram.q)
