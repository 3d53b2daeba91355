"""A RAM whose read data is registered before use, mapped to the FPGA's block RAM output register
where it has one (golden twin: :mod:`golden.bram`).

A block RAM's unregistered output is slow: an ECP5 DP16KD in ``NOREG`` mode takes 5.8 ns from
clock to data, before any routing, where its ``OUTREG`` mode takes under 1 ns. Yosys does not pack a
following register into the DP16KD, so on the ECP5 this component instantiates the block RAMs
itself, one bit slice of the word per DP16KD in 16Kx1, 8Kx2 or 4Kx4 mode (no read mux), with the
output register enabled. Elsewhere (simulation, iCE40) it is an :class:`amaranth.lib.memory.Memory`
read port followed by a register, which behaves the same cycle for cycle.
"""

from amaranth import ClockSignal, Const, Module, Signal
from amaranth.hdl import Instance
from amaranth.lib import memory, wiring
from amaranth.lib.wiring import In, Out

from ._params import is_int, require

__all__ = ["RegisteredRAM", "dp16kd_bits"]

# DP16KD data width per block for a given depth, as far as no read mux is needed
_DP16KD_MODES = ((4096, 4), (8192, 2), (16384, 1))


def dp16kd_bits(depth, granularity=8):
    """Bits per DP16KD of a RegisteredRAM ``depth`` words deep on the ECP5 (the widest mode that
    holds the depth, and a whole number of them in a write lane), or None where it falls back to a
    Memory and a fabric register."""
    for most, bits in _DP16KD_MODES:
        if depth <= most and granularity % bits == 0:
            return bits
    return None


class RegisteredRAM(wiring.Component):
    """``depth`` words of ``width`` bits.

    Members
    -------
    w_addr, w_data : In
        Write address and data.
    w_en : In(width // granularity)
        Lane write enables.
    The write port's inputs are registered first when ``registered_writes`` is set (a write lands
    a cycle later, and the logic that computes it has a whole cycle before the RAM).
    r_addr, r_en : In
        Read address and enable: the word is read at the edge where ``r_en`` is high (not
        transparent: a word written at the same edge reads old).
    q_en : In(1)
        Output register enable: ``q`` takes the last word read at the edge where ``q_en`` is high.
    q : Out(width)
        The registered word (2 cycles after its address with both enables high).
    """

    def __init__(self, *, width, depth, granularity=8, registered_writes=False):
        require(self, is_int(width, 1) and is_int(depth, 1) and is_int(granularity, 1)
                and width % granularity == 0,
                f"width ({width!r}) must be a positive multiple of granularity ({granularity!r}), "
                f"depth ({depth!r}) positive")
        self._width, self._depth, self._gran = width, depth, granularity
        self._reg_w = bool(registered_writes)
        super().__init__({
            "w_addr": In(range(depth)), "w_data": In(width), "w_en": In(width // granularity),
            "r_addr": In(range(depth)), "r_en": In(1), "q_en": In(1), "q": Out(width),
        })

    def elaborate(self, platform):
        m = Module()
        bits = dp16kd_bits(self._depth, self._gran)
        w_addr, w_data, w_en = self.w_addr, self.w_data, self.w_en
        if self._reg_w:
            w_addr, w_data, w_en = (Signal.like(s, name=f"{s.name}_q") for s in (w_addr, w_data, w_en))
            m.d.sync += [w_addr.eq(self.w_addr), w_data.eq(self.w_data), w_en.eq(self.w_en)]
        if getattr(platform, "family", None) == "ecp5" and bits is not None:
            for i in range(0, self._width, bits):
                m.submodules[f"bram_{i}"] = self._dp16kd(i, bits, w_addr, w_data, w_en)
            return m
        m.submodules.mem = mem = memory.Memory(shape=self._width, depth=self._depth, init=[])
        wp = mem.write_port(granularity=self._gran)
        rp = mem.read_port()
        m.d.comb += [wp.addr.eq(w_addr), wp.data.eq(w_data), wp.en.eq(w_en),
                     rp.addr.eq(self.r_addr), rp.en.eq(self.r_en)]
        with m.If(self.q_en):
            m.d.sync += self.q.eq(rp.data)
        return m

    def _dp16kd(self, lo, bits, w_addr, w_data, w_en):
        # ports as Yosys's own DP16KD map connects them (share/lattice/brams_map_16kd.v): port A
        # writes, port B reads; an N-bit mode takes the address on AD13..AD(log2 N)
        shift = bits.bit_length() - 1
        we = w_en[lo // self._gran]
        ports = {
            "p_DATA_WIDTH_A": bits, "p_DATA_WIDTH_B": bits,
            "p_REGMODE_A": "NOREG", "p_REGMODE_B": "OUTREG",
            "p_RESETMODE": "SYNC", "p_ASYNC_RESET_RELEASE": "SYNC",
            "p_CSDECODE_A": "0b000", "p_CSDECODE_B": "0b000",
            "p_WRITEMODE_A": "NORMAL", "p_WRITEMODE_B": "NORMAL", "p_GSR": "AUTO",
            "i_CLKA": ClockSignal(), "i_WEA": we, "i_CEA": we, "i_OCEA": Const(1), "i_RSTA": Const(0),
            "i_CLKB": ClockSignal(), "i_WEB": Const(0), "i_CEB": self.r_en, "i_OCEB": self.q_en,
            "i_RSTB": Const(0),
        }
        for cs in range(3):
            ports[f"i_CSA{cs}"] = Const(0)
            ports[f"i_CSB{cs}"] = Const(0)
        for a in range(14):
            ports[f"i_ADA{a}"] = w_addr[a - shift] if shift <= a < shift + len(w_addr) else Const(0)
            ports[f"i_ADB{a}"] = self.r_addr[a - shift] if shift <= a < shift + len(self.r_addr) else Const(0)
        for d in range(18):
            ports[f"i_DIA{d}"] = w_data[lo + d] if d < bits else Const(0)
            ports[f"i_DIB{d}"] = Const(0)
        for d in range(bits):  # only the bits used: Yosys 0.70's ABC9 asserts on dangling outputs
            ports[f"o_DOB{d}"] = self.q[lo + d]
        return Instance("DP16KD", **ports)
