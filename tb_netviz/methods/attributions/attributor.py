"""`Attributor`: the attribution methods for one model, checked once, traced once.

Everything about the model is checked at construction, before anything runs
(`targets.check_model`, `cams.check_layer`, `options.check_options`); each
method is one `tf.function` (`traced`) over all inputs and targets, traced on
the first call and reused while the shapes stay the same. The user's model is
left as it was (`forward`).
"""

from __future__ import annotations

import dataclasses
import functools
import time

import keras
import numpy as np
import tensorflow as tf

from tb_netviz.methods.attributions import cams, gradients, perturbation
from tb_netviz.methods.attributions import options as options_lib
from tb_netviz.methods.attributions import targets as targets_lib
from tb_netviz.methods.attributions.forward import Forward
from tb_netviz.methods.common import layers as layers_lib
from tb_netviz.methods.common.traced import traced

_FUNCTIONS = {
    "gradcam": cams.gradcam,
    "gradcam++": cams.gradcam_plus_plus,
    "layercam": cams.layercam,
    "scorecam": cams.scorecam,
    "saliency": gradients.saliency,
    "gradient_x_input": gradients.gradient_x_input,
    "smoothgrad": gradients.smoothgrad,
    "vargrad": gradients.vargrad,
    "integrated_gradients": gradients.integrated_gradients,
    "occlusion": perturbation.occlusion,
    "rise": perturbation.rise,
}
_PER_CALL = ("baseline", "fill", "seed")  # passed as tensors, not traced in


@dataclasses.dataclass(frozen=True)
class AttributionResult:
    """The maps of N inputs for T targets each.

    Attributes:
      maps: `{method: float32 (N, T, H, W)}` at the input's resolution.
      targets: int64 `(N, T)`.
      probabilities: float32 `(N, T)`: the model's probability of each
        target (softmax or sigmoid; the softmax of logits; the raw value of a
        single linear unit).
      completeness: float32 `(N, T)` with integrated gradients:
        `|sum(map) - (f(x) - f(x'))| / max(|f(x) - f(x')|, 1e-6)`; else None.
      seconds: `{method: wall seconds}` of this call.
    """

    maps: dict[str, np.ndarray]
    targets: np.ndarray
    probabilities: np.ndarray
    completeness: np.ndarray | None
    seconds: dict[str, float]


class Attributor:
    """Attribution maps for one model; keep one to reuse its traces.

    Attributes:
      methods: the methods computed, in order.
      layer: the CAM layer path (None when no CAM method is asked).
      output_layer: the path of the layer whose units are explained.
      num_classes: its units.
      input_range: `(lo, hi)`, or None: the min and max of each call's inputs.
      forward: the model's checked forward pass (shared with `faithfulness`).
      settings: JSON-able: the options in effect, the layer and the score.
    """

    def __init__(
        self,
        model: keras.Model,
        methods=options_lib.DEFAULT_METHODS,
        layer: str | None = None,
        input_range: tuple[float, float] | None = None,
        **options,
    ):
        """Checks everything (see the module); arguments as in `attribution`.

        Raises:
          ValueError: a model without one float image input or one class
            output, a CAM layer without spatial structure, an unknown method,
            a bad option value or input range.
          TypeError: an unknown option.
        """
        self.methods = options_lib.check_methods(methods)
        self._options = options_lib.check_options(options)
        self._options["batch_size"] = options_lib.rows_per_pass(
            self._options["batch_size"], tuple(model.inputs[0].shape[1:])
        )
        self.input_range = (
            None if input_range is None else layers_lib.check_input_range(input_range)
        )
        output = targets_lib.check_model(model)
        cam = any(m in options_lib.CAMS for m in self.methods)
        self.layer = cams.check_layer(model, layer) if cam else None
        self.forward = Forward(model, output, self.layer)
        self.output_layer = output.path
        self.num_classes = output.num_classes
        self._input_shape = tuple(model.inputs[0].shape[1:])
        self._dtype = model.inputs[0].dtype
        self._functions = {
            m: traced(functools.partial(_FUNCTIONS[m], self.forward, **self._static(m)))
            for m in self.methods
        }
        self._predict = traced(self.forward.probabilities)
        self.settings = {
            "methods": list(self.methods),
            "layer": self.layer,
            "score": output.score,
            "input_range": "min and max of the inputs"
            if self.input_range is None
            else list(self.input_range),
            **options_lib.settings(self.methods, self._options),
        }
        h, w = self._input_shape[:2]
        if "occlusion" in self.methods and h is not None and w is not None:
            patch, stride = perturbation.occlusion_geometry(
                h, w, self._options["patch"], self._options["stride"]
            )
            self.settings.update(patch=patch, stride=stride)

    def _static(self, method: str) -> dict:
        uses = options_lib.USES[method]
        return {k: self._options[k] for k in uses if k not in _PER_CALL}

    def _inputs(self, inputs) -> tf.Tensor:
        x = np.asarray(inputs)
        want = self._input_shape
        fits = x.ndim == 4 and all(
            d is None or d == s for d, s in zip(want, x.shape[1:])
        )
        if not fits or len(x) == 0:
            raise ValueError(
                f"inputs must be a batch (N, {', '.join(map(str, want))}) with N >= 1, "
                f"got shape {x.shape}"
            )
        return tf.convert_to_tensor(x, dtype=self._dtype)

    def targets(
        self, inputs, targets=None, labels=None, top_k: int = 1
    ) -> tuple[np.ndarray, str]:
        """`(targets int64 (N, T), source)`; see `targets.resolve`."""
        x = self._inputs(inputs)
        return targets_lib.resolve(
            self.num_classes,
            int(x.shape[0]),
            targets,
            labels,
            top_k,
            predict=lambda: self._predict(x).numpy(),
        )

    def predicted(self, inputs) -> np.ndarray:
        """The top predicted class of each input, int64 `(N,)`."""
        return self._predict(self._inputs(inputs)).numpy().argmax(axis=-1)

    def _aux(self, method: str, x: tf.Tensor, lo: float, hi: float) -> dict:
        """The per-call tensors of `method`: input range, seed, baseline, fill."""
        aux = {
            "lo": tf.constant(lo, tf.float32),
            "hi": tf.constant(hi, tf.float32),
            "seed": tf.constant(self._options["seed"], tf.int64),
        }
        if method == "integrated_gradients":
            aux["baseline"] = _baseline(self._options["baseline"], x, lo)
        if method == "occlusion":
            fill = self._options["fill"]
            aux["fill"] = tf.constant(
                (lo + hi) / 2 if fill == "grey" else fill, tf.float32
            )
        return aux

    def __call__(self, inputs, targets=None) -> AttributionResult:
        """Every method's maps for `inputs` `(N, H, W, C)` and `targets` (anything
        `targets` accepts: None for the top predicted class)."""
        x = self._inputs(inputs)
        predicted = []  # the probabilities, when the targets needed them

        def predict():
            predicted.append(self._predict(x).numpy())
            return predicted[0]

        found, _ = targets_lib.resolve(
            self.num_classes, int(x.shape[0]), targets, predict=predict
        )
        t = tf.constant(found, tf.int32)
        lo, hi = self.input_range or _range_of(x)
        maps, seconds, probabilities, completeness = {}, {}, None, None
        for method in self.methods:
            start = time.perf_counter()
            out = self._functions[method](x, t, self._aux(method, x, lo, hi))
            maps[method] = out["maps"].numpy().astype(np.float32)
            seconds[method] = time.perf_counter() - start
            if probabilities is None and "probabilities" in out:
                probabilities = out["probabilities"].numpy()
            if "completeness" in out:
                completeness = out["completeness"].numpy()
        if probabilities is None:
            every = predicted[0] if predicted else self._predict(x).numpy()
            probabilities = np.take_along_axis(every, found, axis=1)
        return AttributionResult(
            maps, found, probabilities.astype(np.float32), completeness, seconds
        )

    def traces(self) -> dict[str, int]:
        """How many times each method's function has been traced."""
        return {
            m: fn.experimental_get_tracing_count() for m, fn in self._functions.items()
        }


def _range_of(x: tf.Tensor) -> tuple[float, float]:
    """The inputs' own `(min, max)`; `(lo, lo + 1)` for constant inputs."""
    lo, hi = float(tf.reduce_min(x)), float(tf.reduce_max(x))
    return (lo, hi) if hi > lo else (lo, lo + 1.0)


def _baseline(baseline, x: tf.Tensor, lo: float) -> tf.Tensor:
    """Integrated gradients' `x'`, float32 `(N, H, W, C)` (see `options`)."""
    if isinstance(baseline, str):
        value = lo if baseline == "black" else 0.0
        return tf.fill(x.shape, tf.constant(value, tf.float32))
    try:
        return tf.constant(np.broadcast_to(np.asarray(baseline, np.float32), x.shape))
    except ValueError:
        raise ValueError(
            f"baseline of shape {np.shape(baseline)} does not fit inputs {tuple(x.shape)}"
        ) from None


def attribution(
    model: keras.Model,
    inputs,
    method: str,
    targets=None,
    layer: str | None = None,
    **options,
) -> np.ndarray:
    """One method's maps, float32 `(N, T, H, W)` at the input's resolution.

    Args:
      model: a built Sequential or functional model (nested models allowed)
        with one float image input and one class output `(batch, classes)`.
      inputs: float `(N, H, W, C)`, or an `(x, y)` batch whose labels `y`
        (`(N,)` ints or one-hot) are the targets when `targets` is None.
      method: one of `METHODS`.
      targets: None (the labels, else the top predicted class), an int or
        ints (the same classes for every input), or an `(N, T)` array.
      layer: the CAM layer path (default: the last feature map).
      **options: `input_range` and the options of `options` (defaults there).

    Raises:
      ValueError, TypeError: as `Attributor`, before anything runs.
    """
    if not isinstance(method, str):
        raise ValueError(
            f"method must be one name of {options_lib.METHODS}, got {method!r}"
        )
    labels = None
    if isinstance(inputs, tuple) and len(inputs) == 2:
        inputs, labels = inputs
    attributor = Attributor(model, (method,), layer=layer, **options)
    found, _ = attributor.targets(inputs, targets, labels)
    return attributor(inputs, found).maps[method]
