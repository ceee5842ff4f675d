"""Why ANGD's sum rate is low in the paper's units: conditioning, measured.

    python studies/conditioning/conditioning_check.py

With omega = 1e4 (watts) the CSBF is ~99.97% sensing; along the ridge of near-optimal
sensing beams the sum rate is a 1e-3 perturbation, so first-order methods with steps sized
for the sensing term climb it slowly. This prints the mean sum rate, sensing gain and CSBF of
30 paper-preset instances (M = 10) for CCPA, the reference, and PGD/ANGD-FCN at growing T and
from two starts.
"""

import angd_np as an

N_TRIALS, SEED = 30, 0


def main() -> None:
    problem = an.Scenario.preset("paper", n_tx=10).draw_trials(SEED, range(N_TRIALS))
    runs = [
        ("ccpa", "ccpa", {}),
        ("reference", "reference", {}),
        ("angd-fcn T=500", "angd-fcn", {}),
        ("angd-fcn T=500, ZF start", "angd-fcn", {"init": "zf"}),
        ("angd-fcn T=3000", "angd-fcn", {"iters": 3000}),
        ("pgd T=500", "pgd", {}),
        ("pgd T=500, ZF start", "pgd", {"init": "zf"}),
        ("pgd T=5000", "pgd", {"iters": 5000}),
        ("pgd T=50000", "pgd", {"iters": 50000}),
    ]
    print(f"{'method':<26}{'sum rate':>10}{'sensing (W)':>13}{'CSBF':>11}")
    for label, method, options in runs:
        rngs = [an.trial_generator(SEED, i, 1) for i in range(N_TRIALS)]
        r = an.solve(problem, method, rng=rngs, **options)
        print(f"{label:<26}{r.sum_rate.mean():>10.2f}{r.sensing.mean():>13.5f}"
              f"{r.csbf.mean():>11.2f}")


if __name__ == "__main__":
    main()
