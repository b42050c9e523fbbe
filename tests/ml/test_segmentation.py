"""Segmentation on the ml side: the scenes generator, IoU, the loss, decoding, training and the ONNX export."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from cnnstudio.ml.datasets import load_dataset
from cnnstudio.ml.datasets.multishapes import generate_multishapes
from cnnstudio.ml.tasks import runtime, runtime_for_outputs
from cnnstudio.ml.tasks.segmentation import colour_masks, decode_masks, iou_from_confusion


def tiny_segmenter(classes: int = 6, size: int = 32) -> dict:
    return {
        "format": "cnnstudio-network", "version": 1, "name": "tiny segmenter",
        "input": {"channels": 3, "height": size, "width": size}, "task": "segmentation",
        "classes": ["background", *(f"c{i}" for i in range(1, classes))],
        "layers": [
            {"id": "c1", "type": "conv2d", "out_channels": 8, "kernel_size": 3, "padding": 1},
            {"id": "r1", "type": "relu"},
            {"id": "p1", "type": "maxpool2d", "kernel_size": 2},
            {"id": "up", "type": "conv_transpose2d", "out_channels": 8, "kernel_size": 2, "stride": 2},
            {"id": "r2", "type": "relu"},
            {"id": "scores", "type": "conv2d", "out_channels": classes, "kernel_size": 1},
        ],
    }


def test_scene_masks_match_the_objects_and_the_pixels():
    images, objects, masks = generate_multishapes(20, 48, seed=4, masks=True)
    plain, objects2 = generate_multishapes(20, 48, seed=4)
    np.testing.assert_array_equal(images, plain)  # the masks change nothing else
    np.testing.assert_array_equal(objects, objects2)
    for objs, mask in zip(objects, masks):
        for c, x, y, w, h in objs[objs[:, 0] >= 0]:
            x0, y0, x1, y1 = (int(round(v * 48)) for v in (x, y, x + w, y + h))
            inside = mask[y0:y1, x0:x1]
            assert (inside == c + 1).any() and set(np.unique(inside)) <= {0, int(c) + 1}
        assert (mask > 0).sum() == sum((mask == c + 1).sum() for c in range(5))
    assert masks.dtype == np.int64 and masks.max() <= 5


def test_scenes_bundle_resizes_masks_with_the_images():
    data = load_dataset({"source": "scenes", "num_samples": 30, "image_size": 48, "seed": 0})
    assert data.task == "segmentation" and data.classes[0] == "background" and data.train_masks.shape[1:] == (48, 48)
    small = data.fit_to(3, 24, 24)
    assert small.train_masks.shape[1:] == (24, 24) and small.train_masks.dtype == torch.int64
    assert set(small.train_masks.unique().tolist()) <= set(data.train_masks.unique().tolist())


def test_iou_is_one_when_perfect_and_counts_only_present_classes():
    perfect = np.diag([50, 10, 0, 5])
    per_class, miou = iou_from_confusion(perfect)
    assert miou == pytest.approx(1.0) and np.isnan(per_class[2])
    confusion = np.array([[8, 2], [2, 8]])  # IoU 8 / 12 for both
    per_class, miou = iou_from_confusion(confusion)
    assert per_class == pytest.approx([2 / 3, 2 / 3]) and miou == pytest.approx(2 / 3)
    result = runtime("segmentation").evaluate(
        (torch.nn.functional.one_hot(torch.tensor([[[0, 1], [2, 2]]]), 3).permute(0, 3, 1, 2).float() * 5,),
        (torch.tensor([[[0, 1], [2, 1]]]),), 3)
    assert result["accuracy"] == pytest.approx(0.75) and result["row"]["val_miou"] == pytest.approx((1 + 0.5 + 0.5) / 3)


def test_decode_gives_argmax_masks_and_the_overlay_colours_classes():
    raw = np.zeros((1, 3, 4, 4), np.float32)
    raw[0, 1, :2, :2] = 5.0
    raw[0, 2, 3, 3] = 5.0
    shares, masks = decode_masks(raw)
    assert masks.shape == (1, 4, 4) and masks[0, 0, 0] == 1 and masks[0, 3, 3] == 2 and masks[0, 2, 2] == 0
    np.testing.assert_allclose(shares[0], [11 / 16, 4 / 16, 1 / 16])
    _, big = decode_masks(raw, (8, 8))
    assert big.shape == (1, 8, 8) and big[0, :4, :4].min() == 1
    image = np.full((8, 8, 3), 100, np.uint8)
    out = colour_masks(image, masks[0])
    assert (out[6:, :6] == 100).all() and not (out[:4, :4] == 100).all()
    decoded = runtime("segmentation").decode({"masks": raw})
    assert decoded.masks.shape == (1, 4, 4) and decoded.box(0) is None


def test_loss_decreases_on_a_few_scenes():
    from cnnstudio.ml.builder import build_model

    images, _, masks = generate_multishapes(16, 32, seed=0, masks=True)
    x, y = torch.from_numpy(images), torch.from_numpy(masks)
    torch.manual_seed(0)
    model = build_model(tiny_segmenter())
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    task = runtime("segmentation")
    losses = []
    for _ in range(25):
        loss = task.loss((model(x),), (y,), None)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < 0.7 * losses[0]


def test_trainer_trains_a_segmenter_and_exports_onnx_with_parity(tmp_path):
    import onnxruntime as ort

    from cnnstudio.ml.onnx_model import OnnxModel
    from cnnstudio.ml.trainer import EpochEnd, Finished, train

    data = load_dataset({"source": "scenes", "num_samples": 40, "image_size": 32, "seed": 0})
    events = list(train(tiny_segmenter(), data, {"epochs": 2, "batch_size": 16, "lr": 0.01, "threads": 1},
                        tmp_path / "run", data_config={"source": "scenes", "augment": {"flip": 0.5}}))
    rows = [e.metrics for e in events if isinstance(e, EpochEnd)]
    assert len(rows) == 2 and "val_miou" in rows[-1] and len(rows[-1]["val_class_iou"]) == 6
    done = events[-1]
    assert isinstance(done, Finished) and done.onnx_path
    model = OnnxModel(done.onnx_path)
    assert model.output_names == ["masks"] and runtime_for_outputs(model.output_names).name == "segmentation"
    import onnx

    props = {p.key: p.value for p in onnx.load(done.onnx_path).metadata_props}
    assert "argmax" in json.loads(props["segmentation_decoding"])["mask"]
    from cnnstudio.ml.runs import load_run_model

    _, torch_model = load_run_model(tmp_path / "run")
    x = np.random.default_rng(0).random((2, 3, 32, 32), dtype=np.float32)
    session = ort.InferenceSession(done.onnx_path, providers=["CPUExecutionProvider"])
    got = session.run(None, {session.get_inputs()[0].name: x})[0]
    with torch.no_grad():
        want = torch_model.eval()(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    prediction = model.predict_image((np.transpose(data.val_x[0].numpy(), (1, 2, 0)) * 255).astype(np.uint8))
    assert prediction.mask is not None and prediction.mask.shape == (32, 32)
