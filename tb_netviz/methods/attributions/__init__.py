"""Attribution: where the model looks for a class, and how faithful each map is.

`attribution(model, inputs, method)` -> float32 `(N, T, H, W)`: the maps of
Grad-CAM, Grad-CAM++, LayerCAM, Score-CAM (`cams`), Saliency, Gradient x
Input, SmoothGrad, VarGrad, Integrated Gradients (`gradients`), Occlusion and
RISE (`perturbation`), one per input and target at the input's resolution;
`Attributor` keeps their traces; `faithfulness` measures the maps (module
`metrics`: deletion, insertion, MuFidelity). Defaults are in `options`.
"""

from tb_netviz.methods.attributions.attributor import (
    AttributionResult,
    Attributor,
    attribution,
)
from tb_netviz.methods.attributions.metrics import (
    METRICS,
    Faithfulness,
    faithfulness,
)
from tb_netviz.methods.attributions.options import (
    CAMS,
    DEFAULT_METHODS,
    HEAVY,
    METHODS,
    SIGNED,
)

__all__ = [
    "CAMS",
    "DEFAULT_METHODS",
    "HEAVY",
    "METHODS",
    "METRICS",
    "SIGNED",
    "AttributionResult",
    "Attributor",
    "Faithfulness",
    "attribution",
    "faithfulness",
]
