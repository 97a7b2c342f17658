"""Which concept of one extraction is which of another: stable ids across steps.

Concepts are compared by the cosine similarity of their directions (rows of
W, non-negative, so the cosine lies in [0, 1]); the pairing is the one of
maximum total cosine (the assignment problem, solved by the Hungarian
algorithm with potentials, O(n^3) for n concepts: Kuhn 1955, Munkres 1957).
A pair whose cosine is below `threshold` is no match: the new concept is
*new* (it gets a fresh id) and the old one is *gone*.
"""

from __future__ import annotations

import dataclasses

import numpy as np

THRESHOLD = 0.5  # below this cosine, two concepts are not the same one


@dataclasses.dataclass(frozen=True)
class Matching:
    """How the concepts of a new extraction map onto the previous ones.

    Attributes:
      ids: int64 `(k_new,)`, the id of each new concept: its partner's id, or
        a fresh one (from `next_id` up) when it is new.
      partners: int64 `(k_new,)`, the index of its partner among the previous
        concepts, -1 when new.
      cosines: float32 `(k_new,)`, the cosine with the assigned previous
        concept (also for pairs below the threshold; 0 when there was none).
      new: bool `(k_new,)`, no partner at or above the threshold.
      gone: int64, the ids of the previous concepts left without a partner.
      next_id: the id after the largest one handed out (pass it to the next
        `match`).
    """

    ids: np.ndarray
    partners: np.ndarray
    cosines: np.ndarray
    new: np.ndarray
    gone: np.ndarray
    next_id: int


def hungarian(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The assignment of rows to columns of maximum total score.

    Args:
      scores: `(n, m)` finite scores.

    Returns:
      `(rows, cols)` int64, `min(n, m)` pairs, sorted by row: each row and
      each column is used at most once.
    """
    s = np.asarray(scores, np.float64)
    if s.ndim != 2 or not np.isfinite(s).all():
        raise ValueError(f"hungarian needs a finite (n, m) matrix, got {s.shape}")
    transposed = s.shape[0] > s.shape[1]
    cost = -(s.T if transposed else s)  # n <= m rows; maximum -> minimum
    n, m = cost.shape
    # Potentials u (rows), v (columns); way[j] is the column before j on the
    # augmenting path; owner[j] the row (1-based, 0 = none) holding column j.
    u, v = np.zeros(n + 1), np.zeros(m + 1)
    owner = np.zeros(m + 1, np.int64)
    way = np.zeros(m + 1, np.int64)
    for i in range(1, n + 1):
        owner[0], j0 = i, 0
        minv = np.full(m + 1, np.inf)
        used = np.zeros(m + 1, bool)
        while owner[j0] != 0:
            used[j0] = True
            i0 = owner[j0]
            free = ~used[1:]
            reduced = cost[i0 - 1] - u[i0] - v[1:]
            better = free & (reduced < minv[1:])
            minv[1:][better] = reduced[better]
            way[1:][better] = j0
            cand = np.where(free, minv[1:], np.inf)
            j1 = int(np.argmin(cand)) + 1
            delta = cand[j1 - 1]
            u[owner[used]] += delta
            v[used] -= delta
            minv[1:][free] -= delta
            j0 = j1
        while j0:  # flip the augmenting path
            j1 = way[j0]
            owner[j0] = owner[j1]
            j0 = j1
    cols = np.nonzero(owner[1:])[0]
    rows = owner[1:][cols] - 1
    if transposed:
        rows, cols = cols, rows
    order = np.argsort(rows)
    return rows[order].astype(np.int64), cols[order].astype(np.int64)


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine similarity of every row of `a` `(n, K)` with every row of `b`
    `(m, K)`, float64 `(n, m)`; a zero row is 0 with everything."""
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(
            f"concept banks must be (k, K) with the same K, got {a.shape}, {b.shape}"
        )
    na = np.linalg.norm(a, axis=1, keepdims=True)
    nb = np.linalg.norm(b, axis=1, keepdims=True)
    return (a / np.where(na > 0, na, 1)) @ (b / np.where(nb > 0, nb, 1)).T


def match(
    previous: np.ndarray,
    new: np.ndarray,
    threshold: float = THRESHOLD,
    previous_ids: np.ndarray | None = None,
    next_id: int | None = None,
) -> Matching:
    """Gives the concepts of a new extraction the ids of the previous ones.

    Args:
      previous: the previous directions W `(k_prev, K)` (k_prev may be 0).
      new: the new directions `(k_new, K)`.
      threshold: the least cosine of a match, in [0, 1].
      previous_ids: the previous concepts' ids `(k_prev,)`; default
        `0..k_prev-1`.
      next_id: the first fresh id; default one more than the largest
        previous id (0 when there is none).

    Returns:
      A `Matching`: assignment of maximum total cosine, pairs below the
      threshold split into *new* and *gone*.

    Raises:
      ValueError: banks of different widths, ids of the wrong length, a
        threshold outside [0, 1].
    """
    previous = np.asarray(previous, np.float64).reshape(-1, np.shape(new)[-1])
    sim = cosines(previous, new)
    if not 0 <= threshold <= 1:
        raise ValueError(f"threshold must be in [0, 1], got {threshold}")
    ids_before = (
        np.arange(len(previous), dtype=np.int64)
        if previous_ids is None
        else np.asarray(previous_ids, np.int64).reshape(-1)
    )
    if len(ids_before) != len(previous):
        raise ValueError(
            f"previous_ids has {len(ids_before)} ids for {len(previous)} concepts"
        )
    if next_id is None:
        next_id = int(ids_before.max()) + 1 if len(ids_before) else 0
    k = sim.shape[1]
    partners = np.full(k, -1, np.int64)
    found = np.zeros(k, np.float32)
    if sim.size:
        rows, cols = hungarian(sim)
        found[cols] = sim[rows, cols]
        keep = sim[rows, cols] >= threshold
        partners[cols[keep]] = rows[keep]
    is_new = partners < 0
    ids = np.zeros(k, np.int64)
    ids[~is_new] = ids_before[partners[~is_new]]
    ids[is_new] = next_id + np.arange(int(is_new.sum()))
    gone = np.setdiff1d(np.arange(len(previous)), partners[~is_new])
    return Matching(
        ids=ids.astype(np.int64),
        partners=partners,
        cosines=found,
        new=is_new,
        gone=ids_before[gone],
        next_id=int(next_id + is_new.sum()),
    )
