"""A QDoubleSpinBox that shows ``0.002``, not ``0.002000`` (trailing zeros dropped, nothing rounded away)."""

from __future__ import annotations

from PySide6.QtWidgets import QDoubleSpinBox

from cnnstudio.core.numbers import human_number


class HumanDoubleSpinBox(QDoubleSpinBox):
    """Keeps all of its ``decimals()`` for the value; only the zeros at the end are not shown."""

    def textFromValue(self, value: float) -> str:  # noqa: N802 - Qt API
        text = human_number(value, decimals=self.decimals())
        point = self.locale().decimalPoint()
        return text.replace(".", point) if point != "." else text


__all__ = ["HumanDoubleSpinBox"]
