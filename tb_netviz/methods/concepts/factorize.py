"""Non-negative matrix factorization A ~ U W as a compiled TensorFlow graph,
and the HALS sweep that `projection` reuses.

- `nmf`: hierarchical alternating least squares (HALS; Cichocki & Phan 2009,
  the coordinate-descent solver of Gillis's survey), started from NNDSVDa
  (Boutsidis & Gallopoulos 2008: the SVD's leading factors split into their
  positive and negative parts, zeros filled with the mean of A). The SVD is a
  seeded randomized one (Halko et al. 2011), so the start costs a few passes
  over A whatever its width; for one seed the result is deterministic.
- `sweep_factors`, `sweep_rows`, `error`: the pieces `projection.project`
  (U for new rows with W fixed) runs too.

Every sweep touches A only through `W A^T` or `U^T A`, and `||A - U W||^2`
comes from k x k Gram matrices, never by forming `U W`. The sweeps work on
rows: the loop carries U transposed, `(k, P)`, so a part's coefficients are
one contiguous row and no sweep transposes or re-stacks a `(P, k)` matrix
(those copies were most of a fit's time). The loops run inside
one `tf.function` per k (float32, as the activations are): the
matrices are thin (P x k, k ~ 8), where NumPy's threaded BLAS spends more on
waking its threads than on the products.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
import tensorflow as tf

from tb_netviz.methods.common.traced import traced

MAX_ITER = 200  # outer HALS iterations (each one sweep over W and one over U)
TOL = 1e-4  # stop when an iteration lowers the error by less than this share
_EXTRA = 10  # oversampling of the randomized SVD
_POWER = 4  # its power iterations


@dataclasses.dataclass(frozen=True)
class Factorization:
    """A ~ U W with U, W >= 0.

    Attributes:
      coefficients: U, float32 `(P, k)`.
      directions: W, float32 `(k, K)`, rows of unit L2 norm (a row of zeros
        only for a concept that died), ordered by total coefficient, largest
        first.
      explained: `1 - ||A - U W||^2 / ||A||^2`, float.
      iterations: the HALS iterations run.
    """

    coefficients: np.ndarray
    directions: np.ndarray
    explained: float
    iterations: int


def sweep_factors(b: tf.Tensor, g: tf.Tensor):
    """What a HALS sweep needs from `b = Y A^T` `(k, R)` and `g = Y Y^T`
    `(k, k)` (k static), as `sweep_rows` takes it: `bh` k tensors `(R,)`,
    `bh_j = b_j / g_jj`, and `m` k x k scalars, `m[j][i] = g_ij / g_jj` off
    the diagonal and 0 on it; a dead part (`g_jj = 0`) gets `bh_j = 0`,
    `m[j][i] = 0` and `m[j][j] = -1`, so its row is kept as it is."""
    k = int(g.shape[0])
    d = tf.linalg.diag_part(g)
    live = d > 0
    inv = tf.where(live, 1.0 / tf.where(live, d, tf.ones_like(d)), tf.zeros_like(d))
    m = tf.transpose(g * inv[None, :]) * (1.0 - tf.eye(k, dtype=g.dtype))
    m = m - tf.linalg.diag(tf.cast(tf.logical_not(live), g.dtype))
    bh = tf.unstack(b * inv[:, None], num=k)
    return bh, [tf.unstack(row, num=k) for row in tf.unstack(m, num=k)]


def sweep_rows(rows: list, bh: list, m: list) -> list:
    """One HALS sweep over the rows `rows` (k tensors `(R,)` >= 0) of x:
    row j in turn becomes `relu(bh_j - sum_i m[j][i] x_i)`, the minimizer
    of `||A - x^T Y||^2` over it given the others (`sweep_factors`). Graph
    ops; returns the new rows."""
    rows = list(rows)
    for j in range(len(rows)):
        fitted = tf.add_n([r * m[j][i] for i, r in enumerate(rows)])
        rows[j] = tf.nn.relu(bh[j] - fitted)
    return rows


def sweep(x: tf.Tensor, b: tf.Tensor, g: tf.Tensor) -> tf.Tensor:
    """One HALS sweep: each row j of `x` `(k, R)` >= 0 (one part's
    coefficients) in turn minimizes `||A - x^T Y||^2` given the others, with
    `b = Y A^T` `(k, R)` and `g = Y Y^T` `(k, k)`; k static; a dead part's
    row is kept. Graph ops; returns the new `x`."""
    k = int(g.shape[0])
    return tf.stack(sweep_rows(tf.unstack(x, num=k), *sweep_factors(b, g)))


def error(norm2, ut, wat, wwt) -> tf.Tensor:
    """`||A - U W||^2` from `||A||^2`, `U^T` `(k, R)`, `W A^T` `(k, R)` and
    `W W^T`."""
    cross = tf.reduce_sum(wat * ut)
    return (
        norm2 - 2.0 * cross + tf.reduce_sum(tf.matmul(ut, ut, transpose_b=True) * wwt)
    )


def _orthonormal(y):
    """A basis of `y`'s columns from its Gram matrix (Cholesky-QR by
    eigenvectors); a column of a rank-deficient `y` comes out short, not long."""
    lam, v = tf.linalg.eigh(tf.matmul(y, y, transpose_a=True))
    lam = tf.maximum(lam, tf.reduce_max(lam) * 1e-10)
    return tf.matmul(y, v / tf.sqrt(lam))


def _nndsvda(a, omega, k: int):
    """NNDSVDa starting factors `(U (P, k), W (k, K))` of `a` >= 0, from a
    randomized SVD with test matrix `omega` `(K, l)`."""
    q = _orthonormal(tf.matmul(a, omega))
    for _ in range(_POWER):
        q = _orthonormal(tf.matmul(a, tf.matmul(a, q, transpose_a=True)))
    b = tf.matmul(q, a, transpose_a=True)  # (l, K) = U_b S V^T
    lam, ub = tf.linalg.eigh(tf.matmul(b, b, transpose_b=True))
    ub = tf.reverse(ub, [1])[:, :k]  # eigh sorts ascending
    s = tf.sqrt(tf.nn.relu(tf.reverse(lam, [0])[:k]))
    x = tf.matmul(q, ub)  # (P, k)
    y = tf.matmul(ub, b, transpose_a=True) / tf.where(s > 0, s, 1.0)[:, None]
    # The sign of a singular pair is arbitrary: keep the side of larger mass.
    xp, xn, yp, yn = tf.nn.relu(x), tf.nn.relu(-x), tf.nn.relu(y), tf.nn.relu(-y)
    mp = tf.norm(xp, axis=0) * tf.norm(yp, axis=1)
    mn = tf.norm(xn, axis=0) * tf.norm(yn, axis=1)
    pos = mp >= mn
    xs, ys = tf.where(pos, xp, xn), tf.where(pos[:, None], yp, yn)
    scale = tf.sqrt(s * tf.where(pos, mp, mn))
    nx, ny = tf.norm(xs, axis=0), tf.norm(ys, axis=1)
    left = scale * xs / tf.where(nx > 0, nx, 1.0)
    right = (scale / tf.where(ny > 0, ny, 1.0))[:, None] * ys
    mean = tf.reduce_mean(a)
    return tf.where(left > 0, left, mean), tf.where(right > 0, right, mean)


def _fit(a, omega, max_iter, tol, k: int):
    """HALS from NNDSVDa: `(U, W, iterations, ||A - U W||^2, ||A||^2)`."""
    norm2 = tf.reduce_sum(a * a)
    u, w = _nndsvda(a, omega, k)
    ut, w = tf.ensure_shape(tf.transpose(u), [k, None]), tf.ensure_shape(w, [k, None])
    inf = tf.constant(np.inf, a.dtype)

    def go(it, ut, w, before, now):
        return tf.logical_and(it < max_iter, (it < 1) | (before - now >= tol * norm2))

    def step(it, ut, w, before, now):
        w = sweep(w, tf.matmul(ut, a), tf.matmul(ut, ut, transpose_b=True))
        wat, wwt = tf.matmul(w, a, transpose_b=True), tf.matmul(w, w, transpose_b=True)
        ut = sweep(ut, wat, wwt)
        return it + 1, ut, w, now, error(norm2, ut, wat, wwt)

    it, ut, w, _, err = tf.while_loop(
        go, step, (tf.constant(0), ut, w, inf, inf), parallel_iterations=1
    )
    return tf.transpose(ut), w, it, err, norm2


def _fits(problems, max_iter, tol, k: int):
    """`_fit` of each `(a, omega)` of `problems`, in one graph: the fits do
    not depend on each other, so TensorFlow runs their loops side by side."""
    return [_fit(a, omega, max_iter, tol, k) for a, omega in problems]


@functools.cache
def _compiled_fits(k: int, count: int):
    any2 = tf.TensorSpec([None, None], tf.float32)
    scalar = tf.TensorSpec([], tf.int32), tf.TensorSpec([], tf.float32)
    return traced(
        functools.partial(_fits, k=k),
        input_signature=[[(any2, any2)] * count, *scalar],
    )


def nmf(
    a: np.ndarray,
    k: int,
    seed: int = 0,
    max_iter: int = MAX_ITER,
    tol: float = TOL,
) -> Factorization:
    """Factorizes `a` >= 0 into k non-negative parts (see the module).

    Args:
      a: `(P, K)` non-negative, finite; P rows (patches), K columns (channels).
      k: the number of parts, `1 <= k <= min(P, K)`.
      seed: seeds the randomized SVD of the start.
      max_iter: the most HALS iterations.
      tol: stop once an iteration lowers the error by less than `tol` times
        `||A||^2`.

    Returns:
      A `Factorization`.

    Raises:
      ValueError: a negative or non-finite entry, or k out of range.
    """
    return nmf_many([a], k, [seed], max_iter, tol)[0]


def nmf_many(
    matrices, k: int, seeds, max_iter: int = MAX_ITER, tol: float = TOL
) -> list[Factorization]:
    """`nmf` of each matrix with its seed, the fits run concurrently (one
    compiled call); each result equals `nmf(matrices[i], k, seeds[i])`.

    Args:
      matrices: `(P_i, K_i)` non-negative, finite arrays.
      k: the number of parts of every fit.
      seeds: one seed per matrix.
      max_iter, tol: as for `nmf`.

    Raises:
      ValueError: as for `nmf`, for any of the matrices.
    """
    found, problems = [], []
    for a, seed in zip(matrices, seeds, strict=True):
        a = np.asarray(a, np.float32)
        if a.ndim != 2 or not 1 <= k <= min(a.shape):
            raise ValueError(f"nmf needs 1 <= k <= min(P, K); got k={k}, A {a.shape}")
        if not np.isfinite(a).all() or (a < 0).any():
            raise ValueError("nmf needs a finite, non-negative matrix")
        if not a.any():  # nothing to explain: unit directions, zero coefficients
            w = np.eye(k, a.shape[1], dtype=np.float32)
            found.append(Factorization(np.zeros((len(a), k), np.float32), w, 1.0, 0))
            continue
        width = min(k + _EXTRA, *a.shape)
        omega = np.random.default_rng(seed).standard_normal(
            (a.shape[1], width), np.float32
        )
        found.append(len(problems))
        problems.append((a, omega))
    if problems:
        fits = _compiled_fits(k, len(problems))(problems, int(max_iter), float(tol))
    return [f if isinstance(f, Factorization) else _ordered(fits[f]) for f in found]


def _ordered(fit) -> Factorization:
    """A `Factorization` from `_fit`'s tensors: W's rows at unit norm (their
    norms moved into U), concepts by total coefficient, largest first."""
    u, w, it, err, norm2 = (t.numpy() for t in fit)
    norms = np.sqrt((w * w).sum(axis=1))
    u = u * norms
    w = w / np.where(norms > 0, norms, 1.0)[:, None]
    order = np.argsort(-u.sum(axis=0), kind="stable")
    explained = 1.0 - max(float(err), 0.0) / float(norm2)
    return Factorization(
        u[:, order].astype(np.float32),
        w[order].astype(np.float32),
        explained,
        int(it),
    )
