"""The frame rules' dimension lookup: positions by id, -1 for an absent or out-of-range id, the
same answer from the dense table and from the binary search used for sparse ids."""
from __future__ import annotations

import numpy as np
import pytest

from aquamind_assets.rules.frame_dims import ById, take


@pytest.mark.parametrize("ids", [np.array([5, 3, 9, 1]), np.array([5, 3, 10**12, 1])],
                         ids=["dense", "sparse"])
def test_positions_by_id(ids):
    by_id = ById(ids)
    assert by_id.dense == (ids.max() < 10**6)
    query = np.array([3, 1, 9, 4, 0, -7, 11, 10**13, 5], np.int64)
    expected = np.array([list(ids).index(q) if q in ids else -1 for q in query])
    assert by_id.at(query).tolist() == expected.tolist()


def test_empty_dimension_finds_nothing():
    assert ById(np.array([], np.int64)).at(np.array([1, 2])).tolist() == [-1, -1]


def test_take_gives_missing_for_absent_rows():
    values = np.array([10, 20, 30])
    assert take(values, np.array([2, -1, 0]), -5).tolist() == [30, -5, 10]
    assert take(np.array([], np.int64), np.array([-1, -1]), 7).tolist() == [7, 7]
