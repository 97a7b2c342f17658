"""The second pass: every position's concept coefficients, and their importance.

Once the directions W are known, each example's activations `a (P, K)` are
projected onto them (`projection.project`: `u (P, k) >= 0`, the non-negative
least-squares coefficients). Per example and concept the pass keeps the
maximum over positions and where it is (for exemplars), and the importance
contribution.

Importance is the gradient estimate of Fel et al., "A Holistic Approach to
Unifying Automatic Concept Extraction and Concept Importance Estimation"
(NeurIPS 2023), gradient x input at the concept level: with the layer's
output written as `a = u W + r` (r the residual, held fixed), the score's
derivative along concept i at a position is `dS/du_i = (dS/da) . W_i`, and
example n contributes `sum over positions of dS/du_i * u_i`. As in CRAFT (Fel
et al., CVPR 2023), class c's importance averages this over the examples of
class c (their labels, else the model's prediction), with S the logit of c
(`attributions.forward` reads it), so one backward pass per example gives
every class's column, whatever the number of classes. CRAFT's Sobol indices
would need thousands of masked forward passes per class; this needs none.
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import tensorflow as tf

from tb_netviz.methods.attributions import batches
from tb_netviz.methods.attributions import targets as targets_lib
from tb_netviz.methods.attributions.forward import Forward
from tb_netviz.methods.common.traced import traced
from tb_netviz.methods.concepts import projection
from tb_netviz.methods.concepts.patches import PatchPass
from tb_netviz.methods.units import health

# The most bytes of activations (and gradients) the extractor keeps from the
# first pass for the second: 1,000 32x32 images at a 16x16x32 layer take 64 MiB.
CACHE_BYTES = 256 * 2**20
# The most bytes of activations one projection call reads (see `reduce`).
REDUCE_BYTES = 64 * 2**20


@dataclasses.dataclass(frozen=True)
class Scores:
    """Per example, what the pass keeps.

    Attributes:
      maxima: float32 `(M, k)`, each concept's largest coefficient over the
        example's positions.
      positions: int64 `(M, k)`, where (the flat position index).
      contributions: float32 `(M, k)`, `sum_p dS/du_i * u_i` for the
        example's target, or None without importance.
      targets: int64 `(M,)`, the class each example explains, or None.
      explained: `1 - ||A - U W||^2 / ||A||^2` over every position.
    """

    maxima: np.ndarray
    positions: np.ndarray
    contributions: np.ndarray | None
    targets: np.ndarray | None
    explained: float


def check_importance(model: keras.Model) -> targets_lib.OutputFacts:
    """The class output importance differentiates; raises `ValueError` with the
    way out (`importance=False`) for a model without one."""
    try:
        return targets_lib.check_model(model)
    except ValueError as error:
        raise ValueError(
            f"{error} (concept importance needs it; pass importance=False to "
            "extract concepts without importance)"
        ) from None


class ScorePass:
    """Streams examples once more with the directions fixed; traces once per k.

    Two traced steps per batch: `forward` (the layer's activations, and with
    importance their gradient) and `reduce` (projection, maxima, contributions).
    The extractor may run `forward` during the first pass and keep its batches
    (`CACHE_BYTES`), so the second pass reads no example again.
    """

    def __init__(
        self,
        model: keras.Model,
        patch_pass: PatchPass,
        output: targets_lib.OutputFacts | None,
    ):
        """Args: the model, the first pass (its feature model serves when there
        is no importance), and the checked class output (None: no importance)."""
        self._patches = patch_pass
        self.output = output
        self._rank = len(model.inputs[0].shape)
        if output is not None:
            self._forward = Forward(model, output, patch_pass.layer)
        self._forward_step = traced(self._forward_batch, reduce_retracing=True)
        self._reduce_step = traced(self._reduce, reduce_retracing=True)

    def _gradients(self, x, targets):
        """`(acts, dS/dacts, targets)` for a batch; a target < 0 becomes the
        predicted class."""
        x = tf.convert_to_tensor(x)
        with tf.GradientTape(watch_accessed_variables=False) as tape:
            tape.watch(x)  # records the pass, so the gradient reaches the layer
            out = self._forward(x)
            predicted = tf.argmax(out.scores, axis=-1, output_type=tf.int32)
            chosen = tf.where(targets < 0, predicted, targets)
            score = tf.reduce_sum(batches.pick(out.scores, chosen))
        return out.features, tape.gradient(score, out.features), chosen

    def _forward_batch(self, x, targets):
        """`(acts (B, ..., K), dS/dacts or None, targets (B,), min of acts)`."""
        if self.output is None:
            acts, grads, chosen = self._patches.acts(x), None, targets
        else:
            acts, grads, chosen = self._gradients(x, targets)
        return acts, grads, chosen, tf.reduce_min(acts)

    def _reduce(self, acts, grads, w):
        """One batch's per-example maxima, positions, contributions (B, k),
        and the residual and total energy."""
        b, k = tf.shape(acts)[0], int(w.shape[0])
        rows = tf.reshape(acts, [-1, tf.shape(acts)[-1]])
        u, err, norm2 = projection.project_tensor(rows, w)
        u = tf.reshape(u, [b, -1, k])
        if grads is None:
            parts = tf.zeros([b, k])
        else:  # dS/du_i = dS/da . W_i at every position
            along = tf.matmul(
                tf.reshape(grads, [-1, tf.shape(grads)[-1]]), w, transpose_b=True
            )
            parts = tf.reduce_sum(tf.reshape(along, [b, -1, k]) * u, axis=1)
        positions = tf.argmax(u, axis=1)
        return tf.reduce_max(u, axis=1), positions, parts, err, norm2

    def forward(self, examples, labels: np.ndarray | None):
        """Yields per batch of `examples` the tensors `(acts, grads or None,
        targets (B,) int32, min)` (`labels` int `(M,)` or None: predicted)."""
        seen = 0
        for batch in health.iterate_batches(
            examples, self._patches.batch_size, self._rank
        ):
            n = len(batch[0] if isinstance(batch, list) else batch)
            want = np.full(n, -1, np.int32)
            if labels is not None:
                want = np.asarray(labels[seen : seen + n], np.int32)
            yield self._forward_step(batch, tf.constant(want))
            seen += n

    def reduce(self, forwarded, directions: np.ndarray) -> Scores:
        """Projects the batches `forward` gave onto `directions` W `(k, K)`.

        Consecutive batches are projected together, up to `REDUCE_BYTES` of
        activations a call: the projection's sweeps are many small ops, so
        one call on many rows costs about what one batch's call does.
        """
        w = tf.constant(directions, tf.float32)
        found: list[list[np.ndarray]] = [[], [], [], []]
        err = norm2 = 0.0
        for acts, grads, chosen in _grouped(forwarded, REDUCE_BYTES):
            maxima, positions, parts, e, total = self._reduce_step(acts, grads, w)
            for kept, out in zip(found, (maxima, positions, parts, chosen)):
                kept.append(out.numpy())
            err, norm2 = err + float(e), norm2 + float(total)
        maxima, positions, parts, chosen = (np.concatenate(f) for f in found)
        has = self.output is not None
        return Scores(
            maxima=maxima.astype(np.float32),
            positions=positions.astype(np.int64),
            contributions=parts.astype(np.float32) if has else None,
            targets=chosen.astype(np.int64) if has else None,
            explained=1.0 - err / norm2 if norm2 > 0 else 1.0,
        )

    def __call__(
        self, examples, directions: np.ndarray, labels: np.ndarray | None
    ) -> Scores:
        """Projects every position of `examples` onto `directions` (k, K).

        Args:
          examples: as the first pass read them.
          directions: W, float32 `(k, K)`.
          labels: int `(M,)` classes, or None for the predicted ones (only
            with importance).
        """
        return self.reduce(self.forward(examples, labels), directions)


def _grouped(forwarded, limit: int):
    """Yields `(acts, grads or None, targets)` of consecutive `forwarded`
    batches concatenated, each group at most `limit` bytes of activations (or
    one batch)."""
    group: list = []
    size = 0
    for step in forwarded:
        acts = step[0]
        nbytes = acts.shape.num_elements() * acts.dtype.size
        if group and size + nbytes > limit:
            yield _concat(group)
            group, size = [], 0
        group.append(step[:3])
        size += nbytes
    if group:
        yield _concat(group)


def _concat(group: list) -> tuple:
    if len(group) == 1:
        return tuple(group[0])
    acts, grads, chosen = zip(*group)
    grads = None if grads[0] is None else tf.concat(grads, 0)
    return tf.concat(acts, 0), grads, tf.concat(chosen, 0)


def importance(scores: Scores, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Class c's importance of each concept: the mean contribution over the
    examples whose target is c.

    Returns:
      `(importance float32 (k, classes), counts int64 (classes,))`; a class
      without examples has a column of zeros and count 0.
    """
    k = scores.maxima.shape[1]
    total = np.zeros((k, num_classes), np.float64)
    np.add.at(total.T, scores.targets, scores.contributions.astype(np.float64))
    counts = np.bincount(scores.targets, minlength=num_classes).astype(np.int64)
    return (total / np.maximum(counts, 1)).astype(np.float32), counts


def check_labels(labels, m: int, num_classes: int | None) -> np.ndarray | None:
    """`labels` `(M,)` ints or `(M, classes)` one-hot as int64 `(M,)`; None
    when there are none or no importance. Raises `ValueError` if they do not
    fit M examples and the classes."""
    if labels is None or num_classes is None:
        return None
    found = np.asarray(labels)
    if found.ndim == 2 and found.shape[1] == num_classes > 1:
        found = found.argmax(axis=1)
    found = found.reshape(-1)
    fits = len(found) == m and np.issubdtype(found.dtype, np.integer)
    if not fits or ((found < 0) | (found >= num_classes)).any():
        raise ValueError(
            f"labels must be {m} class indices in 0..{num_classes - 1}, got shape "
            f"{np.shape(labels)}, dtype {found.dtype}"
        )
    return found.astype(np.int64)


def heatmaps(
    patch_pass: PatchPass, probes, directions: np.ndarray, size=None
) -> np.ndarray:
    """Each concept's coefficient at each position of the probes.

    Args:
      patch_pass: the first pass (its forward pass to the layer).
      probes: inputs `(N, H, W, C)` (or a dataset).
      directions: W `(k, K)`.
      size: `(H, W)` to resize `(h, w)` maps to (bilinear), or None.

    Returns:
      float32 `(N, k, h, w)` >= 0 (`(N, k, H, W)` resized; `(N, k)` for a
      vector layer).
    """
    w = np.asarray(directions, np.float32)
    maps = []
    for acts, _ in patch_pass.batches(probes):
        u = projection.project(acts.reshape(-1, acts.shape[-1]), w)
        maps.append(np.moveaxis(u.reshape(*acts.shape[:-1], len(w)), -1, 1))
    out = np.concatenate(maps)
    if size is not None and out.ndim == 4 and None not in size:
        resized = tf.image.resize(np.moveaxis(out, 1, -1), size, method="bilinear")
        out = np.maximum(np.moveaxis(resized.numpy(), -1, 1), 0.0)
    return out.astype(np.float32)
