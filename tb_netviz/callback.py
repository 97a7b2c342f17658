"""`NetVizCallback`: decides when to visualize and hands results to `summary`.

It computes nothing itself (that is `methods/`) and knows no log format (that is
`summary` and `metadata`): it checks the configuration before the first batch,
schedules each kind by its frequency, writes from the chief worker only, and
never lets a visualization failure stop training.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence

import keras
import tensorflow as tf

from tb_netviz import jobs, metadata, pictures
from tb_netviz.config import check_freq, check_probe, default_layers, is_chief
from tb_netviz.methods import layers as layers_lib
from tb_netviz.methods.deconv import METHODS


class NetVizCallback(keras.callbacks.Callback):
    """Logs NetViz pictures of a Keras model to `<log_dir>/netviz` while it trains.

    Example:
      model.fit(x, y, callbacks=[NetVizCallback("logs/run1", probe=x[:8])])

    Attributes:
      layers: the activation layers (chosen by default when `layers=None`).
      input_range: the `(lo, hi)` used for pictures in input space.
      hook_seconds: wall time spent inside this callback's hooks.
      failures: `(step, kind, layer, message)` for each visualization that failed
        at run time (training went on, with a warning).
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
        ascent_budget_s: float = 60.0,
        deconv_freq: int = 0,
        deconv_layers: Sequence[str] | None = None,
        deconv_channels: Sequence[int] | None = None,
        deconv_top_k: int = 4,
        deconv_method: str | Sequence[str] = METHODS,
        input_range: tuple[float, float] | None = None,
    ):
        """Args:
        log_dir: the run's log directory (the same one as
          `keras.callbacks.TensorBoard` is fine); NetViz writes to
          `<log_dir>/netviz`. Any `tf.io.gfile` path works (`gs://`, `ram://`).
        probe: a small batch of inputs `(N, *input_shape)`, N <= 64, e.g.
          `x_val[:8]`, or an `(x, y)` batch taken from a `tf.data.Dataset`.
        layers: layer paths to show (`"backbone/block1_conv1"` for nested
          models); None picks the first and last convolution layers.
        activations_freq: log activations every this many epochs (>= 1).
        update_freq: `"epoch"`, or an integer N to log activations every N
          training batches (the step is then the batch count for every kind,
          and `activations_freq` is not used).
        max_channels: at most this many channels drawn per layer.
        max_tile_size: each channel is drawn at most this many pixels a side.
        ascent_freq: feature visualizations every this many epochs (0: off).
        ascent_layers: layers to visualize; default `layers`.
        ascent_channels: channel indices, or N for the first N channels (the
          same in every run, so runs compare channel by channel).
        ascent_steps: optimization steps; default the preset's.
        ascent_preset: "lucid", "distill2017", "yosinski2015", "deepdream",
          or "auto": "lucid" for inputs of 64 px a side or more, else
          "yosinski2015" (Lucid's transforms lose on tiny images).
        ascent_budget_s: seconds for all ascent layers at one step; past it the
          images reached so far are written, with a warning.
        deconv_freq: deconvnet / guided-backprop every this many epochs (0: off).
        deconv_layers: layers with spatial output; default `layers`.
        deconv_channels: channel indices for every probe input, or None for
          each input's `deconv_top_k` most active channels.
        deconv_top_k: channels per probe input when `deconv_channels` is None.
        deconv_method: "deconvnet", "guided_backprop" or both (the default).
        input_range: `(lo, hi)` of the model's inputs, to draw and bound
          pictures in input space; None infers it from the probe and prints it.

        Raises:
          ValueError: a frequency or cap that is not a valid integer, or a probe
            that is a whole dataset.
        """
        super().__init__()
        self.log_dir = str(log_dir).rstrip("/")
        self.activations_freq = check_freq("activations_freq", activations_freq, False)
        if update_freq != "epoch":
            check_freq("update_freq", update_freq, False)
        self.update_freq = update_freq
        self.max_channels = check_freq("max_channels", max_channels, False)
        self.max_tile_size = check_freq("max_tile_size", max_tile_size, False)
        self.ascent_freq = check_freq("ascent_freq", ascent_freq, True)
        self.deconv_freq = check_freq("deconv_freq", deconv_freq, True)
        if isinstance(ascent_channels, int):
            check_freq("ascent_channels", ascent_channels, False)
        check_freq("deconv_top_k", deconv_top_k, False)
        if isinstance(probe, tf.data.Dataset):
            raise ValueError(
                "probe is a whole tf.data.Dataset; pass one small batch instead, "
                "e.g. probe=next(iter(dataset))[0][:8]"
            )
        self._probe_arg = probe
        self._layers_arg = list(layers) if layers is not None else None
        self._ascent_args = (ascent_layers, ascent_channels, ascent_steps,
                             ascent_preset, float(ascent_budget_s))  # fmt: skip
        self._deconv_args = (
            deconv_layers,
            deconv_channels,
            deconv_top_k,
            deconv_method,
        )
        self.input_range = input_range
        self.layers: list[str] = []
        self.hook_seconds = 0.0
        self.failures: list[tuple[int, str, str, str]] = []
        self._writer = None
        self._jobs: dict[str, object] = {}
        self._batches = 0

    # Configuration, checked before the first batch ------------------------------

    def on_train_begin(self, logs=None):
        start = time.perf_counter()
        model = self.model
        layers_lib.check_backend()
        probe = check_probe(model, self._probe_arg)
        if self._layers_arg is None:
            self.layers = default_layers(model)
            print(f"NetVizCallback: layers=None, showing {', '.join(self.layers)}")
        else:
            self.layers = self._layers_arg
        self._jobs = {
            "activations": jobs.ActivationsJob(
                model, probe, self.layers, self.max_channels, self.max_tile_size
            )
        }
        if (self.ascent_freq or self.deconv_freq) and self.input_range is None:
            self.input_range = pictures.infer_input_range(probe)
            print(f"NetVizCallback: input_range=None, using {self.input_range} "
                  "inferred from the probe")  # fmt: skip
        if self.ascent_freq:
            a_layers, channels, steps, preset, budget = self._ascent_args
            self._jobs["ascent"] = jobs.AscentJob(
                model, a_layers or self.layers, channels, steps, preset,
                budget, self.input_range,
            )  # fmt: skip
        if self.deconv_freq:
            d_layers, channels, top_k, method = self._deconv_args
            self._jobs["deconv"] = jobs.DeconvJob(
                model, probe, d_layers or self.layers, channels, top_k, method,
                self.input_range,
            )  # fmt: skip
        if is_chief(model):
            self._writer = tf.summary.create_file_writer(
                f"{self.log_dir}/{metadata.RUN_SUBDIR}"
            )
        self.hook_seconds += time.perf_counter() - start

    # Scheduling ------------------------------------------------------------------

    def on_train_batch_end(self, batch, logs=None):
        self._batches += 1
        if self.update_freq != "epoch" and self._batches % self.update_freq == 0:
            self._run(["activations"], self._batches)

    def on_epoch_end(self, epoch, logs=None):
        step = epoch if self.update_freq == "epoch" else self._batches
        epoch_freqs = {
            "activations": self.activations_freq if self.update_freq == "epoch" else 0,
            "ascent": self.ascent_freq,
            "deconv": self.deconv_freq,
        }
        due = [k for k, f in epoch_freqs.items() if f and (epoch + 1) % f == 0]
        self._run(due, step)

    def on_train_end(self, logs=None):
        if self._writer is not None:
            start = time.perf_counter()
            self._writer.close()
            self._writer = None
            self.hook_seconds += time.perf_counter() - start

    def _run(self, kinds: list[str], step: int) -> None:
        """Runs the jobs of `kinds` at `step` (chief only) and flushes."""
        if self._writer is None or not kinds:
            return
        start = time.perf_counter()
        try:
            with self._writer.as_default():
                for kind in kinds:
                    self._jobs[kind].run(step, self._guard)
            # Flush now: an interrupted fit must leave every written step readable.
            self._writer.flush()
        finally:
            self.hook_seconds += time.perf_counter() - start

    def _guard(self, step: int, kind: str, layer: str, fn, *args):
        """Returns `fn(*args)`; a failure warns, is recorded and returns None."""
        try:
            return fn(*args)
        except Exception as e:  # training must go on whatever a picture does
            message = f"{type(e).__name__}: {e}"
            self.failures.append((step, kind, layer, message))
            warnings.warn(
                f"NetViz could not log {kind} of layer {layer!r} at step {step} "
                f"({message}); training goes on.",
                RuntimeWarning,
                stacklevel=2,
            )
            return None
