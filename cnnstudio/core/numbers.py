"""Numbers written for people: ``0.002`` (not ``0.002000``), ``0.972``, ``2.3``, ``61,706``, ``1.2e-05``.

One helper for every label, table cell, legend and spin box of the GUI (and the CLI where it prints
values for people). Pure Python: no Qt.
"""

from __future__ import annotations

import math

DASH = "–"


def human_number(value, significant: int = 3, *, decimals: int | None = None, minus: str = "-") -> str:
    """``value`` with ``significant`` significant digits, trailing zeros dropped.

    With ``decimals`` the value keeps that many decimals (minus the trailing zeros) instead: lossless
    for a spin box with that many decimals. Whole numbers of 10,000 and more get thousands separators;
    ``None`` and other non-numbers give a dash; infinities ``∞``.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)) and not hasattr(value, "__float__"):
        return DASH
    try:
        number = float(value)
    except (TypeError, ValueError):
        return DASH
    if math.isnan(number):
        return DASH
    if math.isinf(number):
        return ("∞" if number > 0 else f"{minus}∞")
    if decimals is not None:
        text = _trim(f"{number:.{max(0, decimals)}f}")
    elif number == 0:
        text = "0"
    elif number.is_integer() and abs(number) < 1e15:
        whole = int(number)
        text = f"{whole:,}" if abs(whole) >= 10_000 else str(whole)
    else:
        magnitude = math.floor(math.log10(abs(number)))
        if magnitude >= significant:
            text = f"{round(number):,}" if abs(number) >= 10_000 else str(round(number))
        elif magnitude >= -4:
            places = max(0, significant - 1 - magnitude)
            text = _trim(f"{number:.{places}f}")
        else:
            mantissa, exponent = f"{number:.{max(0, significant - 1)}e}".split("e")
            text = f"{_trim(mantissa)}e{int(exponent):03d}".replace("e-0", "e-").replace("e0", "e")
    if text in ("-0", "-0.0"):
        text = "0"
    return text.replace("-", minus) if minus != "-" else text


def _trim(text: str) -> str:
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


__all__ = ["human_number"]
