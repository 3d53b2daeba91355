"""The one configuration object of edgesplit.

A :class:`Config` is created once (by the CLI or a test), validated in ``__post_init__``, and handed
unchanged to golden, rtl, sim and fpga. Variants are copies with a few fields changed
(:meth:`Config.replace`). It round-trips through JSON.
"""

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ConfigError
from .netspec import get_netspec, is_network_file, read_text

BOARDS = ("icebreaker", "ulx3s-85f", "orangecrab-25f")
TARGET_MHZ = {"icebreaker": 36, "ulx3s-85f": 100, "orangecrab-25f": 100}
"""The core clock each board's bitstream aims for (iCE40UP5K, ECP5); a target, not a measured Fmax."""
CLOCK_MHZ = {"icebreaker": 24, "ulx3s-85f": 100, "orangecrab-25f": 60}
"""The core clock each board's PLL makes by default: one the whole SoC closes timing at
(docs/RESULTS.md: Fmax 107.4 MHz on the ULX3S at 100; 143.3 on the OrangeCrab at 60; 25.5 / 26.2
/ 27.1 on the iCEBreaker's UP5K at 24, seeds 1 / 2 / 3, where the 36 MHz of :data:`TARGET_MHZ` is
not met yet). 3 Mbaud divides 24 and 60 MHz exactly (8 and 20 cycles a bit); at 100 MHz a bit is
33 cycles, 3,030,303 baud, 1.0% fast, well inside a UART's tolerance (a 10-bit character drifts a
tenth of a bit). ``clock_mhz`` in a configuration asks the PLL for another."""
QUANTIZERS = ("uniform", "ecsq")
BOTTLENECKS = (None, "shared", "per-split")
"""``bottleneck``: ``None`` codes the split tensor itself; ``"shared"`` runs the learned encoder
shared across the splits (:mod:`golden.bottleneck_int`) on the device's array first and codes its
output; ``"per-split"`` runs the baseline, one autoencoder trained per split, the same way."""
SERIAL_BOARDS = ("icebreaker",)
"""Boards whose device codes its features a bit a cycle (:class:`rtl.codec.Codec`'s ``serial``):
the same frames from a fraction of the logic, where the link, not the codec, sets the frame rate
(the iCE40UP5K: 3 Mbaud is a bit every 8 cycles at 24 MHz). The ECP5 boards code an element a
cycle."""


@dataclass(frozen=True)
class Config:
    """Every knob of one edgesplit system.

    Parameters
    ----------
    network : str
        Name of the split network (:data:`golden.netspec.NETWORKS`) or the path of a network file
        (``*.json``, docs/NETWORK.md).
    split : int
        Candidate split point: the edge device runs edge blocks ``1 .. split``.
    bits : int
        Bits per quantized feature element, 1 to 8.
    clip : int or None
        Uniform quantizer clip value on the uint8 split features, 1 to 255. ``None`` takes the value
        calibrated on training frames for ``(split, bits)`` (stored with the model's codec tables).
    quantizer : str
        ``"uniform"`` (clip, n-bit uniform, integer rounding) or ``"ecsq"`` (entropy-constrained
        thresholds designed from training statistics).
    max_code_len : int
        Longest Huffman code, 8 to 16 bits.
    rows, cols : int
        Systolic array shape: ``rows`` taps (K-tile) by ``cols`` output channels (N-tile).
    acc_depth : int
        Output pixels per accumulation chunk (depth of the accumulator buffer).
    act_mem_bytes, weight_mem_bytes : int
        On-chip activation (ping-pong, both tensors) and weight memory sizes.
    act_bits, weight_bits : int
        Activation (unsigned) and weight (signed) widths.
    acc_bits : int or None
        Accumulator (signed) width; ``None``: the board's (:attr:`acc_width`: 32 on the ECP5 boards,
        the network's :meth:`min_acc_bits` on the iCE40UP5K, where every accumulator bit costs
        logic cells in the array, the pool and the requantizer).
    board : str
        Target board name.
    baud : int
        UART link rate in baud.
    clock_mhz : float or None
        Core clock the board's PLL makes, in MHz. ``None`` takes the board's :data:`CLOCK_MHZ`.
    seed : int
        Seed of the embedded data set's composition.
    train_frames, test_frames : int
        Sizes of the embedded data set's splits.
    weights : str or None
        Path of a model bundle (``.npz``) to use instead of the shipped one.
    random_weights : int or None
        Seed of random weights (:mod:`golden.randomnet`) instead of a bundle: any network checked
        bit-exact without training, on seeded random frames of its input shape.
    data : str or None
        The data set frames come from (training, calibration, tables, evaluation, test frames):
        ``"digits64"``, ``"digits-rgb"`` (embedded, built from scikit-learn's digits),
        ``"mnist:DIR"``, ``"cifar10:DIR"`` or ``"folder:DIR"`` (:mod:`golden.datasets`). ``None``
        takes the network's own (its file's ``data`` key; ``digits64`` by default).
    bottleneck : str or None
        ``None``: the codec codes the split tensor. ``"shared"``: the device runs the shipped learned
        encoder (a per-split 1x1 adapter and a strided 3x3 layer shared by every split) after the
        split as two more int8 layers, and the codec codes its output, the code (uniform quantizer,
        clip 255).
    code_channels : int or None
        With a bottleneck: how many of the code's channels frames carry (the encoder's first ones);
        ``None`` takes the shipped model's default.
    """

    network: str = "digits64"
    split: int = 3
    bits: int = 3
    clip: int | None = None
    quantizer: str = "uniform"
    max_code_len: int = 16
    rows: int = 4
    cols: int = 4
    acc_depth: int = 256
    act_mem_bytes: int = 65536
    weight_mem_bytes: int = 8192
    act_bits: int = 8
    weight_bits: int = 8
    acc_bits: int | None = None
    board: str = "icebreaker"
    baud: int = 3_000_000
    clock_mhz: float | None = None
    seed: int = 0
    train_frames: int = 12000
    test_frames: int = 2400
    weights: str | None = field(default=None)
    random_weights: int | None = None
    data: str | None = None
    bottleneck: str | None = None
    code_channels: int | None = None

    def __post_init__(self):
        for name in ("split", "bits", "max_code_len", "rows", "cols", "act_bits", "weight_bits",
                     "baud", "seed", "train_frames", "test_frames", "acc_depth",
                     "act_mem_bytes", "weight_mem_bytes"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise ConfigError(f"{name} must be an integer, not {value!r}")
        if is_network_file(self.network):  # one file wherever the configuration travels
            object.__setattr__(self, "network", str(Path(self.network).resolve()))
        spec = get_netspec(self.network)
        if self.split not in spec.splits:
            raise ConfigError(
                f"split must be one of {list(spec.splits)} for network {self.network!r}, "
                f"not {self.split!r}")
        if not 1 <= self.bits <= 8:
            raise ConfigError(f"bits must be between 1 and 8, not {self.bits!r}")
        if self.clip is not None and (
                not isinstance(self.clip, int) or isinstance(self.clip, bool)
                or not 1 <= self.clip <= 255):
            raise ConfigError(f"clip must be an integer between 1 and 255 (or null), not {self.clip!r}")
        if self.quantizer not in QUANTIZERS:
            raise ConfigError(f"quantizer must be one of {list(QUANTIZERS)}, not {self.quantizer!r}")
        if not 8 <= self.max_code_len <= 16:
            raise ConfigError(f"max_code_len must be between 8 and 16, not {self.max_code_len!r}")
        for name in ("rows", "cols"):
            if not 1 <= getattr(self, name) <= 64:
                raise ConfigError(f"{name} must be between 1 and 64, not {getattr(self, name)!r}")
        if self.board in SERIAL_BOARDS and self.rows & (self.rows - 1):
            raise ConfigError(f"the {self.board}'s engine (the DotEngine, docs/ARCHITECTURE.md) needs a "
                              f"power-of-two number of rows (1, 2, 4, 8...), not {self.rows}: a weight row's "
                              f"word and lane are bits of its index")
        if not 4 <= self.acc_depth <= 65536:
            raise ConfigError(f"acc_depth must be between 4 and 65536, not {self.acc_depth!r}")
        for name in ("act_mem_bytes", "weight_mem_bytes"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be positive, not {getattr(self, name)!r}")
        if self.act_bits != 8 or self.weight_bits != 8:
            raise ConfigError("act_bits and weight_bits must be 8 (the golden model is uint8 x int8)")
        need = self.min_acc_bits()
        if self.acc_bits is not None and (not isinstance(self.acc_bits, int) or isinstance(self.acc_bits, bool)
                                          or not need <= self.acc_bits <= 48):
            raise ConfigError(
                f"acc_bits must be between {need} and 48 for network {self.network!r}: the largest "
                f"layer sums {max(b.taps for b in spec.edge)} products of uint8 x int8 plus an int32 "
                f"bias, not {self.acc_bits!r}")
        if self.board not in BOARDS:
            raise ConfigError(f"board must be one of {list(BOARDS)}, not {self.board!r}")
        if not 9600 <= self.baud <= 12_000_000:
            raise ConfigError(f"baud must be between 9600 and 12000000, not {self.baud!r}")
        if self.clock_mhz is not None and (
                not isinstance(self.clock_mhz, (int, float)) or isinstance(self.clock_mhz, bool)
                or not 4 <= self.clock_mhz <= 400):
            raise ConfigError(f"clock_mhz must be a number of MHz between 4 and 400 (or null), "
                              f"not {self.clock_mhz!r}")
        if self.train_frames < 100 or self.test_frames < 100:
            raise ConfigError("train_frames and test_frames must be at least 100")
        if self.random_weights is not None and (
                not isinstance(self.random_weights, int) or isinstance(self.random_weights, bool)
                or self.random_weights < 0):
            raise ConfigError(f"random_weights must be a non-negative integer seed (or null), "
                              f"not {self.random_weights!r}")
        if self.weights is not None and self.random_weights is not None:
            raise ConfigError("weights and random_weights exclude each other: a bundle or random weights")
        if self.weights is not None and not isinstance(self.weights, str):
            raise ConfigError(f"weights must be a path string or null, not {self.weights!r}")
        if self.data is not None:
            from .sources import check_source

            check_source(self.data)
        self._check_bottleneck()

    def _check_bottleneck(self):
        if self.bottleneck not in BOTTLENECKS:
            raise ConfigError(f"bottleneck must be null, \"shared\" or \"per-split\", not {self.bottleneck!r}")
        if self.code_channels is not None and (
                not isinstance(self.code_channels, int) or isinstance(self.code_channels, bool)
                or not 1 <= self.code_channels <= 255):
            raise ConfigError(f"code_channels must be a positive integer (or null), not {self.code_channels!r}")
        if self.bottleneck is None:
            if self.code_channels is not None:
                raise ConfigError("code_channels needs a bottleneck: pass --bottleneck shared or leave it unset")
            return
        if self.quantizer != "uniform" or self.clip not in (None, 255):
            raise ConfigError("the bottleneck's code is quantized uniformly with clip 255 (the encoder's "
                              "last layer sets the scale): leave quantizer and clip unset")
        if self.random_weights is not None:
            raise ConfigError("random weights have no trained bottleneck: leave random_weights unset "
                              "or bottleneck null")

    # derived values -------------------------------------------------------------------------------
    @property
    def core_mhz(self):
        """The core clock the PLL is asked for: :attr:`clock_mhz` or the board's default."""
        return self.clock_mhz if self.clock_mhz is not None else CLOCK_MHZ[self.board]

    @property
    def data_source(self):
        """The data set of this configuration: :attr:`data`, else the one its model bundle was
        trained on (its ``data``), else the network's (its file's ``data`` key, ``digits64``)."""
        if self.data is not None:
            return self.data
        if self.random_weights is None:
            from .network import bundle_path, load_bundle

            if bundle_path(self).exists():
                trained_on = load_bundle(self).meta.get("data")
                if trained_on:
                    return trained_on
        return self.spec.data

    @property
    def device_blocks(self):
        """Layers the device runs a frame: the edge blocks up to the split, and the bottleneck's
        adapter and encoder when there is one."""
        return self.split + (2 if self.bottleneck else 0)

    @property
    def serial(self):
        """Whether the device of :attr:`board` codes a bit a cycle (:data:`SERIAL_BOARDS`)."""
        return self.board in SERIAL_BOARDS

    @property
    def spec(self):
        """The :class:`golden.netspec.NetSpec` of :attr:`network`."""
        return get_netspec(self.network)

    @property
    def levels(self):
        """Number of quantization levels, ``2 ** bits``."""
        return 1 << self.bits

    @property
    def feature_shape(self):
        """(C, H, W) of the feature tensor at the split."""
        return self.spec.shape_after(self.split)

    @property
    def acc_width(self):
        """The accumulator width the device and the golden checks use: ``acc_bits``, or the board's
        default (32 on the ECP5 boards, :meth:`min_acc_bits` on the serial boards)."""
        if self.acc_bits is not None:
            return self.acc_bits
        return self.min_acc_bits() if self.serial else 32

    def min_acc_bits(self):
        """Smallest signed accumulator width that can never overflow on this network.

        The bias is an int32 but calibrated biases stay far below that; the bound uses the worst
        case of the products alone plus a 24-bit bias allowance, and the golden model checks the real
        biases against ``acc_bits`` when it quantizes.
        """
        taps = max(b.taps for b in self.spec.edge)
        worst = taps * 255 * 128 + (1 << 23)
        return worst.bit_length() + 1

    # JSON -----------------------------------------------------------------------------------------
    def to_dict(self):
        return dataclasses.asdict(self)

    def to_json(self):
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data):
        if not isinstance(data, dict):
            raise ConfigError(f"a configuration must be a JSON object, not {type(data).__name__}")
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ConfigError(
                f"unknown configuration key(s) {', '.join(map(repr, unknown))}; "
                f"known keys: {', '.join(sorted(names))}")
        return cls(**data)

    @classmethod
    def from_json(cls, text):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"configuration is not valid JSON: {exc}") from None
        return cls.from_dict(data)

    @classmethod
    def from_file(cls, path):
        text = read_text(path, "configuration file")
        try:
            return cls.from_json(text)
        except ConfigError as exc:
            raise ConfigError(f"{path}: {exc}") from None

    def replace(self, **changes):
        """A copy with ``changes`` applied and validated; ``None`` values are ignored."""
        changes = {k: v for k, v in changes.items() if v is not None}
        names = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - names)
        if unknown:
            raise ConfigError(f"unknown configuration key(s) {', '.join(map(repr, unknown))}")
        return dataclasses.replace(self, **changes)
