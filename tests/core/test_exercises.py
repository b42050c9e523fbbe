"""The lecture exercises: expected answers, answer parsing, explanations and the bundled grid files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cnnstudio.core import exercises as ex
from cnnstudio.core.errors import FormatError, UserError


def test_bundled_grids_load_in_order():
    names = [g.name for g in ex.grid_examples()]
    assert names[:3] == ["lecture-conv-5x5", "lecture-colour", "exercise-4x4"]
    assert "pool-4x4" in names
    lecture = ex.grid_example("lecture-conv-5x5")
    np.testing.assert_array_equal(lecture.conv_trace().output, [[12, 12, 17], [10, 17, 19], [9, 6, 14]])
    colour = ex.grid_example("lecture-colour")
    assert colour.input.shape == (3, 5, 5) and colour.channel_names == ("Red", "Green", "Blue")
    assert colour.conv_trace().output[0, 0] == -25


def test_expected_answers():
    answers = {e.id: e.expected for e in ex.exercises()}
    np.testing.assert_array_equal(answers["slido-4x4"], [[2, 6, 0], [23, 35, 8], [13, 29, 16]])
    np.testing.assert_array_equal(answers["lecture-conv"], [[12, 12, 17], [10, 17, 19], [9, 6, 14]])
    np.testing.assert_array_equal(answers["pool-4x4"], [[6, 8], [3, 4]])
    assert answers["padding-stride-size"] == (3, 3)
    assert answers["conv-pool-size"] == (3, 3)
    assert answers["weights-dense"] == 65_856
    assert answers["weights-conv"] == 250 + 5_000 + 26_880 == 32_130
    assert answers["colour-first-output"] == -25


def test_colour_exercise_hints_and_working():
    e = ex.exercise("colour-first-output")
    assert e.check("-25").correct and e.check("−25").correct
    assert "bias" in e.check("-26").message
    assert "first channel (Red)" in e.check("308").message
    assert "308 + (−498) + 164 + 1 = −25" in e.working
    assert len(e.grids) == 6 and e.grids[0][1].tolist() == [[0, 0, 0], [0, 156, 155], [0, 153, 154]]


@pytest.mark.parametrize(
    "text",
    ["2 6 0\n23 35 8\n13 29 16", "[[2, 6, 0], [23, 35, 8], [13, 29, 16]]", "2,6,0; 23,35,8; 13,29,16",
     "  2 6 0 \n\n 23 35 8\n13 29 16.0 "],
)
def test_grid_answer_formats_accepted(text):
    assert ex.exercise("slido-4x4").check(text).correct


def test_grid_answer_wrong_value_and_shape():
    e = ex.exercise("slido-4x4")
    result = e.check("2 6 0\n23 35 8\n13 29 15")
    assert not result.correct and result.understood and "row 3, column 3" in result.message
    result = e.check("2 6\n23 35")
    assert not result.correct and "2x2" in result.message and "3x3" in result.message
    result = e.check("2 six 0")
    assert not result.understood and "“six”" in result.message
    assert not e.check("").understood


def test_size_answers_and_hints():
    e = ex.exercise("conv-pool-size")
    for text in ("3x3", "3 x 3", "3×3", "3 by 3", "3x3x1"):
        assert e.check(text).correct, text
    wrong = e.check("6x6")
    assert not wrong.correct and "after the convolution" in wrong.message
    assert "height and the width" in e.check("3").message
    assert not e.check("three").understood


def test_count_answers():
    dense = ex.exercise("weights-dense")
    for text in ("65856", "65,856", "65 856", "65'856"):
        assert dense.check(text).correct, text
    assert "inputs" in dense.check("784").message
    conv = ex.exercise("weights-conv")
    assert conv.check("32,130").correct
    assert "slice per input channel" in conv.check(str(250 + 500 + 26_880)).message
    assert not conv.check("lots").understood


def test_explanations_show_the_working():
    slido = ex.exercise("slido-4x4").working
    assert "(4 + 2·1 − 2) / 2 + 1 = 3" in slido
    assert "6·1 + 7·1 + 10·0 + 11·2 = 35" in slido
    conv = ex.exercise("weights-conv").working
    assert "5·5·10" in conv and "32,130" in conv and "65,856" in conv
    assert "6x6x1" in ex.exercise("conv-pool-size").working
    for item in ex.exercises():
        assert item.title and item.prompt and item.working
        assert item.check("").correct is False


def _write(tmp_path, data):
    path = tmp_path / "g.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_grid_file_errors(tmp_path):
    base = {"format": "cnnstudio-grid", "version": 1, "kind": "conv", "input": [[1, 2], [3, 4]], "kernel": [[1]]}
    assert ex.load_grid_example(_write(tmp_path, base)).input.shape == (1, 2, 2)
    with pytest.raises(FormatError, match="newer CNN Studio"):
        ex.load_grid_example(_write(tmp_path, {**base, "version": 9}))
    with pytest.raises(FormatError, match="kernel"):
        ex.load_grid_example(_write(tmp_path, {k: v for k, v in base.items() if k != "kernel"}))
    with pytest.raises(FormatError, match="larger than the padded input"):
        ex.load_grid_example(_write(tmp_path, {**base, "kernel": [[1, 1, 1]] * 3}))
    with pytest.raises(FormatError, match="rectangular"):
        ex.load_grid_example(_write(tmp_path, {**base, "input": [[1, 2], [3]]}))
    (tmp_path / "bad.json").write_text("{", encoding="utf-8")
    with pytest.raises(FormatError, match="corrupt"):
        ex.load_grid_example(tmp_path / "bad.json")
    with pytest.raises(UserError):
        ex.grid_example("nope")


def test_parse_size_refuses_superscript_digits_with_a_sentence():
    """'²' is a digit to str.isdigit() but not to int(): a UserError, not a ValueError."""
    for text in ("²x3", "3x²", "²"):
        with pytest.raises(UserError):
            ex.parse_size(text)
    assert ex.parse_size("4x4") == (4, 4)
