"""The growth check that the hostile-input tests rely on can tell linear from quadratic."""

import pytest

from tests.scaling import assert_linear


def quadratic(n: int) -> int:
    return sum(1 for i in range(n) for j in range(n))


def linear(n: int) -> int:
    return sum(1 for i in range(n * 300))


def test_linear_passes():
    assert_linear(linear, 300)


def test_quadratic_fails():
    with pytest.raises(AssertionError, match="not linear"):
        assert_linear(quadratic, 300)
