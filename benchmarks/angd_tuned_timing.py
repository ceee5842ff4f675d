"""Time per instance of the tuned ANGD presets, past and present, on an idle machine.

Balanced preset, M = 16, K = 2, the 200 held-out instances of the quality study (trials
3000..3199 of seed 0), one batch on every core (ANGD's process pool), best of two runs.

    python benchmarks/angd_tuned_timing.py
"""

import os
import time

import numpy as np

import angd_np as an

OLD = dict(variant="tuned", init="random", iters=500, eta_w=0.1, eta_phi=1e-3, size_scale="none",
           precondition="none", pilot=0)  # the first study's
# round 1 of the quality study
S4 = dict(variant="tuned", iters=1500, eta_phi=1.2e-4, precondition="none", pilot=0)
CASES = [("first tuned ANGD-FCN (T 500)", "angd-fcn", OLD),
         ("round-1 tuned ANGD-FCN (T 1500)", "angd-fcn", S4),
         ("tuned ANGD-FCN (metric, pilot 2 x 100 + T 400)", "angd-fcn", dict(variant="tuned")),
         ("first tuned ANGD-CNN (T 500)", "angd-cnn", OLD),
         ("round-1 tuned ANGD-CNN (T 1500)", "angd-cnn", S4),
         ("tuned ANGD-CNN (metric, pilot 2 x 100 + T 400)", "angd-cnn", dict(variant="tuned")),
         ("lbfgs from ZF (T 600)", "lbfgs", dict(init="zf", iters=600))]

def main():
    trials = np.arange(3000, 3200)
    problem = an.Scenario.preset("balanced").draw_trials(0, trials)
    print(f"{os.cpu_count()} cores; load {os.getloadavg()}")
    for label, method, options in CASES:
        extra = dict(return_state=False) if method.startswith("angd") else {}
        times = []
        for _ in range(2):
            rng = [an.trial_generator(0, int(t), 2) for t in trials]
            t0 = time.perf_counter()
            an.solve(problem, method, rng=rng, **options, **extra)
            times.append(time.perf_counter() - t0)
        print(f"{label}: {1000 * min(times) / len(trials):.1f} ms per instance", flush=True)
    print(f"load at the end {os.getloadavg()}")


if __name__ == "__main__":
    main()
