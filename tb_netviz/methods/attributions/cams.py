"""Class activation maps at a spatial layer A `(h, w, K)`: Grad-CAM, Grad-CAM++,
LayerCAM, Score-CAM. `g = dS/dA` for the target's score S (the logit, see
`forward`); each map `(h, w)` is upsampled bilinearly to the input size, as
the papers do (`batches.upsample`).

- gradcam (Selvaraju et al. 2017): `ReLU(sum_k w_k A_k)`, `w_k` the spatial
  mean of `g_k`.
- gradcam++ (Chattopadhay et al. 2018), the closed form for the exponential
  score `Y = exp(S)`: `alpha_k^ij = g^2 / (2 g^2 + sum_ab A_k^ab g^3)` (0
  where the denominator is 0), `w_k = sum_ij alpha_k^ij ReLU(g_k^ij)`,
  `ReLU(sum_k w_k A_k)`. The paper's weights carry a factor `exp(S)` common
  to all channels of a map; it is left out (it scales a map, not its shape,
  and overflows float32 for S > 88).
- layercam (Jiang et al. 2021): `ReLU(sum_k ReLU(g_k) * A_k)`, per position.
- scorecam (Wang et al. 2020): each channel's map upsampled and min-max
  normalized to [0, 1] (a constant map is 0) multiplies the input; the channel
  weights are the softmax over channels of the target's score on those masked
  inputs (Algorithm 1; the official code instead weights by the softmax over
  classes); `ReLU(sum_k w_k A_k)`. With `top_channels` k, only the k channels
  of largest spatial variance are masked and weighted (Faster Score-CAM, as
  tf-keras-vis has it); None keeps every channel.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from tb_netviz.methods.attributions import batches
from tb_netviz.methods.attributions.forward import Forward
from tb_netviz.methods.common import default_layers, model_map
from tb_netviz.methods.common import layers as layers_lib


def spatial_layers(model: keras.Model) -> list[str]:
    """Paths of the layers with an `(N, h, w, K)` output, nested ones included."""
    return [
        row["path"]
        for row in model_map.model_map(model)
        if row["output_shape"] is not None
        and len(row["output_shape"]) == 4
        and row["class"] != "InputLayer"
    ]


def check_layer(model: keras.Model, layer: str | None) -> str:
    """The CAM layer: `layer` checked, or by default the last feature map as
    `default_layers.choose` picks it (nested backbones included).

    Raises:
      ValueError: an unknown layer, or one whose output is not `(N, h, w, K)`
        channels last; the message lists the spatial layers.
    """
    if layer is None:
        layer = default_layers.choose(model)[-1].path
    facts = layers_lib.lookup(model, layer)
    channels_first = getattr(facts.layer, "data_format", "") == "channels_first"
    if len(facts.output_shape) != 4 or channels_first:
        spatial = spatial_layers(model)
        listed = ", ".join(spatial) if spatial else "none: use saliency or IG"
        raise ValueError(
            f"The CAM methods need a layer with spatial structure (N, h, w, K), "
            f"channels last; {layer!r} has output shape {facts.output_shape}"
            f"{' (channels_first)' if channels_first else ''}. Spatial layers: {listed}"
        )
    return layer


def _layer_grads(forward: Forward, x, targets):
    """Per row: `A` and `g = dS/dA`, each `(N*T, h, w, K)`, and the probability `(N*T,)`."""
    rows, t_rows = batches.tile(x, targets)
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(rows)  # records the pass, so the gradient reaches A
        out = forward(rows)
        score = batches.pick(out.scores, t_rows)
    return (
        out.features,
        tape.gradient(score, out.features),
        batches.pick(out.probabilities, t_rows),
    )


def _finish(cams, x, targets, probabilities) -> dict:
    """`(N*T, h, w)` maps, upsampled to the input size -> the method's dict."""
    maps = batches.upsample(tf.nn.relu(cams), x.shape[1:3])
    return {
        "maps": batches.untile(maps, targets),
        "probabilities": batches.untile(probabilities, targets),
    }


def gradcam(forward: Forward, x, targets, aux) -> dict:
    """Grad-CAM; see the module."""
    a, g, p = _layer_grads(forward, x, targets)
    w = tf.reduce_mean(g, axis=[1, 2])  # (R, K)
    return _finish(tf.einsum("rhwk,rk->rhw", a, w), x, targets, p)


def gradcam_plus_plus(forward: Forward, x, targets, aux) -> dict:
    """Grad-CAM++; see the module."""
    a, g, p = _layer_grads(forward, x, targets)
    g2 = g * g
    denominator = 2.0 * g2 + tf.reduce_sum(a, axis=[1, 2], keepdims=True) * g2 * g
    safe = tf.where(denominator != 0.0, denominator, tf.ones_like(denominator))
    alpha = tf.where(denominator != 0.0, g2 / safe, tf.zeros_like(g2))
    w = tf.reduce_sum(alpha * tf.nn.relu(g), axis=[1, 2])
    return _finish(tf.einsum("rhwk,rk->rhw", a, w), x, targets, p)


def layercam(forward: Forward, x, targets, aux) -> dict:
    """LayerCAM; see the module."""
    a, g, p = _layer_grads(forward, x, targets)
    return _finish(tf.reduce_sum(tf.nn.relu(g) * a, axis=-1), x, targets, p)


def scorecam(forward: Forward, x, targets, aux, *, top_channels, batch_size) -> dict:
    """Score-CAM; see the module. The masked copies run `batch_size` rows a
    pass; every target is read from the same pass."""
    out = forward(x)
    a = out.features  # (N, h, w, K)
    n, size = x.shape[0], x.shape[1:3]
    if top_channels is not None and top_channels < a.shape[-1]:
        _, keep = tf.math.top_k(tf.math.reduce_variance(a, axis=[1, 2]), top_channels)
        a = tf.gather(a, keep, axis=-1, batch_dims=1)
    k = a.shape[-1]
    # Each channel upsampled as `batches.upsample` does a map: (N, K, H, W).
    up = tf.transpose(tf.image.resize(a, size, method="bilinear"), [0, 3, 1, 2])
    lo = tf.reduce_min(up, axis=[2, 3], keepdims=True)
    span = tf.reduce_max(up, axis=[2, 3], keepdims=True) - lo
    masks = tf.where(span > 0, (up - lo) / tf.where(span > 0, span, 1.0), 0.0)
    chunk = batches.per_pass(batch_size, n, k)

    def body(idx):
        c = idx.shape[0]
        m = tf.gather(masks, idx, axis=1)  # (N, c, H, W)
        masked = x[:, None] * tf.cast(m[..., None], x.dtype)
        probe = forward(tf.reshape(masked, [n * c, *x.shape[1:]]))
        scores = tf.reshape(probe.scores, [n, c, -1])
        s = tf.gather(scores, targets, axis=2, batch_dims=1)  # (N, c, T)
        place = tf.one_hot(idx, k)  # (c, K)
        return tf.einsum("nct,ck->ntk", s, place)

    s = batches.chunked_sum(body, k, chunk, tf.zeros([n, targets.shape[1], k]))
    w = tf.nn.softmax(s, axis=-1)  # over channels
    cams = tf.reshape(tf.einsum("nhwk,ntk->nthw", a, w), [-1, *a.shape[1:3]])
    t_rows = tf.reshape(targets, [-1])
    p = batches.pick(tf.repeat(out.probabilities, targets.shape[1], axis=0), t_rows)
    return _finish(cams, x, targets, p)
