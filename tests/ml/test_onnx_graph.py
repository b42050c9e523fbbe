"""The ONNX graph as plain data: nodes in topological order, shapes from inference, weights, edges, rows."""

from __future__ import annotations

import numpy as np
import pytest

from cnnstudio.core.errors import UserError
from cnnstudio.ml.onnx_graph import layout_rows, read_onnx_graph


def test_bundled_lenet_graph_has_shapes_weights_and_edges():
    from cnnstudio.ml.inspect.models import bundled_model_path

    graph = read_onnx_graph(bundled_model_path())
    ops = [n.op_type for n in graph.operators]
    assert ops == ["Conv", "Relu", "MaxPool", "Conv", "Relu", "MaxPool", "Flatten", "Gemm", "Relu", "Gemm", "Relu", "Gemm"]
    assert [n.kind for n in graph.nodes][0] == "input" and graph.nodes[-1].kind == "output"
    c1 = graph.node("/c1/Conv")
    assert c1.inputs[0].shape[1:] == (1, 28, 28)
    assert c1.outputs[0].shape[1:] == (6, 28, 28)  # padding 2 keeps the size
    assert [(w.name, w.shape, w.size) for w in c1.weights] == [
        ("layers.c1.weight", (6, 1, 5, 5), 150), ("layers.c1.bias", (6,), 6)]
    assert dict(c1.attributes)["pads"] == "[2, 2, 2, 2]"
    assert dict(c1.attributes)["kernel_shape"] == "[5, 5]"
    assert graph.node("/c3/Conv").outputs[0].shape[1:] == (16, 10, 10)
    assert graph.parameter_count == 61706  # the LeNet-5 count, from the initializers' shapes
    # every op but the first is fed by the op before it (a chain); the input feeds c1
    names = {n.index: n.name for n in graph.nodes}
    chain = [(names[e.source], names[e.target]) for e in graph.edges]
    assert chain[0] == ("input", "/c1/Conv") and ("/s2/MaxPool", "/c3/Conv") in chain
    assert chain[-1] == ("/out/Gemm", "logits")
    rows = layout_rows(graph)
    assert [rows[n.index][0] for n in graph.nodes] == list(range(len(graph.nodes)))


def test_out_of_order_branching_graph_is_sorted_and_laid_out(tmp_path):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    w = numpy_helper.from_array(np.ones((2, 1, 3, 3), np.float32), "w")
    nodes = [  # written out of order: Add first
        helper.make_node("Add", ["left", "right"], ["sum"], name="add"),
        helper.make_node("Conv", ["x", "w"], ["left"], name="conv", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["left"], ["right"], name="relu"),
    ]
    graph = helper.make_graph(nodes, "branch", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 5, 5])],
                              [helper.make_tensor_value_info("sum", TensorProto.FLOAT, None)], initializer=[w])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path = tmp_path / "branch.onnx"
    onnx.save(model, str(path))

    g = read_onnx_graph(path)
    assert [n.name for n in g.operators] == ["conv", "relu", "add"]
    add = g.node("add")
    assert add.outputs[0].shape == ("N", 2, 5, 5) and add.outputs[0].size is None  # symbolic batch
    assert g.node("conv").weights[0].size == 18
    rows = layout_rows(g)
    assert rows[g.node("conv").index][0] < rows[g.node("relu").index][0] < rows[g.node("add").index][0]
    assert rows[g.node("sum").index][0] > rows[g.node("add").index][0]


def test_unreadable_files_are_user_errors(tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a model")
    with pytest.raises(UserError, match="bad.onnx"):
        read_onnx_graph(bad)
    with pytest.raises(UserError, match="does not exist"):
        read_onnx_graph(tmp_path / "missing.onnx")
