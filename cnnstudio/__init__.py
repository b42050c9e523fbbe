"""CNN Studio: a desktop studio for experimenting with convolutional neural networks on images."""

__version__ = "0.1.0"
