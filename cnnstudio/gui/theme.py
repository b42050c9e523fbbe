"""Colours from the palette: readable hint text, pyqtgraph plots and image panes that follow the theme.

Every plot and custom-painted view takes its colours from the widget's QPalette (never "white" or "#fff"),
and takes them again when the palette changes (View → Theme), through :func:`follow_palette`.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QWidget

#: WCAG AA for normal text
MIN_CONTRAST = 4.5


def relative_luminance(colour: QColor) -> float:
    """WCAG 2 relative luminance of an sRGB colour (0 black … 1 white)."""

    def channel(value: float) -> float:
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(colour.redF()) + 0.7152 * channel(colour.greenF()) + 0.0722 * channel(colour.blueF())


def contrast_ratio(a: QColor, b: QColor) -> float:
    """WCAG contrast ratio of two colours, 1 (same) … 21 (black on white)."""
    la, lb = relative_luminance(a), relative_luminance(b)
    return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)


def readable_hint(text: QColor, *backgrounds: QColor, minimum: float = MIN_CONTRAST) -> QColor:
    """A muted version of ``text`` (hint, placeholder) that still reads on every one of ``backgrounds``.

    Starts halfway between the text and the first background and moves back towards the text colour
    until the contrast is at least ``minimum`` on each background.
    """
    base = backgrounds[0] if backgrounds else QColor("white")
    for step in range(11):
        mix = 0.5 - 0.05 * step  # 0.5 (halfway) … 0 (the text colour itself)
        colour = QColor(
            round(text.red() + (base.red() - text.red()) * mix),
            round(text.green() + (base.green() - text.green()) * mix),
            round(text.blue() + (base.blue() - text.blue()) * mix),
        )
        if all(contrast_ratio(colour, b) >= minimum for b in backgrounds or (base,)):
            return colour
    return QColor(text)


def with_readable_hints(palette: QPalette) -> QPalette:
    """``palette`` with PlaceholderText (the hint colour) at ≥ 4.5:1 on Window and Base, in every group."""
    role, group = QPalette.ColorRole, QPalette.ColorGroup
    for g in (group.Active, group.Inactive):
        hint = readable_hint(palette.color(g, role.WindowText), palette.color(g, role.Window), palette.color(g, role.Base))
        palette.setColor(g, role.PlaceholderText, hint)
    return palette


def is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def readable_on(background: QColor) -> QColor:
    """Near-black or white, whichever reads better on ``background``."""
    dark, white = QColor(20, 20, 20), QColor("white")
    return dark if contrast_ratio(dark, background) >= contrast_ratio(white, background) else white


def mix(a: QColor, b: QColor, t: float) -> QColor:
    """``a`` moved a fraction ``t`` of the way to ``b``."""
    return QColor(round(a.red() + (b.red() - a.red()) * t), round(a.green() + (b.green() - a.green()) * t),
                  round(a.blue() + (b.blue() - a.blue()) * t), a.alpha())


# --- tones: error and success text that reads in either theme -----------------------------------------

#: (light theme, dark theme) text colours, each ≥ 4.5:1 on its theme's window colour
TONES = {"error": ("#b00020", "#ff8a80"), "ok": ("#1b6e20", "#81c784"), "warning": ("#8a4b00", "#ffcc80")}
TONE_PROPERTY = "cnnstudioTone"


def tone_colour(tone: str, palette: QPalette) -> QColor:
    light, dark = TONES[tone]
    return QColor(dark if is_dark(palette) else light)


def set_tone(widget: QWidget, tone: str | None, extra_css: str = "") -> None:
    """Colour a label's text as an error/ok/warning message, in the current theme and after each change."""
    widget.setProperty(TONE_PROPERTY, tone or "")
    widget.setProperty(TONE_PROPERTY + "Css", extra_css)
    _apply_tone(widget)


def _apply_tone(widget: QWidget) -> None:
    from PySide6.QtWidgets import QApplication

    tone = widget.property(TONE_PROPERTY) or ""
    extra = widget.property(TONE_PROPERTY + "Css") or ""
    colour = f"color: {tone_colour(tone, QApplication.palette()).name()};" if tone else ""
    widget.setStyleSheet(f"{colour} {extra}".strip())


def live_widgets() -> list[QWidget]:
    """Every widget of every window, walked from the top-level widgets (not ``allWidgets()``, which can
    hand out a widget half-way through its destruction)."""
    import shiboken6
    from PySide6.QtWidgets import QApplication

    out: list[QWidget] = []
    for top in QApplication.topLevelWidgets():
        if shiboken6.isValid(top):
            out.append(top)
            out += [w for w in top.findChildren(QWidget) if shiboken6.isValid(w)]
    return out


def repolish_style_sheets(widgets: list[QWidget]) -> None:
    """Widgets with a style sheet keep the palette they were polished with (black titles on a dark window):
    setting their sheet again polishes them with the new palette."""
    for widget in widgets:
        sheet = widget.styleSheet()
        if sheet:
            widget.setStyleSheet(sheet)


def retone_all(widgets: list[QWidget] | None = None) -> None:
    """After a theme change: every toned widget takes its colour for the new theme."""
    for widget in live_widgets() if widgets is None else widgets:
        if widget.property(TONE_PROPERTY):
            _apply_tone(widget)


# --- pyqtgraph --------------------------------------------------------------------------------------

def plot_colours(palette: QPalette) -> dict[str, QColor]:
    """Background, foreground (axes, ticks, titles) and a faint colour for grids and frames."""
    base = palette.color(QPalette.ColorRole.Base)
    text = palette.color(QPalette.ColorRole.Text)
    faint = palette.color(QPalette.ColorRole.Mid)
    return {"background": base, "foreground": text, "faint": faint}


def theme_plot_item(plot_item, palette: QPalette) -> None:
    """Axes, their labels, the title and the legend of one pyqtgraph PlotItem in the palette's colours."""
    import pyqtgraph as pg

    colours = plot_colours(palette)
    fg = colours["foreground"]
    for name in ("left", "bottom", "right", "top"):
        axis = plot_item.getAxis(name)
        axis.setPen(pg.mkPen(fg))
        axis.setTextPen(pg.mkPen(fg))
        axis.labelStyle = {**(axis.labelStyle or {}), "color": fg.name()}
        if axis.labelText or axis.labelUnits:
            axis.setLabel(axis.labelText, axis.labelUnits, axis.labelUnitPrefix, **axis.labelStyle)
    title = plot_item.titleLabel
    if title is not None and title.text:
        title.setText(title.text, color=fg.name())
    legend = plot_item.legend
    if legend is not None:
        theme_legend(legend, palette)


def theme_legend(legend, palette: QPalette) -> None:
    import pyqtgraph as pg

    colours = plot_colours(palette)
    background = QColor(colours["background"])
    background.setAlpha(200)
    legend.setBrush(pg.mkBrush(background))
    legend.setPen(pg.mkPen(colours["faint"]))
    legend.setLabelTextColor(colours["foreground"])
    for _sample, label in legend.items:
        label.setText(label.text, color=colours["foreground"].name())


def theme_graphics(widget, background: Callable[[QPalette], QColor] | None = None) -> None:
    """A pyqtgraph PlotWidget or GraphicsLayoutWidget: background and every plot item from its palette."""
    import pyqtgraph as pg

    palette = widget.palette()
    colours = plot_colours(palette)
    widget.setBackground(background(palette) if background else colours["background"])
    items = []
    if isinstance(widget, pg.PlotWidget):
        items.append(widget.getPlotItem())
    else:
        layout = getattr(widget, "ci", None)
        if layout is not None:
            items += [item for item in layout.items if isinstance(item, pg.PlotItem)]
    for item in items:
        theme_plot_item(item, palette)


class _PaletteFollower(QObject):
    """Calls ``apply`` again when the watched widget's palette changes (the theme)."""

    def __init__(self, widget: QWidget, apply: Callable[[], None]):
        super().__init__(widget)
        self._apply = apply
        self._busy = False
        widget.installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt API
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange) and not self._busy:
            self._busy = True
            try:
                self._apply()
            finally:
                self._busy = False
        return False


def follow_palette(widget: QWidget, apply: Callable[[], None] | None = None) -> None:
    """Colour ``widget`` from its palette now and after every palette change.

    Without ``apply`` the widget is a pyqtgraph PlotWidget or GraphicsLayoutWidget (:func:`theme_graphics`).
    """
    apply = apply or (lambda: theme_graphics(widget))
    apply()
    follower = _PaletteFollower(widget, apply)
    # keep the Python object alive: a collected wrapper would drop its eventFilter override
    followers = widget.__dict__.setdefault("_palette_followers", [])
    followers.append(follower)


__all__ = [
    "MIN_CONTRAST", "contrast_ratio", "follow_palette", "is_dark", "mix", "plot_colours", "readable_hint",
    "live_widgets", "readable_on", "repolish_style_sheets", "retone_all", "set_tone", "tone_colour",
    "relative_luminance", "theme_graphics", "theme_legend", "theme_plot_item", "with_readable_hints",
]
