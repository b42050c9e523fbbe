"""The search space of a hyperparameter study: which training settings and layer parameters vary, and how.

Pure Python (no torch, no optuna): the Experiments workspace edits it, the project file and
``space.json`` store it (format ``cnnstudio-search-space``), and :mod:`cnnstudio.ml.hpo` turns each
:class:`Dimension` into an Optuna distribution.

A dimension is either a **training** setting, named and bounded by the training settings schema
(:mod:`cnnstudio.core.train_settings`), or a **layer** parameter of the network (``c1.out_channels``),
bounded by the layer registry; :meth:`SearchSpace.apply` writes one trial's values into a copy of the
training settings and the spec (:func:`cnnstudio.core.spec_edit.set_param`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cnnstudio.core.errors import UserError
from cnnstudio.core.formats import read_json, upgrade

SPACE_FORMAT = "cnnstudio-search-space"
SPACE_VERSION = 1
KINDS = ("float", "int", "bool", "choice")
TARGETS = ("training", "layer")
#: points per numeric dimension on the grid sampler's grid (the default)
DEFAULT_GRID_POINTS = 3
MAX_GRID_POINTS = 50
#: layer parameter kinds that can be searched, and as which dimension kind
_LAYER_KINDS = {"int": "int", "int_or_pair": "int", "float": "float", "bool": "bool", "choice": "choice"}


@dataclass(frozen=True)
class Dimension:
    """One searched value: a training setting (``name``) or a layer parameter (``layer``.``name``)."""

    target: str  # "training" or "layer"
    name: str  # the training setting or the layer parameter
    kind: str  # "float", "int", "bool" or "choice"
    layer: str = ""  # the layer id (target "layer")
    low: float | None = None  # float / int
    high: float | None = None
    log: bool = False  # sample log-uniformly (float / int with low > 0)
    step: int = 1  # int
    choices: tuple = ()  # choice (bool: False, True)
    grid: int = DEFAULT_GRID_POINTS  # grid points of a float / int dimension for grid search

    @property
    def key(self) -> str:
        """The parameter name in the study: ``lr`` or ``c1.out_channels``."""
        return f"{self.layer}.{self.name}" if self.target == "layer" else self.name

    @property
    def values(self) -> tuple:
        """The candidates of a bool / choice dimension."""
        return (False, True) if self.kind == "bool" else tuple(self.choices)

    def describe(self) -> str:
        """``log-uniform 0.0001 … 0.1`` / ``integer 4 … 16`` / ``one of 16, 32, 64``."""
        if self.kind == "float":
            return f"{'log-uniform' if self.log else 'uniform'} {_num(self.low)} … {_num(self.high)}"
        if self.kind == "int":
            step = f" step {self.step}" if self.step != 1 else ""
            return f"integer {_num(self.low)} … {_num(self.high)}{step}{' (log)' if self.log else ''}"
        return "one of " + ", ".join(_num(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else str(v)
                                     for v in self.values)

    def grid_values(self) -> list:
        """The values grid search tries: every choice, or ``grid`` evenly (log-)spaced numbers."""
        if self.kind in ("bool", "choice"):
            return list(self.values)
        low, high, n = float(self.low), float(self.high), max(1, int(self.grid))
        if n == 1 or low == high:
            points = [low]
        elif self.log:
            a, b = math.log(low), math.log(high)
            points = [math.exp(a + (b - a) * i / (n - 1)) for i in range(n)]
            points[0], points[-1] = low, high
        else:
            points = [low + (high - low) * i / (n - 1) for i in range(n)]
        if self.kind == "float":
            return [float(f"{p:.6g}") if low < float(f"{p:.6g}") < high else p for p in points]
        step = max(1, int(self.step))
        out: list[int] = []
        for p in points:  # integers on the step lattice from low, inside the range, without repeats
            v = int(low) + step * round((p - low) / step)
            v = min(max(v, int(low)), int(low) + step * ((int(high) - int(low)) // step))
            if v not in out:
                out.append(v)
        return out

    def to_dict(self) -> dict:
        data: dict[str, Any] = {"target": self.target, "name": self.name, "kind": self.kind}
        if self.target == "layer":
            data["layer"] = self.layer
        if self.kind in ("float", "int"):
            data.update(low=self.low, high=self.high, log=self.log, grid=self.grid)
            if self.kind == "int" and self.step != 1:
                data["step"] = self.step
        elif self.kind == "choice":
            data["choices"] = list(self.choices)
        return data

    @classmethod
    def from_dict(cls, data: Any, where: str = "a dimension") -> Dimension:
        if not isinstance(data, Mapping):
            raise UserError(f"{where} is not an object with target, name and kind.")
        target, name, kind = data.get("target", "training"), data.get("name"), data.get("kind")
        if target not in TARGETS:
            raise UserError(f"{where} has the target {target!r}; use 'training' or 'layer'.")
        if not isinstance(name, str) or not name:
            raise UserError(f"{where} has no name.")
        if kind not in KINDS:
            raise UserError(f"{where} ({name}) has the kind {kind!r}; use float, int, bool or choice.")
        layer = data.get("layer", "")
        if target == "layer" and (not isinstance(layer, str) or not layer):
            raise UserError(f"{where} ({name}) is a layer parameter but names no layer.")
        choices = data.get("choices", ())
        if not isinstance(choices, (list, tuple)):
            raise UserError(f"{where} ({name}) has choices that are not a list.")
        try:
            dim = cls(
                target=target, name=name, kind=kind, layer=layer if target == "layer" else "",
                low=_opt_number(data.get("low")), high=_opt_number(data.get("high")),
                log=bool(data.get("log", False)), step=int(data.get("step", 1)),
                choices=tuple(choices), grid=int(data.get("grid", DEFAULT_GRID_POINTS)),
            )
        except (TypeError, ValueError):
            raise UserError(f"{where} ({name}) has a bound, step or grid that is not a number.") from None
        problem = dim.problem()
        if problem:
            raise UserError(f"{where}: {problem}")
        return dim

    def problem(self) -> str | None:
        """What is wrong with the dimension on its own (None when it is fine)."""
        key = self.key
        if self.kind in ("float", "int"):
            if self.low is None or self.high is None:
                return f"{key} needs a low and a high bound."
            if not (math.isfinite(self.low) and math.isfinite(self.high)):
                return f"{key} has a bound that is not a finite number."
            if self.low > self.high:
                return f"{key} has its low bound {_num(self.low)} above its high bound {_num(self.high)}."
            if self.log and self.low <= 0:
                return f"{key} is log-scaled, so its low bound must be above 0 (not {_num(self.low)})."
            if self.kind == "int":
                if not (float(self.low).is_integer() and float(self.high).is_integer()):
                    return f"{key} is a whole number, so its bounds must be whole numbers."
                if self.step < 1:
                    return f"{key} needs a step of at least 1."
                if self.log and self.step != 1:
                    return f"{key} cannot be log-scaled with a step other than 1."
            if not 1 <= self.grid <= MAX_GRID_POINTS:
                return f"{key} needs 1 to {MAX_GRID_POINTS} grid points, not {self.grid}."
        if self.kind == "choice":
            if not self.choices:
                return f"{key} has no choices."
            if len(set(map(repr, self.choices))) != len(self.choices):
                return f"{key} lists a choice twice."
            if not all(v is None or isinstance(v, (str, int, float, bool)) for v in self.choices):
                return f"{key} has a choice that is not a number, text or true/false."
        return None


@dataclass(frozen=True)
class SearchSpace:
    """The dimensions of a study, in order (their keys are unique)."""

    dimensions: tuple[Dimension, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        object.__setattr__(self, "dimensions", tuple(self.dimensions))

    def __len__(self) -> int:
        return len(self.dimensions)

    def __iter__(self):
        return iter(self.dimensions)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(d.key for d in self.dimensions)

    def dimension(self, key: str) -> Dimension:
        for d in self.dimensions:
            if d.key == key:
                return d
        raise KeyError(f"the search space has no dimension {key!r}")

    def with_dimension(self, dim: Dimension) -> SearchSpace:
        """A copy with ``dim`` replacing the dimension of the same key, or added at the end."""
        dims = list(self.dimensions)
        for i, d in enumerate(dims):
            if d.key == dim.key:
                dims[i] = dim
                return SearchSpace(tuple(dims))
        return SearchSpace((*dims, dim))

    def without(self, key: str) -> SearchSpace:
        return SearchSpace(tuple(d for d in self.dimensions if d.key != key))

    # --- grid --------------------------------------------------------------------------------
    def grid(self) -> dict[str, list]:
        """``{key: values}`` for Optuna's GridSampler."""
        return {d.key: d.grid_values() for d in self.dimensions}

    def grid_size(self) -> int:
        return math.prod(len(v) for v in self.grid().values()) if self.dimensions else 0

    # --- checks and use ----------------------------------------------------------------------
    def problems(self, spec: dict | None = None) -> list[str]:
        """Every problem, as sentences: a bad dimension, a repeated key, a setting the schema does not
        know or cannot search, a layer the network lacks, a range outside the allowed one."""
        out: list[str] = []
        if not self.dimensions:
            out.append("The search space is empty; add at least one dimension.")
        seen: set[str] = set()
        for d in self.dimensions:
            if d.key in seen:
                out.append(f"{d.key} is in the search space twice.")
            seen.add(d.key)
            problem = d.problem() or (_training_problem(d) if d.target == "training" else _layer_problem(d, spec))
            if problem:
                out.append(problem)
        return out

    def check(self, spec: dict | None = None) -> None:
        """Raise UserError with the first problem."""
        problems = self.problems(spec)
        if problems:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            raise UserError(f"The search space is not valid: {problems[0]}{more}")

    def apply(self, params: Mapping[str, Any], spec: dict, training: dict) -> tuple[dict, dict]:
        """One trial's ``{key: value}`` written into copies of the spec and the training settings."""
        from cnnstudio.core.spec_edit import set_param

        new_training = dict(training)
        new_spec = spec
        for d in self.dimensions:
            if d.key not in params:
                continue
            value = _plain(params[d.key], d)
            if d.target == "training":
                new_training[d.name] = value
            else:
                new_spec = set_param(new_spec, d.layer, d.name, value)
        if new_spec is spec:
            import copy

            new_spec = copy.deepcopy(spec)
        return new_spec, new_training

    # --- files -------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {"format": SPACE_FORMAT, "version": SPACE_VERSION, "dimensions": [d.to_dict() for d in self.dimensions]}

    @classmethod
    def from_dict(cls, data: Any, source: str = "The search space") -> SearchSpace:
        data = upgrade(data, SPACE_FORMAT, SPACE_VERSION, source=source)
        dims = data.get("dimensions")
        if not isinstance(dims, list):
            raise UserError(f"{source} has no list of dimensions.")
        return cls(tuple(Dimension.from_dict(d, f"{source}, dimension {i + 1}") for i, d in enumerate(dims)))


def load_space(path) -> SearchSpace:
    """Read a ``space.json`` file; any problem is one UserError sentence."""
    return SearchSpace.from_dict(read_json(path, "search space"), source=f"The search space {path}")


def save_space(space: SearchSpace, path) -> None:
    from cnnstudio.core.fileio import atomic_write_json

    atomic_write_json(path, space.to_dict())


# --- dimensions from the schemas --------------------------------------------------------------------
def training_dimension(name: str) -> Dimension:
    """The default dimension of a training setting, with its range from the training settings schema."""
    from cnnstudio.core import train_settings

    try:
        opt = train_settings.option(name)
    except KeyError:
        raise UserError(f"There is no training setting {name!r} to search.") from None
    if not opt.searchable:
        raise UserError(f"The training setting {name} cannot be searched.")
    return _dimension_from_option(opt)


def searchable_training_settings(task: str | None = None) -> list[str]:
    """The names of the training settings a study may vary (for a network of ``task``), in schema order."""
    from cnnstudio.core import train_settings

    return [o.name for o in train_settings.OPTIONS
            if o.searchable and (task is None or o.applies_to(task))]


def layer_dimension(spec: dict, layer_id: str, name: str) -> Dimension:
    """The default dimension of a layer parameter: around its value, inside the registry's range."""
    layer, param = _layer_param(spec, layer_id, name)
    kind = _LAYER_KINDS[param.kind]
    if kind == "bool":
        return Dimension("layer", name, "bool", layer=layer_id)
    if kind == "choice":
        return Dimension("layer", name, "choice", layer=layer_id, choices=tuple(param.choices))
    value = layer.get(name, param.default)
    if isinstance(value, (list, tuple)):
        value = value[0]
    lo_limit = param.minimum if param.minimum is not None else -math.inf
    hi_limit = param.maximum if param.maximum is not None else math.inf
    if kind == "float":
        value = float(value)
        if lo_limit == 0.0 and hi_limit == 1.0:  # a probability (dropout p): 0 … 0.5
            low, high = 0.0, 0.5
        else:
            low, high = (value / 10, value * 10) if value > 0 else (lo_limit, hi_limit)
        low, high = max(low, lo_limit), min(high, hi_limit)
        return Dimension("layer", name, "float", layer=layer_id, low=low, high=high, log=low > 0 and high / low >= 100)
    value = int(value)
    low, high = max(int(lo_limit), max(1, value // 2)), min(hi_limit, max(value * 2, value + 2))
    return Dimension("layer", name, "int", layer=layer_id, low=low, high=int(high), log=low > 0 and high / low >= 8)


def layer_candidates(spec: dict) -> list[tuple[str, str]]:
    """``(layer id, parameter)`` pairs of the network that a study can vary (numbers, flags, choices)."""
    from cnnstudio.core.registry import get_layer_type

    out = []
    for layer in spec.get("layers") or []:
        if not isinstance(layer, dict) or not isinstance(layer.get("id"), str):
            continue
        try:
            layer_type = get_layer_type(str(layer.get("type")))
        except KeyError:
            continue
        for param in layer_type.params:
            if param.kind in _LAYER_KINDS:
                out.append((layer["id"], param.name))
    return out


def default_space() -> SearchSpace:
    """A first study: the learning rate (log-uniform) and the batch size, ranges from the schema."""
    return SearchSpace(tuple(training_dimension(n) for n in ("lr", "batch_size") if n in searchable_training_settings()))


def space_from_keys(spec: dict, keys: Iterable[str]) -> SearchSpace:
    """Default dimensions for ``lr``, ``batch_size``, ``c1.out_channels``, …"""
    dims = []
    for key in keys:
        if "." in key:
            layer_id, _, name = key.partition(".")
            dims.append(layer_dimension(spec, layer_id, name))
        else:
            dims.append(training_dimension(key))
    return SearchSpace(tuple(dims))


# --- pieces --------------------------------------------------------------------------------------------
def _dimension_from_option(opt) -> Dimension:
    kind = opt.kind
    search = opt.search  # the schema's default search range (or choices)
    if kind == "bool":
        return Dimension("training", opt.name, "bool")
    if kind == "choice":
        choices = tuple(search) if isinstance(search, (list, tuple)) and search else tuple(opt.choices)
        return Dimension("training", opt.name, "choice", choices=choices)
    if isinstance(search, (list, tuple)) and len(search) == 2 and all(isinstance(v, (int, float)) for v in search):
        low, high = search
    else:
        low, high = opt.minimum, opt.maximum
    if low is None or high is None:
        raise UserError(f"The training setting {opt.name} has no range to search; give one in the space.")
    log = opt.log and low > 0
    if kind == "int":
        powers = _powers_of_two(int(low), int(high)) if log else None
        if powers:  # a log-scaled count between powers of two (the batch size): try the powers of two
            return Dimension("training", opt.name, "choice", choices=powers)
        return Dimension("training", opt.name, "int", low=int(low), high=int(high), log=log)
    return Dimension("training", opt.name, "float", low=float(low), high=float(high), log=log)


def _powers_of_two(low: int, high: int) -> tuple[int, ...] | None:
    def is_power(v: int) -> bool:
        return v > 0 and v & (v - 1) == 0

    if not (is_power(low) and is_power(high)) or high <= low:
        return None
    out, v = [], low
    while v <= high:
        out.append(v)
        v *= 2
    return tuple(out)


def _training_problem(d: Dimension) -> str | None:
    from cnnstudio.core import train_settings

    try:
        opt = train_settings.option(d.name)
    except KeyError:
        return f"{d.name} is not a training setting."
    if not opt.searchable:
        return f"The training setting {d.name} cannot be searched."
    allowed = {opt.kind} | ({"choice"} if opt.kind in ("int", "float", "bool") else set())
    if d.kind not in allowed:
        return f"{d.name} is a {opt.kind} setting, not a {d.kind} one."
    if d.kind in ("float", "int"):
        return _range_problem(d, opt.minimum, opt.maximum, opt.exclusive_minimum, opt.exclusive_maximum)
    if d.kind == "choice":
        for value in d.choices:
            try:
                if opt.kind in ("int", "float") and (isinstance(value, bool) or not isinstance(value, (int, float))):
                    raise UserError(f"{value!r} is not a number.")
                opt.check(value)
            except UserError as exc:
                return f"{d.key}: {exc}"
    return None


def _layer_problem(d: Dimension, spec: dict | None) -> str | None:
    if spec is None:
        return None
    try:
        _layer, param = _layer_param(spec, d.layer, d.name)
    except UserError as exc:
        return str(exc)
    kind = _LAYER_KINDS[param.kind]
    if d.kind != kind and not (kind in ("int", "float") and d.kind == "choice"):
        return f"{d.key} is a {kind} parameter, not a {d.kind} one."
    if d.kind in ("float", "int"):
        return _range_problem(d, param.minimum, param.maximum)
    for value in d.values:
        problem = param.check(value)
        if problem:
            return f"{d.key}: {problem}."
    return None


def _range_problem(d: Dimension, minimum, maximum, above: bool = False, below: bool = False) -> str | None:
    if minimum is not None and (d.low <= minimum if above else d.low < minimum):
        word = "above" if above else "at least"
        return f"{d.key} must stay {word} {_num(minimum)} (its low bound is {_num(d.low)})."
    if maximum is not None and (d.high >= maximum if below else d.high > maximum):
        word = "below" if below else "at most"
        return f"{d.key} must stay {word} {_num(maximum)} (its high bound is {_num(d.high)})."
    return None


def _layer_param(spec: dict, layer_id: str, name: str):
    from cnnstudio.core.registry import get_layer_type

    layer = next((la for la in spec.get("layers") or [] if isinstance(la, dict) and la.get("id") == layer_id), None)
    if layer is None:
        raise UserError(f"The network has no layer {layer_id!r} (for {layer_id}.{name}).")
    try:
        layer_type = get_layer_type(str(layer.get("type")))
        param = layer_type.param(name)
    except KeyError:
        raise UserError(f"The layer {layer_id} ({layer.get('type')}) has no parameter {name!r}.") from None
    if param.kind not in _LAYER_KINDS:
        raise UserError(f"{layer_id}.{name} ({param.kind}) cannot be searched; search numbers, flags or choices.")
    return layer, param


def _plain(value: Any, d: Dimension) -> Any:
    """An Optuna value as the plain JSON type the spec / settings expect."""
    if d.kind == "int" and isinstance(value, float) and value.is_integer():
        return int(value)
    if d.kind == "float":
        return float(value)
    return value


def _opt_number(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError
    return float(value)


def _num(value: Any) -> str:
    if value is None:
        return "?"
    value = float(value)
    return f"{int(value):,}" if value.is_integer() and abs(value) < 1e15 else f"{value:g}"


__all__ = [
    "DEFAULT_GRID_POINTS", "Dimension", "KINDS", "SPACE_FORMAT", "SPACE_VERSION", "SearchSpace", "default_space",
    "layer_candidates", "layer_dimension", "load_space", "save_space", "searchable_training_settings",
    "space_from_keys", "training_dimension",
]
