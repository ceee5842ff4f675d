"""Hypothesis strategies for random problems at any scale (shared by the tests)."""

import numpy as np
from hypothesis import strategies as st

from angd_np import Problem, ula_steering


def complex_normal(rng, shape, scale=1.0):
    return scale * (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)) / np.sqrt(2)


@st.composite
def problems_and_points(draw, max_m=32, max_k=8, max_n=8, batch_ndim=(0, 2)):
    """(problem, W) with random sizes, batch shape and scales.

    Scales span the paper's (channel power gains ~1e-7, noise 1e-11 W, p_max 1 W, omega 1e4)
    to unit scale, and omega from 0 to 1e7.
    """
    m = draw(st.integers(1, max_m))
    k = draw(st.integers(1, max_k))
    n = draw(st.integers(0, max_n))
    batch = tuple(draw(st.lists(st.integers(1, 3), min_size=batch_ndim[0],
                                max_size=batch_ndim[1])))
    gain_exp = draw(st.floats(-8.0, 0.0))
    noise_exp = draw(st.floats(-12.0, 0.0))
    p_exp = draw(st.floats(-3.0, 1.0))
    omega = draw(st.one_of(st.just(0.0), st.floats(1e-3, 1e7)))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    H = complex_normal(rng, batch + (m, k), np.sqrt(10.0**gain_exp))
    A = ula_steering(rng.uniform(-np.pi / 2, np.pi / 2, n), m)
    p_max = 10.0**p_exp
    problem = Problem(H=H, A=A, noise_var=10.0**noise_exp, p_max=p_max, omega=omega)
    W = complex_normal(rng, batch + (m, k), np.sqrt(p_max / (m * k)))
    return problem, W
