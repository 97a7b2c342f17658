"""`NetVizCallback`: decides when to log, and into which file.

It computes and draws nothing itself (that is the loggers'): it checks the
configuration before the first batch by building one logger per kind group,
schedules each group by its frequency within the overhead budget, writes
from the chief worker only, and never lets a visualization failure stop
training.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import keras
import tensorflow as tf

from tb_netviz import config, loggers, metadata
from tb_netviz.budget import OverheadBudget
from tb_netviz.plan import AscentConfig, DeconvConfig, ExamplesConfig, Plan


class NetVizCallback(keras.callbacks.Callback):
    """Logs NetViz pictures of a Keras model to `<log_dir>/netviz` while it trains.

    Example:
      model.fit(x, y, callbacks=[NetVizCallback("logs/run1", probe=x[:8])])

    Attributes:
      layers: the activation layers (chosen by default when `layers=None`).
      input_range: the `(lo, hi)` used for pictures in input space.
      hook_seconds: wall time spent inside this callback's hooks.
      failures: a `loggers.Failure(step, kind, layer, message)` for each
        visualization that failed at run time (training went on, with a
        warning).
      deferred: `{group: [step, ...]}` due steps deferred by the overhead
        budget and not yet made up for.
    """

    def __init__(
        self,
        log_dir: str,
        probe,
        layers: Sequence[str] | None = None,
        activations_freq: int = 1,
        update_freq: str | int = "epoch",
        max_channels: int = 64,
        max_tile_size: int = 64,
        ascent_freq: int = 0,
        ascent_layers: Sequence[str] | None = None,
        ascent_channels: int | Sequence[int] = 8,
        ascent_steps: int | None = None,
        ascent_preset: str = "auto",
        ascent_budget_s: float | None = 60.0,
        ascent_facets: int = 1,
        ascent_seeds: int = 1,
        deconv_freq: int = 0,
        deconv_layers: Sequence[str] | None = None,
        deconv_channels: Sequence[int] | None = None,
        deconv_top_k: int = 4,
        deconv_method: str | Sequence[str] = ("deconvnet", "guided_backprop"),
        accentuate: bool = False,
        input_range: tuple[float, float] | None = None,
        overhead_budget: float | None = 0.25,
        examples=None,
        examples_freq: int = 1,
        examples_top_k: int = 9,
        examples_layers: Sequence[str] | None = None,
        unit_health: bool | None = None,
        sanity_freq: int | None = 0,
    ):
        """Args:
        log_dir: the run's log directory (the same one as
          `keras.callbacks.TensorBoard` is fine); NetViz writes to
          `<log_dir>/netviz`. Any `tf.io.gfile` path works (`gs://`, `ram://`).
        probe: a small batch of inputs `(N, *input_shape)`, N <= 64, e.g.
          `x_val[:8]`, or an `(x, y)` batch taken from a `tf.data.Dataset`.
        layers: layer paths to show (`"backbone/block1_conv1"` for nested
          models); None picks the stem's first non-linearity, a block output
          in the middle and the last feature map before the head, and prints
          them with the reason.
        activations_freq: log activations every this many epochs (>= 1).
        update_freq: `"epoch"`, or an integer N to log activations every N
          training batches (the step is then the batch count for every kind,
          and `activations_freq` is not used).
        max_channels, max_tile_size: at most this many channels drawn per
          layer, each at most this many pixels a side.
        ascent_freq: feature visualizations every this many epochs (0: off).
        ascent_layers, ascent_channels, ascent_steps, ascent_preset,
          ascent_budget_s, ascent_facets, ascent_seeds: `AscentLogger`'s
          `layers` (default `layers`), `channels`, `steps`, `preset`,
          `budget_s`, `facets` and `seeds`.
        deconv_freq: deconvolutions every this many epochs (0: off).
        deconv_layers, deconv_channels, deconv_top_k, deconv_method:
          `DeconvLogger`'s `layers` (default `layers`), `channels`, `top_k`
          and `methods` (default the two published ones; `"gradient"` too).
        accentuate: with `deconv_freq`, also `accentuation/<layer>`: each
          probe input changed to raise each of the same channels while an
          earlier layer stays close (Hamblin et al. 2024; `DeconvLogger`).
        input_range: `(lo, hi)` of the model's inputs, to draw and bound
          pictures in input space; None infers it from the probe and prints it.
        overhead_budget: NetViz's time at most this share of the training time
          so far; a due feature visualization or deconvolution that would pass
          it is deferred to the next epoch where it fits (its first due step
          and the final epoch always run). None turns the budget off.
        examples: held-out inputs (an array or a `tf.data.Dataset`, streamed)
          for each channel's top-k real examples and unit health (an array's
          first 256 also give feature visualization the data's spectrum and
          contrast, else the probe does); None: off.
        examples_freq, examples_top_k, examples_layers: how often (0: off; a
          heavy kind), `ExamplesLogger`'s `top_k` and `layers` (default
          `layers`).
        unit_health: log `units/<layer>` and `netviz/dead_fraction/<layer>`
          with the activations (and examples); None: on with `examples`.
        sanity_freq: `SanityLogger`'s weight-randomization check of the
          deconvolution layers: 0 once at the end of training when
          `deconv_freq` is on; N also every N epochs (a heavy kind); None: off.

        Raises:
          ValueError: a frequency, cap or budget that is not valid, a probe
            that is a whole dataset, or `accentuate` without `deconv_freq`.
        """
        super().__init__()
        self.log_dir = str(log_dir).rstrip("/")
        self.freqs = config.frequencies(
            activations=activations_freq,
            ascent=ascent_freq,
            deconv=deconv_freq,
            examples=examples_freq if examples is not None else 0,
            sanity=sanity_freq,
        )
        if update_freq != "epoch":
            config.check_freq("update_freq", update_freq, False)
        self.update_freq = update_freq
        self.unit_health = (
            examples is not None if unit_health is None else bool(unit_health)
        )
        self._last_step: int | None = None
        self._ran_at: dict[str, int] = {}
        self._units_step = None
        self._probe_arg = config.check_probe_batch(probe)
        self._layers_arg = None if layers is None else tuple(layers)
        ascent = AscentConfig(
            ascent_layers,
            ascent_channels,
            ascent_steps,
            ascent_preset,
            ascent_budget_s,
            ascent_facets,
            ascent_seeds,
        )
        self.plan = Plan(
            max_channels=config.check_freq("max_channels", max_channels, False),
            max_tile_size=config.check_freq("max_tile_size", max_tile_size, False),
            ascent=ascent if self.freqs["ascent"] else None,
            deconv=DeconvConfig(
                deconv_layers, deconv_channels, deconv_top_k, deconv_method, accentuate
            ),
            deconv_on=bool(self.freqs["deconv"]),
            examples=ExamplesConfig(examples, examples_layers, examples_top_k)
            if self.freqs["examples"]
            else None,
            unit_health=self.unit_health,
            # Once at the end of training when on (deconvolutions, or N > 0).
            sanity=sanity_freq is not None
            and bool(self.freqs["sanity"] or self.freqs["deconv"]),
        )
        self.input_range = input_range
        self.layers: list[str] = []
        self.hook_seconds = 0.0
        self.budget = OverheadBudget(
            config.check_budget("overhead_budget", overhead_budget, True)
        )
        self._writer = None
        self._loggers: dict[str, loggers.Logger] = {}
        self._batches = 0

    @property
    def failures(self) -> list[loggers.Failure]:
        found = [f for lg in self._loggers.values() for f in lg.failures]
        return sorted(found, key=lambda f: f.step)

    @property
    def deferred(self) -> dict[str, list[int]]:
        return dict(self.budget.deferred)

    # Configuration, checked before the first batch ------------------------------

    def on_train_begin(self, logs=None):
        start = time.perf_counter()
        self.budget.start()
        model = self.model
        probe = config.check_probe(model, self._probe_arg)
        self.layers = config.choose_layers(
            model, self._layers_arg, "NetVizCallback: layers=None"
        )
        pictures = self.freqs["ascent"] or self.freqs["deconv"]
        self.input_range = config.choose_input_range(
            probe,
            self.input_range,
            "NetVizCallback: input_range=None" if pictures else None,
        )
        self._loggers = self.plan.build(model, probe, self.layers, self.input_range)
        self._logged_once = False
        if config.is_chief(model):
            self._writer = tf.summary.create_file_writer(
                f"{self.log_dir}/{metadata.RUN_SUBDIR}"
            )
        self.hook_seconds += time.perf_counter() - start

    # Scheduling ------------------------------------------------------------------

    def on_train_batch_end(self, batch, logs=None):
        self._batches += 1
        if self.update_freq != "epoch" and self._batches % self.update_freq == 0:
            self._run([("activations", True)], self._batches, final=False)

    def on_epoch_end(self, epoch, logs=None):
        step = epoch if self.update_freq == "epoch" else self._batches
        final = epoch + 1 == (self.params or {}).get("epochs")
        self._last_step = step
        # With update_freq=N the activations follow batches, not epochs.
        skip = () if self.update_freq == "epoch" else ("activations",)
        self._run(self.budget.due(self.freqs, epoch, skip), step, final)

    def on_train_end(self, logs=None):
        # The sanity check of the trained model, unless it ran at the last step.
        step = self._last_step
        ran = self._ran_at.get("sanity")
        if "sanity" in self._loggers and step is not None and ran != step:
            self._run([("sanity", True)], step, final=True)
        if self._writer is not None:
            start = time.perf_counter()
            self._writer.close()
            self._writer = None
            self.hook_seconds += time.perf_counter() - start

    def _run(self, due, step: int, final: bool) -> None:
        """Runs the loggers of the due groups at `step` (chief only) and flushes.

        Args:
          due: `(group, hit)` pairs; `hit` is False for a group that is only
            making up for a deferred step.
          step: the step to record.
          final: the last epoch of the fit (the budget does not apply).
        """
        if self._writer is None or not due:
            return
        start = time.perf_counter()
        try:
            with self._writer.as_default():
                if not self._logged_once:  # the model map and the probe, once a run
                    self._logged_once = True
                    self._loggers["model"].log(step)
                    self._loggers["probe"].log(step)
                for group, hit in due:
                    self._run_group(group, hit, step, final, start)
                # Unit health rides on the activations and examples steps, once a
                # step, after the examples so that it holds their statistics.
                rides = any(g in ("activations", "examples") for g, _ in due)
                if "units" in self._loggers and rides and step != self._units_step:
                    self._units_step = step
                    self._loggers["units"].log(step)
            # Flush now: an interrupted fit must leave every written step readable.
            self._writer.flush()
        finally:
            self.hook_seconds += time.perf_counter() - start

    def _run_group(self, group: str, hit: bool, step: int, final: bool, start: float):
        spent = self.hook_seconds + time.perf_counter() - start
        if not self.budget.allows(group, spent, final):
            if hit:
                self.budget.defer(group, step)
            return
        logger = self._loggers[group]
        made_up = self.budget.deferred.get(group, [])
        extra = {"deferred_steps": list(made_up)} if made_up else {}
        logger.log(step, **extra)
        self._ran_at[group] = step
        self.budget.ran(group, logger.seconds)
