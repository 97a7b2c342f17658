"""What the callback logs: each kind group's checked settings, and the loggers
built from them before the first batch.

The callback decides *when* (`callback.py`); this module holds *what*, so the
callback's arguments turn into loggers in one place.
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np

from tb_netviz import config, loggers

# How many held-out examples give feature visualization the data's spectrum
# and contrast (the 95th percentile of 256 contrasts is a stable estimate).
EXAMPLES_FOR_ASCENT = 256


def _tuple(values):
    return None if values is None or isinstance(values, str) else tuple(values)


@dataclasses.dataclass(frozen=True)
class AscentConfig:
    """Feature-visualization settings (see `AscentLogger`)."""

    layers: tuple[str, ...] | None
    channels: int | tuple[int, ...]
    steps: int | None
    preset: str
    budget_s: float | None
    facets: int = 1
    seeds: int = 1

    def __post_init__(self):
        """Checks the settings and freezes sequences as tuples (ValueError)."""
        if isinstance(self.channels, int):
            config.check_freq("ascent_channels", self.channels, False)
        else:
            object.__setattr__(self, "channels", tuple(self.channels))
        object.__setattr__(self, "layers", _tuple(self.layers))
        config.check_freq("ascent_seeds", self.seeds, False)
        config.check_budget("ascent_budget_s", self.budget_s, True)


@dataclasses.dataclass(frozen=True)
class DeconvConfig:
    """Deconvolution settings (see `DeconvLogger`)."""

    layers: tuple[str, ...] | None
    channels: tuple[int, ...] | None
    top_k: int
    methods: str | tuple[str, ...]
    accentuate: bool = False

    def __post_init__(self):
        """Checks the settings and freezes sequences as tuples (ValueError)."""
        config.check_freq("deconv_top_k", self.top_k, False)
        for name in ("layers", "channels"):
            object.__setattr__(self, name, _tuple(getattr(self, name)))
        if not isinstance(self.methods, str):
            object.__setattr__(self, "methods", tuple(self.methods))


@dataclasses.dataclass(frozen=True)
class ExamplesConfig:
    """Held-out examples for exemplars and unit health (see `ExamplesLogger`)."""

    data: object  # an array or a tf.data.Dataset, streamed at each due step
    layers: tuple[str, ...] | None
    top_k: int

    def __post_init__(self):
        """Checks the settings and freezes the layers as a tuple (ValueError)."""
        config.check_freq("examples_top_k", self.top_k, False)
        object.__setattr__(self, "layers", _tuple(self.layers))


@dataclasses.dataclass(frozen=True)
class Plan:
    """Everything the callback logs besides when.

    Attributes:
      max_channels, max_tile_size: activation caps.
      ascent, examples: a group's settings, or None when it is off.
      deconv: the deconvolution settings (also the sanity check's).
      deconv_on: log deconvolutions (and accentuations with
        `deconv.accentuate`).
      unit_health: log `units/<layer>` with the activations (and examples).
      sanity: a sanity logger for the deconvolution layers and methods.
    """

    max_channels: int
    max_tile_size: int
    ascent: AscentConfig | None
    deconv: DeconvConfig
    deconv_on: bool
    examples: ExamplesConfig | None
    unit_health: bool
    sanity: bool

    def __post_init__(self):
        """Raises `ValueError` for accentuations without deconvolutions."""
        if self.deconv.accentuate and not self.deconv_on:
            raise ValueError(
                "accentuate=True logs with the deconvolutions: set deconv_freq too"
            )

    def build(
        self, model: keras.Model, probe, layers: list[str], input_range
    ) -> dict[str, loggers.Logger]:
        """One logger per group that is on, each checking its configuration.

        Raises:
          ValueError: a configuration error (unknown layer, channel out of
            range, a probe or examples that do not fit the model, ...).
        """
        built: dict[str, loggers.Logger] = {
            "model": loggers.ModelLogger(model),
            "probe": loggers.ProbeLogger(model, probe, input_range),
            "activations": loggers.ActivationsLogger(
                model, probe, layers, self.max_channels, self.max_tile_size
            ),
        }
        ranked: list[str] = []
        if self.examples is not None:
            e = self.examples
            ranked = list(e.layers or [])
            built["examples"] = loggers.ExamplesLogger(
                model,
                e.data,
                e.layers or layers,
                top_k=e.top_k,
                max_channels=self.max_channels,
                input_range=input_range,
            )
        if self.ascent is not None:
            a = self.ascent
            # The data's spectrum (MACO) and contrast ("bounded") come from the
            # held-out examples when they are an array, else from the probe.
            sample = probe
            if self.examples is not None and isinstance(self.examples.data, np.ndarray):
                sample = self.examples.data[:EXAMPLES_FOR_ASCENT]
            built["ascent"] = loggers.AscentLogger(
                model,
                a.layers or layers,
                channels=a.channels,
                steps=a.steps,
                preset=a.preset,
                budget_s=a.budget_s,
                examples=sample,
                facets=a.facets,
                seeds=a.seeds,
                exemplars=built.get("examples"),
                input_range=input_range,
            )
        d = self.deconv
        chosen = (d.methods,) if isinstance(d.methods, str) else d.methods
        if self.deconv_on:
            built["deconv"] = loggers.DeconvLogger(
                model,
                probe,
                d.layers or layers,
                channels=d.channels,
                top_k=d.top_k,
                methods=(*chosen, "accentuation") if d.accentuate else chosen,
                input_range=input_range,
            )
        if self.sanity:
            built["sanity"] = loggers.SanityLogger(
                model,
                probe,
                d.layers or layers,
                methods=tuple(dict.fromkeys((*chosen, "gradient"))),
                channels=d.channels,
            )
        if self.unit_health:
            built["units"] = loggers.UnitsLogger(
                model,
                probe,
                list(dict.fromkeys(layers + ranked)),
                examples=built.get("examples"),
            )
        return built
