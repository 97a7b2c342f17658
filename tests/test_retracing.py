"""Trace once: no TensorFlow retracing warning from NetViz's traced functions
in a fit with every kind on (issue 20)."""

from __future__ import annotations

import logging

from models import compiled, data, small_cnn

from tb_netviz import (
    Accentuation,
    Ascent,
    Attribution,
    Concepts,
    Deconv,
    Exemplars,
    NetVizCallback,
    Sanity,
)


def test_a_fit_with_every_kind_traces_each_function_once(tmp_path, caplog):
    x, y = data(64)
    cb = NetVizCallback(
        str(tmp_path),
        probe=(x[:5], y[:5]),
        overhead_budget=None,
        ascent=Ascent(freq=1, steps=4, channels=2),
        deconv=Deconv(freq=1),
        accentuation=Accentuation(freq=1, top_k=1),
        exemplars=Exemplars(x, freq=1),
        sanity=Sanity(freq=1),
        attribution=Attribution(freq=1, methods=("gradcam", "smoothgrad")),
        concepts=Concepts(x, freq=1, layers=["conv2"], k=3, patches=256, fv_steps=4),
    )
    with caplog.at_level(logging.WARNING, logger="tensorflow"):
        compiled(small_cnn()).fit(x, y, epochs=3, callbacks=[cb], verbose=0)
    assert cb.failures == []
    retraced = [r.getMessage() for r in caplog.records if "retracing" in r.getMessage()]
    assert retraced == []
