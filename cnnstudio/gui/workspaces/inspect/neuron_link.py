"""A click on a pixel (a neuron) of the enlarged feature-map channel opens the Playground's step-through of
that very convolution: the model's kernel for the channel, the input patch around the position, the bias,
stride, padding and dilation, stopped at the step that gives the pixel's value (as CNN Explainer does)."""

from __future__ import annotations

from PySide6.QtCore import QObject

from cnnstudio.core.errors import UserError
from cnnstudio.core.ops import format_number

CLICK_TIP = "Click a pixel (a neuron) to step through its convolution in the Playground"


class NeuronLink(QObject):
    """Wires Inspect's enlarged channel view to the Playground."""

    def __init__(self, workspace):
        super().__init__(workspace)
        self.ws = workspace
        self.last_page = None  # the step-through page opened last (tests read it)
        workspace.channel_view.clicked.connect(self._on_click)

    def caption_hint(self, layer: str) -> str:
        """" — click a pixel …" under the enlarged channel of a conv layer, else nothing."""
        from cnnstudio.ml.inspect.neuron import is_conv_layer

        model = self.ws.session.model
        return ". Click a pixel to step through its convolution" if model is not None and is_conv_layer(model, layer) else ""

    def pixel_at(self, x: float, y: float) -> tuple[int, int] | None:
        """The (row, col) of the feature map under image point (x, y) of the enlarged channel view."""
        from cnnstudio.ml.inspect.render import as_maps

        session, image = self.ws.session, self.ws.channel_view.image()
        layer = self.ws.current_layer()
        if session.analysis is None or image is None or layer not in session.analysis.features:
            return None
        maps = as_maps(session.analysis.features[layer])
        h, w = maps.shape[-2:]
        row, col = int(y * h / image.shape[0]), int(x * w / image.shape[1])
        return (min(row, h - 1), min(col, w - 1)) if row >= 0 and col >= 0 else None

    def _on_click(self, x: float, y: float) -> None:
        where = self.pixel_at(x, y)
        if where is not None:
            self.open(self.ws.current_layer(), self.ws._channel, *where)

    def open(self, layer: str, channel: int, row: int, col: int):
        """Open neuron (channel, row, col) of conv activation ``layer`` in the Playground; the page, or None
        (with the reason on the status bar) when it cannot be shown."""
        from cnnstudio.ml.inspect.neuron import conv_neuron

        ws = self.ws
        session = ws.session
        if session.model is None or session.input is None:
            return None
        try:
            neuron = conv_neuron(session.model, session.input.tensor, layer, channel, row, col)
            patch = neuron.patch()
        except UserError as exc:
            ws.ctx.show_status(str(exc), 8000)
            ws.channel_caption.setText(str(exc))
            return None
        window = ws.window()
        if not hasattr(window, "show_workspace"):
            ws.ctx.show_status("The step-through opens in the Playground of the main window.", 8000)
            return None
        h, w = neuron.layer_input.shape[1:]
        padded = patch.rows[0] < 0 or patch.cols[0] < 0 or patch.rows[1] >= h or patch.cols[1] >= w
        chans = patch.channels
        pad_word = "zero padding" if neuron.pad_mode == "constant" else f"padding ({neuron.pad_mode})"
        chan_text = (f"channel {chans[0]}" if len(chans) == 1
                     else f"channels {chans[0]}–{chans[-1]}, shown as #1–#{len(chans)}")
        description = (
            f"{neuron.describe()}. Output channel {channel}, row {row}, column {col} of {session.input.title}: "
            f"the feature map has {format_number(neuron.value, 4)} there. The input grid is the layer's input "
            f"({chan_text}), rows {patch.rows[0]}…{patch.rows[1]}, columns {patch.cols[0]}…{patch.cols[1]}"
            + (f" — cells outside the image are the layer's {pad_word}, already added, so Padding is 0 here."
               if padded else ".")
        )
        playground = window.show_workspace("playground")
        self.last_page = playground.open_conv(
            patch.input, patch.kernel, patch.bias, stride=patch.stride, dilation=patch.dilation,
            title=f"Model: {neuron.label} ch {channel} ({row}, {col})", description=description, step=patch.step)
        ws.ctx.show_status(f"{neuron.label}, channel {channel} at ({row}, {col}) opened in the Playground's step-through.")
        return self.last_page
