"""BackpropExplorer: one probe digit's backward pass at a chosen step.

The trace holds, for every probe digit at every snapshot, each layer's
``delta = d loss / d z`` and ``a``. This digit's weight gradient follows from
them without re-running anything::

    dW_l = delta_l a_{l-1}^T     # (n_out, n_in), a_0 = x: the digit's own pixels
    ‖dW_l‖ = ‖delta_l‖ ‖a_{l-1}‖  # the Frobenius norm of an outer product

(the training batch's ``dW`` is the mean of these over its digits, plus the
penalty's gradient ``l1 sign(W) + l2 W`` when the run has one: the same for
every digit, so it is left out here and named above the pictures). Layers
are drawn from the output down, the way ``delta`` travels; in a sigmoid
network the bars on the right shrink layer after layer: the vanishing
gradient.

On MNIST, layer 1's dW has 512 x 784 numbers: far more than the pixels of its
panel. So one unit's row of it is also drawn as a picture on the input's
pixels (``unit``, a layer-1 unit): ``dW_1[j] = delta_1[j] x``, the digit
itself scaled by that unit's delta, red where the weights would grow.
"""

import ipywidgets as widgets
import numpy as np
import traitlets
from matplotlib import colormaps
from matplotlib.colors import Normalize

from explainer import colours, figures

from .blit import BlitFigure
from .common import TraceDashboard, hold_sync, image_widget, png_bytes, shows_errors, step_controls, upscale

__all__ = ["BackpropExplorer"]

DPI = 80
ROW_SIDE = 168  # screen pixels of the chosen unit's dW row drawn on the input's pixels (8x8 at 21, 28x28 at 6)


class BackpropExplorer(TraceDashboard):
    """Each layer's ``delta`` and this digit's ``dW`` at a step, and how large each layer's gradient is.

    Parameters
    ----------
    trace : str, Path, Trace or None
        The run; None opens the default 8x8 trace.
    step : int, optional
        The step shown first (the nearest snapshot); default the first.
    probe : int
        The probe digit shown first (an index into ``trace.probe_labels``).
    unit : int, optional
        The layer-1 unit whose row of dW is drawn on the input's pixels; default
        the one the first digit shown pulls on hardest (the largest ``|delta_1|``).
    """

    step = traitlets.Int(0, help="the snapshot step shown")
    probe = traitlets.Int(0, help="index of the probe digit")
    unit = traitlets.Int(0, help="the layer-1 unit whose row of dW is drawn on the input's pixels")

    def __init__(self, trace=None, step=None, probe=0, unit=None, **kwargs):
        super().__init__(**kwargs)
        if not self._open(trace, lambda: (self._precompute(), self._build(step, probe, unit))):
            return
        self.observe(self._on_change, names=["step", "probe", "unit"])
        self._on_change()

    # -- once ------------------------------------------------------------------------------

    def _precompute(self):
        trace = self.trace
        trace.refuse_cnn("BackpropExplorer")  # its heatmaps are dense layers' delta and dW
        self._steps = np.asarray(trace.snapshot_steps, dtype=np.int64)  # (n_snap,)
        if not len(self._steps):
            raise ValueError(f"{trace.path} holds no snapshot yet: there is no backward pass to show")
        records = [trace.probe_record(int(s)) for s in self._steps]
        L = trace.n_layers
        self._delta = [np.stack([r.delta[i] for r in records]) for i in range(L)]  # [layer] (n_snap, n_probe, n_out)
        x = np.broadcast_to(trace.probe_x, (len(records), *trace.probe_x.shape))  # (n_snap, n_probe, n_in)
        self._a_prev = [x] + [np.stack([r.a[i] for r in records]) for i in range(L - 1)]  # [layer] (n_snap, n_probe, n_in)
        # ‖dW_l‖ = ‖delta_l‖ ‖a_prev‖ for every snapshot and probe digit: (n_snap, n_probe, n_layers)
        self._dW_norm = np.stack([np.linalg.norm(d, axis=2) * np.linalg.norm(a, axis=2)
                                  for d, a in zip(self._delta, self._a_prev)], axis=2)
        self._update_norm = np.asarray(trace.scalars["update_norm"], dtype=float)  # (n_steps, n_layers)

    def _build(self, step, probe, unit):
        trace = self.trace
        _, self._slider = step_controls(self._steps, value=self._snapshot_step(self._steps[0] if step is None else step))
        traitlets.link((self._slider, "value"), (self, "step"))
        self._probe_menu = widgets.Dropdown(
            options=[(f"probe {i}: a {int(y)}", i) for i, y in enumerate(trace.probe_labels)],
            description="probe digit", layout=widgets.Layout(width="220px"))
        traitlets.link((self._probe_menu, "value"), (self, "probe"))
        self.probe = int(probe)
        self._plot = self._figure()
        self._figure_image = image_widget()
        self._table = widgets.HTML()
        n_units = trace.run.shapes[0][0]
        self._unit_box = widgets.BoundedIntText(min=0, max=n_units - 1, description="layer-1 unit",
                                                layout=widgets.Layout(width="180px"))
        if unit is None:  # the unit this digit pulls on hardest at the first step shown: its row is not blank
            k = self.trace.snapshot_index(self.step, exact=True)
            unit = int(np.argmax(np.abs(self._delta[0][k, self.probe])))
        self.unit = int(unit)
        self._unit_box.value = self.unit
        traitlets.link((self._unit_box, "value"), (self, "unit"))
        self._row_image = image_widget()
        self._row_words = widgets.HTML()
        row_panel = widgets.VBox([self._unit_box, self._row_image, self._row_words],
                                 layout=widgets.Layout(width="230px"))
        self.children = [
            widgets.HTML(f"<b>Backward pass</b> — {trace.dataset} {'→'.join(map(str, trace.sizes))} "
                         f"({trace.run.activation}): how one digit's error travels back through the "
                         f"layers, and the weight change it asks for.{_penalty_note(trace)}"),
            widgets.HBox([self._probe_menu, self._slider]),
            self.errors,
            widgets.HBox([self._figure_image, row_panel], layout=widgets.Layout(flex_flow="row wrap")),
            self._table,
        ]

    def _figure(self):
        """Per layer (output at the top): delta as a column, dW as a heatmap; right: ‖dW‖ per layer, log scale."""
        trace = self.trace
        L = trace.n_layers
        fig = figures.new_figure(8.1, 1.1 * L + 1.2)  # 648 px wide: the unit's row fits beside it at 1366x768
        fig.set_dpi(DPI)
        grid = fig.add_gridspec(L, 3, width_ratios=[0.25, 2.4, 1.7])
        self._delta_images, self._dW_images = [], []
        for row, i in enumerate(reversed(range(L))):
            n_out, n_in = trace.run.shapes[i]
            ax_d, ax_w = fig.add_subplot(grid[row, 0]), fig.add_subplot(grid[row, 1])
            self._delta_images.append(ax_d.imshow(np.zeros((n_out, 1)), cmap=colours.SIGNS_CMAP, norm=Normalize(-1, 1),
                                                  aspect="auto", interpolation="nearest"))
            self._dW_images.append(ax_w.imshow(np.zeros((n_out, n_in)), cmap=colours.SIGNS_CMAP, norm=Normalize(-1, 1),
                                               aspect="auto",
                                               # one weight a block of pixels where they fit (8x8: 64 columns);
                                               # MNIST's 784 columns are averaged, and a unit's row is drawn apart
                                               interpolation="nearest" if n_in <= 128 else "antialiased"))
            for ax in (ax_d, ax_w):
                ax.set_xticks([])
                ax.set_yticks([])
            ax_d.set_ylabel(f"δ{i + 1}", fontsize=9, rotation=0, labelpad=12)
            ax_w.set_title(f"dW = δ a_prevᵀ, {figures.layer_label(trace, i)}: {n_out} rows × {n_in} columns",
                           fontsize=8, pad=2)
        self._delta_images.reverse()  # index by layer again
        self._dW_images.reverse()

        ax = fig.add_subplot(grid[:, 2])
        layers = np.arange(L)
        colors = [figures.LAYER_COLORS[i % len(figures.LAYER_COLORS)] for i in layers]
        self._bars = ax.bar(layers, np.ones(L), color=colors, label="‖dW‖ for this digit")
        (self._updates,) = ax.plot(layers, np.ones(L), "D", color=figures.COLORS["epoch"], ms=6,
                                   label="‖ΔW‖ applied at this step (the batch's update)")
        both = np.concatenate([self._dW_norm.ravel(), self._update_norm.ravel()])
        both = both[np.isfinite(both) & (both > 0)]
        lo, hi = (both.min(), both.max()) if both.size else (1e-8, 1.0)
        ax.set_yscale("log")
        ax.set_ylim(lo / 2, hi * 2)
        figures.plain_log_labels(ax)
        ax.set_xticks(layers, [f"layer {i + 1}" for i in layers], fontsize=8)
        ax.set_xlim(-0.6, L - 0.4)
        ax.tick_params(labelsize=8)
        ax.grid(True, axis="y", alpha=0.3)
        ax.set_title("How big each layer's gradient is (log scale)", fontsize=9)
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.08), ncols=1, frameon=False)
        fig.supxlabel("Colours: red > 0, blue < 0, each panel on ± its own largest |value| (see the table for "
                      "the sizes).\nδ: one number per unit; dW: one per weight.", fontsize=8)
        return BlitFigure(fig, [*self._delta_images, *self._dW_images, *self._bars, self._updates])

    # -- each change -------------------------------------------------------------------------


    def digit_gradients(self, step=None, probe=None):
        """``(delta, dW)`` per layer for a probe digit at a snapshot: this digit's ``dW_l = delta_l a_{l-1}^T``."""
        k = self.trace.snapshot_index(self.step if step is None else step)
        j = self.probe if probe is None else probe
        delta = [d[k, j] for d in self._delta]  # [layer] (n_out,)
        dW = [np.outer(d, a[k, j]) for d, a in zip(delta, self._a_prev)]  # [layer] (n_out, n_in)
        return delta, dW

    @shows_errors
    def _on_change(self, change=None):
        k = self.trace.snapshot_index(self.step, exact=True)
        delta, dW = self.digit_gradients()
        norms = self._dW_norm[k, self.probe]  # (n_layers,)
        s = min(self.step, self.trace.n_steps - 1)
        updates = self._update_norm[s] if s >= 0 else np.full(len(norms), np.nan)  # (n_layers,)
        rows = []
        for i, (d, g) in enumerate(zip(delta, dW)):
            top_d, top_w = float(np.abs(d).max()) or 1.0, float(np.abs(g).max()) or 1.0
            self._delta_images[i].set_data(d[:, None])
            self._delta_images[i].set_norm(Normalize(-top_d, top_d))
            self._dW_images[i].set_data(g)
            self._dW_images[i].set_norm(Normalize(-top_w, top_w))
            self._bars[i].set_height(max(float(norms[i]), 1e-30))
            rows.append(f"<tr><td>layer {i + 1} ({self.trace.run.activations[i]})</td>"
                        f"<td>{np.linalg.norm(d):.3g}</td><td>{top_d:.3g}</td><td>{norms[i]:.3g}</td>"
                        f"<td>{top_w:.3g}</td><td>{updates[i]:.3g}</td></tr>")
        self._updates.set_ydata(updates)
        label = int(self.trace.probe_labels[self.probe])
        row, row_words = self._unit_row(delta[0], dW[0])
        with hold_sync(self._figure_image, self._table, self._row_image, self._row_words):
            self._row_image.value, self._row_words.value = row, row_words
            self._figure_image.value = self._plot.png()
            self._table.value = (  # small print, tight rows: the dashboard fits a 1366x768 screen
                f"<div style='line-height:1.3'><small>Probe digit {self.probe} (a {label}) at step {self.step}. "
                "The larger ‖dW‖, the more this digit pulls on that layer's weights.<br>"
                '<table style="border-collapse:collapse" cellpadding="2"><tr><th>layer</th><th>‖δ‖</th>'
                "<th>max |δ|</th><th>‖dW‖ (this digit)</th><th>max |dW|</th><th>‖ΔW‖ applied (batch)</th></tr>"
                + "".join(rows) + "</table></small></div>")


    @traitlets.validate("unit")
    def _valid_unit(self, proposal):
        if hasattr(self, "trace"):
            n = self.trace.run.shapes[0][0]
            if not 0 <= proposal["value"] < n:
                raise traitlets.TraitError(f"unit must be 0 to {n - 1}, a unit of layer 1; got {proposal['value']}")
        return proposal["value"]

    def _unit_row(self, delta, dW):
        """The chosen layer-1 unit's row of this digit's dW on the input's pixels (PNG), and its words."""
        j, (h, w) = self.unit, self.trace.image_shape
        row = dW[j].reshape(h, w)  # delta_1[j] * x: the digit, scaled by this unit's delta
        top = float(np.abs(row).max()) or 1.0  # on ± its own largest |value|, as each panel of the figure
        rgb = (colormaps[colours.SIGNS_CMAP](np.clip(row / top, -1, 1) / 2 + 0.5)[..., :3] * 255).astype(np.uint8)
        if delta[j] < 0:
            sign = "blue: dW < 0 on the inked pixels, so the update −η dW raises these weights"
        elif delta[j] > 0:
            sign = "red: dW > 0 on the inked pixels, so the update −η dW lowers these weights"
        else:
            sign = "all 0: this digit asks nothing of this unit's weights"
        words = (f"<div style='line-height:1.35'><small><b>Unit {j}</b>'s row of dW<sub>1</sub> on the {h}×{w} pixels: δ = {delta[j]:.3g} times the "
                 f"digit's pixels; {sign}. Colours on ± its largest |value|, {top:.3g}.</small></div>")
        return png_bytes(upscale(rgb, max(1, ROW_SIDE // max(h, w)))), words


def _penalty_note(trace):
    """What the run's weight penalty adds to every digit's dW (not drawn), or nothing."""
    run = trace.run
    terms = [f"{weight:g} {term}" for weight, term in ((run.l1, "sign(W)"), (run.l2, "W")) if weight]
    if not terms:
        return ""
    return (f"<br>This run also has a weight penalty, whose gradient {' + '.join(terms)} is added to "
            "every digit's dW alike; the pictures show the part that comes from this digit, δ a_prevᵀ.")
