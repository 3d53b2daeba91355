"""Codec tables: per (split, bits, quantizer mode) the quantizer design and the Huffman code lengths.

A :class:`CodecTable` is what the hardware is loaded with between frames and what the host needs to
decode: the Huffman code lengths (the canonical code follows from them), the ECSQ thresholds (non-uniform
mode) and, for the host's dequantizer only, the reconstruction values. The clip stored with a uniform
table is the MSE-optimal clip on training frames, used when the configuration leaves ``clip`` unset.

``table_id`` (in every frame header) is the CRC-32 of::

    bytes([1, bits, mode, max_code_len]) + bytes(lengths) + bytes(thresholds)

with ``mode`` 0 = uniform, 1 = ecsq, ``lengths`` the 210 code lengths and ``thresholds`` empty in
uniform mode.
"""

import json
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import quantizer as Q
from .errors import TableError
from .huffman import HuffmanCode, limited_lengths
from .rle import NUM_SYMBOLS, frame_bits, symbol_counts, valid_symbols

MODES = ("uniform", "ecsq")
TABLE_FRAMES = 1000


@dataclass(frozen=True)
class CodecTable:
    split: int
    bits: int
    mode: str
    clip: int
    lengths: tuple
    max_code_len: int = 16
    thresholds: tuple = ()
    recon: tuple = ()
    code: HuffmanCode = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        if self.mode not in MODES:
            raise TableError(f"table mode must be one of {list(MODES)}, not {self.mode!r}")
        if not isinstance(self.bits, int) or not 1 <= self.bits <= 8:
            raise TableError(f"table bits must be 1..8, not {self.bits!r}")
        if not isinstance(self.clip, int) or not 1 <= self.clip <= 255:
            raise TableError(f"table clip must be 1..255, not {self.clip!r}")
        if not 8 <= self.max_code_len <= 16:
            raise TableError(f"max_code_len must be 8..16, not {self.max_code_len!r}")
        code = HuffmanCode(self.lengths, self.max_code_len)
        missing = np.flatnonzero(valid_symbols(self.bits) & (code.lengths == 0))
        if len(missing):
            raise TableError(f"symbols {missing.tolist()[:8]} can occur with {self.bits}-bit levels "
                             f"but have no code")
        if self.mode == "ecsq":
            t = list(self.thresholds)
            if len(t) != (1 << self.bits) - 1 or any(not isinstance(v, int) for v in t):
                raise TableError(f"an ecsq table needs {(1 << self.bits) - 1} integer thresholds, "
                                 f"not {len(t)}")
            if any(not 1 <= v <= 255 for v in t) or any(a >= b for a, b in zip(t, t[1:])):
                raise TableError("ecsq thresholds must increase strictly within 1..255")
            if len(self.recon) != 1 << self.bits:
                raise TableError(f"an ecsq table needs {1 << self.bits} reconstruction values")
        elif self.thresholds or self.recon:
            raise TableError("a uniform table has no thresholds or reconstruction values")
        object.__setattr__(self, "code", code)

    @property
    def mode_code(self):
        return MODES.index(self.mode)

    @property
    def table_id(self):
        blob = bytes([1, self.bits, self.mode_code, self.max_code_len]) + bytes(self.lengths)
        return zlib.crc32(blob + bytes(self.thresholds))

    def levels(self, clip):
        """Reconstruction value (uint8 feature units) of every level, for header clip ``clip``."""
        if self.mode == "uniform":
            return Q.uniform_levels(self.bits, clip)
        return np.asarray(self.recon, np.float64)

    def quantize(self, x, clip):
        return Q.quantize(x, self.bits, self.mode, clip, self.thresholds)

    def to_dict(self):
        return {"split": self.split, "bits": self.bits, "mode": self.mode, "clip": self.clip,
                "max_code_len": self.max_code_len, "lengths": list(map(int, self.lengths)),
                "thresholds": list(map(int, self.thresholds)),
                "recon": [round(float(r), 6) for r in self.recon],
                "table_id": f"0x{self.table_id:08x}"}

    @classmethod
    def from_dict(cls, d):
        if not isinstance(d, dict):
            raise TableError("a codec table must be a JSON object")
        try:
            table = cls(split=int(d["split"]), bits=d["bits"], mode=d["mode"], clip=d["clip"],
                        lengths=tuple(d["lengths"]), max_code_len=d.get("max_code_len", 16),
                        thresholds=tuple(d.get("thresholds", ())), recon=tuple(d.get("recon", ())))
        except (KeyError, TypeError, ValueError) as exc:
            raise TableError(f"malformed codec table: {exc!r}") from None
        if "table_id" in d and d["table_id"] != f"0x{table.table_id:08x}":
            raise TableError(f"codec table says id {d['table_id']} but its contents give "
                             f"0x{table.table_id:08x}")
        return table


class TableSet:
    """All codec tables of a model, found by ``(split, bits, mode)`` or by ``table_id``."""

    def __init__(self, tables, network=""):
        self.network = network
        self.tables = list(tables)
        self._by_key = {(t.split, t.bits, t.mode): t for t in self.tables}
        self._by_id = {t.table_id: t for t in self.tables}

    def get(self, split, bits, mode):
        try:
            return self._by_key[(split, bits, mode)]
        except KeyError:
            raise TableError(f"no codec table for split {split}, {bits} bits, {mode} mode") from None

    def by_id(self, table_id):
        return self._by_id.get(table_id)

    def add(self, table):
        """A new set with ``table`` added (replacing one with the same key)."""
        rest = [t for t in self.tables if (t.split, t.bits, t.mode) != (table.split, table.bits,
                                                                           table.mode)]
        return TableSet(rest + [table], self.network)

    def to_json(self):
        return json.dumps({"network": self.network, "tables": [t.to_dict() for t in self.tables]},
                          indent=1)

    def save(self, path):
        Path(path).write_text(self.to_json())

    @classmethod
    def load(cls, path):
        path = Path(path)
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise TableError(f"codec table file {str(path)!r} does not exist; run 'edgesplit train' "
                             f"to build it") from None
        except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise TableError(f"{path}: not a codec table file ({exc})") from None
        if not isinstance(data, dict) or not isinstance(data.get("tables"), list):
            raise TableError(f"{path}: a codec table file is an object with a 'tables' list")
        return cls([CodecTable.from_dict(d) for d in data["tables"]], data.get("network", ""))


def tables_path(bundle_path):
    return Path(bundle_path).with_name(Path(bundle_path).stem + "_tables.json")


CLIP_PERCENTILES = (88, 93, 96, 98, 99, 99.5)
SELECT_MAX_BITS = 4
VAL_TOLERANCE = 0.005


def _table(split, bits, mode, q, max_code_len, **kw):
    counts, _ = symbol_counts(q)
    freqs = counts + valid_symbols(bits)  # every symbol that can occur gets a code
    lengths = limited_lengths(freqs, max_code_len)
    assert len(lengths) == NUM_SYMBOLS
    return CodecTable(split=split, bits=bits, mode=mode, lengths=tuple(map(int, lengths)),
                      max_code_len=max_code_len, **kw)


def candidates(split, bits, f, hist, max_code_len, many):
    """Candidate tables of both modes: the MSE-optimal clip, and with ``many`` percentile clips."""
    nz = f[f > 0]
    clips = {Q.best_clip(hist, bits)}
    if many and len(nz):
        clips |= {int(min(255, max(1, np.percentile(nz, p)))) for p in CLIP_PERCENTILES}
    out = []
    for clip in sorted(clips):
        out.append(_table(split, bits, "uniform", Q.quantize_uniform(f, bits, clip), max_code_len,
                          clip=clip))
        thr, rec, _, _ = Q.design_ecsq_matching(hist, bits, Q.uniform_mse(hist, bits, clip), iters=20)
        out.append(_table(split, bits, "ecsq", Q.quantize_thresholds(f, thr), max_code_len, clip=255,
                          thresholds=tuple(map(int, thr)), recon=tuple(float(r) for r in rec)))
    return out


def build_tables(spec, features, max_code_len=16, validation=None, log=None):
    """Codec tables for every split, bits 1..8 and both modes from training ``features``.

    ``features[s - 1]`` is the uint8 feature batch after edge block ``s``; Huffman codes come from
    its symbol statistics. Without ``validation`` each table uses the MSE-optimal clip (uniform) and
    an ECSQ design of the same MSE. With ``validation = (val_features, accuracy)``, where
    ``accuracy(split, dequantized_features)`` is the host's top-1 on the validation frames, each
    (split, bits <= 4, mode) tries several clips (percentiles of the non-zero training features) and
    keeps the one with the fewest validation bits whose accuracy stays within 0.5% of the unquantized
    int8 features (the most accurate one if none does).
    """
    tables = []
    for split in spec.splits:
        f = features[split - 1]
        hist = np.bincount(f.reshape(-1), minlength=256).astype(np.float64)
        if validation:
            vf = validation[0][split - 1]
            base = validation[1](split, vf.astype(np.float32))
        for bits in range(1, 9):
            many = validation is not None and bits <= SELECT_MAX_BITS
            cands = candidates(split, bits, f, hist, max_code_len, many)
            for mode in MODES:
                mine = [t for t in cands if t.mode == mode]
                if len(mine) > 1:
                    scored = []
                    for t in mine:
                        q = t.quantize(vf, t.clip)
                        rate = float(frame_bits(q, t.code.lengths).mean())
                        acc = validation[1](split, t.levels(t.clip)[q].astype(np.float32))
                        scored.append((acc >= base - VAL_TOLERANCE, rate if acc >= base - VAL_TOLERANCE
                                       else -acc, t))
                    ok = [s for s in scored if s[0]]
                    best = min(ok or scored, key=lambda s: s[1])[2]
                else:
                    best = mine[0]
                tables.append(best)
            if log:
                log(f"tables: split {split}, {bits} bits: clip {tables[-2].clip}")
    return TableSet(tables, spec.name)
