"""UART transmitter and receiver, 8N1 (golden twin: :mod:`golden.uart`).

``divisor`` is clock cycles per bit (``round(clk_hz / baud)``; 12 at 36 MHz and 3 Mbaud). The
receiver samples each bit in its middle after seeing a start bit's falling edge, checks the stop
bit (a byte without one is dropped and counted in ``errors``, and the receiver waits for the line
to go high before it looks for the next start bit), and counts idle cycles since the
last byte, from which the link layer derives its mid-packet timeout.
"""

from amaranth import Cat, Module, Signal, unsigned
from amaranth.lib import stream, wiring
from amaranth.lib.cdc import FFSynchronizer
from amaranth.lib.wiring import In, Out

from ._params import is_int, require

__all__ = ["UARTRx", "UARTTx"]


class UARTTx(wiring.Component):
    """Members
    -------
    i : In(stream.Signature(unsigned(8)))
    tx : Out(1), idle high
    """

    def __init__(self, divisor):
        require(self, is_int(divisor, 4), f"UART divisor must be an integer >= 4, not {divisor!r}")
        self._div = divisor
        super().__init__({"i": In(stream.Signature(unsigned(8))), "tx": Out(1, init=1)})

    def elaborate(self, platform):
        m = Module()
        timer = Signal(range(self._div))
        shreg = Signal(10)  # the bits still to send, the current one in bit 0
        bits = Signal(range(11))
        with m.If(bits == 0):
            m.d.comb += self.i.ready.eq(1)
            with m.If(self.i.valid):  # start bit, data LSB first, stop bit
                m.d.sync += [shreg.eq(Cat(0, self.i.payload, 1)), bits.eq(10), timer.eq(self._div - 1),
                             self.tx.eq(0)]
        with m.Elif(timer == 0):
            m.d.sync += [shreg.eq(Cat(shreg[1:], 1)), bits.eq(bits - 1), timer.eq(self._div - 1),
                         self.tx.eq(shreg[1])]
        with m.Else():
            m.d.sync += timer.eq(timer - 1)
        return m


class UARTRx(wiring.Component):
    """Members
    -------
    rx : In(1), idle high (synchronised inside)
    o : Out(stream.Signature(unsigned(8)))
        A received byte; it is dropped if the consumer is not ready by the next byte's end.
    idle : Out(range(max_idle + 1))
        Cycles since the last byte was received, saturating at ``max_idle`` (the link's timeout:
        the counter is no wider than that needs).
    errors : Out(unsigned(16))
        Bytes dropped for a missing stop bit or an overrun.
    """

    def __init__(self, divisor, max_idle=2**32 - 1):
        require(self, is_int(divisor, 4), f"UART divisor must be an integer >= 4, not {divisor!r}")
        require(self, is_int(max_idle, 1, 2**32 - 1), f"max_idle must be 1 to 2**32 - 1 cycles, not {max_idle!r}")
        self._div, self._max_idle = divisor, max_idle
        super().__init__({"rx": In(1, init=1), "o": Out(stream.Signature(unsigned(8))),
                          "idle": Out(range(max_idle + 1)), "errors": Out(unsigned(16))})

    def elaborate(self, platform):
        m = Module()
        rx = Signal(init=1)
        m.submodules.sync = FFSynchronizer(self.rx, rx, init=1)
        timer = Signal(range(self._div * 3 // 2 + 1))
        shreg = Signal(8)
        bits = Signal(range(10))
        got = Signal()

        with m.If(self.o.valid & self.o.ready):
            m.d.sync += self.o.valid.eq(0)
        m.d.sync += got.eq(0)
        with m.If(got):
            m.d.sync += self.idle.eq(0)
        with m.Elif(self.idle != self._max_idle):
            m.d.sync += self.idle.eq(self.idle + 1)

        with m.FSM():
            with m.State("IDLE"):
                with m.If(~rx):  # start bit: sample data bits in their middles
                    m.d.sync += [timer.eq(self._div * 3 // 2 - 1), bits.eq(0)]
                    m.next = "DATA"
            with m.State("DATA"):
                with m.If(timer != 0):
                    m.d.sync += timer.eq(timer - 1)
                with m.Else():
                    m.d.sync += [shreg.eq((rx << 7) | (shreg >> 1)), bits.eq(bits + 1),
                                 timer.eq(self._div - 1)]
                    with m.If(bits == 7):
                        m.next = "STOP"
            with m.State("STOP"):
                with m.If(timer != 0):
                    m.d.sync += timer.eq(timer - 1)
                with m.Else():
                    with m.If(rx & ~(self.o.valid & ~self.o.ready)):
                        m.d.sync += [self.o.payload.eq(shreg), self.o.valid.eq(1), got.eq(1)]
                    with m.Else():
                        m.d.sync += self.errors.eq(self.errors + 1)
                    m.next = "HIGH"
            with m.State("HIGH"):  # after a byte (or a framing error), wait for the idle level
                with m.If(rx):
                    m.next = "IDLE"
        return m
