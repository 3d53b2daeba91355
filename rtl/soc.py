"""The edge SoC: UART link, packet protocol (docs/PROTOCOL.md) and the edge device (golden twin:
:class:`golden.link.DeviceModel`).

::

    rx -> UARTRx -> packet receiver (CRC-32, timeout) -> packet buffer RAM -> command executor
                                                                      |-> engine weights / parameters / program (LOAD_MEM)
                                                                      |-> codec settings / code RAM / level table
                                                                      `-> frame pixels -> EdgeDevice -> chunk FIFO
    tx <- UARTTx <- packet sender (CRC-32) <- reply bytes / DATA chunks <-----------------------------'

A request is received whole into the packet buffer and checked before anything executes, so a
corrupt packet changes nothing. Requests run one at a time: bytes that arrive while a request runs
or its reply is sent are not taken (the UART receiver drops them and counts an overrun).
"""

from amaranth import Cat, Const, Module, Mux, Signal, unsigned
from amaranth.lib import data, enum, fifo, wiring
from amaranth.lib.wiring import In, Out

from golden import link as L

from ._crc import crc32
from ._params import is_int, require
from .bram import RegisteredRAM
from .edge_device import EdgeDevice
from .uart import UARTRx, UARTTx

__all__ = ["EdgeSoC"]

LAT = RegisteredRAM.latency  # packet buffer: a byte on buf.q this many cycles after its address
REPLY_BYTES = 24  # IDENT (20), COUNTERS (4 + 4 * layers + 4, layers <= 4), NAK (2)


class Payload(enum.Enum, shape=2):
    """What a reply's payload is: none (or the chunk FIFO's bytes), and else formed byte by byte as
    it is sent: the IDENT bytes, the counters, or a NAK's code and the refused type."""

    NONE = 0
    IDENT = 1
    COUNTERS = 2
    NAK = 3


def _shift_in(m, k, buf, reg, n):
    """Read packet buffer bytes 0 .. n-1 (address ``k``, registered data ``LAT`` cycles later) into
    ``reg``, the first byte ending on top; the returned condition is true on the cycle that shifts
    in the last byte."""
    m.d.comb += buf.r_addr.eq(k)
    m.d.sync += k.eq(k + 1)
    with m.If(k >= LAT):
        m.d.sync += reg.eq(Cat(buf.q, reg[:-8]))
    return k == n + LAT - 1


class EdgeSoC(wiring.Component):
    """Parameters
    ----------
    image : golden.layer_engine.EngineImage
    layers : int
        Edge layers run (the split); the COUNTERS reply carries this many layer counters.
    ident : bytes
        The IDENT reply payload (:meth:`golden.link.DeviceModel.identity`).
    divisor : int
        Clock cycles per UART bit.
    timeout : int
        Idle cycles after which a packet in progress is dropped (NAK TIMEOUT).
    buffer_bytes : int
        Packet buffer size: the largest request payload (the camera frame).
    serial : bool
        The device's codec a bit a cycle (:class:`rtl.edge_device.EdgeDevice`), and the link's
        CRCs too (:class:`rtl._crc.SerialCRC32`): for a part whose link sets the frame rate.

    Members
    -------
    rx : In(1)
    tx : Out(1)
    """

    def __init__(self, *, image, layers, ident, divisor, timeout, acc_width=32, payload_words=128,
                 buffer_bytes=L.BUFFER_BYTES, serial=False):
        fh, fw = image.frame_shape
        fh *= image.in_channels  # the frame's bytes: its channels interleaved
        require(self, is_int(layers, 1, 4), f"the SoC reports 1..4 layer counters, not {layers!r}")
        require(self, len(ident) <= REPLY_BYTES, "IDENT payload too long")
        require(self, buffer_bytes >= max(fh * fw, L.CODE_TABLE_BYTES),
                f"buffer_bytes must hold a {fh}x{fw} frame and a code table")
        self._img, self._layers, self._ident = image, layers, bytes(ident)
        self._div, self._timeout, self._buf = divisor, timeout, buffer_bytes
        self._acc, self._pw, self._serial = acc_width, payload_words, serial
        super().__init__({"rx": In(1, init=1), "tx": Out(1, init=1)})

    def _execute(self, m, t, reply, nak, dev, naks, field, have_settings, have_code, have_levels, ptype):
        """The first step of command ``t`` (its payload length already checked)."""
        if t == L.IDENT:
            reply(t | 0x80, Payload.IDENT, len(self._ident))
            m.next = "REPLYING"
        elif t == L.COUNTERS:
            reply(t | 0x80, Payload.COUNTERS, 4 * (self._layers + 2))
            m.next = "REPLYING"
        elif t == L.FRAME:
            with m.If(~have_settings | ~have_code | ~have_levels):
                nak(L.NOT_READY, ptype)
                m.next = "REPLYING"
            with m.Else():
                reply(t | 0x80)
                m.next = "FRAME_ACK"
        else:  # settings and table loads: read the buffer byte by byte
            m.next = {L.SETTINGS: "LOAD_SETTINGS", L.CODE_TABLE: "LOAD_CODE", L.LEVEL_TABLE: "LOAD_LEVELS"}[t]

    def _load_mem(self, m, k, buf, dev, length, ptype, reply, nak):
        """LOAD_MEM: check the header against the length and the memory's depth, then hand the
        rows to the engine a byte a beat as they are read from the buffer (the engine writes each
        byte into its memory's byte lane: no row is assembled here)."""
        img = self._img
        cols = img.cols
        rbytes = {mem: L.row_bytes(mem, cols) for mem in L.MEMORIES}
        depth = {L.WEIGHTS: img.weight_rows, L.PARAMS: img.param_words, L.PROGRAM: img.max_layers}
        head = Signal(8 * L.LOAD_HEAD.size)
        mem, first, nrows = head[32:40], head[16:32], head[0:16]
        rb = Signal(8)
        m.d.comb += rb.eq(Mux(mem == L.WEIGHTS, rbytes[L.WEIGHTS],
                              Mux(mem == L.PARAMS, rbytes[L.PARAMS], rbytes[L.PROGRAM])))
        expect = Signal(24)  # 5 + nrows * rb, summed one row a cycle (no multiplier)
        counted = Signal(16)
        row = Signal(16)
        jb = Signal(8)  # bytes of the current row already shifted in
        assert LAT == 2  # one flag per stage of the buffer's read
        have1 = Signal()  # the RAM has read a byte (k - 1)
        have = Signal()  # buf.q holds a byte (k - 2)
        m.d.comb += [dev.load.payload.mem.eq(mem[:2]), dev.load.payload.addr.eq(row),
                     dev.load.payload.data.eq(buf.q), dev.load.payload.last.eq(jb == rb - 1)]

        with m.State("LOAD_HEAD"):
            with m.If(_shift_in(m, k, buf, head, L.LOAD_HEAD.size)):
                m.d.sync += [expect.eq(L.LOAD_HEAD.size), counted.eq(0)]
                m.next = "LOAD_CHECK"
        # the rows' range against the memory's depth, registered from the header: LOAD_CHECK loops
        # at least once before it reads this (nrows == 0 fails without it)
        in_range = Signal()
        m.d.sync += in_range.eq(first + nrows <= Mux(mem == L.WEIGHTS, depth[L.WEIGHTS],
                                                     Mux(mem == L.PARAMS, depth[L.PARAMS], depth[L.PROGRAM])))
        with m.State("LOAD_CHECK"):
            with m.If((counted != nrows) & (expect <= length)):
                m.d.sync += [expect.eq(expect + rb), counted.eq(counted + 1)]
            with m.Else():
                ok = (mem < len(L.MEMORIES)) & (nrows != 0) & (expect == length) & in_range
                with m.If(ok):
                    m.d.sync += [k.eq(L.LOAD_HEAD.size), row.eq(first), jb.eq(0), have1.eq(0), have.eq(0)]
                    m.next = "LOAD_ROWS"
                with m.Else():
                    nak(L.BAD_VALUE, ptype)
                    m.next = "REPLYING"
        with m.State("LOAD_ROWS"):
            # a two-stage read (the RAM, its output register) that stalls as a whole
            stall = Signal()
            m.d.comb += [stall.eq(have & ~dev.load.ready),
                         buf.r_addr.eq(k), buf.r_en.eq(~stall), buf.q_en.eq(~stall),
                         dev.load.valid.eq(have)]
            with m.If(~stall):
                m.d.sync += [have1.eq(k < length), have.eq(have1)]
                with m.If(k < length):
                    m.d.sync += k.eq(k + 1)
                with m.If(have):
                    m.d.sync += jb.eq(jb + 1)
                    with m.If(dev.load.payload.last):
                        m.d.sync += [jb.eq(0), row.eq(row + 1)]
                        with m.If(~have1):  # no byte behind this one: the packet's last
                            reply(ptype | 0x80)
                            m.next = "REPLYING"

    def elaborate(self, platform):
        m = Module()
        fh, fw = self._img.frame_shape
        fh *= self._img.in_channels  # FRAME's payload bytes are fh * fw
        m.submodules.urx = urx = UARTRx(self._div)
        m.submodules.utx = utx = UARTTx(self._div)
        m.d.comb += [urx.rx.eq(self.rx), self.tx.eq(utx.tx)]
        m.submodules.dev = dev = EdgeDevice(image=self._img, acc_width=self._acc, payload_words=self._pw,
                                                serial=self._serial)
        # read data registered (the block RAM's output register where it has one): a byte comes
        # LAT cycles after its address
        m.submodules.buf = buf = RegisteredRAM(width=8, depth=self._buf)
        m.d.comb += [buf.r_en.eq(1), buf.q_en.eq(1)]  # the frame and LOAD_MEM reads stall them
        # the link's CRCs take a byte as the UART moves it, 10 bit times apart at least: serial ones
        # (a bit a cycle) have always taken a byte before the next comes
        m.submodules.rx_crc = rx_crc = crc32(self._serial)
        m.submodules.tx_crc = tx_crc = crc32(self._serial)
        m.submodules.chunk = chunk = fifo.SyncFIFOBuffered(width=8, depth=L.CHUNK + 1)

        # -- receive -----------------------------------------------------------------------------
        ptype = Signal(8)
        tag = Signal(8)
        length = Signal(16)
        count = Signal(16)
        crc_in = Signal(32)
        crc_bad = Signal()  # registered: the 32-bit compare does not feed the reply logic directly
        m.d.sync += crc_bad.eq(rx_crc.crc != crc_in)
        byte = urx.o.payload
        got = Signal()
        m.d.comb += got.eq(urx.o.valid & urx.o.ready)
        m.d.comb += [rx_crc.data.eq(byte), buf.w_data.eq(byte), buf.w_addr.eq(count)]

        # -- reply: what the sender sends --------------------------------------------------------
        r_type = Signal(8)
        r_len = Signal(16)
        r_kind = Signal(Payload)  # the payload, formed as it is sent
        r_nak = Signal(data.ArrayLayout(unsigned(8), 2))  # a NAK's code and the type it refuses
        r_chunk = Signal()  # payload from the chunk FIFO (DATA packets), else by r_kind
        r_tag0 = Signal()  # a refusal by the receiver: tag 0 (the tag byte may be the corrupt one)
        send = Signal()  # start sending the reply described above
        sending = Signal()
        naks = Signal(32)

        # -- settings, and what has been loaded --------------------------------------------------
        settings = Signal(unsigned(8 * L.SETTINGS_LAYOUT.size))  # the SETTINGS payload, first byte on top
        have_settings = Signal()
        have_code = Signal()
        have_levels = Signal()

        def field(name):  # a SETTINGS field by golden.link.SETTINGS_FIELDS, the wire's description
            offset, size = L.SETTINGS_AT[name]
            top = 8 * (L.SETTINGS_LAYOUT.size - offset)
            return settings[top - 8 * size:top]

        s = dev.settings
        m.d.comb += [s.header.ecsq.eq(field("ecsq")[0]), s.count.eq(field("count"))]
        m.d.comb += [s.header[name].eq(field(name)) for name in ("split", "bits", "clip", "seq", "c", "h", "w",
                                                                   "table_id")]
        frames_done = Signal.like(dev.frames)
        m.d.sync += frames_done.eq(dev.frames)
        with m.If(dev.frames != frames_done):  # a frame went out: the next one has the next seq
            m.d.sync += field("seq").eq(field("seq") + 1)

        def reply(rtype, kind=Payload.NONE, length=0, from_chunk=False, tag0=False):
            m.d.sync += [r_type.eq(rtype), r_kind.eq(kind), r_len.eq(length), r_chunk.eq(int(from_chunk)),
                         r_tag0.eq(int(tag0))]
            m.d.comb += send.eq(1)

        def nak(code, of, tag0=False):
            reply(L.NAK, Payload.NAK, 2, tag0=tag0)
            m.d.sync += [r_nak[0].eq(code), r_nak[1].eq(of), naks.eq(naks + 1)]

        k = Signal(16)  # executor's byte counter
        sym = Signal(8)
        word = Signal(24)
        timed_out = Signal()
        m.d.comb += timed_out.eq(urx.idle >= self._timeout)
        pix_done = Signal()

        with m.FSM(name="link"):
            with m.State("HUNT"):
                m.d.comb += urx.o.ready.eq(1)
                with m.If(got & (byte == L.SYNC)):
                    m.d.sync += count.eq(0)
                    m.next = "HEADER"
            with m.State("HEADER"):
                m.d.comb += [urx.o.ready.eq(1), rx_crc.valid.eq(got), rx_crc.start.eq(got & (count == 0))]
                with m.If(got):
                    m.d.sync += count.eq(count + 1)
                    with m.Switch(count):
                        with m.Case(0):
                            m.d.sync += ptype.eq(byte)
                        with m.Case(1):
                            m.d.sync += tag.eq(byte)
                        with m.Case(2):
                            m.d.sync += length[8:].eq(byte)
                        with m.Case(3):
                            m.d.sync += [length[:8].eq(byte), count.eq(0)]
                            with m.If(Cat(byte, length[8:]) > self._buf):
                                m.next = "TOO_LONG"
                            with m.Elif(Cat(byte, length[8:]) == 0):
                                m.next = "CRC"
                            with m.Else():
                                m.next = "PAYLOAD"
                with m.Elif(timed_out):
                    m.next = "TIMEOUT"
            with m.State("PAYLOAD"):
                m.d.comb += [urx.o.ready.eq(1), rx_crc.valid.eq(got), buf.w_en.eq(got)]
                with m.If(got):
                    m.d.sync += count.eq(count + 1)
                    with m.If(count == length - 1):
                        m.d.sync += count.eq(0)
                        m.next = "CRC"
                with m.Elif(timed_out):
                    m.next = "TIMEOUT"
            with m.State("CRC"):
                m.d.comb += urx.o.ready.eq(1)
                with m.If(got):
                    m.d.sync += [crc_in.eq(Cat(byte, crc_in[:24])), count.eq(count + 1)]
                    with m.If(count == 3):
                        m.d.sync += count.eq(0)
                        m.next = "COMPARE"
                with m.Elif(timed_out):
                    m.next = "TIMEOUT"
            with m.State("COMPARE"):  # `crc_bad` is registered from the whole received CRC
                m.next = "CHECK"
            with m.State("TOO_LONG"):
                with m.If(~sending):
                    nak(L.BAD_LENGTH, ptype, tag0=True)
                    m.next = "REPLYING"
            with m.State("TIMEOUT"):
                with m.If(~sending):
                    nak(L.TIMEOUT, Const(0, 8), tag0=True)
                    m.next = "REPLYING"
            with m.State("CHECK"):
                with m.If(crc_bad):
                    nak(L.BAD_CRC, Const(0, 8), tag0=True)
                    m.next = "REPLYING"
                with m.Else():
                    m.d.sync += k.eq(0)
                    m.next = "EXEC"
            with m.State("EXEC"):
                ok_len = {L.IDENT: 0, L.SETTINGS: L.SETTINGS_LAYOUT.size, L.CODE_TABLE: L.CODE_TABLE_BYTES,
                          L.LEVEL_TABLE: 256, L.FRAME: fh * fw, L.COUNTERS: 0}
                with m.Switch(ptype):
                    with m.Case(L.LOAD_MEM):
                        with m.If(length < L.LOAD_HEAD.size + 1):
                            nak(L.BAD_VALUE, ptype)
                            m.next = "REPLYING"
                        with m.Else():
                            m.next = "LOAD_HEAD"
                    for t, n in ok_len.items():
                        with m.Case(t):
                            with m.If(length != n):
                                nak(L.BAD_VALUE, ptype)
                                m.next = "REPLYING"
                            with m.Else():
                                self._execute(m, t, reply, nak, dev, naks, field, have_settings, have_code,
                                              have_levels, ptype)
                    with m.Default():
                        nak(L.UNKNOWN_TYPE, ptype)
                        m.next = "REPLYING"
            # buffer reads: address k, data LAT cycles later (k - LAT)
            with m.State("LOAD_SETTINGS"):
                with m.If(_shift_in(m, k, buf, settings, L.SETTINGS_LAYOUT.size)):
                    m.next = "CHECK_SETTINGS"
            with m.State("CHECK_SETTINGS"):
                bits = field("bits")
                with m.If((field("ecsq") > 1) | (bits == 0) | (bits > 8) | (field("clip") == 0) | (field("count") == 0)):
                    m.d.sync += have_settings.eq(0)
                    nak(L.BAD_VALUE, ptype)
                with m.Else():
                    m.d.sync += have_settings.eq(1)
                    reply(ptype | 0x80)
                m.next = "REPLYING"
            with m.State("LOAD_CODE"):
                # byte k - LAT is in buf.q: code high, code low, length; the length completes a word
                j = Signal(2)
                m.d.comb += buf.r_addr.eq(k)
                m.d.sync += k.eq(k + 1)
                m.d.comb += [dev.code_w.valid.eq((k >= LAT) & (j == 2)), dev.code_w.payload.addr.eq(sym),
                             dev.code_w.payload.code.eq(word[:16]), dev.code_w.payload.len.eq(buf.q)]
                with m.If(k >= LAT):
                    m.d.sync += [word.eq(Cat(buf.q, word[:8])), j.eq(Mux(j == 2, 0, j + 1))]
                    with m.If(j == 2):
                        m.d.sync += sym.eq(sym + 1)
                with m.If(k == L.CODE_TABLE_BYTES + LAT - 1):
                    m.d.sync += [have_code.eq(1), sym.eq(0), j.eq(0)]
                    reply(ptype | 0x80)
                    m.next = "REPLYING"
            with m.State("LOAD_LEVELS"):
                m.d.comb += buf.r_addr.eq(k)
                m.d.sync += k.eq(k + 1)
                m.d.comb += [dev.level_w.valid.eq(k >= LAT), dev.level_w.payload.addr.eq(k - LAT),
                             dev.level_w.payload.level.eq(buf.q)]
                with m.If(k == 256 + LAT - 1):
                    m.d.sync += have_levels.eq(1)
                    reply(ptype | 0x80)
                    m.next = "REPLYING"
            self._load_mem(m, k, buf, dev, length, ptype, reply, nak)
            with m.State("REPLYING"):
                with m.If(~send & ~sending):
                    m.next = "HUNT"
            with m.State("FRAME_ACK"):
                with m.If(~send & ~sending):
                    m.d.sync += [k.eq(0), pix_done.eq(0)]
                    m.next = "FRAME"
            with m.State("FRAME"):
                # pixels from the buffer into the engine through a two-stage pipeline that stalls
                # as a whole: the RAM has read pixel k - 1 while `pend`, and its output register
                # holds the pixel the engine takes while `pix_v`
                pend = Signal()
                pix_v = Signal()
                advance = Signal()
                m.d.comb += [advance.eq(~pix_v | dev.frame.ready), buf.r_addr.eq(k), buf.r_en.eq(advance),
                             buf.q_en.eq(advance), dev.frame.payload.eq(buf.q), dev.frame.valid.eq(pix_v)]
                with m.If(advance):
                    m.d.sync += [pend.eq(k < fh * fw), pix_v.eq(pend)]
                    with m.If(k < fh * fw):
                        m.d.sync += k.eq(k + 1)
                # frame bytes into the chunk FIFO; a DATA packet per 64 bytes, DATA_END with the last
                n = Signal(range(L.CHUNK + 1))  # bytes in the chunk FIFO
                last_in = Signal()
                m.d.comb += [chunk.w_data.eq(dev.o.payload.data),
                             chunk.w_en.eq(dev.o.valid & ~last_in & (n < L.CHUNK)),
                             dev.o.ready.eq(chunk.w_rdy & ~last_in & (n < L.CHUNK))]
                wrote = Signal()
                m.d.comb += wrote.eq(dev.o.valid & dev.o.ready)
                with m.If(wrote):
                    m.d.sync += n.eq(n + 1)
                    with m.If(dev.o.payload.last):
                        m.d.sync += last_in.eq(1)
                with m.If(~sending & ((n == L.CHUNK) | last_in)):
                    reply(Mux(last_in, L.DATA_END, L.DATA), length=n, from_chunk=True)
                    m.d.sync += n.eq(wrote)  # a byte written now belongs to the next chunk
                    with m.If(last_in):
                        m.d.sync += last_in.eq(0)
                        m.next = "REPLYING"

        # -- send ---------------------------------------------------------------------------------
        idx = Signal(16)  # zeroed as SYNC is sent
        with m.If(send):
            m.d.sync += sending.eq(1)
        obyte = Signal(8)
        ovalid = Signal()
        m.d.comb += [utx.i.payload.eq(obyte), utx.i.valid.eq(ovalid)]
        sent = Signal()
        m.d.comb += sent.eq(utx.i.valid & utx.i.ready)
        m.d.comb += [tx_crc.data.eq(obyte)]
        crc_reg = Signal(32)
        rev = Signal(2)  # byte 3 - idx of a big-endian 32-bit value
        m.d.comb += rev.eq(~idx[:2])
        # the payload byte idx, registered a cycle after idx moves (`p_ok` low meanwhile): the IDENT
        # bytes are constants; the counters and the NAK counter do not move while a reply is sent
        # (requests run one at a time, and no frame runs then)
        p_byte = Signal(8)
        p_ok = Signal()
        counters = []
        for w in [dev.frames] + [dev.cycles[i] for i in range(self._layers)] + [naks]:
            w = Cat(w, Const(0, 32 - len(w))) if len(w) < 32 else w
            counters += [w[24:32], w[16:24], w[8:16], w[0:8]]
        with m.Switch(r_kind):
            with m.Case(Payload.IDENT):
                with m.Switch(idx[:5]):
                    for i, b in enumerate(self._ident):
                        with m.Case(i):
                            m.d.sync += p_byte.eq(b)
            with m.Case(Payload.COUNTERS):
                with m.Switch(idx[:5]):
                    for i, b in enumerate(counters):
                        with m.Case(i):
                            m.d.sync += p_byte.eq(b)
            with m.Case(Payload.NAK):
                m.d.sync += p_byte.eq(Mux(idx[0], r_nak[1], r_nak[0]))
        m.d.sync += p_ok.eq(0)  # but in BODY: never a stale byte as BODY begins
        with m.FSM(name="send"):
            with m.State("IDLE"):
                with m.If(sending):
                    m.next = "SYNC"
            with m.State("SYNC"):
                m.d.comb += [obyte.eq(L.SYNC), ovalid.eq(1)]
                with m.If(sent):
                    m.d.sync += idx.eq(0)
                    m.next = "HEAD"
            with m.State("HEAD"):
                head = Cat(r_len[:8], r_len[8:], Mux(r_tag0, 0, tag), r_type)  # sent from the top byte down
                m.d.comb += [obyte.eq(head.word_select(rev, 8)), ovalid.eq(1),
                             tx_crc.valid.eq(sent), tx_crc.start.eq(sent & (idx == 0))]
                with m.If(sent):
                    m.d.sync += idx.eq(idx + 1)
                    with m.If(idx == 3):
                        m.d.sync += idx.eq(0)
                        m.next = "BODY"
            with m.State("BODY"):
                with m.If(idx == r_len):
                    m.next = "LATCH"
                with m.Elif(r_chunk):
                    m.d.comb += [obyte.eq(chunk.r_data), ovalid.eq(chunk.r_rdy), chunk.r_en.eq(sent),
                                 tx_crc.valid.eq(sent)]
                    with m.If(sent):
                        m.d.sync += idx.eq(idx + 1)
                with m.Else():
                    m.d.comb += [obyte.eq(p_byte), ovalid.eq(p_ok), tx_crc.valid.eq(sent)]
                    m.d.sync += p_ok.eq(~sent)
                    with m.If(sent):
                        m.d.sync += idx.eq(idx + 1)
            with m.State("LATCH"):  # the CRC has taken the last byte (a serial one: all its bits)
                def latch():
                    m.d.sync += [crc_reg.eq(tx_crc.crc), idx.eq(0)]
                    m.next = "CRC"
                if self._serial:
                    with m.If(~tx_crc.busy):
                        latch()
                else:
                    latch()
            with m.State("CRC"):
                m.d.comb += [obyte.eq(crc_reg.word_select(rev, 8)), ovalid.eq(1)]
                with m.If(sent):
                    m.d.sync += idx.eq(idx + 1)
                    with m.If(idx == 3):
                        m.d.sync += sending.eq(0)
                        m.next = "IDLE"
        return m
