"""Frame loader of the layer engine (golden twin: :func:`golden.frame_loader.load_frame`)."""

from amaranth import Module, Mux, Signal, unsigned
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ._params import is_int, require
from .act_memory import write_layout

__all__ = ["FrameLoader"]


class FrameLoader(wiring.Component):
    """Camera pixels, channels interleaved, into the activation words the first layer reads.

    A window holds the bytes of the last ``fold_k`` pixels, oldest first; folded channel
    ``j = kx * C + c`` of a pixel is window byte ``j`` (tap ``kx``, channel ``c``), unfolded
    (``fold_k`` 1) the pixel's own channels. After a pixel's last byte (``fold_k - 1 - fold_pad``
    pixels late: the window needs its right taps, and zero pixels close each row) the loader writes
    the pixel's ``groups`` words, one a cycle, taking no byte meanwhile.

    Parameters
    ----------
    rows : int
        Bytes a word.
    frame_shape : (int, int)
        ``(H, W)`` of the camera frame.
    in_channels : int
        Its channels (1 to 3).
    fold_k, fold_pad : int
        Horizontal taps folded into channels and the layer's padding (1 and 0: no fold).
    groups : int
        Words a pixel (``ceil(fold_k * in_channels / rows)``).
    addr_width : int

    Members
    -------
    frame : In(stream.Signature(unsigned(8)))
        The frame's bytes, taken while ``run`` is high.
    run : In(1)
        The engine waits for a frame; low resets ``done``.
    idle : Out(1)
        No byte of a frame taken yet (memories may be loaded).
    done : Out(1)
        The frame's last word written; high until ``run`` falls.
    w : Out(write_layout(addr_width, rows))
        Word ``(y * W + x) * groups + g`` of region 0, whole words.
    """

    def __init__(self, *, rows, frame_shape, in_channels=1, fold_k=1, fold_pad=0, groups=1, addr_width=16):
        fh, fw = frame_shape
        require(self, is_int(rows, 1, 64), f"rows must be an integer between 1 and 64, not {rows!r}")
        require(self, is_int(in_channels, 1, 3), f"in_channels must be 1, 2 or 3, not {in_channels!r}")
        require(self, is_int(fold_k, 1, 7) and is_int(fold_pad, 0, fold_k - 1),
                f"fold_k must be 1 to 7 and fold_pad below it, not {fold_k!r} and {fold_pad!r}")
        require(self, groups == -(-fold_k * in_channels // rows),
                f"groups must be ceil(fold_k * in_channels / rows), not {groups!r}")
        require(self, fh * fw * groups <= 1 << addr_width, "the frame's words need wider addresses")
        self._rows, self._shape, self._cin = rows, (fh, fw), in_channels
        self._k, self._pad, self._groups = fold_k, fold_pad, groups
        super().__init__({"frame": In(stream.Signature(unsigned(8))), "run": In(1), "idle": Out(1),
                          "done": Out(1), "w": Out(write_layout(addr_width, rows))})

    def elaborate(self, platform):
        m = Module()
        R, cin, k, pad, groups = self._rows, self._cin, self._k, self._pad, self._groups
        fh, fw = self._shape
        extra = k - 1 - pad  # virtual zero pixels that close each row
        win = [Signal(8, name=f"win{j}") for j in range(k * cin)]  # win[-1] is the newest byte
        ly = Signal(range(fh + 1))
        ls = Signal(range(fw + extra + 1))
        lc = Signal(range(cin))  # the channel of the pixel's next byte
        lg = Signal(range(groups + 1))
        writing = Signal()
        real = Signal()
        m.d.comb += real.eq(ls < fw)
        with m.If(self.run & ~writing & ~self.done):
            m.d.comb += self.frame.ready.eq(real)
            with m.If(~real | self.frame.valid):
                m.d.sync += [win[j].eq(win[j + 1]) for j in range(k * cin - 1)]
                m.d.sync += win[-1].eq(Mux(real, self.frame.payload, 0))
                with m.If(lc == cin - 1):
                    m.d.sync += [writing.eq(ls >= extra), lg.eq(0), ls.eq(ls + 1), lc.eq(0)]
                with m.Else():
                    m.d.sync += lc.eq(lc + 1)
        x_done = Signal(range(fw + 1))
        m.d.comb += x_done.eq(ls - 1 - extra)
        with m.If(self.run & writing):
            word = Signal(8 * R)
            for r in range(R):
                byte = Signal(8, name=f"byte{r}")
                for g in range(groups):
                    j = g * R + r
                    if j < k * cin:
                        with m.If(lg == g):
                            # tap j // cin of pixel x is pixel x + j // cin - pad; zero left of the row
                            m.d.comb += byte.eq(Mux(x_done + j // cin >= pad, win[j], 0))
                m.d.comb += word[8 * r:8 * r + 8].eq(byte)
            m.d.comb += [self.w.addr.eq((ly * fw + x_done) * groups + lg), self.w.data.eq(word),
                         self.w.mask.eq(-1)]
            with m.If(lg == groups - 1):
                m.d.sync += writing.eq(0)
                with m.If(ls == fw + extra):
                    m.d.sync += [ls.eq(0), ly.eq(ly + 1)] + [w.eq(0) for w in win]
                    with m.If(ly == fh - 1):
                        m.d.sync += [self.done.eq(1), ly.eq(0)]
            with m.Else():
                m.d.sync += lg.eq(lg + 1)
        with m.If(~self.run):
            m.d.sync += self.done.eq(0)
        m.d.comb += self.idle.eq(~self.done & ~writing & (ly == 0) & (ls == 0) & (lc == 0))
        return m
