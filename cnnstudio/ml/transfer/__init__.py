"""Transfer learning (no Qt): backbones (bundled, local weight files, torchvision), head replacement and
freezing, and the "with transfer" against "from scratch" comparison on a small target set."""
