"""``cnnstudio summary SPEC_FILE_OR_TEMPLATE [--json]``: the layer table of a network spec.

Like torchinfo or Keras' ``model.summary()``: per layer its id, type, output shape, parameters,
mult-adds and whether it trains, then the totals. An invalid spec prints one line on stderr naming
every problem and exits 2.
"""

from __future__ import annotations

import sys

NAME = "summary"
HELP = "print a network's layers, output shapes, parameters and mult-adds"
DESCRIPTION = (
    "Print the layer table of a network spec (a template name such as lenet5, or a spec JSON file): "
    "output shapes, parameters, mult-adds and trainable flags, computed without building the model."
)
ORDER = 20


def add_arguments(parser) -> None:
    parser.add_argument("spec", metavar="SPEC_FILE_OR_TEMPLATE", help="a template name (lenet5, ...) or a spec JSON file")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")


def summary_json(summary) -> dict:
    """The ``--json`` document: layers (id, type, output_shape, params, ...) and totals."""
    layers = []
    for info in summary.all_layers:
        layers.append(
            {
                "id": info.id,
                "type": info.type,
                "branch": info.branch,
                "output_shape": list(info.output_shape) if info.output_shape is not None else None,
                "params": info.params,
                "trainable": info.trainable,
                "mult_adds": info.mult_adds,
            }
        )
    return {
        "layers": layers,
        "input_shape": list(summary.input_shape) if summary.input_shape else None,
        "total_params": summary.total_params,
        "trainable_params": summary.trainable_params,
        "frozen_params": summary.frozen_params,
        "mult_adds": summary.mult_adds,
    }


def summary_table(spec: dict, summary) -> str:
    from cnnstudio.commands._output import format_table
    from cnnstudio.core.registry import format_shape

    rows = []
    for info in summary.layers:
        rows.append([info.id, info.type, format_shape(info.output_shape), info.params, info.mult_adds, info.trainable])
    if summary.box_head is not None:
        for info in summary.box_head.layers:
            rows.append(
                [f"{info.id} (box)", info.type, format_shape(info.output_shape), info.params, info.mult_adds,
                 info.trainable]
            )
    table = format_table(["Layer", "Type", "Output shape", "Params", "Mult-adds", "Trainable"], rows, "lllrrl")
    width = max(len(line) for line in table.splitlines())
    title = f"{spec.get('name') or 'Network'}: input {format_shape(summary.input_shape)}, {spec.get('task')}"
    if summary.box_head is not None:
        title += f" (box head from {summary.box_head.source!r})"
    lines = [title, "=" * width, table, "=" * width]
    lines.append(f"Total params: {summary.total_params:,}")
    lines.append(f"Trainable params: {summary.trainable_params:,}")
    lines.append(f"Non-trainable params: {summary.frozen_params:,}")
    lines.append(f"Mult-adds per image: {summary.mult_adds:,}")
    lines.append(f"Activations per image: {summary.activation_size:,} values ({summary.activation_size * 4 / 1e6:.2f} MB)")
    lines.append(f"Parameter size: {summary.total_params * 4 / 1e6:.2f} MB")
    return "\n".join(lines)


def run(args) -> int:
    from cnnstudio.commands._output import print_json
    from cnnstudio.core.inference import infer
    from cnnstudio.core.spec import load_spec

    spec = load_spec(args.spec)
    summary = infer(spec)
    if not summary.ok:  # one line, as for every user mistake: all problems in one sentence list
        from cnnstudio.core.errors import UserError

        count = len(summary.problems)
        head = "is not valid" if count == 1 else f"has {count} problems"
        raise UserError(f"The network in {args.spec} {head}: " + " ".join(summary.problems))
    if args.json:
        print_json(summary_json(summary))
    else:
        sys.stdout.write(summary_table(spec, summary) + "\n")
    return 0
