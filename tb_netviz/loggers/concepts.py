"""`ConceptsLogger`: each layer's concepts over held-out examples (NMF of its
patch activations), their exemplar crops, their heatmaps on the probe, their
importance per class, with ids kept across steps by matching each step's
bank to the previous one's."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, ClassVar

import keras
import numpy as np
import tensorflow as tf

from tb_netviz import config, metadata
from tb_netviz.loggers.base import Logger, warn_nonfinite
from tb_netviz.loggers.concept_pictures import ConceptPictures
from tb_netviz.loggers.exemplars import check_examples
from tb_netviz.loggers.spec import Context, Spec, spec
from tb_netviz.methods.concepts import (
    EXEMPLARS,
    PATCHES,
    THRESHOLD,
    ConceptExtractor,
    Matching,
    match,
)
from tb_netviz.methods.concepts import patches as patches_lib
from tb_netviz.methods.units import exemplars as units_exemplars
from tb_netviz.pictures import concepts as pictures

# Importance scalars are written per concept and class up to this many
# classes (beyond, the Scalars tab would drown; the step JSON has them all).
MAX_SCALAR_CLASSES = 16


class ConceptsLogger(Logger):
    """Logs `concepts/<layer>` per layer (see `pictures.concepts`) and the
    TensorBoard scalars `netviz/concepts/<layer>/concept<id>/<class>` (each
    concept's importance for each class) and `.../concept<id>/share`."""

    group = "concepts"

    def __init__(
        self,
        model: keras.Model,
        probe,
        examples,
        layers: Sequence[str],
        k: int | None = None,
        patches: int = PATCHES,
        labels: np.ndarray | None = None,
        input_range: tuple[float, float] | None = None,
        class_names: Sequence[str] | None = None,
        exemplars: int = EXEMPLARS,
        seed: int = 0,
        importance: bool = True,
        stability: bool = True,
        threshold: float = THRESHOLD,
        max_crop_size: int = 64,
        fv: bool = True,
        fv_steps: int | None = None,
        fv_budget_s: float | None = 60.0,
    ):
        """Args:
        model: a built model with one image input (and, with `importance`,
          one class output).
        probe: the probe batch `(N, H, W, C)`: its heatmaps are drawn.
        examples: held-out inputs, an array `(M, H, W, C)` or a
          `tf.data.Dataset`, read at each step.
        layers: layer paths with non-negative output, channels last.
        k, patches, exemplars, seed, importance, stability: as
          `methods.concepts.ConceptExtractor`.
        labels: the examples' classes `(M,)` (or one-hot) for the importance;
          None: the model's predicted classes.
        input_range: `(lo, hi)` of the inputs; None infers it from the probe.
        class_names: one name per class.
        threshold: the least cosine for a concept to keep its id.
        max_crop_size: crops are drawn at most this many pixels a side.
        fv: picture each concept's direction (`ConceptVisualizer`, the
          default preset) at each step; fv_steps: its steps (None: the
          preset's); fv_budget_s: seconds for them per layer and step (the
          images are written after the steps done, recorded), None: no limit.

        Raises:
          ValueError: examples or a probe that do not fit, an unknown layer
            (the layers are listed), a layer with negative activations on
            the probe (the non-negative layers are listed), k or a count out
            of range, class names that do not fit the classes.
        """
        super().__init__(layers)
        self._probe = config.check_probe(model, probe)
        self._range = config.choose_input_range(self._probe, input_range, None)
        self.examples = check_examples(model, examples)
        self._labels = labels
        self._max_crop = config.check_freq("max_crop_size", max_crop_size, False)
        if not 0 <= threshold <= 1:
            raise ValueError(f"threshold must be in [0, 1], got {threshold}")
        self._threshold = float(threshold)
        self._extractors = {
            layer: ConceptExtractor(
                model, layer, k, patches, exemplars, seed, importance, stability
            )
            for layer in self.layers
        }
        for layer in self.layers:
            _check_nonnegative(model, layer, self._probe)
        classes = next(iter(self._extractors.values())).num_classes
        self._class_names = (
            None if class_names is None else [str(c) for c in class_names]
        )
        names = self._class_names
        if names is not None and classes is not None and len(names) != classes:
            raise ValueError(
                f"class_names has {len(names)} names but the model has {classes} "
                "classes; give one name per class"
            )
        self._rank = len(model.inputs[0].shape)
        self._fv = (
            ConceptPictures(
                model,
                self._extractors,
                self.examples,
                self._range,
                fv_steps,
                fv_budget_s,
            )
            if fv and self._rank == 4
            else None
        )
        # Per layer the last logged bank: (directions (k, K), ids (k,), next id).
        self.banks: dict[str, tuple[np.ndarray, np.ndarray, int]] = {}

    def _log(self, step: int, extra: dict[str, Any]) -> bool:
        return self.each_layer(step, lambda layer: self._one(layer, step, extra))

    def _one(self, layer: str, step: int, extra: dict[str, Any]) -> bool:
        start = time.perf_counter()
        extractor = self._extractors[layer]
        found = extractor(self.examples, self._labels, self._probe, upsample=True)
        if layer in self.banks:
            before, ids, next_id = self.banks[layer]
            matched = match(before, found.directions, self._threshold, ids, next_id)
        else:
            matched = _all_new(len(found.directions))
        inputs = units_exemplars.gather(self.examples, found.indices, self._rank)
        record = pictures.record(
            found.directions,
            found.share,
            found.indices,
            found.values,
            found.boxes,
            found.windows,
            matched.ids,
            matched.cosines,
            matched.new,
            matched.gone,
            inputs,
            self._probe,
            found.heatmaps,
            self._range,
            {
                "explained": float(found.explained),
                "explained_examples": float(found.explained_examples),
                "class_counts": _list(found.class_counts),
                "targets_source": found.targets_source,
                "class_names": self._class_names,
                "examples": int(found.examples),
                "patches": int(found.patches),
                "iterations": int(found.iterations),
                "threshold": self._threshold,
                "field": {
                    "jump": list(found.field.jump),
                    "size": list(found.field.size),
                    "offset": list(found.field.offset),
                    "exact": found.field.exact,
                },
                "settings": extractor.settings,
            },
            found.importance,
            found.stability,
            found.unstable,
            self._max_crop,
            None if self._fv is None else self._fv(layer, found.directions),
        )
        if record[0]["nonfinite"]:
            warn_nonfinite(self.group, layer, step)
        self._scalars(layer, record[0], step)
        self.banks[layer] = (found.directions, matched.ids, matched.next_id)
        seconds = time.perf_counter() - start
        return self.write(self.group, layer, step, record, seconds, extra)

    def _scalars(self, layer: str, info: dict[str, Any], step: int) -> None:
        """Each concept's share and (few classes) importance per class."""
        importance = info["importance"]
        for c, cid in enumerate(info["ids"]):
            name = f"concept{cid}"
            if info["share"][c] is not None:
                tag = metadata.scalar_tag(self.group, layer, name, "share")
                tf.summary.scalar(tag, info["share"][c], step=step)
            if importance is None or len(importance[c]) > MAX_SCALAR_CLASSES:
                continue
            for cls, value in enumerate(importance[c]):
                if value is not None:
                    # The class index, not its name: a name may hold a "/".
                    tag = metadata.scalar_tag(self.group, layer, name, str(cls))
                    tf.summary.scalar(tag, value, step=step)


def _all_new(k: int) -> Matching:
    """The first step's matching: every concept new, ids `0..k-1`."""
    # Not `match(empty bank, ...)`: it indexes the (empty) previous ids.
    ids = np.arange(k, dtype=np.int64)
    return Matching(
        ids=ids,
        partners=np.full(k, -1, np.int64),
        cosines=np.zeros(k, np.float32),
        new=np.ones(k, bool),
        gone=np.zeros(0, np.int64),
        next_id=k,
    )


def _check_nonnegative(model: keras.Model, layer: str, probe) -> None:
    """Raises the methods' error if `layer` is negative (or not finite) on
    the probe: at construction, before any training step."""
    for _, low in patches_lib.PatchPass(model, layer).batches(probe):
        if not low >= 0:  # NaN fails too
            raise patches_lib.negative_error(model, layer, low)


def _list(values) -> list | None:
    return None if values is None else np.asarray(values).tolist()


@spec
class Concepts(Spec):
    """Each layer's concepts over held-out `data` (an array or a
    `tf.data.Dataset`), matched across steps (`ConceptsLogger`); heavy, at the
    first and the last epoch by default. Off unless given:
    `concepts=Concepts(x_val, layers=["block3_conv3"], labels=y_val)`."""

    group: ClassVar[str] = "concepts"
    data: Any = None
    freq: int | None = None
    layers: Sequence[str] | None = None
    k: int | None = None
    patches: int = PATCHES
    exemplars: int = EXEMPLARS
    seed: int = 0
    class_names: Sequence[str] | None = None
    labels: Any = None
    fv: bool = True
    fv_steps: int | None = None
    fv_budget_s: float | None = 60.0

    def build(self, context: Context) -> ConceptsLogger:
        s = self.settings()
        s["layers"] = s["layers"] or context.layers
        examples = s.pop("data")
        return ConceptsLogger(
            context.model,
            context.probe,
            examples,
            input_range=context.input_range,
            **s,
        )
