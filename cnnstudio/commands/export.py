"""``cnnstudio export SPEC_OR_RUN --onnx OUT.onnx [--torch OUT.py] [--seed N]``.

A spec or template exports freshly initialised weights (seeded); a training run folder exports the
weights of its latest checkpoint (or ``--checkpoint NAME``). The ONNX file carries the metadata any
runner needs; ``--torch`` writes a standalone PyTorch source file of the same network.
"""

from __future__ import annotations

import sys

NAME = "export"
HELP = "export a network (spec, template or training run) to ONNX and/or PyTorch source"
DESCRIPTION = (
    "Export SPEC_OR_RUN (a template name, a spec JSON file or a training run folder) as an ONNX model "
    "with CNN Studio's metadata (--onnx) and/or as a standalone PyTorch source file (--torch). A spec "
    "gets fresh weights from --seed; a run folder gets the weights of its latest checkpoint."
)
ORDER = 30


def add_arguments(parser) -> None:
    parser.add_argument("source", metavar="SPEC_OR_RUN", help="template name, spec JSON file or training run folder")
    parser.add_argument("--onnx", metavar="OUT.onnx", help="write the ONNX model here")
    parser.add_argument("--torch", metavar="OUT.py", help="write a standalone PyTorch module here")
    parser.add_argument("--seed", type=int, default=0, help="seed for fresh weights of a spec (default 0)")
    parser.add_argument("--checkpoint", metavar="NAME", help="a run's checkpoint file name (default: the latest)")
    parser.add_argument("--opset", type=int, default=17, help="ONNX opset version (17 or newer; default 17)")


def run(args) -> int:
    from cnnstudio.core.errors import UserError
    from cnnstudio.ml.export import export_onnx, export_torch_code, load_export_source, onnx_parity

    if not args.onnx and not args.torch:
        raise UserError("Say what to write: --onnx OUT.onnx and/or --torch OUT.py.")
    spec, model, origin = load_export_source(args.source, seed=args.seed, checkpoint=args.checkpoint)
    if args.onnx:
        path = _writable(args.onnx, export_onnx, model, spec, args.onnx, args.opset)
        diff = onnx_parity(model, path)
        print(f"Wrote {path} ({origin}; ONNX Runtime vs PyTorch max difference {diff:.2e}).")
    if args.torch:
        path = _writable(args.torch, export_torch_code, spec, args.torch)
        print(f"Wrote {path} (a PyTorch module of {spec.get('name') or 'the network'}).")
    sys.stdout.flush()
    return 0


def _writable(target: str, fn, *args):
    from cnnstudio.core.errors import UserError

    try:
        return fn(*args)
    except OSError as exc:
        raise UserError(f"Cannot write {target}: {exc.strerror or exc}.") from None
