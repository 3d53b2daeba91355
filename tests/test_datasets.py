import gzip
import pickle
import struct

import numpy as np
import pytest

from golden import datasets
from golden.config import Config
from golden.errors import DataError


def test_embedded_shapes_determinism_and_balance(cfg):
    test = datasets.embedded(cfg, "test")
    assert test.images.shape == (cfg.test_frames, 1, 64, 64) and test.images.dtype == np.uint8
    assert len(test) >= 2000  # 1% accuracy is at least 20 frames
    counts = np.bincount(test.labels, minlength=10)
    assert counts.min() > 0.6 * counts.mean()
    digits = datasets._digit_split()[1]
    a, la = datasets.compose_frames(*digits, 300, 7)
    b, lb = datasets.compose_frames(*digits, 300, 7)
    assert np.array_equal(a, b) and np.array_equal(la, lb)
    assert not np.array_equal(datasets.compose_frames(*digits, 300, 8)[0], a)
    other = datasets.embedded(Config(seed=1, test_frames=100), "test")
    assert not np.array_equal(other.images[:8], test.images[:8])


def test_train_and_test_digits_are_disjoint():
    (tr_x, _), (te_x, _) = datasets._digit_split()
    train = {x.tobytes() for x in tr_x}
    overlap = sum(x.tobytes() in train for x in te_x)
    # sklearn's digits hold a handful of exact duplicates of their own; none may be split across
    assert overlap <= 2
    assert len(tr_x) + len(te_x) == 1797


def test_frames_look_like_camera_frames(cfg):
    test = datasets.embedded(cfg, "test")
    x = test.images[:200].astype(np.float64)
    assert 5 < x.mean() < 80  # mostly dark background
    assert (x.reshape(200, -1).max(1) > 150).all()  # a bright digit in every frame
    assert (x.reshape(200, -1).std(1) > 10).all()


def _write_idx(path, array, gz=False):
    arr = np.asarray(array, np.uint8)
    blob = bytes([0, 0, 8, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape) + arr.tobytes()
    path.write_bytes(gzip.compress(blob) if gz else blob)


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_idx(tmp_path, rng, gz):
    images = rng.integers(0, 256, (5, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, 5, dtype=np.uint8)
    _write_idx(tmp_path / "img", images, gz)
    _write_idx(tmp_path / "lab", labels, gz)
    ds = datasets.load_mnist(tmp_path / "img", tmp_path / "lab")
    assert np.array_equal(ds.images[:, 0], images) and np.array_equal(ds.labels, labels)


def test_mnist_idx_errors(tmp_path):
    (tmp_path / "bad").write_bytes(b"\x01\x02\x08\x01")
    with pytest.raises(DataError, match="bad magic"):
        datasets.read_idx(tmp_path / "bad")
    _write_idx(tmp_path / "ok", np.zeros((3, 2), np.uint8))
    (tmp_path / "short").write_bytes((tmp_path / "ok").read_bytes()[:-1])
    with pytest.raises(DataError, match="promises 6 bytes"):
        datasets.read_idx(tmp_path / "short")
    with pytest.raises(DataError, match="cannot read"):
        datasets.read_idx(tmp_path / "nope")
    (tmp_path / "float").write_bytes(bytes([0, 0, 0x0D, 1, 0, 0, 0, 1]) + bytes(4))
    with pytest.raises(DataError, match="not supported"):
        datasets.read_idx(tmp_path / "float")
    _write_idx(tmp_path / "img", np.zeros((3, 4, 4), np.uint8))
    _write_idx(tmp_path / "lab", np.zeros(2, np.uint8))
    with pytest.raises(DataError, match="2 labels for 3 images"):
        datasets.load_mnist(tmp_path / "img", tmp_path / "lab")


def test_cifar10_batches(tmp_path, rng):
    data = rng.integers(0, 256, (4, 3072), dtype=np.uint8)
    labels = [3, 1, 4, 1]
    for name in ("data_batch_1", "data_batch_2"):
        with open(tmp_path / name, "wb") as f:
            pickle.dump({b"data": data, b"labels": labels, b"batch_label": b"x"}, f)
    ds = datasets.load_cifar10(tmp_path / "data_batch_1", tmp_path / "data_batch_2")
    assert ds.images.shape == (8, 3, 32, 32)
    assert np.array_equal(ds.images[0], data[0].reshape(3, 32, 32))
    assert ds.labels.tolist() == labels * 2


class _Evil:
    def __reduce__(self):
        return (print, ("pwned",))


def test_cifar10_errors(tmp_path):
    with open(tmp_path / "evil", "wb") as f:
        pickle.dump({b"data": _Evil(), b"labels": []}, f)
    with pytest.raises(DataError, match="refusing to load"):
        datasets.load_cifar10(tmp_path / "evil")
    (tmp_path / "junk").write_bytes(b"not a pickle at all")
    with pytest.raises(DataError, match="not a CIFAR-10 python batch"):
        datasets.load_cifar10(tmp_path / "junk")
    with open(tmp_path / "shape", "wb") as f:
        pickle.dump({b"data": np.zeros((2, 10), np.uint8), b"labels": [0, 1]}, f)
    with pytest.raises(DataError, match="must be \\(N, 3072\\)"):
        datasets.load_cifar10(tmp_path / "shape")
    with pytest.raises(DataError, match="at least one batch"):
        datasets.load_cifar10()


def test_image_folder(tmp_path, rng):
    from PIL import Image

    for cls in ("cat", "dog"):
        (tmp_path / cls).mkdir()
        for i in range(3):
            arr = rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)
            Image.fromarray(arr).save(tmp_path / cls / f"{i}.png")
    (tmp_path / "dog" / "notes.txt").write_text("ignored")
    ds = datasets.load_image_folder(tmp_path, size=(16, 24), channels=3)
    assert ds.images.shape == (6, 3, 16, 24)
    assert ds.labels.tolist() == [0, 0, 0, 1, 1, 1]
    gray = datasets.load_image_folder(tmp_path, size=(8, 8), channels=1)
    assert gray.images.shape == (6, 1, 8, 8)
    (tmp_path / "cat" / "broken.png").write_bytes(b"garbage")
    with pytest.raises(DataError, match="not a readable image"):
        datasets.load_image_folder(tmp_path)
    with pytest.raises(DataError, match="does not exist"):
        datasets.load_image_folder(tmp_path / "none")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no class sub-folders"):
        datasets.load_image_folder(tmp_path / "empty")


# -- data sources (Config.data, a network file's "data"): users' own data -----------------------------
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402

from golden.errors import ConfigError  # noqa: E402

TINY = {"name": "tiny", "in_shape": [3, 16, 16], "classes": 3, "edge": [{"cout": 4, "k": 3, "pool": 2}],
        "host": []}


def _folder(root, rng, classes=3, per_class=12, size=(20, 24)):
    from PIL import Image

    for c in range(classes):
        (root / f"class{c}").mkdir(parents=True)
        for i in range(per_class):
            img = rng.integers(0, 256, (*size, 3), dtype=np.uint8)
            Image.fromarray(img).save(root / f"class{c}" / f"{i}.png")


def _network(tmp_path, **changes):
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(dict(TINY, **changes)))
    return str(path)


def test_folder_source_fits_the_network_and_holds_out_test_images(tmp_path, rng):
    _folder(tmp_path / "imgs", rng)
    cfg = Config(network=_network(tmp_path, data=f"folder:{tmp_path / 'imgs'}"), split=1)
    train, val, test = (datasets.embedded(cfg, p) for p in ("train", "val", "test"))
    assert train.images.shape[1:] == val.images.shape[1:] == test.images.shape[1:] == (3, 16, 16)
    assert len(test) == 3 * 2 and len(train) + len(val) == 3 * 10  # a sixth of each class is test
    assert sorted(set(test.labels.tolist())) == [0, 1, 2]
    grey = Config(network=_network(tmp_path, in_shape=[1, 8, 8]), data=f"folder:{tmp_path / 'imgs'}", split=1)
    assert datasets.embedded(grey, "test").images.shape == (6, 1, 8, 8)  # RGB made grey, resized


def test_mnist_source_reads_the_four_idx_files(tmp_path, rng):
    for part, n in (("train", 40), ("t10k", 12)):
        _write_idx(tmp_path / f"{part}-images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28)))
        _write_idx(tmp_path / f"{part}-labels-idx1-ubyte", rng.integers(0, 3, n))
    cfg = Config(network=_network(tmp_path), data=f"mnist:{tmp_path}", split=1)
    assert datasets.embedded(cfg, "test").images.shape == (12, 3, 16, 16)  # grey repeated into RGB
    assert len(datasets.embedded(cfg, "train")) == 36 and len(datasets.embedded(cfg, "val")) == 4


def test_bad_sources_are_refused(tmp_path):
    for bad in ("imagenet", "folder:", "mnist", 3):
        with pytest.raises(ConfigError):
            Config(data=bad)
    with pytest.raises(DataError, match="does not exist"):
        datasets.embedded(Config(data=f"folder:{tmp_path / 'none'}", train_frames=100), "test")
    with pytest.raises(DataError, match="digits-rgb has 3x32x32 frames"):
        datasets.embedded(Config(data="digits-rgb"), "test")
    r = subprocess.run([sys.executable, "-m", "edgesplit", "eval", "--data", f"folder:{tmp_path / 'none'}"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode != 0 and "Traceback" not in r.stderr and "does not exist" in r.stderr


def test_rgb_embedded_frames_are_colour_and_deterministic():
    cfg = Config(network="golden/data/networks/rgb32.json", split=1)
    a = datasets.embedded(cfg, "test")
    assert cfg.data_source == "digits-rgb" and a.images.shape == (cfg.test_frames, 3, 32, 32)
    spread = a.images.astype(int).max(1) - a.images.astype(int).min(1)  # channels differ: colour
    assert spread.mean() > 20 and np.bincount(a.labels, minlength=10).min() > cfg.test_frames // 20
    digits = datasets._digit_split()[1]
    one, two = (datasets.compose_rgb_frames(*digits, 50, 12)[0] for _ in range(2))
    assert np.array_equal(one, two) and not np.array_equal(one, datasets.compose_rgb_frames(*digits, 50, 13)[0])
