"""Feature visualization by gradient ascent on the input, batched over channels.

Every requested channel gets one image of a single batch, and the whole
optimization loop (parameterization, transforms, model forward and backward,
optimizer step, regularizers) runs inside one `tf.function` as a
`tf.while_loop`, so a step costs about one forward and backward pass of the
batch, or less: for channel objectives on a Conv2D/Dense layer only the
requested channels of that layer are computed. Randomness is stateless and
keyed by (seed, step, channel): a channel's image does not depend on which
other channels share the batch, and the same seed gives the same images.

The engine lives beside this file: `visualizer.py` runs it, `presets.py` has
the recipes and their settings, `param.py` the parameterizations,
`transforms.py` the transforms and regularizers, `objectives.py` the
objectives, `targets.py` the differentiated model and `channel_slice.py` the
exact channel slice, `optimize.py` the compiled loop.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np

from tb_netviz.methods.ascent.visualizer import AscentResult, FeatureVisualizer

__all__ = [
    "AscentResult",
    "FeatureVisualizer",
    "feature_visualization",
    "feature_visualization_result",
]


def feature_visualization_result(
    model: keras.Model,
    layer: str,
    channels: Sequence[int] | None,
    *,
    steps: int | None = None,
    size: int | tuple[int, int] | None = None,
    preset: str = "auto",
    seed: int = 0,
    input_range: tuple[float, float] | None = None,
    objective=None,
    init_image: np.ndarray | None = None,
    budget_s: float | None = None,
    examples: np.ndarray | None = None,
    facets: int = 1,
    **overrides,
) -> AscentResult:
    """Optimizes one input image per channel of `layer`, all in one batch.

    Args:
      model: a built Sequential or functional Keras model with one image input
        `(batch, H, W, C)`, any C; nested models work. It is not changed.
      layer: layer path, e.g. `"conv2"` or `"backbone/block1_conv1"`.
      channels: channel (or Dense unit) indices, one image each. `None` only
        for objectives that ignore channels ("deepdream", callables): then one
        image per `init_image`.
      steps: optimization steps; default the preset's.
      size: `(H, W)` or an int; needed only if the model takes any size
        (default then the preset's `recipe_size`).
      preset: "auto" (the default; the rule is `presets.choose`, printed
        once), "bounded", "maco", "lucid", "distill2017", "yosinski2015" or
        "deepdream"; see `recipes.py` for the recipes and their sources.
      seed: seeds all randomness; the same seed gives the same images.
      input_range: `(lo, hi)` of the model's input values; images are made
        in this range. `None` means (0, 1): inferring it from data is the
        caller's job.
      objective: a name ("channel", "neuron", "unit", "logit", "deepdream"),
        an `objectives.Objective`, or a callable `activations -> (batch,)`;
        default: channel mean for conv layers, the unit for Dense layers and
        the pre-softmax logit for softmax layers.
      init_image: start from this image, float32 `(H, W, C)` or `(K, H, W, C)`
        in `input_range` (DeepDream), instead of noise.
      budget_s: wall-clock seconds (tracing included) after which the run
        stops between steps; `steps_done` and `stopped_early` say what ran.
      examples: images `(N, H', W', C)` in `input_range` (probe inputs or a
        sample of the data); MACO fixes its magnitude spectrum to theirs,
        "bounded" bounds the pictures' contrast by theirs (None: a 1/f
        spectrum, pixel standard deviation 0.2; mid-grey, contrast 0.2).
      facets: images per channel; above 1 they are pushed apart by the
        cosine similarity of their Gram matrices (Olah et al. 2017, weight
        `diversity`, default 1) and returned in `AscentResult.facets`.
      **overrides: single settings of the preset (see `presets.py`), e.g.
        `param="pixel"`, `jitter=4`, `lr=0.1`, `jit_compile=True`.

    Returns:
      An `AscentResult`; its `images` are float32 `(len(channels), H, W, C)`.

    Raises:
      ValueError: unknown layer, preset or setting; a channel out of range
        (the message gives the layer's channel count); a layer with no
        channel or unit axis; a bad `init_image`.
    """
    if facets != 1:
        overrides = {"facets": facets, "diversity": 1.0, **overrides}
    visualizer = FeatureVisualizer(
        model,
        layer,
        size=size,
        preset=preset,
        input_range=input_range,
        objective=objective,
        examples=examples,
        **overrides,
    )
    return visualizer(
        channels, steps=steps, seed=seed, init_image=init_image, budget_s=budget_s
    )


def feature_visualization(
    model: keras.Model, layer: str, channels: Sequence[int] | None, **kwargs
) -> np.ndarray:
    """Returns float32 `(len(channels), H, W, C)` images in `input_range`.

    The images that most excite each channel of `layer`, by regularized
    gradient ascent; keyword arguments as `feature_visualization_result`,
    which also gives the final objective values, flags and transparency maps.
    """
    return feature_visualization_result(model, layer, channels, **kwargs).images
