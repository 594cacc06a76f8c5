"""Manim scenes that replay recorded training runs.

One story per file (``first_layer_filters.py``, ...); the visual pieces they
share live in :mod:`explainer.scenes.pieces`, the colours in :mod:`explainer.scenes.palette`, and
the choice of trace, probe sample and step in :mod:`explainer.scenes.choice`. Render from
the repository root::

    manim render -ql scenes/first_layer_filters.py FirstLayerFilters
    EXPLAINER_TRACE=runs/mnist.zarr manim render -ql scenes/first_layer_filters.py FirstLayerFilters

A convolutional network's trace has scenes of its own, Convolution and FeatureMaps (and
FirstLayerFilters shows its kernels); ``choice.CNN_SCENES`` says which scene shows which kind of
network, and the others refuse a CNN's trace in one line::

    EXPLAINER_TRACE=runs/cnn.zarr manim render -ql scenes/convolution.py Convolution
    EXPLAINER_TRACE=runs/cnn.zarr manim render -ql scenes/feature_maps.py FeatureMaps
"""
