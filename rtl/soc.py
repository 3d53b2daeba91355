"""The edge SoC: UART link, packet protocol (docs/PROTOCOL.md) and the edge device (golden twin:
:class:`golden.executor.DeviceModel`), assembled from its parts.

::

    rx -> UARTRx -> PacketReceiver (CRC-32, timeout) -> packet buffer RAM -> CommandExecutor
                                                                      |-> engine weights / parameters / program (LOAD_MEM)
                                                                      |-> codec settings / code RAM / level table
                                                                      `-> frame pixels -> EdgeDevice -> chunk FIFO
    tx <- UARTTx <- byte register <- PacketSender (CRC-32) <- reply heads and payload bytes <------'

A request is received whole into the packet buffer and checked before anything executes, so a
corrupt packet changes nothing. Requests run one at a time: bytes that arrive while a request runs
or its reply is sent are not taken (the UART receiver drops them and counts an overrun).
"""

from amaranth import Module, unsigned
from amaranth.lib import fifo, stream, wiring
from amaranth.lib.wiring import In, Out

from golden import link as L

from ._crc import share_crc
from ._params import require
from .bram import RegisteredRAM
from .edge_device import EdgeDevice
from .executor import CommandExecutor
from .receiver import PacketReceiver
from .sender import PacketSender
from .uart import UARTRx, UARTTx

__all__ = ["EdgeSoC", "LinkCore"]


class EdgeSoC(wiring.Component):
    """Parameters
    ----------
    image, layers, ident :
        The engine's image, the layer counters COUNTERS reports, the IDENT payload
        (:class:`rtl.executor.CommandExecutor`).
    divisor : int
        Clock cycles per UART bit.
    timeout : int
        Idle cycles after which a packet in progress is dropped (NAK TIMEOUT).
    buffer_bytes : int
        Packet buffer size: the largest request payload (the camera frame).
    serial : bool
        The device's codec a bit a cycle (:class:`rtl.edge_device.EdgeDevice`), and the link's
        CRCs too (:class:`rtl._crc.SerialCRC32`; the receiver and the sender share one): for a
        part whose link sets the frame rate.

    Members
    -------
    rx : In(1)
    tx : Out(1)
    """

    def __init__(self, *, image, layers, ident, divisor, timeout, acc_width=32, payload_words=128,
                 buffer_bytes=L.BUFFER_BYTES, serial=False):
        self._div, self._timeout = divisor, timeout
        self._core = LinkCore(image=image, layers=layers, ident=ident, acc_width=acc_width,
                              payload_words=payload_words, buffer_bytes=buffer_bytes, serial=serial)
        super().__init__({"rx": In(1, init=1), "tx": Out(1, init=1)})

    def elaborate(self, platform):
        m = Module()
        m.submodules.urx = urx = UARTRx(self._div, max_idle=self._timeout)
        m.submodules.utx = utx = UARTTx(self._div)
        m.submodules.core = core = self._core
        m.d.comb += [urx.rx.eq(self.rx), self.tx.eq(utx.tx), core.timed_out.eq(urx.idle == self._timeout)]
        wiring.connect(m, urx.o, core.i)
        # a one-byte register between the link and the transmitter, taking a byte every other cycle
        # at most (the line takes one every 10 bit times): no path from the transmitter's ready
        # back through the sender and the executor's reply (the UP5K's critical path at 26 MHz)
        m.submodules.tx_byte = tx_byte = fifo.SyncFIFOBuffered(width=8, depth=1)
        m.d.comb += [tx_byte.w_data.eq(core.o.payload), tx_byte.w_en.eq(core.o.valid), core.o.ready.eq(tx_byte.w_rdy),
                     utx.i.payload.eq(tx_byte.r_data), utx.i.valid.eq(tx_byte.r_rdy), tx_byte.r_en.eq(utx.i.ready)]
        return m


class LinkCore(wiring.Component):
    """The SoC between its UARTs: line bytes in, line bytes out (the parameters are
    :class:`EdgeSoC`'s).

    Members
    -------
    i : In(stream.Signature(unsigned(8)))
        Received bytes; taken only while no request runs.
    timed_out : In(1)
        The line has been idle past the packet timeout.
    o : Out(stream.Signature(unsigned(8)))
        Reply bytes.
    """

    def __init__(self, *, image, layers, ident, acc_width=32, payload_words=128, buffer_bytes=L.BUFFER_BYTES,
                 serial=False):
        fh, fw = image.frame_shape
        fh *= image.in_channels  # the frame's bytes: its channels interleaved
        require(self, buffer_bytes >= max(fh * fw, L.CODE_TABLE_BYTES),
                f"buffer_bytes must hold a {fh}x{fw} frame and a code table")
        self._buf, self._serial = buffer_bytes, serial
        # the parts whose parameters are checked as they are made: here, not at elaboration
        # on the iCE40UP5K (serial) the packet buffer lives in the engine's activation RAM, in SPRAM
        # the activations leave unused: 8 block RAMs fewer
        self.device = EdgeDevice(image=image, acc_width=acc_width, payload_words=payload_words, serial=serial,
                                 buffer_bytes=buffer_bytes if serial else 0)
        self._ex = CommandExecutor(image=image, layers=layers, ident=ident, device=self.device)
        super().__init__({"i": In(stream.Signature(unsigned(8))), "timed_out": In(1),
                          "o": Out(stream.Signature(unsigned(8)))})

    def elaborate(self, platform):
        m = Module()
        m.submodules.dev = dev = self.device
        serial = self._serial
        m.submodules.link_rx = rx = PacketReceiver(buffer_bytes=self._buf, serial=serial, shared_crc=serial)
        m.submodules.ex = ex = self._ex
        m.submodules.link_tx = tx = PacketSender(serial=serial, held_head=True, shared_crc=serial)  # the executor holds its heads
        if serial:
            # requests run one at a time: the receiver takes no byte while one is pending, and the
            # sender sends only then (the replies to it), so one CRC serves both
            share_crc(m, rx, tx, second_owns=rx.req.valid)
        wiring.connect(m, wiring.flipped(self.i), rx.i)
        m.d.comb += rx.timed_out.eq(self.timed_out)
        wiring.connect(m, rx.req, ex.req)
        if self._serial:  # the buffer in the engine's activation RAM (two cycles a read there too)
            b = dev.buffer
            m.d.comb += [b.buf_w.addr.eq(rx.w_addr), b.buf_w.data.eq(rx.w_data), b.buf_w.en.eq(rx.w_en),
                         b.buf_r.addr.eq(ex.r_addr), b.buf_r.en.eq(ex.r_en), b.buf_r.q_en.eq(ex.q_en),
                         ex.q.eq(b.buf_q)]
        else:  # read data registered (the block RAM's output register where it has one)
            m.submodules.buf = buf = RegisteredRAM(width=8, depth=self._buf)
            m.d.comb += [buf.w_en.eq(rx.w_en), buf.w_addr.eq(rx.w_addr), buf.w_data.eq(rx.w_data),
                         buf.r_addr.eq(ex.r_addr), buf.r_en.eq(ex.r_en), buf.q_en.eq(ex.q_en), ex.q.eq(buf.q)]
        wiring.connect(m, ex.dev, dev)
        wiring.connect(m, ex.head, tx.head)
        wiring.connect(m, ex.body, tx.body)
        m.d.comb += ex.sending.eq(tx.busy)
        wiring.connect(m, tx.o, wiring.flipped(self.o))
        return m
