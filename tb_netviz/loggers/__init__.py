"""One logger per group of kinds, and its spec: built once, `log(step)`.

The callback and `tb-netviz log` turn specs into loggers with one assembler
(`assemble.build`); custom training loops use the loggers directly:

    logger = ActivationsLogger(model, probe, ["conv1", "conv2"])
    with tf.summary.create_file_writer("logs/run1/netviz").as_default():
        for step in ...:
            logger.log(step)

A constructor checks everything that depends only on the configuration
(unknown layers, channels out of range, probe shapes) and raises `ValueError`;
`log` computes (`methods/`), draws (`pictures/`) and writes (`writer`), and a
failure there is a warning and a `Failure` record, never an exception.
"""

from tb_netviz.loggers.accentuation import Accentuation, AccentuationLogger
from tb_netviz.loggers.activations import Activations, ActivationsLogger
from tb_netviz.loggers.ascent import Ascent, AscentLogger
from tb_netviz.loggers.assemble import SPECS, build, choose, order
from tb_netviz.loggers.attribution import Attribution, AttributionLogger
from tb_netviz.loggers.base import Failure, Logger
from tb_netviz.loggers.concepts import Concepts, ConceptsLogger
from tb_netviz.loggers.deconv import Deconv, DeconvLogger
from tb_netviz.loggers.exemplars import Exemplars, ExemplarsLogger
from tb_netviz.loggers.model import Model, ModelLogger
from tb_netviz.loggers.probe import Probe, ProbeLogger
from tb_netviz.loggers.sanity import Sanity, SanityLogger
from tb_netviz.loggers.spec import Context, Spec
from tb_netviz.loggers.units import Units, UnitsLogger

__all__ = [
    "SPECS",
    "Accentuation",
    "AccentuationLogger",
    "Activations",
    "ActivationsLogger",
    "Ascent",
    "AscentLogger",
    "Attribution",
    "AttributionLogger",
    "Concepts",
    "ConceptsLogger",
    "Context",
    "Deconv",
    "DeconvLogger",
    "Exemplars",
    "ExemplarsLogger",
    "Failure",
    "Logger",
    "Model",
    "ModelLogger",
    "Probe",
    "ProbeLogger",
    "Sanity",
    "SanityLogger",
    "Spec",
    "Units",
    "UnitsLogger",
    "build",
    "choose",
    "order",
]
