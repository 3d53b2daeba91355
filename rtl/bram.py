"""A RAM whose read data is registered before use, mapped to the FPGA's block RAM output register
where it has one, or to single-port RAMs where its user keeps reads and writes in different halves
(golden twin: :mod:`golden.bram`).

A block RAM's unregistered output is slow: an ECP5 DP16KD in ``NOREG`` mode takes 5.8 ns from
clock to data, before any routing, where its ``OUTREG`` mode takes under 1 ns. Yosys does not pack a
following register into the DP16KD, so on the ECP5 this component instantiates the block RAMs
itself, one bit slice of the word per DP16KD in 16Kx1, 8Kx2 or 4Kx4 mode (no read mux), with the
output register enabled. Elsewhere (simulation, iCE40) it is an :class:`amaranth.lib.memory.Memory`
read port followed by a register, which behaves the same cycle for cycle.

With ``single_port_halves`` the user promises that a word it uses was not read in a cycle that
wrote the same half of the address space, nor had that half written before it reached ``q``
(the engine's ping-pong regions are the two halves). On the iCE40UP5K each half is then a row of
SB_SPRAM256KA single-port RAMs (16K x 16 bits each; a write takes its half for that cycle);
everywhere else such a word reads as :data:`POISON` bytes, so that the simulations catch a
broken promise.
"""

from amaranth import Cat, ClockSignal, Const, Module, Mux, Signal
from amaranth.hdl import Instance
from amaranth.lib import memory, wiring
from amaranth.lib.wiring import In, Out

from golden.bram import POISON, poison_word

from ._params import is_int, require

__all__ = ["POISON", "RegisteredRAM", "dp16kd_bits", "spram_count"]

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


def spram_count(width, depth, spare=0):
    """SB_SPRAM256KA blocks a ``single_port_halves`` RegisteredRAM takes on the iCE40UP5K, or None
    where it does not map to them (more than the part's 4, or a half deeper than 16K words)."""
    if width % 16 or depth % 2 or depth // 2 + spare > 16384:
        return None
    n = 2 * (width // 16)
    return n if n <= 4 else None


class RegisteredRAM(wiring.Component):
    """``depth`` words of ``width`` bits.

    Parameters
    ----------
    width, depth : int
        Word width and number of words.
    granularity : int
        Bits per write lane.
    registered_writes : bool
        The write port's inputs pass a register first: a write lands a cycle later, and the logic
        that computes it has a whole cycle before the RAM.
    single_port_halves : bool
        The user's promise that no word it uses was read in a cycle that wrote its half of the
        address space, or had its half written before reaching ``q`` (see the module docstring).
    spare : int
        With ``single_port_halves``: words past ``depth`` (addresses ``depth ..``) that belong to
        the second half, in its SPRAMs past the half's ``depth // 2`` words, which a half of a
        small RAM leaves unused (the iCE40UP5K keeps its packet buffer there).

    Members
    -------
    w_addr, w_data : In
        Write address and data.
    w_en : In(width // granularity)
        Lane write enables.
    r_addr, r_en : In
        Read address and enable: the word is read at the edge where ``r_en`` is high (not
        transparent: a word written at the same edge reads old).
    q_en : In(1)
        Output register enable: ``q`` takes the last word read at the edge where ``q_en`` is high.
    q : Out(width)
        The registered word, :attr:`latency` cycles after its address with both enables high.
    """

    latency = 2
    """Cycles from a read address to its word on ``q``: the RAM's read, then the output register."""

    def __init__(self, *, width, depth, granularity=8, registered_writes=False, single_port_halves=False, spare=0):
        require(self, is_int(width, 1) and is_int(depth, 1) and is_int(granularity, 1)
                and width % granularity == 0,
                f"width ({width!r}) must be a positive multiple of granularity ({granularity!r}), "
                f"depth ({depth!r}) positive")
        self._width, self._depth, self._gran = width, depth, granularity
        self._reg_w = bool(registered_writes)
        self._halves = bool(single_port_halves)
        require(self, not self._halves or (depth % 2 == 0 and granularity == 8),
                "single_port_halves needs an even depth and byte lanes")
        require(self, is_int(spare, 0) and (spare == 0 or self._halves), "spare words need single_port_halves")
        self._spare = spare
        super().__init__({
            "w_addr": In(range(depth + spare)), "w_data": In(width), "w_en": In(width // granularity),
            "r_addr": In(range(depth + spare)), "r_en": In(1), "q_en": In(1), "q": Out(width),
        })

    def elaborate(self, platform):
        m = Module()
        bits = dp16kd_bits(self._depth, self._gran)
        w_addr, w_data, w_en = self.w_addr, self.w_data, self.w_en
        if self._reg_w:
            w_addr, w_data, w_en = (Signal.like(s, name=f"{s.name}_q") for s in (w_addr, w_data, w_en))
            m.d.sync += [w_addr.eq(self.w_addr), w_data.eq(self.w_data), w_en.eq(self.w_en)]
        family = getattr(platform, "family", None)
        if family == "ecp5" and bits is not None:
            for i in range(0, self._width, bits):
                m.submodules[f"bram_{i}"] = self._dp16kd(i, bits, w_addr, w_data, w_en)
            return m
        # SB_SPRAM256KA: the iCE40 UltraPlus parts (Amaranth's family is "iCE40", the device "iCE40UP5K")
        if str(getattr(platform, "device", "")).startswith("iCE40UP") and self._halves \
                and spram_count(self._width, self._depth, self._spare):
            self._sprams(m, w_addr, w_data, w_en)
            return m
        m.submodules.mem = mem = memory.Memory(shape=self._width, depth=self._depth + self._spare, init=[])
        wp = mem.write_port(granularity=self._gran)
        rp = mem.read_port()
        m.d.comb += [wp.addr.eq(w_addr), wp.data.eq(w_data), wp.en.eq(w_en),
                     rp.addr.eq(self.r_addr), rp.en.eq(self.r_en)]
        data = rp.data
        if self._halves:
            # the single-port promise, checked: a read that meets a write to its half is poison, and
            # so is the word read when its half is written before the next read (an SPRAM's output
            # does not hold through a write)
            half = self._depth // 2
            poisoned = Signal()
            last = Signal()
            w_any, w_half, r_half = w_en != 0, w_addr >= half, self.r_addr >= half
            with m.If(self.r_en):
                m.d.sync += [last.eq(r_half), poisoned.eq(w_any & (w_half == r_half))]
            with m.Elif(w_any & (w_half == last)):
                m.d.sync += poisoned.eq(1)
            data = Mux(poisoned, Const(poison_word(self._width), self._width), rp.data)
        with m.If(self.q_en):
            m.d.sync += self.q.eq(data)
        return m

    def _sprams(self, m, w_addr, w_data, w_en):
        # half h: width // 16 SPRAMs side by side, 16 bits (two byte lanes, four nibble masks) each;
        # a write to the half takes it for the cycle, else it reads when asked
        half = self._depth // 2
        abits = max(1, (half + self._spare - 1).bit_length())
        outs = []
        for h in range(2):
            wr = Signal(name=f"wr{h}")
            rd = Signal(name=f"rd{h}")
            m.d.comb += [wr.eq((w_en != 0) & ((w_addr >= half) == h)),
                         rd.eq(self.r_en & ((self.r_addr >= half) == h))]
            addr = Signal(14, name=f"addr{h}")
            m.d.comb += addr.eq(Mux(wr, w_addr - h * half, self.r_addr - h * half)[:abits])
            row = []
            for j in range(self._width // 16):
                out = Signal(16, name=f"spram{h}_{j}_out")
                lanes = w_en[2 * j:2 * j + 2]
                m.submodules[f"spram{h}_{j}"] = Instance(
                    "SB_SPRAM256KA", i_ADDRESS=addr, i_DATAIN=w_data[16 * j:16 * j + 16],
                    i_MASKWREN=Cat(lanes[0], lanes[0], lanes[1], lanes[1]), i_WREN=wr,
                    i_CHIPSELECT=wr | rd, i_CLOCK=ClockSignal(), i_STANDBY=Const(0), i_SLEEP=Const(0),
                    i_POWEROFF=Const(1), o_DATAOUT=out)
                row.append(out)
            outs.append(Cat(*row))
        # the half last read (its DATAOUT holds until the next read of it)
        last = Signal()
        with m.If(self.r_en):
            m.d.sync += last.eq(self.r_addr >= half)
        with m.If(self.q_en):
            m.d.sync += self.q.eq(Mux(last, outs[1], outs[0]))

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
