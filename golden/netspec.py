"""Network specifications: the shapes of the split networks edgesplit knows.

A specification is plain data (no PyTorch), so that the configuration can be validated and the RTL
sized without importing a deep-learning framework. :mod:`golden.network` builds the float model from it.

The *edge* part is a list of blocks ``conv k x k (stride 1, zero padding) -> ReLU -> 2x2 max-pool``;
every block boundary is a candidate split point, numbered from 1. The *host* part finishes inference in
float.
"""

from dataclasses import dataclass

from .errors import ConfigError


@dataclass(frozen=True)
class ConvBlock:
    """``conv(cin -> cout, k x k, pad) -> ReLU -> max-pool(pool)``; pool 1 means no pooling."""

    cin: int
    cout: int
    k: int = 3
    pad: int = 1
    pool: int = 2

    @property
    def taps(self):
        """Reduction length K of the block's matrix product (im2col columns)."""
        return self.cin * self.k * self.k


@dataclass(frozen=True)
class NetSpec:
    """A split network: input shape, edge blocks (split candidates after each), host blocks, classes."""

    name: str
    in_shape: tuple  # (C, H, W) of the uint8 camera frame
    edge: tuple  # ConvBlock, ...
    host: tuple  # ConvBlock, ... run on the host after the edge blocks
    classes: int

    @property
    def splits(self):
        """Candidate split points: 1 .. len(edge) (after edge block k)."""
        return tuple(range(1, len(self.edge) + 1))

    def shape_after(self, block):
        """(C, H, W) of the tensor after ``block`` edge blocks (0 = the input frame)."""
        c, h, w = self.in_shape
        for b in self.edge[:block]:
            h = (h + 2 * b.pad - b.k + 1) // b.pool
            w = (w + 2 * b.pad - b.k + 1) // b.pool
            c = b.cout
        return (c, h, w)

    def macs(self, block):
        """Multiply-accumulates of edge block ``block`` (1-based) for one frame."""
        b = self.edge[block - 1]
        _, h, w = self.shape_after(block - 1)
        oh, ow = h + 2 * b.pad - b.k + 1, w + 2 * b.pad - b.k + 1
        return oh * ow * b.cout * b.taps

    def weight_bytes(self, split):
        """int8 weight bytes (plus int32 biases) of the edge blocks up to ``split``."""
        return sum(b.cout * b.taps + 4 * b.cout for b in self.edge[:split])

    def activation_bytes(self, split):
        """Bytes of the two largest uint8 activation buffers (ping-pong) up to ``split``."""
        sizes = sorted((_prod(self.shape_after(i)) for i in range(split + 1)), reverse=True)
        return sum(sizes[:2])


def _prod(shape):
    n = 1
    for s in shape:
        n *= s
    return n


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


def get_netspec(name):
    """The :class:`NetSpec` called ``name``; :class:`ConfigError` if there is none."""
    try:
        return NETWORKS[name]
    except KeyError:
        raise ConfigError(
            f"unknown network {name!r}; known networks: {', '.join(sorted(NETWORKS))}"
        ) from None
