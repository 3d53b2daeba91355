"""Golden twin of :class:`rtl.edge_device.EdgeDevice`: camera frames to the exact frame bytes the
device sends, and back to the levels the host decodes.
"""

from . import edge, ptq
from .codec import Codec


def device_frames(cfg, images, seq=0, codec=None):
    """``(frames, features)``: the frame bytes of each image (sequence numbers ``seq, seq+1, ...``
    modulo 256) and the uint8 split features they code."""
    codec = Codec.for_config(cfg) if codec is None else codec
    features = edge.run(ptq.int_model(cfg), images, cfg.split)
    frames = [codec.encode(cfg, f, seq=(seq + i) % 256) for i, f in enumerate(features)]
    return frames, features
