import struct
import zlib

import numpy as np
import pytest

from golden import frame as F
from golden.codec import Codec
from golden.errors import FrameError
from golden.huffman import HuffmanCode
from golden.rle import EOB, NUM_SYMBOLS


def tiny_code():
    lengths = [0] * NUM_SYMBOLS
    lengths[EOB], lengths[0], lengths[16], lengths[128] = 1, 2, 3, 3
    return HuffmanCode(lengths)


def test_golden_vector():
    """A frame built by hand from docs/FORMAT.md; locks the byte layout."""
    x = np.zeros((1, 1, 24), np.uint8)
    x[0, 0, [0, 3, 21]] = 1
    header = F.FrameHeader(split=1, bits=1, clip=255, mode="uniform", shape=(1, 1, 24),
                           table_id=0x01020304, seq=7)
    # codes: EOB "0", (run 0, level 1) "10", (run 2) "110", (run class 16) "111" + 4 bits of 17-16
    # stream: 10 110 111 0001 0 -> 10110111 00010000
    body = bytes.fromhex("4553 01 00 01 01 ff 07 0001 0001 0018 01020304 b710 00000002")
    want = body + struct.pack(">I", zlib.crc32(body))
    assert F.encode(x, header, tiny_code()) == want
    h, payload = F.parse(want)
    assert h == header and payload == b"\xb7\x10"
    assert np.array_equal(F.decode_payload(payload, 24, tiny_code(), 1), x.reshape(-1))


def test_format_document_vector():
    """The test vector of docs/FORMAT.md section 8, its bytes read from the document: its table id
    is the CRC the document gives, and it decodes to the tensor the document describes."""
    import re
    from pathlib import Path

    doc = (Path(__file__).parent.parent / "docs" / "FORMAT.md").read_text()
    section = doc[doc.index("## 8. A complete test vector"):]
    data = bytes.fromhex(re.search(r"\n    ((?:[0-9a-f]{2} ){27}[0-9a-f]{2})\n", section).group(1))
    lengths = [0] * NUM_SYMBOLS
    lengths[EOB], lengths[0], lengths[16], lengths[128] = 1, 2, 3, 3
    assert zlib.crc32(bytes([1, 1, 0, 16]) + bytes(lengths)) == 0x770B21FB and "= 0x770b21fb" in section
    h, payload = F.parse(data)
    assert h == F.FrameHeader(split=1, bits=1, clip=255, mode="uniform", shape=(1, 1, 24), table_id=0x770B21FB,
                              seq=7)
    want = np.zeros(24, np.uint8)
    want[[0, 3, 21]] = 1
    assert np.array_equal(F.decode_payload(payload, 24, HuffmanCode(lengths), 1), want)


def test_crc_is_amaranth_crc32_ethernet():
    from amaranth.lib.crc import catalog

    data = bytes(range(256)) * 3
    assert catalog.CRC32_ETHERNET(data_width=8).compute(data) == zlib.crc32(data)


def test_round_trip_every_operating_point(cfg, codec, test_features):
    for split in cfg.spec.splits:
        for bits in range(1, 9):
            for mode in ("uniform", "ecsq"):
                c = cfg.replace(split=split, bits=bits, quantizer=mode)
                table = codec.table(c)
                for i, f in enumerate(test_features[split - 1][:3]):
                    data = codec.encode(c, f, seq=i)
                    dec = codec.decode(data)
                    q = codec.quantize(c, f)
                    assert np.array_equal(dec.levels, q)
                    assert dec.header.shape == f.shape and dec.header.seq == i
                    assert np.array_equal(dec.features, table.levels(codec.clip(c))[q])


def test_extreme_tensors_round_trip(cfg, codec):
    c = cfg.replace(split=1, bits=8, clip=255)
    shape = cfg.spec.shape_after(1)
    for f in (np.zeros(shape, np.uint8), np.full(shape, 255, np.uint8),
              np.where(np.arange(np.prod(shape)).reshape(shape) == np.prod(shape) - 1, 200, 0).astype(np.uint8)):
        dec = codec.decode(codec.encode(c, f))
        assert np.array_equal(dec.levels, f)


def test_explicit_clip_goes_into_header(cfg, codec, test_features):
    c = cfg.replace(split=3, bits=3, clip=77, quantizer="uniform")
    dec = codec.decode(codec.encode(c, test_features[2][0]))
    assert dec.header.clip == 77
    assert np.array_equal(dec.levels, codec.quantize(c, test_features[2][0]))


@pytest.fixture
def good(cfg, codec, test_features):
    c = cfg.replace(split=3, bits=3, quantizer="uniform")
    return codec.encode(c, test_features[2][1], seq=3)


def _refix(b):
    b = bytearray(b)
    b[-4:] = struct.pack(">I", zlib.crc32(bytes(b[:-4])))
    return bytes(b)


def _set(b, off, value):
    b = bytearray(b)
    b[off:off + len(value)] = value
    return _refix(b)


@pytest.mark.parametrize("mutate, message", [
    (lambda b: b[:10], "truncated frame"),
    (lambda b: b"", "truncated frame"),
    (lambda b: b[:-1], "CRC|length field"),
    (lambda b: b + b"\x00", "length field|CRC"),
    (lambda b: _set(b, 0, b"XY"), "not an edgesplit frame"),
    (lambda b: _set(b, 2, b"\x02"), "version 2 is not supported"),
    (lambda b: _set(b, 3, b"\x80"), "reserved flag"),
    (lambda b: _set(b, 5, b"\x09"), "bits field 9"),
    (lambda b: _set(b, 6, b"\x00"), "must not be zero"),
    (lambda b: _set(b, 4, b"\x02"), "split 2 of"),
    (lambda b: _set(b, 8, b"\x00\x00"), "empty"),
    (lambda b: _set(b, 14, b"\xde\xad\xbe\xef"), "does not have"),
    (lambda b: _set(b, 5, b"\x04"), "is for 3 bits"),
    (lambda b: _set(b, len(b) - 8, b"\x00\x00\x00\x01"), "length field says 1"),
    (lambda b: bytes([b[0] ^ 1]) + b[1:], "not an edgesplit frame"),
    (lambda b: b[:20] + bytes([b[20] ^ 0x10]) + b[21:], "CRC-32 mismatch"),
])
def test_malformed_frames_are_refused(codec, good, mutate, message):
    with pytest.raises(FrameError, match=message):
        codec.decode(mutate(good))


def test_payload_errors():
    code = tiny_code()
    with pytest.raises(FrameError, match="ends before the end-of-block"):
        F.decode_payload(b"\xff", 24, code, 1)  # 111 111 11: codes, no EOB
    with pytest.raises(FrameError, match="bits follow the end-of-block"):
        F.decode_payload(b"\x00\x00", 24, code, 1)  # EOB then a whole spare byte
    with pytest.raises(FrameError, match="padding bits"):
        F.decode_payload(b"\x01", 24, code, 1)  # EOB then non-zero padding
    with pytest.raises(FrameError, match="describe 4 elements"):
        F.decode_payload(b"\xb0", 3, code, 1)  # run 0 + run 2 = 4 elements into 3
    with pytest.raises(FrameError, match="invalid code"):
        lengths = [0] * NUM_SYMBOLS
        lengths[EOB], lengths[0] = 2, 2  # codes 00 and 01; 1x is unused
        F.decode_payload(b"\xc0", 8, HuffmanCode(lengths), 1)
    with pytest.raises(FrameError, match="more symbols"):
        F.decode_payload(b"\xaa\xa0", 3, code, 1)  # six level symbols for three elements


def test_decoder_without_network_checks(codec, good):
    bare = Codec(codec.tables)
    assert bare.decode(good).header.split == 3


def test_device_settings_loader(cfg, codec):
    """The host-side loader: consistent settings for the hardware, clear refusals for bad ones."""
    from golden import quantizer as Q
    from golden.codec import device_settings
    from golden.errors import ConfigError, TableError
    from golden.tables import CodecTable

    t = codec.table(cfg)
    ds = device_settings(t, 200, 3, (32, 8, 8), seq=7)
    assert ds.level_table == Q.quantize_uniform(np.arange(256), t.bits, 200).tolist()
    assert "mult" not in ds.settings  # protocol 3: the device quantizes by the table in both modes
    assert ds.settings["count"] == 2048 and ds.settings["header"]["table_id"] == t.table_id
    assert ds.header.pack()[7] == 7 and len(ds.code_words) == 210
    assert all(n == t.lengths[s] and c < (1 << max(n, 1)) for s, (c, n) in enumerate(ds.code_words))
    e = codec.tables.get(3, 4, "ecsq")
    de = device_settings(e, 255, 3, (32, 8, 8))
    assert de.level_table == Q.level_table(4, "ecsq", 255, e.thresholds).tolist()
    for kwargs, text in [
        (dict(clip=0), "clip must be an integer in 1..255"),
        (dict(clip=256), "clip must be an integer in 1..255"),
        (dict(shape=(0, 8, 8)), "three sides in 1..65535"),
        (dict(shape=(2048, 2048, 2)), "at most 4194304 elements"),
        (dict(seq=256), "sequence number must be 0..255"),
        (dict(split=0), "split must be 1..255"),
    ]:
        args = dict(table=t, clip=100, split=3, shape=(32, 8, 8), seq=0) | kwargs
        with pytest.raises(ConfigError, match=text):
            device_settings(**args)
    with pytest.raises(ConfigError, match="ECSQ frames carry clip 255"):
        device_settings(e, 100, 3, (32, 8, 8))
    with pytest.raises(TableError, match="bits must be 1..8"):
        CodecTable(split=3, bits=9, mode="uniform", clip=100, lengths=t.lengths)
    with pytest.raises(TableError, match="bits must be 1..8"):
        CodecTable(split=3, bits=0, mode="uniform", clip=100, lengths=t.lengths)
    with pytest.raises(TableError, match="Kraft"):
        CodecTable(split=3, bits=3, mode="uniform", clip=100, lengths=(1,) * 210)
