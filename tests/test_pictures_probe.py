"""`pictures.probe`: the probe inputs as pictures."""

from __future__ import annotations

import numpy as np
import pytest

from tb_netviz.pictures import probe


def test_images_are_drawn_in_the_input_range():
    x = np.array([[[[0.0], [0.5]], [[1.0], [2.0]]]], np.float32)  # (1, 2, 2, 1)
    info, pictures = probe.record(x, (0.0, 1.0))
    assert info["drawn_as"] == "image" and info["shape"] == [1, 2, 2, 1]
    assert info["value_range"] == [0.0, 2.0]
    np.testing.assert_array_equal(pictures[0][..., 0], [[0, 128], [255, 255]])


def test_sequences_are_time_by_channel_in_their_own_range():
    x = np.arange(12, dtype=np.float32).reshape(1, 4, 3) - 2  # -2 .. 9
    info, pictures = probe.record(x, (0.0, 1.0))
    assert info["drawn_as"] == "sequence" and info["input_range"] == [-2.0, 9.0]
    assert pictures[0].shape == (4, 3)
    assert pictures[0][0, 0] == 0 and pictures[0][-1, -1] == 255


def test_other_ranks_are_refused():
    with pytest.raises(ValueError, match="cannot draw probe inputs of shape"):
        probe.record(np.zeros((1, 2, 2, 2, 2)), (0.0, 1.0))
