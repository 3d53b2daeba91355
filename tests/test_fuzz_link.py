"""edgesplit fuzz --link (issue 21): random and mutated packet sequences against a device; after each
the device is alive, every reply well-formed, every frame decodable, and a valid session golden."""

import json
import subprocess
import sys

import pytest

from fpga import fuzz
from fpga.serve import Server
from golden import link as L
from golden.config import Config


@pytest.fixture(scope="module")
def valid():
    return fuzz.Valid(Config(), frames=2)


def test_a_seeded_share_against_the_reference_device(tmp_path):
    """CI's share of the 10,000-sequence run (docs/RESULTS.md): every kind of item, every NAK code."""
    p = subprocess.run([sys.executable, "-m", "edgesplit", "fuzz", "--link", "--count", "60", "--seed", "1",
                        "--json", str(tmp_path / "f.json")], capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout + p.stderr
    r = json.loads((tmp_path / "f.json").read_text())
    assert r["sequences"] == r["sessions"] == r["sessions_identical"] == 60
    assert r["problems"] == [] and r["hangs"] == 0 and r["dead"] is None
    assert set(r["items"]) == set(fuzz.KINDS) and set(r["naks"]) == set(L.ERRORS.values())
    assert r["frames"] > 0


def test_the_checker_flags_what_a_device_must_never_send(valid):
    c = fuzz.ReplyChecker(3, valid.decoder)
    c.feed(L.packet(L.IDENT | 0x80, 1, bytes(L.IDENT_LAYOUT.size)) + L.packet(L.NAK, 0, bytes([L.TIMEOUT, 0])))
    assert c.problems == [] and c.replies == 2 and not c.busy
    frame = bytearray(valid.want[0])
    frame[30] ^= 0xFF  # its CRC no longer matches: a decoder refuses it
    chunks = [bytes(frame[i:i + L.CHUNK]) for i in range(0, len(frame), L.CHUNK)]
    c.feed(L.packet(L.FRAME | 0x80, 7, b"") + b"".join(L.packet(L.DATA, 7, x) for x in chunks[:-1])
           + L.packet(L.DATA_END, 7, chunks[-1]))
    c.feed(b"\x00" + L.packet(L.NAK, 0, bytes([9, 0])) + L.packet(0x55, 1) + L.packet(L.DATA, 2, b"x"))
    bad = L.packet(L.SETTINGS | 0x80, 3)
    c.feed(bad[:-1] + bytes([bad[-1] ^ 1]))
    found = [p.split(":")[0].split(",")[0] for p in c.problems]
    assert found[:6] == ["a frame that docs/FORMAT.md refuses", "a byte 0x00 outside any packet", "a NAK with code 9",
                         "a reply of type 0x55", "a DATA packet (tag 2", "a reply (type 0x82) with a bad CRC"]
    assert set(found[6:]) == {f"a byte 0x{b:02x} outside any packet" for b in bad[1:-1] + bytes([bad[-1] ^ 1])}


class DiesAfterProgramLoads(L.DeviceModel):
    """A device with the defect the reference device had: a FRAME after a program load it could not
    run killed serve-model. Here any program load does."""

    loaded = False

    def answer(self, event):
        if isinstance(event, L.Packet) and event.type == L.LOAD_MEM and event.payload[:1] == bytes([L.PROGRAM]):
            self.loaded = True
        if isinstance(event, L.Packet) and event.type == L.FRAME and self.loaded:
            raise RuntimeError("layer descriptor 0 has a zero dimension")
        return super().answer(event)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_the_fuzzer_finds_a_device_that_dies(valid):
    server = Server(DiesAfterProgramLoads(Config())).start()
    try:
        r = fuzz.run(f"socket://127.0.0.1:{server.port}", valid, 400, seed=3, frame_timeout=2.0, progress=False)
    finally:
        server.close()
    assert r["dead"] is not None and r["sequences"] < 400
