"""Golden twin of :class:`rtl.bram.RegisteredRAM`: a RAM whose read data passes through an output
register (a block RAM's own, where the FPGA has one) before anything uses it.

The model steps one clock edge at a time; ``tests/test_rtl_bram.py`` drives the RTL and this
model with the same random writes, reads and register enables and compares ``q`` every cycle.
"""

POISON = 0xA5
"""Each byte of a word that ``single_port_halves`` forbids using."""


def poison_word(width):
    """A ``width``-bit word of :data:`POISON` bytes."""
    return int.from_bytes(bytes([POISON]) * (width // 8), "little")


class RegisteredRAM:
    """``depth`` words of ``width`` bits, byte-lane writes of ``granularity`` bits.

    At each edge, in this order of effect (all from the values before the edge):
    - ``q <= latch`` if ``q_en``;
    - ``latch <= mem[r_addr]`` if ``r_en`` (the old word when the same edge writes it: the read is
      not transparent);
    - the enabled lanes of ``mem[w_addr]`` take ``w_data``; with ``registered_writes``, the
      write given at the edge before (the write port's inputs pass a register first).

    With ``single_port_halves`` (the RTL's promise that reads and writes keep to different halves,
    checked), a read in a cycle that writes its half, or a word whose half is written between its
    read and the next, reads as :data:`POISON` bytes. ``spare`` words past ``depth`` belong to the
    second half.
    """

    def __init__(self, width, depth, granularity=8, registered_writes=False, single_port_halves=False, spare=0):
        if width % granularity:
            raise ValueError(f"width {width} is not a whole number of {granularity}-bit lanes")
        self.width, self.depth, self.granularity = width, depth, granularity
        self.mem = [0] * (depth + spare)  # spare words: past depth, in the second half
        self.latch = 0
        self.registered_writes = registered_writes
        self.pending = (0, 0, 0)
        self.halves = single_port_halves
        self.last_half = 0
        self.poisoned = False
        self.q = 0

    def step(self, *, w_addr=0, w_data=0, w_en=0, r_addr=0, r_en=0, q_en=0):
        g = self.granularity
        if self.registered_writes:
            (w_addr, w_data, w_en), self.pending = self.pending, (w_addr, w_data, w_en)
        if q_en:
            self.q = poison_word(self.width) if self.poisoned else self.latch
        if self.halves:
            half = self.depth // 2
            if r_en:
                self.last_half = int(r_addr >= half)
                self.poisoned = bool(w_en) and (w_addr >= half) == (r_addr >= half)
            elif w_en and int(w_addr >= half) == self.last_half:
                self.poisoned = True
        if r_en:
            self.latch = self.mem[r_addr]
        word = self.mem[w_addr]
        for lane in range(self.width // g):
            if (w_en >> lane) & 1:
                mask = ((1 << g) - 1) << (lane * g)
                word = (word & ~mask) | (w_data & mask)
        self.mem[w_addr] = word
        return self.q
