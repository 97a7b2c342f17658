"""`FeatureVisualizer`: builds the target model once and runs the compiled loop.

`ascent.py` has the public functions and the documentation of the method.
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

from tb_netviz.methods.ascent import (
    channel_slice,
    optimize,
    presets,
    targets,
    transforms,
)
from tb_netviz.methods.ascent import objectives as objectives_lib
from tb_netviz.methods.ascent import param as param_lib
from tb_netviz.methods.ascent.result import AscentResult, best_starts, transparency
from tb_netviz.methods.common.traced import traced

_SAID: set[str] = set()


class FeatureVisualizer:
    """Optimizes images for channels of one layer; builds and traces once.

    Keep one per layer to visualize it repeatedly (e.g. once per epoch): the
    compiled loop reads the model's current weights at every call.
    """

    def __init__(
        self,
        model: keras.Model,
        layer: str,
        *,
        size: int | tuple[int, int] | None = None,
        preset: str = "auto",
        input_range: tuple[float, float] | None = None,
        objective=None,
        examples: np.ndarray | None = None,
        verbose: bool = True,
        **overrides,
    ):
        """Args: as `feature_visualization_result`, without the per-call ones,
        and `verbose`: print what preset "auto" chose (once per process).

        Raises:
          ValueError: unknown layer (close names listed) or setting, a layer
            without a channel or unit axis, a model without one image input.
        """
        lo, hi = (0.0, 1.0) if input_range is None else map(float, input_range)
        if not (np.isfinite([lo, hi]).all() and lo < hi):
            raise ValueError(f"input_range must be finite, lo < hi: {input_range}")
        self.input_range = (lo, hi)
        h, w, c = targets.input_shape(model, size)
        if h is None or w is None:  # the model takes any size: use the recipe's
            named = presets.choose(preset, 128, 128)
            base = presets.PRESETS.get(named, {}).get("recipe_size", 128)
            h, w = h or base, w or base
        shape = targets.output_shape(model, layer)
        self.layer, self.n_channels, self.size = layer, shape[-1], (h, w)
        self.in_channels = c
        s = presets.resolve(preset, overrides, h, w)
        if verbose and preset == "auto":
            line = presets.explain(h, w, c)
            if line not in _SAID:  # once per process for each choice
                _SAID.add(line)
                print(line)
        spec = s.objective if objective is None else objective
        if spec == "auto":
            spec = targets.default_objective(model, layer)
        self.objective = objectives_lib.as_objective(spec)
        self.settings = s = dataclasses.replace(s, objective=self.objective.name)
        self.preset = s.preset
        if self.objective.preactivation:
            mode = "preactivation"
        elif s.redirect_relu and targets.ends_in_relu(model, layer):
            mode = "redirected_relu"
        else:
            mode = "output"
        self.facets = s.facets
        diverse = s.facets > 1 and s.diversity > 0
        sliced = (
            s.slice_channels
            and not diverse  # the Gram matrices need the whole layer
            and self.objective.own_channel
            and channel_slice.supports(targets.layers_lib.get_layer(model, layer))
        )
        self._target = targets.Target(model, layer, mode, sliced, s.relu_leak)
        self._dtype = model.inputs[0].dtype
        unit = None
        if examples is not None:
            unit = (np.asarray(examples, np.float32) - lo) / (hi - lo)
        self._param = param_lib.make(
            s.param,
            h,
            w,
            c,
            init_sd=s.init_sd,
            decorrelate=s.decorrelate,
            examples=unit,
            contrast=s.contrast,
            ball=s.ball,
        )
        self._transform = transforms.TransformConfig(
            pad=s.pad,
            jitter=s.jitter,
            scales=s.scales,
            angles=s.angles,
            jitter2=s.jitter2,
            fill=s.fill,
        )
        jit = s.jit_compile
        # Random draws are looked up by key = label + j * rows, j the image's
        # index among its channel's starts x facets; channel-free labels are 0..K-1.
        self._rows = max(self.n_channels, 256)
        step = optimize.make_step(
            s,
            self._param,
            self._transform,
            self._objective,
            self._rows * s.facets * s.starts,
        )
        self._loop = traced(optimize.make_loop(step), jit_compile=jit)
        self._eval = traced(self._evaluate, jit_compile=jit)
        self._init = traced(self._param.init)

    def _objective(self, images01: tf.Tensor, labels: tf.Tensor, rows=None):
        """Returns (objective (N,), activations) of views `images01` (N, H, W, C)."""
        lo, hi = self.input_range
        x = tf.cast(lo + (hi - lo) * images01, self._dtype)
        acts, index = self._target(x, labels, rows)
        return self.objective(acts, index), acts

    def _evaluate(self, params: tf.Tensor, labels: tf.Tensor):
        images = self._param.image(params)
        return images, self._objective(images, labels)[0]

    def _labels(self, channels, init_image) -> list[int]:
        if channels is None:
            if self.objective.uses_channels:
                raise ValueError(
                    f"objective {self.objective.name!r} needs channels to visualize"
                )
            k = 1 if init_image is None or np.ndim(init_image) == 3 else len(init_image)
            if k > self._rows:
                raise ValueError(f"at most {self._rows} images at once, got {k}")
            return list(range(k))
        labels = [int(c) for c in channels]
        if not labels:
            raise ValueError("channels is empty; name at least one channel")
        bad = [c for c in labels if not 0 <= c < self.n_channels]
        if bad:
            what = (
                "units" if len(self._target.model.outputs[0].shape) == 2 else "channels"
            )
            raise ValueError(
                f"channel(s) {bad} out of range: layer {self.layer!r} has "
                f"{self.n_channels} {what} (0..{self.n_channels - 1})"
            )
        return labels

    def _unit_init(self, init_image, k: int):
        if init_image is None:
            return None
        img = np.asarray(init_image, np.float32)
        img = img[None] if img.ndim == 3 else img
        want = (*self.size, self._param.shape[2])
        if img.ndim != 4 or img.shape[1:] != want or img.shape[0] not in (1, k):
            raise ValueError(
                f"init_image must have shape {want} or ({k}, *{want}), got {np.shape(init_image)}"
            )
        if not np.isfinite(img).all():
            raise ValueError("init_image contains NaN or Inf")
        lo, hi = self.input_range
        unit = np.clip((img - lo) / (hi - lo), 0.0, 1.0)
        return tf.constant(np.broadcast_to(unit, (k, *want)))

    def __call__(
        self,
        channels: Sequence[int] | None,
        *,
        steps: int | None = None,
        seed: int = 0,
        init_image: np.ndarray | None = None,
        budget_s: float | None = None,
    ) -> AscentResult:
        """Optimizes one image per channel; see `feature_visualization_result`."""
        t0 = time.perf_counter()
        steps = self.settings.steps if steps is None else int(steps)
        if steps < 0:
            raise ValueError(f"steps must be >= 0, got {steps}")
        labels = self._labels(channels, init_image)
        f, n = self.facets, self.facets * self.settings.starts
        k = len(labels) * n
        # A channel's images are consecutive: its starts, each its facets.
        label_t = tf.constant(np.repeat(labels, n), tf.int32)
        keys = np.repeat(labels, n) + self._rows * np.tile(np.arange(n), len(labels))
        key_t = tf.constant(keys, tf.int32)
        seed_t = tf.constant(int(seed), tf.int64)
        # Initial noise is keyed by (seed, -1 - key), step draws by (seed, step).
        seeds = tf.stack([tf.fill([k], seed_t), -1 - tf.cast(key_t, tf.int64)], 1)
        init = self._unit_init(init_image, len(labels))
        if init is not None and n > 1:
            init = tf.repeat(init, n, axis=0)
        params = self._init(seeds, init)
        zeros = tf.zeros_like(params)
        self._target.refresh()
        start_objective = self._eval(params, label_t)[1].numpy().astype(np.float32)
        acc = tf.zeros([k, *self.size])
        state = (params, zeros, zeros, tf.zeros([k], tf.bool), acc)
        state, done, stopped = optimize.run_in_chunks(
            self._loop, state, steps, seed_t, key_t, label_t, budget_s, t0
        )
        images, objective = self._eval(state[0], label_t)
        objective = objective.numpy().astype(np.float32)
        nonfinite = state[3].numpy() | ~np.isfinite(objective)
        keep = best_starts(objective, nonfinite, len(labels), self.settings.starts, f)
        images, objective, nonfinite = (
            images.numpy()[keep],
            objective[keep],
            nonfinite[keep],
        )
        start_objective = start_objective[keep]
        bad_channels = [int(c) for c, b in zip(np.repeat(labels, f), nonfinite) if b]
        acc = state[4].numpy().astype(np.float64)[keep]
        alpha, gradient = transparency(acc)
        if nonfinite.any():
            warnings.warn(
                f"feature visualization of layer {self.layer!r}: NaN/Inf in the "
                "gradient or objective for channel(s) "
                f"{sorted(set(bad_channels))}; their images keep "
                "their last finite values",
                RuntimeWarning,
                stacklevel=3,
            )
        lo, hi = self.input_range
        images = lo + (hi - lo) * np.nan_to_num(images, nan=0.5)
        images = images.astype(np.float32)
        facets = None
        if f > 1:
            facets = images.reshape(len(labels), f, *images.shape[1:])
        first = slice(None, None, f)  # facet 0 of each channel
        settings = dict(
            self.settings.as_json(),
            layer=self.layer,
            steps=steps,
            steps_done=done,
            stopped_early=stopped,
            budget_s=budget_s,
            seed=int(seed),
            size=list(self.size),
            input_range=list(self.input_range),
            init_image=init_image is not None,
        )
        return AscentResult(
            images=images[first],
            objective=objective[first],
            nonfinite=nonfinite.reshape(len(labels), f).any(axis=1),
            channels=labels,
            steps_done=done,
            stopped_early=stopped,
            settings=settings,
            alpha=alpha[first].astype(np.float32),
            start_objective=start_objective[first],
            gradient=gradient[first].astype(np.float32),
            facets=facets,
        )
