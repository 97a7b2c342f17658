"""Cascading weight randomization (Adebayo et al. 2018) for deconvolutions.

Does a reconstruction of layer L depend on what the network learned? On a
copy of the model (`keras.models.clone_model` plus the trained weights; the
user's model is never touched), the weights are re-initialized block by
block, from L down to the input (see `sanity_blocks.py` for what a block
is), and after each block the probe's reconstructions are computed again, of
the same channels, and compared with the trained model's:

- a map is the reconstruction's absolute value summed over colour channels,
  divided by its maximum (`similarity.saliency`);
- similarity after a step: per probe input and channel, the SSIM (kept
  as a distribution) and the Spearman rank correlation (its mean) of that
  map with the trained model's map (`similarity.ssim`, `similarity.spearman`);
- baseline (Arun et al. 2021): the SSIM between the maps of different probe
  inputs (same channel) under the trained model, per pair: how alike two
  maps are that *should* differ;
- the verdict, its caption and the bands drawn on the curve come from those
  two distributions through one function, `verdict.verdict`: "depends on
  the learned weights" when, with every block randomized, the maps are no
  more like the trained ones than different inputs' maps are (within a
  margin, with an exact 90% interval; see `verdict.py`).

Cost: one clone, one forward pass for the channels, then (blocks + 1)
deconvolution calls that share one trace (new weights are assigned to the
same variables).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence

import keras
import numpy as np

from tb_netviz.methods.common import layers as layers_lib
from tb_netviz.methods.common import similarity
from tb_netviz.methods.deconv.deconvolver import METHODS, Deconvolver, check_methods
from tb_netviz.methods.sanity import baseline
from tb_netviz.methods.sanity import blocks as sanity_blocks
from tb_netviz.methods.sanity import verdict as verdict_lib

DEPENDS = verdict_lib.DEPENDS
SAME = verdict_lib.SAME
cant_tell = verdict_lib.cant_tell


@dataclasses.dataclass(frozen=True)
class SanityResult:
    """One layer's cascading randomization.

    Attributes:
      layer: the layer path.
      methods: the methods checked, in order.
      channels: int64 `(K,)`, the channels reconstructed (the same for every
        input and every step).
      blocks: the cascade, top first: `blocks[b]` (layer paths) is randomized
        at step b + 1, on top of the blocks before it.
      ssim: `{method: float64 (B,)}`, mean SSIM with the trained maps after
        step b + 1.
      spearman: `{method: float64 (B,)}`, mean Spearman correlation, likewise.
      baseline: `{method: float | None}`, mean SSIM between different inputs'
        trained maps (None with one probe input).
      similarities: `{method: float64 (B, N, K)}`, the SSIM with the trained
        map after step b + 1 per probe input and channel (`ssim` its mean).
      pairs: `{method: float64 (N, N, K)}`, SSIM of the trained maps of
        inputs i and j, same channel (diagonal NaN; `baseline` the mean of
        the rest).
      verdicts: `{method: verdict.Verdict}`, from `similarities` and `pairs`.
      maps: `{method: float32 (B + 1, K, H, W)}`, the maps of probe input 0:
        trained first, then after each step.
      seconds: `{"copy": s, "cascade": s}` wall time.
    """

    layer: str
    methods: tuple[str, ...]
    channels: np.ndarray
    blocks: list[list[str]]
    ssim: dict[str, np.ndarray]
    spearman: dict[str, np.ndarray]
    baseline: dict[str, float | None]
    maps: dict[str, np.ndarray]
    seconds: dict[str, float]
    similarities: dict[str, np.ndarray]
    pairs: dict[str, np.ndarray]
    verdicts: dict[str, verdict_lib.Verdict]

    def first_below(self, method: str) -> int | None:
        """The first step (1..B) at which the rule says `depends`, or None."""
        return self.verdicts[method].first_below

    def depends(self, method: str) -> bool | None:
        """True: depends on the learned weights; False: barely changes; None:
        can't tell (see `verdict.py`)."""
        return self.verdicts[method].depends

    def verdict(self, method: str) -> str:
        return self.verdicts[method].verdict

    def caption(self, method: str) -> str:
        return self.verdicts[method].caption


def copy_model(model: keras.Model) -> keras.Model:
    """A copy with the same architecture, layer names and weights."""
    layers_lib.check_graph(model)
    with layers_lib.outbound_nodes_kept(model):
        clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    return clone


class RandomizationCheck:
    """Cascading randomization of one layer; keep one to reuse its copy and trace.

    The copy of the model is made once; every call first gives it the user's
    current weights again, so one traced deconvolution serves every check
    (e.g. at each epoch).

    Attributes:
      layer: the layer path.
      methods: the methods checked, in order.
      blocks: the cascade, top first (layer paths).
      copy_seconds: what making the copy cost.
    """

    def __init__(
        self,
        model: keras.Model,
        layer: str,
        methods: str | Sequence[str] = METHODS,
        copy: keras.Model | None = None,
    ):
        """Arguments and errors as in `randomization_check`; `copy`: a
        `copy_model(model)` to share between the layers of one model (each
        call gives it the model's weights again), or None to make one."""
        self.methods = check_methods(methods)
        self.layer = layer
        start = time.perf_counter()
        self._model = model
        self._clone = copy_model(model) if copy is None else copy
        self._cascade = sanity_blocks.blocks(self._clone, layer)
        self.blocks = [[p for p, _ in block] for block in self._cascade]
        self.copy_seconds = time.perf_counter() - start
        self._unreported = self.copy_seconds  # counted once, in the first result
        self._deconvolver = Deconvolver(self._clone, layer, methods=self.methods)
        self.num_channels = self._deconvolver.num_channels
        self._features = layers_lib.feature_model(self._clone, [layer])

    @property
    def copy(self) -> keras.Model:
        """The copy of the model this check randomizes (never the user's)."""
        return self._clone

    def strongest_channels(self, inputs, k: int) -> np.ndarray:
        """The k channels with the largest maximum activation, mean over inputs."""
        y = layers_lib.call_features(self._features, inputs)[0]
        y = np.asarray(y, np.float64)
        maxima = y.reshape(len(y), -1, y.shape[-1]).max(axis=1).mean(axis=0)
        return np.argsort(-maxima, kind="stable")[: min(k, len(maxima))].astype(
            np.int64
        )

    def _maps(self, x, channels) -> dict[str, np.ndarray]:
        images = self._deconvolver(x, channels).images
        # Sequences (N, T, C) and vectors (N, D) are maps of their own: T x C
        # and 1 x D, as the deconvolution pictures draw them.
        as_image = {4: lambda r: r, 3: lambda r: r[..., None]}.get(
            x.ndim, lambda r: r[:, :, None, :, None]
        )
        return {m: similarity.saliency(as_image(images[m])) for m in self.methods}

    def __call__(
        self,
        inputs,
        channels: Sequence[int] | None = None,
        top_k: int = 1,
        seed: int = 0,
    ) -> SanityResult:
        """Runs the check on the model's current weights; see `randomization_check`."""
        start = time.perf_counter()
        self._clone.set_weights(self._model.get_weights())
        copied = time.perf_counter() - start
        x = np.asarray(inputs, np.float32)
        if channels is None:
            if int(top_k) < 1:
                raise ValueError(f"top_k must be positive, got {top_k}")
            channels = self.strongest_channels(x, int(top_k))
        channels = np.asarray(
            layers_lib.check_channels(channels, self.num_channels, self.layer),
            np.int64,
        )
        methods = self.methods
        trained = self._maps(x, channels)  # (N, K, H, W) per method
        ranked = {m: similarity.centered_ranks(trained[m]) for m in methods}
        ssim = {m: [] for m in methods}  # (N, K) per step
        spearman = {m: [] for m in methods}
        first = {m: [trained[m][0]] for m in methods}
        self._unreported = 0.0
        for step, block in enumerate(self._cascade):
            for j, (_, lay) in enumerate(block):
                sanity_blocks.reinitialize(lay, seed * 7919 + step * 97 + j)
            now = self._maps(x, channels)
            for m in methods:
                ssim[m].append(similarity.ssim(trained[m], now[m]))
                rho = similarity.spearman_ranked(
                    ranked[m], similarity.centered_ranks(now[m])
                )
                spearman[m].append(float(rho.mean()))
                first[m].append(now[m][0])
        n, k = len(x), len(channels)
        per = {
            m: np.asarray(v, np.float64).reshape(len(self._cascade), n, k)
            for m, v in ssim.items()
        }
        pairs = {m: baseline.pair_ssim(trained[m]) for m in methods}
        return SanityResult(
            layer=self.layer,
            methods=methods,
            channels=channels,
            blocks=self.blocks,
            ssim={m: v.mean(axis=(1, 2)) for m, v in per.items()},
            spearman={m: np.asarray(v, np.float64) for m, v in spearman.items()},
            baseline={m: baseline.off_diagonal_mean(p) for m, p in pairs.items()},
            maps={m: np.stack(v).astype(np.float32) for m, v in first.items()},
            seconds={
                "copy": self._unreported + copied,
                "cascade": time.perf_counter() - start - copied,
            },
            similarities=per,
            pairs=pairs,
            verdicts={m: verdict_lib.verdict(per[m], pairs[m]) for m in methods},
        )


def randomization_check(
    model: keras.Model,
    layer: str,
    inputs,
    methods: str | Sequence[str] = METHODS,
    *,
    channels: Sequence[int] | None = None,
    top_k: int = 1,
    seed: int = 0,
) -> SanityResult:
    """Cascading weight randomization of a layer's reconstructions.

    See the module docstring for the definition. The model is left exactly
    as it was, also on error: everything runs on a copy.

    Args:
      model: a built single-input Sequential or functional model.
      layer: a layer path with spatial output `(N, *S, C)`.
      inputs: float `(N, *input_shape)`, the probe; N >= 2 for a baseline, N >= 5
        for a verdict (`verdict.py`).
      methods: any of `"deconvnet"`, `"guided_backprop"`, `"gradient"`.
      channels: the channels to reconstruct; None for the `top_k` channels
        with the largest maximum activation averaged over the inputs.
      top_k: K when `channels` is None.
      seed: seeds the new weights.

    Returns:
      A `SanityResult`.

    Raises:
      ValueError: unknown layer or method, channels out of range, a layer
        without spatial output, a model that cannot be copied.
    """
    check = RandomizationCheck(model, layer, methods)
    return check(inputs, channels, top_k, seed)
