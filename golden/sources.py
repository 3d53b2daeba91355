"""Data sources: where a configuration's frames come from (``Config.data``, a network file's
``data``), each split into train, validation and test frames of the network's input shape.

- ``digits64``: the embedded grey 1x64x64 frames (:func:`golden.datasets.compose_frames`);
- ``digits-rgb``: the embedded colour 3x32x32 frames (:func:`golden.datasets.compose_rgb_frames`),
  the RGB example's data;
- ``mnist:DIR``: ``DIR/train-images-idx3-ubyte`` and ``train-labels-idx1-ubyte`` for training,
  ``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte`` for test (each optionally ``.gz``);
- ``cifar10:DIR``: ``DIR/data_batch_1`` .. ``data_batch_5`` for training, ``DIR/test_batch`` for test;
- ``folder:DIR``: ``DIR/<class>/<image>``, class names sorted give labels 0, 1, ...; a seeded
  stratified sixth of each class is the test part.

External frames are converted to the network's input shape: resized (bilinear), grey made RGB by
repeating it, RGB made grey by its mean. The validation frames (:data:`golden.datasets.VAL_FRAMES`
at most, a tenth of the training frames at most) are the last training frames, held out from
training; training and test take at most ``train_frames`` and ``test_frames``.
"""

from functools import lru_cache
from pathlib import Path

import numpy as np

from .errors import ConfigError, DataError

EMBEDDED = {"digits64": (1, 64, 64), "digits-rgb": (3, 32, 32)}
LOADERS = ("mnist", "cifar10", "folder")
TEST_SHARE = 6  # folder: one image in six of each class is a test image


def check_source(source):
    """:class:`ConfigError` unless ``source`` is a data source string (the folder is checked when read)."""
    if source in EMBEDDED:
        return
    kind, sep, path = source.partition(":") if isinstance(source, str) else ("", "", "")
    if kind not in LOADERS or not sep or not path:
        raise ConfigError(f"data must be {', '.join(map(repr, EMBEDDED))}, 'mnist:DIR', 'cifar10:DIR' or "
                          f"'folder:DIR', not {source!r}")


def _first(root, names):
    for name in names:
        for path in (root / name, root / (name + ".gz")):
            if path.exists():
                return path
    raise DataError(f"{root}: no {names[0]} (or .gz) there; the mnist source needs the four IDX files")


@lru_cache(maxsize=2)
def _read(source):
    """``(train Dataset, test Dataset)`` of an external source, as its files hold them."""
    from . import datasets as D

    kind, _, path = source.partition(":")
    root = Path(path)
    if not root.is_dir():
        raise DataError(f"data directory {str(root)!r} of {source!r} does not exist or is not a folder")
    if kind == "mnist":
        return (D.load_mnist(_first(root, ["train-images-idx3-ubyte", "train-images.idx3-ubyte"]),
                             _first(root, ["train-labels-idx1-ubyte", "train-labels.idx1-ubyte"])),
                D.load_mnist(_first(root, ["t10k-images-idx3-ubyte", "t10k-images.idx3-ubyte"]),
                             _first(root, ["t10k-labels-idx1-ubyte", "t10k-labels.idx1-ubyte"])))
    if kind == "cifar10":
        train = sorted(root.glob("data_batch_*"))
        if not train or not (root / "test_batch").exists():
            raise DataError(f"{root}: the cifar10 source needs data_batch_1 .. data_batch_5 and test_batch")
        return D.load_cifar10(*train), D.load_cifar10(root / "test_batch")
    full = D.load_image_folder(root, size=(64, 64), channels=3)
    rng = np.random.default_rng(0)
    test = np.zeros(len(full), bool)
    for c in np.unique(full.labels):
        idx = np.flatnonzero(full.labels == c)
        rng.shuffle(idx)
        test[idx[:max(1, len(idx) // TEST_SHARE)]] = True
    return (D.Dataset(full.images[~test], full.labels[~test], root.name),
            D.Dataset(full.images[test], full.labels[test], root.name))


def native_shape(source):
    """``(C, H, W)`` of the frames ``source`` holds before they are fitted to a network."""
    return EMBEDDED[source] if source in EMBEDDED else tuple(_read(source)[0].images.shape[1:])


def fit(images, shape):
    """uint8 ``images`` ``(N, C, H, W)`` as ``shape`` ``(C', H', W')``: channels, then size."""
    from PIL import Image

    c, h, w = shape
    x = images
    if x.shape[1] != c:
        x = np.repeat(x, c, axis=1) if x.shape[1] == 1 else np.rint(x.mean(1, keepdims=True)).astype(np.uint8)
    if x.shape[2:] != (h, w):
        x = np.stack([np.stack([np.asarray(Image.fromarray(ch).resize((w, h), Image.BILINEAR)) for ch in img])
                      for img in x])
    return np.ascontiguousarray(x, np.uint8)


@lru_cache(maxsize=6)
def external(source, part, shape, count):
    """``part`` of an external ``source`` at most ``count`` frames, fitted to ``shape``."""
    from . import datasets as D

    train, test = _read(source)
    if part == "test":
        images, labels = test.images[:count], test.labels[:count]
    else:
        n_val = min(D.VAL_FRAMES, len(train) // 10)
        if part == "val":
            images, labels = train.images[len(train) - n_val:], train.labels[len(train) - n_val:]
        else:
            images, labels = train.images[:min(count, len(train) - n_val)], train.labels[:len(train) - n_val][:count]
    if len(images) == 0:
        raise DataError(f"{source}: no {part} frames")
    x = fit(images, shape)
    x.setflags(write=False)
    return D.Dataset(x, np.asarray(labels, np.int64), f"{source}-{part}")
