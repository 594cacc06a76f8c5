"""Manim scenes that replay recorded training runs.

One story per file (``first_layer_filters.py``, ...); the visual pieces they
share live in :mod:`explainer.scenes.pieces`, the colours in :mod:`explainer.scenes.palette`, and
the choice of trace, probe sample and step in :mod:`explainer.scenes.choice`. Render from
the repository root::

    manim render -ql scenes/first_layer_filters.py FirstLayerFilters
    EXPLAINER_TRACE=runs/mnist.zarr manim render -ql scenes/first_layer_filters.py FirstLayerFilters
"""
