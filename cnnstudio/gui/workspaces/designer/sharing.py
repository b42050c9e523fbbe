"""Weight sharing: each convolution's parameters next to a fully connected layer doing the same mapping.

A logarithmic bar chart (the numbers differ by orders of magnitude) with the exact counts written on
the bars, and the whole network next to the same network with every convolution made dense.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import QFrame, QLabel, QScrollArea, QSizePolicy, QVBoxLayout, QWidget

from cnnstudio.core.registry import format_shape

CONV_COLOUR = QColor("#42a5f5")
DENSE_COLOUR = QColor("#ef6c00")


def _short(n: int) -> str:
    for size, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if n >= size:
            return f"{n / size:.3g}{suffix}"
    return str(n)


class SharingChart(QWidget):
    """Pairs of horizontal bars on a log scale: (label, conv/network value, dense value)."""

    BAR = 14.0
    GROUP_GAP = 12.0

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._groups: list[tuple[str, int, int]] = []
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setMinimumHeight(60)

    def set_groups(self, groups: list[tuple[str, int, int]]) -> None:
        self._groups = groups
        self.setMinimumHeight(int(self._content_height()))
        self.updateGeometry()
        self.update()

    def groups(self) -> list[tuple[str, int, int]]:
        return list(self._groups)

    def _content_height(self) -> float:
        return 36 + len(self._groups) * (2 * self.BAR + self.GROUP_GAP) if self._groups else 60

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(500, int(self._content_height()))

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt API
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        text = self.palette().color(self.foregroundRole())
        fm = QFontMetricsF(self.font())
        if not self._groups:
            painter.setPen(text)
            painter.drawText(
                self.rect(),
                Qt.AlignmentFlag.AlignCenter,
                "No convolution layers with a valid shape: nothing is shared.",
            )
            return
        label_w = max(fm.horizontalAdvance(g[0]) for g in self._groups) + 12
        left = label_w
        right = self.width() - 70
        top_value = max(max(g[1], g[2]) for g in self._groups)
        span = math.log10(max(10, top_value)) + 0.2

        def bar_w(value: int) -> float:
            return 0.0 if value <= 0 else max(2.0, (right - left) * (math.log10(value) + 0.2) / span)

        y = 8.0
        small = QFont(self.font())
        small.setPointSizeF(small.pointSizeF() * 0.9)
        for label, conv, dense in self._groups:
            painter.setPen(text)
            painter.setFont(self.font())
            painter.drawText(
                QRectF(0, y, label_w - 8, 2 * self.BAR),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                label,
            )
            painter.setFont(small)
            for offset, value, colour in ((0.0, conv, CONV_COLOUR), (self.BAR, dense, DENSE_COLOUR)):
                rect = QRectF(left, y + offset + 1, bar_w(value), self.BAR - 2)
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(colour)
                painter.drawRoundedRect(rect, 2, 2)
                painter.setPen(text)
                painter.drawText(
                    QRectF(rect.right() + 4, rect.top() - 1, 120, self.BAR),
                    Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                    f"{value:,}",
                )
            y += 2 * self.BAR + self.GROUP_GAP
        painter.setFont(small)
        legend_y = y
        for i, (colour, name) in enumerate(
            ((CONV_COLOUR, "with weight sharing (convolution)"), (DENSE_COLOUR, "fully connected equivalent"))
        ):
            x = left + i * 250
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(colour)
            painter.drawRect(QRectF(x, legend_y + 3, 12, 10))
            painter.setPen(QPen(text))
            painter.drawText(QRectF(x + 16, legend_y, 230, 16), Qt.AlignmentFlag.AlignVCenter, name)
        painter.end()


class SharingView(QWidget):
    """The chart and one sentence per convolution explaining the comparison."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.chart = SharingChart()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.summary)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self.chart)
        layout.addWidget(scroll, 1)
        self.setToolTip(
            "Weight sharing: a convolution reuses one small kernel at every position. A fully connected layer "
            "mapping the same input to the same output needs one weight per input value per output value."
        )

    def set_sharing(self, sharing) -> None:
        """Show a :class:`cnnstudio.core.inference.WeightSharing` result."""
        groups = [
            (
                f"{r.id}  {format_shape(r.input_shape)}→{format_shape(r.output_shape)}",
                r.conv_params,
                r.dense_params,
            )
            for r in sharing.rows
        ]
        if sharing.rows:
            groups.append(("whole network", sharing.total_params, sharing.all_dense_params))
        self.chart.set_groups(groups)
        if not sharing.rows:
            self.summary.setText("This network has no convolution with a valid shape.")
            return
        ratio = sharing.ratio
        self.summary.setText(
            f"The network has <b>{sharing.total_params:,}</b> parameters; with every convolution replaced by a "
            f"fully connected layer of the same input and output sizes it would need "
            f"<b>{sharing.all_dense_params:,}</b> ({_short(sharing.all_dense_params)}, "
            f"{ratio:,.0f}× as many). Bars are on a logarithmic scale."
        )
