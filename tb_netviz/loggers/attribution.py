"""`AttributionLogger`: where the model looks for a class, on every probe
input: the attribution maps of the chosen methods and how faithful they are."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import keras
import numpy as np
import tensorflow as tf

from tb_netviz import config, metadata
from tb_netviz.loggers.base import Logger, warn_nonfinite
from tb_netviz.loggers.spec import Context, Spec, spec
from tb_netviz.methods.attributions import (
    DEFAULT_METHODS,
    METRICS,
    SIGNED,
    Attributor,
    faithfulness,
)
from tb_netviz.methods.sanity.attribution import DEFAULT_METHODS as SANITY_METHODS
from tb_netviz.methods.sanity.attribution import AttributionCheck
from tb_netviz.pictures import attribution as pictures

# The reference every method's faithfulness is read against: a uniformly
# random map (seeded), measured with the same metrics. A method that does
# not beat it on the probe says nothing about the model.
REFERENCE = "random"
_SEED = 0


class AttributionLogger(Logger):
    """Logs `attribution/<output layer>`: per probe input the input and each
    method's map for each target, the faithfulness figures in the step JSON,
    and their means over the probe as TensorBoard scalars
    `netviz/attribution/<metric>/<method>` (the Scalars tab plots them)."""

    group = "attribution"

    def __init__(
        self,
        model: keras.Model,
        probe,
        methods: str | Sequence[str] = DEFAULT_METHODS,
        targets: int | Sequence[int] | None = None,
        top_k: int = 1,
        layer: str | None = None,
        class_names: Sequence[str] | None = None,
        metrics: str | Sequence[str] = METRICS,
        options: Mapping[str, Any] | None = None,
        sanity: str | Sequence[str] = SANITY_METHODS,
        labels: np.ndarray | None = None,
        input_range: tuple[float, float] | None = None,
    ):
        """Args:
        model: a built classifier (one image input, one `(batch, classes)`
          output).
        probe: the probe batch `(N, H, W, C)`.
        methods: names of `methods.attributions.METHODS`.
        targets: None (the label when `labels` are given, else the `top_k`
          predicted classes), a class index or a list of them (the same for
          every input), or `(N, T)` indices.
        top_k: predicted classes per input when `targets` and `labels` are
          None.
        layer: the CAM layer; None chooses the last feature map.
        class_names: one name per class, shown beside the targets.
        metrics: faithfulness metrics of `methods.attributions.METRICS`
          (`()` for none).
        options: the methods' options (`steps`, `samples`, ...), checked by
          `Attributor`.
        sanity: methods whose maps get the cascading randomization check
          at every step (`methods.sanity.AttributionCheck`; the verdict is
          in the step JSON's `sanity`); `()` for none. They need not be
          among `methods`.
        labels: the probe's labels `(N,)` or `(N, classes)`, or None.
        input_range: `(lo, hi)` of the inputs; None infers it from the probe.

        Raises:
          ValueError: a model that is no classifier of images, an unknown
            method or metric, a CAM layer without spatial output, class names
            or targets that do not fit the classes.
          TypeError: an unknown option.
        """
        self._probe = config.check_probe(model, probe)
        self._range = config.choose_input_range(self._probe, input_range, None)
        self._attributor = Attributor(
            model, methods, layer=layer, input_range=self._range, **dict(options or {})
        )
        super().__init__([self._attributor.output_layer])
        self._metrics = (metrics,) if isinstance(metrics, str) else tuple(metrics)
        bad = [m for m in self._metrics if m not in METRICS]
        if bad:
            raise ValueError(
                f"unknown faithfulness metric {bad}; choose from {METRICS}"
            )
        self._targets, self._top_k, self._labels = targets, top_k, labels
        self._class_names = (
            None if class_names is None else [str(c) for c in class_names]
        )
        classes = self._attributor.num_classes
        if self._class_names is not None and len(self._class_names) != classes:
            raise ValueError(
                f"class_names has {len(self._class_names)} names but the model has "
                f"{classes} classes; give one name per class"
            )
        self._attributor.targets(self._probe[:1], targets, _first(labels), top_k)
        sanity = (sanity,) if isinstance(sanity, str) else tuple(sanity)
        self._check = (
            AttributionCheck(model, sanity, layer, self._range, options)
            if sanity
            else None
        )

    def _log(self, step: int, extra: dict[str, Any]) -> bool:
        layer = self.layers[0]
        return bool(self.attempt(step, layer, self._one, layer, step, extra))

    def _one(self, layer: str, step: int, extra) -> bool:
        start = time.perf_counter()
        a = self._attributor
        targets, source = a.targets(
            self._probe, self._targets, self._labels, self._top_k
        )
        result = a(self._probe, targets)
        measured = time.perf_counter()
        scores = self._faithfulness(result)
        faith_seconds = time.perf_counter() - measured
        checked = time.perf_counter()
        sanity = (
            None if self._check is None else self._check(self._probe, result.targets)
        )
        sanity_seconds = time.perf_counter() - checked
        record = pictures.record(
            self._probe,
            result.maps,
            result.targets,
            result.probabilities,
            scores,
            self._range,
            SIGNED,
            {
                "cam_layer": a.layer,
                "target_source": source,
                "class_names": self._class_names,
                "predicted": a.predicted(self._probe).tolist(),
                "labels": None if self._labels is None else _label_list(self._labels),
                "metrics": list(self._metrics),
                "reference": REFERENCE,
                "settings": a.settings,
                "seconds_per_method": {
                    m: round(s, 4) for m, s in result.seconds.items()
                },
                "faithfulness_seconds": round(faith_seconds, 4),
                "sanity": None if sanity is None else sanity.to_json(),
                "sanity_seconds": round(sanity_seconds, 4),
            },
            result.completeness,
        )
        if record[0]["nonfinite"]:
            warn_nonfinite(self.group, layer, step)
        for metric, by_method in record[0]["faithfulness_mean"].items():
            for method, value in by_method.items():
                if value is not None:
                    tf.summary.scalar(
                        metadata.scalar_tag(self.group, metric, method),
                        value,
                        step=step,
                    )
        seconds = time.perf_counter() - start
        return self.write(self.group, layer, step, record, seconds, extra)

    def _faithfulness(self, result) -> dict[str, dict[str, np.ndarray]]:
        """`{metric: {method: (N, T)}}` for every method and the random map."""
        if not self._metrics:
            return {}
        reference = np.random.default_rng(_SEED).random(
            next(iter(result.maps.values())).shape, dtype=np.float32
        )
        maps = {**result.maps, REFERENCE: reference}
        return faithfulness(
            self._attributor, self._probe, maps, result.targets, metrics=self._metrics
        )


def _first(labels):
    return None if labels is None else np.asarray(labels)[:1]


def _label_list(labels) -> list[int]:
    """Class indices `(N,)` of integer or one-hot labels."""
    y = np.asarray(labels)
    return (y.argmax(axis=-1) if y.ndim == 2 else y.reshape(-1)).astype(int).tolist()


@spec
class Attribution(Spec):
    """Attribution maps of the probe for its classes, with their faithfulness
    (`AttributionLogger`); heavy, off unless given:
    `attribution=Attribution()` (the first and the last epoch), or
    `Attribution(freq=N, methods=("gradcam", "smoothgrad"), targets=3)`."""

    group: ClassVar[str] = "attribution"
    freq: int | None = None
    methods: str | Sequence[str] = DEFAULT_METHODS
    targets: int | Sequence[int] | None = None
    top_k: int = 1
    layer: str | None = None
    class_names: Sequence[str] | None = None
    metrics: str | Sequence[str] = METRICS
    options: Mapping[str, Any] | None = None
    sanity: str | Sequence[str] = SANITY_METHODS

    def build(self, context: Context) -> AttributionLogger:
        return AttributionLogger(
            context.model,
            context.probe,
            labels=context.labels,
            input_range=context.input_range,
            **self.settings(),
        )
