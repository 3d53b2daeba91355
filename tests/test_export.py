"""edgesplit export (issue 21): a host written from docs/PROTOCOL.md alone, with the exported files and
no project code on its path (sockets, struct and zlib only), runs a whole session against the
reference device and gets the exported frames byte for byte."""

import json
import socket
import struct
import subprocess
import sys
import zlib

from fpga.serve import Server
from golden.config import Config
from golden.link import DeviceModel


def _packet(ptype, tag, payload=b""):  # PROTOCOL.md section 1, by hand
    body = struct.pack(">BBH", ptype, tag, len(payload)) + payload
    return b"\xa5" + body + struct.pack(">I", zlib.crc32(body))


def _replies(sock, until):
    """Packets read until one whose type is in ``until``: [(type, tag, payload)]."""
    buf, out = b"", []
    while True:
        buf += sock.recv(65536)
        while len(buf) >= 9 and len(buf) >= 9 + struct.unpack(">H", buf[3:5])[0]:
            n = struct.unpack(">H", buf[3:5])[0]
            body, crc = buf[1:5 + n], struct.unpack(">I", buf[5 + n:9 + n])[0]
            assert buf[0] == 0xA5 and zlib.crc32(body) == crc
            out.append((body[0], body[1], body[4:]))
            buf = buf[9 + n:]
            if out[-1][0] in until:
                return out


def test_an_independent_host_runs_the_exported_session(tmp_path):
    p = subprocess.run([sys.executable, "-m", "edgesplit", "export", "-o", str(tmp_path), "--frames", "2"],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    session = json.loads((tmp_path / "session.json").read_text())
    assert json.loads((tmp_path / "tables.json").read_text())["network"] == session["network"] == "digits64"
    server = Server(DeviceModel(Config())).start()
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(_packet(0x01, 1))
            ((t, tag, ident),) = _replies(sock, {0x81})
            assert ident.hex() == session["ident"]
            mems = session["memories"]
            assert session["acc_depth"] == DeviceModel(Config()).image.acc_depth
            for i, r in enumerate(session["requests"]):
                payload = (tmp_path / r["file"]).read_bytes()
                if r["type"] == "LOAD_MEM":  # the rows fit the memory the export gives, at its row size
                    mem = next(v for v in mems.values() if v["memory"] == payload[0])
                    first, n = struct.unpack(">HH", payload[1:5])
                    assert len(payload) == 5 + n * mem["row_bytes"] and first + n <= mem["rows"]
                sock.sendall(_packet(r["type_byte"], i + 2, (tmp_path / r["file"]).read_bytes()))
                assert _replies(sock, {r["type_byte"] | 0x80, 0x7F}) == [(r["type_byte"] | 0x80, i + 2, b"")]
            for f in session["frames"]:
                sock.sendall(_packet(0x06, 99, (tmp_path / f["camera"]).read_bytes()))
                got = _replies(sock, {0x91, 0x7F})
                assert got[0] == (0x86, 99, b"") and all(x[0] == 0x90 for x in got[1:-1]) and got[-1][0] == 0x91
                assert b"".join(x[2] for x in got[1:]) == (tmp_path / f["expect"]).read_bytes()
            for k, mem in enumerate(mems.values()):  # the depths are the device's: its last row taken, the next refused
                for first, want in ((mem["rows"] - 1, (0x85, 200 + k, b"")), (mem["rows"], (0x7F, 200 + k, bytes([5, 5])))):
                    row = struct.pack(">BHH", mem["memory"], first, 1) + bytes(mem["row_bytes"])
                    sock.sendall(_packet(0x05, 200 + k, row))  # LOAD_MEM; refused: NAK BAD_VALUE of type 5
                    assert _replies(sock, {0x85, 0x7F}) == [want]
    finally:
        server.close()
    bad = subprocess.run([sys.executable, "-m", "edgesplit", "export", "-o", "/proc/nope"], capture_output=True,
                         text=True, timeout=300)
    assert bad.returncode != 0 and "Traceback" not in bad.stderr and "cannot create" in bad.stderr
