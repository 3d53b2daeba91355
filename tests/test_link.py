"""The link protocol (docs/PROTOCOL.md): receiver, reference device, host driver and hil over a socket."""

import json
import socket
import struct
import subprocess
import sys
import zlib

import numpy as np
import pytest

from fpga import hil
from fpga.host import Link
from fpga.serve import Server
from golden import link as L
from golden.config import Config
from sim.soc import other_network


def nak_codes(data):
    return [(e.payload[0], e.payload[1]) for e in L.Receiver().feed(data) if e.type == L.NAK]


def test_packet_layout_by_hand():
    p = L.packet(L.IDENT, 7, b"\x01\x02")
    body = bytes([0x01, 7, 0, 2, 1, 2])
    assert p == bytes([0xA5]) + body + struct.pack(">I", zlib.crc32(body))


def test_receiver_resynchronises(rng):
    rx = L.Receiver()
    good = L.packet(L.COUNTERS, 3, b"abc")
    bad = bytearray(L.packet(L.IDENT, 4, b"xyz"))
    bad[6] ^= 0x10  # a payload bit
    garbage = bytes(rng.integers(0, 256, 50).astype(np.uint8)).replace(b"\xa5", b"\x00")
    ev = rx.feed(garbage + good + bytes(bad) + good)
    assert ev == [L.Packet(L.COUNTERS, 3, b"abc"), L.Refusal(L.BAD_CRC), L.Packet(L.COUNTERS, 3, b"abc")]
    # a length over the limit is refused at the header
    assert rx.feed(bytes([0xA5, 0x06, 1]) + struct.pack(">H", L.MAX_PAYLOAD + 1)) == [L.Refusal(L.BAD_LENGTH, 6)]
    # a truncated packet ends when the line goes idle
    assert rx.feed(good[:7]) == [] and rx.in_packet
    assert rx.idle() == [L.Refusal(L.TIMEOUT)] and not rx.in_packet
    assert rx.feed(good) == [L.Packet(L.COUNTERS, 3, b"abc")]


def test_device_model_answers_every_packet_and_recovers(cfg, codec):
    dev = L.DeviceModel(cfg)
    out = dev.receive(b"\x00\x13garbage" + L.packet(L.IDENT, 1)[:6])  # garbage, then a truncated packet
    out += dev.idle()
    corrupt = bytearray(L.packet(L.IDENT, 2))
    corrupt[2] ^= 0xFF
    out += dev.receive(bytes(corrupt))
    out += dev.receive(L.packet(0x33, 3))
    out += dev.receive(L.packet(L.LOAD_MEM, 4, b"\x01\x00\x00"))
    out += dev.receive(L.packet(L.FRAME, 5, bytes(4096)))  # before any settings
    bad = codec.device_settings(cfg, (32, 8, 8)).settings
    bad["header"]["bits"] = 0
    out += dev.receive(L.packet(L.SETTINGS, 6, L.settings_payload(bad)))
    assert nak_codes(out) == [(L.TIMEOUT, 0), (L.BAD_CRC, 0), (L.UNKNOWN_TYPE, 0x33),
                              (L.BAD_VALUE, L.LOAD_MEM), (L.NOT_READY, L.FRAME), (L.BAD_VALUE, L.SETTINGS)]
    # then a valid request succeeds
    (reply,) = L.Receiver().feed(dev.receive(L.packet(L.IDENT, 9)))
    assert reply.type == 0x81 and reply.tag == 9 and reply.payload[:4] == b"ESDV"


def test_bytes_sent_while_a_reply_is_pending_are_dropped_but_one(cfg):
    """PROTOCOL.md section 2, as the RTL's UART does: the first byte that arrives while a reply is
    pending waits, the rest overrun. Two IDENTs in one write: the first is answered; the second's
    sync byte starts a packet that the idle line ends (TIMEOUT). A byte other than sync is dropped."""
    dev = L.DeviceModel(cfg)
    rx = L.Receiver()
    replies = rx.feed(dev.receive(L.packet(L.IDENT, 1) + L.packet(L.IDENT, 2)) + dev.idle())
    assert [(r.type, r.tag) for r in replies] == [(0x81, 1), (L.NAK, 0)] and replies[1].payload == bytes([L.TIMEOUT, 0])
    assert dev.overruns == 8
    replies = rx.feed(dev.receive(L.packet(L.IDENT, 3) + b"\x00" + L.packet(L.IDENT, 4)) + dev.idle())
    assert [(r.type, r.tag) for r in replies] == [(0x81, 3)] and dev.overruns == 8 + 9
    (reply,) = rx.feed(dev.receive(L.packet(L.IDENT, 5)))  # after the reply: received
    assert reply.tag == 5


def test_frames_wait_for_the_level_table_in_uniform_mode_too(cfg, codec):
    """Protocol 3: the device quantizes by its level table in both modes, so a FRAME before
    LEVEL_TABLE is NOT_READY even with uniform settings; after it the frame is the golden one."""
    dev = L.DeviceModel(cfg)
    ds = codec.device_settings(cfg, (32, 8, 8))
    assert ds.header.mode == "uniform"
    dev.receive(L.packet(L.SETTINGS, 1, L.settings_payload(ds.settings)))
    dev.receive(L.packet(L.CODE_TABLE, 2, L.code_table_payload(ds.code_words)))
    assert nak_codes(dev.receive(L.packet(L.FRAME, 3, bytes(4096)))) == [(L.NOT_READY, L.FRAME)]
    (ack,) = L.Receiver().feed(dev.receive(L.packet(L.LEVEL_TABLE, 4, bytes(ds.level_table))))
    assert ack.type == L.LEVEL_TABLE | 0x80
    evs = L.Receiver().feed(dev.receive(L.packet(L.FRAME, 5, bytes(4096))))
    assert evs[0].type == L.FRAME | 0x80 and evs[-1].type == L.DATA_END


def test_load_mem_rows_round_trip(cfg):
    from golden import layer_engine as le

    img = le.engine_image(le.program_for(cfg))
    for mem, rows in ((L.WEIGHTS, img.weights), (L.PARAMS, img.params), (L.PROGRAM, img.descriptors)):
        data = L.encode_rows(mem, rows, img.cols)
        assert len(data) == len(rows) * L.row_bytes(mem, img.cols)
        back = L.decode_rows(mem, data, img.cols)
        want = [{k: d[k] for k, _, _ in L.DESCRIPTOR_FIELDS} for d in rows] if mem == L.PROGRAM else list(rows)
        assert back == want
    payloads = L.load_mem_payloads(img, 1000)
    assert all(len(p) <= 1000 for p in payloads) and len(payloads) > 3
    with pytest.raises(L.ConfigError, match="int8"):
        L.encode_rows(L.WEIGHTS, [(0, 0, 0, 200)], 4)
    with pytest.raises(L.ConfigError, match="taps = 5000 does not fit its 12 bits"):
        L.encode_rows(L.PROGRAM, [dict(img.descriptors[0], taps=5000)], 4)


def test_load_mem_runs_another_network(cfg):
    """Weights, parameters and program of a different network written over the link: the reference
    device then computes that network's frames (golden edge.run of the other model), not the one it
    was built with; a refused LOAD_MEM changes nothing."""
    from golden import datasets, edge
    from golden.codec import Codec
    from golden.edge_device import device_frames

    other, img = other_network(cfg)
    dev = L.DeviceModel(cfg)
    rx = L.Receiver()
    codec = Codec.for_config(cfg)
    images = datasets.embedded(cfg, "test").images[:2]
    feats = edge.run(other, images, cfg.split)
    ds = codec.device_settings(cfg, feats.shape[1:], seq=0)
    # refused: rows beyond the memory, a count that does not match the length, an unknown memory
    depth = img.param_words
    for bad in (L.LOAD_HEAD.pack(L.PARAMS, depth - 1, 2) + bytes(2 * L.row_bytes(L.PARAMS, 4)),
                L.LOAD_HEAD.pack(L.WEIGHTS, 0, 3) + bytes(8), L.LOAD_HEAD.pack(7, 0, 1) + bytes(4)):
        assert nak_codes(dev.receive(L.packet(L.LOAD_MEM, 1, bad))) == [(L.BAD_VALUE, L.LOAD_MEM)]
    for i, p in enumerate(L.load_mem_payloads(img, 4096)):
        (ack,) = rx.feed(dev.receive(L.packet(L.LOAD_MEM, i, p)))
        assert ack.type == L.LOAD_MEM | 0x80
    dev.receive(L.packet(L.SETTINGS, 20, L.settings_payload(ds.settings)))
    dev.receive(L.packet(L.CODE_TABLE, 21, L.code_table_payload(ds.code_words)))
    dev.receive(L.packet(L.LEVEL_TABLE, 23, bytes(ds.level_table)))
    got = []
    for img_ in images:
        evs = rx.feed(dev.receive(L.packet(L.FRAME, 22, img_.tobytes())))
        got.append(b"".join(e.payload for e in evs if e.type in (L.DATA, L.DATA_END)))
    want = [codec.encode(cfg, f, seq=i) for i, f in enumerate(feats)]
    assert got == want
    assert got != device_frames(cfg, images)[0]  # the built-in network codes them differently


@pytest.fixture
def server(cfg):
    s = Server(L.DeviceModel(cfg)).start()
    yield s
    s.close()


@pytest.mark.parametrize("c", [Config(), Config(bits=4, quantizer="ecsq")], ids=["3b-uniform", "4b-ecsq"])
def test_hil_over_socket_is_byte_identical(c):
    s = Server(L.DeviceModel(c)).start()
    try:
        r = hil.run(c, f"socket://127.0.0.1:{s.port}", frames=3)
    finally:
        s.close()
    assert r["frames"] == r["frames_identical"] == r["frames_decoded"] == 3
    assert r["accuracy"] == r["golden_accuracy"] and r["device_counters"]["frames"] == 3
    assert r["link"]["tx_bytes"] > 3 * 4096 and r["link"]["retries"] == 0 and r["fps"] > 0


def test_hil_runs_the_bottleneck_on_a_device_built_without_it():
    """No new hardware: a device built for split 1 on its own gets the shared bottleneck's adapter and
    encoder as two more layers by LOAD_MEM and sends the code's frames, byte-identical with golden."""
    c = Config(split=1, bits=3, bottleneck="shared")
    s = Server(L.DeviceModel(Config(split=1))).start()
    try:
        r = hil.run(c, f"socket://127.0.0.1:{s.port}", frames=4)
    finally:
        s.close()
    assert r["frames"] == r["frames_identical"] == r["frames_decoded"] == 4
    assert r["accuracy"] == r["golden_accuracy"] and max(r["frame_bytes"]) < 200


def test_wrong_load_shows_as_a_different_frame(server, cfg, codec):
    """The reference device codes with what it was given: a wrong sequence number changes the bytes."""
    from golden import datasets
    from golden.edge_device import device_frames

    img = datasets.embedded(cfg, "test").images[:1]
    (want,), feats = device_frames(cfg, img, codec=codec)
    with Link(f"socket://127.0.0.1:{server.port}") as link:
        link.load(codec.device_settings(cfg, feats.shape[1:], seq=5))
        got = link.frame(img[0].tobytes())
    assert got != want and got[:7] == want[:7] and got[7] == 5


class Flaky:
    """Corrupts one byte of the first packet it receives (a line glitch)."""

    def __init__(self, device):
        self.device, self.hit = device, False

    def receive(self, data):
        if not self.hit and len(data) > 8:
            self.hit = True
            data = data[:6] + bytes([data[6] ^ 0x40]) + data[7:]
        return self.device.receive(data)

    def idle(self):
        return self.device.idle()


def test_host_retries_a_damaged_request(cfg):
    s = Server(Flaky(L.DeviceModel(cfg))).start()
    try:
        with Link(f"socket://127.0.0.1:{s.port}", timeout=2.0) as link:
            ident = link.ident()
            assert link.retries == 1
    finally:
        s.close()
    assert ident["split"] == cfg.split and ident["feature_shape"] == [32, 8, 8]


def test_server_serves_connection_after_connection(server, cfg, codec):
    """serve-model stays up as a powered board does: a connection that closes in the middle of a
    packet leaves the receiver to time out and resync (its NAK goes nowhere), and the next
    connections find the device's state (settings, counters) as the last one left it."""
    from golden import datasets
    from golden.edge_device import device_frames

    port = f"socket://127.0.0.1:{server.port}"
    img = datasets.embedded(cfg, "test").images[:1]
    (want,), feats = device_frames(cfg, img, codec=codec)
    with Link(port) as link:
        link.load(codec.device_settings(cfg, feats.shape[1:]))
    with socket.create_connection(("127.0.0.1", server.port)) as c:  # half a packet, then the line drops
        c.sendall(L.packet(L.IDENT, 7, b"")[:5])
    with Link(port) as link:
        assert link.frame(img[0].tobytes()) == want and link.retries == 0
    with Link(port) as link:
        counters = link.counters(cfg.split)
        assert link.retries == 0
    assert counters["frames"] == 1 and counters["naks"] == 1  # the cut packet's TIMEOUT


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "edgesplit", *map(str, args)], capture_output=True, text=True,
                          timeout=300)


def test_hil_cli_errors_are_one_line():
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    p = run_cli("hil", "--port", f"socket://127.0.0.1:{port}", "--frames", 1)
    assert p.returncode == 3 and "Traceback" not in p.stderr and "cannot open" in p.stderr
    p = run_cli("hil", "--port", "/dev/nonexistent-edgesplit", "--frames", 1)
    assert p.returncode == 3 and "cannot open '/dev/nonexistent-edgesplit'" in p.stderr
    silent = socket.socket()  # listens, never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)
    try:
        p = run_cli("hil", "--port", f"socket://127.0.0.1:{silent.getsockname()[1]}", "--timeout", 0.3)
    finally:
        silent.close()
    assert p.returncode == 3 and "no valid reply to IDENT" in p.stderr and "Traceback" not in p.stderr


def test_hil_cli_json(server, tmp_path):
    p = run_cli("hil", "--port", f"socket://127.0.0.1:{server.port}", "--frames", 2, "--json", tmp_path / "h.json")
    assert p.returncode == 0, p.stderr
    r = json.loads((tmp_path / "h.json").read_text())
    assert {"frames", "frames_identical", "accuracy", "fps"} <= set(r) and r["frames_identical"] == 2


def _load(dev, ds, tag=1):
    for t, payload in ((L.SETTINGS, L.settings_payload(ds.settings)), (L.CODE_TABLE, L.code_table_payload(
            ds.code_words)), (L.LEVEL_TABLE, bytes(ds.level_table))):
        dev.receive(L.packet(t, tag, payload))


BAD_SETTINGS = {"split 0": ("header", "split", 0), "C 0": ("header", "c", 0), "H 0": ("header", "h", 0),
                "count not C*H*W": (None, "count", 1), "bits 9": ("header", "bits", 9),
                "clip 0": ("header", "clip", 0), "flags 2": ("header", "ecsq", 2)}


@pytest.mark.parametrize("what", list(BAD_SETTINGS) + ["reserved byte"])
def test_settings_that_would_make_a_forbidden_frame_are_refused(cfg, codec, what):
    """docs/FORMAT.md section 6's header rules, checked by the device: BAD_VALUE, and the settings
    unloaded (a FRAME then is NOT_READY, not a frame a decoder must refuse)."""
    dev = L.DeviceModel(cfg)
    ds = codec.device_settings(cfg, dev.program().out_shape)
    _load(dev, ds)
    if what == "reserved byte":
        payload = L.settings_payload(ds.settings)[:-1] + b"\x01"
    else:
        part, key, value = BAD_SETTINGS[what]
        s = json.loads(json.dumps(ds.settings))
        (s[part] if part else s)[key] = value
        payload = L.settings_payload(s)
    assert nak_codes(dev.receive(L.packet(L.SETTINGS, 2, payload))) == [(L.BAD_VALUE, L.SETTINGS)]
    assert nak_codes(dev.receive(L.packet(L.FRAME, 3, bytes(4096)))) == [(L.NOT_READY, L.FRAME)]


def _zero_program_row(dev):
    return L.packet(L.LOAD_MEM, 5, L.LOAD_HEAD.pack(L.PROGRAM, 0, 1) + bytes(L.row_bytes(L.PROGRAM, dev.image.cols)))


MISLOADS = {
    "a zero-dimension program row": lambda dev, ds: dev.receive(_zero_program_row(dev)),
    "a layer reading where the one before did not write": lambda dev, ds: dev.receive(L.packet(
        L.LOAD_MEM, 5, L.LOAD_HEAD.pack(L.PROGRAM, 1, 1) + L.encode_rows(
            L.PROGRAM, [dict(dev.memories[L.PROGRAM][1], base=dev.memories[L.PROGRAM][1]["base"] + 1)],
            dev.image.cols))),
    "a level above 2**bits - 1": lambda dev, ds: dev.receive(
        L.packet(L.LEVEL_TABLE, 5, bytes(ds.level_table[:-1]) + bytes([1 << ds.settings["header"]["bits"]]))),
    "an unknown table id": lambda dev, ds: dev.receive(L.packet(L.SETTINGS, 5, L.settings_payload(
        dict(ds.settings, header=dict(ds.settings["header"], table_id=ds.settings["header"]["table_id"] ^ 1))))),
    "a shape other than the program's": lambda dev, ds: dev.receive(L.packet(L.SETTINGS, 5, L.settings_payload(
        dict(ds.settings, count=ds.settings["count"] // 2,
             header=dict(ds.settings["header"], c=ds.settings["header"]["c"] // 2))))),
    "code words not the canonical code": lambda dev, ds: dev.receive(L.packet(L.CODE_TABLE, 5, L.code_table_payload(
        [(c ^ 1 if n else 0, n) for c, n in ds.code_words]))),
}


@pytest.mark.parametrize("what", list(MISLOADS))
def test_a_frame_from_loads_that_cannot_make_an_allowed_frame_is_not_ready(cfg, codec, what):
    """Each command was well-formed, but together they cannot make a frame docs/FORMAT.md allows:
    the FRAME gets NOT_READY, the device lives on (the zero-dimension program once made
    serve-model exit), and loading what is right again gives the golden frame."""
    from golden import datasets
    from golden.edge_device import device_frames

    dev = L.DeviceModel(cfg)
    img = datasets.embedded(cfg, "test").images[:1]
    (want,), feats = device_frames(cfg, img, codec=codec)
    ds = codec.device_settings(cfg, feats.shape[1:])
    _load(dev, ds)
    assert nak_codes(dev.receive(L.packet(L.FRAME, 4, img[0].tobytes()))) == []
    MISLOADS[what](dev, ds)
    assert nak_codes(dev.receive(L.packet(L.FRAME, 6, img[0].tobytes()))) == [(L.NOT_READY, L.FRAME)]
    assert dev.frame_problem() is not None
    (ident,) = L.Receiver().feed(dev.receive(L.packet(L.IDENT, 7)))
    assert ident.type == 0x81
    rows = L.DeviceModel(cfg).memories[L.PROGRAM][:2]
    dev.receive(L.packet(L.LOAD_MEM, 8, L.LOAD_HEAD.pack(L.PROGRAM, 0, 2) + L.encode_rows(L.PROGRAM, rows, dev.image.cols)))
    _load(dev, codec.device_settings(cfg, feats.shape[1:], seq=0), tag=9)
    replies = L.Receiver().feed(dev.receive(L.packet(L.FRAME, 10, img[0].tobytes())))
    assert b"".join(r.payload for r in replies[1:]) == want
