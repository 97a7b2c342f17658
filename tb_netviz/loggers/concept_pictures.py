"""`ConceptPictures`: the feature visualization of each layer's concepts at a
step (`methods.concepts.ConceptVisualizer`), as `pictures.concepts.record`
takes it, for `ConceptsLogger`."""

from __future__ import annotations

import warnings
from typing import Any

import keras
import numpy as np

from tb_netviz.methods.concepts.visualize import ConceptVisualizer
from tb_netviz.pictures import readability

# Examples read once for the pictures' data statistics and flags.
FV_EXAMPLES = 256


class ConceptPictures:
    """One `ConceptVisualizer` per layer, traced once, and the data's
    reference for the flags, measured once."""

    def __init__(
        self,
        model: keras.Model,
        extractors: dict,
        examples,
        input_range: tuple[float, float],
        steps: int | None,
        budget_s: float | None,
    ):
        """Args:
        model: the model; extractors: `{layer: ConceptExtractor}` (their k
          and channels); examples: the held-out images (array or dataset);
        input_range: `(lo, hi)`; steps: None, the preset's; budget_s: seconds
          per layer and step, None: no limit.
        """
        self._steps, self._budget = steps, budget_s
        sample = _sample(examples, len(model.inputs[0].shape))
        self._data = None if sample is None else readability.data_stats(sample)
        self._visualizers = {
            layer: ConceptVisualizer(
                model, layer, ex.k, ex.channels, sample, input_range
            )
            for layer, ex in extractors.items()
        }

    def __call__(self, layer: str, directions: np.ndarray) -> dict[str, Any]:
        """The pictures of `directions` `(k, K)` at `layer`, as
        `pictures.concepts.record`'s `fv`; warns when the budget cut them."""
        vis = self._visualizers[layer]
        found = vis(directions, self._steps, budget_s=self._budget)
        if found.stopped_early:
            warnings.warn(
                f"NetViz: the concepts fv_budget_s ran out at layer {layer!r}: "
                f"wrote the concepts' pictures after {found.steps_done} of "
                f"{found.settings['steps']} steps (raise Concepts(fv_budget_s=...)).",
                RuntimeWarning,
                stacklevel=2,
            )
        return {
            "images": found.images,
            "objective": found.objective,
            "start_objective": found.start_objective,
            "gradient": found.gradient,
            "data": self._data,
            "facts": {
                "preset": vis.preset,
                "objective_name": "least-squares coefficient of the concept",
                "steps": int(found.settings["steps"]),
                "steps_done": int(found.steps_done),
                "budget_exhausted": bool(found.stopped_early),
            },
        }


def _sample(examples, rank: int) -> np.ndarray | None:
    """Up to `FV_EXAMPLES` examples as an array (images only), or None."""
    if rank != 4:
        return None
    if isinstance(examples, np.ndarray):
        return examples[:FV_EXAMPLES]
    taken, count = [], 0
    for batch in examples:
        x = np.asarray(batch[0] if isinstance(batch, (tuple, list)) else batch)
        taken.append(x[None] if x.ndim == rank - 1 else x)  # unbatched elements
        count += len(taken[-1])
        if count >= FV_EXAMPLES:
            break
    return np.concatenate(taken)[:FV_EXAMPLES] if taken else None
