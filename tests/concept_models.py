"""Images made of planted parts, and a tiny CNN trained on them, for the
concept tests: the ground truth of every pixel is known.

Each 24x24x3 image is dim noise with 6x6 parts at random places, 2 pixels
apart: the two parts of its class (`CLASS_PARTS`: every part is in two
classes, so the model must tell each part from the others), and in half the
images a grey dot (the distractor, in no class). `labels` maps every pixel to
its part (0: background). The distractor gets no concept of its own at the
middle layer (its activations lie among the colour concepts', which the model
needs), so the tests ask for the three class parts only.
"""

from __future__ import annotations

import keras
import numpy as np

SIZE, PART = 24, 6
PARTS = ("red square", "green ring", "blue cross", "grey dot")  # ids 1..4
CLASS_PARTS = {0: (1, 2), 1: (2, 3), 2: (1, 3)}  # 1-based part ids
DISTRACTOR = 4


def _part(pid: int) -> np.ndarray:
    """The 6x6x3 picture of part `pid` (1-based)."""
    p = np.zeros((PART, PART, 3), np.float32)
    mask = np.zeros((PART, PART), bool)
    if pid == 1:
        mask[:] = True
    elif pid == 2:
        mask[[0, -1], :] = mask[:, [0, -1]] = True
    elif pid == 3:
        mask[2:4, :] = mask[:, 2:4] = True
    else:
        mask[1:5, 1:5] = True
    colour = {1: (1, 0.1, 0.1), 2: (0.1, 1, 0.1), 3: (0.2, 0.3, 1)}
    p[mask] = colour.get(pid, (0.6, 0.6, 0.6))
    return p


def parts_data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`(images float32 (n, 24, 24, 3), classes int64 (n,), labels int64
    (n, 24, 24))`, labels the part id of each pixel (the part's 6x6 box)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 0.15, (n, SIZE, SIZE, 3)).astype(np.float32)
    y = rng.integers(0, len(CLASS_PARTS), n)
    labels = np.zeros((n, SIZE, SIZE), np.int64)
    pictures = {pid: _part(pid) for pid in range(1, len(PARTS) + 1)}
    for i in range(n):
        chosen = list(CLASS_PARTS[int(y[i])])
        if rng.random() < 0.5:
            chosen.append(DISTRACTOR)
        placed: list[tuple[int, int]] = []
        for pid in chosen:
            while True:  # rejection: parts 2 pixels apart
                r, c = rng.integers(0, SIZE - PART + 1, 2)
                if all(
                    abs(r - a) >= PART + 2 or abs(c - b) >= PART + 2 for a, b in placed
                ):
                    break
            placed.append((r, c))
            patch = x[i, r : r + PART, c : c + PART]
            drawn = pictures[pid].any(axis=-1)
            patch[drawn] = pictures[pid][drawn]
            labels[i, r : r + PART, c : c + PART] = pid
    return x, y.astype(np.int64), labels


def parts_cnn(seed: int = 0) -> keras.Model:
    """conv16 - pool - conv32 (the middle layer) - pool - conv32 - gap - dense4."""
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input((SIZE, SIZE, 3)),
            keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="conv1"),
            keras.layers.MaxPooling2D(name="pool1"),
            keras.layers.Conv2D(32, 3, padding="same", activation="relu", name="conv2"),
            keras.layers.MaxPooling2D(name="pool2"),
            keras.layers.Conv2D(32, 3, padding="same", activation="relu", name="conv3"),
            keras.layers.GlobalAveragePooling2D(name="gap"),
            keras.layers.Dense(len(CLASS_PARTS), name="logits"),
        ],
        name="parts_cnn",
    )
    model.compile(
        keras.optimizers.Adam(3e-3),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def crop_parts(labels: np.ndarray, indices: np.ndarray, boxes: np.ndarray):
    """The part each crop shows: the part covering most of the box (0 when
    none), int64 `(k, n)` for exemplar `indices (k, n)` and `boxes (k, n, 4)`."""
    found = np.zeros(indices.shape, np.int64)
    for c, j in np.ndindex(indices.shape):
        y0, x0, y1, x1 = boxes[c, j]
        counts = np.bincount(
            labels[indices[c, j], y0:y1, x0:x1].ravel(), minlength=len(PARTS) + 1
        )
        counts[0] = 0
        found[c, j] = int(counts.argmax()) if counts.max() > 0 else 0
    return found
