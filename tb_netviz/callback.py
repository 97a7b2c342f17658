"""`NetVizCallback`: decides when to log, and into which file.

It computes and draws nothing itself (that is the loggers'): before the first
batch it turns its specs into loggers with the one assembler
(`loggers.build`), each checking its settings; then it runs each spec when its
schedule and the overhead budget say, writes from the chief worker only, and
never lets a visualization failure stop training. It names no kind.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import keras
import tensorflow as tf

from tb_netviz import config, loggers, metadata
from tb_netviz.budget import OverheadBudget


class NetVizCallback(keras.callbacks.Callback):
    """Logs NetViz pictures of a Keras model to `<log_dir>/netviz` while it trains.

    Example:
      model.fit(x, y, callbacks=[NetVizCallback("logs/run1", probe=x[:8])])
      NetVizCallback("logs/run1", probe=x_val[:8],
                     ascent=Ascent(freq=5, channels=16), deconv=Deconv(freq=5),
                     exemplars=Exemplars(x_val, top_k=9))

    Attributes:
      specs: the run's specs, in the order they run at a step.
      layers: the default layers (chosen when `layers=None`).
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
        input_range: tuple[float, float] | None = None,
        update_freq: str | int = "epoch",
        overhead_budget: float | None = 0.25,
        **kinds: loggers.Spec | None,
    ):
        """Args:
        log_dir: the run's log directory (the same one as
          `keras.callbacks.TensorBoard` is fine); NetViz writes to
          `<log_dir>/netviz`. Any `tf.io.gfile` path works (`gs://`, `ram://`).
        probe: a small batch of inputs `(N, *input_shape)`, N <= 64, e.g.
          `x_val[:8]`, or an `(x, y)` batch taken from a `tf.data.Dataset`.
        layers: the layer paths every kind shows unless its spec names others
          (`"backbone/block1_conv1"` for nested models); None picks the stem's
          first non-linearity, a block output in the middle and the last
          feature map before the head, and prints them with the reason.
        input_range: `(lo, hi)` of the model's inputs, to draw and bound
          pictures in input space; None infers it from the probe and prints it.
        update_freq: `"epoch"`, or an integer N to run the light kinds (the
          activations, unit health) every N training batches; the step is
          then the batch count for every kind.
        overhead_budget: NetViz's time at most this share of the training time
          so far; a due heavy kind predicted (from its steady cost) to pass it
          does fewer steps (ascent, accentuation: down to a quarter, said in
          the panel) or is deferred to the next epoch where it fits; its first
          due step (at a quarter of its steps) and the final epoch always
          run. None turns the budget off: every kind whole at every due step.
        **kinds: a spec per kind group, under the group's name
          (`ascent=Ascent(freq=5)`), or None to turn a kind off. On by default:
          `activations` and `units` every epoch; `ascent`, `deconv` and
          `sanity` at the first and the last epoch; `model` and `probe` once.
          Off by default: `exemplars=Exemplars(x_val)`, `accentuation`.

        Raises:
          TypeError: a keyword that is no kind, or a spec under another kind.
          ValueError: a frequency or budget that is not valid, a probe that is
            a whole dataset.
        """
        super().__init__()
        self.log_dir = str(log_dir).rstrip("/")
        self.specs = loggers.order(loggers.choose(kinds, "NetVizCallback"))
        if update_freq != "epoch":
            config.check_freq("update_freq", update_freq, False)
        self.update_freq = update_freq
        self._probe_arg = config.check_probe_batch(probe)
        self._layers_arg = None if layers is None else tuple(layers)
        self.input_range = input_range
        self.layers: list[str] = []
        self.hook_seconds = 0.0
        self.budget = OverheadBudget(
            config.check_budget("overhead_budget", overhead_budget, True)
        )
        self._writer = None
        self._loggers: dict[str, loggers.Logger] = {}
        self._batches = 0
        self._last_step: int | None = None
        self._ran_at: dict[str, int] = {}

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
        pictures = any(s.heavy for s in self.specs)
        self.input_range = config.choose_input_range(
            probe,
            self.input_range,
            "NetVizCallback: input_range=None" if pictures else None,
        )
        self._loggers = loggers.build(
            self.specs,
            model,
            probe,
            self.layers,
            self.input_range,
            labels=config.probe_labels(model, self._probe_arg),
        )
        self._once = [s for s in self.specs if s.when == loggers.spec.ONCE]
        if config.is_chief(model):
            self._writer = tf.summary.create_file_writer(
                f"{self.log_dir}/{metadata.RUN_SUBDIR}"
            )
        self.hook_seconds += time.perf_counter() - start

    # Scheduling ------------------------------------------------------------------

    def on_train_batch_end(self, batch, logs=None):
        self._batches += 1
        if self.update_freq != "epoch" and self._batches % self.update_freq == 0:
            light = [(s, True) for s in self.specs if not s.heavy and s.freq]
            self._run(light, self._batches, final=False)

    def on_epoch_end(self, epoch, logs=None):
        step = epoch if self.update_freq == "epoch" else self._batches
        final = epoch + 1 == (self.params or {}).get("epochs")
        self._last_step = step
        # With update_freq=N the light kinds follow batches, not epochs.
        batches = self.update_freq != "epoch"
        self._run(self.budget.due(self.specs, epoch, final, batches), step, final)

    def on_train_end(self, logs=None):
        # The trained model's pictures, when the fit ended before its last
        # epoch (early stopping) or without an epoch count.
        step = self._last_step
        if step is not None:
            missed = [
                (s, True)
                for s in self.specs
                if s.heavy and self._ran_at.get(s.group) != step
            ]
            self._run(missed, step, final=True)
        if self._writer is not None:
            start = time.perf_counter()
            self._writer.close()
            self._writer = None
            self.hook_seconds += time.perf_counter() - start

    def _run(self, due, step: int, final: bool) -> None:
        """Runs the loggers of the due specs at `step` (chief only) and flushes.

        Args:
          due: `(spec, hit)` pairs in running order; `hit` is False for a spec
            that is only making up for a deferred step.
          step: the step to record.
          final: the last epoch of the fit (the budget does not apply).
        """
        if self._writer is None or not due:
            return
        start = time.perf_counter()
        try:
            with self._writer.as_default():
                once, self._once = self._once, []  # the model map, the probe
                for spec in once:
                    self._loggers[spec.group].log(step)
                first_deferred = []
                for spec, hit in due:
                    if self._run_spec(spec, hit, step, final, start):
                        first_deferred.append(spec.group)
                self.budget.announce(first_deferred, step)
            # Flush now: an interrupted fit must leave every written step readable.
            self._writer.flush()
        finally:
            self.hook_seconds += time.perf_counter() - start

    def _run_spec(self, spec, hit: bool, step: int, final: bool, start: float):
        """Runs one due spec as the budget plans it; returns True when it was
        deferred for the first time (to be announced)."""
        spent = self.hook_seconds + time.perf_counter() - start
        group, logger = spec.group, self._loggers[spec.group]
        scale = self.budget.plan(spec, logger.shrinks is not None, spent, final)
        if scale is None:
            return hit and self.budget.defer(group, step)
        made_up = self.budget.deferred.get(group, [])
        extra = {"deferred_steps": list(made_up)} if made_up else {}
        logger.log(step, scale=scale, **extra)
        self._ran_at[group] = step
        self.budget.ran(group, logger.seconds, logger.tracing_seconds, logger.scale)
        return False
