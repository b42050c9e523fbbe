"""Designer exports that need torch run on a worker and report the file and the ONNX parity."""

from __future__ import annotations

import pytest


@pytest.fixture
def designer(make_workspace):
    widget = make_workspace("designer", show=False)
    yield widget
    widget.exporter.wait()  # then make_workspace shuts it down


def test_onnx_and_torch_code_export_report_file_and_parity(qtbot, designer, tmp_path):
    messages = []
    designer.ctx.status_message.connect(lambda text, _timeout: messages.append(text))
    onnx_path = tmp_path / "net.onnx"
    with qtbot.waitSignal(designer.exporter.finished, timeout=120_000) as blocker:
        assert designer.start_export("onnx", onnx_path)
        assert not designer.start_export("torch", tmp_path / "busy.py")  # one export at a time
    ok, message = blocker.args
    assert ok, message
    assert onnx_path.stat().st_size > 1000 and str(onnx_path) in message
    diff = float(message.split("max abs diff ")[1].rstrip(").").strip())
    assert diff <= 1e-4
    assert messages[-1] == message

    code_path = tmp_path / "net.py"
    with qtbot.waitSignal(designer.exporter.finished, timeout=60_000) as blocker:
        assert designer.start_export("torch", code_path)
    assert blocker.args[0] and "class" in code_path.read_text(encoding="utf-8")


def test_invalid_network_is_not_exported(designer, tmp_path):
    errors = []
    designer.show_error = lambda title, message: errors.append(message)
    designer.set_param("c3", "kernel_size", 20)
    assert not designer.start_export("onnx", tmp_path / "x.onnx")
    assert "Fix the network's" in errors[0] and "20x20 kernel" in errors[0]
    assert not (tmp_path / "x.onnx").exists()
