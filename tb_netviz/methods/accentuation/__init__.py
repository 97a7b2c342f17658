"""Feature accentuation (Hamblin et al. 2024): a real input changed to raise
a channel while an earlier layer stays close."""

from tb_netviz.methods.accentuation.accentuator import (
    AccentuationResult,
    Accentuator,
    feature_accentuation,
)

__all__ = ["AccentuationResult", "Accentuator", "feature_accentuation"]
