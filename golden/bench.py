"""Benchmarks of the golden codec (``edgesplit bench``): host decoder and encoder throughput."""

import time

import numpy as np

from . import datasets, edge, ptq
from .codec import Codec
from .frame import OVERHEAD


def codec_throughput(cfg, frames=1000, repeats=3):
    """Encode and decode ``frames`` test frames at ``cfg``'s operating point; best of ``repeats``.

    Rates count payload bits (whole payload bytes, as the decoder reads them). The UART figure is
    the payload a link at ``cfg.baud`` carries with 8N1 framing (10 line bits per byte), frame
    header and trailer not counted against it.
    """
    test = datasets.embedded(cfg, "test")
    frames = min(frames, len(test))
    feats = edge.run(ptq.int_model(cfg), test.images[:frames], cfg.split)
    codec = Codec.for_config(cfg)
    q = codec.quantize(cfg, feats)
    enc_t, dec_t = [], []
    for _ in range(repeats):
        t = time.perf_counter()
        data = [codec.encode(cfg, f, seq=i) for i, f in enumerate(feats)]
        enc_t.append(time.perf_counter() - t)
        t = time.perf_counter()
        dec = [codec.decode(d) for d in data]
        dec_t.append(time.perf_counter() - t)
    if not all(np.array_equal(d.levels, qq) for d, qq in zip(dec, q)):
        raise AssertionError("decoded levels differ from the encoder's input")
    payload_bits = sum(len(d) - OVERHEAD for d in data) * 8
    uart = cfg.baud * 8 / 10
    enc, dec_s = min(enc_t), min(dec_t)
    return {
        "split": cfg.split, "bits": cfg.bits, "quantizer": cfg.quantizer, "frames": frames,
        "payload_bits_per_frame": payload_bits / frames,
        "frame_bytes_per_frame": sum(map(len, data)) / frames,
        "decode_seconds": dec_s, "encode_seconds": enc,
        "decode_mbit_per_s": payload_bits / dec_s / 1e6,
        "encode_mbit_per_s": payload_bits / enc / 1e6,
        "decode_frames_per_s": frames / dec_s, "encode_frames_per_s": frames / enc,
        "baud": cfg.baud, "uart_payload_mbit_per_s": uart / 1e6,
        "decode_vs_uart": payload_bits / dec_s / uart,
        "repeats": repeats,
    }
