"""`traced`: a `tf.function` of one object's method, traced for that object only,
with the seconds its traces took counted apart.

TensorFlow counts traces per Python function to warn about retracing
("5 out of the last 6 calls to <bound method Deconvolver._trace> triggered
tf.function retracing"); for a bound method it counts the class's function,
so one trace per logger and layer (each its own object, each traced once)
adds up to that warning (TF keys the count by the function's code, so a
closure would share it too). A `functools.partial` per object has no code of
its own: TF keys its count by the partial itself, so the count is that
object's traces, and a real retrace still warns.

The overhead budget predicts a kind's cost from its steady cost, so a call
that traces reports how long the trace took (`tracing_seconds`, a running
total of every traced function's traces in this process).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable

import tensorflow as tf

_TRACING = [0.0]  # seconds spent tracing, all traced functions together


def tracing_seconds() -> float:
    """Seconds spent building the graphs of `traced` functions so far."""
    return _TRACING[0]


class Traced:
    """A `tf.function` that times its own traces (see `tracing_seconds`).

    A call first asks for the concrete function of its arguments: when that
    traces, the time it took is the trace (graph building); the call then
    runs the graph. Other attributes are the `tf.function`'s.
    """

    def __init__(self, function):
        self._function = function

    def __call__(self, *args, **kwargs):
        before = self._function.experimental_get_tracing_count()
        start = time.perf_counter()
        self._function.get_concrete_function(*args, **kwargs)
        if self._function.experimental_get_tracing_count() != before:
            _TRACING[0] += time.perf_counter() - start
        return self._function(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._function, name)


def traced(method: Callable, **options) -> Traced:
    """`tf.function(method, **options)`, counted apart from other objects'.

    Autograph is off unless `options` turn it on: the methods write their
    graph control flow themselves (`tf.while_loop`, `tf.cond`), and
    autograph's conversion of their Python source was most of a first call
    (3.1 of 4.0 s for a feature visualization on a small CNN).
    """
    options.setdefault("autograph", False)
    return Traced(tf.function(functools.partial(method), **options))
