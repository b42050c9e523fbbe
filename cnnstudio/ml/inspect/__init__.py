"""Looking inside a model: feature maps, kernels, saliency, embeddings and mistakes (no Qt).

The Inspect workspace and ``cnnstudio features`` share everything here; :mod:`.render` turns arrays
into uint8 images for both.
"""
