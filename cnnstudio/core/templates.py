"""Network templates: the spec files in ``models/`` (``lenet5.json`` ...), addressable by name."""

from __future__ import annotations

from pathlib import Path

from cnnstudio.core.errors import UserError
from cnnstudio.core.formats import read_json
from cnnstudio.core.paths import models_dir
from cnnstudio.core.spec import SPEC_FORMAT


def _template_files() -> dict[str, Path]:
    out: dict[str, Path] = {}
    folder = models_dir()
    if not folder.is_dir():
        return out
    for path in sorted(folder.glob("*.json")):
        try:
            data = read_json(path, "network template")
        except UserError:
            continue
        if isinstance(data, dict) and data.get("format") == SPEC_FORMAT:
            out[path.stem] = path
    return out


def template_names() -> list[str]:
    """Names of the bundled templates (file names without ``.json``), LeNet-5 first."""
    names = sorted(_template_files())
    preferred = ["lenet5", "mlp", "tinyvgg", "vgg-small", "shapes-localizer", "detector", "segmenter"]
    return [n for n in preferred if n in names] + [n for n in names if n not in preferred]


def template_path(name: str) -> Path:
    files = _template_files()
    if name not in files:
        raise UserError(f"There is no network template {name!r}; templates: {', '.join(template_names())}.")
    return files[name]


def load_template(name: str) -> dict:
    """The filled spec of template ``name`` (see :func:`cnnstudio.core.spec.load_spec`)."""
    from cnnstudio.core.spec import load_spec

    return load_spec(template_path(name))


def template_title(name: str) -> str:
    """The template's display name (its spec's ``name``), or ``name`` itself."""
    data = read_json(template_path(name), "network template")
    return str(data.get("name") or name)
