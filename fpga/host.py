"""Host driver for the link protocol (docs/PROTOCOL.md), over pyserial.

One code path for a board and for a simulated device: ``port`` is anything
``serial.serial_for_url`` opens, a serial device (``/dev/ttyUSB1``) or ``socket://127.0.0.1:P``
(``edgesplit serve-model``, and the simulated SoC).
"""

import time

from golden import link as L
from golden.link import LinkError

RETRIES = 3
IDLE_GAP = 0.003  # longer than the device's 1 ms mid-packet timeout (PROTOCOL.md section 2)


class Link:
    """A connection to one edge device. Counts the bytes it sends and receives."""

    def __init__(self, port, baud=3_000_000, timeout=5.0):
        import serial

        self.url = port
        self.timeout = timeout
        try:
            self.port = serial.serial_for_url(port, baudrate=baud, timeout=0.02)
        except (serial.SerialException, ValueError, OSError) as exc:
            raise LinkError(f"cannot open {port!r}: {exc}. Give the board's serial port (e.g. /dev/ttyUSB1) or "
                            f"socket://127.0.0.1:PORT of a running 'edgesplit serve-model'") from None
        self.rx = L.Receiver()
        self.pending = []
        self.tag = 0
        self.tx_bytes = 0
        self.rx_bytes = 0
        self.retries = 0

    def close(self):
        self.port.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _write(self, data):
        import serial

        try:
            self.port.write(data)
            self.port.flush()
        except (serial.SerialException, OSError) as exc:
            raise LinkError(f"writing to {self.url} failed: {exc}") from None
        self.tx_bytes += len(data)

    def _read(self, size):
        import serial

        try:
            data = self.port.read(size)
        except (serial.SerialException, OSError) as exc:
            raise LinkError(f"reading from {self.url} failed: {exc}") from None
        self.rx_bytes += len(data)
        return data

    def _next_event(self, deadline):
        """The next packet or refusal from the device, or ``None`` at ``deadline``."""
        while not self.pending:
            if time.monotonic() > deadline:
                return None
            self.pending.extend(self.rx.feed(self._read(4096)))
        return self.pending.pop(0)

    def write_raw(self, data):
        """Send line bytes as they are, for tools that make their own packets (``fuzz --link``)."""
        self._write(data)

    def read_raw(self, timeout):
        """The line bytes that arrive within ``timeout`` seconds, unparsed (``b""`` if none); the
        host's own parsing state is dropped, so the next request starts afresh."""
        before, self.port.timeout = self.port.timeout, timeout
        try:
            data = self._read(65536)
        finally:
            self.port.timeout = before
        self.rx, self.pending = L.Receiver(), []
        return data

    def _resync(self):
        """Let the line go idle (ends any packet garbage began), then drop whatever arrived."""
        time.sleep(IDLE_GAP)
        self.port.reset_input_buffer()
        self.rx = L.Receiver()
        self.pending = []

    def _reply(self, ptype, tag, deadline):
        """Events until the reply with ``tag``; returns it or raises/returns None on a retryable error."""
        while True:
            ev = self._next_event(deadline)
            if ev is None:
                return None
            if isinstance(ev, L.Refusal):  # a corrupt reply
                return None
            if ev.type == L.NAK:
                code = ev.payload[0] if ev.payload else 0
                if code in (L.BAD_CRC, L.TIMEOUT, L.BAD_LENGTH):
                    return None  # the request was damaged on the way: retry
                if ev.tag == tag:
                    raise LinkError(f"the device refused {L.NAMES.get(ptype, ptype)}: "
                                    f"{L.ERRORS.get(code, code)}" + _hint(code))
                continue
            if ev.tag == tag:
                return ev

    def request(self, ptype, payload=b""):
        """Send a command and return its reply :class:`golden.link.Packet` (retries damaged ones)."""
        for attempt in range(RETRIES + 1):
            self.tag = (self.tag + 1) & 0xFF
            self._write(L.packet(ptype, self.tag, payload))
            reply = self._reply(ptype, self.tag, time.monotonic() + self.timeout)
            if reply is not None:
                if reply.type != (ptype | 0x80):
                    raise LinkError(f"{self.url} answered {L.NAMES.get(ptype, ptype)} with packet type "
                                    f"0x{reply.type:02x}: not an edgesplit device?")
                return reply
            self.retries += 1
            self._resync()
        raise LinkError(f"no valid reply to {L.NAMES.get(ptype, ptype)} from {self.url} within "
                        f"{self.timeout:g} s after {RETRIES + 1} tries: is the board programmed "
                        f"('edgesplit program') and on this port, or is 'edgesplit serve-model' running?")

    def ident(self):
        p = self.request(L.IDENT).payload
        if len(p) != L.IDENT_LAYOUT.size or p[:4] != b"ESDV":
            raise LinkError(f"{self.url} does not identify as an edgesplit device")
        magic, version, rows, cols, split, fc, fh, fw, c, h, w, max_payload = L.IDENT_LAYOUT.unpack(p)
        if version != L.PROTOCOL_VERSION:
            raise LinkError(f"the device on {self.url} speaks protocol version {version}, this host "
                            f"{L.PROTOCOL_VERSION}: rebuild and program the board with this edgesplit")
        return {"version": version, "rows": rows, "cols": cols, "split": split, "frame_shape": [fc, fh, fw],
                "feature_shape": [c, h, w], "max_payload": max_payload}

    def load(self, ds):
        """Load a :class:`golden.codec.DeviceSettings`: settings, code RAM, level table."""
        self.request(L.SETTINGS, L.settings_payload(ds.settings))
        self.request(L.CODE_TABLE, L.code_table_payload(ds.code_words))
        self.request(L.LEVEL_TABLE, bytes(ds.level_table))

    def load_memories(self, image, max_payload=L.BUFFER_BYTES):
        """Write an :class:`golden.layer_engine.EngineImage`'s weights, parameters and layer program
        into the device's engine (LOAD_MEM packets of at most ``max_payload`` bytes, the device's
        packet buffer from IDENT); returns the bytes sent."""
        sent = 0
        for payload in L.load_mem_payloads(image, max_payload):
            self.request(L.LOAD_MEM, payload)
            sent += len(payload)
        return sent

    def frame(self, pixels):
        """Send one camera frame; returns the compressed frame bytes the device sends back."""
        self.request(L.FRAME, bytes(pixels))
        tag, data = self.tag, bytearray()
        deadline = time.monotonic() + self.timeout
        while True:
            ev = self._next_event(deadline)
            if ev is None:
                raise LinkError(f"{self.url} acknowledged frame (tag {tag}) but sent no complete frame "
                                f"within {self.timeout:g} s (got {len(data)} bytes)")
            if isinstance(ev, L.Refusal):
                raise LinkError(f"a DATA packet of frame (tag {tag}) arrived corrupt ({L.ERRORS[ev.code]})")
            if ev.tag != tag or ev.type not in (L.DATA, L.DATA_END):
                continue
            data += ev.payload
            if ev.type == L.DATA_END:
                return bytes(data)

    def counters(self, layers):
        import struct

        p = self.request(L.COUNTERS).payload
        if len(p) != 4 * (layers + 2):
            raise LinkError(f"counters reply of {len(p)} bytes, expected {4 * (layers + 2)}")
        v = struct.unpack(f">{layers + 2}I", p)
        return {"frames": v[0], "layer_cycles": list(v[1:-1]), "naks": v[-1]}


def _hint(code):
    return {L.NOT_READY: " (load settings and tables first)",
            L.BAD_VALUE: " (a setting out of range, a frame of the wrong size for this device, or "
                         "LOAD_MEM rows beyond the device's memories)",
            L.UNKNOWN_TYPE: " (the device's protocol version does not have this command)"}.get(code, "")
