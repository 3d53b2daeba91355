"""The reference edge device's command executor (docs/PROTOCOL.md section 3; golden twin of
:class:`rtl.executor.CommandExecutor`) and :class:`DeviceModel`, the device at its link: the
receiver (:class:`golden.link.Receiver`) and the executor.
"""

import struct

import numpy as np

from . import rle
from .errors import ConfigError
from .link import (CHUNK, CODE_TABLE_BYTES, COUNTERS, DATA, DATA_END, DESCRIPTOR_FIELDS, BAD_VALUE, BUFFER_BYTES,
                   CODE_TABLE, IDENT, LEVEL_TABLE, LOAD_HEAD, LOAD_MEM, MEMORIES, NAK, NAMES, NOT_READY, PARAMS,
                   PROGRAM, SETTINGS, SETTINGS_LAYOUT, UNKNOWN_TYPE, WEIGHTS, LinkError, Receiver, Refusal,
                   decode_rows, encode_loaded, identity, packet, row_bytes)

__all__ = ["Executor", "DeviceModel"]


class Executor:
    """The reference command executor: :meth:`answer` takes a received :class:`Packet` or
    :class:`Refusal` and returns the reply bytes.

    It checks what :class:`rtl.soc.EdgeSoC` checks and no more: a payload length that fits the
    packet buffer, each command's payload length, the SETTINGS flags, bits 1..8, clip and count not
    0, and that a FRAME comes after the loads. The host's loader (:func:`golden.codec.device_settings`)
    checks the rest before sending.

    The engine's memories start as the :class:`golden.layer_engine.EngineImage` of ``cfg`` (what
    the device is built with) and LOAD_MEM writes rows of them. Frames are computed by
    :func:`golden.layer_engine.execute` on the program those memories hold
    (:func:`golden.layer_engine.program_from_image`) and coded by :func:`encode_loaded`.
    """

    def __init__(self, cfg, buffer_bytes=BUFFER_BYTES):
        from . import layer_engine as le

        self.cfg = cfg
        self.buffer_bytes = buffer_bytes
        self.image = img = le.engine_image(le.program_for(cfg), cfg.act_mem_bytes, cfg.weight_mem_bytes)
        zero_row = {k: 0 for k, _, _ in DESCRIPTOR_FIELDS}
        zero_lane = {"bias": 0, "mult": 0, "shift": 0}
        self.memories = {  # the engine's memories, as deep as the RTL's
            WEIGHTS: list(img.weights) + [(0,) * img.cols] * (img.weight_rows - len(img.weights)),
            PARAMS: list(img.params) + [(zero_lane,) * img.cols] * (img.param_words - len(img.params)),
            PROGRAM: [{k: d[k] for k, _, _ in DESCRIPTOR_FIELDS} for d in img.descriptors]
            + [zero_row] * (img.max_layers - len(img.descriptors))}
        self._program = None  # the program the memories hold, built when a frame needs it
        self.program()
        self.settings = None
        self.code_words = None
        self.level_table = None
        self.frames = 0
        self.naks = 0

    def program(self):
        """The :class:`golden.layer_engine.Program` the engine's memories hold now (rebuilt after a
        LOAD_MEM)."""
        from . import layer_engine as le

        if self._program is None:
            prog = le.program_from_image(self.image, descriptors=self.memories[PROGRAM],
                                         weights=self.memories[WEIGHTS], params=self.memories[PARAMS])
            # COUNTERS reports `split` layer counters: the model's cycles of the program's layers
            cycles = [x["cycles"] for x in le.schedule_for(self.cfg, prog)["layers"]][:self.cfg.split]
            self._cycles = cycles + [0] * (self.cfg.split - len(cycles))
            self._program = prog
        return self._program

    def _run(self, frame):
        from . import layer_engine as le

        return le.execute(self.program(), frame)

    def identity(self):
        return identity(self.cfg, self.buffer_bytes)

    def _nak(self, code, ptype=0, tag=0):
        self.naks += 1
        return packet(NAK, tag, bytes([code, ptype]))

    def answer(self, event):
        if isinstance(event, Refusal):
            return self._nak(event.code, event.type)
        t, tag, p = event.type, event.tag, event.payload
        if t not in NAMES:
            return self._nak(UNKNOWN_TYPE, t, tag)
        ack = packet(t | 0x80, tag)
        if t == IDENT:
            return packet(t | 0x80, tag, self.identity()) if not p else self._nak(BAD_VALUE, t, tag)
        if t == SETTINGS:
            if len(p) != SETTINGS_LAYOUT.size:
                return self._nak(BAD_VALUE, t, tag)
            flags, split, bits, clip, seq, c, h, w, tid, count, _ = SETTINGS_LAYOUT.unpack(p)
            if flags > 1 or not 1 <= bits <= 8 or clip == 0 or count == 0:
                self.settings = None  # refused settings are no settings: a FRAME now is NOT_READY
                return self._nak(BAD_VALUE, t, tag)
            self.settings = {"header": {"ecsq": flags, "split": split, "bits": bits, "clip": clip, "seq": seq,
                                        "c": c, "h": h, "w": w, "table_id": tid}, "count": count}
            return ack
        if t == CODE_TABLE:
            if len(p) != CODE_TABLE_BYTES:
                return self._nak(BAD_VALUE, t, tag)
            self.code_words = [struct.unpack_from(">HB", p, 3 * s) for s in range(rle.NUM_SYMBOLS)]
            return ack
        if t == LEVEL_TABLE:
            if len(p) != 256:
                return self._nak(BAD_VALUE, t, tag)
            self.level_table = list(p)
            return ack
        if t == LOAD_MEM:
            if len(p) < LOAD_HEAD.size:
                return self._nak(BAD_VALUE, t, tag)
            mem, first, n = LOAD_HEAD.unpack_from(p)
            if mem not in MEMORIES or n == 0 or len(p) != LOAD_HEAD.size + n * row_bytes(mem, self.image.cols) \
                    or first + n > len(self.memories[mem]):
                return self._nak(BAD_VALUE, t, tag)
            self.memories[mem][first:first + n] = decode_rows(mem, p[LOAD_HEAD.size:], self.image.cols)
            self._program = None
            return ack
        if t == COUNTERS:
            if p:
                return self._nak(BAD_VALUE, t, tag)
            body = struct.pack(f">I{len(self._cycles)}II", self.frames, *self._cycles, self.naks)
            return packet(t | 0x80, tag, body)
        # FRAME
        fc, fh, fw = self.cfg.spec.in_shape
        if len(p) != fc * fh * fw:
            return self._nak(BAD_VALUE, t, tag)
        if self.settings is None or self.code_words is None or self.level_table is None:
            return self._nak(NOT_READY, t, tag)
        try:
            # the camera's channels come interleaved, pixel by pixel in raster order
            features = self._run(np.frombuffer(p, np.uint8).reshape(fh, fw, fc).transpose(2, 0, 1))
        except ConfigError as exc:
            raise LinkError(f"the program loaded into the reference device cannot run: {exc}") from None
        data = encode_loaded(features, self.settings, self.code_words, self.level_table)
        self.settings["header"]["seq"] = (self.settings["header"]["seq"] + 1) % 256
        self.frames += 1
        chunks = [data[i:i + CHUNK] for i in range(0, len(data), CHUNK)]
        out = [ack] + [packet(DATA_END if i == len(chunks) - 1 else DATA, tag, c) for i, c in enumerate(chunks)]
        return b"".join(out)


class DeviceModel(Executor):
    """The reference edge device: :meth:`receive` takes line bytes and returns reply bytes.

    Its receiver refuses a payload longer than ``buffer_bytes`` (the packet buffer)."""

    def __init__(self, cfg, buffer_bytes=BUFFER_BYTES):
        super().__init__(cfg, buffer_bytes)
        self.rx = Receiver(buffer_bytes)

    def receive(self, data):
        return b"".join(self.answer(e) for e in self.rx.feed(data))

    def idle(self):
        return b"".join(self.answer(e) for e in self.rx.idle())
