"""The link's command executor (docs/PROTOCOL.md section 3; golden twin: :mod:`golden.executor`).

It takes a request from :class:`rtl.receiver.PacketReceiver` (its payload in the packet buffer),
checks it, runs it against the edge device and hands its replies to :class:`rtl.sender.PacketSender`:
a head, then the payload as a stream of bytes (formed as they are sent, or a frame's bytes from the
chunk FIFO). It answers the request (``req.ready``) once the last reply has gone, so requests run
one at a time and a corrupt packet, refused by the receiver, changes nothing.

- IDENT, COUNTERS: a reply whose payload is formed byte by byte (constants; the counters).
- SETTINGS, CODE_TABLE, LEVEL_TABLE: read from the buffer into the codec's registers and RAMs.
- LOAD_MEM: the header checked against the length and the memory's depth, then the rows to the
  engine a byte a beat.
- FRAME: the pixels into the engine, its frame bytes into the chunk FIFO, a DATA packet per 64
  bytes and DATA_END with the last.
"""

from amaranth import Cat, Const, Module, Mux, Signal, unsigned
from amaranth.lib import data, enum, fifo, stream, wiring
from amaranth.lib.wiring import In, Out

from golden import frame as F
from golden import link as L

from ._params import is_int, require
from .bram import RegisteredRAM
from .frame import HEADER_RAM_DEPTH
from .program_check import ProgramCheck
from .table_check import TableCheck
from .receiver import NAK_CODE, Refused, request_layout
from .sender import head_layout

__all__ = ["CommandExecutor", "Payload"]

LAT = RegisteredRAM.latency  # packet buffer: a byte on q this many cycles after its address
FORMED_BYTES = 32  # a payload formed as it is sent (IDENT, COUNTERS, NAK) is indexed by 5 bits


class Payload(enum.Enum, shape=3):
    """A reply's payload: none, the chunk FIFO's bytes, or formed byte by byte as it is sent (the
    IDENT bytes, the counters, a NAK's code and the refused type)."""

    NONE = 0
    CHUNK = 1
    IDENT = 2
    COUNTERS = 3
    NAK = 4


class CommandExecutor(wiring.Component):
    """Parameters
    ----------
    image : golden.layer_engine.EngineImage
    layers : int
        Edge layers run (the split); the COUNTERS reply carries this many layer counters.
    ident : bytes
        The IDENT reply payload (:func:`golden.link.identity`).
    device : rtl.edge_device.EdgeDevice
        The device it drives (its signature; connect ``dev`` to it).

    Members
    -------
    req : In(stream.Signature(request_layout()))
    r_addr, r_en, q_en : Out; q : In(8)
        The packet buffer's read port (q registered, ``LAT`` cycles after the address).
    head : Out(stream.Signature(head_layout())); body : Out(stream.Signature(unsigned(8)))
        Replies, to the sender.
    sending : In(1)
        The sender is busy with a packet.
    dev : the device's signature, flipped
    naks : Out(32)
        NAKs sent.
    """

    def __init__(self, *, image, layers, ident, device):
        require(self, is_int(layers, 1, 4), f"the SoC reports 1..4 layer counters, not {layers!r}")
        require(self, len(ident) <= FORMED_BYTES, f"an IDENT payload of more than {FORMED_BYTES} bytes")
        self._img, self._layers, self._ident = image, layers, bytes(ident)
        # a device that can read its program memory gets the reference device's checks but its run of a
        # new program on a blank frame (docs/PROTOCOL.md, conformance); the iCE40UP5K's has no room
        self._checks = "prog_data" in device.signature.members
        super().__init__({"req": In(stream.Signature(request_layout())),
                          "r_addr": Out(16), "r_en": Out(1), "q_en": Out(1), "q": In(8),
                          "head": Out(stream.Signature(head_layout())), "body": Out(stream.Signature(unsigned(8))),
                          "sending": In(1), "dev": In(device.signature), "naks": Out(32)})

    def elaborate(self, platform):
        m = Module()
        self._m = m
        req, hd = self.req.payload, self.head.payload
        m.d.comb += [self.r_en.eq(1), self.q_en.eq(1)]  # the frame and LOAD_MEM reads stall them
        self._kind = kind = Signal(Payload)
        self._nak_of = nak_of = Signal(data.ArrayLayout(unsigned(8), 2))  # a NAK's code, the type refused
        self._k = Signal(16)  # the buffer's read address
        self._idle = idle = Signal()  # no reply waits or is being sent
        with m.If(self.head.ready):  # the sender has taken the head (a reply below sets the next)
            m.d.sync += self.head.valid.eq(0)
        m.d.comb += idle.eq(~self.head.valid & ~self.sending)

        def reply(rtype, payload=Payload.NONE, length=0, tag0=False):
            m.d.sync += [hd.type.eq(rtype), hd.tag.eq(0 if tag0 else req.tag), hd.length.eq(length),
                         kind.eq(payload), self.head.valid.eq(1)]

        def nak(code, of, tag0=False):
            reply(L.NAK, Payload.NAK, 2, tag0=tag0)
            m.d.sync += [nak_of[0].eq(code), nak_of[1].eq(of), self.naks.eq(self.naks + 1)]

        self._reply, self._nak = reply, nak
        self._settings()
        if self._checks:
            m.submodules.program_check = self._walk = walk = ProgramCheck(image=self._img)
            m.d.comb += [self.dev.prog_layer.eq(walk.d_layer), self.dev.prog_word.eq(walk.d_word),
                         walk.d_data.eq(self.dev.prog_data)]
            m.submodules.table_check = self._tc = tc = TableCheck()
            f = self._fields
            m.d.comb += [tc.q.eq(self.q), tc.bits.eq(f["bits"]), tc.ecsq.eq(f["ecsq"][0]),
                         tc.cw_en.eq(self.dev.code_w.valid), tc.cw_addr.eq(self.dev.code_w.payload.addr),
                         tc.cw_len.eq(self.dev.code_w.payload.len), tc.lw_en.eq(self.dev.level_w.valid),
                         tc.lw_addr.eq(self.dev.level_w.payload.addr), tc.lw_level.eq(self.dev.level_w.payload.level)]
        with m.FSM(name="exec"):
            with m.State("IDLE"):
                m.d.sync += self._k.eq(0)
                with m.If(self.req.valid):
                    self._dispatch()
            self._tables()
            self._load_mem()
            self._frame()
            with m.State("REPLYING"):
                with m.If(idle):
                    m.d.comb += self.req.ready.eq(1)
                    m.next = "IDLE"
        self._body()
        return m

    def _dispatch(self):
        """A request's first step: a refusal's NAK, a length check, then its command."""
        m, req, nak = self._m, self.req.payload, self._nak
        t = req.type
        fh, fw = self._img.frame_shape
        ok_len = {L.IDENT: 0, L.SETTINGS: L.SETTINGS_LAYOUT.size, L.CODE_TABLE: L.CODE_TABLE_BYTES,
                  L.LEVEL_TABLE: 256, L.FRAME: self._img.in_channels * fh * fw, L.COUNTERS: 0}
        m.next = "REPLYING"
        with m.If(req.refused != Refused.NONE):
            with m.Switch(req.refused):
                for why, code in NAK_CODE.items():
                    with m.Case(why):
                        nak(code, t if why == Refused.BAD_LENGTH else Const(0, 8), tag0=True)
        with m.Elif((t == L.LOAD_MEM) & (req.length >= L.LOAD_HEAD.size + 1)):
            m.next = "LOAD_HEAD"
        with m.Elif(t == L.LOAD_MEM):
            nak(L.BAD_VALUE, t)
        with m.Else():
            with m.Switch(t):
                for c, n in ok_len.items():
                    with m.Case(c):
                        with m.If(req.length != n):
                            nak(L.BAD_VALUE, t)
                        with m.Else():
                            self._command(c)
                with m.Default():
                    nak(L.UNKNOWN_TYPE, t)

    def _command(self, t):
        """The first step of command ``t``, its payload length checked."""
        m, reply = self._m, self._reply
        if t == L.IDENT:
            reply(t | 0x80, Payload.IDENT, len(self._ident))
        elif t == L.COUNTERS:
            reply(t | 0x80, Payload.COUNTERS, 4 * (self._layers + 2))
        elif t == L.FRAME:
            with m.If(~self._have_settings | ~self._have_code | ~self._have_levels):
                self._nak(L.NOT_READY, t)
            with m.Else():
                if self._checks:  # the program walked and the table id computed, then the ACK or NOT_READY
                    m.d.comb += [self._walk.start.eq(1), self._tc.id_start.eq(1)]
                    m.next = "FRAME_CHECK"
                else:
                    reply(t | 0x80)
                    m.next = "FRAME_ACK"
        else:  # settings and table loads: read the buffer byte by byte
            m.next = {L.SETTINGS: "LOAD_SETTINGS", L.CODE_TABLE: "LOAD_CODE", L.LEVEL_TABLE: "LOAD_LEVELS"}[t]

    def _shift_in(self, reg, n):
        """Read buffer bytes 0 .. n-1 into ``reg``, the first byte ending on top; the returned
        condition is true on the cycle that shifts in the last byte."""
        m, k = self._m, self._k
        m.d.comb += self.r_addr.eq(k)
        m.d.sync += k.eq(k + 1)
        with m.If(k >= LAT):
            m.d.sync += reg.eq(Cat(self.q, reg[:-8]))
        return k == n + LAT - 1

    def _settings(self):
        """The SETTINGS fields the device reads, each a register of its own, to the codec; where the
        device has a header RAM (``dev.header_w``) only those the codec's other parts read are kept
        here, and the rest go into the RAM as they are read."""
        m, dev = self._m, self.dev
        self._ram = "header_w" in dev.signature.members
        checked = ("split", "c", "h", "w", "reserved") if self._checks else ()
        names = ("ecsq", "bits", "clip", "seq", "count") + checked if self._ram else \
            tuple(name for name, _ in L.SETTINGS_FIELDS if name != "reserved" or self._checks)
        self._fields = {name: Signal(8 * L.SETTINGS_AT[name][1], name=f"set_{name}") for name in names}
        self._have_settings, self._have_code, self._have_levels = Signal(), Signal(), Signal()
        self._level_max = Signal(8)
        # the count check's shift-and-add (COUNT)
        self._count = {"acc": Signal(48), "mcand": Signal(48), "mplier": Signal(16), "n": Signal(range(17)),
                       "second": Signal()}
        s, f = dev.settings, self._fields
        m.d.comb += [s.header.ecsq.eq(f["ecsq"][0]), s.count.eq(f["count"])]
        m.d.comb += [s.header[name].eq(f[name]) for name in names if name not in ("ecsq", "count", "reserved")]
        with m.If(dev.o.valid & dev.o.ready & dev.o.payload.last):  # a frame's last byte: the next seq
            m.d.sync += f["seq"].eq(f["seq"] + 1)

    def _load_settings(self):
        """LOAD_SETTINGS: the payload read byte by byte (address k, data LAT cycles later), each
        kept field's bytes into its register, and every byte into the header RAM if there is one."""
        m, k, q, dev = self._m, self._k, self.q, self.dev
        byte = Signal(5)  # the payload byte in q (k - LAT while it counts up to the payload's size)
        m.d.comb += [self.r_addr.eq(k), byte.eq(k - LAT)]
        m.d.sync += k.eq(k + 1)
        for name, reg in self._fields.items():
            offset, size = L.SETTINGS_AT[name]
            for t in range(size):  # big-endian: byte t is the field's (size - 1 - t)th from the bottom
                with m.If((k >= LAT) & (byte == offset + t)):
                    m.d.sync += reg[8 * (size - 1 - t):8 * (size - t)].eq(q)
        if self._ram:
            w = dev.header_w
            m.d.comb += [w.valid.eq((k >= LAT) & (byte < HEADER_RAM_DEPTH)), w.payload.addr.eq(byte),
                         w.payload.data.eq(q)]
        return k == L.SETTINGS_LAYOUT.size + LAT - 1

    def _tables(self):
        """SETTINGS, CODE_TABLE and LEVEL_TABLE: the buffer read byte by byte (address k, data LAT
        cycles later) into the settings register and the codec's RAMs."""
        m, k, q, dev, t = self._m, self._k, self.q, self.dev, self.req.payload.type
        with m.State("LOAD_SETTINGS"):
            with m.If(self._load_settings()):
                m.next = "CHECK_SETTINGS"
        with m.State("CHECK_SETTINGS"):
            f = self._fields.__getitem__
            bad = (f("ecsq") > 1) | (f("bits") == 0) | (f("bits") > 8) | (f("clip") == 0) | (f("count") == 0)
            if self._checks:
                bad |= (f("split") == 0) | (f("c") == 0) | (f("h") == 0) | (f("w") == 0) | (f("reserved") != 0) \
                    | (f("count") > F.MAX_ELEMENTS)
            with m.If(bad):
                m.d.sync += self._have_settings.eq(0)
                self._nak(L.BAD_VALUE, t)
            with m.Else():
                self._settings_ok()
            m.next = "REPLYING"
            if self._checks:  # the count next
                with m.If(~bad):
                    m.next = "COUNT"
        if self._checks:
            self._count_check()
        with m.State("LOAD_CODE"):
            # byte k - LAT is in q: code high, code low, length; the length completes a word
            sym, word, j = Signal(8), Signal(16), Signal(2)
            m.d.comb += self.r_addr.eq(k)
            m.d.sync += k.eq(k + 1)
            m.d.comb += [dev.code_w.valid.eq((k >= LAT) & (j == 2)), dev.code_w.payload.addr.eq(sym),
                         dev.code_w.payload.code.eq(word), dev.code_w.payload.len.eq(q)]
            with m.If(k >= LAT):
                m.d.sync += [word.eq(Cat(q, word[:8])), j.eq(Mux(j == 2, 0, j + 1))]
                with m.If(j == 2):
                    m.d.sync += sym.eq(sym + 1)
            with m.If(k == L.CODE_TABLE_BYTES + LAT - 1):
                m.d.sync += [self._have_code.eq(1), sym.eq(0), j.eq(0)]
                if self._checks:  # checked in the buffer, then the ACK
                    m.d.comb += self._tc.code_start.eq(1)
                    m.next = "CODE_CHECK"
                else:
                    self._reply(t | 0x80)
                    m.next = "REPLYING"
        if self._checks:
            with m.State("CODE_CHECK"):
                m.d.comb += self.r_addr.eq(self._tc.r_addr)
                with m.If(~self._tc.busy):
                    self._reply(t | 0x80)
                    m.next = "REPLYING"
        with m.State("LOAD_LEVELS"):
            m.d.comb += self.r_addr.eq(k)
            m.d.sync += k.eq(k + 1)
            m.d.comb += [dev.level_w.valid.eq(k >= LAT), dev.level_w.payload.addr.eq(k - LAT),
                         dev.level_w.payload.level.eq(q)]
            if self._checks:  # the largest level, which FRAME compares with 2**bits - 1
                with m.If((k == LAT) | ((k > LAT) & (q > self._level_max))):
                    m.d.sync += self._level_max.eq(q)
            with m.If(k == 256 + LAT - 1):
                m.d.sync += self._have_levels.eq(1)
                self._reply(t | 0x80)
                m.next = "REPLYING"

    def _settings_ok(self):
        """SETTINGS's fields in range: the count's check set up where the device checks it (COUNT
        next), else the settings taken."""
        m, t = self._m, self.req.payload.type
        if self._checks:
            c = self._count
            m.d.sync += [c["acc"].eq(0), c["mcand"].eq(self._fields["c"]), c["mplier"].eq(self._fields["h"]),
                         c["n"].eq(0), c["second"].eq(0)]
        else:
            m.d.sync += self._have_settings.eq(1)
            self._reply(t | 0x80)

    def _count_check(self):
        """COUNT: C*H*W by shift and add, a bit of the multiplier a cycle (C*H over H's 16 bits, then
        that times W over W's), compared with SETTINGS's count."""
        m, t, f = self._m, self.req.payload.type, self._fields
        acc, mcand, mplier, n, second = (self._count[k] for k in ("acc", "mcand", "mplier", "n", "second"))
        with m.State("COUNT"):
            m.d.sync += [mcand.eq(mcand << 1), mplier.eq(mplier >> 1), n.eq(n + 1)]
            with m.If(mplier[0]):
                m.d.sync += acc.eq(acc + mcand)
            with m.If(n == 16):
                with m.If(~second):
                    m.d.sync += [acc.eq(0), mcand.eq(acc), mplier.eq(f["w"]), n.eq(0), second.eq(1)]
                with m.Elif(acc == f["count"]):
                    m.d.sync += self._have_settings.eq(1)
                    self._reply(t | 0x80)
                    m.next = "REPLYING"
                with m.Else():
                    m.d.sync += self._have_settings.eq(0)
                    self._nak(L.BAD_VALUE, t)
                    m.next = "REPLYING"

    def _load_mem(self):
        """LOAD_MEM: check the header against the length and the memory's depth, then hand the rows
        to the engine a byte a beat as they are read from the buffer (the engine writes each byte
        into its memory's byte lane: no row is assembled here)."""
        m, k, q, dev = self._m, self._k, self.q, self.dev
        t, length = self.req.payload.type, self.req.payload.length
        img = self._img
        rbytes = {mem: L.row_bytes(mem, img.cols) for mem in L.MEMORIES}
        depth = {L.WEIGHTS: img.weight_rows, L.PARAMS: img.param_words, L.PROGRAM: img.max_layers}
        head = Signal(8 * L.LOAD_HEAD.size)
        mem, first, nrows = head[32:40], head[16:32], head[0:16]
        rb = Signal(8)
        m.d.comb += rb.eq(Mux(mem == L.WEIGHTS, rbytes[L.WEIGHTS],
                              Mux(mem == L.PARAMS, rbytes[L.PARAMS], rbytes[L.PROGRAM])))
        # the length against the rows: rb subtracted from length - 5 once a row, the header's row
        # count counted down in place, with no borrow and nothing left at the end (one subtractor)
        rem = Signal(17)
        row = Signal(16)
        jb = Signal(8)  # bytes of the current row already shifted in
        assert LAT == 2  # one flag per stage of the buffer's read
        have1 = Signal()  # the RAM has read a byte (k - 1)
        have = Signal()  # q holds a byte (k - 2)
        m.d.comb += [dev.load.payload.mem.eq(mem[:2]), dev.load.payload.addr.eq(row),
                     dev.load.payload.data.eq(q), dev.load.payload.last.eq(jb == rb - 1)]
        # the rows' range against the memory's depth and whether there are any, registered from
        # the header in LOAD_CHECK's first cycle (`checked` low), before its row count moves
        in_range, some, checked = Signal(), Signal(), Signal()
        with m.State("LOAD_HEAD"):
            m.d.sync += [rem.eq(length - L.LOAD_HEAD.size), checked.eq(0)]
            with m.If(self._shift_in(head, L.LOAD_HEAD.size)):
                m.next = "LOAD_CHECK"
        with m.State("LOAD_CHECK"):
            m.d.sync += checked.eq(1)
            with m.If(~checked):
                m.d.sync += [in_range.eq(first + nrows <= Mux(mem == L.WEIGHTS, depth[L.WEIGHTS],
                                                              Mux(mem == L.PARAMS, depth[L.PARAMS], depth[L.PROGRAM]))),
                             some.eq(nrows != 0)]
            with m.If((nrows != 0) & ~rem[16]):
                m.d.sync += [rem.eq(rem - rb), nrows.eq(nrows - 1)]
            with m.Elif(checked & (mem < len(L.MEMORIES)) & some & (rem == 0) & in_range):
                m.d.sync += [k.eq(L.LOAD_HEAD.size), row.eq(first), jb.eq(0), have1.eq(0), have.eq(0)]
                m.next = "LOAD_ROWS"
            with m.Elif(checked):
                self._nak(L.BAD_VALUE, t)
                m.next = "REPLYING"
        with m.State("LOAD_ROWS"):
            # a two-stage read (the RAM, its output register) that stalls as a whole
            stall = Signal()
            m.d.comb += [stall.eq(have & ~dev.load.ready), self.r_addr.eq(k), self.r_en.eq(~stall),
                         self.q_en.eq(~stall), dev.load.valid.eq(have)]
            with m.If(~stall):
                m.d.sync += [have1.eq(k < length), have.eq(have1)]
                with m.If(k < length):
                    m.d.sync += k.eq(k + 1)
                with m.If(have):
                    m.d.sync += jb.eq(jb + 1)
                    with m.If(dev.load.payload.last):
                        m.d.sync += [jb.eq(0), row.eq(row + 1)]
                        with m.If(~have1):  # no byte behind this one: the packet's last
                            self._reply(t | 0x80)
                            m.next = "REPLYING"

    def _frame(self):
        """FRAME: pixels from the buffer into the engine; its frame bytes into the chunk FIFO, a
        DATA packet per 64 bytes and DATA_END with the last."""
        m, k, dev = self._m, self._k, self.dev
        fh, fw = self._img.frame_shape
        n_pix = self._img.in_channels * fh * fw
        m.submodules.chunk = self._chunk = chunk = fifo.SyncFIFOBuffered(width=8, depth=L.CHUNK + 1)
        if self._checks:
            self._frame_check()
        with m.State("FRAME_ACK"):
            with m.If(self._idle):
                m.d.sync += k.eq(0)
                m.next = "FRAME"
        with m.State("FRAME"):
            # a two-stage pipeline that stalls as a whole: the RAM has read pixel k - 1 while
            # `pend`, and its output register holds the pixel the engine takes while `pix_v`
            pend, pix_v, advance = Signal(), Signal(), Signal()
            m.d.comb += [advance.eq(~pix_v | dev.frame.ready), self.r_addr.eq(k), self.r_en.eq(advance),
                         self.q_en.eq(advance), dev.frame.payload.eq(self.q), dev.frame.valid.eq(pix_v)]
            with m.If(advance):
                m.d.sync += [pend.eq(k < n_pix), pix_v.eq(pend)]
                with m.If(k < n_pix):
                    m.d.sync += k.eq(k + 1)
            n = Signal(range(L.CHUNK + 1))  # bytes in the chunk FIFO
            last_in = Signal()
            wrote = Signal()
            m.d.comb += [chunk.w_data.eq(dev.o.payload.data),
                         chunk.w_en.eq(dev.o.valid & ~last_in & (n < L.CHUNK)),
                         dev.o.ready.eq(chunk.w_rdy & ~last_in & (n < L.CHUNK)),
                         wrote.eq(dev.o.valid & dev.o.ready)]
            with m.If(wrote):
                m.d.sync += n.eq(n + 1)
                with m.If(dev.o.payload.last):
                    m.d.sync += last_in.eq(1)
            with m.If(self._idle & ((n == L.CHUNK) | last_in)):  # no byte is written meanwhile
                self._reply(Mux(last_in, L.DATA_END, L.DATA), Payload.CHUNK, n)
                m.d.sync += n.eq(0)
                with m.If(last_in):
                    m.d.sync += last_in.eq(0)
                    m.next = "REPLYING"

    def _frame_check(self):
        """FRAME_CHECK, FRAME_VERDICT: once the program walk and the table id end, the ACK if what
        was loaded makes a frame the format allows (the program runs, its output is SETTINGS's C, H,
        W, no level above ``2**bits - 1``, the code words canonical with a code for every symbol that
        can occur, SETTINGS's table id the loaded tables'), else NOT_READY."""
        m, walk, tc, f, t = self._m, self._walk, self._tc, self._fields, self.req.payload.type
        ready = Signal()  # the verdict, registered before the reply it selects (the ECP5's 100 MHz)
        with m.State("FRAME_CHECK"):
            with m.If(~walk.busy & ~tc.busy):
                m.d.sync += ready.eq(walk.ok & (walk.shape.c == f["c"]) & (walk.shape.h == f["h"])
                                     & (walk.shape.w == f["w"]) & ((self._level_max >> f["bits"]) == 0)
                                     & tc.canonical & (f["bits"] <= tc.upto) & tc.id_ok
                                     & (tc.table_id == f["table_id"]))
                m.next = "FRAME_VERDICT"
        with m.State("FRAME_VERDICT"):
            with m.If(ready):
                self._reply(t | 0x80)
                m.next = "FRAME_ACK"
            with m.Else():
                self._nak(L.NOT_READY, t)
                m.next = "REPLYING"

    def _body(self):
        """The reply's payload to the sender, valid only for the ``length`` bytes of the reply whose
        head the sender has taken: the chunk FIFO's bytes, or byte ``idx`` formed two cycles after
        idx moves (valid low meanwhile; a layer's count read from the device's block RAM, where it
        keeps them there, takes the first): the IDENT bytes are constants; the counters and the NAK
        counter do not move while a reply is sent (requests run one at a time)."""
        m, kind, chunk, dev = self._m, self._kind, self._chunk, self.dev
        idx = Signal(16)
        left = Signal(16)  # payload bytes of the current reply not yet taken
        p_byte, p_ok, moved = Signal(8), Signal(), Signal()
        took, began = Signal(), Signal()
        m.d.comb += [took.eq(self.body.valid & self.body.ready), began.eq(self.head.valid & self.head.ready)]
        with m.If(began):
            m.d.sync += [idx.eq(0), left.eq(self.head.payload.length)]
        with m.Elif(took):
            m.d.sync += [idx.eq(idx + 1), left.eq(left - 1)]
        m.d.sync += [moved.eq(took | began), p_ok.eq(~took & ~began & ~moved)]
        with m.If(kind == Payload.CHUNK):
            m.d.comb += [self.body.payload.eq(chunk.r_data), self.body.valid.eq(chunk.r_rdy & (left != 0)),
                         chunk.r_en.eq(self.body.ready & (left != 0))]
        with m.Else():
            m.d.comb += [self.body.payload.eq(p_byte), self.body.valid.eq(p_ok & (left != 0))]
        i5 = idx[:(FORMED_BYTES - 1).bit_length()]

        def be(w):  # a counter's four bytes, big-endian
            w = Cat(w, Const(0, 32 - len(w))) if len(w) < 32 else w
            return [w[24:32], w[16:24], w[8:16], w[0:8]]

        tables = {Payload.IDENT: list(self._ident)}
        if "cycles_q" in dev.signature.members:
            # the layers' counts from the device's block RAM, word 2i with bits 31..16 of layer i and
            # 2i + 1 with bits 15..0: one selection for them all, not a case a byte
            m.d.comb += dev.cycles_r.eq((i5 - 4) >> 1)
            frames, naks, q = Cat(*be(dev.frames)), Cat(*be(self.naks)), dev.cycles_q
            counter = Mux(i5 < 4, frames.word_select(i5[:2], 8),
                          Mux(i5 < 4 + 4 * self._layers, Mux(i5[0], q[:8], q[8:]), naks.word_select(i5[:2], 8)))
        else:
            tables[Payload.COUNTERS] = be(dev.frames) + sum((be(dev.cycles[i]) for i in range(self._layers)), []) \
                + be(self.naks)
        with m.Switch(kind):
            for case, table in tables.items():
                with m.Case(case):
                    with m.Switch(i5):
                        for i, b in enumerate(table):
                            with m.Case(i):
                                m.d.sync += p_byte.eq(b)
            if Payload.COUNTERS not in tables:
                with m.Case(Payload.COUNTERS):
                    m.d.sync += p_byte.eq(counter)
            with m.Case(Payload.NAK):
                m.d.sync += p_byte.eq(Mux(idx[0], self._nak_of[1], self._nak_of[0]))
