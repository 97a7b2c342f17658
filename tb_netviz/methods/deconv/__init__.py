"""The three backward passes through the ReLUs (Springenberg et al. 2014,
Fig. 1): deconvnet, guided backprop and the plain gradient, and the ReLU
override that makes them."""

from tb_netviz.methods.deconv.deconvolver import (
    DEFAULT_METHODS,
    METHODS,
    Deconvolver,
    DeconvResult,
    check_methods,
    deconvolution,
    deconvolution_result,
)

__all__ = [
    "DEFAULT_METHODS",
    "METHODS",
    "DeconvResult",
    "Deconvolver",
    "check_methods",
    "deconvolution",
    "deconvolution_result",
]
