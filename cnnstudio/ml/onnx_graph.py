"""An ONNX model's graph as plain data, for the graph view (as Netron shows it).

:func:`read_onnx_graph` reads a file into an :class:`OnnxGraph`: the graph's inputs and outputs and its
operator nodes in topological order, each with its activation inputs and outputs (shapes from ONNX shape
inference), its weight tensors (initializers: shape and element count) and its attributes as text, plus
the edges between them. :func:`layout_rows` places the nodes in rows from top to bottom. No Qt.
"""

from __future__ import annotations

import heapq
import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cnnstudio.core.errors import UserError, first_line

Dim = int | str | None  # a size, a symbolic name ("batch") or unknown


@dataclass(frozen=True)
class TensorDesc:
    """A tensor: its name, element type ("float32") and shape (None when unknown)."""

    name: str
    dtype: str = ""
    shape: tuple[Dim, ...] | None = None

    @property
    def shape_text(self) -> str:
        if self.shape is None:
            return "?"
        if not self.shape:
            return "scalar"
        return "×".join("?" if d is None else str(d) for d in self.shape)

    @property
    def size(self) -> int | None:
        """The element count, or None when a dimension is unknown or symbolic."""
        if self.shape is None or any(not isinstance(d, int) for d in self.shape):
            return None
        return math.prod(self.shape)  # type: ignore[arg-type]


@dataclass(frozen=True)
class GraphNode:
    """One box of the graph. ``kind``: "input" / "output" (the graph's own) or "op" (an operator node)."""

    index: int
    kind: str
    op_type: str
    name: str
    inputs: tuple[TensorDesc, ...] = ()
    outputs: tuple[TensorDesc, ...] = ()
    weights: tuple[TensorDesc, ...] = ()
    attributes: tuple[tuple[str, str], ...] = ()
    domain: str = ""

    @property
    def title(self) -> str:
        return self.op_type if self.kind == "op" else self.name

    @property
    def parameter_count(self) -> int:
        return sum(w.size or 0 for w in self.weights)


@dataclass(frozen=True)
class GraphEdge:
    """``source`` node -> ``target`` node through ``tensor``."""

    source: int
    target: int
    tensor: TensorDesc


@dataclass(frozen=True)
class OnnxGraph:
    name: str
    path: Path
    nodes: tuple[GraphNode, ...]
    edges: tuple[GraphEdge, ...]
    initializers: dict[str, TensorDesc] = field(default_factory=dict)
    opset: int | None = None
    producer: str = ""
    shapes_inferred: bool = True

    @property
    def operators(self) -> list[GraphNode]:
        return [n for n in self.nodes if n.kind == "op"]

    @property
    def parameter_count(self) -> int:
        return sum(t.size or 0 for t in self.initializers.values())

    def node(self, name: str) -> GraphNode:
        return next(n for n in self.nodes if n.name == name)


def _dtype_name(elem_type: int) -> str:
    from onnx import TensorProto

    try:
        name = TensorProto.DataType.Name(elem_type)
    except ValueError:
        return ""
    return {"FLOAT": "float32", "DOUBLE": "float64", "FLOAT16": "float16"}.get(name, name.lower())


def _value_desc(value_info: Any) -> TensorDesc:
    kind = value_info.type.WhichOneof("value")
    if kind != "tensor_type":
        return TensorDesc(value_info.name, kind or "")
    tensor = value_info.type.tensor_type
    shape = None
    if tensor.HasField("shape"):
        dims: list[Dim] = []
        for d in tensor.shape.dim:
            if d.HasField("dim_value"):
                dims.append(int(d.dim_value))
            elif d.HasField("dim_param"):
                dims.append(d.dim_param)
            else:
                dims.append(None)
        shape = tuple(dims)
    return TensorDesc(value_info.name, _dtype_name(tensor.elem_type), shape)


def attribute_text(attr: Any, limit: int = 120) -> str:
    """An attribute's value in words: ``[2, 2, 2, 2]``, ``1e-05``, ``"NOTSET"``, ``tensor float32 6``."""
    from onnx import AttributeProto, helper

    if attr.type == AttributeProto.GRAPH:
        return f"subgraph ({len(attr.g.node)} nodes)"
    if attr.type == AttributeProto.GRAPHS:
        return f"{len(attr.graphs)} subgraphs"
    if attr.type == AttributeProto.TENSOR:
        t = attr.t
        return f"tensor {_dtype_name(t.data_type)} {'×'.join(map(str, t.dims)) or 'scalar'}"
    value = helper.get_attribute_value(attr)
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, float):
        text = f"{value:.6g}"
    elif isinstance(value, list):
        items = [v.decode("utf-8", "replace") if isinstance(v, bytes) else (f"{v:.6g}" if isinstance(v, float) else v)
                 for v in value]
        text = "[" + ", ".join(map(str, items)) + "]"
    else:
        text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def read_onnx_graph(path: str | Path) -> OnnxGraph:
    """Read ``path`` (weights stay on disk: only their shapes are needed) into an :class:`OnnxGraph`."""
    import onnx

    path = Path(path)
    if not path.is_file():
        raise UserError(f"The model file {path} does not exist.")
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:
        first = first_line(exc)
        raise UserError(f"{path.name} is not an ONNX model that can be read ({first}).") from None
    graph = model.graph
    known = {i.name for i in graph.input} | {t.name for t in graph.initializer}
    ordered = _topological(graph.node, known)
    if [id(n) for n in ordered] != [id(n) for n in graph.node]:  # shape inference reads the nodes in file order
        copies = [type(n)() for n in ordered]
        for copy, node in zip(copies, ordered, strict=True):
            copy.CopyFrom(node)
        del graph.node[:]
        graph.node.extend(copies)
    inferred = True
    try:
        model = onnx.shape_inference.infer_shapes(model)
    except Exception:
        inferred = False  # shapes stay unknown where the file has none; the graph is still shown
    return graph_from_model(model, path, shapes_inferred=inferred)


def graph_from_model(model: Any, path: Path | str = "", shapes_inferred: bool = True) -> OnnxGraph:
    """An :class:`OnnxGraph` of a loaded ``onnx.ModelProto`` (shape-inferred or not)."""
    graph = model.graph
    initializers = {
        t.name: TensorDesc(t.name, _dtype_name(t.data_type), tuple(int(d) for d in t.dims)) for t in graph.initializer
    }
    values: dict[str, TensorDesc] = {}
    for vi in (*graph.input, *graph.value_info, *graph.output):
        found = _value_desc(vi)
        if vi.name not in values or found.shape is not None:  # a declared output without a shape keeps the inferred one
            values[vi.name] = found

    def desc(name: str) -> TensorDesc:
        return values.get(name) or initializers.get(name) or TensorDesc(name)

    nodes: list[GraphNode] = []
    producer: dict[str, int] = {}
    for vi in graph.input:
        if vi.name in initializers:  # old exporters list weights as inputs too
            continue
        producer[vi.name] = len(nodes)
        nodes.append(GraphNode(len(nodes), "input", "Input", vi.name, outputs=(desc(vi.name),)))

    for op in _topological(graph.node, set(producer) | set(initializers)):
        index = len(nodes)
        inputs = tuple(desc(n) for n in op.input if n and n not in initializers)
        weights = tuple(initializers[n] for n in op.input if n in initializers)
        outputs = tuple(desc(n) for n in op.output if n)
        attrs = tuple((a.name, attribute_text(a)) for a in op.attribute)
        name = op.name or f"{op.op_type}_{index}"
        nodes.append(GraphNode(index, "op", op.op_type, name, inputs, outputs, weights, attrs, op.domain))
        for out in op.output:
            if out:
                producer[out] = index
    for vi in graph.output:
        nodes.append(GraphNode(len(nodes), "output", "Output", vi.name, inputs=(desc(vi.name),)))

    edges = []
    for node in nodes:
        for tensor in node.inputs:
            source = producer.get(tensor.name)
            if source is not None and source != node.index:
                edges.append(GraphEdge(source, node.index, desc(tensor.name)))
    opset = next((int(o.version) for o in model.opset_import if o.domain in ("", "ai.onnx")), None)
    return OnnxGraph(graph.name or Path(path).stem, Path(path), tuple(nodes), tuple(edges), initializers, opset,
                     " ".join(p for p in (model.producer_name, model.producer_version) if p), shapes_inferred)


def _topological(ops, available: set[str]) -> list[Any]:
    """The nodes in an order where each comes after the producers of its inputs (stable: the file's order
    when it already is one). Nodes in a cycle or fed by unknown tensors keep their place at the end."""
    ops = list(ops)
    made_by: dict[str, int] = {}
    for i, op in enumerate(ops):
        for out in op.output:
            if out:
                made_by[out] = i
    waiting = [0] * len(ops)
    users: dict[int, list[int]] = defaultdict(list)
    for i, op in enumerate(ops):
        deps = {made_by[n] for n in op.input if n and n not in available and n in made_by and made_by[n] != i}
        waiting[i] = len(deps)
        for d in deps:
            users[d].append(i)
    order: list[int] = []
    heap = [i for i in range(len(ops)) if waiting[i] == 0]  # sorted already: a valid heap
    while heap:
        i = heapq.heappop(heap)
        order.append(i)
        for u in users[i]:
            waiting[u] -= 1
            if waiting[u] == 0:
                heapq.heappush(heap, u)
    placed = set(order)
    order += [i for i in range(len(ops)) if i not in placed]
    return [ops[i] for i in order]


def layout_rows(graph: OnnxGraph) -> dict[int, tuple[int, int]]:
    """(row, column) of every node: a node's row is one below its lowest producer, so edges point down;
    nodes sharing a row are numbered left to right in topological order."""
    row: dict[int, int] = {}
    sources: dict[int, list[int]] = defaultdict(list)
    for e in graph.edges:
        sources[e.target].append(e.source)
    for node in graph.nodes:  # topological: producers come first
        above = [row[s] for s in sources[node.index] if s in row]
        row[node.index] = max(above) + 1 if above else 0
    last = max(row.values(), default=0)
    for node in graph.nodes:  # the graph's outputs at the bottom together
        if node.kind == "output":
            row[node.index] = max(row[node.index], last)
    columns: dict[int, int] = defaultdict(int)
    out = {}
    for node in graph.nodes:
        r = row[node.index]
        out[node.index] = (r, columns[r])
        columns[r] += 1
    return out
