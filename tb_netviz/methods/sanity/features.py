"""Checks of feature visualizations: objective vs real data, seeds, processing path.

Three numbers per channel, for a feature visualization (FV) of channel c of
layer L and the channel's top real exemplars (`methods.exemplars`):

- **objective vs the strongest exemplar**: the channel's activation on the FV
  over the best of its exemplars, measured the same way for both (the mean
  over positions of L's output at channel c; the unit itself for a dense
  layer). Below 1, the FV excites the channel less than real data does: a
  weak visualization (Olah et al. 2017 compare with dataset examples).
- **seed stability**: the SSIM between the FVs of two seeds (grey, scaled to
  the input range). Low values are common (features are found at different
  places), so read it across channels and steps, not as a pass mark.
- **processing similarity** (Geirhos et al. 2024, "Don't trust your eyes"):
  for every layer with weights from the input to L, the Spearman correlation
  between the spatially averaged activations of the FV and of each exemplar,
  averaged over layers; `exemplar_processing` is the same among the
  exemplars themselves, the reference: an FV processed like natural images of
  its channel comes close to it, one that reaches L by another path does not.

Pure: a model and arrays in, arrays out; the model is not changed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import keras
import numpy as np

from tb_netviz.methods.common import layers as layers_lib
from tb_netviz.methods.common import similarity
from tb_netviz.methods.sanity import blocks as sanity_blocks


@dataclasses.dataclass(frozen=True)
class FVChecks:
    """Per channel k (`channels[k]`), float64 `(K,)` unless said.

    Attributes:
      channels: the channels.
      objective: the FV's activation (see the module docstring).
      exemplar_objective: the best exemplar's activation, NaN without one.
      objective_ratio: objective / exemplar_objective (NaN when undefined).
      seed_ssim: SSIM of two seeds' FVs, or None without a second seed.
      path_layers: the layers of the processing path, input first.
      path: float64 `(K, L)`, per layer the mean FV-exemplar Spearman.
      processing: `path` averaged over layers.
      exemplar_processing: the same among exemplars (NaN with < 2).
    """

    channels: list[int]
    objective: np.ndarray
    exemplar_objective: np.ndarray
    objective_ratio: np.ndarray
    seed_ssim: np.ndarray | None
    path_layers: list[str]
    path: np.ndarray
    processing: np.ndarray
    exemplar_processing: np.ndarray


def path_layers(model: keras.Model, layer: str) -> list[str]:
    """The layers with weights from the input to `layer`, and `layer`, input first."""
    order, _ = sanity_blocks.leaf_graph(model, layer)
    found = [p for p, lay in order if lay.weights]
    return found if found and found[-1] == layer else [*found, layer]


def _grey(images: np.ndarray, input_range) -> np.ndarray:
    lo, hi = input_range
    return np.clip((np.asarray(images, np.float64) - lo) / (hi - lo), 0, 1).mean(-1)


def feature_checks(
    model: keras.Model,
    layer: str,
    channels: Sequence[int],
    images: np.ndarray,
    exemplars: Sequence[np.ndarray] | None = None,
    seed_images: np.ndarray | None = None,
    input_range: tuple[float, float] = (0.0, 1.0),
) -> FVChecks:
    """Computes the three checks for the FVs of `channels` of `layer`.

    Args:
      model: a built single-input model.
      layer: the visualized layer's path.
      channels: K channel indices.
      images: float `(K, H, W, C)`, the FV of each channel, in `input_range`.
      exemplars: per channel an array `(k_i, H', W', C)` of its top real
        examples (best first), or None.
      seed_images: `(K, H, W, C)`, the FVs made with another seed, or None.
      input_range: `(lo, hi)` of the inputs.

    Returns:
      An `FVChecks`.
    """
    channels = [int(c) for c in channels]
    paths = path_layers(model, layer)
    features = layers_lib.feature_model(model, paths)

    def pooled(x):  # per path layer: (n, C_l) spatial means
        outs = layers_lib.call_features(features, np.asarray(x, np.float32))
        return [
            np.asarray(o, np.float64).reshape(len(x), -1, o.shape[-1]).mean(1)
            for o in outs
        ]

    fv = pooled(images)
    objective = np.array([fv[-1][k, c] for k, c in enumerate(channels)])
    best = np.full(len(channels), np.nan)
    path = np.full((len(channels), len(paths)), np.nan)
    among = np.full(len(channels), np.nan)
    for k, c in enumerate(channels):
        ex = None if exemplars is None else np.asarray(exemplars[k])
        if ex is None or not len(ex):
            continue
        acts = pooled(ex)
        best[k] = acts[-1][:, c].max()
        for j, a in enumerate(acts):  # Spearman over the layer's channels
            rho = similarity.spearman(
                np.broadcast_to(fv[j][k], a.shape)[:, None], a[:, None]
            )
            path[k, j] = rho.mean()
        if len(ex) > 1:
            i, jj = np.triu_indices(len(ex), 1)
            among[k] = np.mean(
                [
                    similarity.spearman(a[i][:, None], a[jj][:, None]).mean()
                    for a in acts
                ]
            )
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(best > 0, objective / best, np.nan)
    seed_ssim = None
    if seed_images is not None:
        seed_ssim = similarity.ssim(
            _grey(images, input_range), _grey(seed_images, input_range)
        )
    return FVChecks(
        channels=channels,
        objective=objective,
        exemplar_objective=best,
        objective_ratio=ratio,
        seed_ssim=seed_ssim,
        path_layers=paths,
        path=path,
        processing=np.nanmean(path, axis=1)
        if np.isfinite(path).any()
        else np.full(len(channels), np.nan),
        exemplar_processing=among,
    )
