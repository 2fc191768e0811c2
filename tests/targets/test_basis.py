"""Tests for alloc.targets.basis (blend): blending basis columns."""

from __future__ import annotations

import pandas as pd
import pytest

from alloc.errors import InvalidParameterError, InvalidProblemError
from alloc.targets import blend


def test_blend_rejects_missing_columns_and_bad_weights():
    frame = pd.DataFrame({"a": [1, 2]})
    assert blend(frame, {"a": 1}).tolist() == pytest.approx([1 / 3, 2 / 3])
    with pytest.raises(InvalidProblemError, match="'b'"):
        blend(frame, {"b": 1})
    with pytest.raises(InvalidParameterError, match="'weights'"):
        blend(frame, {"a": -1})
