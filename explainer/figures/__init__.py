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

``FIGURES`` names them all; ``explainer plot`` draws them from the command line.

The figures' look is public too, for pictures drawn in the same style (the
dashboards draw their panels with it): the colours (``COLORS``,
``LAYER_COLORS``), ``new_figure``, ``layer_label``, ``plain_log_labels``,
``add_epoch_axis``, the moving mean ``smooth`` with ``default_window``, and
``draw_dead_share``.
"""

from pathlib import Path

from ..trace import open_trace
from .curves import dead_units, draw_dead_share, gradient_norms, loss_curves
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
           "save_all", "figure_names", "NoEvaluationError", "MAX_FILTERS",
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
}
AT_A_STEP = ("filters", "probes")  # the figures that draw one snapshot, and so take `step`
FORMATS = ("png", "svg", "pdf")
DPI = 150


def figure_names(trace):
    """The figures this trace can make: all of them, less ``confusion`` if the run did not finish and
    ``dead_units`` if the network has no hidden layer."""
    cannot = {"confusion"} if trace.evaluation is None else set()
    cannot |= {"dead_units"} if trace.n_layers < 2 else set()
    return [name for name in FIGURES if name not in cannot]


def save_all(trace, out_dir, formats=("png", "svg"), step=None, names=None, dpi=DPI):
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
        did not finish raises :class:`NoEvaluationError`.
    dpi : int
        Pixels per inch of the PNG files (150: sharp on screens and in
        documents; 300 for print).
    """
    trace = open_trace(trace)
    trace.refuse_cnn("the figures")
    if isinstance(dpi, bool) or not isinstance(dpi, (int, float)) or not 10 <= dpi <= 1200:
        raise ValueError(f"dpi must be a number from 10 to 1200; got {dpi!r}")
    formats = _check_choices("formats", formats, FORMATS)
    names = figure_names(trace) if names is None else _check_choices("names", names, tuple(FIGURES))
    if "confusion" in names:
        require_evaluation(trace)  # fail before drawing anything
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name in names:
        fig = FIGURES[name](trace, step=step) if name in AT_A_STEP else FIGURES[name](trace)
        for k, fmt in enumerate(formats):
            path = out_dir / f"{name}.{fmt}"
            fig.savefig(path, dpi=dpi, format=fmt)
            written.append(path)
            if k == 0:  # the layout is done and does not depend on the format: keep it, as laying out costs
                fig.set_layout_engine("none")  # about as much as drawing
    return written


def _check_choices(what, given, allowed):
    given = [given] if isinstance(given, str) else list(given)
    unknown = [g for g in given if g not in allowed]
    if unknown or not given:
        raise ValueError(f"{what} must be chosen from {', '.join(allowed)}; got {', '.join(map(repr, given)) or 'none'}")
    return list(dict.fromkeys(given))  # in order, without repeats
