from __future__ import annotations

import numpy as np
import pytest

from cnnstudio.core import kernels
from cnnstudio.core.errors import UserError


def test_lecture_special_kernels():
    np.testing.assert_array_equal(kernels.get_preset("identity").values, [[0, 0, 0], [0, 1, 0], [0, 0, 0]])
    np.testing.assert_array_equal(kernels.get_preset("edge").values, [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]])
    np.testing.assert_array_equal(kernels.get_preset("sharpen").values, [[0, -1, 0], [-1, 5, -1], [0, -1, 0]])
    np.testing.assert_allclose(kernels.get_preset("box_blur").values * 9, np.ones((3, 3)))
    assert kernels.DEFAULT_PRESET == "edge"


def test_all_presets_present_and_valid():
    wanted = {"identity", "edge", "sharpen", "box_blur", "gaussian_blur", "sobel_x", "sobel_y", "laplacian", "emboss"}
    assert wanted <= set(kernels.PRESETS)
    for preset in kernels.PRESETS.values():
        kernels.check_kernel(preset.values)
        assert preset.title and preset.help
    for name in ("box_blur", "gaussian_blur", "gaussian_blur_5"):
        assert kernels.get_preset(name).values.sum() == pytest.approx(1.0)


def test_normalise():
    k, note = kernels.normalise_kernel(np.ones((3, 3)))
    np.testing.assert_allclose(k, np.full((3, 3), 1 / 9))
    assert "sum" in note
    k, note = kernels.normalise_kernel(kernels.get_preset("edge").values)
    assert k.sum() == pytest.approx(0) and k.max() == pytest.approx(1.0) and "sum to 0" in note
    _, note = kernels.normalise_kernel(np.zeros((2, 2)))
    assert "zero" in note


def test_check_kernel_errors():
    with pytest.raises(UserError, match="11x11"):
        kernels.check_kernel(np.ones((12, 3)))
    with pytest.raises(UserError, match="2-D"):
        kernels.check_kernel(np.ones(3))
    with pytest.raises(UserError, match="finite"):
        kernels.check_kernel([[np.inf]])
    with pytest.raises(UserError, match="Unknown kernel preset"):
        kernels.get_preset("nope")


def test_gaussian():
    g = kernels.gaussian_kernel(5, 1.0)
    assert g.shape == (5, 5) and g.sum() == pytest.approx(1) and g[2, 2] == g.max()
    np.testing.assert_allclose(g, g.T)
