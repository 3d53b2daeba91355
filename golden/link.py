"""The link protocol (docs/PROTOCOL.md): packets, the device's receiver, and a reference device.

:class:`Receiver` is the device's receive state machine, byte by byte: hunt for the sync byte,
header, payload and CRC, refusals, and the idle-line timeout (golden twin of
:class:`rtl.receiver.PacketReceiver`, through :mod:`golden.receiver`). :class:`DeviceModel`
(:mod:`golden.executor`) is the reference edge device behind it. It answers every packet as the hardware does, and codes frames from
*what was loaded into it* (settings, code RAM words, level table). So a wrong or missing load shows
as a frame that differs from the golden one, exactly as it would on a board.
"""

import struct
import zlib
from dataclasses import dataclass

import numpy as np

from . import frame as F
from . import rle
from .bitpack import pack
from .errors import ConfigError, EdgesplitError

SYNC = 0xA5
MAX_PAYLOAD = 8192
HEADER = struct.Struct(">BBBH")  # sync, type, tag, length
CHUNK = 64  # payload bytes of a DATA packet

IDENT, SETTINGS, CODE_TABLE, LEVEL_TABLE, LOAD_MEM, FRAME, COUNTERS = range(1, 8)
NAK = 0x7F
DATA, DATA_END = 0x90, 0x91
NAMES = {IDENT: "IDENT", SETTINGS: "SETTINGS", CODE_TABLE: "CODE_TABLE", LEVEL_TABLE: "LEVEL_TABLE",
         LOAD_MEM: "LOAD_MEM", FRAME: "FRAME", COUNTERS: "COUNTERS"}
BAD_CRC, BAD_LENGTH, UNKNOWN_TYPE, TIMEOUT, BAD_VALUE, NOT_READY = range(1, 7)
ERRORS = {BAD_CRC: "BAD_CRC", BAD_LENGTH: "BAD_LENGTH", UNKNOWN_TYPE: "UNKNOWN_TYPE", TIMEOUT: "TIMEOUT",
          BAD_VALUE: "BAD_VALUE", NOT_READY: "NOT_READY"}
SETTINGS_FIELDS = (("ecsq", 1), ("split", 1), ("bits", 1), ("clip", 1), ("seq", 1), ("c", 2), ("h", 2),
                   ("w", 2), ("table_id", 4), ("count", 4), ("reserved", 1))
"""SETTINGS's payload (docs/PROTOCOL.md): field name and bytes, big-endian, in wire order; the one
description the host, the reference device and the RTL's decoder read."""
SETTINGS_AT = {name: (sum(n for _, n in SETTINGS_FIELDS[:i]), size) for i, (name, size) in enumerate(SETTINGS_FIELDS)}
"""Each SETTINGS field's ``(byte offset, bytes)``."""
SETTINGS_LAYOUT = struct.Struct(">" + "".join({1: "B", 2: "H", 4: "I"}[n] for _, n in SETTINGS_FIELDS))
CODE_TABLE_BYTES = 3 * rle.NUM_SYMBOLS  # code (2) and length (1) of every symbol
IDENT_LAYOUT = struct.Struct(">4sBBBBBHHHHHH")
PROTOCOL_VERSION = 4  # 1 had no LOAD_MEM; 2 had the uniform multiplier in SETTINGS; 3 had 1-channel
# frames only (no frame channels in IDENT) and 30-byte program rows (no stride, no gap)

# LOAD_MEM (docs/PROTOCOL.md section 3): memory, first row, rows, then the rows
WEIGHTS, PARAMS, PROGRAM = 0, 1, 2
MEMORIES = {WEIGHTS: "weights", PARAMS: "parameters", PROGRAM: "program"}
LOAD_HEAD = struct.Struct(">BHH")
PARAM_FIELDS = (("bias", 4, 32), ("mult", 2, 16), ("shift", 1, 6))  # name, bytes, bits the engine keeps
PARAM_LANE = struct.Struct(">iHB")  # one output channel's PARAM_FIELDS (bias signed)
BUFFER_BYTES = 4096  # the device's packet buffer: the largest request payload (a 64x64 camera frame)
DESCRIPTOR_FIELDS = (  # name, bytes on the wire (big-endian), bits the engine keeps
    ("base", 2, 16), ("height", 1, 8), ("width", 1, 8), ("groups", 1, 6), ("k_y", 1, 3), ("k_x", 1, 3),
    ("pad_y", 1, 2), ("pad_x", 1, 2), ("pool", 1, 2), ("stride", 1, 2), ("pooled_h", 1, 8), ("pooled_w", 1, 8),
    ("n_tiles", 1, 8), ("chunk", 2, 16), ("out_base", 2, 16), ("out_groups", 1, 6), ("out_channels", 1, 8),
    ("pooled", 2, 16), ("n_chunks", 2, 16), ("taps", 2, 12), ("weight_base", 2, 16), ("param_base", 2, 10),
    ("gap", 1, 5), ("last", 1, 1))
DESCRIPTOR_BYTES = sum(n for _, n, _ in DESCRIPTOR_FIELDS)


def row_bytes(mem, cols):
    """Bytes of one row of memory ``mem`` on the wire for a ``cols``-column array."""
    return {WEIGHTS: cols, PARAMS: PARAM_LANE.size * cols, PROGRAM: DESCRIPTOR_BYTES}[mem]


def encode_rows(mem, rows, cols):
    """Wire bytes of ``rows`` of memory ``mem`` (rows as in :class:`golden.layer_engine.EngineImage`);
    :class:`ConfigError` for a value the engine cannot hold."""
    out = bytearray()
    for row in rows:
        if mem == WEIGHTS:
            if len(row) != cols or not all(-128 <= int(v) <= 127 for v in row):
                raise ConfigError(f"a weight row is {cols} int8 values, not {row!r}")
            out += bytes(int(v) & 0xFF for v in row)
        elif mem == PARAMS:
            if len(row) != cols:
                raise ConfigError(f"a parameter word has {cols} lanes, not {len(row)}")
            (_, _, bias_bits), (_, _, mult_bits), (_, _, shift_bits) = PARAM_FIELDS
            for lane in row:
                if not (-(1 << bias_bits - 1) <= lane["bias"] < 1 << bias_bits - 1
                        and 0 <= lane["mult"] < 1 << mult_bits and 0 <= lane["shift"] < 1 << shift_bits):
                    raise ConfigError(f"parameter lane {lane!r} out of range (int{bias_bits} bias, "
                                      f"{mult_bits}-bit multiplier, {shift_bits}-bit shift)")
                out += PARAM_LANE.pack(int(lane["bias"]), int(lane["mult"]), int(lane["shift"]))
        else:
            for name, size, bits in DESCRIPTOR_FIELDS:
                v = int(row[name])
                if not 0 <= v < 1 << bits:
                    raise ConfigError(f"layer descriptor field {name} = {v} does not fit its {bits} bits")
                out += v.to_bytes(size, "big")
    return bytes(out)


def decode_rows(mem, data, cols):
    """Rows of memory ``mem`` from wire bytes (the inverse of :func:`encode_rows`; fields keep only
    the bits the engine keeps)."""
    n = row_bytes(mem, cols)
    rows = []
    for off in range(0, len(data), n):
        b = data[off:off + n]
        if mem == WEIGHTS:
            rows.append(tuple(v - 256 if v > 127 else v for v in b))
        elif mem == PARAMS:
            lanes = [PARAM_LANE.unpack_from(b, PARAM_LANE.size * j) for j in range(cols)]
            rows.append(tuple({name: v & ((1 << bits) - 1) if name == "shift" else v
                               for (name, _, bits), v in zip(PARAM_FIELDS, lane)} for lane in lanes))
        else:
            row, pos = {}, 0
            for name, size, bits in DESCRIPTOR_FIELDS:
                row[name] = int.from_bytes(b[pos:pos + size], "big") & ((1 << bits) - 1)
                pos += size
            rows.append(row)
    return rows


def load_mem_payloads(image, max_payload=BUFFER_BYTES):
    """LOAD_MEM payloads that write ``image``'s weights, parameters and program (in that order),
    each at most ``max_payload`` bytes."""
    return [p for mem, rows in ((WEIGHTS, image.weights), (PARAMS, image.params), (PROGRAM, image.descriptors))
            for p in rows_payloads(mem, rows, image.cols, 0, max_payload)]


def rows_payloads(mem, rows, cols, first=0, max_payload=BUFFER_BYTES):
    """LOAD_MEM payloads that write ``rows`` of memory ``mem`` from row ``first``, each at most
    ``max_payload`` bytes."""
    per = (max_payload - LOAD_HEAD.size) // row_bytes(mem, cols)
    return [LOAD_HEAD.pack(mem, first + at, len(rows[at:at + per])) + encode_rows(mem, rows[at:at + per], cols)
            for at in range(0, len(rows), per)]


def frame_bytes(image):
    """FRAME's payload of a camera frame ``(C, H, W)``: pixels in raster order, each pixel's ``C``
    channels side by side (RGB interleaved)."""
    return np.ascontiguousarray(np.asarray(image, np.uint8).transpose(1, 2, 0)).tobytes()


def identity(cfg, buffer_bytes=BUFFER_BYTES):
    """The IDENT reply payload of a device built for ``cfg``."""
    fc, fh, fw = cfg.spec.in_shape
    c, h, w = cfg.spec.shape_after(cfg.split)
    return IDENT_LAYOUT.pack(b"ESDV", PROTOCOL_VERSION, cfg.rows, cfg.cols, cfg.split, fc, fh, fw, c, h, w,
                             buffer_bytes)


class LinkError(EdgesplitError):
    """The link failed: no port, no reply, a NAK that retries did not clear, a malformed reply."""

    exit_code = 3


def packet(ptype, tag, payload=b""):
    """The bytes of one packet."""
    payload = bytes(payload)
    if len(payload) > MAX_PAYLOAD:
        raise LinkError(f"a packet carries at most {MAX_PAYLOAD} payload bytes, not {len(payload)}")
    head = struct.pack(">BBH", ptype, tag & 0xFF, len(payload))
    return bytes([SYNC]) + head + payload + struct.pack(">I", zlib.crc32(head + payload))


@dataclass(frozen=True)
class Packet:
    type: int
    tag: int
    payload: bytes


@dataclass(frozen=True)
class Refusal:
    """A packet the receiver refused: the NAK code and the request type (0 when unknown)."""

    code: int
    type: int = 0


class Receiver:
    """Bytes in, :class:`Packet` and :class:`Refusal` events out (docs/PROTOCOL.md section 2).
    ``max_payload``: longer packets are refused at their header."""

    def __init__(self, max_payload=MAX_PAYLOAD):
        self._buf = bytearray()
        self._need = 0
        self.max_payload = max_payload

    @property
    def in_packet(self):
        return bool(self._buf)

    def feed(self, data):
        events = []
        for b in bytes(data):
            if not self._buf:
                if b == SYNC:
                    self._buf.append(b)
                continue
            self._buf.append(b)
            if len(self._buf) == HEADER.size:
                _, ptype, _, length = HEADER.unpack(bytes(self._buf))
                if length > self.max_payload:
                    events.append(Refusal(BAD_LENGTH, ptype))
                    self._buf.clear()
                    continue
                self._need = HEADER.size + length + 4
            elif len(self._buf) > HEADER.size and len(self._buf) == self._need:
                body = bytes(self._buf[1:-4])
                crc = struct.unpack(">I", bytes(self._buf[-4:]))[0]
                self._buf.clear()
                if zlib.crc32(body) != crc:
                    events.append(Refusal(BAD_CRC))
                    continue
                ptype, tag, _ = struct.unpack(">BBH", body[:4])
                events.append(Packet(ptype, tag, body[4:]))
        return events

    def idle(self):
        """The line went idle for longer than the timeout: a packet in progress is truncated."""
        if self._buf:
            self._buf.clear()
            return [Refusal(TIMEOUT)]
        return []


def settings_payload(settings):
    """SETTINGS payload of a ``golden.codec.DeviceSettings.settings`` dict."""
    h = settings["header"]
    return SETTINGS_LAYOUT.pack(h["ecsq"], h["split"], h["bits"], h["clip"], h["seq"], h["c"], h["h"], h["w"],
                                h["table_id"], settings["count"], 0)


def code_table_payload(code_words):
    return b"".join(struct.pack(">HB", c, n) for c, n in code_words)


def encode_loaded(features, settings, code_words, level_table):
    """The frame the codec hardware emits for uint8 ``features`` with what was loaded into it.

    This follows the hardware's data path, not :func:`golden.codec.Codec.encode`. It quantizes with
    the loaded level table, codes the items with the loaded code words, and writes the header from
    the loaded settings. With a correct load the two give the same bytes.
    """
    h = settings["header"]
    q = np.asarray(level_table, np.int64)[np.asarray(features, np.int64).reshape(-1)]
    sym, ev, el = rle.items(q)
    codes = np.array([c for c, _ in code_words], np.int64)
    lengths = np.array([n for _, n in code_words], np.int64)
    values = (codes[sym] << el) | ev
    payload = pack(values, lengths[sym] + el)
    header = F.HEADER.pack(F.MAGIC, F.VERSION, F.FLAG_ECSQ if h["ecsq"] else 0, h["split"], h["bits"],
                           h["clip"], h["seq"], h["c"], h["h"], h["w"], h["table_id"])
    body = header + payload + struct.pack(">I", len(payload))
    return body + struct.pack(">I", zlib.crc32(body))


def __getattr__(name):
    """The reference device lives with its executor (:mod:`golden.executor`), which needs this
    module's constants: ``golden.link.DeviceModel`` is loaded when first asked for."""
    if name in ("DeviceModel", "Executor"):
        from . import executor

        return getattr(executor, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
