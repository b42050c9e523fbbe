"""``cnnstudio features MODEL IMAGE --out DIR [--layers NAME...]``: feature-map grids as PNG files.

MODEL is a template name, a spec JSON file, a training run folder or an ONNX file (ours or any other
image model). One PNG per layer (or per chosen tensor), each channel auto-levelled and colour-mapped.
"""

from __future__ import annotations

import re
from pathlib import Path

NAME = "features"
HELP = "write a model's feature maps for an image as PNG grids, one per layer"
DESCRIPTION = (
    "Run MODEL (a template name, spec JSON, run folder or ONNX file) on IMAGE and write every layer's "
    "feature maps (or only --layers) to DIR as PNG grids, one tile per channel."
)
ORDER = 60


def add_arguments(parser) -> None:
    parser.add_argument("model", metavar="MODEL", help="template name, spec JSON, run folder or .onnx file")
    parser.add_argument("image", metavar="IMAGE", help="an image file (PNG, JPEG, ...)")
    parser.add_argument("--out", metavar="DIR", required=True, help="folder for the PNG files (created)")
    parser.add_argument(
        "--layers", metavar="NAME", nargs="+", default=None,
        help="only these layer ids / ONNX tensor names (see the list printed without this option)",
    )
    parser.add_argument("--cmap", choices=("viridis", "gray", "jet"), default="viridis", help="colour map")


def file_name(index: int, name: str) -> str:
    """A safe, ordered PNG file name for a layer id or tensor name ("/c1/Conv_output_0" -> "01-c1_Conv_output_0.png")."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_.") or "tensor"
    return f"{index:02d}-{safe[:80]}.png"


def run(args) -> int:
    from cnnstudio.core.errors import UserError
    from cnnstudio.ml.inspect.models import open_model
    from cnnstudio.ml.inspect.render import render_grid, save_png
    from cnnstudio.ml.preprocess import load_image

    model = open_model(args.model)
    image = load_image(args.image)
    # layer ids or tensor names; a clear error names the layers that exist
    names = list(dict.fromkeys(model.resolve(n) for n in args.layers)) if args.layers else model.layer_names()
    analysis = model.analyse(model.prepare_image(image), names)
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"Cannot create the output folder {out}: {exc.strerror or exc}.") from None
    order = {n: i for i, n in enumerate(model.layer_names(), start=1)}
    for name in names:
        grid, _layout = render_grid(analysis.features[name], cmap=args.cmap)
        path = out / file_name(order[name], model.label(name))
        try:
            save_png(grid, path)
        except OSError as exc:
            raise UserError(f"Cannot write {path}: {exc.strerror or exc}.") from None
        print(f"{model.tensor(name).shape_text:>14}  {model.label(name)} -> {path}")
    top = analysis.top(model.meta, 1)[0]
    print(f"{model.title}: predicted {top[1]} ({top[2]:.1%}); {len(names)} PNG file(s) in {out}")
    if model.note:
        print(model.note)
    return 0
