"""Data sets: the embedded default and loaders for users' own data.

The embedded default is built from a real data set that a package ships: scikit-learn's 1,797
handwritten digits (8x8, 0..16). Each digit is scaled 3-5x, placed at random in a 64x64 frame over an
uneven background, with sensor noise and clutter cut from other digits of the same split. The digits
are split once (stratified, fixed seed) into train and test digits; train frames are composed only from
train digits and test frames only from test digits, so no test digit is ever seen in training.

Loaders read real MNIST (IDX files, optionally gzipped), CIFAR-10 (python pickle batches) and image
folders (one sub-folder per class) into the same :class:`Dataset`.
"""

import gzip
import io
import pickle
import struct
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .errors import DataError

FRAME = 64
TEST_FRACTION = 1 / 3
_SPLIT_SEED = 20260


@dataclass(frozen=True)
class Dataset:
    """Images ``(N, C, H, W)`` uint8 and labels ``(N,)`` int64."""

    images: np.ndarray
    labels: np.ndarray
    name: str = ""

    def __post_init__(self):
        if self.images.ndim != 4 or self.images.dtype != np.uint8:
            raise DataError(f"{self.name}: images must be (N, C, H, W) uint8, "
                            f"not {self.images.shape} {self.images.dtype}")
        if self.labels.shape != (self.images.shape[0],):
            raise DataError(f"{self.name}: {self.images.shape[0]} images but "
                            f"{self.labels.shape[0]} labels")

    def __len__(self):
        return self.images.shape[0]


# -- embedded default ------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _digit_split():
    from sklearn.datasets import load_digits

    d = load_digits()
    images = d.images.astype(np.float32) / 16.0
    labels = d.target.astype(np.int64)
    rng = np.random.default_rng(_SPLIT_SEED)
    test = np.zeros(len(labels), bool)
    for c in range(10):
        idx = np.flatnonzero(labels == c)
        rng.shuffle(idx)
        test[idx[: int(round(len(idx) * TEST_FRACTION))]] = True
    return (images[~test], labels[~test]), (images[test], labels[test])


def _resize(img, size):
    from PIL import Image

    return np.asarray(Image.fromarray(img, mode="F").resize((size, size), Image.BILINEAR))


def _plan(n_digits, count, seed, channels, side):
    """The generator, the output arrays, the order digits are drawn in (every digit once before any
    twice) and the ``(y, x)`` ramps 0..1 of a ``side``-pixel frame."""
    rng = np.random.default_rng(seed)
    order = np.concatenate([rng.permutation(n_digits) for _ in range(count // n_digits + 1)])
    ramps = np.mgrid[0:side, 0:side].astype(np.float32) / (side - 1)
    return (rng, np.empty((count, channels, side, side), np.uint8), np.empty(count, np.int64), order, ramps)


def compose_frames(digits, labels, count, seed):
    """Compose ``count`` 64x64 uint8 frames from 8x8 ``digits`` (floats in 0..1).

    Each frame holds one main digit (its label) scaled 3-5x at a random place, up to three clutter
    fragments cut from other digits (smaller, dimmer, possibly cut by the frame edge), an uneven
    background and Gaussian sensor noise. Deterministic for a given ``seed``.
    """
    rng, out, out_labels, order, (yy, xx) = _plan(len(digits), count, seed, 1, FRAME)
    for i in range(count):
        j = order[i]
        frame = (rng.uniform(0, 35) + rng.uniform(-15, 15) * xx + rng.uniform(-15, 15) * yy)
        frame = np.maximum(frame, 0).astype(np.float32)
        for _ in range(rng.integers(0, 4)):  # clutter: fragments of other digits
            other = digits[rng.integers(len(digits))]
            size = int(rng.integers(16, 29))
            frag = _resize(other, size) * rng.uniform(50, 120)
            h, w = int(rng.integers(size // 3, size // 2 + 1)), int(rng.integers(size // 3, size // 2 + 1))
            fy, fx = int(rng.integers(0, size - h + 1)), int(rng.integers(0, size - w + 1))
            frag = frag[fy:fy + h, fx:fx + w]
            y0, x0 = int(rng.integers(-h // 2, FRAME - h // 2)), int(rng.integers(-w // 2, FRAME - w // 2))
            _paste_max(frame, frag, y0, x0)
        size = int(round(8 * rng.uniform(3.0, 5.0)))
        main = _resize(digits[j], size) * rng.uniform(170, 255)
        y0, x0 = int(rng.integers(0, FRAME - size + 1)), int(rng.integers(0, FRAME - size + 1))
        _paste_max(frame, main, y0, x0)
        frame += rng.normal(0, rng.uniform(2, 7), frame.shape).astype(np.float32)
        out[i, 0] = np.clip(np.rint(frame), 0, 255).astype(np.uint8)
        out_labels[i] = labels[j]
    return out, out_labels


def _paste_max(frame, patch, y0, x0):
    h, w = patch.shape
    ys, xs = max(0, -y0), max(0, -x0)
    ye, xe = min(h, FRAME - y0), min(w, FRAME - x0)
    if ye <= ys or xe <= xs:
        return
    region = frame[y0 + ys:y0 + ye, x0 + xs:x0 + xe]
    np.maximum(region, patch[ys:ye, xs:xe], out=region)


VAL_FRAMES = 1000
RGB = 32


def compose_rgb_frames(digits, labels, count, seed):
    """Compose ``count`` 3x32x32 uint8 colour frames from 8x8 ``digits`` (floats in 0..1): a digit
    (its label) scaled 2.5-3.5x in a random bright colour at a random place, over a background of two
    random colour gradients, with up to three fragments of other digits in other colours as clutter
    and sensor noise per channel. Deterministic for a given ``seed``."""
    rng, out, out_labels, order, (yy, xx) = _plan(len(digits), count, seed, 3, RGB)
    for i in range(count):
        j = order[i]
        frame = (rng.uniform(0, 70, (3, 1, 1)) + rng.uniform(-30, 30, (3, 1, 1)) * xx
                 + rng.uniform(-30, 30, (3, 1, 1)) * yy).astype(np.float32)
        for _ in range(rng.integers(0, 4)):
            frag = _resize(digits[rng.integers(len(digits))], int(rng.integers(10, 18)))
            h, w = frag.shape[0] // 2, frag.shape[1] // 2
            fy, fx = int(rng.integers(0, h + 1)), int(rng.integers(0, w + 1))
            _paste_rgb(frame, frag[fy:fy + h, fx:fx + w], rng.uniform(40, 140, 3), rng, h, w)
        size = int(round(8 * rng.uniform(2.5, 3.5)))
        colour = rng.uniform(60, 255, 3)
        colour[rng.integers(3)] = 255  # bright in at least one channel
        _paste_rgb(frame, _resize(digits[j], size), colour, rng, size, size, inside=True)
        frame += rng.normal(0, rng.uniform(2, 6), frame.shape).astype(np.float32)
        out[i] = np.clip(np.rint(frame), 0, 255).astype(np.uint8)
        out_labels[i] = labels[j]
    return out, out_labels


def _paste_rgb(frame, patch, colour, rng, h, w, inside=False):
    """Paste ``patch`` (0..1) in ``colour`` at a random place (whole when ``inside``), by maximum."""
    if inside:
        y0, x0 = int(rng.integers(0, RGB - h + 1)), int(rng.integers(0, RGB - w + 1))
    else:
        y0, x0 = int(rng.integers(-h // 2, RGB - h // 2)), int(rng.integers(-w // 2, RGB - w // 2))
    ys, xs, ye, xe = max(0, -y0), max(0, -x0), min(h, RGB - y0), min(w, RGB - x0)
    if ye <= ys or xe <= xs:
        return
    region = frame[:, y0 + ys:y0 + ye, x0 + xs:x0 + xe]
    np.maximum(region, patch[None, ys:ye, xs:xe] * colour[:, None, None], out=region)


@lru_cache(maxsize=4)
def _embedded_rgb(part, count, seed):
    (tr_x, tr_y), (te_x, te_y) = _digit_split()
    x, y = (te_x, te_y) if part == "test" else (tr_x, tr_y)
    images, labels = compose_rgb_frames(x, y, count, seed * 3 + {"train": 11, "val": 13, "test": 12}[part])
    images.setflags(write=False)
    labels.setflags(write=False)
    return Dataset(images, labels, f"digits-rgb-{part}")


@lru_cache(maxsize=4)
def _embedded(part, count, seed):
    (tr_x, tr_y), (te_x, te_y) = _digit_split()
    if part == "train":
        images, labels = compose_frames(tr_x, tr_y, count, seed * 3 + 1)
    elif part == "val":
        images, labels = compose_frames(tr_x, tr_y, count, seed * 3 + 3)
    else:
        images, labels = compose_frames(te_x, te_y, count, seed * 3 + 2)
    images.setflags(write=False)
    labels.setflags(write=False)
    return Dataset(images, labels, f"digits64-{part}")


def embedded(cfg, part):
    """The frames of ``cfg``'s data source (:mod:`golden.sources`); ``part`` is ``"train"``,
    ``"val"`` or ``"test"``. :class:`DataError` when they do not fit the network.

    Embedded ``val`` frames are new compositions of *train* digits (another seed): they choose codec
    operating points without ever looking at test digits.
    """
    from . import sources

    if part not in ("train", "val", "test"):
        raise ValueError(f"part must be 'train', 'val' or 'test', not {part!r}")
    count = {"train": cfg.train_frames, "val": VAL_FRAMES, "test": cfg.test_frames}[part]
    source, spec = cfg.data_source, cfg.spec
    if source in sources.EMBEDDED:
        if sources.EMBEDDED[source] != tuple(spec.in_shape):
            raise DataError(f"data set {source} has {'x'.join(map(str, sources.EMBEDDED[source]))} frames, network "
                            f"{spec.name!r} takes {'x'.join(map(str, spec.in_shape))}: choose --data to match")
        data = (_embedded if source == "digits64" else _embedded_rgb)(part, count, cfg.seed)
    else:
        data = sources.external(source, part, tuple(spec.in_shape), count)
    if data.labels.max(initial=0) >= spec.classes:
        raise DataError(f"data set {source} has labels up to {int(data.labels.max())}, network {spec.name!r} has "
                        f"{spec.classes} classes")
    return data


def test_frames(cfg, count):
    """``count`` test frames ``(N, C, H, W)`` of ``cfg``'s network and their labels (None for
    random frames): the embedded test set, or seeded random frames of the network's input shape
    with ``random_weights`` (:func:`golden.randomnet.frames`)."""
    if cfg.random_weights is not None:
        from . import randomnet

        return randomnet.frames(cfg.spec, count, cfg.random_weights), None
    test = embedded(cfg, "test")
    return test.images[:count], test.labels[:count]


def embedded_digit_counts():
    """Numbers of distinct train and test digits behind the embedded data set."""
    (tr_x, _), (te_x, _) = _digit_split()
    return len(tr_x), len(te_x)


# -- MNIST IDX -------------------------------------------------------------------------------------
def _read_bytes(path):
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read {str(path)!r}: {exc.strerror or exc}") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise DataError(f"{path}: corrupt gzip data ({exc})") from None
    return raw


def read_idx(path):
    """Read an IDX file (the MNIST format): unsigned-byte data of any rank."""
    raw = _read_bytes(path)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise DataError(f"{path}: not an IDX file (bad magic)")
    if raw[2] != 0x08:
        raise DataError(f"{path}: IDX type 0x{raw[2]:02x} is not supported (only unsigned bytes, 0x08)")
    ndim = raw[3]
    if ndim == 0 or len(raw) < 4 + 4 * ndim:
        raise DataError(f"{path}: truncated IDX header")
    dims = struct.unpack(f">{ndim}I", raw[4:4 + 4 * ndim])
    count = int(np.prod(dims, dtype=np.int64))
    body = raw[4 + 4 * ndim:]
    if len(body) != count:
        raise DataError(f"{path}: IDX header promises {count} bytes of data, file has {len(body)}")
    return np.frombuffer(body, np.uint8).reshape(dims)


def load_mnist(images_path, labels_path):
    """MNIST from its IDX image file (N, 28, 28) and label file (N,)."""
    images = read_idx(images_path)
    labels = read_idx(labels_path)
    if images.ndim != 3:
        raise DataError(f"{images_path}: MNIST images must have 3 dimensions, not {images.ndim}")
    if labels.ndim != 1 or len(labels) != len(images):
        raise DataError(f"{labels_path}: {len(labels)} labels for {len(images)} images")
    return Dataset(np.ascontiguousarray(images[:, None]), labels.astype(np.int64), "mnist")


# -- CIFAR-10 --------------------------------------------------------------------------------------
class _CifarUnpickler(pickle.Unpickler):
    """Unpickles only what a CIFAR-10 batch holds: no arbitrary code from a downloaded file."""

    _ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
                ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "scalar"),
                ("numpy._core.multiarray", "scalar"), ("_codecs", "encode")}

    def find_class(self, module, name):
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")


def load_cifar10(*paths):
    """CIFAR-10 from one or more python pickle batch files (``data_batch_1`` ... ``test_batch``)."""
    if not paths:
        raise DataError("load_cifar10 needs at least one batch file")
    images, labels = [], []
    for path in paths:
        raw = _read_bytes(path)
        try:
            batch = _CifarUnpickler(io.BytesIO(raw), encoding="bytes").load()
        except Exception as exc:  # pickle raises many types on garbage
            raise DataError(f"{path}: not a CIFAR-10 python batch ({exc})") from None
        if not isinstance(batch, dict) or b"data" not in batch or b"labels" not in batch:
            raise DataError(f"{path}: a CIFAR-10 batch is a dict with b'data' and b'labels'")
        data = np.asarray(batch[b"data"], dtype=np.uint8)
        lab = np.asarray(batch[b"labels"], dtype=np.int64)
        if data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or len(lab) != len(data):
            raise DataError(f"{path}: data must be (N, 3072) with N labels, not {data.shape}, {len(lab)}")
        images.append(data.reshape(-1, 3, 32, 32))
        labels.append(lab)
    return Dataset(np.concatenate(images), np.concatenate(labels), "cifar10")


# -- image folders ---------------------------------------------------------------------------------
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".pgm", ".ppm")


def load_image_folder(root, size=(64, 64), channels=1):
    """Images in ``root/<class>/*``: class names sorted give labels 0, 1, ...; resized to ``size``."""
    from PIL import Image, UnidentifiedImageError

    root = Path(root)
    if not root.is_dir():
        raise DataError(f"image folder {str(root)!r} does not exist or is not a folder")
    if channels not in (1, 3):
        raise DataError(f"channels must be 1 or 3, not {channels!r}")
    classes = sorted(p.name for p in root.iterdir() if p.is_dir())
    if not classes:
        raise DataError(f"{root}: no class sub-folders (expected root/<class>/<image>)")
    images, labels = [], []
    for label, name in enumerate(classes):
        for path in sorted((root / name).iterdir()):
            if path.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            try:
                with Image.open(path) as im:
                    im = im.convert("L" if channels == 1 else "RGB").resize(size[::-1], Image.BILINEAR)
                    arr = np.asarray(im, np.uint8)
            except (UnidentifiedImageError, OSError) as exc:
                raise DataError(f"{path}: not a readable image ({exc})") from None
            images.append(arr[None] if channels == 1 else arr.transpose(2, 0, 1))
            labels.append(label)
    if not images:
        raise DataError(f"{root}: no images with suffixes {', '.join(IMAGE_SUFFIXES)}")
    return Dataset(np.stack(images), np.asarray(labels, np.int64), root.name)
