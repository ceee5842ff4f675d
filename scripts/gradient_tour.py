"""A guided tour of autodiff-free complex gradients on the CSBF.

Run ``python scripts/gradient_tour.py``. It prints, step by step:

1. the CSBF and its analytic conjugate gradient G = df/dW* at a random precoder;
2. why the convention matters: G, 2G (PyTorch's real-composite .grad) and conj(G) checked
   against central finite differences along random complex directions;
3. the Taylor remainder |f(W + hD) - f(W) - h 2Re<G, D>| as h halves: it falls by 4 (order 2)
   for the right gradient and by 2 (order 1) for a wrong one;
4. the same through the power projection of eq. (11), with its backward pass.
"""

import numpy as np

import angd_np as an
from angd_np.gradcheck import check_gradient, directional_derivative, taylor_remainder


def main(seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    for preset in ("paper", "balanced"):
        problem = an.Scenario.preset(preset).draw(1, rng)[0]  # one instance, no batch axis
        M, K = problem.n_tx, problem.n_users
        W = rng.standard_normal((M, K)) + 1j * rng.standard_normal((M, K))
        W = an.project_power(3 * W, problem.p_max)  # a random point on the power sphere
        f = lambda X, p=problem: float(an.csbf(X, p))  # noqa: E731
        G = an.csbf_grad(W, problem)
        print(f"\n=== preset {preset!r}: M={M}, K={K}, omega={problem.omega:g}")
        print(f"f(W) = {f(W):.6g}  (sum rate {float(an.sum_rate(W, problem)):.4g} bit/s/Hz + "
              f"omega * sensing {float(an.sensing_gain(W, problem)):.4g} W)")
        print(f"||G|| = {np.linalg.norm(G):.4g}   (G = df/dW*, the steepest-ascent direction)")

        print("\nStep 2: which gradient convention agrees with finite differences?")
        print(f"  {'candidate':<22}{'max rel. error':>16}")
        for name, cand in (("G = df/dW*", G), ("2G (torch .grad)", 2 * G), ("conj(G)", G.conj())):
            err = check_gradient(f, cand, W, n_directions=6, rng=1).max_error
            print(f"  {name:<22}{err:>16.2e}")

        print("\nStep 3: Taylor remainder along one direction "
              "(order 2: G is right; order 1: it is not)")
        steps = np.linalg.norm(W) * 2.0 ** -np.arange(4, 14)
        steps, rem, orders = taylor_remainder(f, G, W, steps=steps, rng=2)
        _, rem_bad, orders_bad = taylor_remainder(f, 1.1 * G, W, steps=steps, rng=2)
        print(f"  {'h':>10}{'remainder (G)':>16}{'order':>8}{'remainder (1.1G)':>19}{'order':>8}")
        for i, h in enumerate(steps):
            o = f"{orders[i - 1]:8.2f}" if i else " " * 8
            ob = f"{orders_bad[i - 1]:8.2f}" if i else " " * 8
            print(f"  {h:10.3g}{rem[i]:16.3e}{o}{rem_bad[i]:19.3e}{ob}")

        print("\nStep 4: through the projection of eq. (11) (U outside the ball)")
        U = 2.0 * W
        g = lambda X, p=problem: float(an.csbf(an.project_power(X, p.p_max), p))  # noqa: E731
        GU = an.project_power_backward(U, problem.p_max,
                                       an.csbf_grad(an.project_power(U, problem.p_max), problem))
        err = check_gradient(g, GU, U, n_directions=6, rng=3).max_error
        radial = directional_derivative(GU, U / np.linalg.norm(U))
        print(f"  max rel. error {err:.2e}; slope along U itself {radial:.1e} "
              "(zero: scaling U does not move the projected point)")


if __name__ == "__main__":
    main()
