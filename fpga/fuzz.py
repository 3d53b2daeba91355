"""``edgesplit fuzz --link``: random and mutated packet sequences against a device on a port, a board's
serial port or a simulated device's socket, through the host driver's port (:class:`fpga.host.Link`).

A sequence is 1-8 items, each written whole and its replies read until the line is quiet and the
line has had time to carry it (at the byte rate measured first, with a valid load: a simulated
UART is about a hundred times slower than a board's, and a write it is still carrying when the
next arrives would run the two together). The items
are valid commands in any order, the same damaged on the way (bit flips, truncations, wrong length
fields, wrong CRCs), well-formed packets with out-of-range fields (SETTINGS, the tables, LOAD_MEM
headers, unknown types), LOAD_MEM of nonsense program rows, bare garbage, and two packets in one
write (the second arrives while the first's reply is pending). After every sequence:

- every byte the device sent is part of a well-formed reply (:class:`ReplyChecker`);
- every frame it sent decodes under docs/FORMAT.md's rules (section 6; rule 7 needs the network
  the host meant, which a device cannot know, so a frame is decoded with the table file alone);
- the device is alive (IDENT);
- a valid session (the rows the sequence may have written restored, the settings and tables, a
  frame) gives the golden frame, byte for byte.
"""

import struct
import time
import zlib
from collections import Counter

import numpy as np

from golden import link as L
from golden.errors import EdgesplitError

REPLY_TYPES = {t | 0x80 for t in L.NAMES} | {L.NAK, L.DATA, L.DATA_END}
KINDS = ("valid", "valid frame", "bit flip", "truncated", "wrong length", "wrong CRC", "out of range", "nonsense program",
         "garbage", "two in one write")
WEIGHT = dict(zip(KINDS, (0.24, 0.08, 0.08, 0.08, 0.06, 0.06, 0.2, 0.06, 0.06, 0.08)))  # how often each is drawn
LINK_KINDS = ("valid frame", "bit flip", "truncated", "wrong length", "wrong CRC", "garbage", "two in one write")
"""What the link layer (receiver, CRC, NAKs, resync) answers, each valid command in a coherent load."""


class Valid:
    """What a valid session sends to a device built for ``cfg``, and what it must get back."""

    def __init__(self, cfg, frames=4):
        from golden import datasets
        from golden.codec import Codec
        from golden.edge_device import device_frames

        self.cfg = cfg
        self.codec = Codec.for_config(cfg)
        self.decoder = type(self.codec)(self.codec.tables)  # the table file alone: no network (rule 7)
        self.images = datasets.embedded(cfg, "test").images[:frames]
        self.want = [device_frames(cfg, self.images[i:i + 1], codec=self.codec)[0][0] for i in range(frames)]
        self.shape = device_frames(cfg, self.images[:1], codec=self.codec)[1].shape[1:]  # a session's seq is 0
        self.settings = self.codec.device_settings(cfg, self.shape)
        others = [t for t in self.codec.tables.tables if t.split == cfg.split]
        self.other_settings = [self.codec.device_settings(cfg.replace(bits=t.bits, quantizer=t.mode), self.shape)
                               for t in others[:6]] or [self.settings]
        dev = L.DeviceModel(cfg)
        self.memories, self.cols = dev.memories, dev.image.cols  # the memories as built, as deep as the RTL's
        self.frame_bytes = len(L.frame_bytes(self.images[0]))

    def pixels(self, i):
        return L.frame_bytes(self.images[i % len(self.images)])

    def command(self, rng):
        """A valid ``(type, payload)`` of any command."""
        t = int(rng.choice(list(L.NAMES)))
        ds = self.other_settings[rng.integers(len(self.other_settings))]
        if t == L.SETTINGS:
            return t, L.settings_payload(ds.settings)
        if t == L.CODE_TABLE:
            return t, L.code_table_payload(ds.code_words)
        if t == L.LEVEL_TABLE:
            return t, bytes(ds.level_table)
        if t == L.LOAD_MEM:
            mem = int(rng.integers(3))
            depth = len(self.memories[mem])
            n = int(rng.integers(1, min(8, depth) + 1))
            first = int(rng.integers(depth - n + 1))
            return t, L.rows_payloads(mem, self.memories[mem][first:first + n], self.cols, first)[0]
        if t == L.FRAME:
            return t, self.pixels(int(rng.integers(len(self.images)))) if rng.random() < 0.5 else \
                bytes(rng.integers(0, 256, self.frame_bytes, dtype=np.uint8))
        return t, b""


def _flip(rng, data, n):
    data = bytearray(data)
    for _ in range(n):
        i = int(rng.integers(len(data)))
        data[i] ^= 1 << int(rng.integers(8))
    return bytes(data)


def _out_of_range(rng, valid, tag):
    """A packet with a good CRC and a value out of range (or of the wrong length for its type)."""
    t, p = valid.command(rng)
    choice = int(rng.integers(6))
    if choice == 0:  # SETTINGS fields replaced by random or edge values
        p = bytearray(L.settings_payload(valid.settings.settings))
        for _ in range(int(rng.integers(1, 4))):
            at, size = L.SETTINGS_AT[L.SETTINGS_FIELDS[int(rng.integers(len(L.SETTINGS_FIELDS)))][0]]
            value = int(rng.choice([0, 1, 255, (1 << 8 * size) - 1, int(rng.integers(1 << min(8 * size, 62)))]))
            p[at:at + size] = (value & ((1 << 8 * size) - 1)).to_bytes(size, "big")
        return L.packet(L.SETTINGS, tag, bytes(p))
    if choice == 1:  # a level table of random levels, or one level pushed out
        p = bytearray(valid.settings.level_table)
        if rng.random() < 0.5:
            p = bytearray(rng.integers(0, 256, 256, dtype=np.uint8))
        else:
            p[int(rng.integers(256))] = int(rng.integers(256))
        return L.packet(L.LEVEL_TABLE, tag, bytes(p))
    if choice == 2:  # code words or lengths changed
        words = list(valid.settings.code_words)
        for _ in range(int(rng.integers(1, 4))):
            s = int(rng.integers(len(words)))
            words[s] = (int(rng.integers(1 << 16)), int(rng.integers(256 if rng.random() < 0.3 else 17)))
        return L.packet(L.CODE_TABLE, tag, L.code_table_payload(words))
    if choice == 3:  # a LOAD_MEM header out of range: memory, first row, row count
        mem, first, n = int(rng.integers(5)), int(rng.integers(1 << 16)), int(rng.integers(1 << 16))
        body = bytes(rng.integers(0, 256, int(rng.integers(0, 64)), dtype=np.uint8))
        return L.packet(L.LOAD_MEM, tag, L.LOAD_HEAD.pack(mem, first if rng.random() < 0.5 else 0, n) + body)
    if choice == 4:  # an unknown type, or a known one with a payload of the wrong length
        if rng.random() < 0.5:
            return L.packet(int(rng.choice([0, 8, 0x33, 0x7F, 0x81, 0x90, 0xFF])), tag, p[:16])
        return L.packet(t, tag, p + b"\x00" if p and rng.random() < 0.5 else p[:-1] if p else b"\x01")
    return L.packet(L.FRAME, tag, bytes(int(rng.integers(0, 2 * valid.frame_bytes))))


def _nonsense_program(rng, valid, tag):
    """LOAD_MEM of program rows that are zeros, random, or a real row with fields changed."""
    depth = len(valid.memories[L.PROGRAM])
    n = int(rng.integers(1, depth + 1))
    first = int(rng.integers(depth - n + 1))
    nbytes = L.row_bytes(L.PROGRAM, valid.cols)
    rows = bytearray()
    for i in range(n):
        kind = int(rng.integers(3))
        if kind == 0:
            rows += bytes(nbytes)
        elif kind == 1:
            rows += bytes(rng.integers(0, 256, nbytes, dtype=np.uint8))
        else:
            real = bytearray(L.encode_rows(L.PROGRAM, valid.memories[L.PROGRAM][(first + i) % depth:][:1], valid.cols))
            for _ in range(int(rng.integers(1, 4))):
                real[int(rng.integers(nbytes))] = int(rng.integers(256))
            rows += real
    return L.packet(L.LOAD_MEM, tag, L.LOAD_HEAD.pack(L.PROGRAM, first, n) + bytes(rows))


def item(rng, valid, tag, kinds=KINDS):
    """One ``(kind, [line bytes, ...])`` of a sequence: each part written once the replies to the
    one before it are in."""
    kind, data = _item(rng, valid, tag, kinds)
    if kind != "valid frame":
        return kind, [data]
    ds = valid.other_settings[int(rng.integers(len(valid.other_settings)))]  # a whole load, then a frame
    return kind, [L.packet(L.SETTINGS, tag, L.settings_payload(ds.settings)),
                  L.packet(L.CODE_TABLE, tag, L.code_table_payload(ds.code_words)),
                  L.packet(L.LEVEL_TABLE, tag, bytes(ds.level_table)), data]


def _item(rng, valid, tag, kinds):
    w = np.array([WEIGHT[k] for k in kinds])
    kind = kinds[int(rng.choice(len(kinds), p=w / w.sum()))]
    t, p = valid.command(rng)
    if kind == "valid frame":
        t, p = L.FRAME, valid.pixels(int(rng.integers(len(valid.images))))
    good = L.packet(t, tag, p)
    if kind in ("valid", "valid frame"):
        return kind, good
    if kind == "bit flip":
        return kind, _flip(rng, good, int(rng.integers(1, 4)))
    if kind == "truncated":
        return kind, good[:int(rng.integers(1, len(good)))]
    if kind == "wrong length":
        length = int(rng.choice([0, len(p) + 1, max(0, len(p) - 1), int(rng.integers(1 << 16))]))
        body = bytes([t, tag]) + struct.pack(">H", length) + p
        crc = struct.pack(">I", zlib.crc32(body)) if rng.random() < 0.5 else good[-4:]  # CRC right or not
        return kind, bytes([L.SYNC]) + body + crc
    if kind == "wrong CRC":
        return kind, good[:-4] + _flip(rng, good[-4:], 1)
    if kind == "out of range":
        return kind, _out_of_range(rng, valid, tag)
    if kind == "nonsense program":
        return kind, _nonsense_program(rng, valid, tag)
    if kind == "garbage":
        return kind, bytes(rng.integers(0, 256, int(rng.integers(1, 80)), dtype=np.uint8))
    t2, p2 = valid.command(rng)
    return kind, good + L.packet(t2, (tag + 1) & 0xFF, p2)


class ReplyChecker:
    """The device's bytes, checked as a stream of well-formed replies: sync, a reply type, the
    payload length its type has, a good CRC; DATA only after a FRAME's ACK. Completed frames are
    decoded with ``decoder``; what is wrong is listed in ``problems``."""

    def __init__(self, split, decoder):
        self.lengths = {t | 0x80: 0 for t in L.NAMES}
        self.lengths.update({L.IDENT | 0x80: L.IDENT_LAYOUT.size, L.COUNTERS | 0x80: 4 * (split + 2), L.NAK: 2})
        self.decoder = decoder
        self.buf, self.frame_tag, self.frame = bytearray(), None, bytearray()
        self.problems, self.frames, self.naks, self.replies = [], 0, Counter(), 0

    @property
    def busy(self):
        """A frame or a packet is incomplete: more bytes are due."""
        return self.frame_tag is not None or bool(self.buf)

    def feed(self, data):
        buf = self.buf
        buf += data
        while buf:
            if buf[0] != L.SYNC:
                self.problems.append(f"a byte 0x{buf[0]:02x} outside any packet")
                del buf[0]
                continue
            if len(buf) < L.HEADER.size:
                return
            _, t, tag, n = L.HEADER.unpack_from(buf)
            if len(buf) < L.HEADER.size + n + 4:
                return
            body, crc = bytes(buf[1:L.HEADER.size + n]), struct.unpack_from(">I", buf, L.HEADER.size + n)[0]
            if zlib.crc32(body) != crc:
                self.problems.append(f"a reply (type 0x{t:02x}) with a bad CRC")
                del buf[0]
                continue
            del buf[:L.HEADER.size + n + 4]
            self._packet(t, tag, body[4:])

    def _packet(self, t, tag, p):
        self.replies += 1
        if t not in REPLY_TYPES:
            self.problems.append(f"a reply of type 0x{t:02x}, which no command has")
        elif t in (L.DATA, L.DATA_END):
            if self.frame_tag != tag or not (1 if t == L.DATA else 0) <= len(p) <= L.CHUNK:
                self.problems.append(f"a DATA packet (tag {tag}, {len(p)} bytes) outside a frame or of a bad length")
                return
            self.frame += p
            if t == L.DATA_END:
                self._decode(bytes(self.frame))
                self.frame_tag, self.frame = None, bytearray()
        elif len(p) != self.lengths[t]:
            self.problems.append(f"a reply of type 0x{t:02x} with {len(p)} payload bytes, not {self.lengths[t]}")
        elif t == L.NAK:
            if p[0] not in L.ERRORS:
                self.problems.append(f"a NAK with code {p[0]}, which PROTOCOL.md does not have")
            self.naks[L.ERRORS.get(p[0], str(p[0]))] += 1
        elif t == L.FRAME | 0x80:
            if self.frame_tag is not None:
                self.problems.append("a FRAME ACK while a frame was still being sent")
            self.frame_tag, self.frame = tag, bytearray()

    def _decode(self, data):
        self.frames += 1
        try:
            self.decoder.decode(data)
        except EdgesplitError as exc:
            self.problems.append(f"a frame that docs/FORMAT.md refuses: {exc}")


def _drain(link, checker, quiet, frame_timeout, want, not_before=0.0):
    """Read the device's replies until it has sent ``want`` more reply packets (or more) and then
    been quiet for ``quiet`` seconds with no frame or packet incomplete, and it is ``not_before``
    (``time.monotonic``) or later; False if that takes more than ``frame_timeout`` after its last
    byte (it hung)."""
    last, until = time.monotonic(), checker.replies + want
    while True:
        data = link.read_raw(quiet)
        now = time.monotonic()
        if data:
            checker.feed(data)
            last = now
        elif not checker.busy and checker.replies >= until and now >= not_before:
            return True
        elif now - max(last, not_before) > frame_timeout:
            return False


def _replies_due(data):
    """1 if the device, hunting, must answer ``data`` (a packet in it, whole, refused or cut off)."""
    rx = L.Receiver()
    return int(bool(rx.feed(data)) or rx.in_packet)


def _loads(data):
    """``(memory, first, rows)`` of each well-formed LOAD_MEM in ``data``: rows it may have written."""
    out = []
    for e in L.Receiver().feed(data):
        if isinstance(e, L.Packet) and e.type == L.LOAD_MEM and len(e.payload) >= L.LOAD_HEAD.size:
            mem, first, n = L.LOAD_HEAD.unpack_from(e.payload)
            if mem in L.MEMORIES:
                out.append((mem, first, n))
    return out


def _session(link, valid, touched, k):
    """The rows in ``touched`` restored, then settings, tables and frame ``k``: whether the frame is
    the golden one."""
    for mem, first, n in touched:
        for payload in L.rows_payloads(mem, valid.memories[mem][first:first + n], valid.cols, first):
            link.request(L.LOAD_MEM, payload)
    link.load(valid.settings)
    return link.frame(valid.pixels(k)) == valid.want[k % len(valid.want)]


def line_seconds_per_byte(link, valid, margin=1.5):
    """Seconds a byte takes to reach the device, on average and with ``margin`` for a machine that
    gets busier: a valid load of the codec's settings and tables timed from the first byte written
    to the last reply, round trips included (a few microseconds on a board's 3 Mbaud UART, tenths
    of a millisecond through serve-sim's simulated one). A load that needed a retry is timed again."""
    for _ in range(3):
        t, n, retries = time.monotonic(), link.tx_bytes, link.retries
        link.load(valid.settings)
        if link.retries == retries:
            break
    return margin * (time.monotonic() - t) / (link.tx_bytes - n)


def _sequence(link, valid, rng, checker, r, quiet, frame_timeout, kinds, per_byte):
    """Write one sequence's items, reading the replies to each; the rows it may have written. The
    next part is written only once the line has had time to carry the one before (``per_byte``
    seconds a byte): a part the device is still taking in when the next arrives is another test, of
    writes that pile up, whose replies the host cannot tell apart."""
    touched = []
    for _ in range(int(rng.integers(1, 9))):
        kind, parts = item(rng, valid, int(rng.integers(1, 256)), kinds)
        r["items"][kind] += 1
        for data in parts:
            touched += _loads(data)
            link.write_raw(data)
            on_line = time.monotonic() + len(data) * per_byte
            if not _drain(link, checker, quiet, frame_timeout, _replies_due(data), on_line):
                r["hangs"] += 1
                checker.problems.append(f"no reply for {frame_timeout:g} s with a reply due")
                return touched
    return touched


def run(url, valid, count, seed=1, quiet=0.005, frame_timeout=10.0, progress=True, kinds=KINDS):
    """``count`` sequences against the device at ``url``; the figures and what went wrong."""
    from tqdm import tqdm

    from .host import Link

    rng = np.random.default_rng(seed)
    r = {"sequences": 0, "items": Counter(), "naks": Counter(), "frames": 0, "problems": [], "hangs": 0,
         "dead": None, "sessions_identical": 0, "sessions": 0}
    start = time.time()
    with Link(url, timeout=frame_timeout) as link:
        try:
            r["line_seconds_per_byte"] = per_byte = line_seconds_per_byte(link, valid)
        except EdgesplitError as exc:
            r["dead"] = f"before the first sequence: {exc}"
            count = 0
        for n in tqdm(range(count), disable=not progress, desc="fuzz", unit="seq"):
            checker = ReplyChecker(valid.cfg.split, valid.decoder)
            try:
                touched = _sequence(link, valid, rng, checker, r, quiet, frame_timeout, kinds, per_byte)
            except EdgesplitError as exc:
                r["dead"] = f"during sequence {n}: {exc}"
                break
            try:  # replies that came late (a write the socket split in two, answered twice) end here
                _drain(link, checker, max(10 * quiet, 0.05), frame_timeout, 0)
            except EdgesplitError as exc:
                r["dead"] = f"after sequence {n}: {exc}"
                break
            r["naks"].update(checker.naks)
            r["frames"] += checker.frames
            r["problems"] += [f"sequence {n}: {p}" for p in checker.problems]
            r["sequences"] += 1
            try:
                link.ident()
            except EdgesplitError as exc:
                r["dead"] = f"after sequence {n}: {exc}"
                break
            r["sessions"] += 1
            try:
                same = _session(link, valid, touched, n)
            except EdgesplitError as exc:
                same = False
                r["problems"].append(f"sequence {n}: the valid session after it failed: {exc}")
            r["sessions_identical"] += same
            if not same:
                r["problems"].append(f"sequence {n}: the valid session's frame is not the golden one")
    r["seconds"] = time.time() - start
    r["items"], r["naks"] = dict(r["items"]), dict(r["naks"])
    return r
