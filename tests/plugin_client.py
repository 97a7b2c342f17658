"""Serve a logdir through the real TensorBoard stack into a werkzeug test client."""

from __future__ import annotations

import argparse

from tensorboard.backend import application
from tensorboard.backend.event_processing import data_ingester
from tensorboard.backend.event_processing import data_provider as dp
from tensorboard.backend.event_processing import plugin_event_multiplexer as pem
from tensorboard.plugins import base_plugin
from werkzeug import test as werkzeug_test

from tb_netviz.plugin import NetVizLoader

PREFIX = "/data/plugin/netviz"


def make_client(logdir: str, samples_per_plugin: dict | None = None):
    """Returns `(client, plugin)`: event files -> multiplexer -> provider -> WSGI app.

    Args:
      logdir: folder of runs.
      samples_per_plugin: like `--samples_per_plugin`; `{"netviz": 0}` keeps all.
        NetViz's own default is added as `tensorboard` adds it (`fix_flags`).
    """
    flags = argparse.Namespace(samples_per_plugin=dict(samples_per_plugin or {}))
    loader = NetVizLoader()
    loader.fix_flags(flags)
    hints = flags.samples_per_plugin
    # The same reservoir sizes as `tensorboard --logdir` (LocalDataIngester).
    multiplexer = pem.EventMultiplexer(
        size_guidance=data_ingester.DEFAULT_SIZE_GUIDANCE,
        tensor_size_guidance={**data_ingester.DEFAULT_TENSOR_SIZE_GUIDANCE, **hints},
    )
    multiplexer.AddRunsFromDirectory(logdir)
    multiplexer.Reload()
    provider = dp.MultiplexerDataProvider(multiplexer, logdir)
    context = base_plugin.TBContext(
        data_provider=provider,
        logdir=logdir,
        multiplexer=multiplexer,
        sampling_hints=hints,
    )
    plugin = loader.load(context)
    app = application.TensorBoardWSGI([plugin], data_provider=provider)
    return werkzeug_test.Client(app), plugin
