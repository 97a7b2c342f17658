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
import numpy as np
import tensorflow as tf

from tb_netviz import metadata, summary
from tb_netviz.methods import layers as layers_lib
from tb_netviz.methods.activations import ActivationReader
from tb_netviz.probe import check_probe


def is_chief(model: keras.Model) -> bool:
    """True unless training runs under a multi-worker strategy on a non-chief task."""
    strategy = (
        getattr(model, "distribute_strategy", None) or tf.distribute.get_strategy()
    )
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True
    if resolver.task_type == "chief":
        return True
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    return resolver.task_type == "worker" and resolver.task_id == 0 and not has_chief


def default_layers(model: keras.Model, count: int = 2) -> list[str]:
    """Picks the first and last convolution layers, else the hidden dense layers.

    Returns:
      Up to `count` layer paths.

    Raises:
      ValueError: the model has no convolution or hidden dense layer.
    """
    convs, denses = [], []
    for path in layers_lib.layer_paths(model):
        layer = layers_lib.get_layer(model, path)
        if isinstance(layer, keras.Model):
            continue
        name = type(layer).__name__.lower()
        if "conv" in name:
            convs.append(path)
        elif isinstance(layer, keras.layers.Dense):
            denses.append(path)
    chosen = [convs[0], convs[-1]] if convs else denses[:-1][:count]
    chosen = list(dict.fromkeys(chosen))[:count]
    if not chosen:
        raise ValueError(
            "layers=None found no convolution or hidden dense layer to show; pass "
            f"layers=[...] with some of: {', '.join(layers_lib.layer_paths(model))}"
        )
    return chosen


def _warn_nonfinite(kind: str, layer: str, step: int) -> None:
    warnings.warn(
        f"NetViz: non-finite values (NaN/Inf) in {kind} of layer {layer!r} at step "
        f"{step}; the picture is written and flagged, training goes on.",
        RuntimeWarning,
        stacklevel=3,
    )


def _check_freq(name: str, value: int, allow_zero: bool) -> int:
    low = 0 if allow_zero else 1
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        what = "an integer >= 0 (0 turns it off)" if allow_zero else "an integer >= 1"
        raise ValueError(f"{name} must be {what}, got {value!r}")
    return value


class NetVizCallback(keras.callbacks.Callback):
    """Logs NetViz pictures of a Keras model to `<log_dir>/netviz` while it trains.

    Example:
      model.fit(x, y, callbacks=[NetVizCallback("logs/run1", probe=x[:8])])

    Attributes:
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
          training batches (the step is then the batch count, and
          `activations_freq` is not used).
        max_channels: at most this many channels drawn per layer.
        max_tile_size: each channel is drawn at most this many pixels a side.

        Raises:
          ValueError: a frequency that is not a positive integer, or a probe
            that is a whole dataset.
        """
        super().__init__()
        self.log_dir = str(log_dir).rstrip("/")
        self.activations_freq = _check_freq("activations_freq", activations_freq, False)
        if update_freq != "epoch":
            _check_freq("update_freq", update_freq, False)
        self.update_freq = update_freq
        self.max_channels = _check_freq("max_channels", max_channels, False)
        self.max_tile_size = _check_freq("max_tile_size", max_tile_size, False)
        self._layers_arg = list(layers) if layers is not None else None
        self._probe_arg = probe
        if isinstance(probe, tf.data.Dataset):
            raise ValueError(
                "probe is a whole tf.data.Dataset; pass one small batch instead, "
                "e.g. probe=next(iter(dataset))[0][:8]"
            )
        self.layers: list[str] = []
        self.hook_seconds = 0.0
        self.failures: list[tuple[int, str, str, str]] = []
        self._writer = None
        self._batches = 0

    # Configuration, checked before the first batch ------------------------------

    def on_train_begin(self, logs=None):
        start = time.perf_counter()
        model = self.model
        layers_lib.check_backend()
        self._probe = check_probe(model, self._probe_arg)
        if self._layers_arg is None:
            self.layers = default_layers(model)
            print(f"NetVizCallback: layers=None, showing {', '.join(self.layers)}")
        else:
            self.layers = self._layers_arg
        self._reader = ActivationReader(model, self.layers, self.max_channels)
        if is_chief(model):
            self._writer = tf.summary.create_file_writer(
                f"{self.log_dir}/{metadata.RUN_SUBDIR}"
            )
        self.hook_seconds += time.perf_counter() - start

    # Scheduling ------------------------------------------------------------------

    def on_train_batch_end(self, batch, logs=None):
        self._batches += 1
        if self.update_freq != "epoch" and self._batches % self.update_freq == 0:
            self._timed(self._log_activations, self._batches)

    def on_epoch_end(self, epoch, logs=None):
        if self.update_freq == "epoch" and (epoch + 1) % self.activations_freq == 0:
            self._timed(self._log_activations, epoch)
        if self._writer is not None:
            self._timed(self._writer.flush)

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._timed(self._writer.close)
            self._writer = None

    def _timed(self, fn, *args):
        start = time.perf_counter()
        try:
            fn(*args)
        finally:
            self.hook_seconds += time.perf_counter() - start

    # Work ------------------------------------------------------------------------

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

    def _log_activations(self, step: int) -> None:
        if self._writer is None:
            return
        outputs = self._guard(
            step, "activations", ", ".join(self.layers), self._reader, self._probe
        )
        if outputs is None:
            return
        with self._writer.as_default():
            for layer in self.layers:
                acts = outputs[layer]
                self._guard(
                    step,
                    "activations",
                    layer,
                    summary.activation_arrays,
                    layer,
                    acts,
                    step,
                    self.max_channels,
                    self.max_tile_size,
                    None,
                    self._reader.channels_total[layer],
                )
                if not np.isfinite(acts).all():
                    _warn_nonfinite("activations", layer, step)
        # Flush now: an interrupted fit must leave every written step readable.
        self._writer.flush()
