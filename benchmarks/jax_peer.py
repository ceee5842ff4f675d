"""ANGD-FCN written in JAX, as a speed peer of the NumPy engine (never a dependency).

    pip install jax jaxlib          # by hand, CPU; this script only
    python benchmarks/jax_peer.py [--batch 1000] [--repeats 3] [--check 8] [--kernels blas,numpy]

The same algorithm as ``angd_np.solvers.angd`` with the paper preset (raw gradient input,
raw output, η_W = 1, η_φ = 1e-4, Adam's (0.9, 0.999), ε = 1e-8, T = 500, hidden 128, the
best iterate kept), in two forms: float64 throughout (``jax_enable_x64``), and float32
networks (parameters, moments, forward and backward) with the objective, W and the
projection in float64, the split of ``net_dtype="float32"``. jit + lax.scan over the
iterations + vmap over instances; Adam written by hand; the φ-gradient is a vjp of the
network with the cotangent ∂f/∂y = 2 s c (vec G_V - ρ vec V) of the engine's docstring
(``angd_np/solvers/_angd_engine.py``), G_V from the analytic gradient of the CSBF.

What it prints, from ONE run with NumPy and JAX measured interleaved (so that a busy machine
slows both alike), each dtype against the same dtype:

- the agreement: best f of JAX against the package on ``--check`` instances drawn with the
  same W_0 and networks (median and worst relative difference);
- one instance: median ms over ``--repeats`` × 3 solves, and the ratio JAX time / NumPy
  time (> 1: NumPy faster);
- ``--batch`` instances: instances per second, NumPy on its process pool (one process per
  core, pool start-up included), JAX as vmap over groups of ``--group`` instances (per
  dtype: the fastest group size measured) on its own thread pool, median over
  ``--repeats``, and the ratio NumPy / JAX throughput.

Without jax installed it prints a message saying so and exits with status 0.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

import angd_np as an
from angd_np import nn
from angd_np.solvers.iterative import initial_W, instance_streams

SIZE = dict(iters=500, hidden=128)


def build(M, K, N, *, hidden=128, iters=500, net_dtype="float64", eta_w=1.0, eta_phi=1e-4,
          betas=(0.9, 0.999), eps=1e-8):
    """Jitted ``solve_one`` and ``solve_batch`` (vmap) for M×K problems with N targets.

    Both take (H, A, noise_var, p_max, omega, W0, params) with params the six arrays of
    ``nn.fcn(2MK, hidden).params`` (leading instance axis for the batch; H, W0 too) and
    return (best_f, best_W, history).
    """
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    nd = jnp.float32 if net_dtype == "float32" else jnp.float64
    L = M * K
    ln2 = np.log(2.0)
    off = 1.0 - jnp.eye(K)
    b1, b2 = betas

    def net(p, x):
        h = jax.nn.relu(x @ p[0] + p[1])
        h = jax.nn.relu(h @ p[2] + p[3])
        return h @ p[4] + p[5]

    def csbf_and_grad(V, H, A, sigma2, omega):
        S = H.conj().T @ V
        P = S.real**2 + S.imag**2
        interf = (P * off).sum(axis=1) + sigma2
        signal = jnp.diagonal(P)
        total = interf + signal
        rate = jnp.log1p(signal / interf).sum() / ln2
        AV = A.conj().T @ V
        sensing = omega * (AV.real**2 + AV.imag**2).sum()
        weight = (1.0 / total)[:, None] - off * (1.0 / interf)[:, None]
        G = H @ (S * weight / ln2) + omega * (A @ AV)
        return rate + sensing, G

    def solve_one(H, A, sigma2, p_max, omega, W0, params):
        f0, G0 = csbf_and_grad(W0, H, A, sigma2, omega)
        params = tuple(q.astype(nd) for q in params)
        zeros = tuple(jnp.zeros_like(q) for q in params)

        def step(carry, t):
            W, G, p, m, v, best_f, best_W = carry
            x = jnp.concatenate([G.real.reshape(-1), G.imag.reshape(-1)]).astype(nd)
            y, vjp = jax.vjp(lambda q: net(q, x), p)
            y = y.astype(jnp.float64)
            U = W + eta_w * (y[:L] + 1j * y[L:]).reshape(M, K)
            pw = (U.real**2 + U.imag**2).sum()
            scaled = pw > p_max
            c = jnp.where(scaled, jnp.sqrt(p_max / pw), 1.0)
            V = c * U
            f, GV = csbf_and_grad(V, H, A, sigma2, omega)
            rho = jnp.where(scaled, (V.real * GV.real + V.imag * GV.imag).sum() / (c * c * pw),
                            0.0)
            GU = 2.0 * eta_w * c * (GV - rho * V)
            dy = jnp.concatenate([GU.real.reshape(-1), GU.imag.reshape(-1)]).astype(nd)
            (g,) = vjp(dy)
            k = t + 1
            m = tuple(b1 * mi + (1 - b1) * gi for mi, gi in zip(m, g, strict=True))
            v = tuple(b2 * vi + (1 - b2) * gi * gi for vi, gi in zip(v, g, strict=True))
            c1, c2 = (1 - b1**k).astype(nd), (1 - b2**k).astype(nd)
            p = tuple(pi + eta_phi * (mi / c1) / (jnp.sqrt(vi / c2) + eps)
                      for pi, mi, vi in zip(p, m, v, strict=True))
            better = f > best_f
            best_f = jnp.where(better, f, best_f)
            best_W = jnp.where(better, V, best_W)
            return (V, GV, p, m, v, best_f, best_W), f

        init = (W0, G0, params, zeros, zeros, f0, W0)
        carry, history = jax.lax.scan(step, init, jnp.arange(iters, dtype=jnp.float64))
        return carry[5], carry[6], history

    one = jax.jit(solve_one)
    batch = jax.jit(jax.vmap(solve_one, in_axes=(0, None, None, None, None, 0, 0)))
    return one, batch


def inputs(problem, seed, hidden=SIZE["hidden"]):
    """W_0 and the networks the package draws for ``problem`` with ``rng=seed``."""
    n, M, K = problem.H.shape
    streams = instance_streams(seed, n)
    W0 = initial_W("random", problem, streams)
    nets = [nn.fcn(2 * M * K, hidden, rng=s[1], init="torch").params for s in streams]
    params = tuple(np.stack([p[i] for p in nets]) for i in range(6))
    return W0, params


def _timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--group", default="float64:50,float32:125",
                        help="JAX vmap group size per dtype (the best of 25/50/125/250 "
                             "measured on 250 instances here)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--check", type=int, default=8)
    parser.add_argument("--dtypes", default="float64,float32")
    parser.add_argument("--kernels", default="auto",
                        help="the package's adam_kernel values to time, comma-separated "
                             "(auto, blas, numpy); JAX is timed once per dtype")
    args = parser.parse_args()
    try:
        import jax
    except ImportError:
        print("jax is not installed: the JAX peer is skipped (pip install jax jaxlib)")
        return 0
    import jax.numpy as jnp

    cores = os.cpu_count()
    print(f"# {cores} cores; load {os.getloadavg()}; NumPy {np.__version__}, JAX "
          f"{jax.__version__}; ANGD-FCN paper preset, M=16 K=2 N=4 T=500 hidden 128")
    scenario = an.Scenario.preset("paper")
    one_problem = scenario.draw(1, rng=0)
    check_problem = scenario.draw(args.check, rng=1)
    big = scenario.draw(args.batch, rng=2)
    M, K, N = 16, 2, one_problem.n_targets
    dtypes = args.dtypes.split(",")
    kernels = args.kernels.split(",")
    peers, rows = {}, {}
    for dt in dtypes:
        one, batch = build(M, K, N, net_dtype=dt, **SIZE)
        peers[dt] = (one, batch)
        # Agreement with the package (and jit warm-up).
        W0, params = inputs(check_problem, 5)
        H = jnp.asarray(check_problem.H)
        best_f = np.asarray(batch(H, jnp.asarray(check_problem.A), check_problem.noise_var,
                                  check_problem.p_max, check_problem.omega, W0, params)[0])
        for kern in kernels:
            ref = an.solve(check_problem, "angd-fcn", rng=5, net_dtype=dt, threads=1,
                           adam_kernel=kern).csbf
            rel = np.abs(best_f - ref) / np.abs(ref)
            print(f"{dt}, adam_kernel={kern}: best f, JAX vs NumPy on {args.check} instances:"
                  f" median relative difference {np.median(rel):.1e}, worst {rel.max():.1e}")
        rows[dt] = {"jax_one": [], "jax_batch": []}
        for kern in kernels:
            rows[dt][f"np_one {kern}"], rows[dt][f"np_batch {kern}"] = [], []

    W0_1, params_1 = inputs(one_problem, 1)
    one_args = (jnp.asarray(one_problem.H[0]), jnp.asarray(one_problem.A),
                one_problem.noise_var, one_problem.p_max, one_problem.omega, W0_1[0],
                tuple(p[0] for p in params_1))
    W0_b, params_b = inputs(big, 3)
    sizes = {k: int(v) for k, v in (item.split(":") for item in args.group.split(","))}
    groups = {dt: [slice(i, min(i + sizes[dt], args.batch))
                   for i in range(0, args.batch, sizes[dt])] for dt in dtypes}
    for dt in dtypes:  # warm-up of both single-instance paths and of the batch shapes
        peers[dt][0](*one_args)[0].block_until_ready()
        for kern in kernels:
            an.solve(one_problem, "angd-fcn", rng=1, net_dtype=dt, threads=1,
                     adam_kernel=kern)
        for g in {(s.stop - s.start) for s in groups[dt]}:
            peers[dt][1](jnp.asarray(big.H[:g]), jnp.asarray(big.A), big.noise_var,
                         big.p_max, big.omega, W0_b[:g],
                         tuple(p[:g] for p in params_b))[0].block_until_ready()

    def jax_batch(dt):
        outs = [peers[dt][1](jnp.asarray(big.H[s]), jnp.asarray(big.A), big.noise_var,
                             big.p_max, big.omega, W0_b[s], tuple(p[s] for p in params_b))[0]
                for s in groups[dt]]
        for o in outs:
            o.block_until_ready()

    for r in range(args.repeats):
        for dt in dtypes:
            for _ in range(3):
                for kern in kernels:
                    rows[dt][f"np_one {kern}"].append(_timed(lambda dt=dt, kern=kern: an.solve(
                        one_problem, "angd-fcn", rng=1, net_dtype=dt, threads=1,
                        adam_kernel=kern)))
                rows[dt]["jax_one"].append(_timed(
                    lambda dt=dt: peers[dt][0](*one_args)[0].block_until_ready()))
        for dt in dtypes:
            for kern in kernels:
                rows[dt][f"np_batch {kern}"].append(_timed(lambda dt=dt, kern=kern: an.solve(
                    big, "angd-fcn", rng=3, net_dtype=dt, return_state=False,
                    adam_kernel=kern)))
            rows[dt]["jax_batch"].append(_timed(lambda dt=dt: jax_batch(dt)))
        print(f"repeat {r + 1}/{args.repeats} done; load {os.getloadavg()}", flush=True)

    print(f"\n| nets | adam_kernel | one instance NumPy (ms) | JAX (ms) | NumPy speed / JAX | "
          f"{args.batch} batched NumPy (inst/s) | JAX (inst/s, group) | NumPy / JAX |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for dt in dtypes:
        med = {k: statistics.median(v) for k, v in rows[dt].items()}
        for kern in kernels:
            one, bat = med[f"np_one {kern}"], med[f"np_batch {kern}"]
            print(f"| {dt} | {kern} | {1e3 * one:.1f} | {1e3 * med['jax_one']:.1f} | "
                  f"{med['jax_one'] / one:.2f}x | {args.batch / bat:.1f} | "
                  f"{args.batch / med['jax_batch']:.1f} ({sizes[dt]}) | "
                  f"{med['jax_batch'] / bat:.2f}x |")
    print(f"\n# {cores} cores; load at the end {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
