"""Notebook dashboards that replay a recorded run (a trace).

::

    from explainer.widgets import TrainingDashboard, ForwardExplorer, BackpropExplorer
    TrainingDashboard()                      # the default 8x8 trace (built once if missing)
    dash = TrainingDashboard("runs/mnist.zarr")
    dash.step = 120                          # the nearest snapshot step is shown; dash.step becomes it

Public API (each dashboard is an ``ipywidgets.VBox``: display it, or make it
the last line of a cell):

``TrainingDashboard(trace=None, step=None)``
    Play button and step slider over the snapshot steps; loss and accuracy
    curves and per-layer gradient norms (log scale) with a cursor at the step;
    the first-layer filters at that step; per-layer histograms of W and of
    ``log10 |dW|``. Traitlet ``step`` (int, a snapshot step; default the first).
    On a CNN's trace the tiles are the first convolution's k x k kernels, and a
    clicked kernel's curve is its feature map's mean ``a``.
``ForwardExplorer(trace=None, step=None, probe=0)``
    A probe digit (dropdown), a digit drawn on a canvas, or an uploaded
    PNG/JPEG, through the network as it was at ``step``: the input as the
    network sees it, each layer's activations ``a``, the first-layer units
    that respond most, the output probabilities and the predicted digit.
    Traitlets ``step`` (int, a snapshot step; default the last), ``probe``
    (int, index into the probe set), ``source`` ("probe", "drawing" or
    "upload"), ``prediction`` (int, the predicted digit shown). On a CNN's
    trace: every convolution and pooling layer's feature maps (recorded for the
    probe digits ``trace.map_probes``, computed for any other digit) instead of
    the first-layer units; traitlet ``maps`` ("a" or "z").
``BackpropExplorer(trace=None, step=None, probe=0)``
    For a probe digit at a step: each layer's ``delta`` and this digit's
    ``dW = delta a_prev^T`` as heatmaps, and the size of the update per
    layer. Traitlets ``step`` (default the last), ``probe``. A CNN's trace is
    refused in one line (its error area).
``DrawingCanvas()``
    The canvas of ForwardExplorer (``explorer.canvas``), an anywidget: draw
    with the mouse; when the pen lifts, traitlet ``drawing`` becomes the
    picture as a PNG data URL ("" when cleared). ``canvas.png`` is its bytes;
    assigning PNG bytes to ``canvas.png`` is what a test does instead of
    drawing.
``CompareRuns(traces, fraction=None)``
    Two or more runs scrubbed with one slider (matched by fraction of
    training: step for step when equally long): their loss, accuracy and
    first-layer gradient norm overlaid with a cursor, and each run's filters
    at its matched snapshot. Traitlet ``fraction`` (0 to 1).
``LiveTraining(trace_path=None, **settings)``
    Trains in the notebook and records a trace these dashboards open: a view
    of an :class:`explainer.LiveRun` (which trains and records headless),
    drawn from that trace as it grows. ``arch="cnn"`` trains a CNN (``conv``
    filters per convolution; the data set's CNN preset's kernels) and shows its
    kernels.

A trace is anything :func:`explainer.trace.open_trace` takes (a path, a
Trace, None for the default); a step or a probe digit is checked by the
reader (``trace.check_step``, ``trace.check_sample``): a step of the run
shows its nearest snapshot, anything else is a ``TraitError`` that says
what is allowed. The filters are coloured on the run's range, as in every
picture of them (:mod:`explainer.filters`).

Every dashboard has ``errors`` (an :class:`~explainer.widgets.common.ErrorArea`): a bad
trace, a picture that is not a digit or a failed update shows its message
there, and the dashboard keeps working.

CSS classes a browser test can find (``widget.add_class``):

==========================  =====================================================
``explainer-step-slider``   each step slider (ipywidgets ``SelectionSlider``; value = step)
``explainer-play``          the play button (``ipywidgets.Play``)
``explainer-filters``       the first-layer filters image (``ipywidgets.Image``, PNG)
``explainer-prediction``    the widget whose text contains the predicted digit
``explainer-upload``        the ``ipywidgets.FileUpload`` of ForwardExplorer
``explainer-canvas``        the drawing canvas of ForwardExplorer
``explainer-input``         ForwardExplorer's image of what the network sees (the prepared input)
``explainer-feature-maps``  each layer's feature maps in ForwardExplorer on a CNN (``ipywidgets.Image``, PNG)
``explainer-error``         the error area (hidden while there is no error)
==========================  =====================================================

All pictures are ``ipywidgets.Image`` widgets holding PNG bytes. Shared
plumbing (opening the trace, PNG encoding, error area, step controls) is in
:mod:`explainer.widgets.common`.
"""

from .backprop_explorer import BackpropExplorer
from .canvas import DrawingCanvas
from .compare_runs import CompareRuns
from .forward_explorer import ForwardExplorer
from .live_training import LiveTraining
from .training_dashboard import TrainingDashboard

__all__ = ["TrainingDashboard", "ForwardExplorer", "BackpropExplorer", "DrawingCanvas", "LiveTraining", "CompareRuns"]
