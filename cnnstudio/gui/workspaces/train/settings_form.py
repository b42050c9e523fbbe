"""The training settings form, bound to the project's "training" section (every edit is undoable)."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QSpinBox,
    QWidget,
)

from cnnstudio.gui.context import AppContext
from cnnstudio.gui.widgets.undo_keys import route_undo_keys

OPTIMIZERS = (("adam", "Adam"), ("adamw", "AdamW"), ("sgd", "SGD with momentum"))
SCHEDULES = (("none", "Constant"), ("step", "Step (x0.1 every third)"), ("cosine", "Cosine"))
DEVICES = (("auto", "Automatic"), ("cpu", "CPU"), ("cuda", "CUDA GPU"), ("mps", "Apple MPS"))


class TrainingSettingsForm(QWidget):
    """Optimizer, learning rate, batch size, epochs, schedule, early stopping, seed, device, precision."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        self.optimizer = self._combo(OPTIMIZERS)
        self.lr = self._double(0.000001, 10.0, 6, 0.0005)
        self.weight_decay = self._double(0.0, 1.0, 6, 0.0001)
        self.momentum = self._double(0.0, 0.999, 3, 0.01)
        self.batch_size = self._int(1, 65536)
        self.epochs = self._int(1, 100000)
        self.schedule = self._combo(SCHEDULES)
        self.early_stopping = self._int(0, 10000)
        self.early_stopping.setSpecialValueText("off")
        self.early_stopping.setSuffix(" epochs")
        self.seed = self._int(0, 2**31 - 1)
        self.device = self._combo(DEVICES)
        self.mixed_precision = QCheckBox("Mixed precision (CUDA only)")
        self.mixed_precision.setToolTip("float16 autocast with gradient scaling on a CUDA GPU; ignored on the CPU")
        self.widgets = {
            "optimizer": self.optimizer, "lr": self.lr, "weight_decay": self.weight_decay,
            "momentum": self.momentum, "batch_size": self.batch_size, "epochs": self.epochs,
            "schedule": self.schedule, "early_stopping": self.early_stopping, "seed": self.seed,
            "device": self.device, "mixed_precision": self.mixed_precision,
        }
        tips = {
            "optimizer": "How the weights follow the gradient: Adam and AdamW adapt the step per weight; "
                         "SGD uses the learning rate and momentum as they are",
            "lr": "Learning rate: the step size of each weight update (Adam: about 0.001; SGD: about 0.01)",
            "weight_decay": "Pulls the weights towards 0 at each step (L2 regularisation); 0 = off",
            "momentum": "SGD only: how much of the previous step carries into the next (0.9 is usual)",
            "batch_size": "Images per weight update; larger batches are faster per image but need more memory",
            "epochs": "Passes over the training images",
            "schedule": "How the learning rate changes over the epochs",
            "early_stopping": "Stop when the validation loss has not improved for this many epochs (off = never)",
            "seed": "Seed of the initial weights and of the batch order: the same seed gives the same run",
            "device": "Where to train: Automatic picks a CUDA or Apple GPU when there is one, else the CPU",
        }
        for key, tip in tips.items():
            self.widgets[key].setToolTip(tip)
        labels = {
            "optimizer": "Optimizer", "lr": "Learning rate", "weight_decay": "Weight decay",
            "momentum": "Momentum (SGD)", "batch_size": "Batch size", "epochs": "Epochs",
            "schedule": "LR schedule", "early_stopping": "Early stopping", "seed": "Seed",
            "device": "Device", "mixed_precision": "",
        }
        for key, widget in self.widgets.items():
            form.addRow(labels[key], widget)
            self._connect(key, widget)
            if isinstance(widget, QAbstractSpinBox):
                route_undo_keys(widget)
        self.sync_from_document()

    # --- widgets ----------------------------------------------------------------------------------
    @staticmethod
    def _combo(items) -> QComboBox:
        combo = QComboBox()
        for value, title in items:
            combo.addItem(title, value)
        return combo

    @staticmethod
    def _double(lo: float, hi: float, decimals: int, step: float) -> QDoubleSpinBox:
        spin = QDoubleSpinBox()
        spin.setRange(lo, hi)
        spin.setDecimals(decimals)
        spin.setSingleStep(step)
        spin.setKeyboardTracking(False)
        spin.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
        return spin

    @staticmethod
    def _int(lo: int, hi: int) -> QSpinBox:
        spin = QSpinBox()
        spin.setRange(lo, hi)
        spin.setKeyboardTracking(False)
        return spin

    def _connect(self, key: str, widget) -> None:
        if isinstance(widget, QComboBox):
            widget.currentIndexChanged.connect(lambda _i, k=key: self._edited(k))
        elif isinstance(widget, QCheckBox):
            widget.toggled.connect(lambda _v, k=key: self._edited(k))
        else:
            widget.valueChanged.connect(lambda _v, k=key: self._edited(k))

    def value_of(self, key: str):
        widget = self.widgets[key]
        if isinstance(widget, QComboBox):
            return widget.currentData()
        if isinstance(widget, QCheckBox):
            return widget.isChecked()
        return widget.value()

    # --- model <-> view ---------------------------------------------------------------------------
    def _edited(self, key: str) -> None:
        training = self.ctx.document.get("training")
        value = self.value_of(key)
        if training.get(key) == value:
            return
        training[key] = value
        self.ctx.edit("training", training, f"Change {key.replace('_', ' ')}", merge_key=f"training.{key}")

    def sync_from_document(self) -> None:
        """Show the document's values without echoing edits back."""
        training = self.ctx.document.get("training")
        for key, widget in self.widgets.items():
            if key not in training:
                continue
            value = training[key]
            widget.blockSignals(True)
            try:
                if isinstance(widget, QComboBox):
                    index = widget.findData(value)
                    widget.setCurrentIndex(max(0, index))
                elif isinstance(widget, QCheckBox):
                    widget.setChecked(bool(value))
                elif isinstance(widget, QDoubleSpinBox):
                    widget.setValue(float(value))
                else:
                    widget.setValue(int(value))
            finally:
                widget.blockSignals(False)

    def set_running(self, running: bool) -> None:
        for widget in self.widgets.values():
            widget.setEnabled(not running)
