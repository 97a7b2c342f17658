"""How the methods batch: rows of (input, target) pairs, and passes of many copies.

Every method computes on rows: the N inputs repeated T times, row `n * T + t`
explaining target `t` of input `n`, so one forward and one backward pass give
every target (the floor of the issue: one forward + one backward per target).
Methods that run many perturbed copies (noise samples, path points, masks,
patches) run them in passes of at most `batch_size` rows inside one traced
`tf.while_loop`, summing what each pass contributes; nothing loops in Python.
"""

from __future__ import annotations

from collections.abc import Callable

import tensorflow as tf


def tile(x: tf.Tensor, targets: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """`x` (N, ...) and `targets` (N, T) int -> rows `(N*T, ...)` and `(N*T,)`."""
    t = targets.shape[1]
    return tf.repeat(x, t, axis=0), tf.reshape(targets, [-1])


def untile(rows: tf.Tensor, targets: tf.Tensor) -> tf.Tensor:
    """Rows `(N*T, ...)` -> `(N, T, ...)`."""
    n, t = targets.shape
    return tf.reshape(rows, [n, t, *rows.shape[1:]])


def pick(values: tf.Tensor, targets: tf.Tensor) -> tf.Tensor:
    """`values` (R, classes), `targets` (R,) -> `(R,)` float32: each row's target."""
    return tf.cast(tf.gather(values, targets, batch_dims=1), tf.float32)


def pick_all(values: tf.Tensor, targets: tf.Tensor) -> tf.Tensor:
    """`values` (M, N, classes), `targets` (N, T) -> `(M, N, T)` float32."""
    idx = tf.broadcast_to(targets[None], [values.shape[0], *targets.shape])
    return tf.cast(tf.gather(values, idx, batch_dims=2), tf.float32)


def upsample(maps: tf.Tensor, size) -> tf.Tensor:
    """Bilinear resize (half-pixel centres, TF's default) of `(R, h, w)` to `(R, H, W)`."""
    return tf.image.resize(maps[..., None], size, method="bilinear")[..., 0]


def per_pass(batch_size: int, rows: int, count: int) -> int:
    """How many of `count` copies of `rows` rows fit in one pass of `batch_size` rows
    (at least one: a pass never splits the rows of one copy)."""
    return max(1, min(count, batch_size // max(rows, 1)))


def chunked_sum(body: Callable, count: int, chunk: int, init):
    """Sums `body` over copies `0..count-1`, `chunk` copies per pass.

    `count // chunk` full passes run in one `tf.while_loop`; the `count % chunk`
    copies left run as one smaller pass, so no copy is computed twice (a padded
    last pass cost IG at 33 path points and 4 per pass 36 points' work).

    Args:
      body: `idx -> structure of tensors`; `idx` int32 `(c,)`, the copy indices
        of one pass, `c` static: `chunk`, or the remainder in the last pass.
      count: the number of copies.
      chunk: copies per pass (Python int, <= count).
      init: zeros with the structure and shapes `body` returns.

    Returns:
      The sum over passes, structured as `init`.
    """
    full, rest = divmod(count, chunk)

    def indices(start, size):
        return start + tf.range(size)

    if full == 1:
        acc = body(indices(tf.constant(0), chunk))
    else:

        def step(i, acc):
            out = body(indices(i * chunk, chunk))
            return i + 1, tf.nest.map_structure(tf.add, acc, out)

        _, acc = tf.while_loop(
            lambda i, _: i < full, step, (tf.constant(0), init), parallel_iterations=1
        )
    if rest:
        acc = tf.nest.map_structure(tf.add, acc, body(indices(full * chunk, rest)))
    return acc
