"""The lecture's worked examples (grid files in resources/grids) and its exercises with answer checking.

Every expected answer is computed with the reference ops in :mod:`cnnstudio.core.ops`, and every
explanation is built from the same numbers, so the text and the check cannot disagree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np

from cnnstudio.core import ops
from cnnstudio.core.errors import FormatError, UserError
from cnnstudio.core.formats import read_json, upgrade
from cnnstudio.core.paths import resource

GRID_FORMAT = "cnnstudio-grid"
GRID_VERSION = 1


# --- lecture grids ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class GridExample:
    """A small worked example: an input grid (1 or more channels) with a kernel or a pooling."""

    name: str
    title: str
    description: str
    kind: str  # "conv" or "pool"
    input: np.ndarray  # (C, H, W)
    kernel: np.ndarray | None = None  # (C, kh, kw) for conv
    bias: float = 0.0
    stride: int = 1
    padding: int = 0
    pad_mode: str = "constant"
    pad_value: float = 0.0
    dilation: int = 1
    pool_mode: str = "max"
    pool_size: int = 2
    channel_names: tuple[str, ...] = ()
    order: int = 100

    def conv_trace(self) -> ops.ConvTrace:
        return ops.conv_trace(self.input, self.kernel, self.bias, self.stride, self.padding, self.pad_mode,
                              self.pad_value, self.dilation)

    def pool_trace(self) -> ops.PoolTrace:
        return ops.pool_trace(self.input, self.pool_size, self.stride, self.pool_mode, self.padding)


def _grid(data: dict, key: str, source: str, channels: int | None = None) -> np.ndarray:
    try:
        arr = np.asarray(data[key], dtype=np.float64)
    except KeyError:
        raise FormatError(f"{source} has no {key!r} grid.") from None
    except (TypeError, ValueError):
        raise FormatError(f"{source}: {key!r} must be a rectangular grid of numbers.") from None
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3 or 0 in arr.shape or not np.all(np.isfinite(arr)):
        raise FormatError(f"{source}: {key!r} must be a non-empty 2-D grid or a list of 2-D channel grids.")
    if channels is not None and arr.shape[0] != channels:
        raise FormatError(f"{source}: {key!r} has {arr.shape[0]} channels but the input has {channels}.")
    return arr


def load_grid_example(path: str | Path) -> GridExample:
    """Read a grid example file; :class:`FormatError` with one clear sentence when it is not valid."""
    p = Path(path)
    source = f"The grid file {p.name}"
    data = upgrade(read_json(p, "grid file"), GRID_FORMAT, GRID_VERSION, source=source)
    kind = data.get("kind", "conv")
    if kind not in ("conv", "pool"):
        raise FormatError(f"{source} has an unknown kind {kind!r} (expected 'conv' or 'pool').")
    x = _grid(data, "input", source)
    kernel = _grid(data, "kernel", source, x.shape[0]) if kind == "conv" else None
    try:
        example = GridExample(
            name=str(data.get("name", p.stem)),
            title=str(data.get("title", p.stem)),
            description=str(data.get("description", "")),
            kind=kind,
            input=x,
            kernel=kernel,
            bias=float(data.get("bias", 0.0)),
            stride=int(data.get("stride", 1 if kind == "conv" else data.get("pool_size", 2))),
            padding=int(data.get("padding", 0)),
            pad_mode=str(data.get("pad_mode", "constant")),
            pad_value=float(data.get("pad_value", 0.0)),
            dilation=int(data.get("dilation", 1)),
            pool_mode=str(data.get("pool_mode", "max")),
            pool_size=int(data.get("pool_size", 2)),
            channel_names=tuple(str(n) for n in data.get("channel_names", ())),
            order=int(data.get("order", 100)),
        )
        # computing the result checks every setting (sizes, padding mode, ...)
        example.conv_trace() if kind == "conv" else example.pool_trace()
    except (TypeError, ValueError) as exc:
        raise FormatError(f"{source} has an invalid setting: {exc}.") from None
    except UserError as exc:
        raise FormatError(f"{source}: {exc}") from None
    return example


@cache
def grid_examples() -> tuple[GridExample, ...]:
    """The bundled lecture grids (resources/grids/*.json) in their display order."""
    folder = resource("grids")
    items = [load_grid_example(p) for p in sorted(folder.glob("*.json"))]
    return tuple(sorted(items, key=lambda e: (e.order, e.name)))


def grid_example(name: str) -> GridExample:
    for example in grid_examples():
        if example.name == name:
            return example
    raise UserError(f"There is no bundled grid example named {name!r}.")


# --- answers ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CheckResult:
    correct: bool
    message: str
    understood: bool = True  # False when the answer could not be read at all


_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"


def parse_grid(text: str) -> np.ndarray:
    """Read a typed grid: one row per line (or rows split by ';' or '],'), numbers split by spaces/commas.

    ``[[2, 6, 0], [23, 35, 8]]``, ``2 6 0; 23 35 8`` and two lines ``2 6 0`` / ``23 35 8`` all work.
    """
    cleaned = text.replace("−", "-").strip()
    if not cleaned:
        raise UserError("Type the grid, one row per line (numbers separated by spaces).")
    rows_text = re.split(r"\]\s*,?\s*\[|;|\n", cleaned)
    rows = []
    for row in rows_text:
        row = row.strip().strip("[]").strip()
        if not row:
            continue
        tokens = [t for t in re.split(r"[\s,]+", row) if t]
        values = []
        for token in tokens:
            if not re.fullmatch(_NUMBER, token):
                raise UserError(f"“{token}” is not a number; write the grid as numbers separated by spaces.")
            values.append(float(token))
        rows.append(values)
    if not rows:
        raise UserError("Type the grid, one row per line (numbers separated by spaces).")
    lengths = {len(r) for r in rows}
    if len(lengths) != 1:
        raise UserError(f"The rows have different lengths ({', '.join(str(len(r)) for r in rows)}); "
                        "every row needs the same number of values.")
    return np.array(rows, dtype=np.float64)


def parse_size(text: str) -> tuple[int, ...]:
    """Read a size like ``3x3``, ``3 × 3``, ``3 by 3`` or ``3x3x1``."""
    cleaned = text.strip().lower().replace("×", "x").replace("*", "x").replace("by", "x").replace("@", "x")
    parts = [p.strip() for p in cleaned.split("x")]
    if len(parts) == 1 and parts[0].isdecimal():
        raise UserError(f"Give both the height and the width, like {parts[0]}x{parts[0]}.")
    if len(parts) < 2 or not all(p.isdecimal() for p in parts):
        raise UserError("Write the size as height x width, like 4x4 (or 4x4x1 with the channels).")
    return tuple(int(p) for p in parts)


def parse_int(text: str) -> int:
    """Read a whole number; thousands separators (``65,856``, ``65 856``, ``65'856``) are fine."""
    cleaned = re.sub(r"[\s,'_’]", "", text.strip().replace("−", "-"))
    if not re.fullmatch(r"[-+]?\d+", cleaned):
        raise UserError("Type a whole number, like 1234.")
    return int(cleaned)


# --- exercises ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Exercise:
    """A "work it out, then check" card."""

    id: str
    title: str
    prompt: str
    answer_kind: str  # "grid", "size" or "int"
    expected: object  # np.ndarray for grids, tuple for sizes, int for counts
    working: str  # the worked solution, shown on request
    placeholder: str = ""
    grids: tuple[tuple[str, np.ndarray], ...] = ()  # (caption, grid) shown with the prompt
    example: str | None = None  # a grid example to open in the step-through view
    hints: dict = field(default_factory=dict)  # a typical wrong answer -> a hint
    unit: str = "weights"  # for "int" answers: what is counted ("" for a plain value)

    def check(self, answer: str) -> CheckResult:
        try:
            if self.answer_kind == "grid":
                return self._check_grid(parse_grid(answer))
            if self.answer_kind == "size":
                return self._check_size(parse_size(answer))
            return self._check_int(parse_int(answer))
        except UserError as exc:
            return CheckResult(False, str(exc), understood=False)

    def _check_grid(self, got: np.ndarray) -> CheckResult:
        want = np.asarray(self.expected)
        if got.shape != want.shape:
            return CheckResult(False, f"Your grid is {got.shape[0]}x{got.shape[1]}, but the result is "
                                      f"{want.shape[0]}x{want.shape[1]}. Work out the output size first.")
        wrong = np.argwhere(np.abs(got - want) > 1e-6)
        if len(wrong) == 0:
            return CheckResult(True, "Correct! Every value matches.")
        r, c = wrong[0]
        return CheckResult(False, f"{len(wrong)} of {want.size} values differ; the first is in row {r + 1}, "
                                  f"column {c + 1} (you wrote {ops.format_number(got[r, c])}). Check that window.")

    def _check_size(self, got: tuple[int, ...]) -> CheckResult:
        want = tuple(self.expected)
        if len(got) == 3 and got[2] == 1 and len(want) == 2:
            got = got[:2]
        if got == want:
            return CheckResult(True, f"Correct! The result is {'x'.join(map(str, want))}.")
        hint = self.hints.get(got)
        text = f"Not quite: {'x'.join(map(str, got))} is not the size that comes out."
        return CheckResult(False, f"{text} {hint}" if hint else text)

    def _check_int(self, got: int) -> CheckResult:
        value = f"{got:,}" if self.unit else ops.format_number(got)
        if got == self.expected:
            return CheckResult(True, f"Correct! {value} {self.unit}".rstrip() + ".")
        hint = self.hints.get(got)
        text = f"Not quite: {value} is not the {'count' if self.unit else 'value'}."
        return CheckResult(False, f"{text} {hint}" if hint else text)


def _grid_text(a: np.ndarray) -> str:
    cells = [[ops.format_number(v) for v in row] for row in np.asarray(a)]
    width = max(len(c) for row in cells for c in row)
    return "\n".join("  " + " ".join(c.rjust(width) for c in row) for row in cells)


def _conv_working(example: GridExample) -> str:
    trace = example.conv_trace()
    _, h, w = example.input.shape
    kh, kw = example.kernel.shape[1:]
    p, s = example.padding, example.stride
    if (h, kh) == (w, kw):
        lines = [f"Output size: {ops.conv_output_formula(h, kh, s, p)} in each direction."]
    else:
        lines = [f"Output size: {ops.conv_output_formula(h, kh, s, p)} rows and "
                 f"{ops.conv_output_formula(w, kw, s, p)} columns."]
    if p:
        rings = "1 ring" if p == 1 else f"{p} rings"
        lines += [f"The input padded with {rings} of {ops.format_number(example.pad_value)}s:",
                  _grid_text(trace.padded[0])]
    moves = "1 cell" if s == 1 else f"{s} cells"
    lines.append(f"The {kh}x{kw} window moves {moves} at a time; multiply each value by the kernel weight "
                 "on top of it and add:")
    for step in trace.steps:
        lines.append(f"  row {step.out_row + 1}, col {step.out_col + 1}: {step.equation(0)}")
    lines += ["Result:", _grid_text(trace.output)]
    return "\n".join(lines)


def _pool_working(example: GridExample) -> str:
    trace = example.pool_trace()
    lines = [f"Output size: {ops.conv_output_formula(example.input.shape[1], example.pool_size, example.stride)}."]
    for i in range(trace.num_steps):
        step = trace.step(i)
        lines.append(f"  row {step.out_row + 1}, col {step.out_col + 1}: {step.equation(example.pool_mode)}")
    lines += ["Result:", _grid_text(trace.output[0])]
    return "\n".join(lines)


def _param_counts() -> dict:
    """The weight-sharing exercise: 28x28 digits, 84 hidden neurons, with and without convolutions."""
    n1, n2, k = 10, 20, 5
    c1 = ops.conv_output_size(28, k)  # 24
    p1 = ops.conv_output_size(c1, 2, 2)  # 12
    c2 = ops.conv_output_size(p1, k)  # 8
    p2 = ops.conv_output_size(c2, 2, 2)  # 4
    flat = p2 * p2 * n2
    conv1 = k * k * 1 * n1
    conv2 = k * k * n1 * n2
    dense = flat * 84
    return dict(n1=n1, n2=n2, k=k, c1=c1, p1=p1, c2=c2, p2=p2, flat=flat, conv1=conv1, conv2=conv2,
                dense=dense, total=conv1 + conv2 + dense, plain=28 * 28 * 84)


@cache
def exercises() -> tuple[Exercise, ...]:
    lecture = grid_example("lecture-conv-5x5")
    colour = grid_example("lecture-colour")
    first = colour.conv_trace().step(0)
    names = colour.channel_names or ("Channel 1", "Channel 2", "Channel 3")
    slido = grid_example("exercise-4x4")
    pool = grid_example("pool-4x4")
    pc = _param_counts()
    size_5 = ops.conv_output_size(5, 3, 2, 1)
    c = ops.conv_output_size(10, 5)
    m = ops.conv_output_size(c, 2, 2)
    return (
        Exercise(
            id="lecture-conv",
            title="Slide the kernel",
            prompt="Apply the 3x3 kernel to the 5x5 input (no padding, stride 1). What comes out?",
            answer_kind="grid",
            expected=lecture.conv_trace().output,
            working=_conv_working(lecture),
            placeholder="one row per line, e.g.\n1 2 3\n4 5 6\n7 8 9",
            grids=(("Input", lecture.input[0]), ("Kernel", lecture.kernel[0])),
            example=lecture.name,
        ),
        Exercise(
            id="padding-stride-size",
            title="Padding and stride: the size",
            prompt="A 3x3 kernel is applied to a 5x5 image with 1x1 zero padding and a 2x2 stride. "
                   "How large is the result (height x width)?",
            answer_kind="size",
            expected=(size_5, size_5),
            working="Output size = (n + 2·padding − kernel) / stride + 1, rounded down before the + 1:\n"
                    f"  {ops.conv_output_formula(5, 3, 2, 1)} in each direction, so {size_5}x{size_5}.\n"
                    "The padded image is 7x7; the window starts at rows/columns 0, 2 and 4.",
            placeholder="e.g. 4x4",
            hints={(5, 5): "That would need a stride of 1.", (2, 2): "Did you forget the padding?"},
        ),
        Exercise(
            id="slido-4x4",
            title="Padding and stride: the values",
            prompt="Apply the kernel to the image using 1x1 zero padding and a 2x2 stride. What is the result?",
            answer_kind="grid",
            expected=slido.conv_trace().output,
            working=_conv_working(slido),
            placeholder="one row per line, e.g.\n1 2 3\n4 5 6\n7 8 9",
            grids=(("Image", slido.input[0]), ("Kernel", slido.kernel[0])),
            example=slido.name,
        ),
        Exercise(
            id="colour-first-output",
            title="Colour images: one output value",
            prompt="A 3-channel kernel with a bias of 1 lies on the top-left corner of a colour image with 1x1 "
                   "zero padding (the windows below). What is the output value there?",
            answer_kind="int",
            expected=int(round(first.total)),
            working="\n".join(
                [f"  {name}: {first.equation(c)}" for c, name in enumerate(names)]
                + [f"  total: {first.total_equation()}",
                   "One kernel slice per input channel; the channels' sums and the bias add up to one number."]
            ),
            placeholder="e.g. 42",
            grids=tuple(
                item for c, name in enumerate(names)
                for item in ((f"{name} window", first.window[c]), (f"Kernel #{c + 1}", first.kernel[c]))
            ),
            example=colour.name,
            hints={int(round(sum(first.channel_sums))): "Don't forget the bias.",
                   int(round(first.channel_sums[0])): f"That is only the first channel ({names[0]}); add all three "
                                                      "and the bias."},
            unit="",
        ),
        Exercise(
            id="pool-4x4",
            title="Max pool",
            prompt="Max pool the grid with a 2x2 window and stride 2. What is the result?",
            answer_kind="grid",
            expected=pool.pool_trace().output[0],
            working=_pool_working(pool),
            placeholder="one row per line, e.g.\n1 2\n3 4",
            grids=(("Input", pool.input[0]),),
            example=pool.name,
        ),
        Exercise(
            id="conv-pool-size",
            title="Convolution, then pool: the size",
            prompt="Input: a 10x10x1 image (grayscale, 10x10 pixels).\nConvolution: 5x5 kernel, stride 1 "
                   "(no padding).\nMaxPool: 2x2, stride 2.\nWhat is the size of the resulting image?",
            answer_kind="size",
            expected=(m, m),
            working=f"Convolution: {ops.conv_output_formula(10, 5)}, so {c}x{c}x1.\n"
                    f"Max pool: {ops.conv_output_formula(c, 2, 2)}, so {m}x{m}x1.",
            placeholder="e.g. 4x4",
            hints={(c, c): f"{c}x{c} is the size after the convolution; now apply the pool.",
                   (5, 5): "The pool halves the size after the convolution, not the input.",
                   (2, 2): "Check the convolution: a 5x5 kernel fits 10 − 5 + 1 times."},
        ),
        Exercise(
            id="weights-dense",
            title="Weights without convolutions",
            prompt="Digit recognition on 28x28 grayscale images: a fully connected hidden layer with 84 "
                   "neurons looks at every pixel. How many weights does that layer learn (no intercepts)?",
            answer_kind="int",
            expected=pc["plain"],
            working=f"Every one of the 28·28 = 784 pixels connects to each of the 84 neurons:\n"
                    f"  784 · 84 = {pc['plain']:,} weights.",
            placeholder="e.g. 1234",
            hints={784: "That is the number of inputs; each goes to all 84 neurons.",
                   84: "That is the number of neurons; each sees all 784 pixels."},
        ),
        Exercise(
            id="weights-conv",
            title="Weights with convolutions",
            prompt=f"Same task, but first two convolution sections (assume n1 = {pc['n1']}, n2 = {pc['n2']}):\n"
                   f"  conv {pc['k']}x{pc['k']} with n1 kernels (stride 1, no padding) → max pool 2x2, stride 2\n"
                   f"  conv {pc['k']}x{pc['k']} with n2 kernels (stride 1, no padding) → max pool 2x2, stride 2\n"
                   "  flatten → fully connected layer with 84 neurons.\n"
                   "How many weights are learned in total (not counting intercepts)?",
            answer_kind="int",
            expected=pc["total"],
            working=(
                f"Sizes: 28x28x1 → conv → {pc['c1']}x{pc['c1']}x{pc['n1']} → pool → {pc['p1']}x{pc['p1']}x{pc['n1']} "
                f"→ conv → {pc['c2']}x{pc['c2']}x{pc['n2']} → pool → {pc['p2']}x{pc['p2']}x{pc['n2']} = "
                f"{pc['flat']} values.\n"
                f"  conv 1: {pc['k']}·{pc['k']}·1 weights per kernel · {pc['n1']} kernels = {pc['conv1']:,}\n"
                f"  conv 2: {pc['k']}·{pc['k']}·{pc['n1']} weights per kernel (one slice per input channel) · "
                f"{pc['n2']} kernels = {pc['conv2']:,}\n"
                f"  pools: no weights\n"
                f"  dense: {pc['flat']} · 84 = {pc['dense']:,}\n"
                f"  total: {pc['conv1']:,} + {pc['conv2']:,} + {pc['dense']:,} = {pc['total']:,} "
                f"(vs {pc['plain']:,} without convolutions: weight sharing).\n"
                "The kernels are reused at every position, so their count does not depend on the image size."
            ),
            placeholder="e.g. 1234",
            hints={
                pc["conv1"] + pc["conv2"]: "That is only the convolution weights; add the dense layer.",
                pc["k"] * pc["k"] * pc["n1"] + pc["k"] * pc["k"] * pc["n2"] + pc["dense"]:
                    f"A kernel of the second convolution has one {pc['k']}x{pc['k']} slice per input channel "
                    f"({pc['n1']} of them).",
                pc["plain"]: "That is the count without convolutions.",
            },
        ),
    )


def exercise(exercise_id: str) -> Exercise:
    for item in exercises():
        if item.id == exercise_id:
            return item
    raise UserError(f"There is no exercise named {exercise_id!r}.")


__all__ = [
    "GRID_FORMAT", "GRID_VERSION", "CheckResult", "Exercise", "GridExample", "exercise", "exercises",
    "grid_example", "grid_examples", "load_grid_example", "parse_grid", "parse_int", "parse_size",
]
