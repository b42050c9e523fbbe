"""MNIST, Fashion-MNIST and CIFAR-10 from a local folder, in torchvision's on-disk layout.

The files are read here directly (IDX files; CIFAR's pickled batches through an unpickler that only
rebuilds numpy arrays, so a tampered file cannot run code). Files are downloaded only when the data
settings say ``"download": true``, with byte progress and an MD5 check; otherwise a missing dataset is
a :class:`UserError` naming the exact files to place and where. The official test split is the
validation set.
"""

from __future__ import annotations

import gzip
import hashlib
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from cnnstudio.core.errors import UserError
from cnnstudio.ml.datasets.bundle import ImageFacts
from cnnstudio.ml.datasets.events import LoadProgress
from cnnstudio.ml.datasets.split import seeded_subset

FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
IDX_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
CIFAR_FILES = ("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch")


@dataclass(frozen=True)
class RemoteFile:
    url: str
    md5: str


@dataclass(frozen=True)
class TorchvisionSet:
    title: str
    folder: str  # torchvision's folder under the root
    classes: tuple[str, ...]
    downloads: tuple[RemoteFile, ...]
    size_text: str


_MNIST_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"
_FASHION_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
# MD5s as torchvision lists them (torchvision.datasets.MNIST/FashionMNIST.resources, CIFAR10.tgz_md5)
SETS: dict[str, TorchvisionSet] = {
    "mnist": TorchvisionSet(
        "MNIST", "MNIST/raw", tuple(str(i) for i in range(10)),
        (RemoteFile(_MNIST_URL + "train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
         RemoteFile(_MNIST_URL + "train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
         RemoteFile(_MNIST_URL + "t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
         RemoteFile(_MNIST_URL + "t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c")),
        "about 11 MB",
    ),
    "fashion-mnist": TorchvisionSet(
        "Fashion-MNIST", "FashionMNIST/raw", tuple(FASHION_CLASSES),
        (RemoteFile(_FASHION_URL + "train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
         RemoteFile(_FASHION_URL + "train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
         RemoteFile(_FASHION_URL + "t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
         RemoteFile(_FASHION_URL + "t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310")),
        "about 30 MB",
    ),
    "cifar10": TorchvisionSet(
        "CIFAR-10", "cifar-10-batches-py", tuple(CIFAR10_CLASSES),
        (RemoteFile("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz", "c58f30108f718f92721af3b95e74349a"),),
        "about 170 MB",
    ),
}


def dataset_root(cfg: dict) -> Path:
    """The folder the user chose, or the per-user datasets folder."""
    if cfg.get("path", "").strip():
        return Path(cfg["path"]).expanduser()
    from cnnstudio.core.paths import datasets_dir

    return datasets_dir()


# --- finding files -------------------------------------------------------------------------------
def _find_idx_folder(root: Path, spec: TorchvisionSet) -> Path | None:
    for folder in (root / spec.folder, root / spec.folder.split("/")[0], root):
        if all(_idx_file(folder, name) is not None for name in IDX_FILES):
            return folder
    return None


def _idx_file(folder: Path, name: str) -> Path | None:
    for candidate in (folder / name, folder / (name + ".gz")):
        if candidate.is_file():
            return candidate
    return None


def _find_cifar_folder(root: Path) -> Path | None:
    for folder in (root / "cifar-10-batches-py", root):
        if all((folder / name).is_file() for name in CIFAR_FILES):
            return folder
    archive = root / "cifar-10-python.tar.gz"
    if archive.is_file():
        _extract_tar(archive, root)
        if all((root / "cifar-10-batches-py" / name).is_file() for name in CIFAR_FILES):
            return root / "cifar-10-batches-py"
    return None


def missing_message(source: str, root: Path) -> str:
    """The sentence that tells the user exactly which files to place where (or to allow a download)."""
    spec = SETS[source]
    if source == "cifar10":
        return (
            f"{spec.title} is not in {root}. Place the folder cifar-10-batches-py (with data_batch_1 … "
            f"data_batch_5, test_batch and batches.meta) or the archive cifar-10-python.tar.gz in {root} "
            f"(from {spec.downloads[0].url}), or turn on 'Download' ({spec.size_text})."
        )
    names = ", ".join(Path(f.url).name for f in spec.downloads)
    return (
        f"{spec.title} is not in {root}. Place the files {names} (gzipped or not) in {root / spec.folder} "
        f"(from {spec.downloads[0].url.rsplit('/', 1)[0]}/), or turn on 'Download' ({spec.size_text})."
    )


# --- reading -------------------------------------------------------------------------------------
def read_idx(path: Path) -> np.ndarray:
    """An IDX file (MNIST's format: big-endian header, then uint8 data), gzipped or not."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            data = bytearray(fh.read())  # writable, so torch.from_numpy can share it
    except (OSError, EOFError) as exc:
        raise UserError(f"{path} cannot be read ({exc}); delete it and place a fresh copy.") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise UserError(f"{path} is not an IDX file of unsigned bytes (wrong header).")
    ndim = data[3]
    header = 4 + 4 * ndim
    if ndim < 1 or len(data) < header:
        raise UserError(f"{path} has a damaged IDX header.")
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    expected = int(np.prod(dims))
    if len(data) - header != expected:
        raise UserError(f"{path} is truncated or damaged: {len(data) - header} bytes of data, {expected} expected.")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles dicts, lists, strings and numpy arrays only; anything else is refused."""

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode"),
    }

    def find_class(self, module, name):
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a dataset file")


def read_cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One CIFAR-10 python batch: uint8 images (N, 3, 32, 32) and int64 labels (N,)."""
    try:
        with open(path, "rb") as fh:
            entry = _ArrayUnpickler(fh, encoding="bytes").load()
        data = np.asarray(entry.get(b"data", entry.get("data")), dtype=np.uint8)
        labels = np.asarray(entry.get(b"labels", entry.get("labels")), dtype=np.int64)
        images = data.reshape(-1, 3, 32, 32)
    except Exception as exc:
        raise UserError(f"{path} is not a CIFAR-10 batch file or is damaged ({exc}).") from None
    if len(images) != len(labels) or (len(labels) and (labels.min() < 0 or labels.max() > 9)):
        raise UserError(f"{path} is damaged: its images and labels do not match.")
    return images, labels


def _cifar_names(folder: Path) -> list[str]:
    meta = folder / "batches.meta"
    if meta.is_file():
        try:
            with open(meta, "rb") as fh:
                entry = _ArrayUnpickler(fh, encoding="bytes").load()
            names = entry.get(b"label_names", entry.get("label_names"))
            names = [n.decode() if isinstance(n, bytes) else str(n) for n in names]
            if len(names) == 10:
                return names
        except Exception:
            pass
    return list(CIFAR10_CLASSES)


# --- downloading ---------------------------------------------------------------------------------
def _download(remote: RemoteFile, target: Path, what: str):
    """Generator: downloads ``remote`` to ``target`` with byte progress, then checks its MD5."""
    import urllib.error
    import urllib.request

    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    digest = hashlib.md5()
    try:
        with urllib.request.urlopen(remote.url, timeout=30) as response, open(partial, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0)
            done = 0
            while True:
                chunk = response.read(1 << 18)
                if not chunk:
                    break
                out.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                yield LoadProgress(done, total, f"Downloading {what}: {done / 1e6:.1f} of {total / 1e6:.1f} MB")
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        partial.unlink(missing_ok=True)
        reason = getattr(exc, "reason", exc)
        raise UserError(f"Could not download {remote.url} ({reason}); check the connection or place the file by hand.") from None
    if digest.hexdigest() != remote.md5:
        partial.unlink(missing_ok=True)
        raise UserError(f"The download of {remote.url} is damaged (checksum mismatch); try again.")
    partial.replace(target)


def _extract_tar(archive: Path, into: Path) -> None:
    import tarfile

    try:
        with tarfile.open(archive, "r:gz") as tar:
            if hasattr(tarfile, "data_filter"):
                tar.extractall(into, filter="data")
            else:  # Python before 3.10.12 / 3.11.4 has no extraction filters: allow plain files and folders only
                for member in tar.getmembers():
                    name = member.name.replace("\\", "/")
                    if not (member.isfile() or member.isdir()) or name.startswith("/") or ".." in name.split("/"):
                        raise tarfile.TarError(f"it holds an unsafe entry {member.name!r}")
                tar.extractall(into)
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise UserError(f"{archive} cannot be extracted ({exc}); delete it and place a fresh copy.") from None


def _download_set(source: str, root: Path):
    spec = SETS[source]
    folder = root if source == "cifar10" else root / spec.folder
    for remote in spec.downloads:
        target = folder / Path(remote.url).name
        if not target.is_file():
            yield from _download(remote, target, target.name)
    if source == "cifar10":
        yield LoadProgress(0, 0, "Extracting cifar-10-python.tar.gz")
        _extract_tar(root / "cifar-10-python.tar.gz", root)


# --- loading -------------------------------------------------------------------------------------
def _locate(source: str, root: Path) -> Path | None:
    return _find_cifar_folder(root) if source == "cifar10" else _find_idx_folder(root, SETS[source])


def iter_load_torchvision(cfg: dict):
    """Generator: progress events, returns the :class:`DatasetBundle` of MNIST, Fashion-MNIST or CIFAR-10."""
    from cnnstudio.ml.datasets.bundle import DatasetBundle

    source = cfg["source"]
    spec = SETS[source]
    root = dataset_root(cfg)
    if root.exists() and not root.is_dir():
        raise UserError(f"{root} is a file; choose the folder that holds {spec.title}.")
    folder = _locate(source, root) if root.is_dir() else None
    if folder is None:
        if not cfg.get("download"):
            raise UserError(missing_message(source, root))
        yield from _download_set(source, root)
        folder = _locate(source, root)
        if folder is None:
            raise UserError(missing_message(source, root))
    yield LoadProgress(0, 0, f"Reading {spec.title} from {folder}")
    if source == "cifar10":
        parts = [read_cifar_batch(folder / name) for name in CIFAR_FILES[:5]]
        train_img = np.concatenate([p[0] for p in parts])
        train_lab = np.concatenate([p[1] for p in parts])
        val_img, val_lab = read_cifar_batch(folder / "test_batch")
        classes = _cifar_names(folder)
    else:
        arrays = [read_idx(_idx_file(folder, name)) for name in IDX_FILES]
        train_img, train_lab, val_img, val_lab = arrays
        for images, labels, which in ((train_img, train_lab, "train"), (val_img, val_lab, "t10k")):
            if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
                raise UserError(f"The {which} files of {spec.title} in {folder} do not match each other.")
        train_img, val_img = train_img[:, None], val_img[:, None]
        classes = list(spec.classes)
    for labels in (train_lab, val_lab):
        if len(labels) and (labels.min() < 0 or labels.max() >= len(classes)):
            raise UserError(f"The label files of {spec.title} in {folder} hold class numbers outside 0..9.")
    limit = cfg.get("max_samples", 0)
    if limit:
        n_train = max(1, round(limit * len(train_img) / (len(train_img) + len(val_img))))
        keep = seeded_subset(len(train_img), n_train, cfg["seed"])
        if keep is not None:
            train_img, train_lab = train_img[keep], train_lab[keep]
        keep = seeded_subset(len(val_img), max(1, limit - n_train), cfg["seed"] + 1)
        if keep is not None:
            val_img, val_lab = val_img[keep], val_lab[keep]
    yield LoadProgress(1, 2, f"Converting {len(train_img) + len(val_img)} images")

    def to_float(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(a)).float().div_(255.0)

    return DatasetBundle(
        train_x=to_float(train_img), train_y=torch.from_numpy(train_lab.astype(np.int64)),
        val_x=to_float(val_img), val_y=torch.from_numpy(val_lab.astype(np.int64)),
        classes=classes, task="classification", name=spec.title, facts=_FACTS.get(source, ImageFacts()),
    )


# How the stored images look: MNIST's digits are light on dark, size-normalised into a 20x20 box centred
# in 28x28 (a margin of 4/20 per side); Fashion-MNIST's products fill their frame; CIFAR-10 is photos.
_FACTS = {
    "mnist": ImageFacts(ink="light", cropped_to_content=True, content_margin=0.2),
    "fashion-mnist": ImageFacts(ink="light", cropped_to_content=True, content_margin=0.0),
}
