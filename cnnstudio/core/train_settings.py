"""The one schema of training options: ``TrainConfig``, the ``cnnstudio train`` flags, the Train form and the
default hyperparameter-search space are all generated from :data:`OPTIONS`.

Adding a training option means adding one :class:`Option` here (and using it in the trainer); its label,
range, default, tooltip, CLI flag and form row follow. Torch-free and Qt-free: ``cnnstudio train --help``
and the project document read it.

Ranges: ``minimum`` and ``maximum`` are inclusive bounds unless ``exclusive_minimum`` /
``exclusive_maximum`` say the bound itself is refused (the learning rate is above 0: ``minimum=0,
exclusive_minimum=True``). ``None`` means unbounded on that side. Floats must also be finite.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field, make_dataclass
from typing import Any

from cnnstudio.core.errors import UserError

KINDS = ("float", "int", "bool", "choice")
#: the largest seed (as the data settings' seed): epoch seeds (seed * 1,000,003 + epoch) fit torch's 64 bits
MAX_SEED = 2**31 - 1


@dataclass(frozen=True)
class Option:
    """One training option: its ``TrainConfig`` field, type, default, range, texts, flag and form place."""

    name: str  # the TrainConfig field and the project's "training" key, e.g. "lr"
    kind: str  # one of KINDS
    default: Any
    label: str  # the one label of the form row, the CLI help and plots: "Learning rate"
    help: str  # tooltip and --help text (a phrase; the label is not repeated)
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False  # True: values must be above ``minimum`` (else at least it)
    exclusive_maximum: bool = False  # True: values must be below ``maximum`` (else at most it)
    choices: dict[str, str] | None = None  # kind "choice": value -> label, in display order
    log: bool = False  # log scale: spin boxes step by factors; searches sample log-uniformly
    cli: str | None = ""  # the flag of ``cnnstudio train``; "" (default): --name-with-dashes; None: no flag
    group: str = "Training"  # the form section
    tasks: tuple[str, ...] = ()  # only these tasks use it (the form hides it otherwise); (): every task
    searchable: bool = False  # may be a dimension of a hyperparameter search
    search: tuple | None = None  # searchable: (low, high) of a number, or the choices a search tries by default
    noun: str = ""  # how a sentence names it; default: "the " + label ("the learning rate")
    special: str = ""  # what the minimum means, shown instead of it in the form and help ("off")
    unit: str = ""  # the unit shown after the value ("epochs")
    other: tuple[str, str] | None = None  # kind "choice": (regex, how it reads) of values beyond the choices
    metavar: str | None = None  # the CLI placeholder (default: argparse's)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"option {self.name}: unknown kind {self.kind!r}")
        if self.kind == "choice" and not self.choices:
            raise ValueError(f"option {self.name}: a choice needs choices")
        if self.cli == "":
            object.__setattr__(self, "cli", "--" + self.name.replace("_", "-"))
        if not self.noun:
            object.__setattr__(self, "noun", "the " + lower_first(self.label))

    def applies_to(self, task: str | None) -> bool:
        """Whether a network of ``task`` uses this option."""
        return not self.tasks or task in self.tasks

    @property
    def python_type(self) -> type:
        return {"float": float, "int": int, "bool": bool, "choice": str}[self.kind]

    def format(self, value: Any) -> str:
        """``value`` as the form and the help show it (the special text for the minimum)."""
        if self.special and self.kind in ("int", "float") and value == self.minimum:
            return f"{_number(value)} ({self.special})"
        if self.kind == "bool":
            return "on" if value else "off"
        return _number(value) if self.kind in ("int", "float") else str(value)

    @property
    def default_text(self) -> str:
        """The default as the form's tooltip and ``--help`` say it ("0.002", "off")."""
        if self.special and self.default == self.minimum:
            return self.special
        return self.format(self.default)

    def describe_range(self) -> str:
        """The accepted values in words: "above 0 and at most 10", "one of sgd, adam or adamw"."""
        if self.kind == "choice":
            values = list(self.choices or ())
            text = "one of " + (", ".join(values[:-1]) + " or " + values[-1] if len(values) > 1 else values[0])
            return text + (f" (or {self.other[1]})" if self.other else "")
        if self.kind == "bool":
            return "true or false"
        unit = f" {self.unit}" if self.unit else ""
        low = None if self.minimum is None else self.format(self.minimum)
        high = None if self.maximum is None else _number(self.maximum)
        if low is not None and high is not None:
            if not self.exclusive_minimum and not self.exclusive_maximum:
                return f"from {low} to {high}{unit}"
            first = f"above {low}" if self.exclusive_minimum else f"at least {low}"
            second = f"below {high}" if self.exclusive_maximum else f"at most {high}"
            return f"{first} and {second}{unit}"
        if low is not None:
            return f"above {low}{unit}" if self.exclusive_minimum else f"{low} or more{unit}"
        if high is not None:
            return f"below {high}{unit}" if self.exclusive_maximum else f"{high} or less{unit}"
        return "any number"

    def check(self, value: Any) -> Any:
        """``value`` coerced to this option's type; a wrong or out-of-range value raises one UserError."""
        subject = self.noun[0].upper() + self.noun[1:]
        try:
            coerced = _coerce(self.kind, value)
        except (TypeError, ValueError, OverflowError):
            what = {"float": "a number", "int": "a whole number", "bool": "true or false", "choice": "a name"}
            raise UserError(f"{subject} ({self.name}) must be {what[self.kind]}, not {value!r}.") from None
        if self.kind == "choice":
            ok = coerced in (self.choices or {}) or bool(self.other and re.fullmatch(self.other[0], coerced))
        elif self.kind == "bool":
            ok = True
        else:
            ok = math.isfinite(coerced) and self._in_range(coerced)
        if not ok:
            raise UserError(f"{subject} must be {self.describe_range()}, not {value!r}.")
        return coerced

    def _in_range(self, value: float) -> bool:
        if self.minimum is not None and (value <= self.minimum if self.exclusive_minimum else value < self.minimum):
            return False
        if self.maximum is not None and (value >= self.maximum if self.exclusive_maximum else value > self.maximum):
            return False
        return True


def lower_first(text: str) -> str:
    """"Learning rate" -> "learning rate"; "LR schedule" stays (an acronym)."""
    return text[0].lower() + text[1:] if len(text) > 1 and text[1].islower() else text


def _number(value: Any) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer() and abs(value) >= 1e4):
        return f"{int(value):,}"
    return f"{value:g}"


def _coerce(kind: str, value: Any) -> Any:
    if kind == "bool":
        if not isinstance(value, (bool, int)):
            raise ValueError
        return bool(value)
    if kind == "int":
        if isinstance(value, float) and not value.is_integer():
            raise ValueError
        return int(value)
    if kind == "float":
        return float(value)
    if not isinstance(value, str):
        raise TypeError
    return value.lower()


OPTIONS: tuple[Option, ...] = (
    Option("optimizer", "choice", "adam", "Optimizer",
           "How the weights follow the gradient: Adam and AdamW adapt the step per weight; SGD uses the "
           "learning rate and momentum as they are",
           choices={"adam": "Adam", "adamw": "AdamW", "sgd": "SGD with momentum"},
           group="Optimizer", searchable=True),
    Option("lr", "float", 0.002, "Learning rate",
           "The step size of each weight update (Adam: about 0.001; SGD: about 0.01)",
           minimum=0.0, maximum=10.0, exclusive_minimum=True, log=True, group="Optimizer",
           searchable=True, search=(1e-4, 1e-1)),
    Option("weight_decay", "float", 0.0, "Weight decay",
           "Pulls the weights towards 0 at each step (L2 regularisation); 0 = off",
           minimum=0.0, maximum=1.0, log=True, group="Optimizer", searchable=True, search=(1e-6, 1e-2)),
    Option("momentum", "float", 0.9, "Momentum (SGD)",
           "How much of the previous step carries into the next (0.9 is usual); Adam and AdamW ignore it",
           minimum=0.0, maximum=1.0, exclusive_maximum=True, group="Optimizer", noun="the SGD momentum",
           searchable=True, search=(0.5, 0.99)),
    Option("batch_size", "int", 16, "Batch size",
           "Images per weight update; larger batches are faster per image but need more memory",
           minimum=1, maximum=1_000_000, log=True, group="Schedule", searchable=True, search=(8, 256)),
    Option("epochs", "int", 15, "Epochs", "Passes over the training images",
           minimum=1, maximum=100_000, group="Schedule", noun="the number of epochs",
           searchable=True, search=(5, 50)),
    Option("schedule", "choice", "cosine", "LR schedule", "How the learning rate changes over the epochs",
           choices={"none": "Constant", "step": "Step (x0.1 every third of the epochs)", "cosine": "Cosine"},
           group="Schedule", noun="the learning-rate schedule", searchable=True),
    Option("early_stopping", "int", 0, "Early stopping",
           "Stop when the validation loss has not improved for this many epochs (off = never)",
           minimum=0, group="Schedule", noun="Early stopping patience", special="off", unit="epochs",
           metavar="PATIENCE"),
    Option("seed", "int", 0, "Seed",
           "Initialises the weights and orders the batches: the same seed gives the same run",
           minimum=0, maximum=MAX_SEED, group="Schedule"),
    Option("device", "choice", "auto", "Device",
           "Where to train: Automatic picks a CUDA or Apple GPU when there is one, else the CPU",
           choices={"auto": "Automatic", "cpu": "CPU", "cuda": "CUDA GPU", "mps": "Apple MPS"},
           other=(r"cuda:\d+", "cuda:N"), group="Hardware"),
    Option("mixed_precision", "bool", False, "Mixed precision (CUDA only)",
           "float16 autocast with gradient scaling on a CUDA GPU; ignored on the CPU", group="Hardware",
           noun="Mixed precision"),
    Option("box_loss", "choice", "smooth_l1", "Box loss",
           "How far a predicted box is from the true one: Smooth L1 on the coordinates, or GIoU on the overlap",
           choices={"smooth_l1": "Smooth L1", "giou": "GIoU"}, group="Localization", tasks=("localization",),
           searchable=True),
    Option("box_weight", "float", 5.0, "Box-loss weight",
           "Weight of the box loss against the classification cross-entropy",
           minimum=0.0, group="Localization", tasks=("localization",),
           searchable=True, search=(1.0, 10.0)),
    Option("threads", "int", 0, "CPU threads",
           "How many PyTorch uses; automatic: all cores when the machine is idle, fewer when it is busy",
           minimum=0, group="Hardware", special="automatic", noun="the number of CPU threads"),
)


def option(name: str) -> Option:
    """The option called ``name`` (a TrainConfig field); KeyError for an unknown one."""
    for opt in OPTIONS:
        if opt.name == name:
            return opt
    raise KeyError(f"no training option {name!r}")


def defaults() -> dict:
    """``{name: default}`` of every option: a new project's "training" section."""
    return {opt.name: opt.default for opt in OPTIONS}


def check(name: str, value: Any) -> Any:
    """``value`` coerced and checked for option ``name``; a bad one raises UserError naming it."""
    return option(name).check(value)


def make_config_class(options: tuple[Option, ...]) -> type:
    """The ``TrainConfig`` dataclass of ``options``: one field each, with its default and checks."""

    def from_dict(cls, data: dict | None):
        """Build and check a config; unknown keys and None values are ignored; a bad value raises UserError."""
        known = {opt.name: opt for opt in cls.OPTIONS}
        values = {k: known[k].check(v) for k, v in (data or {}).items() if k in known and v is not None}
        config = cls(**values)
        config.validate()
        return config

    def to_dict(self) -> dict:
        return asdict(self)

    def validate(self) -> None:
        """Raise UserError with one clear sentence for the first value out of its option's range."""
        for opt in self.OPTIONS:
            opt.check(getattr(self, opt.name))

    cls = make_dataclass(
        "TrainConfig",
        [(opt.name, opt.python_type, field(default=opt.default)) for opt in options],
        namespace={"OPTIONS": options, "from_dict": classmethod(from_dict), "to_dict": to_dict,
                   "validate": validate},
    )
    cls.__module__ = __name__
    cls.__doc__ = "Training settings (the project's \"training\" section), one field per train_settings.Option."
    return cls


TrainConfig = make_config_class(OPTIONS)
