"""The GELU kernel against the exact formula with math.erf."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from metarlm.kernels.activations import gelu

values = arrays(np.float32, st.integers(0, 64),
                elements=st.floats(-30, 30, width=32, allow_subnormal=False))


@settings(deadline=None)  # the first example loads the compiled kernel
@given(values)
def test_gelu_is_x_times_the_normal_cdf(x: np.ndarray) -> None:
    want = np.array([0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in x.tolist()])
    got = gelu(x)
    assert got.dtype == np.float32 and got.shape == x.shape
    np.testing.assert_allclose(got, want, atol=3e-6, rtol=1e-6)


def test_gelu_at_its_landmarks() -> None:
    got = gelu(np.array([0.0, -40.0, 40.0, 1.0], np.float32))
    assert got[0] == 0.0 and abs(got[1]) < 1e-30 and got[2] == 40.0
    assert math.isclose(float(got[3]), 0.8413447, rel_tol=1e-6)
