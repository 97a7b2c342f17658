"""Concepts: a layer's non-negative factors over held-out examples, their
exemplars, their importance per class, and their identity across steps.

`extract_concepts(model, layer, examples)` -> `Concepts` (CRAFT, Fel et al.
CVPR 2023; Deep Feature Factorization, Collins et al. ECCV 2018): the
layer's activations at positions x examples factorized as A ~ U W by NMF
(`factorize`), each concept's top exemplars with receptive-field boxes and
its importance per class (`scoring`, the gradient estimate of Fel et al.
NeurIPS 2023); `ConceptExtractor` keeps the traces; `match` gives the
concepts of a later step the ids of the earlier ones (`matching`).
"""

from tb_netviz.methods.concepts.extractor import (
    EXEMPLARS,
    K_DEFAULT,
    PATCHES,
    ConceptExtractor,
    extract_concepts,
)
from tb_netviz.methods.concepts.factorize import (
    Factorization,
    nmf,
    nmf_many,
)
from tb_netviz.methods.concepts.matching import THRESHOLD, Matching, hungarian, match
from tb_netviz.methods.concepts.patches import nonnegative_layers
from tb_netviz.methods.concepts.projection import project
from tb_netviz.methods.concepts.result import STABLE, Concepts

__all__ = [
    "EXEMPLARS",
    "K_DEFAULT",
    "PATCHES",
    "STABLE",
    "THRESHOLD",
    "ConceptExtractor",
    "Concepts",
    "Factorization",
    "Matching",
    "extract_concepts",
    "hungarian",
    "match",
    "nmf",
    "nmf_many",
    "nonnegative_layers",
    "project",
]
