"""Datasets from files: image folders, YOLO folders and torchvision's MNIST/Fashion-MNIST/CIFAR-10 layouts.

Everything is written into tmp_path; nothing is ever downloaded.
"""

from __future__ import annotations

import gzip
import pickle
import struct

import cv2
import numpy as np
import pytest
import torch

from cnnstudio.core.errors import UserError
from cnnstudio.ml.datasets import load_dataset
from cnnstudio.ml.datasets.yolo import label_path_for, parse_label_text


def _write(path, image):
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), image)


def _class_folder(root, per_class=4):
    rng = np.random.default_rng(0)
    for name, colour in (("cats", (0, 0, 230)), ("dogs", (230, 0, 0))):
        for i in range(per_class):
            img = np.full((20, 30, 3), colour, np.uint8) + rng.integers(0, 20, (20, 30, 3), dtype=np.uint8)
            _write(root / name / f"{i}.{['png', 'jpg', 'bmp', 'webp'][i % 4]}", img)


def test_folder_loads_classes_resizes_and_skips_corrupt_files(tmp_path):
    _class_folder(tmp_path)
    (tmp_path / "dogs" / "broken.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg")
    (tmp_path / "dogs" / "empty.png").write_bytes(b"")
    (tmp_path / "dogs" / "notes.txt").write_text("ignored, not an image")
    bundle = load_dataset({"source": "folder", "path": str(tmp_path), "image_size": 16, "val_fraction": 0.25})
    assert bundle.classes == ["cats", "dogs"] and bundle.task == "classification"
    assert bundle.class_counts() == {"cats": 4, "dogs": 4}
    assert bundle.train_x.shape[1:] == (3, 16, 16) and len(bundle.val_x) == 2
    skipped = {path.rsplit("/", 1)[-1]: reason for path, reason in bundle.skipped}
    assert set(skipped) == {"broken.jpg", "empty.png"}
    assert "corrupt" in skipped["broken.jpg"] and "empty" in skipped["empty.png"]
    # colours survive as RGB: cats are red (BGR (0,0,230) written by OpenCV)
    cat = bundle.train_x[bundle.train_y == 0][0]
    assert float(cat[0].mean()) > 0.85 and float(cat[2].mean()) < 0.2


def test_folder_of_gray_images_is_one_channel(tmp_path):
    for name in ("a", "b"):
        for i in range(3):
            _write(tmp_path / name / f"{i}.png", np.full((10, 10), 40 * i, np.uint8))
    bundle = load_dataset({"source": "folder", "path": str(tmp_path), "image_size": 10})
    assert bundle.train_x.shape[1] == 1
    rgb = load_dataset({"source": "folder", "path": str(tmp_path), "image_size": 10, "channels": "rgb"})
    assert rgb.train_x.shape[1] == 3


@pytest.mark.parametrize("make, message", [
    (lambda p: None, "holds no images"),
    (lambda p: _write(p / "loose.png", np.zeros((4, 4), np.uint8)), "no class sub-folders"),
    (lambda p: _write(p / "only" / "x.png", np.zeros((4, 4), np.uint8)), "at least two classes"),
    (lambda p: [(p / d).mkdir() for d in ("images", "labels")], "YOLO layout"),
    (lambda p: [(p / c).mkdir() or (p / c / "x.png").write_bytes(b"junk") for c in ("a", "b")], "could be read"),
])
def test_folder_errors_are_clear_sentences(tmp_path, make, message):
    make(tmp_path)
    with pytest.raises(UserError, match=message):
        load_dataset({"source": "folder", "path": str(tmp_path)})


def test_folder_missing_or_file(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        load_dataset({"source": "folder", "path": str(tmp_path / "nowhere")})
    (tmp_path / "f.txt").write_text("x")
    with pytest.raises(UserError, match="is a file"):
        load_dataset({"source": "folder", "path": str(tmp_path / "f.txt")})


def test_parse_yolo_labels_converts_centre_to_top_left():
    objects = parse_label_text("0 0.5 0.5 0.2 0.4\n\n2 0.95 0.1 0.2 0.4\n")
    assert objects[0] == pytest.approx((0, 0.4, 0.3, 0.2, 0.4))
    cls, x, y, w, h = objects[1]  # clipped to the image
    assert cls == 2 and x == pytest.approx(0.85) and y == 0.0 and w == pytest.approx(0.15) and h == pytest.approx(0.3)
    polygon = parse_label_text("1 0.1 0.2 0.5 0.2 0.3 0.6")
    assert polygon[0] == pytest.approx((1, 0.1, 0.2, 0.4, 0.4))
    for bad in ("a b c d e", "0 0.5 0.5", "-1 0.5 0.5 0.1 0.1", "0 0.5 0.5 0 0.1"):
        with pytest.raises(ValueError, match="line 1"):
            parse_label_text(bad)
    assert label_path_for(__import__("pathlib").Path("/d/train/images/a/b.jpg")).as_posix() == "/d/train/labels/a/b.txt"


def test_yolo_folder_keeps_largest_object_and_reads_class_names(tmp_path):
    img = np.zeros((40, 40, 3), np.uint8)
    for i in range(6):
        _write(tmp_path / "images" / f"{i}.png", img)
        label = f"{i % 2} 0.5 0.5 0.5 0.25\n" + ("1 0.2 0.2 0.1 0.1\n" if i == 0 else "")
        (tmp_path / "labels").mkdir(exist_ok=True)
        (tmp_path / "labels" / f"{i}.txt").write_text(label)
    _write(tmp_path / "images" / "unlabelled.png", img)
    (tmp_path / "images" / "corrupt.png").write_bytes(b"garbage")
    (tmp_path / "labels" / "corrupt.txt").write_text("0 0.5 0.5 0.1 0.1")
    _write(tmp_path / "images" / "badline.png", img)
    (tmp_path / "labels" / "badline.txt").write_text("0 0.5 oops 0.1 0.1")
    (tmp_path / "data.yaml").write_text("path: .\nnames:\n  0: ball\n  1: cup\n  2: pen\n")
    bundle = load_dataset({"source": "yolo", "path": str(tmp_path), "image_size": 20, "val_fraction": 0.34})
    assert bundle.task == "localization" and bundle.classes == ["ball", "cup", "pen"]
    assert bundle.class_counts() == {"ball": 3, "cup": 3, "pen": 0}
    boxes = torch.cat([bundle.train_boxes, bundle.val_boxes])
    assert torch.allclose(boxes, torch.tensor([0.25, 0.375, 0.5, 0.25]).expand_as(boxes))
    reasons = {p.rsplit("/", 1)[-1]: r for p, r in bundle.skipped}
    assert set(reasons) == {"unlabelled.png", "corrupt.png", "badline.png"}
    assert "no label file" in reasons["unlabelled.png"] and "line 1" in reasons["badline.png"]


def test_yolo_without_names_uses_class_numbers_and_classes_txt_wins(tmp_path):
    for i in range(4):
        _write(tmp_path / "images" / "train" / f"{i}.jpg", np.zeros((8, 8, 3), np.uint8))
        (tmp_path / "labels" / "train").mkdir(parents=True, exist_ok=True)
        (tmp_path / "labels" / "train" / f"{i}.txt").write_text(f"{i % 2} 0.5 0.5 1 1")
    bundle = load_dataset({"source": "yolo", "path": str(tmp_path)})
    assert bundle.classes == ["class 0", "class 1"]
    (tmp_path / "classes.txt").write_text("left\nright\n")
    assert load_dataset({"source": "yolo", "path": str(tmp_path)}).classes == ["left", "right"]


def test_yolo_wrong_layout(tmp_path):
    with pytest.raises(UserError, match="not in YOLO layout"):
        load_dataset({"source": "yolo", "path": str(tmp_path)})


# --- torchvision layouts ------------------------------------------------------------------------
def _idx(path, array, gz):
    header = struct.pack(">BBBB", 0, 0, 8, array.ndim) + b"".join(struct.pack(">I", d) for d in array.shape)
    data = header + array.astype(np.uint8).tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    if gz:
        path = path.with_name(path.name + ".gz")
        with gzip.open(path, "wb") as fh:
            fh.write(data)
    else:
        path.write_bytes(data)


def _fake_mnist(folder, n_train=30, n_test=10, gz=True):
    rng = np.random.default_rng(0)
    _idx(folder / "train-images-idx3-ubyte", rng.integers(0, 256, (n_train, 28, 28)), gz)
    _idx(folder / "train-labels-idx1-ubyte", np.arange(n_train) % 10, gz)
    _idx(folder / "t10k-images-idx3-ubyte", rng.integers(0, 256, (n_test, 28, 28)), gz)
    _idx(folder / "t10k-labels-idx1-ubyte", np.arange(n_test) % 10, gz)


def test_mnist_missing_names_the_files_and_folder(tmp_path):
    with pytest.raises(UserError) as info:
        load_dataset({"source": "mnist", "path": str(tmp_path)})
    message = str(info.value)
    assert str(tmp_path / "MNIST" / "raw") in message
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
                 "t10k-labels-idx1-ubyte.gz", "Download"):
        assert name in message


def test_default_folder_is_the_user_datasets_dir(tmp_path):
    from cnnstudio.core.paths import datasets_dir

    with pytest.raises(UserError, match="Fashion-MNIST is not in") as info:
        load_dataset({"source": "fashion-mnist"})
    assert str(datasets_dir() / "FashionMNIST" / "raw") in str(info.value)
    with pytest.raises(UserError, match="cifar-10-batches-py"):
        load_dataset({"source": "cifar10"})


@pytest.mark.parametrize("gz", [True, False])
def test_mnist_reads_idx_files(tmp_path, gz):
    _fake_mnist(tmp_path / "MNIST" / "raw", gz=gz)
    bundle = load_dataset({"source": "mnist", "path": str(tmp_path)})
    assert bundle.train_x.shape == (30, 1, 28, 28) and bundle.val_x.shape == (10, 1, 28, 28)
    assert bundle.classes == [str(i) for i in range(10)] and bundle.train_y.tolist()[:3] == [0, 1, 2]
    assert 0.0 <= float(bundle.train_x.min()) and float(bundle.train_x.max()) <= 1.0
    small = load_dataset({"source": "mnist", "path": str(tmp_path), "max_samples": 8})
    assert len(small) == 8


def test_fashion_mnist_class_names_and_damaged_file(tmp_path):
    folder = tmp_path / "FashionMNIST" / "raw"
    _fake_mnist(folder, gz=False)
    bundle = load_dataset({"source": "fashion-mnist", "path": str(tmp_path)})
    assert bundle.classes[0] == "T-shirt/top" and bundle.classes[-1] == "Ankle boot"
    data = (folder / "t10k-images-idx3-ubyte").read_bytes()
    (folder / "t10k-images-idx3-ubyte").write_bytes(data[:-5])
    with pytest.raises(UserError, match="truncated"):
        load_dataset({"source": "fashion-mnist", "path": str(tmp_path)})


def test_cifar10_reads_python_batches(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name in ("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch"):
        entry = {b"data": rng.integers(0, 256, (4, 3072), dtype=np.uint8), b"labels": [0, 1, 2, 9]}
        (folder / name).write_bytes(pickle.dumps(entry))
    names = [n.encode() for n in ("plane", "car", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")]
    (folder / "batches.meta").write_bytes(pickle.dumps({b"label_names": names}))
    bundle = load_dataset({"source": "cifar10", "path": str(tmp_path)})
    assert bundle.train_x.shape == (20, 3, 32, 32) and bundle.val_x.shape == (4, 3, 32, 32)
    assert bundle.classes[0] == "plane" and bundle.class_counts()["truck"] == 6


def test_cifar10_refuses_pickles_that_run_code(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()

    class Evil:
        def __reduce__(self):
            return (print, ("owned",))

    for name in ("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch"):
        (folder / name).write_bytes(pickle.dumps({b"data": Evil(), b"labels": []}))
    with pytest.raises(UserError, match="not a CIFAR-10 batch file"):
        load_dataset({"source": "cifar10", "path": str(tmp_path)})


def test_download_when_allowed_with_progress_and_checksum(tmp_path, monkeypatch):
    """The download path, fed from local file:// URLs (nothing leaves the machine)."""
    import hashlib

    from cnnstudio.ml.datasets import torchvision_sets as tv

    source = tmp_path / "server"
    _fake_mnist(source, gz=True)
    remotes = tuple(
        tv.RemoteFile(f"file://{source / name}.gz", hashlib.md5((source / f"{name}.gz").read_bytes()).hexdigest())
        for name in tv.IDX_FILES
    )
    monkeypatch.setitem(tv.SETS, "mnist", tv.SETS["mnist"].__class__(
        "MNIST", "MNIST/raw", tuple(str(i) for i in range(10)), remotes, "tiny"))
    root = tmp_path / "data"
    events = []
    bundle = load_dataset({"source": "mnist", "path": str(root), "download": True}, progress=events.append)
    assert len(bundle.train_x) == 30
    assert (root / "MNIST" / "raw" / "train-images-idx3-ubyte.gz").is_file()
    assert any(e.message.startswith("Downloading train-images") and e.total > 0 for e in events)
    assert not list(root.rglob("*.part"))

    bad = tuple(tv.RemoteFile(r.url, "0" * 32) for r in remotes)
    monkeypatch.setitem(tv.SETS, "mnist", tv.SETS["mnist"].__class__(
        "MNIST", "MNIST/raw", tuple(str(i) for i in range(10)), bad, "tiny"))
    other = tmp_path / "other"
    with pytest.raises(UserError, match="checksum"):
        load_dataset({"source": "mnist", "path": str(other), "download": True})
    assert not list(other.rglob("*.part")) and not list(other.rglob("*.gz"))


def test_unusual_pixel_formats_are_read(tmp_path):
    from PIL import Image

    from cnnstudio.ml.datasets.scan import read_image

    gray_alpha = np.dstack([np.full((6, 6), 200, np.uint8), np.full((6, 6), 255, np.uint8)])
    Image.fromarray(gray_alpha, "LA").save(tmp_path / "gray_alpha.png")
    assert cv2.imwrite(str(tmp_path / "deep.png"), np.full((6, 6, 3), 65535, np.uint16))
    bgra_red = np.zeros((6, 6, 4), np.uint8)
    bgra_red[..., 2:] = 255
    assert cv2.imwrite(str(tmp_path / "rgba.png"), bgra_red)
    for name, ndim in (("gray_alpha.png", 2), ("deep.png", 2), ("rgba.png", 3)):
        image, reason = read_image(tmp_path / name, 4)
        assert reason == "" and image.shape[:2] == (4, 4) and image.ndim == ndim, name
    assert read_image(tmp_path / "rgba.png", 4)[0][0, 0].tolist() == [255, 0, 0]
    assert read_image(tmp_path / "gray_alpha.png", 4)[0][0, 0] == 200
    assert read_image(tmp_path / "deep.png", 4)[0][0, 0] == 255


@pytest.mark.parametrize("has_filters", [True, False])
def test_a_dataset_archive_extracts_safely_with_or_without_tarfile_filters(tmp_path, monkeypatch, has_filters):
    """Python before 3.10.12 has no ``filter=`` for extractall: the archive is checked by hand there."""
    import io
    import tarfile

    from cnnstudio.ml.datasets.torchvision_sets import _extract_tar

    if not has_filters:
        def old_extractall(self, path=".", members=None, **kwargs):  # no filter= before Python 3.10.12
            assert not kwargs
            for member in self.getmembers():
                target = tmp_path / path / member.name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(self.extractfile(member).read())

        monkeypatch.delattr(tarfile, "data_filter")
        monkeypatch.setattr(tarfile.TarFile, "extractall", old_extractall)

    def archive(name: str, member: str):
        path = tmp_path / name
        with tarfile.open(path, "w:gz") as tar:
            info = tarfile.TarInfo(member)
            info.size = 2
            tar.addfile(info, io.BytesIO(b"ok"))
        return path

    _extract_tar(archive("good.tar.gz", "cifar/data_batch_1"), tmp_path / "out")
    assert (tmp_path / "out" / "cifar" / "data_batch_1").read_bytes() == b"ok"
    with pytest.raises(UserError, match="cannot be extracted"):
        _extract_tar(archive("evil.tar.gz", "../evil.txt"), tmp_path / "out")
    assert not (tmp_path / "evil.txt").exists()
