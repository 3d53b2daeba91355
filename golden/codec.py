"""The feature codec as the host and the tests use it: uint8 split features <-> frame bytes.

Encoding: quantize (:mod:`golden.quantizer`) -> run-length items (:mod:`golden.rle`) -> Huffman codes
(:mod:`golden.huffman`) -> bit packing (:mod:`golden.bitpack`) -> frame (:mod:`golden.frame`).
Decoding reverses it and dequantizes to float features (uint8 units; multiply by the split's
activation scale for real values).
"""

from dataclasses import dataclass

import numpy as np

from . import frame as F
from .errors import FrameError
from .tables import TableSet, tables_path


@dataclass(frozen=True)
class Decoded:
    header: F.FrameHeader
    levels: np.ndarray  # (C, H, W) uint8 quantization levels
    features: np.ndarray  # (C, H, W) float64 dequantized, uint8 feature units


class Codec:
    """Encoder and decoder over a :class:`golden.tables.TableSet`."""

    def __init__(self, tables, spec=None):
        self.tables = tables
        self.spec = spec

    @classmethod
    def for_config(cls, cfg):
        """The codec of ``cfg``'s model: its table file, and its network to check frame shapes."""
        from .network import bundle_path

        return cls(TableSet.load(tables_path(bundle_path(cfg))), cfg.spec)

    def table(self, cfg):
        return self.tables.get(cfg.split, cfg.bits, cfg.quantizer)

    def clip(self, cfg):
        """The clip value frames of ``cfg`` carry: ``cfg.clip`` or the table's calibrated one."""
        return cfg.clip if cfg.clip is not None else self.table(cfg).clip

    def header(self, cfg, shape, seq=0):
        t = self.table(cfg)
        return F.FrameHeader(cfg.split, cfg.bits, self.clip(cfg), cfg.quantizer, tuple(shape),
                             t.table_id, seq)

    def quantize(self, cfg, features):
        """Levels of uint8 ``features`` (any shape) under ``cfg``."""
        return self.table(cfg).quantize(features, self.clip(cfg))

    def encode(self, cfg, features, seq=0):
        """Frame bytes of one uint8 feature tensor ``(C, H, W)``."""
        t = self.table(cfg)
        q = self.quantize(cfg, features)
        return F.encode(q, self.header(cfg, features.shape, seq), t.code)

    def decode(self, data):
        """:class:`Decoded` of frame bytes; :class:`FrameError` on anything malformed."""
        header, payload = F.parse(data)
        if self.spec is not None:
            if header.split not in self.spec.splits:
                raise FrameError(f"frame says split {header.split}; network {self.spec.name!r} has "
                                 f"splits {list(self.spec.splits)}")
            want = self.spec.shape_after(header.split)
            if header.shape != want:
                raise FrameError(f"frame says tensor shape {header.shape}, split {header.split} of "
                                 f"{self.spec.name!r} has {want}")
        table = self.tables.by_id(header.table_id)
        if table is None:
            raise FrameError(f"frame uses codec table 0x{header.table_id:08x}, which this decoder "
                             f"does not have")
        if (table.bits, table.mode) != (header.bits, header.mode):
            raise FrameError(f"frame says {header.bits} bits {header.mode}; its table "
                             f"0x{header.table_id:08x} is for {table.bits} bits {table.mode}")
        flat = F.decode_payload(payload, header.elements, table.code, header.bits)
        levels = flat.reshape(header.shape)
        if levels.max(initial=0) >= 1 << header.bits:
            raise FrameError(f"a level exceeds {header.bits} bits")
        features = table.levels(header.clip)[levels]
        return Decoded(header, levels, features)
