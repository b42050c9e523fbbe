"""Live video: frame sources, a capture thread that keeps the newest frame, the per-frame pipeline
(region of interest, preprocessing, ONNX Runtime or torch inference, overlays), recording, and a
Qt-free session the GUI and the CLI drive."""
