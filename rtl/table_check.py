"""The loaded tables' checks before a FRAME (golden twin: :mod:`golden.table_check`, whose verdicts it
gives bit for bit).

- **The code table**, as CODE_TABLE loads: 17 passes over its payload in the packet buffer (about
  11,000 cycles before the ACK). Pass 0 checks the lengths (at most 16) and the words of symbols
  with no code (0), and finds ``upto``; pass ``L`` compares the words of the symbols of length
  ``L``, in symbol order, with the canonical code's next word, which a counter keeps (shifted left
  between passes: its last value is the Kraft sum times 2**16).
- **The table id**, at a FRAME: CRC32 a byte a cycle over ``1, bits, ecsq, 16``, the code lengths
  (kept in a RAM as CODE_TABLE loads) and in ECSQ mode the level table's thresholds, found by one
  walk of a copy of the level table (kept as LEVEL_TABLE loads): at most about 1,250 cycles.
"""

from amaranth import Cat, Const, Module, Mux, Signal
from amaranth.lib import memory, wiring
from amaranth.lib.wiring import In, Out

from golden import rle
from golden.huffman import MAX_CODE_LEN
from golden.link import CODE_TABLE_BYTES

from ._crc import crc32
from .bram import RegisteredRAM

__all__ = ["TableCheck"]

LAT = RegisteredRAM.latency  # the packet buffer's read latency
LC_BITS = (rle.LEVEL_CLASSES - 1).bit_length()  # a symbol's level class is its low bits (golden.rle.symbol_of)
assert rle.LEVEL_CLASSES == 1 << LC_BITS


class TableCheck(wiring.Component):
    """Members
    -------
    r_addr : Out(16); q : In(8)
        The packet buffer's read port (``q`` ``LAT`` cycles after the address), used while the code
        table is checked.
    code_start : In(1)
        The CODE_TABLE payload is in the buffer: check it (taken when not ``busy``).
    cw_en, cw_addr, cw_len : In
        A symbol's code length as CODE_TABLE loads.
    lw_en, lw_addr, lw_level : In
        A level table entry as LEVEL_TABLE loads.
    id_start : In(1); bits : In(4); ecsq : In(1)
        Compute the table id for ``bits`` and ``ecsq`` (taken when not ``busy``).
    busy : Out(1)
    canonical : Out(1); upto : Out(4)
        The code table's verdict (:func:`golden.table_check.code_verdict`).
    table_id : Out(32); id_ok : Out(1)
        The loaded tables' id; ``id_ok`` low when a threshold is missing (the id is then none).
    """

    def __init__(self):
        super().__init__({"r_addr": Out(16), "q": In(8), "code_start": In(1),
                          "cw_en": In(1), "cw_addr": In(8), "cw_len": In(8),
                          "lw_en": In(1), "lw_addr": In(8), "lw_level": In(8),
                          "id_start": In(1), "bits": In(4), "ecsq": In(1),
                          "busy": Out(1), "canonical": Out(1), "upto": Out(4), "table_id": Out(32), "id_ok": Out(1)})

    def elaborate(self, platform):
        m = Module()
        m.submodules.lens = lens = memory.Memory(shape=8, depth=rle.NUM_SYMBOLS, init=[])
        m.submodules.levels = levels = memory.Memory(shape=8, depth=256, init=[])
        lw, vw = lens.write_port(), levels.write_port()
        self._lr, self._vr = lens.read_port(), levels.read_port()
        m.d.comb += [lw.en.eq(self.cw_en), lw.addr.eq(self.cw_addr), lw.data.eq(self.cw_len),
                     vw.en.eq(self.lw_en), vw.addr.eq(self.lw_addr), vw.data.eq(self.lw_level)]
        m.submodules.crc = self._crc = crc32(serial=False)
        self._m = m
        with m.FSM(name="tables"):
            with m.State("IDLE"):
                self._idle()
            self._code_passes()
            self._id()
        return m

    def _idle(self):
        m = self._m
        with m.If(self.code_start):
            m.d.sync += [self.busy.eq(1), self.canonical.eq(1), self.upto.eq(rle.LEVEL_CLASSES)]
            m.next = "CODE_PASS"
        with m.Elif(self.id_start):
            m.d.sync += [self.busy.eq(1), self.id_ok.eq(1)]
            m.next = "PREFIX"

    def _code_passes(self):
        """CODE_PASS: the payload's bytes in order, a symbol's word and length every third byte;
        NEXT_PASS: between passes."""
        m, q = self._m, self.q
        k = Signal(range(CODE_TABLE_BYTES + LAT + 1))  # the byte addressed; byte k - LAT is in q
        ph = Signal(range(3))  # code high, code low, length
        word, sym = Signal(16), Signal(range(rle.NUM_SYMBOLS + 1))
        p = Signal(range(MAX_CODE_LEN + 1))  # the pass: 0, then the length it compares
        nxt = Signal(24)  # the canonical code's next word (wide enough to over-subscribe)
        with m.State("CODE_PASS"):
            m.d.comb += self.r_addr.eq(k)
            m.d.sync += k.eq(k + 1)
            with m.If(k >= LAT):
                m.d.sync += ph.eq(Mux(ph == 2, 0, ph + 1))
                with m.If(ph != 2):
                    m.d.sync += word.eq(Cat(q, word[:8]))
                with m.Else():
                    m.d.sync += sym.eq(sym + 1)
                    self._symbol(p, word, q, sym, nxt)
            with m.If(k == CODE_TABLE_BYTES + LAT - 1):
                m.next = "NEXT_PASS"
        with m.State("NEXT_PASS"):
            m.d.sync += [k.eq(0), ph.eq(0), sym.eq(0), p.eq(p + 1)]
            m.next = "CODE_PASS"
            with m.If((p != 0) & (p != MAX_CODE_LEN)):
                m.d.sync += nxt.eq(nxt << 1)
            with m.If(p == MAX_CODE_LEN):  # the Kraft sum at most 1
                m.d.sync += [p.eq(0), nxt.eq(0), self.busy.eq(0)]
                with m.If(nxt > 1 << MAX_CODE_LEN):
                    m.d.sync += self.canonical.eq(0)
                m.next = "IDLE"

    def _symbol(self, p, word, length, sym, nxt):
        """Symbol ``sym``'s word and length, in pass ``p``."""
        m = self._m
        with m.If(p == 0):
            with m.If((length > MAX_CODE_LEN) | ((length == 0) & (word != 0))):
                m.d.sync += self.canonical.eq(0)
            lacking = Mux(sym >= rle.EOB, 0, sym[:LC_BITS])  # the largest bits this symbol's lack allows
            with m.If((length == 0) & (lacking < self.upto)):
                m.d.sync += self.upto.eq(lacking)
        with m.Elif(length == p):
            m.d.sync += nxt.eq(nxt + 1)
            with m.If(word != nxt[:16]):
                m.d.sync += self.canonical.eq(0)

    def _id(self):
        """PREFIX, LENGTHS, then WAIT, DATA, STEP for the thresholds, FLUSH, FINISH: the table id's
        bytes into the CRC a byte a cycle, through a register (the block RAMs' outputs go no further
        than a register, for the ECP5's 100 MHz: the thresholds' walk takes three cycles an index)."""
        m, crc, lr, vr = self._m, self._crc, self._lr, self._vr
        cv, cd, cs = Signal(), Signal(8), Signal()  # the CRC's inputs, registered
        m.d.comb += [crc.valid.eq(cv), crc.data.eq(cd), crc.start.eq(cs)]
        m.d.sync += [cv.eq(0), cs.eq(0)]
        idx = Signal(range(rle.NUM_SYMBOLS + 2))
        pend, pend2 = Signal(), Signal()  # a length on lr.data; a length in lq
        lq = Signal(8)  # lr.data, registered
        level = Signal(9)  # the level whose threshold is sought
        at, v = Signal(8), Signal(8)  # the level table index and its level
        prefix = Cat(Const(1, 8), self.bits, Const(0, 4), self.ecsq, Const(0, 7), Const(MAX_CODE_LEN, 8))
        m.d.comb += [lr.addr.eq(idx), vr.addr.eq(at)]
        with m.State("PREFIX"):
            m.d.sync += [cv.eq(1), cs.eq(idx == 0), cd.eq(prefix.word_select(idx[:2], 8)), idx.eq(idx + 1)]
            with m.If(idx == 3):
                m.d.sync += [idx.eq(0), pend.eq(0), pend2.eq(0)]
                m.next = "LENGTHS"
        with m.State("LENGTHS"):  # length idx read; idx - 1 on lr.data while pend, idx - 2 in lq while pend2
            m.d.sync += [lq.eq(lr.data), pend.eq(idx < rle.NUM_SYMBOLS), pend2.eq(pend), cv.eq(pend2), cd.eq(lq),
                         idx.eq(idx + 1)]
            with m.If(idx == rle.NUM_SYMBOLS + 1):  # the last length goes to the CRC now
                m.d.sync += [idx.eq(0), level.eq(1), at.eq(0)]
                m.next = "WAIT"
                with m.If(~self.ecsq):
                    m.next = "FLUSH"
        with m.State("WAIT"):  # entry `at` is read
            m.next = "DATA"
        with m.State("DATA"):
            m.d.sync += v.eq(vr.data)
            m.next = "STEP"
        with m.State("STEP"):
            with m.If(level == Const(1, 9) << self.bits):
                m.next = "FLUSH"
            with m.Elif(v >= level):  # the threshold of `level`
                m.d.sync += [cv.eq(1), cd.eq(at), level.eq(level + 1)]
            with m.Elif(at == 255):  # a level never reached: no id
                m.d.sync += self.id_ok.eq(0)
                m.next = "FLUSH"
            with m.Else():
                m.d.sync += at.eq(at + 1)
                m.next = "WAIT"
        with m.State("FLUSH"):  # the last byte in the CRC's register
            m.next = "FINISH"
        with m.State("FINISH"):
            m.d.sync += [self.table_id.eq(crc.crc), self.busy.eq(0)]
            m.next = "IDLE"
