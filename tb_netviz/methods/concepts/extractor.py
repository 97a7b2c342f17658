"""`ConceptExtractor`: a layer's concepts over held-out examples, checked once.

CRAFT (Fel et al., CVPR 2023) and Deep Feature Factorization (Collins et al.,
ECCV 2018): the layer's non-negative activations at positions x examples,
A `(P, K)`, factorize as A ~ U W with U, W >= 0; each row of W is a concept,
a direction in the layer's channel space, and U says how much of it each
patch holds. Two streamed passes over the examples:

1. forward to the layer, keeping a seeded sample of `patches` patches
   (`patches.PatchPass`), factorized by `factorize.nmf`;
2. forward and backward through the model with W fixed (`scoring`): every
   position's coefficients (the non-negative projection onto W), so each
   concept gets its top exemplars with their receptive-field boxes, as the
   channels' exemplars do, and its importance per class. For an array of
   examples whose activations and gradients fit `scoring.CACHE_BYTES`, pass 1
   already runs this forward and backward and keeps them, so pass 2 only
   projects (the same numbers, one forward pass fewer).

Defaults: k = min(8, K) concepts (8: a bank a person can read at a glance);
`patches` = 4096. With `stability`, a second sample (another seed, the same
pass) is factorized too, and each concept's cosine with its partner there
says whether it is stable (>= 0.9). The caller's model is not changed.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from tb_netviz.methods.common.receptive_field import receptive_field
from tb_netviz.methods.concepts import factorize, matching, scoring
from tb_netviz.methods.concepts import patches as patches_lib
from tb_netviz.methods.concepts.result import Concepts
from tb_netviz.methods.units import health

K_DEFAULT = 8  # concepts, capped by the layer's channels
PATCHES = 4096  # patches factorized
EXEMPLARS = 9  # top examples kept per concept
MIN_EXAMPLES = 2  # and at least k


def _count(value, name: str, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer >= {least}, got {value!r}")
    if value < least:
        raise ValueError(f"{name} must be an integer >= {least}, got {value!r}")
    return int(value)


class ConceptExtractor:
    """A layer's concepts; keep one to reuse its traces across steps.

    Attributes:
      layer: the layer path.
      k: the number of concepts.
      channels: K, the layer's channels.
      field: the layer's receptive field.
      num_classes: the class output's units (None without importance).
      settings: JSON-able options in effect.
    """

    def __init__(
        self,
        model: keras.Model,
        layer: str,
        k: int | None = None,
        patches: int = PATCHES,
        exemplars: int = EXEMPLARS,
        seed: int = 0,
        importance: bool = True,
        stability: bool = True,
        batch_size: int = health.BATCH_SIZE,
        max_iter: int = factorize.MAX_ITER,
    ):
        """Args:
        model: a built Sequential or functional model (nested models allowed);
          with `importance`, one float image input and one class output.
        layer: a layer path with non-negative output, channels last.
        k: concepts, 1..K; default min(8, K).
        patches: patches factorized (>= k).
        exemplars: top examples kept per concept.
        seed: seeds the sample and the factorization's start.
        importance: compute each concept's importance per class.
        stability: factorize a second sample to flag unstable concepts.
        batch_size: inputs per forward pass.
        max_iter: the most HALS iterations.

        Raises:
          ValueError: an unknown layer (paths listed), a layer without
            channels last, k or a count out of range, or (with importance)
            a model without one image input and one class output.
        """
        facts = patches_lib.check_layer(model, layer)
        self.layer = layer
        self.channels = int(facts.num_channels)
        self.k = min(K_DEFAULT, self.channels) if k is None else _count(k, "k", 1)
        if self.k > self.channels:
            raise ValueError(
                f"k={self.k} concepts exceed layer {layer!r}'s {self.channels} channels"
            )
        self._budget = _count(patches, "patches", self.k)
        self._exemplars = _count(exemplars, "exemplars", 1)
        self._max_iter = _count(max_iter, "max_iter", 1)
        self._seed = _count(seed, "seed", 0)
        self._stability = bool(stability)
        output = scoring.check_importance(model) if importance else None
        self.num_classes = None if output is None else output.num_classes
        self.field = receptive_field(model, layer)
        self._input_size = tuple(model.inputs[0].shape[1:3])
        shape = facts.output_shape[1:]  # bytes per example kept for pass 2
        self._cache_bytes = (
            4 * (2 if output else 1) * int(np.prod(shape))
            if None not in shape
            else np.inf
        )
        self._patches = patches_lib.PatchPass(model, layer, batch_size)
        self._scores = scoring.ScorePass(model, self._patches, output)
        self.settings = {
            "layer": layer,
            "k": self.k,
            "patches": self._budget,
            "exemplars": self._exemplars,
            "seed": self._seed,
            "importance": "dlogit/du x u per class" if output else None,
            "score": output.score if output else None,
            "stability": self._stability,
            "algorithm": "NMF (HALS from NNDSVDa)",
        }

    def __call__(
        self, examples, labels=None, probes=None, upsample: bool = False
    ) -> Concepts:
        """Extracts the concepts of `examples`.

        Args:
          examples: held-out inputs, an array `(M, H, W, C)` or a
            `tf.data.Dataset` (read twice, in the same order).
          labels: `(M,)` int classes (or `(M, classes)` one-hot) for the
            importance; None: the model's predicted classes.
          probes: inputs `(N, H, W, C)` to draw heatmaps of, or None.
          upsample: heatmaps at the input's size (bilinear), not the layer's.

        Returns:
          `Concepts`.

        Raises:
          ValueError: a negative or non-finite activation (the message lists
            non-negative layers), fewer than max(2, k) examples, labels that
            do not fit.
        """
        seeds = np.random.SeedSequence(self._seed).spawn(4)
        m, kept = self._cached_rows(examples), []
        if m is None:
            batches = self._patches.batches(examples)
        else:  # pass 1 runs pass 2's forward step and keeps its batches
            targets = scoring.check_labels(labels, m, self.num_classes)
            batches = _kept(self._scores.forward(examples, targets), kept)
        sample = self._patches.sample(
            batches, self._budget, seeds[:2] if self._stability else seeds[:1]
        )
        least = max(MIN_EXAMPLES, self.k)
        if sample.examples < least or len(sample.patches[0]) < self.k:
            raise ValueError(
                f"Concepts of {self.k} parts need at least {least} examples (hundreds "
                f"give stable ones); got {sample.examples}."
            )
        if m is None:
            targets = scoring.check_labels(labels, sample.examples, self.num_classes)
        # The stability check's fit on the second sample runs beside the first.
        fits = factorize.nmf_many(
            sample.patches,
            self.k,
            [_int_seed(s) for s in seeds[2 : 2 + len(sample.patches)]],
            self._max_iter,
        )
        fit, w, stability = fits[0], fits[0].directions, None
        if self._stability:
            stability = matching.match(fits[1].directions, w, threshold=0.0).cosines
        if m is None:
            scores = self._scores(examples, w, targets)
        else:
            scores = self._scores.reduce(kept, w)
        return self._result(sample, fit, stability, scores, targets, probes, upsample)

    def _cached_rows(self, examples) -> int | None:
        """M, if pass 1 keeps what pass 2 needs (`scoring.CACHE_BYTES`); None
        to read `examples` twice (a dataset, or too many activations)."""
        if isinstance(examples, tf.data.Dataset):
            return None
        m = len(examples[0] if isinstance(examples, (list, tuple)) else examples)
        return m if m * self._cache_bytes <= scoring.CACHE_BYTES else None

    def _result(self, sample, fit, stability, scores, labels, probes, upsample):
        m = sample.examples
        n = min(self._exemplars, m)
        order = np.stack(
            [np.lexsort((np.arange(m), -col))[:n] for col in scores.maxima.T]
        )
        flat = np.take_along_axis(scores.positions.T, order, axis=1)
        positions = (
            np.stack(np.unravel_index(flat, sample.spatial), -1)
            if sample.spatial
            else np.zeros(flat.shape + (0,), np.int64)
        ).astype(np.int64)
        imp = counts = None
        if scores.contributions is not None:
            imp, counts = scoring.importance(scores, self.num_classes)
        mass = fit.coefficients.sum(axis=0)
        return Concepts(
            layer=self.layer,
            directions=fit.directions,
            explained=float(fit.explained),
            explained_examples=float(scores.explained),
            share=(mass / max(float(mass.sum()), 1e-30)).astype(np.float32),
            indices=order.astype(np.int64),
            values=np.take_along_axis(scores.maxima.T, order, axis=1),
            positions=positions,
            boxes=self.field.boxes(positions),
            windows=self.field.windows(positions),
            field=self.field,
            importance=imp,
            class_counts=counts,
            targets_source=None
            if imp is None
            else ("label" if labels is not None else "predicted"),
            stability=None if stability is None else stability.astype(np.float32),
            heatmaps=None
            if probes is None
            else self.heatmaps(probes, fit.directions, upsample),
            examples=m,
            patches=len(sample.patches[0]),
            iterations=fit.iterations,
        )

    def heatmaps(self, probes, directions: np.ndarray, upsample: bool = False):
        """Each concept's coefficient at each position of `probes` `(N, H, W, C)`
        for directions W `(k, K)`: float32 `(N, k, h, w)`, see `scoring.heatmaps`."""
        return scoring.heatmaps(
            self._patches, probes, directions, self._input_size if upsample else None
        )


def _kept(forwarded, kept: list):
    """Pass 1's batches from pass 2's forward step, each kept in `kept`."""
    for step in forwarded:
        kept.append(step)
        yield step[0].numpy(), float(step[3])


def _int_seed(seq: np.random.SeedSequence) -> int:
    return int(seq.generate_state(1)[0])


def extract_concepts(
    model: keras.Model,
    layer: str,
    examples,
    labels=None,
    probes=None,
    upsample: bool = False,
    **options,
) -> Concepts:
    """A layer's concepts over held-out examples (see `ConceptExtractor`).

    Args:
      model: a built model; see `ConceptExtractor`.
      layer: a layer path with non-negative output.
      examples: `(M, H, W, C)` held-out inputs, or a dataset.
      labels: `(M,)` classes for the importance; None: the predicted ones.
      probes: `(N, H, W, C)` inputs to draw heatmaps of, or None.
      upsample: heatmaps at the input size.
      **options: `ConceptExtractor`'s (k, patches, exemplars, seed,
        importance, stability, batch_size, max_iter).

    Returns:
      `Concepts`. The model is not changed.
    """
    return ConceptExtractor(model, layer, **options)(examples, labels, probes, upsample)
