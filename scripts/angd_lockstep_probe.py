"""Would ANGD run faster with B instances in lock-step? A timing prototype (not the package).

    OPENBLAS_NUM_THREADS=1 taskset -c 1 python scripts/angd_lockstep_probe.py

The engine (``angd_np/solvers/_angd_engine.py``) solves one instance at a time with about 35
NumPy calls per iteration. This prototype runs the same iteration of ANGD-FCN (paper preset,
float32 networks, hidden 128, M = 16, K = 2, T = 500) for B instances at once: stacked
``matmul`` for the networks, the objective vectorised over instances (checked here against
the engine's ``Objective``), one pass of Adam's square root, division and ``axpy`` over all
B networks, ``?ger`` per instance. The call overhead is then shared by B instances; the
passes over the parameters are not, and B networks' moments (4 × 132 KB each) leave the
core's L2 cache. The networks are random (same sizes as the package's), so only the time is
compared, not the iterates.

Measured here (2 cores, one pinned, idle; session 7; minimum of 5 or 3 runs), per instance,
against the engine's one instance (``an.solve(..., threads=1)``) in the same run:

    engine (one at a time)  40.0 ms
    lock-step B = 1         51.1 ms
    lock-step B = 2         41.2 ms
    lock-step B = 4         38.4 ms
    lock-step B = 8         36.1 ms
    lock-step B = 16        36.7 ms

At best 1.11x: not enough to repay an engine with per-instance masks for early stopping, step
refusal and the pilot. Why so little: the Adam passes cost per parameter whatever B is
(sqrt 7.6, division 6.8 µs per instance at B = 8), and ``axpy`` doubles to 6.7 µs per
instance once B networks no longer fit in L2.
"""

import math
import time

import numpy as np
from scipy.linalg import blas

import angd_np as an
from angd_np.solvers._angd_adam import _scalars, renormalisation_period


def run(prob, B, iters=500, hidden=128, seed=0):
    """Seconds for ``iters`` lock-step iterations of B instances, and their best f (B,)."""
    H = prob.H[:B]
    A = prob.A if prob.A.ndim == 2 else prob.A[0]
    M, K = H.shape[1:]
    N = A.shape[-1]
    d, h, dt = 2 * M * K, hidden, np.float32
    shapes = [(d + 1, h), (h + 1, h), (h + 1, d)]  # biases as last rows, as _angd_nets
    offs = np.cumsum([0] + [r * c for r, c in shapes]).tolist()
    P = offs[-1]
    rng = np.random.default_rng(seed)
    params = (rng.standard_normal((B, P)) * 0.05).astype(dt)
    m, v, T = (np.zeros((B, P), dt) for _ in range(3))

    def blocks(flat):
        return [flat[:, offs[i]:offs[i + 1]].reshape(B, *shapes[i]) for i in range(3)]

    Wl, ml, vl = blocks(params), blocks(m), blocks(v)
    # [x, 1 | z1, 1, z2, 1 | δ1, δ2, α ∂f/∂y] per instance, as FCN._vectors
    vec = np.ones((B, (d + 1) + 2 * (h + 1) + (2 * h + d)), dt)
    sq = np.empty_like(vec)
    a, b = d + 1, d + 1 + 2 * (h + 1)
    u0, hid, dl = vec[:, :a], vec[:, a:b], vec[:, b:]
    u1, u2 = hid[:, :h + 1], hid[:, h + 1:]
    d1, d2, dy = dl[:, :h], dl[:, h:2 * h], dl[:, 2 * h:]
    z1, z2 = u1[:, :h], u2[:, :h]
    masks = np.empty_like(hid)
    mask1, mask2 = masks[:, :h], masks[:, h + 1:2 * h + 1]
    y = np.empty((B, d), dt)
    sq_u0, sq_hid, sq_dl = sq[:, :a], sq[:, a:b], sq[:, b:]
    factors = [(u0, d1, sq_u0, sq_dl[:, :h]), (u1, d2, sq_hid[:, :h + 1], sq_dl[:, h:2 * h]),
               (u2, dy, sq_hid[:, h + 1:], sq_dl[:, 2 * h:])]
    gers = [(ml[i][j].T, vl[i][j].T, *(x[j] for x in factors[i]))
            for j in range(B) for i in range(3)]
    Bm = np.concatenate([H, np.broadcast_to(A * math.sqrt(prob.omega), (B, M, N))], axis=2)
    Bc = np.conj(np.swapaxes(Bm, 1, 2)).copy()
    obj = _objective(Bm, Bc, K, prob.noise_var)
    W = np.full((B, M, K), 1e-3 + 0j)
    V, G = np.empty_like(W), np.empty_like(W)
    Wf, Vf = (X.reshape(B, -1).view(float) for X in (W, V))
    Gf = G.reshape(B, -1).view(float)
    best = obj(W, G)
    key = (0.9, 0.999, 1e-4, 1e-8, renormalisation_period(0.9, 0.999))
    tmp = np.empty_like(Gf)
    matmul, ger = np.matmul, blas.sger
    t0 = time.perf_counter()
    for t in range(1, iters + 1):
        # forward: x = vec(G_t) raw, y = Φ(x); V = P(W + y)
        np.copyto(u0[:, :d], Gf, casting="same_kind")
        matmul(u0[:, None, :], Wl[0], out=z1[:, None, :])
        np.maximum(z1, 0, out=z1)
        matmul(u1[:, None, :], Wl[1], out=z2[:, None, :])
        np.maximum(z2, 0, out=z2)
        matmul(u2[:, None, :], Wl[2], out=y[:, None, :])
        np.add(Wf, y, out=Vf)
        pw = np.einsum("bi,bi->b", Vf, Vf)
        c = np.sqrt(prob.p_max / np.maximum(pw, prob.p_max))
        Vf *= c[:, None]
        f = obj(V, G)
        np.maximum(best, f, out=best)
        # backward: α ∂f/∂y = 2 c α (G_V - ρ V), then the two hidden layers
        alpha, sigma, e, A_t, renorm = _scalars(*key, t)
        rho = np.einsum("bi,bi->b", Vf, Gf) / (pw * c * c)
        np.multiply(Vf, -rho[:, None], out=tmp)
        tmp += Gf
        np.multiply(tmp, (2.0 * c * alpha)[:, None], out=dy, casting="same_kind")
        np.greater(hid, 0, out=masks)
        matmul(Wl[2][:, :-1], dy[:, :, None], out=d2[:, :, None])
        d2 *= mask2
        matmul(Wl[1][:, :-1], d2[:, :, None], out=d1[:, :, None])
        d1 *= mask1
        # Adam with scaled moments, rank-one updates per instance (as _angd_adam)
        np.multiply(vec, vec, out=sq)
        for mT, vT, u, dd, u_sq, d_sq in gers:
            ger(1.0, dd, u, a=mT, overwrite_a=1)
            ger(sigma * sigma, d_sq, u_sq, a=vT, overwrite_a=1)
        np.sqrt(v, out=T)
        T += e
        np.divide(m, T, out=T)
        blas.saxpy(T.reshape(-1), params.reshape(-1), a=A_t)
        if renorm is not None:
            m *= renorm[0]
            v *= renorm[1]
        W, V, Wf, Vf = V, W, Vf, Wf
    return time.perf_counter() - t0, best


def _objective(Bm, Bc, K, noise):
    """f (B,) and G = ∂f/∂V* (B, M, K) of B instances: the engine's Objective, vectorised."""
    B, _, KN = Bm.shape
    Z = np.empty((B, KN, K), complex)
    Zr = Z.view(float)
    sqz = np.empty((B, KN, 2 * K))
    offd = 1.0 - np.eye(K)
    LN2 = math.log(2)
    matmul = np.matmul

    def obj(V, G):
        matmul(Bc, V, out=Z)
        np.square(Zr, out=sqz)
        Pw = sqz[..., ::2] + sqz[..., 1::2]  # |Z|², (B, K+N, K)
        PK = Pw[:, :K]
        sig = np.diagonal(PK, axis1=1, axis2=2)
        interf = (PK * offd).sum(-1) + noise  # off the diagonal, as the engine
        tot = interf + sig
        rate = np.log1p(sig / interf).sum(-1) / LN2
        sens = Pw[:, K:].sum((1, 2))
        wt = (1.0 / (tot * LN2))[:, :, None] - offd * (1.0 / (interf * LN2))[:, :, None]
        Z[:, :K] *= wt
        matmul(Bm, Z, out=G)
        return rate + sens
    return obj


def _check_objective(prob, B=4):
    """The vectorised objective equals the engine's on random V (relative 1e-15)."""
    from angd_np.solvers._angd_engine import Objective

    H = prob.H[:B]
    A = prob.A if prob.A.ndim == 2 else prob.A[0]
    M, K = H.shape[1:]
    N = A.shape[-1]
    Bm = np.concatenate([H, np.broadcast_to(A * math.sqrt(prob.omega), (B, M, N))], axis=2)
    Bc = np.conj(np.swapaxes(Bm, 1, 2)).copy()
    rng = np.random.default_rng(1)
    V = (rng.standard_normal((B, M, K)) + 1j * rng.standard_normal((B, M, K))) * 0.1
    G = np.empty_like(V)
    f = _objective(Bm, Bc, K, prob.noise_var)(V, G)
    one = Objective(M, K, N, prob.noise_var, prob.omega)
    for b in range(B):
        one.set_instance(H[b], A)
        g = np.empty((M, K), complex)
        fb = one(V[b], g)
        assert abs(f[b] - fb) <= 1e-12 * abs(fb) and np.allclose(g, G[b], rtol=1e-12, atol=0)


if __name__ == "__main__":
    prob = an.Scenario.preset("paper").draw(16, rng=0)
    _check_objective(prob)
    np.seterr(all="ignore")
    an.solve(prob[:1], "angd-fcn", rng=1, threads=1)
    ts = []
    for _ in range(5):
        t0 = time.perf_counter()
        an.solve(prob[:1], "angd-fcn", rng=1, threads=1)
        ts.append(time.perf_counter() - t0)
    print(f"engine (one at a time): {1e3 * min(ts):.1f} ms per instance")
    for B in (1, 2, 4, 8, 16):
        best = min(run(prob, B)[0] for _ in range(3))
        print(f"lock-step B = {B}: {1e3 * best / B:.1f} ms per instance")
