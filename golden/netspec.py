"""Network specifications: the shapes of the split networks edgesplit knows.

A specification is plain data (no PyTorch), so that the configuration can be validated and the RTL
sized without importing a deep-learning framework. :mod:`golden.network` builds the float model from it.

The *edge* part is a list of blocks ``conv k x k (stride s, zero padding) -> ReLU -> p x p max-pool``
(pool 1: none); every block boundary is a candidate split point, numbered from 1. The *host* part
finishes inference in float.

A network comes from :data:`NETWORKS` by name (the embedded ``digits64``) or from a JSON file
(docs/NETWORK.md): :func:`get_netspec` takes either.
"""

import json
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigError

KERNELS = (1, 3, 5, 7)
STRIDES = (1, 2)
POOLS = (1, 2, 3)
MAX_SIDE = 255


def conv_out(n, k, pad, stride):
    """Output side of a convolution over ``n`` pixels."""
    return (n + 2 * pad - k) // stride + 1


@dataclass(frozen=True)
class ConvBlock:
    """``conv(cin -> cout, k x k, stride, pad) -> ReLU -> max-pool(pool)``; pool 1 means no pooling."""

    cin: int
    cout: int
    k: int = 3
    pad: int = 1
    pool: int = 2
    stride: int = 1

    @property
    def taps(self):
        """Reduction length K of the block's matrix product (im2col columns)."""
        return self.cin * self.k * self.k

    def conv_shape(self, h, w):
        """(OH, OW) of the convolution on an ``h x w`` input, before pooling."""
        return conv_out(h, self.k, self.pad, self.stride), conv_out(w, self.k, self.pad, self.stride)

    def out_shape(self, h, w):
        """(H, W) after the block: the convolution, then whole pool windows (odd edges dropped)."""
        oh, ow = self.conv_shape(h, w)
        return oh // self.pool, ow // self.pool


@dataclass(frozen=True)
class NetSpec:
    """A split network: input shape, edge blocks (split candidates after each), host blocks, classes."""

    name: str
    in_shape: tuple  # (C, H, W) of the uint8 camera frame
    edge: tuple  # ConvBlock, ...
    host: tuple  # ConvBlock, ... run on the host after the edge blocks
    classes: int
    data: str = "digits64"  # the data set it is trained and evaluated on unless the configuration says

    @property
    def splits(self):
        """Candidate split points: 1 .. len(edge) (after edge block k)."""
        return tuple(range(1, len(self.edge) + 1))

    def shape_after(self, block):
        """(C, H, W) of the tensor after ``block`` edge blocks (0 = the input frame)."""
        c, h, w = self.in_shape
        for b in self.edge[:block]:
            c, (h, w) = b.cout, b.out_shape(h, w)
        return (c, h, w)

    def macs(self, block):
        """Multiply-accumulates of edge block ``block`` (1-based) for one frame."""
        b = self.edge[block - 1]
        _, h, w = self.shape_after(block - 1)
        oh, ow = b.conv_shape(h, w)
        return oh * ow * b.cout * b.taps

    def weight_bytes(self, split):
        """int8 weight bytes (plus int32 biases) of the edge blocks up to ``split``."""
        return sum(b.cout * b.taps + 4 * b.cout for b in self.edge[:split])

    def activation_bytes(self, split):
        """Bytes of the two largest uint8 activation buffers (ping-pong) up to ``split``."""
        sizes = sorted((_prod(self.shape_after(i)) for i in range(split + 1)), reverse=True)
        return sum(sizes[:2])

    def to_dict(self):
        """The network file's JSON object (docs/NETWORK.md); ``cin`` follows from the layers."""
        def blocks(bs):
            return [{"cout": b.cout, "k": b.k, "stride": b.stride, "pad": b.pad, "pool": b.pool} for b in bs]
        return {"name": self.name, "in_shape": list(self.in_shape), "classes": self.classes,
                "edge": blocks(self.edge), "host": blocks(self.host), "data": self.data}


def _prod(shape):
    n = 1
    for s in shape:
        n *= s
    return n


def _int(value, what, lo, hi):
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise ConfigError(f"{what} must be an integer between {lo} and {hi}, not {value!r}")
    return value


LAYER_KEYS = ("cout", "k", "stride", "pad", "pool")


def from_dict(data, source="network"):
    """The checked :class:`NetSpec` of a network file's JSON object (docs/NETWORK.md).

    :class:`ConfigError` names the layer and the limit of anything the golden model cannot run:
    an unknown key, a kernel other than 1, 3, 5 or 7, a stride other than 1 or 2, padding of ``k``
    or more, a pool other than 1, 2 or 3, or a tensor that shrinks to nothing.
    """
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: a network is a JSON object, not {type(data).__name__}")
    known = {"name", "in_shape", "classes", "edge", "host", "data"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"{source}: unknown key(s) {', '.join(map(repr, unknown))}; "
                          f"known keys: {', '.join(sorted(known))}")
    missing = sorted(k for k in ("name", "in_shape", "classes", "edge") if k not in data)
    if missing:
        raise ConfigError(f"{source}: missing key(s) {', '.join(map(repr, missing))}")
    name = data["name"]
    if not isinstance(name, str) or not name.replace("_", "").replace("-", "").isalnum():
        raise ConfigError(f"{source}: name must be a word of letters, digits, '-' and '_', not {name!r}")
    shape = data["in_shape"]
    if not isinstance(shape, list) or len(shape) != 3:
        raise ConfigError(f"{source}: in_shape must be [C, H, W], not {shape!r}")
    c = _int(shape[0], f"{source}: in_shape's channels", 1, 3)
    h = _int(shape[1], f"{source}: in_shape's height", 1, MAX_SIDE)
    w = _int(shape[2], f"{source}: in_shape's width", 1, MAX_SIDE)
    classes = _int(data["classes"], f"{source}: classes", 2, 1000)
    parts = {}
    for part in ("edge", "host"):
        layers = data.get(part, [])
        if not isinstance(layers, list) or (part == "edge" and not layers):
            raise ConfigError(f"{source}: {part} must be a list of layers{' (one or more)' if part == 'edge' else ''}")
        blocks = []
        for i, lay in enumerate(layers):
            where = f"{source}: {part} layer {i + 1}"
            if not isinstance(lay, dict):
                raise ConfigError(f"{where} must be an object, not {lay!r}")
            bad = sorted(set(lay) - set(LAYER_KEYS))
            if bad:
                raise ConfigError(f"{where}: unknown key(s) {', '.join(map(repr, bad))}; "
                                  f"known keys: {', '.join(LAYER_KEYS)}")
            if "cout" not in lay:
                raise ConfigError(f"{where}: 'cout' is missing")
            cout = _int(lay["cout"], f"{where}: cout", 1, 255)
            k = lay.get("k", 3)
            if k not in KERNELS or isinstance(k, bool):
                raise ConfigError(f"{where}: k must be one of {list(KERNELS)}, not {k!r}")
            stride = lay.get("stride", 1)
            if stride not in STRIDES or isinstance(stride, bool):
                raise ConfigError(f"{where}: stride must be one of {list(STRIDES)}, not {stride!r}")
            pad = _int(lay.get("pad", k // 2), f"{where}: pad", 0, k - 1)
            pool = lay.get("pool", 1)
            if pool not in POOLS or isinstance(pool, bool):
                raise ConfigError(f"{where}: pool must be one of {list(POOLS)}, not {pool!r}")
            b = ConvBlock(cin=c, cout=cout, k=k, pad=pad, pool=pool, stride=stride)
            oh, ow = b.conv_shape(h, w)
            if min(oh, ow) < pool:
                raise ConfigError(f"{where}: a {h}x{w} input gives a {oh}x{ow} output, too small for "
                                  f"{k}x{k} stride {stride} pad {pad} and pool {pool}")
            c, (h, w) = cout, b.out_shape(h, w)
            blocks.append(b)
        parts[part] = tuple(blocks)
    data_source = data.get("data", "digits64")
    if not isinstance(data_source, str) or not data_source:
        raise ConfigError(f"{source}: data must be a data source string (docs/NETWORK.md), not {data_source!r}")
    return NetSpec(name=name, in_shape=(shape[0], shape[1], shape[2]), edge=parts["edge"],
                   host=parts["host"], classes=classes, data=data_source)


def read_text(path, what):
    """The text of the ``what`` file ``path``; :class:`ConfigError` saying why it cannot be read."""
    try:
        return Path(path).read_text()
    except FileNotFoundError:
        raise ConfigError(f"{what} {str(path)!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {what} {str(path)!r}: {exc}") from None


def load_network(path):
    """The :class:`NetSpec` of a network file; :class:`ConfigError` for a missing or bad file."""
    text = read_text(path, "network file")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"network file {str(path)!r} is not valid JSON: {exc}") from None
    return from_dict(data, source=str(path))


# The embedded default: 64x64 camera-like frames of handwritten digits. Channel counts are multiples
# of 8 so that 4x4 and 8x8 weight-stationary arrays tile every layer but the first without padding.
DIGITS64 = NetSpec(
    name="digits64",
    in_shape=(1, 64, 64),
    edge=(ConvBlock(1, 8), ConvBlock(8, 16), ConvBlock(16, 32)),
    host=(ConvBlock(32, 64),),
    classes=10,
)

NETWORKS = {DIGITS64.name: DIGITS64}

_FILES = {}


def is_network_file(name):
    """Whether ``name`` names a network file (a ``.json`` path) rather than a built-in network."""
    return isinstance(name, str) and name.lower().endswith(".json")


def get_netspec(name):
    """The :class:`NetSpec` called ``name``, or read from the network file ``name`` (``*.json``);
    :class:`ConfigError` if there is none."""
    if is_network_file(name):
        key = str(Path(name).resolve())
        try:
            stamp = Path(key).stat().st_mtime_ns
        except OSError:
            stamp = None
        if _FILES.get(key, (None,))[0] != stamp or stamp is None:
            _FILES[key] = (stamp, load_network(name))
        return _FILES[key][1]
    try:
        return NETWORKS[name]
    except (KeyError, TypeError):
        raise ConfigError(
            f"unknown network {name!r}; known networks: {', '.join(sorted(NETWORKS))}, "
            f"or a network file ending in .json (docs/NETWORK.md)"
        ) from None
