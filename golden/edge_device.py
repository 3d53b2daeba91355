"""Golden twin of :class:`rtl.edge_device.EdgeDevice`: camera frames to the exact frame bytes the
device sends, and back to the levels the host decodes.
"""

from . import edge, ptq
from .codec import Codec


def device_frames(cfg, images, seq=0, codec=None):
    """``(frames, features)``: the frame bytes of each image (sequence numbers ``seq, seq+1, ...``
    modulo 256) and the uint8 tensors they code: the split features, or with a bottleneck its code."""
    codec = Codec.for_config(cfg) if codec is None else codec
    features = edge.run(ptq.int_model(cfg), images, cfg.device_blocks)
    frames = [codec.encode(cfg, f, seq=(seq + i) % 256) for i, f in enumerate(features)]
    return frames, features


def frame_shape(cfg):
    """``(C, H, W)`` of the tensor ``cfg``'s frames carry: the split features', or the bottleneck's code's."""
    return ptq.int_model(cfg).spec.shape_after(cfg.device_blocks)
