"""Pure visualization methods: a Keras model and arrays in, numpy arrays out.

One room (a package) per technique: `ascent/`, `deconv/`, `units/`,
`sanity/`, `accentuation/`, `attributions/`, `concepts/`, with what they share in
`common/`; the activations are one module. None writes logs or changes the caller's model.
"""

from tb_netviz.methods.accentuation import (
    AccentuationResult,
    Accentuator,
    feature_accentuation,
)
from tb_netviz.methods.activations import layer_activations
from tb_netviz.methods.ascent import (
    AscentResult,
    FeatureVisualizer,
    feature_visualization,
    feature_visualization_result,
)
from tb_netviz.methods.attributions import (
    AttributionResult,
    Attributor,
    Faithfulness,
    attribution,
    faithfulness,
)
from tb_netviz.methods.concepts import (
    ConceptExtractor,
    Concepts,
    Matching,
    extract_concepts,
    match,
)
from tb_netviz.methods.deconv import (
    Deconvolver,
    DeconvResult,
    deconvolution,
    deconvolution_result,
)
from tb_netviz.methods.sanity import SanityResult, randomization_check
from tb_netviz.methods.units import (
    ExamplesPass,
    Exemplars,
    Field,
    UnitHealth,
    UnitStats,
    receptive_field,
    top_examples,
    unit_health,
)

__all__ = [
    "AccentuationResult",
    "Accentuator",
    "feature_accentuation",
    "AttributionResult",
    "Attributor",
    "Faithfulness",
    "attribution",
    "faithfulness",
    "AscentResult",
    "FeatureVisualizer",
    "feature_visualization",
    "feature_visualization_result",
    "ConceptExtractor",
    "Concepts",
    "Matching",
    "extract_concepts",
    "match",
    "DeconvResult",
    "Deconvolver",
    "deconvolution",
    "deconvolution_result",
    "layer_activations",
    "ExamplesPass",
    "Exemplars",
    "Field",
    "SanityResult",
    "UnitHealth",
    "UnitStats",
    "randomization_check",
    "receptive_field",
    "top_examples",
    "unit_health",
]
