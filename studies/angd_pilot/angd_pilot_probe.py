"""Which pilot starts avoid the dropped-user trap of the balanced scenario at high power?

    python studies/angd_pilot/angd_pilot_probe.py 60     # 60 held-out instances per power, ~2 min

The tuned preset's pilot runs 100 iterations from ZF and from the sensing beam and keeps the
chain with the better best CSBF. At 32-40 dBm in the balanced scenario (M = 10, fig. 4) it
often keeps the sensing-beam chain, which ends with a user dropped. This probe runs the pilot
by hand (P iterations from each start with the instance's network draw, the chain with the
best best_f continued for the remaining iterations through ``state=``) with other start sets,
on trials 5000.. of seed 0 (never used by the quality study), and prints each variant's gap
to the better of the reference and CCPA. Results: ``angd_pilot_probe_results.md``.
A probe, not a tuning: the paper scenario is not covered, so no preset is changed by it.
"""
import sys
import time

import numpy as np

import angd_np as an
from angd_np import Scenario, trial_generator

KEYS = ("W", "best_W", "best_f", "ref_f", "since", "active", "failed", "net_params",
        "adam_m", "adam_v", "adam_t")

def scale_to_power(W, p_max):
    """Each instance of W (n, M, K) scaled by one positive factor to ||W||_F^2 = p_max."""
    return W * np.sqrt(p_max / an.power(W))[..., None, None]


def zf_precoder(prob):
    """Zero forcing at full power, as the ``zf`` solver returns it."""
    return an.solve(prob, "zf").W


def sensing_beam(prob):
    """All the power along the principal eigenvector u of A A^H, in the column of the user
    with the largest |h_k^H u| (the tuned pilot's second start)."""
    _, vecs = np.linalg.eigh(prob.A @ np.conj(np.swapaxes(prob.A, -1, -2)))
    u = np.broadcast_to(vecs[..., :, -1], prob.batch_shape + (prob.n_tx,))
    best = np.argmax(np.abs(np.einsum("...mk,...m->...k", np.conj(prob.H), u)), axis=-1)
    onehot = np.arange(prob.n_users) == best[..., None]
    return np.sqrt(prob.p_max) * u[..., :, None] * onehot[..., None, :]


def pilot_run(prob, trials, starts, P=100, T=400, seed=0):
    chains = []
    for W0 in starts:
        rngs = [trial_generator(seed, int(t), 1) for t in trials]
        r = an.solve(prob, "angd-fcn", rng=rngs, variant="tuned", pilot=0, init=W0, iters=P,
                     tol=None, threads=1, workers=1)
        chains.append(r)
    bf = np.stack([c.state["best_f"] for c in chains])
    pick = np.argmax(bf, axis=0)
    n = prob.n_instances
    st = {k: np.stack([np.asarray(c.state[k]) for c in chains])[pick, np.arange(n)] for k in KEYS}
    st["method"] = chains[0].state["method"]
    r = an.solve(prob, "angd-fcn", variant="tuned", pilot=0, state=st, iters=T, threads=1,
                 workers=1)
    return r.csbf, pick

if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    trials = np.arange(5000, 5000 + n)
    for dbm in (30.0, 32.0, 36.0, 40.0):
        sc = Scenario.preset("balanced", n_tx=10, p_max_dbm=dbm)
        prob = sc.draw_trials(0, trials)
        rngs = [trial_generator(0, int(t), 1) for t in trials]
        t0 = time.time()
        ref = an.solve(prob, "reference", rng=rngs).csbf
        cc = an.solve(prob, "ccpa", rng=[trial_generator(0, int(t), 1) for t in trials]).csbf
        best = np.maximum(ref, cc)
        zf, beam = zf_precoder(prob), sensing_beam(prob)
        mix = scale_to_power(zf + beam, prob.p_max)
        pkg = an.solve(prob, "angd-fcn", rng=[trial_generator(0, int(t), 1) for t in trials],
                       variant="tuned", threads=1, workers=1).csbf
        out = {"package tuned (ZF|beam)": (pkg, None)}
        out["manual ZF|beam"] = pilot_run(prob, trials, [zf, beam])
        out["ZF|beam|ZF+beam"] = pilot_run(prob, trials, [zf, beam, mix])
        out["ZF|ZF+beam"] = pilot_run(prob, trials, [zf, mix])
        print(f"== {dbm} dBm, {n} instances ({time.time()-t0:.0f} s)")
        for name, (f, pick) in out.items():
            gap = (best - f) / np.abs(best)
            extra = "" if pick is None else f" picks {np.bincount(pick, minlength=3).tolist()}"
            print(f"  {name:26s} gap mean {100 * gap.mean():.3f}%  median "
                  f"{100 * np.median(gap):.3f}%  >1%: {(gap > 0.01).sum()}{extra}")
        print(f"  manual == package: {np.array_equal(out['manual ZF|beam'][0], pkg)}", flush=True)
