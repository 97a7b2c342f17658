"""The projection of new activations onto fixed concepts: U for new rows of A
with W fixed, the non-negative least squares solved by `factorize`'s HALS
sweeps from the clipped least-squares solution; each concept's coefficient
at a position, as CRAFT's `transform`."""

from __future__ import annotations

import functools

import numpy as np
import tensorflow as tf

from tb_netviz.methods.common.traced import traced
from tb_netviz.methods.concepts.factorize import error, sweep_factors, sweep_rows

PROJECT_SWEEPS = 10  # HALS sweeps of `project`, from the least-squares start


def project_tensor(a, w, sweeps: int = PROJECT_SWEEPS):
    """`project` as graph ops: `a` `(R, K)`, `w` `(k, K)` float32 (k static)
    -> `(U (R, k), ||a - U w||^2, ||a||^2)`."""
    b, g = tf.matmul(w, a, transpose_b=True), tf.matmul(w, w, transpose_b=True)
    k = int(w.shape[0])
    # A tiny ridge keeps the start defined when two concepts coincide.
    ridge = 1e-6 * tf.maximum(tf.linalg.trace(g), 1e-12) / k
    # The k x k inverse times b: MatrixSolve with R right-hand sides was slower
    # than the sweeps that follow it.
    start = tf.matmul(tf.linalg.inv(g + ridge * tf.eye(k)), b)  # (k, R)
    bh, m = sweep_factors(b, g)  # fixed: computed once, outside the loop
    _, *rows = tf.while_loop(
        lambda i, *_: i < sweeps,
        lambda i, *rows: (i + 1, *sweep_rows(rows, bh, m)),
        (tf.constant(0), *tf.unstack(tf.nn.relu(start), num=k)),
        parallel_iterations=1,
    )
    ut = tf.stack(rows)  # (k, R)
    norm2 = tf.reduce_sum(a * a)
    return tf.transpose(ut), tf.nn.relu(error(norm2, ut, b, g)), norm2


@functools.cache
def _compiled_project(k: int, sweeps: int):
    specs = [tf.TensorSpec([None, None], tf.float32), tf.TensorSpec([k, None])]
    return traced(
        functools.partial(project_tensor, sweeps=sweeps), input_signature=specs
    )


def project(
    a: np.ndarray, directions: np.ndarray, sweeps: int = PROJECT_SWEEPS
) -> np.ndarray:
    """The non-negative coefficients of rows of activations on fixed concepts.

    Args:
      a: `(R, K)` activations (any sign: the fit is least squares).
      directions: W, `(k, K)` non-negative.
      sweeps: HALS sweeps from the clipped least-squares solution.

    Returns:
      U, float32 `(R, k)` >= 0 minimizing `||a - U W||^2`.
    """
    w = np.asarray(directions, np.float32)
    fn = _compiled_project(len(w), int(sweeps))
    return fn(np.asarray(a, np.float32), w)[0].numpy()
