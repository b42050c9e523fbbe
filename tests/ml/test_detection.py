"""Detection end to end on the ml side: the multishapes generator, YOLO and COCO folders, the loss,
decoding with NMS, mAP, training through the trainer and the ONNX export."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from cnnstudio.ml.datasets import load_dataset
from cnnstudio.ml.datasets.multishapes import generate_multishapes, main_labels
from cnnstudio.ml.datasets.objects import unpad, write_coco_folder, write_yolo_folder
from cnnstudio.ml.tasks import runtime, runtime_for_outputs
from cnnstudio.ml.tasks.detection import decode_detections, detection_loss, mean_average_precision


def tiny_detector(classes: int = 5, size: int = 32) -> dict:
    return {
        "format": "cnnstudio-network", "version": 1, "name": "tiny detector",
        "input": {"channels": 3, "height": size, "width": size}, "task": "detection",
        "classes": [f"c{i}" for i in range(classes)],
        "layers": [
            {"id": "c1", "type": "conv2d", "out_channels": 8, "kernel_size": 3, "stride": 2, "padding": 1},
            {"id": "r1", "type": "relu"},
            {"id": "c2", "type": "conv2d", "out_channels": 16, "kernel_size": 3, "padding": 1},
            {"id": "r2", "type": "relu"},
            {"id": "head", "type": "detect_head", "num_classes": classes, "hidden": 0},
        ],
    }


def test_multishapes_are_seeded_with_0_to_6_exact_non_overlapping_boxes():
    images, objects = generate_multishapes(40, 64, seed=3)
    again, objects2 = generate_multishapes(40, 64, seed=3)
    np.testing.assert_array_equal(images, again)
    np.testing.assert_array_equal(objects, objects2)
    assert images.shape == (40, 3, 64, 64) and objects.shape == (40, 6, 5)
    counts = (objects[..., 0] >= 0).sum(1)
    assert counts.min() == 0 and counts.max() >= 5
    for image, objs in zip(images, unpad(objects)):
        assert np.all((objs[:, 1:] >= 0) & (objs[:, 1:] <= 1))
        for _c, x, y, w, h in objs:  # the tight box: its border rows and columns hold shape pixels
            x0, y0, x1, y1 = (int(round(v * 64)) for v in (x, y, x + w, y + h))
            inside = np.abs(image[:, y0:y1, x0:x1] - image[:, :1, :1]).max(0) > 0.3
            assert inside[:, 0].any() and inside[:, -1].any() and inside[0].any() and inside[-1].any()
        for i in range(len(objs)):
            for j in range(i + 1, len(objs)):
                a, b = objs[i, 1:], objs[j, 1:]
                assert a[0] + a[2] <= b[0] or b[0] + b[2] <= a[0] or a[1] + a[3] <= b[1] or b[1] + b[3] <= a[1]
    labels = main_labels(objects)
    assert labels.dtype == np.int64 and labels.min() >= 0


def test_multishapes_bundle_is_detection_and_counts_objects():
    data = load_dataset({"source": "multishapes", "num_samples": 50, "image_size": 48, "seed": 0})
    assert data.task == "detection" and data.train_boxes is None
    assert data.train_objects.shape[1:] == (6, 5) and len(data.train_objects) == len(data.train_x)
    total = int((data.train_objects[..., 0] >= 0).sum() + (data.val_objects[..., 0] >= 0).sum())
    assert sum(data.class_counts().values()) == total


@pytest.mark.parametrize("layout", ["yolo", "coco"])
def test_yolo_and_coco_folders_round_trip_every_object(tmp_path, layout):
    images, objects = generate_multishapes(12, 48, seed=1)
    some = (objects[..., 0] >= 0).any(1)  # a YOLO image needs objects
    images, objects = images[some], objects[some]
    writer = write_yolo_folder if layout == "yolo" else write_coco_folder
    writer(tmp_path / layout, images, objects, ["circle", "square", "triangle", "star", "cross"])
    data = load_dataset({"source": layout, "path": str(tmp_path / layout), "image_size": 48, "val_fraction": 0.25})
    assert data.classes == ["circle", "square", "triangle", "star", "cross"]
    assert data.task == ("localization" if layout == "yolo" else "detection")
    got = torch.cat([data.train_objects, data.val_objects]).numpy()
    pixels = torch.cat([data.train_x, data.val_x]).numpy()
    matched = 0
    for want_image, want in zip(images, unpad(objects)):
        k = int(np.argmin(np.abs(pixels - want_image).reshape(len(pixels), -1).mean(1)))  # the same image
        have = got[k][got[k][:, 0] >= 0]
        assert have.shape == want.shape
        order = lambda o: o[np.lexsort(np.round(o, 3).T[::-1])]  # noqa: E731
        np.testing.assert_allclose(order(have), order(want), atol=1e-4)
        matched += 1
    assert matched == len(objects)
    if layout == "yolo":  # a localization set keeps the largest object as its box
        boxes, objs = data.train_boxes.numpy(), data.train_objects.numpy()
        for box, o in zip(boxes, objs):
            o = o[o[:, 0] >= 0]
            np.testing.assert_allclose(box, o[np.argmax(o[:, 3] * o[:, 4]), 1:], atol=1e-6)


def test_coco_folder_keeps_images_without_objects(tmp_path):
    images, objects = generate_multishapes(10, 48, seed=2)
    assert (objects[..., 0] < 0).all(1).any()
    write_coco_folder(tmp_path / "c", images, objects, ["a", "b", "c", "d", "e"])
    doc = json.loads((tmp_path / "c" / "annotations" / "instances.json").read_text())
    assert len(doc["images"]) == 10 and len(doc["annotations"]) == int((objects[..., 0] >= 0).sum())
    data = load_dataset({"source": "coco", "path": str(tmp_path / "c"), "image_size": 48})
    assert len(data) == 10


def _raw(k=2, grid=8):
    return np.full((1, k + 4, grid, grid), -8.0, np.float32)


def test_decode_finds_peaks_boxes_and_applies_per_class_nms():
    raw = _raw()
    raw[0, :2, 2:6, 2:6] = 0.0  # class 0 and 1: a plateau of score 0.5 in cells (2..5, 2..5) ...
    raw[0, 0, 3, 3] = 3.0  # ... a class-0 peak at row 3, col 3
    raw[0, 0, 3, 4] = 2.0  # a weaker class-0 neighbour: not a local maximum
    raw[0, 1, 3, 3] = 1.0  # class 1 at the same place: kept (NMS is per class)
    raw[0, 0, 6, 6] = 2.5  # a second class-0 object far away
    raw[0, 2:4] = 0.0  # offsets: the middle of the cell
    raw[0, 4:6] = np.log(0.25 / 0.75)  # w = h = 0.25 of the image
    probs, found = decode_detections(raw, score_threshold=0.6)
    objs = found[0]
    assert probs.shape == (1, 2) and probs[0, 0] == pytest.approx(1 / (1 + np.exp(-3.0)), rel=1e-5)
    assert len(objs) == 3 and list(objs[:, 5]) == [0, 0, 1]  # best first
    np.testing.assert_allclose(objs[0, :4], [3.5 / 8 - 0.125, 3.5 / 8 - 0.125, 0.25, 0.25], atol=1e-5)
    np.testing.assert_allclose(objs[1, :4], [6.5 / 8 - 0.125, 6.5 / 8 - 0.125, 0.25, 0.25], atol=1e-5)
    raw[0, 4:6] = 0.0  # boxes of half the image ...
    raw[0, 0, 3, 5] = 2.9  # ... and a class-0 peak two cells right of the first: IoU 1/3 with it
    _, found = decode_detections(raw, score_threshold=0.6, nms_iou=0.5)
    assert found[0][:, 5].tolist().count(0) == 3
    _, found = decode_detections(raw, score_threshold=0.6, nms_iou=0.3)
    assert found[0][:, 5].tolist().count(0) == 2 and found[0][0, 4] == pytest.approx(1 / (1 + np.exp(-3.0)))
    _, none = decode_detections(_raw())
    assert none[0].shape == (0, 6)


def test_map_is_one_for_perfect_boxes_and_drops_for_mistakes():
    truth = [np.array([[0, 0.1, 0.1, 0.2, 0.2], [1, 0.5, 0.5, 0.3, 0.2], [-1, 0, 0, 0, 0]], np.float32),
             np.array([[1, 0.2, 0.6, 0.2, 0.3]], np.float32)]
    perfect = [np.array([[*t[1:], 0.9, t[0]] for t in im if t[0] >= 0], np.float32) for im in truth]
    result = mean_average_precision(perfect, truth)
    assert result["map50"] == pytest.approx(1.0) and result["map"] == pytest.approx(1.0)
    wrong = [p.copy() for p in perfect]
    wrong[1][0, 5] = 0  # a wrong class
    wrong[0][0, :2] += 0.08  # a box shifted: IoU ~0.4
    worse = mean_average_precision(wrong, truth)
    assert worse["map50"] < 0.75 and worse["map"] < result["map"]
    assert mean_average_precision([np.zeros((0, 6))] * 2, truth)["map50"] == 0.0


def test_loss_decreases_and_targets_peak_at_object_centres():
    from cnnstudio.ml.builder import build_model
    from cnnstudio.ml.tasks.detection import encode_targets

    objects = torch.tensor([[[1, 0.25, 0.25, 0.25, 0.25], [-1, 0, 0, 0, 0]]], dtype=torch.float32)
    enc = encode_targets(objects, 8, 8, 3)
    assert enc["heat"].shape == (1, 3, 8, 8) and float(enc["heat"][0, 1, 3, 3]) == 1.0
    assert float(enc["heat"][0, 1].sum()) > 1.0 and float(enc["heat"][0, 0].max()) == 0.0
    images, objs = generate_multishapes(16, 32, seed=0)
    x, targets = torch.from_numpy(images), torch.from_numpy(objs)
    torch.manual_seed(0)
    model = build_model(tiny_detector())
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    losses = []
    for _ in range(30):
        loss = detection_loss(model(x), targets)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < 0.5 * losses[0]
    with torch.no_grad():
        assert float(detection_loss(model(x), targets, "sum")) == pytest.approx(16 * float(detection_loss(model(x), targets)), rel=1e-4)


def test_trainer_trains_a_detector_and_exports_onnx_with_its_decoding(tmp_path):
    from cnnstudio.ml.onnx_model import OnnxModel
    from cnnstudio.ml.trainer import EpochEnd, Finished, train

    data = load_dataset({"source": "multishapes", "num_samples": 60, "image_size": 32, "seed": 0,
                         "augment": {"flip": 0.5, "brightness": 0.2}})
    events = list(train(tiny_detector(), data, {"epochs": 2, "batch_size": 16, "lr": 0.01, "threads": 1},
                        tmp_path / "run", data_config={"source": "multishapes", "augment": {"flip": 0.5}}))
    rows = [e.metrics for e in events if isinstance(e, EpochEnd)]
    assert len(rows) == 2 and {"val_map50", "val_map"} <= rows[-1].keys()
    assert rows[-1]["val_loss"] < rows[0]["val_loss"] * 1.5
    done = events[-1]
    assert isinstance(done, Finished) and done.onnx_path
    model = OnnxModel(done.onnx_path)
    assert model.output_names == ["detections"] and model.meta.task == "detection"
    assert runtime_for_outputs(model.output_names).name == "detection"
    import onnx

    props = {p.key: p.value for p in onnx.load(done.onnx_path).metadata_props}
    decoding = json.loads(props["detection_decoding"])
    assert decoding["nms_iou"] == 0.5 and decoding["score_threshold"] == 0.3 and "sigmoid" in decoding["box"]
    image = (np.transpose(data.val_x[0].numpy(), (1, 2, 0)) * 255).astype(np.uint8)
    prediction = model.predict_image(image)
    assert prediction.objects is not None and prediction.objects.shape[1] == 6


def test_export_parity_onnx_vs_torch(tmp_path):
    import onnxruntime as ort

    from cnnstudio.ml.builder import build_model
    from cnnstudio.ml.export import export_onnx

    torch.manual_seed(1)
    model = build_model("detector").eval()
    path = export_onnx(model, json.loads(json.dumps(model.spec)), tmp_path / "d.onnx")
    x = torch.rand(2, 3, 96, 96)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = session.run(None, {session.get_inputs()[0].name: x.numpy()})[0]
    with torch.no_grad():
        want = model(x).numpy()
    assert got.shape == (2, 9, 12, 12)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    a = runtime("detection").decode({"detections": got})
    b = runtime("detection").decode_outputs((torch.from_numpy(want),))
    assert [len(o) for o in a.objects] == [len(o) for o in b.objects]


def test_a_classifier_output_check_names_the_head():
    det = runtime("detection")
    assert det.check_outputs((torch.zeros(2, 9, 4, 4),), 5) is None
    assert "num_classes 3" in det.check_outputs((torch.zeros(2, 9, 4, 4),), 3)


def test_detect_head_parameters_match_the_torch_module():
    from cnnstudio.core.inference import infer
    from cnnstudio.ml.builder import build_model

    spec = tiny_detector()
    spec["layers"][-1]["hidden"] = 12
    model = build_model(spec)
    head = infer(spec).layers[-1]
    assert head.params == sum(p.numel() for p in model.layers["head"].parameters())
