"""The feature codec as the host and the tests use it: uint8 split features <-> frame bytes.

Encoding: quantize (:mod:`golden.quantizer`) -> run-length items (:mod:`golden.rle`) -> Huffman codes
(:mod:`golden.huffman`) -> bit packing (:mod:`golden.bitpack`) -> frame (:mod:`golden.frame`).
Decoding reverses it and dequantizes to float features (uint8 units; multiply by the split's
activation scale for real values).
"""

from dataclasses import dataclass

import numpy as np

from . import frame as F
from . import quantizer as Q
from .errors import ConfigError, FrameError
from .huffman import code_ram
from .tables import CodecTable, TableSet, tables_path


@dataclass(frozen=True)
class DeviceSettings:
    """Everything the codec hardware (:class:`rtl.codec.Codec`) is loaded with for a kind of frame.

    ``settings`` is the value of its ``settings`` port (a dict of ``rtl.codec.settings_layout``);
    ``code_words`` the ``(code, length)`` word of every symbol for the code RAM; ``level_table`` the
    level of each of the 256 feature values (either mode: the device quantizes by this table).
    """

    settings: dict
    code_words: list
    level_table: list
    header: F.FrameHeader


def device_settings(table, clip, split, shape, seq=0):
    """The checked run-time settings of frames coded with ``table``.

    This is the host-side loader's gate: out-of-range values (bits outside 1..8, clip outside 1..255,
    a malformed table, an empty or oversized shape) raise :class:`ConfigError` or
    :class:`golden.errors.TableError` here, so the hardware is never set up to emit a frame that
    cannot be decoded.
    """
    if not isinstance(table, CodecTable):
        raise ConfigError(f"device settings need a CodecTable, not {type(table).__name__}")
    bits, mode = table.bits, table.mode
    if not isinstance(clip, int) or isinstance(clip, bool) or not 1 <= clip <= 255:
        raise ConfigError(f"clip must be an integer in 1..255, not {clip!r}; pick a clip from the "
                          f"table ('edgesplit config') or pass --clip 1..255")
    if mode == "ecsq" and clip != 255:
        raise ConfigError("ECSQ frames carry clip 255 (the thresholds do the clipping); leave clip unset")
    if not isinstance(split, int) or not 1 <= split <= 255:
        raise ConfigError(f"split must be 1..255, not {split!r}")
    if (len(shape) != 3 or any(not isinstance(d, (int, np.integer)) or not 1 <= d <= 0xFFFF for d in shape)
            or int(np.prod(shape)) > F.MAX_ELEMENTS):
        raise ConfigError(f"tensor shape {tuple(shape)} must be three sides in 1..65535 with at most "
                          f"{F.MAX_ELEMENTS} elements")
    if not isinstance(seq, int) or not 0 <= seq <= 255:
        raise ConfigError(f"sequence number must be 0..255, not {seq!r}")
    header = F.FrameHeader(split, bits, clip, mode, tuple(int(d) for d in shape), table.table_id, seq)
    c, h, w = header.shape
    settings = {
        "header": {"ecsq": int(mode == "ecsq"), "split": split, "bits": bits, "clip": clip, "seq": seq,
                   "c": c, "h": h, "w": w, "table_id": table.table_id},
        "count": header.elements,
    }
    levels = Q.level_table(bits, mode, clip, table.thresholds)
    return DeviceSettings(settings, code_ram(table.lengths), [int(v) for v in levels], header)


@dataclass(frozen=True)
class Decoded:
    header: F.FrameHeader
    levels: np.ndarray  # (C, H, W) uint8 quantization levels
    features: np.ndarray  # (C, H, W) float64 dequantized, uint8 feature units


class Codec:
    """Encoder and decoder over a :class:`golden.tables.TableSet`."""

    def __init__(self, tables, spec=None, shapes=None):
        self.tables = tables
        self.spec = spec
        self.shapes = shapes  # {split: tensor shape} its frames carry, where not the split tensor's

    @classmethod
    def for_config(cls, cfg):
        """The codec of ``cfg``'s model: its table file, and its network to check frame shapes."""
        from .network import bundle_path

        if cfg.bottleneck is not None:
            from . import bottleneck_int

            return bottleneck_int.codec(cfg)
        if cfg.random_weights is not None:
            from . import randomnet

            return cls(randomnet.tables(cfg.spec, cfg.random_weights, cfg.max_code_len), cfg.spec)
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

    def device_settings(self, cfg, shape, seq=0):
        """:func:`device_settings` of ``cfg``'s frames of ``shape``."""
        return device_settings(self.table(cfg), self.clip(cfg), cfg.split, shape, seq)

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
            want = (self.shapes or {}).get(header.split) or self.spec.shape_after(header.split)
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
