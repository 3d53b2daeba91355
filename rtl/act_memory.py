"""The activation memory and its arbiter: every port of the RAM is assigned here, once.

The engine's users of the activation memory never overlap in time, and the sequencer's state says
which one owns a port: the frame loader writes while a frame comes in, the writer while a layer
runs; the issue stage reads while a layer runs, the stream-out after the last layer. This block has
no behaviour of its own to twin in golden: it only selects (its users' twins are
:mod:`golden.frame_loader`, :mod:`golden.act_writer` and :mod:`golden.stream_out`).
"""

from amaranth import Module, Mux, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from ._params import is_int, require
from .bram import RegisteredRAM

__all__ = ["ActMemory", "write_layout", "read_layout"]


def write_layout(addr_width, rows):
    """A write request: a word address, ``rows`` bytes and their byte enables (none: no write)."""
    return data.StructLayout({"addr": unsigned(addr_width), "data": unsigned(8 * rows), "mask": unsigned(rows)})


def read_layout(addr_width):
    """A read request: address, and ``en`` to read and to move the output register."""
    return data.StructLayout({"addr": unsigned(addr_width), "en": 1})


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
    """

    latency = RegisteredRAM.latency

    def __init__(self, *, rows, depth, addr_width=16):
        require(self, is_int(rows, 1, 64), f"rows must be an integer between 1 and 64, not {rows!r}")
        require(self, is_int(depth, 2, 1 << addr_width) and depth % 2 == 0,
                f"depth must be an even number of words up to 2**addr_width, not {depth!r}")
        self._rows, self._depth, self._aw = rows, depth, addr_width
        super().__init__({
            "load_w": In(write_layout(addr_width, rows)), "layer_w": In(write_layout(addr_width, rows)),
            "issue_addr": In(unsigned(addr_width)), "issue_en": In(1, init=1), "out_r": In(read_layout(addr_width)), "out_sel": In(1),
            "q": Out(8 * rows),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.ram = ram = RegisteredRAM(width=8 * self._rows, depth=self._depth, registered_writes=True,
                                               single_port_halves=True)
        w = Mux(self.load_w.mask != 0, self.load_w, self.layer_w)
        w = data.View(write_layout(self._aw, self._rows), w)
        m.d.comb += [ram.w_addr.eq(w.addr), ram.w_data.eq(w.data), ram.w_en.eq(w.mask),
                     ram.r_addr.eq(Mux(self.out_sel, self.out_r.addr, self.issue_addr)),
                     ram.r_en.eq(Mux(self.out_sel, self.out_r.en, self.issue_en)),
                     ram.q_en.eq(Mux(self.out_sel, self.out_r.en, self.issue_en)),
                     self.q.eq(ram.q)]
        return m
