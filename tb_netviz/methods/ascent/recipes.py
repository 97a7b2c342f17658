"""The published feature-visualization recipes, as data (see `presets.py`).

Each recipe reproduces a published one and names its source. Pixel amounts
(pad, jitter, blur width) are for the recipe's own image size, `recipe_size`.

Settings (all JSON-able through `Settings.as_json()`):
  steps: optimization steps.
  param: "fourier" (Olah et al. 2017) or "pixel"; see `param.py`.
  decorrelate: mix Fourier channels by ImageNet's colour covariance (RGB only).
  init_sd: standard deviation of the initial noise (spectrum or pixels).
  optimizer: "adam" (beta 0.9/0.999, eps 1e-8) or "normalized_sgd" (each
    image's gradient divided by its mean absolute value, as DeepDream does).
  lr: learning rate; parameters and images are in unit range [0, 1].
  pad, jitter, scales, angles, jitter2, fill: the transform chain, see
    `transforms.TransformConfig`.
  l1, l2, tv: weights of penalties subtracted from the objective.
  decay: multiplicative L2 decay of the parameters after each step.
  blur_sigma, blur_every: Gaussian blur of the image every few steps.
  redirect_relu: if the layer ends in a ReLU, let images where the channel is
    dead everywhere still get a gradient (Lucid's redirected ReLU, which
    Lucid's render_vis applies to every ReLU by default; here only to the
    visualized layer's, and added to the other recipes); the objective value
    is unchanged.
  objective: "auto" (channel mean for conv layers; unit, or pre-softmax logit
    for a softmax layer, for dense layers) or a name in `objectives.NAMES`.
  slice_channels: for channel objectives on a Conv2D or Dense layer, compute
    only the requested channels of that layer (same values, less work; see
    `channel_slice.py`).
  recipe_size: the image size the recipe's pixel amounts are for.
  jit_compile: compile the optimization loop with XLA.
  crops, crop_min, noise: MACO's views: crops per image and step, their
    smallest side fraction, additive noise.
  facets, diversity: images per channel and the weight of the Gram-matrix
    penalty that pushes them apart.
  contrast: a gain on MACO's magnitude spectrum.
  ball: for the pixel parameterization, keep each image's root mean square
    deviation from the data's mean colour at most this percentile of the
    examples' own (0: off; see `param.data_ball`).
  relu_leak: with `redirect_relu`, the share of the raising gradient that
    always passes at negative inputs (0: Lucid's, only while all are dead).
  starts: images optimized per channel from different random starts; the
    one with the highest objective is kept.
"""

from __future__ import annotations

_LUCID_SCALES = tuple(1 + (i - 5) / 50.0 for i in range(11))
_LUCID_ANGLES = tuple(float(a) for a in list(range(-10, 11)) + 5 * [0])

_COMMON = dict(
    decorrelate=True,
    init_sd=0.01,
    pad=0,
    jitter=0,
    scales=(1.0,),
    angles=(0.0,),
    jitter2=0,
    fill="constant",
    l1=0.0,
    l2=0.0,
    tv=0.0,
    decay=0.0,
    blur_sigma=0.0,
    blur_every=0,
    objective="auto",
    # Not in every recipe, but it changes nothing while the channel is active
    # anywhere; without it a channel dead on the starting image never moves.
    redirect_relu=True,
    slice_channels=True,
    # XLA-compiling the loop was not faster on CPU (benchmarks/bench_ascent.py).
    jit_compile=False,
    crops=1,
    crop_min=1.0,
    noise=0.0,
    facets=1,
    diversity=0.0,
    contrast=1.0,
    ball=0.0,
    relu_leak=0.0,
    starts=1,
)

# Yosinski et al., "Understanding Neural Networks Through Deep Visualization",
# ICML DL workshop 2015: pixel space, L2 decay 1e-4, Gaussian blur sigma 1.0
# every 4 steps (their 3rd hyperparameter set, CaffeNet at 227 px). Their step
# size was tuned to CaffeNet's raw gradients; normalized gradient steps make
# it model-independent.
_YOSINSKI = dict(
    _COMMON,
    steps=200,
    param="pixel",
    init_sd=0.1,
    optimizer="normalized_sgd",
    lr=0.01,
    decay=1e-4,
    blur_sigma=1.0,
    blur_every=4,
    recipe_size=227,
)

PRESETS: dict[str, dict] = {
    # Lucid's render_vis defaults: param.image(128) (Fourier, decorrelated,
    # sigmoid), Adam(0.05), 512 steps, transform.standard_transforms.
    "lucid": dict(
        _COMMON,
        steps=512,
        param="fourier",
        optimizer="adam",
        lr=0.05,
        pad=12,
        jitter=8,
        scales=_LUCID_SCALES,
        angles=_LUCID_ANGLES,
        jitter2=4,
        recipe_size=128,
    ),
    # Olah, Mordvintsev & Schubert, "Feature Visualization", Distill 2017:
    # Fourier + decorrelated colour, Adam 0.05, pad 16 (Lucid's pad, which
    # reflects by default), jitter 16, scale {1, .975, 1.025, .95, 1.05},
    # rotate -5..5 degrees, jitter 8; Lucid's 128 px and 512 steps assumed.
    "distill2017": dict(
        _COMMON,
        steps=512,
        param="fourier",
        optimizer="adam",
        lr=0.05,
        pad=16,
        fill="reflect",
        jitter=16,
        scales=(1.0, 0.975, 1.025, 0.95, 1.05),
        angles=tuple(float(a) for a in range(-5, 6)),
        jitter2=8,
        recipe_size=128,
    ),
    "yosinski2015": _YOSINSKI,
    # Mordvintsev, Olah & Tyka, "Inceptionism" / the deepdream notebook, 2015:
    # L2 of a whole layer from a given image, steps of 1.5/255 of the range
    # along the gradient divided by its mean magnitude, random np.roll by up
    # to 32 px (1024 px image); 10 steps x 4 octaves, octaves left out here
    # because most models take one input size.
    "deepdream": dict(
        _COMMON,
        steps=40,
        param="pixel",
        init_sd=0.1,
        optimizer="normalized_sgd",
        lr=1.5 / 255.0,
        jitter=64,
        fill="wrap",
        objective="deepdream",
        recipe_size=1024,
    ),
    # tb_netviz's recipe for small inputs (the "auto" default below 64 px),
    # Yosinski et al.'s pixel-space ascent with two changes, each measured
    # by benchmarks/ascent_readability.py (issue 10): the picture's contrast
    # is bounded by the data's (a ball of the 95th percentile of the
    # examples' RMS contrast around their mean colour), so a picture beats
    # real images by arrangement, not by saturating; the target ReLU leaks
    # 0.2 of the raising gradient where it is off, so a channel mean keeps
    # rising past the first positions that switch on. One start (issue 20):
    # the better of 2 starts cost 2 images per channel and step and met the
    # same readability criteria (`starts=2` still keeps the better one).
    "bounded": dict(_YOSINSKI, ball=95.0, relu_leak=0.2),
    # Fel et al., "Unlocking Feature Visualization for Deeper Networks with
    # MAgnitude Constrained Optimization" (MACO), NeurIPS 2023: only the
    # phase of the image's spectrum is optimized, its magnitude fixed to the
    # data's (here estimated from the probe or `examples`); the only
    # transforms are random crops resized to the input size and additive
    # noise; the accumulated gradient magnitude on the image is the
    # transparency map (`AscentResult.alpha`). One crop per image and step
    # (issue 20): the paper's several crops a step multiply the work (4 crops
    # cost 4.2x the forward+backward floor of one image per channel on VGG16
    # at 224 px, 1 crop 1.02x: benchmarks/bench_ascent.py); across 256 steps
    # one new crop a step still covers the image. On VGG16 (random weights,
    # 128 px, block3_conv1) the pictures kept their structure and the
    # channel means reached 5% less than with 4 crops.
    "maco": dict(
        _COMMON,
        steps=256,
        param="maco",
        optimizer="adam",
        lr=0.2,
        crops=1,
        crop_min=0.6,
        noise=0.05,
        recipe_size=224,
    ),
}
