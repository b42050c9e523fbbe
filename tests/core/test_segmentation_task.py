"""The segmentation task in core: the class-score map rule, the task switch and the template."""

from __future__ import annotations

import json

from cnnstudio.core.data_fit import check_fit
from cnnstudio.core.inference import infer
from cnnstudio.core.spec import load_spec
from cnnstudio.core.spec_edit import fit_classes, set_task


def test_segmenter_template_infers_and_fits_the_scene_classes():
    spec = load_spec("segmenter")
    summary = infer(spec)
    assert summary.ok and summary.output_shape == (6, 64, 64) and summary.task == "segmentation"
    fit = check_fit(spec, "segmentation", ["background", "circle", "square", "triangle", "star", "cross"])
    assert fit.ok and fit.classes is True
    assert "no masks" in check_fit(spec, "detection", ["a"]).task_problem
    refit = fit_classes(spec, ["background", "thing"])
    assert refit["layers"][-1]["out_channels"] == 2 and infer(refit).ok


def test_the_map_rule_says_what_to_change():
    spec = load_spec("segmenter")
    wrong = json.loads(json.dumps(spec))
    wrong["layers"][-1]["out_channels"] = 3
    assert any("end with a 1x1 conv2d of 6 out_channels" in p for p in infer(wrong).problems)
    flat = json.loads(json.dumps(spec))
    flat["layers"] += [{"id": "f", "type": "flatten"}]
    assert any("remove the flatten and dense layers" in p for p in infer(flat).problems)


def test_switching_a_classifier_to_segmentation_ends_it_in_a_score_map():
    spec = set_task(load_spec("lenet5"), "segmentation")
    assert spec["layers"][-1] == {"id": "scores", "type": "conv2d", "out_channels": 10, "kernel_size": 1}
    summary = infer(spec)
    assert summary.ok and summary.output_shape[0] == 10 and len(summary.output_shape) == 3
    assert set_task(spec, "segmentation") == spec
