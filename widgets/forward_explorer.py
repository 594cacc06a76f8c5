"""ForwardExplorer: follow one digit through the network, as it was at a chosen step.

For a probe digit the recorded ``z`` and ``a`` are shown as they are. A digit
drawn on the canvas or uploaded is prepared the way the training images were
(:func:`explainer.prepare_image`) and run through the network as it was at
that step (``trace.network(step)``: an :class:`explainer.Network` holding the
recorded ``W`` and ``b``)::

    z1 = x W1^T + b1;  a1 = f(z1)      # (1, n_hidden)
    ...
    p = softmax(z_L)                    # (1, 10): the output probabilities

On a convolutional network's trace the first-layer units give way to the
feature maps of every convolution and pooling layer
(:mod:`explainer.widgets.feature_maps`: recorded for the probe digits the trace
keeps maps for, computed for any other digit), above the dense layers' ``a``
and the probabilities; traitlet ``maps`` chooses ``a`` or ``z``.
"""

import ipywidgets as widgets
import numpy as np
import traitlets
from matplotlib.colors import Normalize

from explainer import colours, figures, filter_range, is_unsure, prepare_image

from .blit import BlitFigure
from .canvas import DrawingCanvas
from .common import (
    CSS,
    TraceDashboard,
    filters_png,
    hold_sync,
    image_widget,
    network_words,
    png_bytes,
    shows_errors,
    step_controls,
    upscale,
)
from .feature_maps import FeatureMaps, cnn_pass
from .upload import PictureUpload

__all__ = ["ForwardExplorer", "TOP_UNITS"]

TOP_UNITS = 6  # first-layer units shown as "responding most"
UNIT_GAP = 3  # pixels between their tiles
DPI = 80
SIGNED = ("tanh", "leaky_relu", "identity")  # activations that go below zero: drawn on a diverging map


class ForwardExplorer(TraceDashboard):
    """One digit's forward pass at a chosen step: activations, the units that respond most, the prediction.

    Parameters
    ----------
    trace : str, Path, Trace or None
        The run; None opens the default 8x8 trace.
    step : int, optional
        The step shown first (the nearest snapshot); default the last.
    probe : int
        The probe digit shown first (an index into ``trace.probe_labels``).
    """

    step = traitlets.Int(0, help="the snapshot step whose weights are used")
    probe = traitlets.Int(0, help="index of the probe digit (when source is 'probe')")
    source = traitlets.Enum(("probe", "drawing", "upload"), "probe", help="where the input digit comes from")
    prediction = traitlets.Int(-1, help="the digit the network predicts for the input shown")
    maps = traitlets.Enum(("a", "z"), "a", help="a CNN's feature maps shown: a = f(z), or z")

    def __init__(self, trace=None, step=None, probe=0, **kwargs):
        super().__init__(**kwargs)
        self._own = {}  # source -> the prepared input (n_in,) of a drawing or an upload
        self._cache = {}  # snapshot step -> (weights, probe record)
        self._networks = {}  # snapshot step -> the Network holding its weights (built when an own digit needs it)
        if not self._open(trace, lambda: (self._precompute(), self._build(step, probe))):
            return
        self.observe(self._show, names=["step", "source", "maps"])
        self.observe(self._on_probe, names="probe")
        self.canvas.observe(self._on_drawing, names="drawing")
        self.upload.observe(self._on_upload, names="value")
        self._show()

    def _precompute(self):
        self._steps = np.asarray(self.trace.snapshot_steps, dtype=np.int64)  # (n_snap,)
        if not len(self._steps):
            raise ValueError(f"{self.trace.path} holds no snapshot yet: there are no weights to run a digit through")
        self._vmax = filter_range(self.trace)  # the filters' colour range: the run's, as in every picture of them
        kinds = [kind for kind, _, _ in self.trace.run.network_layers]  # a dense run's are all "dense"
        self._hidden = [j for j, kind in enumerate(kinds) if kind == "dense"][:-1]  # hidden dense layers' places
        self._weighted = {j: i for i, j in enumerate(j for j, (_, _, W) in enumerate(self.trace.run.network_layers)
                                                     if W is not None)}  # place -> index among the weighted layers

    # -- the view, built once --------------------------------------------------------

    def _build(self, step, probe):
        trace = self.trace
        _, self._slider = step_controls(self._steps, value=self._snapshot_step(self._steps[-1] if step is None else step))
        traitlets.link((self._slider, "value"), (self, "step"))
        labels = trace.probe_labels
        self._probe_menu = widgets.Dropdown(options=[(f"probe {i}: a {int(y)}", i) for i, y in enumerate(labels)],
                                            description="probe digit", layout=widgets.Layout(width="220px"))
        traitlets.link((self._probe_menu, "value"), (self, "probe"))
        self.probe = int(probe)
        self._source_buttons = widgets.ToggleButtons(options=[("probe", "probe"), ("drawing", "drawing"),
                                                              ("upload", "upload")],
                                                     tooltips=["a probe digit from the trace", "the digit you drew",
                                                               "the picture you uploaded"])
        self._source_buttons.style.button_width = "80px"
        traitlets.link((self._source_buttons, "value"), (self, "source"))
        self.canvas = DrawingCanvas(size=180)  # the dashboard fits a 1366x768 laptop screen
        self.upload = PictureUpload()
        self._input_image = image_widget(layout=widgets.Layout(align_self="flex-start",
                                                               border=f"1px solid {colours.FRAME}"))
        self._input_image.add_class(CSS["input"])
        self._input_caption = widgets.HTML()
        self._prediction = widgets.HTML()
        self._prediction.add_class(CSS["prediction"])
        self._confidence = widgets.HTML()
        self._plot = self._figure()
        self._figure_image = image_widget()
        self._unit_scale = max(1, 64 // trace.image_shape[0])  # 8x8 -> 8, 28x28 -> 2
        self._units_image = image_widget()
        self._units_caption = widgets.HTML()
        h, w = trace.image_shape
        left = widgets.VBox([
            self._source_buttons, self._probe_menu,
            widgets.HTML("<small>Draw a digit (it is used when you lift the pen):</small>"), self.canvas,
            self.upload,
            widgets.HTML(f"<small>What the network sees ({h}×{w}, prepared like its training images):</small>"),
            self._input_image, self._input_caption,
        ], layout=widgets.Layout(width="300px", min_width="300px"))
        if trace.is_cnn:
            self._maps_view = FeatureMaps(trace)
            self._maps_buttons = widgets.ToggleButtons(options=[("a = f(z)", "a"), ("z", "z")],
                                                       tooltips=["the maps after the activation",
                                                                 "the maps before it"],
                                                       style={"button_width": "70px"})
            traitlets.link((self._maps_buttons, "value"), (self, "maps"))
            maps_choice = [widgets.HTML("<small>feature maps:</small>"), self._maps_buttons]
            right = widgets.VBox([widgets.HBox([self._prediction, self._confidence]), self._maps_view,
                                  self._figure_image])
        else:
            right = widgets.VBox([
                widgets.HBox([self._prediction, self._confidence]),
                self._figure_image,
                widgets.HTML(f"<b>The {TOP_UNITS} first-layer units that respond most</b> (largest z = Σ "
                             "W<sub>1j</sub> × input + b): top, the unit's filter W<sub>1j</sub>; below, W<sub>1j</sub> "
                             "× input, each pixel's share of z (red raises z, blue lowers it)."),
                self._units_caption, self._units_image,
            ])
        what = ("pick a digit and a step" if trace.is_cnn else  # (a CNN's layers take the line's room)
                "pick a probe digit, draw one or upload a picture, and a training step")
        self.children = [
            widgets.HTML(f"<b>Forward pass</b> — {trace.dataset} {network_words(trace)}: {what}."),
            widgets.HBox([self._slider, *(maps_choice if trace.is_cnn else [])],
                         layout=widgets.Layout(align_items="center")),
            self.errors,
            widgets.HBox([left, right]),
        ]

    def _figure(self):
        """Every hidden layer's activations a, and the output probabilities."""
        trace = self.trace
        n_hidden = len(self._hidden)
        fig = figures.new_figure(7.6, 2.0 if trace.is_cnn else 2.9)  # a CNN's maps stand above it
        fig.set_dpi(DPI)
        axes = np.atleast_1d(fig.subplots(1, n_hidden + 1, width_ratios=[1] * n_hidden + [1.6]))
        self._layer_images = []  # per hidden layer: (image, grid shape, signed)
        animated = []
        for j in self._hidden:
            i = self._weighted[j]  # the layer's index among the weighted ones (its W, its activation)
            n = trace.run.shapes[i][0]
            cols = int(np.ceil(np.sqrt(n)))
            shape = (int(np.ceil(n / cols)), cols)
            signed = trace.run.activations[i] in SIGNED
            image = axes[len(self._layer_images)].imshow(np.zeros(shape), cmap=colours.SIGNS_CMAP if signed else colours.ACTIVATION_CMAP,
                                   norm=Normalize(-1 if signed else 0, 1), interpolation="nearest")
            ax = axes[len(self._layer_images)]
            ax.set_xticks([])
            ax.set_yticks([])
            # the grid's spare cells (NaN) are drawn in nothing, and with no frame they are page, not units
            # (a white cell in a frame read as a unit at its highest value)
            for spine in ax.spines.values():
                spine.set_visible(False)
            ax.set_title(f"a, {figures.layer_label(trace, i)}".replace(" (", "\n("), fontsize=8)
            self._layer_images.append((image, shape, signed))
            animated.append(image)
        ax_out = axes[-1]
        classes = np.arange(trace.sizes[-1])
        self._bars = ax_out.bar(classes, np.zeros(len(classes)), color=figures.COLORS["other"])
        ax_out.set_ylim(0, 1)
        ax_out.set_xticks(classes)
        ax_out.set_xlabel("digit", fontsize=8)
        ax_out.tick_params(labelsize=8)
        ax_out.set_title("output: probability of each digit\n(green ▼: the true digit; orange: a wrong guess)",
                         fontsize=8, pad=11)
        # the true digit is marked above its bar, which can be too low to see when the network is wrong
        # (made with a point: an empty line upset the layout; _draw_activations moves or empties it)
        (self._true_mark,) = ax_out.plot([0], [1.05], marker="v", ls="", color=colours.RIGHT, ms=9, clip_on=False)
        fig.supxlabel("each square is one unit's a: dark = 0, yellow = the largest a of any probe digit at this step"
                      if not any(im[2] for im in self._layer_images) else
                      "each square is one unit's a, on ± the largest |a| of any probe digit at this step", fontsize=8)
        animated += [*self._bars, self._true_mark]
        return BlitFigure(fig, animated)

    # -- state changes -------------------------------------------------------------


    def _on_probe(self, change):
        if self.source == "probe":
            self._show()
        else:
            self.source = "probe"  # choosing a probe digit switches to it (and _show runs)

    @shows_errors
    def _on_drawing(self, change):
        png = self.canvas.png
        if png is None:  # cleared: nothing to show
            self._own.pop("drawing", None)
            return
        self._own["drawing"] = prepare_image(png, self.trace.image_shape)
        self._switch_to("drawing")

    @shows_errors
    def _on_upload(self, change):
        files = self.upload.value
        if not files:
            return
        content, name = bytes(files[0]["content"]), str(files[0].get("name", "your picture"))
        self.upload.value = ()  # emptied, so that choosing the same file again is a change too
        self.upload.shown = ""
        self._own["upload"] = prepare_image(content, self.trace.image_shape)
        self.upload.shown = name  # the button says which picture is shown (FileUpload said "(0)" here)
        self._switch_to("upload")

    def _switch_to(self, source):
        if self.source == source:
            self._show()
        else:
            self.source = source

    # -- the forward pass shown ---------------------------------------------------

    def _snapshot(self, step):
        """The weights and the probe record at a snapshot step, read once."""
        if step not in self._cache:
            self._cache[step] = (self.trace.weights(step), self.trace.probe_record(step))
        return self._cache[step]

    def _network(self, step):
        """The Network holding the weights of snapshot ``step``, built once."""
        if step not in self._networks:
            self._networks[step] = self.trace.network(step)
        return self._networks[step]

    def forward(self, x, step=None):
        """Run inputs ``x`` (batch, n_in) through the network at ``step``: ``(z, a)`` lists per layer
        (a CNN's feature maps (batch, h, w, c) at full size: its layers run one by one, ``Network.inspect``)."""
        step = self.step if step is None else self._snapshot_step(step)
        net = self._network(step)
        x = np.atleast_2d(np.asarray(x, dtype=net.dtype))  # (batch, n_in)
        if self.trace.is_cnn:  # inspect runs backward too: the network's own guesses stand for the labels
            again = net.inspect(x, np.argmax(net.predict_proba(x), axis=1))
            return again.z, again.a
        net.forward(x)
        return [layer.z for layer in net.layers], [layer.a for layer in net.layers]

    def _current(self):
        """``(x, z, a, label)`` of the input shown: recorded for a probe digit, computed for an own one
        (a CNN's probe digit without recorded maps: its maps computed, its dense layers recorded)."""
        weights, record = self._snapshot(self.step)
        if self.source == "probe":
            i = self.probe
            x, label = self.trace.probe_x[i], int(self.trace.probe_labels[i])
            if self.trace.is_cnn:
                z, a, self._recorded = cnn_pass(self.trace, record, self._network(self.step), x, probe=i)
                return x, z, a, label
            self._recorded = True
            return x, [z[i] for z in record.z], [a[i] for a in record.a], label
        if self.source not in self._own:
            raise ValueError(f"there is no {self.source} yet: "
                             + ("draw a digit on the canvas" if self.source == "drawing" else
                                "choose a PNG or JPEG picture of a digit with the upload button"))
        x = self._own[self.source]
        z, a = self.forward(x[None])
        self._recorded = False
        return x, [v[0] for v in z], [v[0] for v in a], None

    @shows_errors
    def _show(self, change=None):
        x, z, a, label = self._current()  # x (n_in,); z[i], a[i] (n_out_i,)
        weights, record = self._snapshot(self.step)
        p = a[-1]  # (n_classes,)
        predicted = int(np.argmax(p))
        self._draw_activations(a, record, label)
        if self.trace.is_cnn:
            self._show_maps(z, a, record)
            units_png, units_caption = b"", ""
        else:
            units_png, units_caption = self._top_units(x, z[0], weights[0][0])
        h, w = self.trace.image_shape
        picture = upscale(colours.digit_rgb(x.reshape(h, w)), max(1, 112 // h))  # (H, W, 3): ink on paper
        with hold_sync(self._figure_image, self._input_image, self._input_caption, self._prediction,
                       self._confidence, self._units_image, self._units_caption):
            self._figure_image.value = self._plot.png()
            self._units_image.value = units_png
            self._units_caption.value = units_caption
            self._input_image.value = png_bytes(picture)
            self._input_caption.value = ("<small>" + (f"probe digit {self.probe}, labelled {label}" if label is not None
                                                      else f"your {self.source}") + f", at step {self.step}</small>")
            unsure = " <small>(not sure)</small>" if is_unsure(p) else ""  # the same rule as explainer predict
            self._prediction.value = f'<span style="font-size:22px">predicted: <b>{predicted}</b>{unsure}</span>'
            verdict = "" if label is None else (
                f' <b style="color:{colours.RIGHT}">✓</b>' if predicted == label else
                f' <b style="color:{colours.WRONG}">✗</b> (it is a {label})')
            self._confidence.value = (f'<span style="font-size:14px; margin-left:12px">with probability '
                                      f"{p[predicted]:.0%}{verdict}</span>")
            self.prediction = predicted

    def _draw_activations(self, a, record, label=None):
        """Each hidden layer's a on its grid, scaled to the probe digits' range at this step; the output bars:
        the true digit's (``label``) in the colour of right answers, a wrong guess's in that of wrong ones,
        and the guess for a digit of unknown label (drawn, uploaded) in ink."""
        for i, (image, shape, signed) in zip(self._hidden, self._layer_images):
            values = np.full(shape[0] * shape[1], np.nan)  # (rows * cols,): the grid's spare cells stay blank
            values[: len(a[i])] = a[i]
            top = float(np.nanmax(np.abs(record.a[i]))) or 1.0
            image.set_data(values.reshape(shape))
            image.set_norm(Normalize(-top if signed else 0, top))
        p = a[-1]
        predicted = int(np.argmax(p))
        self._true_mark.set_data([label] if label is not None else [], [1.05] if label is not None else [])
        for k, bar in enumerate(self._bars):
            bar.set_height(float(p[k]))
            if k == label:
                bar.set_color(colours.RIGHT)
            elif k == predicted:
                bar.set_color(colours.INK if label is None else colours.WRONG)
            else:
                bar.set_color(colours.OTHER)

    def _show_maps(self, z, a, record):
        """A CNN's feature maps of the input shown (``z`` or ``a`` per :attr:`maps`), each layer on ± the largest
        |value| of the probe digits' maps there at this step."""
        places = [i for i, _, _ in self.trace.run.maps]  # the convolution and pooling layers
        shown, recorded = (z, record.z) if self.maps == "z" else (a, record.a)
        ranges = [float(np.max(np.abs(recorded[i]))) or 1.0 for i in places]
        self._maps_view.show([shown[i] for i in places], ranges, self.maps, self._recorded, self.step)

    def _top_units(self, x, z1, W1):
        """The first-layer units with the largest z: their filters W1j over W1j * x, as a PNG, and a caption.

        Both rows in the filters' colours on the run's range (as in TrainingDashboard): the input is at
        most 1, so W1j * x is W1j where there is ink and white where there is none.
        """
        units = np.argsort(z1)[::-1][:TOP_UNITS]  # (TOP_UNITS,) the largest z first
        tiles = np.concatenate([W1[units], W1[units] * x])  # (2 * TOP_UNITS, n_in)
        h, w = self.trace.image_shape
        png = filters_png(tiles.reshape(-1, h, w), self._vmax, scale=self._unit_scale, cols=TOP_UNITS, gap=UNIT_GAP)
        cell = w * self._unit_scale + UNIT_GAP
        caption = "".join(f'<div style="width:{cell}px; text-align:center; font-size:11px">unit {unit}<br>'
                          f"z = {z1[unit]:.2f}</div>" for unit in units)
        return png, f'<div style="display:flex">{caption}</div>'
