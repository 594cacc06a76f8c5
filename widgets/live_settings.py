"""The settings a live run is made from: LiveTraining's controls, their checks, and the Experiment they describe.

::

    settings = LiveSettings(arch="cnn", conv="8,16")   # traits: dataset, arch, conv, hidden, ..., seed
    settings._experiment()                             # the explainer.Experiment they describe (LiveRun.experiment)
    settings.lr_advice()                               # a warning when the rate is far from the optimizer's usual

Each setting is a trait, linked to one control (:meth:`LiveSettings._settings_controls`)
and checked when set: a choice against LiveRun's tables, anything else when the
run is made, with the setting named. Two settings follow others: a learning
rate left at the old optimizer's default moves to the new one's, and a CNN's
filters left at the old data set's preset move to the new one's.
"""

import ipywidgets as widgets
import traitlets

from explainer import CNN_PRESETS, INITIALIZERS, OPTIMIZERS, PRESETS, LiveRun, default_lr, lr_advice

__all__ = ["LiveSettings", "SETTINGS", "SPEEDS", "DEFAULT_INIT"]

SPEEDS = {"10 steps/s": 10.0, "50 steps/s": 50.0, "200 steps/s": 200.0, "as fast as it can": 0.0}
SETTINGS = ("dataset", "arch", "conv", "hidden", "activation", "init", "optimizer", "lr", "l2", "batch_size", "epochs",
            "seed")
DEFAULT_INIT = "default"  # the init control's choice that lets the network pick (he for relu-like, xavier otherwise)


class LiveSettings(widgets.VBox):
    """The settings of the next live run, as traits (see :class:`~explainer.widgets.LiveTraining` for each)."""

    dataset = traitlets.Unicode("digits", help="a data set whose files are on disk (LiveRun.choices('dataset'))")
    arch = traitlets.Unicode("mlp", help="'mlp': dense layers only; 'cnn': convolutions first (LiveRun.experiment)")
    conv = traitlets.Unicode(",".join(map(str, CNN_PRESETS["digits"].conv)),
                             help="a CNN's filters per convolution, like '32,64' (each followed by 2x2 max-pooling)")
    hidden = traitlets.Unicode("64", help="hidden layer widths, like '64,32'")
    activation = traitlets.Unicode("relu", help="hidden-layer activation, from explainer.HIDDEN_ACTIVATIONS")
    init = traitlets.Unicode(DEFAULT_INIT, help="weight initialiser, from explainer.INITIALIZERS, or 'default'")
    optimizer = traitlets.Unicode("adam", help="an optimizer's name (LiveRun.choices('optimizer'))")
    lr = traitlets.Float(1e-3, help="learning rate")
    l2 = traitlets.Float(0.0, help="weight decay: the penalty l2/2 sum W^2 added to the loss")
    batch_size = traitlets.Int(32)
    epochs = traitlets.Int(10)
    seed = traitlets.Int(0, help="initial weights, data split and shuffling")
    steps_per_second = traitlets.Float(50.0, help="play's pace; 0: as fast as it can")

    def __init__(self, **settings):
        known = (*SETTINGS, "steps_per_second")
        unknown = sorted(set(settings) - set(known))
        if unknown:
            raise TypeError(f"LiveTraining has no setting {unknown[0]!r}; settings: {', '.join(known)}")
        for name in ("hidden", "conv"):
            if isinstance(settings.get(name), (tuple, list)):
                settings[name] = ",".join(str(h) for h in settings[name])
        preset = PRESETS["digits"]
        optimizer = settings.get("optimizer", preset.optimizer)
        defaults = {"optimizer": optimizer, "lr": default_lr(optimizer) if optimizer in OPTIMIZERS else preset.lr,
                    "batch_size": preset.batch_size}
        super().__init__(**{**defaults, **settings})
        self.observe(self._on_optimizer, names="optimizer")  # first: the rate follows before any redraw
        self.observe(self._on_dataset, names="dataset")  # and the filters of a CNN follow the data set

    def _settings_controls(self):
        """A control linked to each setting, ``{name: widget}``, and the speed's menu."""
        style = {"description_width": "95px"}
        narrow = widgets.Layout(width="225px")
        controls = {
            "dataset": widgets.Dropdown(options=LiveRun.choices("dataset"), description="data set", style=style,
                                        layout=narrow),
            "arch": widgets.Dropdown(options=[("dense", "mlp"), ("CNN", "cnn")], description="network", style=style,
                                     layout=narrow),
            "conv": widgets.Text(description="conv filters", placeholder="e.g. 32,64", continuous_update=False,
                                 style=style, layout=narrow,
                                 tooltip="filters of each convolution (each followed by 2x2 max-pooling)"),
            "hidden": widgets.Text(description="hidden sizes", placeholder="e.g. 64,32", continuous_update=False,
                                   style=style, layout=narrow),
            "activation": widgets.Dropdown(options=LiveRun.choices("activation"), description="activation", style=style,
                                           layout=narrow),
            "init": widgets.Dropdown(options=[DEFAULT_INIT, *INITIALIZERS], description="initialiser", style=style,
                                     layout=narrow),
            "optimizer": widgets.Dropdown(options=LiveRun.choices("optimizer"), description="optimizer", style=style,
                                          layout=narrow),
            "lr": widgets.FloatText(description="learning rate", step=None, style=style, layout=narrow),
            "l2": widgets.FloatText(description="L2 (decay)", step=None, style=style, layout=narrow),
            "batch_size": widgets.IntText(description="batch size", style=style, layout=narrow),
            "epochs": widgets.IntText(description="epochs", style=style, layout=narrow),
            "seed": widgets.IntText(description="seed", style=style, layout=narrow),
        }
        for name, control in controls.items():
            traitlets.link((self, name), (control, "value"))
        speed = widgets.Dropdown(options=list(SPEEDS.items()), description="speed", style=style, layout=narrow)
        if self.steps_per_second not in SPEEDS.values():
            speed.options = [*SPEEDS.items(), (f"{self.steps_per_second:g} steps/s", self.steps_per_second)]
        traitlets.link((self, "steps_per_second"), (speed, "value"))
        return controls, speed

    def _experiment(self):
        """The run the controls describe; a ValueError naming the setting if they describe none."""
        return LiveRun.experiment(dataset=self.dataset, arch=self.arch, conv=self.conv, hidden=self.hidden,
                                  activation=self.activation,
                                  init=None if self.init == DEFAULT_INIT else self.init, optimizer=self.optimizer,
                                  lr=self.lr, l2=self.l2, batch_size=self.batch_size, epochs=self.epochs,
                                  seed=self.seed)

    def lr_advice(self):
        """A warning when the learning rate is far from what the optimizer usually needs, else ``""``."""
        return lr_advice(self.optimizer, self.lr) or "" if self.lr > 0 else ""

    @traitlets.validate("init")
    def _valid_init(self, proposal):
        if proposal["value"] not in (DEFAULT_INIT, *INITIALIZERS):
            raise traitlets.TraitError(f"init must be one of {DEFAULT_INIT}, {', '.join(INITIALIZERS)}; "
                                       f"got {proposal['value']!r}")
        return proposal["value"]

    @traitlets.validate("dataset", "activation", "optimizer", "arch")
    def _valid_choice(self, proposal):
        try:
            return LiveRun.check(proposal["trait"].name, proposal["value"])
        except ValueError as e:
            raise traitlets.TraitError(str(e)) from None

    def _on_optimizer(self, change):
        """Another optimizer: a learning rate left at the old one's default moves to the new one's."""
        if change["old"] in OPTIMIZERS and self.lr == default_lr(change["old"]):
            self.lr = default_lr(change["new"])

    def _on_dataset(self, change):
        """Another data set: a CNN's filters left at the old one's preset move to the new one's."""
        old, new = (",".join(map(str, CNN_PRESETS[d].conv)) if d in CNN_PRESETS else None
                    for d in (change["old"], change["new"]))
        if new is not None and self.conv == old:
            self.conv = new
