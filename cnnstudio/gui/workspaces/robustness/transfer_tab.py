"""Transfer tab: a backbone moved to the digits with few labels, against the same network from scratch."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from cnnstudio.gui.widgets.number_spin import HumanDoubleSpinBox
from cnnstudio.gui.workspaces.robustness.base_tab import LabTab
from cnnstudio.gui.workspaces.robustness.widgets import ThemedPlot, fit_rows

#: torchvision models offered in the list (any classification model name works from the CLI)
TORCHVISION = ("resnet18", "mobilenet_v3_small", "efficientnet_b0")
#: layer types of the bundled backbone's body (frozen by default)
BODY_TYPES = ("conv2d", "batchnorm2d")


class TransferTab(LabTab):
    def __init__(self, workers, parent: QWidget | None = None):
        super().__init__(workers, "Transfer learning",
                         "Does a pretrained body help when labels are few? The same network is trained twice on the "
                         "same handwritten digits: once starting from the backbone's weights (head replaced, chosen "
                         "blocks frozen), once from random weights. The lecture promises a higher start, slope and "
                         "asymptote; the table measures them.", parent)
        self.backbone = QComboBox()
        self.backbone.addItem("Letters (bundled)", "bundled")
        for name in TORCHVISION:
            self.backbone.addItem(f"torchvision {name}", name)
        self.backbone.addItem("Backbone file (.safetensors)…", "file")
        self.backbone.setToolTip("The pretrained network. torchvision models need weights: a local file or a "
                                 "one-time download into torch's cache (TORCH_HOME).")
        self.backbone.currentIndexChanged.connect(self._backbone_changed)
        self.form.addRow("Backbone", self.backbone)
        self.weights = QLineEdit()
        self.weights.setPlaceholderText("weights file (.pth / .safetensors)")
        self.weights.setToolTip("Local weights: loaded with torch.load(weights_only=True) or safetensors")
        self.form.addRow("Weights", self.weights)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        self.browse = browse = QPushButton("Choose file…")
        browse.setToolTip("Choose a weights or backbone file")
        browse.clicked.connect(self._browse)
        self.download = QPushButton("Download")
        self.download.setToolTip("Download the torchvision model's pretrained weights once into torch's cache")
        self.download.clicked.connect(self._download)
        row.addWidget(browse)
        row.addWidget(self.download)
        holder = QWidget()
        holder.setLayout(row)
        self.form.addRow(holder)  # the whole row: both buttons' text fits at 11 pt
        self.blocks = QListWidget()
        self.blocks.setToolTip("Checked blocks are frozen (requires_grad = False); the head is always replaced")
        self.form.addRow(QLabel("Freeze the checked blocks:"))
        self.form.addRow(self.blocks)  # the whole row: block names do not scroll sideways
        self.per_class = _spin(1, 200, 15, "Training labels per digit class (the validation set stays whole)")
        self.form.addRow("Labels per class", self.per_class)
        self.epochs = _spin(1, 200, 12, "Epochs of training with the frozen body")
        self.form.addRow("Epochs", self.epochs)
        self.finetune = _spin(0, 200, 0, "Then fine-tune every layer for this many epochs at a lower learning rate")
        self.form.addRow("Fine-tune epochs", self.finetune)
        self.factor = HumanDoubleSpinBox()
        self.factor.setRange(0.001, 1.0)
        self.factor.setDecimals(3)
        self.factor.setSingleStep(0.05)
        self.factor.setValue(0.1)
        self.factor.setToolTip("Fine-tuning learning rate = learning rate x this")
        self.form.addRow("Fine-tune lr factor", self.factor)
        self.lr = HumanDoubleSpinBox()
        self.lr.setDecimals(4)
        self.lr.setRange(0.0001, 1.0)
        self.lr.setSingleStep(0.0005)
        self.lr.setValue(0.002)
        self.lr.setToolTip("Adam learning rate of both runs")
        self.form.addRow("Learning rate", self.lr)
        self.run_button = self.add_button("Compare", "Train with transfer and from scratch, plot both", self.run,
                                          "Ctrl+Return")
        self.finish_buttons()
        self.plot = ThemedPlot("Validation accuracy", "epoch", "accuracy")
        self.plot.setYRange(0, 1)
        self.plot.setXRange(1, self.epochs.value())
        self.view.addWidget(self.plot, 1)
        self.table = QTableWidget(2, 3)
        self.table.setHorizontalHeaderLabels(["start", "slope", "asymptote"])
        for col, tip in enumerate(("Validation accuracy after epoch 1",
                                   "Mean gain in accuracy per epoch over the first third of the epochs (at least 3)",
                                   "Mean validation accuracy of the last three epochs")):
            self.table.horizontalHeaderItem(col).setToolTip(tip)
        self.table.setVerticalHeaderLabels(["with transfer", "from scratch"])
        fit_rows(self.table, 2)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.view.addWidget(self.table)
        self._curves: dict[str, list[float]] = {}
        self._items: dict = {}
        self.result = None
        self._backbone_changed()

    # --- backbone --------------------------------------------------------------------------------
    def source(self) -> tuple[str, str | None]:
        kind = self.backbone.currentData()
        weights = self.weights.text().strip() or None
        if kind == "file":
            return weights or "", None
        return kind, (weights if kind != "bundled" else None)

    def _backbone_changed(self) -> None:
        kind = self.backbone.currentData()
        self.download.setEnabled(kind in TORCHVISION)
        self.weights.setEnabled(kind != "bundled")
        self.browse.setEnabled(kind != "bundled")
        self._fill_blocks()

    def _fill_blocks(self) -> None:
        self.blocks.clear()
        kind = self.backbone.currentData()
        if kind != "bundled":
            blocks = _TORCHVISION_BLOCKS.get(kind, [])
            body = blocks[:-1]
            head = blocks[-1:] if blocks else []
        else:
            from cnnstudio.ml.transfer.backbones import load_backbone  # small and local: fine on this thread

            try:
                bb = load_backbone("bundled")
            except Exception as exc:  # a missing bundled file: say so, keep the tab usable
                self.message.setText(str(exc))
                return
            types = {layer["id"]: layer["type"] for layer in bb.spec["layers"]}
            body = [b for b in bb.blocks if b != bb.head]
            head = [bb.head]
            body_default = {b for b in body if types.get(b) in BODY_TYPES}
        for name in body:
            item = QListWidgetItem(name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            default = name in body_default if kind == "bundled" else True
            item.setCheckState(Qt.CheckState.Checked if default else Qt.CheckState.Unchecked)
            self.blocks.addItem(item)
        for name in head:
            item = QListWidgetItem(f"{name} (head, replaced)")
            item.setToolTip("The head is always replaced by a new one for the digits and trained")
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            self.blocks.addItem(item)
        # five rows in view at any font (torchvision's seven scroll), never squeezed to one
        row = self.blocks.sizeHintForRow(0) if self.blocks.count() else self.blocks.fontMetrics().height() + 4
        self.blocks.setFixedHeight(5 * row + 2 * self.blocks.frameWidth() + 2)

    def frozen(self) -> list[str]:
        return [self.blocks.item(i).text() for i in range(self.blocks.count())
                if self.blocks.item(i).checkState() == Qt.CheckState.Checked]

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Weights or backbone file", "",
                                              "Weights (*.pth *.pt *.safetensors);;All files (*)")
        if path:
            self.weights.setText(path)

    def _download(self) -> None:
        from cnnstudio.gui.workspaces.robustness.jobs import download_job

        name = self.backbone.currentData()
        self.start(download_job, name, text=f"Downloading {name}…",
                   on_done=lambda path: (self.weights.setText(path), self.message.setText(f"Weights saved to {path}")))

    # --- the comparison ---------------------------------------------------------------------------
    def run(self) -> None:
        from cnnstudio.gui.workspaces.robustness.jobs import transfer_job

        source, weights = self.source()
        if not source:
            self.message.setText("Choose a backbone file first.")
            return
        self.plot.reset()
        self.plot.setYRange(0, 1)
        self.plot.setXRange(1, self.epochs.value() + self.finetune.value())
        self._curves = {"transfer": [], "scratch": []}
        self._items = {"transfer": self.plot.line("with transfer", 0), "scratch": self.plot.line("from scratch", 1)}
        self.table.clearContents()
        training = {"epochs": self.epochs.value(), "lr": self.lr.value(), "batch_size": 16, "seed": 0}
        frozen = self.frozen() if self.backbone.currentData() in ("bundled",) + TORCHVISION else []
        self.start(transfer_job, source, weights, frozen, self.per_class.value(), training, self.finetune.value(),
                   self.factor.value(), text="Comparing…", with_control=True, on_partial=self._partial,
                   on_done=self._done)

    def _partial(self, kind: str, value) -> None:
        if kind == "epoch":
            which, acc = value
            self._curves[which].append(acc)
            ys = self._curves[which]
            self._items[which].setData(list(range(1, len(ys) + 1)), ys)

    def _done(self, result) -> None:
        self.result = result
        if result.status != "completed":
            self.message.setText(f"Not finished: {result.status}")
            return
        for row, which in enumerate(("transfer", "scratch")):
            f = result.facts[which]
            for col, value in enumerate((f.start, f.slope, f.asymptote)):
                self.table.setItem(row, col, QTableWidgetItem(f"{value:+.3f}" if col == 1 else f"{value:.3f}"))
        t, s = result.facts["transfer"], result.facts["scratch"]
        self.message.setText(
            f"With transfer the start is {100 * (t.start - s.start):+.0f} points and the asymptote "
            f"{100 * (t.asymptote - s.asymptote):+.0f} points against from scratch ({result.train_size} training images).")


#: the top-level children of torchvision's models (their freezable blocks), the head last
_TORCHVISION_BLOCKS = {
    "resnet18": ["conv1", "bn1", "layer1", "layer2", "layer3", "layer4", "fc"],
    "mobilenet_v3_small": ["features", "classifier"],
    "efficientnet_b0": ["features", "classifier"],
}


def _spin(lo: int, hi: int, value: int, tip: str) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(lo, hi)
    spin.setValue(value)
    spin.setToolTip(tip)
    return spin
