"""Static figures of a recorded run, for reports, slides and the documentation.

Each function takes a :class:`~explainer.trace.Trace` and returns a
``matplotlib.figure.Figure``, made without pyplot: no global state, no display
needed, and in a notebook the returned figure shows itself. ::

    from explainer.figures import filters, save_all
    from explainer.trace import open_trace

    trace = open_trace("default")                # the default 8x8 trace; or a path
    fig = filters(trace, step=200)               # the first layer's W as images, at step 200
    fig.savefig("filters.png", dpi=150)
    save_all(trace, "figures/")                  # every figure, as PNG and SVG

    cnn = open_trace("runs/cnn.zarr")            # a convolutional network's run
    kernels(cnn)                                 # its first kernels, W (n_out, k, k), as images
    feature_maps(cnn, sample=3)                  # probe digit 3 through every conv and pool layer

``FIGURES`` names them all; ``figure_names(trace)`` those a run can make (a
dense run's ``filters``, a CNN's ``kernels`` and ``feature_maps``);
``explainer plot`` draws them from the command line.

The figures' look is public too, for pictures drawn in the same style (the
dashboards draw their panels with it): the colours (``COLORS``,
``LAYER_COLORS``), ``new_figure``, ``layer_label``, ``plain_log_labels``,
``add_epoch_axis``, the moving mean ``smooth`` with ``default_window``, and
``draw_dead_share``.
"""

from pathlib import Path

from ..trace import TraceError, open_trace
from .curves import dead_units, draw_dead_share, gradient_norms, loss_curves
from .kernels import MAX_KERNELS, feature_maps, kernels
from .predictions import NoEvaluationError, confusion, probes, require_evaluation
from .runs import RUN_FIGURES, run_colours, runs_dead_units, runs_filters, runs_gradient_norms, runs_loss
from .style import (
    COLORS,
    LAYER_COLORS,
    add_epoch_axis,
    default_window,
    layer_label,
    new_figure,
    plain_log_labels,
    smooth,
)
from .weights import MAX_FILTERS, filters

__all__ = ["FIGURES", "FORMATS", "loss_curves", "filters", "confusion", "probes", "gradient_norms", "dead_units",
           "kernels", "feature_maps", "DENSE_ONLY", "CNN_ONLY",
           "save_all", "figure_names", "NoEvaluationError", "MAX_FILTERS", "MAX_KERNELS",
           # the style, for pictures drawn like the figures
           "COLORS", "LAYER_COLORS", "new_figure", "layer_label", "plain_log_labels", "add_epoch_axis", "smooth",
           "default_window", "draw_dead_share",
           # two or more runs together (explainer compare-runs, the CompareRuns dashboard)
           "RUN_FIGURES", "run_colours", "runs_loss", "runs_gradient_norms", "runs_dead_units", "runs_filters"]

# name -> function; the name is also the file name that save_all writes
FIGURES = {
    "loss_curves": loss_curves,
    "filters": filters,
    "confusion": confusion,
    "probes": probes,
    "gradient_norms": gradient_norms,
    "dead_units": dead_units,
    "kernels": kernels,
    "feature_maps": feature_maps,
}
AT_A_STEP = ("filters", "probes", "kernels", "feature_maps")  # the figures that draw one snapshot: they take `step`
# which figures draw one kind of network only, and what to draw for the other kind instead
DENSE_ONLY = {"filters": "kernels"}  # a dense first layer's rows of W, as images
CNN_ONLY = {"kernels": "filters", "feature_maps": "probes"}
FORMATS = ("png", "svg", "pdf")
DPI = 150


def figure_names(trace):
    """The figures this trace can make: all of them, less ``confusion`` if the run did not finish,
    ``dead_units`` if the network has no hidden layer, and those of the other kind of network
    (:data:`DENSE_ONLY`, :data:`CNN_ONLY`)."""
    cannot = {"confusion"} if trace.evaluation is None else set()
    cannot |= {"dead_units"} if trace.n_layers < 2 else set()
    cannot |= set(DENSE_ONLY if trace.is_cnn else CNN_ONLY)
    return [name for name in FIGURES if name not in cannot]


def save_all(trace, out_dir, formats=("png", "svg"), step=None, names=None, dpi=DPI, sample=None):
    """Draw figures and write each as ``<out_dir>/<name>.<format>``; return the paths written.

    Parameters
    ----------
    trace : Trace or str or Path
        The run, or the path of its trace (anything :func:`~explainer.trace.open_trace` takes).
    out_dir : str or Path
        Created if missing.
    formats : sequence of str
        Any of ``"png"``, ``"svg"``, ``"pdf"``.
    step : int, optional
        The step for the figures that show one snapshot (filters, probes);
        default: the last.
    names : sequence of str, optional
        Which figures, from :data:`FIGURES`; default: every figure the trace
        can make (:func:`figure_names`). Naming ``confusion`` for a run that
        did not finish raises :class:`NoEvaluationError`; naming ``filters``
        for a CNN's run, or ``kernels`` or ``feature_maps`` for a dense one's,
        a :class:`~explainer.trace.TraceError` that says what to draw instead.
    dpi : int
        Pixels per inch of the PNG files (150: sharp on screens and in
        documents; 300 for print).
    sample : int, optional
        The probe digit of ``feature_maps`` (one of ``trace.map_probes``;
        default: the first of them).
    """
    trace = open_trace(trace)
    if isinstance(dpi, bool) or not isinstance(dpi, (int, float)) or not 10 <= dpi <= 1200:
        raise ValueError(f"dpi must be a number from 10 to 1200; got {dpi!r}")
    formats = _check_choices("formats", formats, FORMATS)
    names = figure_names(trace) if names is None else _check_choices("names", names, tuple(FIGURES))
    refuse_other_kind(trace, names)  # fail before drawing anything
    if "confusion" in names:
        require_evaluation(trace)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name in names:
        if name == "feature_maps":
            fig = feature_maps(trace, step=step, sample=sample)
        else:
            fig = FIGURES[name](trace, step=step) if name in AT_A_STEP else FIGURES[name](trace)
        for k, fmt in enumerate(formats):
            path = out_dir / f"{name}.{fmt}"
            fig.savefig(path, dpi=dpi, format=fmt)
            written.append(path)
            if k == 0:  # the layout is done and does not depend on the format: keep it, as laying out costs
                fig.set_layout_engine("none")  # about as much as drawing
    return written


def refuse_other_kind(trace, names):
    """One line (:class:`~explainer.trace.TraceError`) if ``names`` holds a figure of the other kind of network."""
    other = DENSE_ONLY if trace.is_cnn else CNN_ONLY
    wrong = [name for name in names if name in other]
    if wrong:
        kind = "a convolutional" if trace.is_cnn else "a dense"
        raise TraceError(f"{trace.path.name} is {kind} network's run, which {', '.join(wrong)} cannot show: draw "
                         f"{', '.join(dict.fromkeys(other[name] for name in wrong))} instead")


def _check_choices(what, given, allowed):
    given = [given] if isinstance(given, str) else list(given)
    unknown = [g for g in given if g not in allowed]
    if unknown or not given:
        raise ValueError(f"{what} must be chosen from {', '.join(allowed)}; got {', '.join(map(repr, given)) or 'none'}")
    return list(dict.fromkeys(given))  # in order, without repeats
