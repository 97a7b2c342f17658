"""Sanity checks: cascading weight randomization of the deconvolutions
(Adebayo et al. 2018), and the checks of a feature visualization."""

from tb_netviz.methods.sanity.check import (
    RandomizationCheck,
    SanityResult,
    randomization_check,
)

__all__ = ["RandomizationCheck", "SanityResult", "randomization_check"]
