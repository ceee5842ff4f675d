r"""ANGD's hot loop: one instance at a time, a few dozen NumPy and BLAS calls per iteration.

Calls per iteration (counted in the code, FCN, BLAS Adam kernel, the projection active): 35
for the paper variant (15 to propose and evaluate W_{t+1}, 9 to back-propagate, 11 for Adam's
step); 43 for the tuned variant's options but ``step_input`` (the channel metric's column
products, the RMS input scale and the step scale of ``output_scale="w"``), 45 with it (the
previous output fed back, and scaled by the projection's factor). At ~1 µs of overhead each,
the calls, not the arithmetic, set the time of an iteration at the paper's size.

One iteration (eq. 9 with the step of Algorithm 1 line 4, the projection of eq. 11, eq. 10)
for an instance with its own network :math:`\Phi_\varphi`:

.. math::

    x_t = \mathrm{vec}(G_t) / \nu_t, \qquad
    U = W_t + s_t\, \Phi_\varphi(x_t), \qquad
    W_{t+1} = V = P(U) = c\,U, \qquad
    \varphi \leftarrow \mathrm{Adam}(\varphi, \nabla_\varphi f(W_{t+1}))

with :math:`G_t = \partial f/\partial W^*` at :math:`W_t`, vec the interleaved real view
(Re, Im of each entry of the row-major M×K array), :math:`\nu_t` = 1 (raw input) or
:math:`\|G_t\|_F/\sqrt{2MK}` (unit RMS), :math:`s_t = \eta_W \cdot` the output scale, and
:math:`c = \min(1, \sqrt{p_{max}}/\|U\|_F)`. The network output y (2MK reals) reads as the
M×K complex array in the same interleaved layout.

The objective and its gradient at V (one instance, eq. 7a; ``objective.py`` derives it)
-------------------------------------------------------------------------------------------
With :math:`B = [H, \sqrt{\omega} A]` (M × (K+N)) and :math:`Z = B^H V` ((K+N) × K):
rows k < K hold :math:`s_{ki} = h_k^H v_i`, rows K + n hold :math:`\sqrt\omega\, a_n^H v_i`.
With :math:`P_{ki} = |s_{ki}|^2`,

.. math::

    I_k = \sum_{i \ne k} P_{ki} + \sigma^2, \quad T_k = I_k + P_{kk}, \quad
    f = \sum_k \frac{\mathrm{log1p}(P_{kk}/I_k)}{\ln 2} + \sum_{n,i} |Z_{K+n,i}|^2,

    G = \partial f/\partial V^* = B Y, \quad Y_{ki} = s_{ki}\Big(\frac{1}{T_k} -
    \frac{[i\ne k]}{I_k}\Big)\frac{1}{\ln 2}\ (k < K), \quad Y_{K+n,i} = Z_{K+n,i},

that is :math:`G = H C + \omega A A^H V` as in ``objective.csbf_and_grad`` (the interference
is summed off the diagonal, never as T − signal, which would cancel at high SINR).

The gradient for φ (checked by finite differences in the tests)
---------------------------------------------------------------
W_t, x_t and s_t are held fixed (the input is data, as in the paper's back-propagation).
With :math:`G_V` the gradient above at V, the projection's backward pass (``objective.
project_power_backward``) gives :math:`G_U = c\,(G_V - \rho V)` where the projection acts,
:math:`\rho = \mathrm{Re}\langle V, G_V\rangle/\|V\|^2` (the same as with U: the radial part is
scale-free, and :math:`\|V\|^2 = c^2\|U\|^2`), and :math:`G_U = G_V` otherwise. Since
:math:`df = 2\,\mathrm{Re}\sum \overline{G_U}\, dU` and :math:`dU = s_t\, dy` (complex view),

.. math:: \partial f / \partial y = 2 s_t\, \mathrm{vec}(G_U) = 2 s_t c\, (\mathrm{vec}(G_V)
    - \rho\, \mathrm{vec}(V)),

and the network's backward pass (``_angd_nets``) carries it, times Adam's α, to every
parameter; Adam (``_angd_adam``) ascends. One objective evaluation per iteration: f(V) and
G_V serve both the φ-update of step t and the input of step t + 1.

Options that change the step (none of them in the paper)
---------------------------------------------------------
- ``size_scale="sqrt"``: η_W and η_φ are multiplied by min(1, sqrt(32 / MK)) (:func:`rates`).
- ``precondition="channel"``: the network sees and moves W in a metric of the channel
  (:func:`channel_metric`): :math:`x_t = \mathrm{vec}(\mathcal S G_t)/\nu_t` and
  :math:`U = W_t + s_t\, \mathcal S\, \Phi_\varphi(x_t)`, where :math:`\mathcal S` maps
  column j by a fixed Hermitian :math:`M \times M` matrix :math:`S_j`. It is ANGD on
  :math:`W = \mathcal S Q` in the coordinates Q (:math:`\partial f/\partial Q^* =
  \mathcal S G`), so the network's gradient gains one more :math:`\mathcal S`:
  :math:`\partial f/\partial y = 2 s_t c\, \mathrm{vec}(\mathcal S(G_V - \rho V))`
  (:math:`df = 2\mathrm{Re}\sum_j G_{U,j}^H S_j\, dy_j` and :math:`S_j^H = S_j`).

- ``step_input=κ`` > 0 (FCN): :math:`x_t = [\mathrm{vec}(\mathcal S G_t)/\nu_t,\ \kappa
  c_{t-1} y_{t-1}]`, the network's previous output as the projection scaled it, beside the
  gradient (:math:`y_{-1} = 0`). Scaled by c, it stays bounded (the step it stands for lies in
  the power ball) where the raw output, whose radial excess the projection removes, grows
  without bound over long carried runs. It is data, as :math:`G_t` is: the gradient for φ
  is the one above.

Precision. The objective, W, V, G, the projection, the history and the best iterate are
float64 always; with ``net_dtype="float32"`` only the network's parameters, moments,
activations and back-propagated vectors are float32 (x and ∂f/∂y are rounded into them).

Bookkeeping is the same as :class:`.iterative.BestTracker`'s, per instance in Python
scalars: the best iterate (W_0 counts), f per iteration (NaN after a stop), early stopping
by ``tol``/``patience``, and a non-finite f stopping the instance at its last finite iterate.
"""

from __future__ import annotations

import math

import numpy as np

from . import _angd_adam, _angd_nets
from ._angd_adam import ScaledAdam

__all__ = ["Objective", "ChunkRunner", "solve_chunk", "empty_rows", "rates", "SIZE_REF",
           "channel_metric", "draw_key"]

_LN2 = math.log(2.0)
_INV_LN2 = 1.0 / _LN2


class Objective:
    """f(V) and G = ∂f/∂V* of one instance (module docstring), into fixed buffers.

    The K×K algebra runs on Python floats: for a handful of numbers, one ``tolist`` and
    scalar arithmetic cost less than the NumPy calls (~1 µs each) they replace.

    Parameters
    ----------
    M, K, N : int
    noise_var, omega : float
    """

    def __init__(self, M, K, N, noise_var, omega):
        self.K, self.noise_var, self.sqrt_omega = K, float(noise_var), math.sqrt(omega)
        self.B = np.empty((M, K + N), np.complex128)
        self.Bc = np.empty((K + N, M), np.complex128)
        self.Z = np.empty((K + N, K), np.complex128)
        self._sq = np.empty((K + N, 2 * K))
        self._Zr = self.Z.view(np.float64)
        self._S = self.Z[:K]
        self._weight = np.empty((K, K))

    def set_instance(self, H, A):
        """Load one instance: H (M, K), A (M, N)."""
        K = self.K
        self.B[:, :K] = H
        np.multiply(A, self.sqrt_omega, out=self.B[:, K:])
        np.conjugate(self.B.T, out=self.Bc)

    def __call__(self, V, G):
        """f(V) as a float; writes ∂f/∂V* into G (M, K) complex128."""
        K, noise = self.K, self.noise_var
        np.dot(self.Bc, V, out=self.Z)
        rows = np.square(self._Zr, out=self._sq).tolist()
        sensing = sum(map(sum, rows[K:]))  # Σ |√ω a_n^H v_i|²
        rate = 0.0
        weight = []
        for k in range(K):
            r, j = rows[k], 2 * k  # row k: Re² and Im² of s_k1, s_k2, ...
            signal = r[j] + r[j + 1]
            interf = sum(r[:j]) + sum(r[j + 2:]) + noise  # off the diagonal: no cancellation
            rate += math.log1p(signal / interf)
            w_t = _INV_LN2 / (interf + signal)
            row = [w_t - _INV_LN2 / interf] * K
            row[k] = w_t
            weight.append(row)
        S = self._S
        self._weight[...] = weight
        S *= self._weight  # Y[:K] = S ∘ weight, in Z
        np.dot(self.B, self.Z, out=G)
        return rate / _LN2 + sensing


#: M·K at which ``size_scale="sqrt"`` leaves η_W and η_φ as given (M = 16, K = 2).
SIZE_REF = 32


def rates(opts, M, K):
    """(η_W, η_φ) used for an M×K problem: as given, or with ``size_scale="sqrt"`` both
    times min(1, sqrt(SIZE_REF / MK)) (smaller steps for larger problems, never larger)."""
    if opts.size_scale == "none":
        return opts.eta_w, opts.eta_phi
    factor = min(1.0, math.sqrt(SIZE_REF / (M * K)))
    return opts.eta_w * factor, opts.eta_phi * factor


def channel_metric(H, p_max, noise_var):
    r"""The per-column metric of ``precondition="channel"``: :math:`S_j = (I + \varrho\,
    H_{-j} H_{-j}^H)^{-1/2}`, :math:`\varrho = p_{max}/(K \sigma^2)`.

    Why. Near a good precoder every user's SINR is high, and then the CSBF is stiff in one
    kind of direction only: leaking beam j towards another user k adds interference
    :math:`|h_k^H w_j|^2` to a denominator that is about :math:`\sigma^2`, a curvature of
    about :math:`\|h_k\|^2/\sigma^2` against the :math:`K\|h\|^2/p_{max}` of changing w_j's
    own gain (1/SNR smaller at the paper's 110 dB of p_max/σ²). A step the stiff directions
    tolerate is far too short for the others: at M, K = 64, 8 plain gradient steps from zero
    forcing lower the CSBF at every length down to 1e-4 of ||W||. :math:`S_j` shrinks each
    direction in the span of the other users' channels by
    :math:`(1 + \varrho \sigma_i^2)^{-1/2}` (σ_i their singular values) and leaves the rest
    alone, so :math:`S_j^2` is about the inverse of that curvature (the channel's part of a
    Newton step; the MMSE precoder's matrix with user j left out). It depends on the
    instance only, is computed once per solve, and S_j = I for K = 1.

    Parameters
    ----------
    H : ndarray of complex128, shape (..., M, K)
        One instance or a stack of them.
    p_max, noise_var : float
        Power budget and noise power, watts.

    Returns
    -------
    ndarray of complex128, shape (..., K, M, M)
        S_j in ``[..., j, :, :]``, Hermitian. A stack is computed by one LAPACK/BLAS call per
        column j for all its instances (each instance's S is the same, bit for bit, as
        computed alone: the stacked calls run the same routine on each matrix).
    """
    *lead, M, K = H.shape
    rho = p_max / (K * noise_var)
    S = np.empty((*lead, K, M, M), np.complex128)
    eye = np.eye(M)
    for j in range(K):
        others = np.delete(H, j, axis=-1)  # H_{-j}, (..., M, K - 1)
        # S_j = I - Q diag(1 - (1 + rho sigma_i^2)^(-1/2)) Q^H from the thin SVD Q Σ V^H:
        # exact on span(H_{-j}), the identity on its complement, no M×M eigenproblem.
        Q, sv, _ = np.linalg.svd(others, full_matrices=False)
        shrink = 1.0 - 1.0 / np.sqrt(1.0 + rho * sv**2)
        S[..., j, :, :] = eye - (Q * shrink[..., None, :]) @ np.conj(np.swapaxes(Q, -1, -2))
    return S


class ChunkRunner:
    """Solves instances one after another with buffers allocated once per chunk.

    Parameters
    ----------
    network : {"fcn", "cnn"}
    M, K, N : int
    opts : ANGDOptions
    noise_var, p_max, omega : float

    Attributes
    ----------
    G : ndarray of complex128, shape (M, K)
        The gradient buffer: :meth:`propose` reads G_t from it and writes G_V into it.
    propose, backprop : callables
        One iteration's two halves (built in :meth:`_build` as closures over the buffers,
        which saves the attribute look-ups of every call of an iteration).
    """

    def __init__(self, network, M, K, N, opts, noise_var, p_max, omega):
        self.network, self.M, self.K, self.opts = network, M, K, opts
        self.eta_w, self.eta_phi = rates(opts, M, K)
        dt = np.dtype(opts.net_dtype)
        P = _angd_nets.n_params(network, M, K, opts.hidden, opts.channels, opts.kernel_size,
                                opts.step_input)
        self.params = np.zeros(P, dt)
        self.adam = ScaledAdam(self.params, self.eta_phi, opts.betas)
        self.net = _angd_nets.build(network, M, K, opts, self.params, self.adam.T)
        kernels = None if opts.adam_kernel == "numpy" else _angd_adam.blas_kernels(dt)
        if kernels is None and opts.adam_kernel == "blas":
            raise ImportError("adam_kernel='blas' needs scipy's BLAS (pip install "
                              "'angd_np[cvx]'); adam_kernel='numpy' runs without it")
        if kernels is not None:  # the dense layers' moments by rank-one BLAS updates
            self.adam.use_rank1(*self.net.rank1_layers(), kernels,
                                split=_angd_adam.blas_may_thread())
            self.net.write_outer = False
        self.obj = Objective(M, K, N, noise_var, omega)
        self.p_max, self.noise_var = p_max, noise_var
        # precondition="channel": the metric S (K, M, M), set per instance in start()
        self.S = np.empty((K, M, M), np.complex128) if opts.precondition == "channel" else None
        self.G = np.empty((M, K), np.complex128)
        self._kept = None  # a drawn network kept for the next row (start's draw="keep")
        # Three iterate buffers (W_t, W_{t+1}, best so far) and their real views: the best
        # iterate is kept by reference, never copied.
        self.bufs = [np.empty((M, K), np.complex128) for _ in range(3)]
        self.views = [b.reshape(-1).view(np.float64) for b in self.bufs]
        out = opts.output_scale
        fixed = {"none": 1.0, "power": math.sqrt(p_max / (M * K))}.get(out) if isinstance(
            out, str) else float(out)
        self.propose, self.backprop = self._build(p_max, None if fixed is None else
                                                  self.eta_w * fixed)

    def _build(self, p_max, fixed_s):
        """The closures ``propose(W, Wf, V, Vf)`` and ``backprop(V, Vf, s, c, pw, alpha)``."""
        net, obj, G, opts = self.net, self.obj, self.G, self.opts
        forward, backward, x, dy = net.forward, net.backward, net.x, net.dy
        step_in = None
        kappa_y = opts.step_input
        if kappa_y:  # x = [scaled gradient, κ c_{t-1} y_{t-1}]
            d = net.d
            x, step_in = x[:d], x[d:]
        Gf = G.reshape(-1).view(np.float64)
        yc = net.y.view(np.complex64 if net.y.dtype == np.float32 else np.complex128)
        yc = yc.reshape(G.shape)
        tmp = np.empty(Gf.size)
        tmpc = tmp.view(np.complex128).reshape(G.shape)
        dyc = dy.view(np.complex64 if dy.dtype == np.float32 else np.complex128)
        dyc = dyc.reshape(G.shape)
        rms, d = opts.input_scale == "rms", Gf.size
        # precondition: S_j applied to each column j by one matmul on (K, M, 1) copies of
        # the columns; SG holds S G_t, the network's input before scaling.
        S = self.S
        if S is not None:
            K, M = S.shape[:2]
            col_in = np.empty((K, M, 1), np.complex128)
            col_out = np.empty((K, M, 1), np.complex128)
            cols_in, Su = col_in[..., 0], col_out[..., 0].T  # Su: S X as an (M, K) view
            SG = np.empty_like(G)
            src = SG.reshape(-1).view(np.float64)
        else:
            src = Gf
        matmul = np.matmul

        def metric(X):
            """Su = S X column by column (X: (M, K) complex)."""
            np.copyto(cols_in, X.T)
            matmul(S, col_in, out=col_out)
        w_scale = self.eta_w / math.sqrt(G.size)
        dot, multiply, copyto, sqrt = np.dot, np.multiply, np.copyto, math.sqrt
        c128 = np.complex128

        def propose(W, Wf, V, Vf):
            """V = W_{t+1} = P(W + s Φ(x)) from W_t and G_t (in G); f(V) and G_V into G.

            Returns (f, s, c, ||U||²): the output scale and the projection's factor.
            """
            # x_t = vec(G_t) / ν_t (or vec(S G_t) / ν_t), rounded into the network's dtype.
            if S is not None:
                metric(G)
                copyto(SG, Su)
            if rms:
                norm2 = float(dot(src, src))
                multiply(src, sqrt(d / norm2) if norm2 > 0 else 1.0, out=x,
                         casting="same_kind")
            else:
                copyto(x, src, casting="same_kind")
            if step_in is not None:  # κ c y of the last step (module docstring), before y is
                # overwritten
                multiply(net.y, kappa_y, out=step_in)
            forward()
            if S is not None:
                metric(yc)
                update = Su
            else:
                update = yc
            # U = W_t + s_t y (or + s_t S y), built in V's buffer, then V = c U.
            s = fixed_s if fixed_s is not None else w_scale * sqrt(float(dot(Wf, Wf)))
            if s == 1.0:
                np.add(update, W, out=V, dtype=c128)
            else:
                multiply(update, s, out=V, dtype=c128)
                V += W
            pw = float(dot(Vf, Vf))
            c = sqrt(p_max / pw) if pw > p_max else 1.0
            if c != 1.0:
                V *= c  # (in-place operators cost ~0.2 µs less than ufunc calls with out=)
                if step_in is not None:  # y as the projection scaled it: the next input
                    net.y *= c
            return obj(V, G), s, c, pw

        def backprop(V, Vf, s, c, pw, alpha):
            """Write alpha · ∇_φ f(V) into the optimiser's workspace, given G_V in G."""
            # ∂f/∂y = 2 s c (vec G_V - ρ vec V) (module docstring), times alpha.
            nonlocal tmp
            kappa = 2.0 * s * c * alpha
            if c != 1.0:
                rho = float(dot(Vf, Gf)) / (c * c * pw)
                multiply(Vf, -rho, out=tmp)
                tmp += Gf
                G_U, G_Uf = tmpc, tmp
            else:
                G_U, G_Uf = G, Gf
            if S is not None:  # ∂f/∂y = 2 s c vec(S G_U)
                metric(G_U)
                multiply(Su, kappa, out=dyc, casting="same_kind")
            else:
                multiply(G_Uf, kappa, out=dy, casting="same_kind")
            backward()

        return propose, backprop

    def start(self, H, A, stream=None, saved=None, S=None, draw="new"):
        """Load an instance: a fresh network drawn from ``stream``, or a state row; ``S``
        its channel metric if computed already (``precondition="channel"``). ``draw``:
        "new" draws the network, "keep" draws it and keeps a copy, "kept" loads that copy
        instead of drawing (the caller's promise: ``stream`` would draw the same numbers)."""
        self.obj.set_instance(H, A)
        if self.S is not None:
            self.S[...] = channel_metric(H, self.p_max, self.noise_var) if S is None else S
        if self.opts.step_input:  # y_{t-1}: none before the first step, else the state's
            self.net.y[...] = 0.0 if saved is None else saved["net_out"]
        if saved is None:
            if draw == "kept":
                self.params[...] = self._kept
            else:
                _angd_nets.init_from_stream(self.net, self.network, self.M, self.K, self.opts,
                                            stream)
                if draw == "keep":
                    self._kept = self.params.copy()
            self.adam.load(0.0, 0.0, 0)
        else:
            self.params[...] = saved["net_params"]
            self.adam.load(saved["adam_m"], saved["adam_v"], saved["adam_t"])

    def run(self, H, A, W0, row, stream=None, saved=None, S=None, draw="new"):
        """Solve one instance; writes its results into ``row`` (a dict of writable arrays).

        ``stream``: the network's initialisation stream (a fresh start); ``saved``: the
        instance's state row (continuing); ``S``, ``draw``: as in :meth:`start`.
        """
        opts, adam, bufs, views = self.opts, self.adam, self.bufs, self.views
        propose, backprop, step = self.propose, self.backprop, adam.step
        self.start(H, A, stream, saved, S, draw)
        bufs[0][...] = W0
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            f = self.obj(bufs[0], self.G)
        iw = ib = 0  # buffers of W_t and of the best iterate
        if saved is None:
            best_f = ref_f = f
            since, active, failed = 0, True, False
        else:
            best_f, ref_f = float(saved["best_f"]), float(saved["ref_f"])
            since, active = int(saved["since"]), bool(saved["active"])
            failed = bool(saved["failed"])
            bufs[1][...], ib = saved["best_W"], 1
        history, tol, patience = row["history"], opts.tol, opts.patience
        nit = 0
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for t in range(opts.iters if active else 0):
                iv = 3 - iw - ib if iw != ib else (iw + 1) % 3  # a free buffer for V
                V, Vf = bufs[iv], views[iv]
                f, s, c, pw = propose(bufs[iw], views[iw], V, Vf)
                nit = t + 1
                if not math.isfinite(f):  # diverged: stop at the last finite iterate
                    failed, active, nit = True, False, t
                    break
                backprop(V, Vf, s, c, pw, adam.alpha)
                step()
                history[t] = f
                if f > best_f:
                    best_f, ib = f, iv
                iw = iv  # V is W_{t+1}
                if tol is not None:
                    if best_f > ref_f + tol * abs(ref_f):
                        ref_f, since = best_f, 0
                    else:
                        since += 1
                    if since >= patience:
                        active = False
                        break
        row["W"][...], row["best_W"][...] = bufs[iw], bufs[ib]
        row["best_f"][...], row["ref_f"][...], row["since"][...] = best_f, ref_f, since
        row["active"][...], row["failed"][...], row["nit"][...] = active, failed, nit
        if "net_params" in row:
            row["net_params"][...] = self.params
            row["adam_m"][...], row["adam_v"][...] = adam.m, adam.v
        if "net_out" in row:
            row["net_out"][...] = self.net.y
        row["adam_t"][...] = adam.t


def empty_rows(C, M, K, opts, P):
    """The arrays :func:`solve_chunk` fills for C instances (its docstring), P network
    parameters each."""
    out = {"history": np.full((C, opts.iters), np.nan), "nit": np.zeros(C, np.int64),
           "W": np.empty((C, M, K), np.complex128),
           "best_W": np.empty((C, M, K), np.complex128), "best_f": np.empty(C),
           "ref_f": np.empty(C), "since": np.zeros(C, np.int64),
           "active": np.zeros(C, bool), "failed": np.zeros(C, bool),
           "adam_t": np.zeros(C, np.int64)}
    if opts.return_state:
        for key in ("net_params", "adam_m", "adam_v"):
            out[key] = np.empty((C, P), np.dtype(opts.net_dtype))
        if opts.step_input:
            out["net_out"] = np.empty((C, 2 * M * K), np.dtype(opts.net_dtype))
    return out


def solve_chunk(task):
    """Solve a chunk of instances (a task, picklable, so that a worker process can run it).

    ``task``: dict with ``network``, ``opts``, ``H`` (C, M, K), ``A`` (M, N) or (C, M, N),
    ``noise_var``, ``p_max``, ``omega``, ``W0`` (C, M, K), and either ``streams`` (C
    Generators) or ``saved`` (state rows, leading axis C), and optionally ``out``: the
    arrays to fill (:func:`empty_rows`, e.g. views of a whole batch's; else new ones).
    Returns a dict of arrays with leading axis C: the state keys (the network's only if
    ``opts.return_state``), ``history`` (C, T) and ``nit``.
    """
    opts, H, A, network = task["opts"], task["H"], task["A"], task["network"]
    C, M, K = H.shape
    runner = ChunkRunner(network, M, K, A.shape[-1], opts, task["noise_var"],
                         task["p_max"], task["omega"])
    out = task.get("out")
    if out is None:
        out = empty_rows(C, M, K, opts, runner.params.size)
    saved = task.get("saved")
    metric = runner.S is not None
    if saved is None:
        # Consecutive rows whose streams would draw the same network (an instance's two
        # chains of ``headroom``: the second's stream a copy of the first's) draw it once.
        streams = task["streams"]
        keys = [draw_key(g) for g in streams] + [None]
        same = [k is not None and k == keys[i + 1] and streams[i] is not streams[i + 1]
                for i, k in enumerate(keys[:-1])]
    for i in range(C):
        if metric and i % METRIC_BLOCK == 0:  # the channel metrics of the next block at once
            S = channel_metric(H[i:i + METRIC_BLOCK], task["p_max"], task["noise_var"])
        row = {key: value[i, ...] for key, value in out.items()}  # views, 0-d included
        A_i = A if A.ndim == 2 else A[i]
        S_i = S[i % METRIC_BLOCK] if metric else None
        if saved is None:
            draw = "kept" if i and same[i - 1] else "keep" if same[i] else "new"
            runner.run(H[i], A_i, task["W0"][i], row, stream=streams[i], S=S_i, draw=draw)
        else:
            runner.run(H[i], A_i, task["W0"][i], row,
                       saved={key: value[i] for key, value in saved.items()}, S=S_i)
    return out


def draw_key(stream):
    """What decides the network :func:`_angd_nets.init_from_stream` draws from ``stream``: it
    draws from children spawned by the stream's seed sequence, so two streams whose seed
    sequences agree (entropy, spawn key, pool size, children spawned so far) draw the same
    numbers. None for a stream without a seed sequence (never taken as equal)."""
    seq = getattr(getattr(stream, "bit_generator", None), "seed_seq", None)
    if not isinstance(seq, np.random.SeedSequence):
        return None
    return (type(stream.bit_generator), seq.entropy, seq.spawn_key, seq.pool_size,
            seq.n_children_spawned)


#: Instances whose channel metrics :func:`solve_chunk` computes in one stacked call: a tenth
#: of the per-instance time at (10, 2), a third at (16, 2) (fewer NumPy calls), and a bounded
#: buffer (64 · K M² complex numbers: 34 MB at (64, 8)).
METRIC_BLOCK = 64
