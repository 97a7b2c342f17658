"""`traced`: a `tf.function` of one object's method, traced for that object only.

TensorFlow counts traces per Python function to warn about retracing
("5 out of the last 6 calls to <bound method Deconvolver._trace> triggered
tf.function retracing"); for a bound method it counts the class's function,
so one trace per logger and layer (each its own object, each traced once)
adds up to that warning (TF keys the count by the function's code, so a
closure would share it too). A `functools.partial` per object has no code of
its own: TF keys its count by the partial itself, so the count is that
object's traces, and a real retrace still warns.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import tensorflow as tf


def traced(method: Callable, **options) -> Callable:
    """`tf.function(method, **options)`, counted apart from other objects'."""

    return tf.function(functools.partial(method), **options)
