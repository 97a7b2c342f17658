"""Each channel over held-out examples: its top examples (exemplars) with
their receptive fields, and its health."""

from tb_netviz.methods.common.receptive_field import Field, receptive_field
from tb_netviz.methods.units.exemplars import ExamplesPass, Exemplars, top_examples
from tb_netviz.methods.units.health import UnitHealth, UnitStats, unit_health

__all__ = [
    "ExamplesPass",
    "Exemplars",
    "Field",
    "UnitHealth",
    "UnitStats",
    "receptive_field",
    "top_examples",
    "unit_health",
]
