"""A guided tour of autodiff-free complex gradients on the CSBF, in the terminal.

Run ``python scripts/gradient_tour.py``. The notebook
``docs/tutorials/01_complex_gradients.ipynb`` tells the same story with the derivation and a
plot. For each scenario preset the tour prints, at a random precoder W on the power sphere:

1. the CSBF f(W) (eq. 7a, ``angd_np.csbf``) and its gradient G = df/dW*
   (``angd_np.csbf_grad``), the steepest-ascent direction: df = 2 Re <G, dW>;
2. which convention agrees with finite differences. A candidate array, used as df/dW*,
   predicts the slope 2 Re <candidate, D> along a direction D; the tour compares those
   predictions with measured slopes along 8 random unit directions and prints
   ||predicted - measured|| / ||measured||: about 1e-11 for G, exactly 1 for PyTorch's 2G
   (every slope twice too large), above 1 for the conjugated arrays of autograd/JAX and
   df/dW;
3. the Taylor remainder r(h) = |f(W + hD) - f(W) - h 2 Re <candidate, D>| over
   1e-6 <= h/||W|| <= 1e-3, where it falls as h^2 for the right gradient (fitted slope 2 on
   log-log axes) and as h for a wrong one (slope 1). Larger h lets the curvature term h^2
   dominate every candidate, smaller h lets rounding dominate the right one;
4. the same check through the power projection of eq. (11) (``angd_np.project_power`` and
   ``angd_np.project_power_backward``), which is how ANGD's update sees the CSBF.
"""

import numpy as np

import angd_np as an

#: The range of h / ||W||_F over which the Taylor slopes are fitted (see step 3).
TAYLOR_RANGE = (1e-6, 1e-3)


def random_complex(shape, rng):
    return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


def unit(X):
    return X / np.linalg.norm(X)


def fd_slope(f, W, D, h=1e-4):
    """(d/dt) f(W + tD) at t = 0: fourth-order central difference with step h ||W||_F."""
    h = h * np.linalg.norm(W)
    return (8 * (f(W + h * D) - f(W - h * D))
            - (f(W + 2 * h * D) - f(W - 2 * h * D))) / (12 * h)


def predicted_slope(G, D):
    """The slope along D that a claimed G = df/dW* predicts: 2 Re <G, D>."""
    return 2 * np.real(np.vdot(G, D))


def candidates(G):
    """The arrays a student may hold for 'the gradient', first the right one."""
    return {
        "G = df/dW*  (angd_np)": G,
        "2G          (PyTorch .grad)": 2 * G,
        "conj(2G)    (autograd, JAX)": np.conj(2 * G),
        "conj(G)     (df/dW)": np.conj(G),
    }


def convention_errors(f, W, arrays, rng, n_directions=8):
    """name -> ||predicted - measured|| / ||measured|| over random unit directions."""
    directions = [unit(random_complex(W.shape, rng)) for _ in range(n_directions)]
    measured = np.array([fd_slope(f, W, D) for D in directions])
    out = {}
    for name, G in arrays.items():
        predicted = np.array([predicted_slope(G, D) for D in directions])
        out[name] = float(np.linalg.norm(predicted - measured) / np.linalg.norm(measured))
    return out


def taylor_slopes(f, W, arrays, rng, per_decade=2):
    """Taylor remainders over ``TAYLOR_RANGE`` along one random direction, and fitted slopes.

    Returns
    -------
    steps : ndarray of float64, shape (S,)
        h, absolute, decreasing.
    remainders : dict name -> ndarray of shape (S,)
    slopes : dict name -> float
        Least-squares slope of log r against log h (2: right gradient, 1: wrong).
    """
    lo, hi = np.log10(TAYLOR_RANGE)
    steps = np.linalg.norm(W) * np.logspace(hi, lo, round((hi - lo) * per_decade) + 1)
    D = unit(random_complex(W.shape, rng))
    f0 = f(W)
    remainders, slopes = {}, {}
    for name, G in arrays.items():
        s = predicted_slope(G, D)
        r = np.array([abs(f(W + h * D) - f0 - h * s) for h in steps])
        remainders[name] = r
        slopes[name] = float(np.polyfit(np.log10(steps), np.log10(r), 1)[0])
    return steps, remainders, slopes


def random_instance(preset, rng):
    """One instance of a preset and a random precoder on its power sphere."""
    problem = an.Scenario.preset(preset).draw(1, rng)[0]  # one instance, no batch axis
    W = an.project_power(3 * random_complex((problem.n_tx, problem.n_users), rng),
                         problem.p_max)
    return problem, W


def main(seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    for preset in ("paper", "balanced"):
        problem, W = random_instance(preset, rng)

        def f(X, p=problem):
            return float(an.csbf(X, p))

        G = an.csbf_grad(W, problem)
        print(f"\n=== preset {preset!r}: M={problem.n_tx}, K={problem.n_users}, "
              f"omega={problem.omega:g}")
        print(f"f(W) = {f(W):.6g}  (sum rate {float(an.sum_rate(W, problem)):.4g} bit/s/Hz + "
              f"omega * sensing {float(an.sensing_gain(W, problem)):.4g} W)")
        print(f"||G|| = {np.linalg.norm(G):.4g}   (G = df/dW*: steepest ascent, "
              "df = 2 Re <G, dW>)")

        print("\nStep 2: which array, used as df/dW*, predicts the measured slopes?")
        print("  relative error = ||predicted - measured|| / ||measured||, 8 random directions")
        print(f"  {'candidate':<30}{'relative error':>16}")
        for name, err in convention_errors(f, W, candidates(G), rng).items():
            print(f"  {name:<30}{err:>16.2e}")

        print(f"\nStep 3: Taylor remainder r(h) along one direction, "
              f"{TAYLOR_RANGE[0]:g} <= h/||W|| <= {TAYLOR_RANGE[1]:g}")
        arrays = {k: v for k, v in candidates(G).items() if "JAX" not in k}
        steps, rem, slopes = taylor_slopes(f, W, arrays, rng)
        names = list(arrays)
        print(f"  {'h':>9}" + "".join(f"{n.split()[0]:>14}" for n in names))
        for i, h in enumerate(steps):
            print(f"  {h:9.1e}" + "".join(f"{rem[n][i]:14.3e}" for n in names))
        print(f"  {'slope':>9}" + "".join(f"{slopes[n]:14.2f}" for n in names)
              + "   (2: right, 1: wrong)")

        print("\nStep 4: through the projection of eq. (11), U outside the power ball")
        U = 2.0 * W

        def g(X, p=problem):
            return float(an.csbf(an.project_power(X, p.p_max), p))

        GU = an.project_power_backward(U, problem.p_max,
                                       an.csbf_grad(an.project_power(U, problem.p_max), problem))
        err = convention_errors(g, U, {"G_U": GU}, rng)["G_U"]
        radial = predicted_slope(GU, unit(U)) / (2 * np.linalg.norm(GU))
        print(f"  relative error {err:.2e}; slope along U itself / largest slope {radial:.1e} "
              "(zero: scaling U does not move the projected point)")


if __name__ == "__main__":
    main()
