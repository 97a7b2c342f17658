"""One logger per group of kinds: built once from its configuration, `log(step)`.

The callback and custom training loops use the same loggers:

    logger = ActivationsLogger(model, probe, ["conv1", "conv2"])
    with tf.summary.create_file_writer("logs/run1/netviz").as_default():
        for step in ...:
            logger.log(step)

A constructor checks everything that depends only on the configuration
(unknown layers, channels out of range, probe shapes) and raises `ValueError`;
`log` computes (`methods/`), draws (`pictures/`) and writes (`writer`), and a
failure there is a warning and a `Failure` record, never an exception.
"""

from tb_netviz.loggers.activations import ActivationsLogger
from tb_netviz.loggers.ascent import AscentLogger
from tb_netviz.loggers.base import Failure, Logger
from tb_netviz.loggers.deconv import DeconvLogger
from tb_netviz.loggers.examples import ExamplesLogger
from tb_netviz.loggers.model import ModelLogger
from tb_netviz.loggers.probe import ProbeLogger
from tb_netviz.loggers.sanity import SanityLogger
from tb_netviz.loggers.units import UnitsLogger

__all__ = [
    "ActivationsLogger",
    "AscentLogger",
    "DeconvLogger",
    "ExamplesLogger",
    "Failure",
    "Logger",
    "ModelLogger",
    "ProbeLogger",
    "SanityLogger",
    "UnitsLogger",
]
