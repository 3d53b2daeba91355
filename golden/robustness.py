"""Robustness run of the host decoder (``edgesplit fuzz``): corrupted frames must be refused.

Valid frames from several operating points are mutated in these ways:

- ``bitflip``: 1-16 random bits flipped anywhere (CRC left as is);
- ``truncate``: cut to a random shorter length;
- ``extend``: 1-64 random bytes appended;
- ``length-lie``: the payload length field changed, CRC recomputed;
- ``header-field``: magic, version, flags, split, bits, clip, shape or table id set to a wrong value,
  CRC recomputed;
- ``random``: random bytes of random length;
- ``payload-crc-fixed``: random payload bytes with a correct length and CRC.

Every frame of the first six kinds must raise :class:`FrameError`. A ``payload-crc-fixed`` frame is
well-formed on the wire, so the decoder may accept it, but then it must return a tensor of the
header's shape with levels inside the header's bit-width; it must never raise anything else. Any
other exception is a crash.
"""

import struct
import time
import zlib

import numpy as np

from . import datasets, edge, ptq
from .codec import Codec
from .errors import FrameError
from .frame import HEADER, TRAILER

KINDS = ("bitflip", "truncate", "extend", "length-lie", "header-field", "random",
         "payload-crc-fixed")
MUST_REJECT = KINDS[:-1]


def _fix_crc(b):
    b[-4:] = struct.pack(">I", zlib.crc32(bytes(b[:-4])))
    return b


def valid_frames(cfg, per_point=4):
    """Valid frames over splits x bits {1, 2, 4, 8} x both modes, from the first test frames."""
    test = datasets.embedded(cfg, "test")
    model = ptq.int_model(cfg)
    codec = Codec.for_config(cfg)
    feats = edge.run_all(model, test.images[:per_point])
    frames = []
    for split in cfg.spec.splits:
        for bits in (1, 2, 4, 8):
            for mode in ("uniform", "ecsq"):
                c = cfg.replace(split=split, bits=bits, quantizer=mode)
                frames += [codec.encode(c, f, seq=i) for i, f in enumerate(feats[split - 1])]
    return codec, frames


def mutate(kind, frame, rng):
    b = bytearray(frame)
    n = len(b)
    if kind == "bitflip":
        for pos in rng.integers(0, n * 8, int(rng.integers(1, 17))):
            b[pos >> 3] ^= 0x80 >> (pos & 7)
        if bytes(b) == frame:  # flips cancelled out
            b[0] ^= 1
        return bytes(b)
    if kind == "truncate":
        return bytes(b[:int(rng.integers(0, n))])
    if kind == "extend":
        return bytes(b) + rng.integers(0, 256, int(rng.integers(1, 65)), dtype=np.uint8).tobytes()
    if kind == "length-lie":
        true = n - HEADER.size - TRAILER.size
        lie = true
        while lie == true:
            lie = int(rng.choice([0, 1, true - 1, true + 1, 2 * true, 0xFFFFFFFF,
                                  int(rng.integers(0, 1 << 32))]))
        b[-8:-4] = struct.pack(">I", lie & 0xFFFFFFFF)
        return bytes(_fix_crc(b))
    if kind == "header-field":
        field = int(rng.integers(0, 9))
        if field == 0:
            b[0:2] = bytes(rng.integers(0, 256, 2, dtype=np.uint8)) if rng.random() < 0.5 else b"SE"
            if b[0:2] == b"ES":
                b[0] = 0
        elif field == 1:
            b[2] = int(rng.choice([0, 2, 255]))
        elif field == 2:
            b[3] |= int(rng.choice([2, 4, 128]))
        elif field == 3:
            b[4] = int(rng.choice([0, 4, 200]))
        elif field == 4:
            b[5] = int(rng.choice([0, 9, 255]))
        elif field == 5:
            b[6] = 0
        elif field == 6:
            off = 8 + 2 * int(rng.integers(0, 3))
            old = struct.unpack_from(">H", b, off)[0]
            new = int(rng.choice([0, 1, old + 1, 0xFFFF]))
            struct.pack_into(">H", b, off, new if new != old else old + 1)
        elif field == 7:
            struct.pack_into(">I", b, 14, int(rng.integers(0, 1 << 32)))
        else:  # bits changed to another legal width: the table no longer matches
            b[5] = 1 + (b[5] % 8)
        return bytes(_fix_crc(b))
    if kind == "random":
        return rng.integers(0, 256, int(rng.integers(0, 200)), dtype=np.uint8).tobytes()
    # payload-crc-fixed
    payload_len = n - HEADER.size - TRAILER.size
    new_len = int(rng.integers(1, 2 * payload_len + 2))
    body = bytes(b[:HEADER.size]) + rng.integers(0, 256, new_len, dtype=np.uint8).tobytes()
    body += struct.pack(">I", new_len)
    return body + struct.pack(">I", zlib.crc32(body))


def fuzz(cfg, count=10000, seed=0):
    """Run ``count`` mutated frames through the decoder; returns the JSON-ready tally."""
    start = time.time()
    rng = np.random.default_rng(seed)
    codec, frames = valid_frames(cfg)
    kinds = {k: {"count": 0, "rejected": 0, "accepted": 0} for k in KINDS}
    crashes, examples, wrongly, max_t = 0, [], 0, 0.0
    for i in range(count):
        kind = KINDS[i % len(KINDS)]
        frame = frames[int(rng.integers(len(frames)))]
        data = mutate(kind, frame, rng)
        k = kinds[kind]
        k["count"] += 1
        t = time.perf_counter()
        try:
            dec = codec.decode(data)
        except FrameError:
            k["rejected"] += 1
        except Exception as exc:  # anything else is a decoder bug
            crashes += 1
            if len(examples) < 5:
                examples.append(f"{kind}: {type(exc).__name__}: {exc}")
        else:
            k["accepted"] += 1
            h = dec.header
            sane = dec.levels.shape == h.shape and int(dec.levels.max(initial=0)) < 1 << h.bits
            if kind in MUST_REJECT or not sane:
                wrongly += 1
                if len(examples) < 5:
                    examples.append(f"{kind}: accepted a frame that must be refused")
        max_t = max(max_t, time.perf_counter() - t)
    return {"frames": count, "seed": seed, "kinds": kinds, "crashes": crashes,
            "wrongly_accepted": wrongly, "crash_examples": examples,
            "max_decode_ms": max_t * 1e3, "seconds": time.time() - start}
