"""Numbers for people: one helper for labels, tables, legends and spin boxes."""

from __future__ import annotations

import math

import pytest

from cnnstudio.core.numbers import human_number


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.002, "0.002"), (0.97214, "0.972"), (2.30258, "2.3"), (12.3456, "12.3"), (61706, "61,706"), (1797, "1797"),
     (0.0001234, "0.000123"), (1.234e-05, "1.23e-5"), (1234.567, "1235"), (-0.5, "-0.5"), (0, "0"), (3.0, "3"),
     (0.1 + 0.2, "0.3"), (None, "–"), (math.nan, "–"), (math.inf, "∞"), ("x", "–"), (True, "–")],
)
def test_human_number(value, text):
    assert human_number(value) == text


def test_fixed_decimals_drop_only_trailing_zeros():
    assert human_number(0.002, decimals=6) == "0.002"
    assert human_number(0.0, decimals=6) == "0"
    assert human_number(0.001234, decimals=6) == "0.001234"  # what a 6-decimal spin box holds: nothing lost
    assert human_number(-3.5, minus="−") == "−3.5"
