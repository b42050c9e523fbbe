"""ONNX export (metadata, dynamic batch, checker, parity with torch) and standalone PyTorch source."""

from __future__ import annotations

import ast
import json

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from cnnstudio.core.errors import UserError
from cnnstudio.core.inference import infer
from cnnstudio.core.model_meta import ModelMeta
from cnnstudio.core.spec import load_spec
from cnnstudio.core.tasks import get_task
from cnnstudio.core.templates import template_names
from cnnstudio.ml.builder import build_model
from cnnstudio.ml.export import (
    export_onnx,
    export_torch_code,
    latest_checkpoint,
    load_export_source,
    load_state_dict_file,
    onnx_parity,
    torch_source,
)

EXOTIC = {
    "name": "every layer",
    "input": {"channels": 3, "height": 15, "width": 13},
    "classes": ["a", "b", "c"],
    "preprocess": {"mean": [0.1, 0.2, 0.3], "std": [0.5, 0.6, 0.7]},
    "layers": [
        {"id": "same", "type": "conv2d", "out_channels": 6, "kernel_size": [4, 3], "padding": "same",
         "padding_mode": "reflect", "dilation": [1, 2]},
        {"id": "bn", "type": "batchnorm2d"},
        {"id": "lrelu", "type": "leaky_relu", "negative_slope": 0.1},
        {"id": "circ", "type": "conv2d", "out_channels": 6, "kernel_size": 3, "padding": [1, 2],
         "padding_mode": "circular", "groups": 3, "bias": False},
        {"id": "gelu", "type": "gelu"},
        {"id": "minp", "type": "minpool2d", "kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True},
        {"id": "rep", "type": "conv2d", "out_channels": 4, "kernel_size": 2, "padding": 1, "padding_mode": "replicate"},
        {"id": "sign", "type": "sign"},
        {"id": "tanh", "type": "tanh"},
        {"id": "avg", "type": "avgpool2d", "kernel_size": 2, "ceil_mode": True, "count_include_pad": False},
        {"id": "maxp", "type": "maxpool2d", "kernel_size": 2, "stride": 1, "dilation": 1},
        {"id": "sig", "type": "sigmoid"},
        {"id": "drop", "type": "dropout", "p": 0.2},
        {"id": "flat", "type": "flatten"},
        {"id": "fc", "type": "linear", "out_features": 7},
        {"id": "gelu2", "type": "gelu", "approximate": "tanh"},
        {"id": "out", "type": "linear", "out_features": 3},
        {"id": "soft", "type": "softmax"},
    ],
}


def _run(path, x):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session, session.run(None, {"input": x})


@pytest.mark.parametrize("name", template_names())
def test_template_exports_agree_with_torch(name, tmp_path):
    torch.manual_seed(0)
    model = build_model(name)
    spec = model.spec
    path = export_onnx(model, spec, tmp_path / f"{name}.onnx")
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto)
    assert max(o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")) >= 17
    assert [i.name for i in proto.graph.input] == ["input"]
    localization = spec["task"] == "localization"
    assert [o.name for o in proto.graph.output] == list(get_task(spec["task"]).outputs)
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param  # a named, dynamic batch
    props = {p.key: p.value for p in proto.metadata_props}
    assert props == {**ModelMeta.from_spec(spec).to_props(), **get_task(spec["task"]).model_props(spec)}
    assert json.loads(props["spec"]) == spec
    assert onnx_parity(model, path) <= 1e-4
    assert model.training  # export leaves the model's mode as it was
    x = np.random.default_rng(1).standard_normal((3, *model.input_shape)).astype(np.float32)
    _session, outputs = _run(path, x)
    assert outputs[0].shape == (3, *infer(spec).output_shape)  # class scores, or the map of a detector or segmenter
    if localization:
        assert outputs[1].shape == (3, 4) and outputs[1].min() >= 0 and outputs[1].max() <= 1


def test_minpool_sign_and_every_other_layer_export(tmp_path):
    torch.manual_seed(3)
    model = build_model(EXOTIC)
    with torch.no_grad():  # non-trivial batch-norm statistics
        model.layers["bn"].running_mean.uniform_(-1, 1)
        model.layers["bn"].running_var.uniform_(0.5, 2)
    path = export_onnx(model, model.spec, tmp_path / "exotic.onnx", opset=18)
    ops = {node.op_type for node in onnx.load(str(path)).graph.node}
    assert {"Sign", "MaxPool", "Neg"} <= ops
    assert onnx_parity(model, path, batch=5) <= 1e-4


def test_exported_model_opens_with_its_metadata(tmp_path):
    from cnnstudio.ml.onnx_model import OnnxModel

    model = build_model("shapes-localizer")
    path = export_onnx(model, model.spec, tmp_path / "loc.onnx")
    runner = OnnxModel(path)
    assert runner.meta.class_names == ("circle", "square", "triangle", "star", "cross")
    assert runner.meta.input_shape == (3, 64, 64) and runner.meta.task == "localization"
    assert runner.meta.preprocess.mean == (0.5, 0.5, 0.5)
    prediction = runner.predict_image(np.zeros((40, 50, 3), np.uint8))
    assert prediction.bbox is not None and len(prediction.top) == 5


def test_export_rejects_old_opsets(tmp_path):
    model = build_model("lenet5")
    with pytest.raises(UserError, match="opset 17 or newer"):
        export_onnx(model, model.spec, tmp_path / "old.onnx", opset=13)


@pytest.mark.parametrize("spec", ["lenet5", "shapes-localizer", EXOTIC])
def test_torch_source_rebuilds_the_same_network(spec, tmp_path):
    torch.manual_seed(0)
    model = build_model(spec).eval()
    path = export_torch_code(spec, tmp_path / "net.py")
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    imports = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imports |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert imports == {"torch"}
    namespace: dict = {"__name__": "generated"}
    exec(compile(source, str(path), "exec"), namespace)
    classes = [n.name for n in tree.body if isinstance(n, ast.ClassDef)]
    rebuilt = namespace[classes[-1]]().eval()
    rebuilt.load_state_dict(model.state_dict())  # same names, same shapes
    x = torch.randn(2, *model.input_shape)
    with torch.no_grad():
        a, b = model(x), rebuilt(x)
    for u, v in zip(a if isinstance(a, tuple) else (a,), b if isinstance(b, tuple) else (b,)):
        assert torch.equal(u, v)
    assert sum(p.requires_grad for p in rebuilt.parameters()) == sum(p.requires_grad for p in model.parameters())


def test_torch_source_is_readable():
    source = torch_source("lenet5")
    assert "class LeNet5(nn.Module):" in source
    assert "'c1': nn.Conv2d(in_channels=1, out_channels=6, kernel_size=5, padding=2),  # conv 5x5" in source
    assert "'s2': nn.MaxPool2d(kernel_size=2, stride=2)" in source
    assert "Parameters: 61,706." in source
    frozen = load_spec("lenet5")
    frozen["layers"][0]["trainable"] = False
    assert "frozen layers" in torch_source(frozen)
    with pytest.raises(UserError):
        torch_source({"input": {"channels": 1, "height": 2, "width": 2}, "classes": ["a"],
                      "layers": [{"id": "c", "type": "conv2d", "kernel_size": 3}]})


@pytest.mark.parametrize("name", ['Le"""Net', "Le\\N", "net\\", 'x"""\nimport os\n"""'])
def test_torch_source_keeps_any_network_name_inside_its_docstring(name):
    spec = load_spec("lenet5")
    spec["name"] = name
    tree = ast.parse(torch_source(spec))  # a quote or backslash in the name must not break the file
    assert ast.get_docstring(tree).startswith(f"{name}: generated by CNN Studio")
    assert [type(node).__name__ for node in tree.body[:2]] == ["Expr", "Import"]


def test_run_folder_checkpoints(tmp_path):
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    with pytest.raises(UserError, match="not a training run"):
        load_export_source(run)
    (run / "spec.json").write_text(json.dumps(load_spec("lenet5")), encoding="utf-8")
    with pytest.raises(UserError, match="has no checkpoints"):
        load_export_source(run)
    torch.manual_seed(5)
    trained = build_model("lenet5")
    torch.save(trained.state_dict(), run / "checkpoints" / "epoch1.pt")
    torch.save({"format": "x", "epoch": 2, "model": trained.state_dict()}, run / "checkpoints" / "last.pt")
    assert latest_checkpoint(run).name == "last.pt"
    for name in ("epoch1.pt", None):
        spec, model, origin = load_export_source(run, checkpoint=name)
        assert torch.equal(model.layers["c1"].weight, trained.layers["c1"].weight)
        assert "weights of" in origin
    (run / "checkpoints" / "bad.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(UserError, match="cannot be read"):
        load_state_dict_file(run / "checkpoints" / "bad.pt")
    torch.save({"model": build_model("mlp").state_dict()}, run / "checkpoints" / "other.pt")
    with pytest.raises(UserError, match="does not fit"):
        load_export_source(run, checkpoint="other.pt")
    torch.save([1, 2], run / "checkpoints" / "list.pt")
    with pytest.raises(UserError, match="holds no model weights"):
        load_state_dict_file(run / "checkpoints" / "list.pt")


def test_export_takes_last_pt_even_when_epoch_files_are_newer(tmp_path):
    """A trainer's run folder holds best.pt, last.pt and epoch{N}.pt; the export is last.pt's weights, not
    those of whichever file was written last."""
    import os

    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    (run / "spec.json").write_text(json.dumps(load_spec("lenet5")), encoding="utf-8")
    folder = run / "checkpoints"
    models = {}
    for seed, name in enumerate(["last.pt", "best.pt", "epoch2.pt", "epoch10.pt", "epoch9.pt"]):
        torch.manual_seed(seed)
        models[name] = build_model("lenet5")
        torch.save({"epoch": seed, "model": models[name].state_dict()}, folder / name)
        os.utime(folder / name, ns=(10**18 + seed * 10**9, 10**18 + seed * 10**9))  # each newer than the last
    assert latest_checkpoint(run) == folder / "last.pt"
    _, model, origin = load_export_source(run)
    assert origin == "weights of last.pt"
    assert torch.equal(model.layers["c1"].weight, models["last.pt"].layers["c1"].weight)
    (folder / "last.pt").unlink()  # no last.pt: the highest epoch (by number, not by name or time)
    assert latest_checkpoint(run) == folder / "epoch10.pt"
    for name in ("epoch2.pt", "epoch9.pt", "epoch10.pt"):
        (folder / name).unlink()
    assert latest_checkpoint(run) == folder / "best.pt"


def test_spec_sources_get_seeded_fresh_weights():
    _, a, origin = load_export_source("lenet5", seed=1)
    _, b, _ = load_export_source("lenet5", seed=1)
    _, c, _ = load_export_source("lenet5", seed=2)
    assert torch.equal(a.layers["c1"].weight, b.layers["c1"].weight)
    assert not torch.equal(a.layers["c1"].weight, c.layers["c1"].weight)
    assert origin == "fresh weights, seed 1"
    with pytest.raises(UserError, match="applies to a training run"):
        load_export_source("lenet5", checkpoint="x.pt")



def test_an_opset_beyond_the_exporter_or_a_huge_seed_is_a_sentence(tmp_path):
    model = build_model("lenet5")
    with pytest.raises(UserError, match="up to opset"):
        export_onnx(model, model.spec, tmp_path / "m.onnx", opset=99)
    assert not (tmp_path / "m.onnx").exists()
    with pytest.raises(UserError, match="out of range"):
        load_export_source("lenet5", seed=10**20)


# --- exactness: ceil-mode pooling, "same" convolutions, every registry option ----------------------

CEIL_POOL = {
    "format": "cnnstudio-network", "version": 1, "name": "ceil pool", "input": {"channels": 1, "height": 11, "width": 11}, "classes": ["a", "b"],
    "layers": [
        {"id": "p", "type": "maxpool2d", "kernel_size": 2, "stride": 2, "padding": 1, "ceil_mode": True},
        {"id": "flat", "type": "flatten"},
        {"id": "out", "type": "linear", "out_features": 2},
    ],
}


@pytest.mark.parametrize("kind", ["maxpool2d", "minpool2d", "avgpool2d"])
def test_ceil_mode_pooling_with_padding_exports_what_torch_and_summary_compute(kind, tmp_path):
    """1x11x11, k2 s2 p1 ceil_mode: PyTorch drops the window that would start in the right padding
    (6x6); ONNX's own ceil_mode computes 7x7, which made the export a broken file."""
    from cnnstudio.core.inference import infer

    spec = json.loads(json.dumps(CEIL_POOL))
    spec["layers"][0]["type"] = kind
    assert infer(spec).layers[0].output_shape == (1, 6, 6)
    torch.manual_seed(0)
    model = build_model(spec)
    x = torch.randn(3, 1, 11, 11)
    assert model.layers["p"](x).shape == (3, 1, 6, 6)
    path = export_onnx(model, model.spec, tmp_path / "ceil.onnx")
    session, (got,) = _run(path, x.numpy())
    np.testing.assert_allclose(got, model(x).detach().numpy(), atol=1e-5)


def test_an_export_that_disagrees_with_torch_writes_nothing(tmp_path, monkeypatch):
    """Exported as ONNX's ceil_mode (what the exporter did before), the model is refused before the
    file is written: an existing file at the target stays as it was, no temporary file is left."""
    import cnnstudio.ml.export as export

    model = build_model(CEIL_POOL)
    target = tmp_path / "ceil.onnx"
    target.write_bytes(b"the user's older model")
    monkeypatch.setattr(export, "onnx_exact_copy", lambda m, spec: m)
    with pytest.raises(UserError, match="ceil.onnx is not usable .*; nothing was written"):
        export_onnx(model, model.spec, target)
    assert target.read_bytes() == b"the user's older model"
    assert [p.name for p in tmp_path.iterdir()] == ["ceil.onnx"]


def test_cli_export_and_train_of_a_ceil_mode_spec(tmp_path, capsys):
    from cnnstudio.cli import main

    spec = tmp_path / "ceil.json"
    spec.write_text(json.dumps(CEIL_POOL))
    assert main(["export", str(spec), "--onnx", str(tmp_path / "ceil.onnx")]) == 0
    assert "max difference" in capsys.readouterr().out
    assert ort.InferenceSession(str(tmp_path / "ceil.onnx")).run(None, {"input": np.zeros((1, 1, 11, 11), np.float32)})


def test_train_whose_export_fails_does_not_report_success(tmp_path, capsys, monkeypatch):
    import cnnstudio.ml.export as export
    from cnnstudio.cli import main

    def broken(*_args, **_kw):
        raise UserError("The ONNX export of model.onnx does not compute what the PyTorch network computes.")

    monkeypatch.setattr(export, "export_onnx", broken)
    spec = tmp_path / "ceil.json"
    spec.write_text(json.dumps({**CEIL_POOL, "input": {"channels": 1, "height": 8, "width": 8},
                                "classes": [str(i) for i in range(10)],
                                "layers": [*CEIL_POOL["layers"][:2], {"id": "out", "type": "linear", "out_features": 10}]}))
    code = main(["train", str(spec), "--data", "digits", "--epochs", "1", "--device", "cpu", "--threads", "1",
                 "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 1
    assert "The ONNX export failed" in err and not (tmp_path / "run" / "model.onnx").exists()


_SMALL = {"out_channels": 4, "groups": 4, "out_features": 5, "kernel_size": 4, "stride": 3, "padding": 2,
          "dilation": 2}


def _param_values(param):
    """Values of one registry parameter (its kind, range and choices), capped to tiny networks."""
    from hypothesis import strategies as st

    top = min(_SMALL.get(param.name, param.maximum or 4), param.maximum or 4)
    if param.kind == "int":
        return st.integers(int(param.minimum), int(top))
    if param.kind == "float":
        return st.sampled_from(sorted({param.minimum, param.default, (param.minimum + param.maximum) / 2}))
    if param.kind == "bool":
        return st.booleans()
    if param.kind == "choice":
        return st.sampled_from(param.choices)
    one = st.integers(int(param.minimum), int(top))
    values = one | st.lists(one, min_size=2, max_size=2)
    return values | st.sampled_from(["same", "valid"]) if param.kind == "padding" else values


def _registry_specs():
    """Random specs over every layer type of the registry, each parameter set or left at its default."""
    from hypothesis import strategies as st

    from cnnstudio.core.registry import LAYER_TYPES

    @st.composite
    def layer(draw):
        name = draw(st.sampled_from(sorted(LAYER_TYPES)))
        out = {"type": name}
        for param in LAYER_TYPES[name].params:
            if draw(st.booleans()):
                out[param.name] = draw(_param_values(param))
        return out

    @st.composite
    def spec(draw):
        layers = [dict(item, id=f"l{i}") for i, item in enumerate(draw(st.lists(layer(), min_size=1, max_size=5)))]
        return {"input": {"channels": draw(st.integers(1, 3)), "height": draw(st.integers(1, 9)),
                          "width": draw(st.integers(1, 9))},
                "classes": ["a", "b", "c"],
                "layers": [*layers, {"id": "flat_end", "type": "flatten"},
                           {"id": "out", "type": "linear", "out_features": 3}]}

    return spec()


def test_every_valid_registry_spec_exports_and_matches_torch(tmp_path_factory):
    """Found before the fix: ceil-mode pooling (ONNX's rounding), dilated "same" convolutions (ONNX
    Runtime refuses auto_pad SAME with dilation)."""
    from hypothesis import HealthCheck, assume, given, settings

    from cnnstudio.core.inference import infer

    folder = tmp_path_factory.mktemp("random-exports")

    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
    @given(spec=_registry_specs())
    def check(spec):
        summary = infer(spec)
        assume(summary.ok)
        torch.manual_seed(0)
        model = build_model(spec).eval()
        path = export_onnx(model, model.spec, folder / "m.onnx")
        x = np.random.default_rng(1).standard_normal((3, *summary.input_shape)).astype(np.float32)
        _, (got,) = _run(path, x)
        with torch.no_grad():
            np.testing.assert_allclose(got, model(torch.from_numpy(x)).numpy(), atol=1e-4, rtol=1e-4)

    check()
