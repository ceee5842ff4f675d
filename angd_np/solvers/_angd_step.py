r"""One ANGD iteration for a chunk of instances, and the loop over T iterations.

The iteration (eq. 9 with the step size of Algorithm 1 line 4, the projection of eq. 11,
then eq. 10), for each of the C instances of a chunk, each with its own network
:math:`\Phi_\varphi`:

.. math::

    x_t = \mathrm{vec}(G_t) / \nu_t, \qquad
    U = W_t + s_t\, \Phi_\varphi(x_t), \qquad
    W_{t+1} = V = P(U), \qquad
    \varphi \leftarrow \mathrm{Adam}(\varphi, \nabla_\varphi f(W_{t+1}))

with :math:`G_t = \partial f/\partial W^*` at :math:`W_t`, :math:`\nu_t` the input scale (1
for the paper's raw gradient, or :math:`\|G_t\|_F/\sqrt{2MK}` for unit-RMS inputs) and
:math:`s_t = \eta_W \cdot` the output scale. The network's real output y of size 2MK is read
as the real parts (first MK entries) and imaginary parts (last MK) of an M×K complex array,
row-major, the layout in which the input carries the gradient.

The gradient for φ (exact, checked by finite differences in the tests)
---------------------------------------------------------------------
Only φ varies: :math:`W_t`, :math:`x_t` and :math:`s_t` are held fixed, as the paper's
back-propagation does (the input :math:`\nabla f(W_t)` is data, not a function of φ).
Let :math:`G_V = \partial f/\partial V^*` at :math:`V = W_{t+1}` (the same
``csbf_and_grad`` call that yields the next input), and
:math:`G_U = \partial f/\partial U^*` from the backward pass of the projection
(``project_power_backward``: :math:`c\,(G_V - \mathrm{Re}\langle U, G_V\rangle U/\|U\|^2)`
when the projection is active, :math:`G_V` otherwise). Since
:math:`df = 2\,\mathrm{Re}\sum \overline{G_U}\, dU` and :math:`dU = s_t\,(dy_{re} + j\,
dy_{im})`,

.. math::

    \partial f / \partial y_{re} = 2 s_t\, \mathrm{Re}\, G_U, \qquad
    \partial f / \partial y_{im} = 2 s_t\, \mathrm{Im}\, G_U,

the real gradient of f with respect to the network's output. ``Sequential.backward`` carries
it to every parameter, and Adam with ``maximize=True`` ascends f.

One ``csbf_and_grad`` per iteration: f(W_{t+1}) and G_{t+1} serve both the φ-update of step t
and the input of step t + 1.
"""

from __future__ import annotations

import numpy as np

from .. import nn
from ..objective import csbf_and_grad
from .iterative import BestTracker

__all__ = ["build_networks", "Stepper", "run_chunk", "n_params"]


def build_networks(network, M, K, net_streams, *, hidden=128, channels=16, kernel_size=3,
                   net_init="he", zero_last=False):
    """One network per instance, stacked as ``n_nets = C`` (no leading axis when C = 1).

    Network i is initialised from ``net_streams[i]`` alone (built as a single network and
    copied in), so it is the same whatever chunk it lands in. ``zero_last`` zeroes the output
    layer, so the first update is W_0 itself and the network learns its step from rest
    instead of first unlearning a random one.
    """
    C = len(net_streams)
    d = 2 * M * K

    def make(n_nets, rng):
        if network == "fcn":
            return nn.fcn(d, hidden, n_nets=n_nets, rng=rng, init=net_init)
        return nn.cnn(M * K, n_nets=n_nets, rng=rng, init=net_init, channels=channels,
                      kernel_size=kernel_size)

    if C == 1:
        net = make(1, net_streams[0])
    else:
        net = make(C, 0)  # parameters overwritten below
        for i, stream in enumerate(net_streams):
            single = make(1, stream)
            for p, q in zip(net.params, single.params, strict=True):
                p[i] = q
    if zero_last:
        for p in net.params[-2:]:  # weight and bias of the output Dense layer
            p[...] = 0.0
    return net


class Stepper:
    """Proposes W_{t+1} for a chunk and back-propagates f(W_{t+1}) into its networks.

    Parameters
    ----------
    net : nn.Sequential
        C networks (``n_nets = C``, or a single one when C = 1).
    problem : Problem
        The chunk's C instances, H of shape (C, M, K).
    network : {"fcn", "cnn"}
        Input layout: (C, 1, 2MK) for the FCN, (C, 1, 2, MK) (channels Re, Im) for the CNN.
    eta_w : float
        Step size η_W.
    input_scale : {"raw", "rms"}
    output_scale : {"none", "power", "w"} or float
        Multiplier of the network output: 1, sqrt(p_max / MK) (an output of unit RMS is a
        full-power step), ||W_t||_F / sqrt(MK), or the given number.
    """

    def __init__(self, net, problem, network, eta_w, input_scale, output_scale):
        C, M, K = problem.H.shape
        self.net, self.problem = net, problem
        self.eta_w, self.input_scale, self.output_scale = eta_w, input_scale, output_scale
        self._mk = M * K
        # Real and imaginary parts of G_t, laid out as the network reads them.
        self._x = np.empty((C, 2, M, K))
        lead = (C,) if C > 1 else ()
        in_shape = (1, 2 * M * K) if network == "fcn" else (1, 2, M * K)
        self._x_net = self._x.reshape(lead + in_shape)
        self._dy = np.empty((C, 2, M, K))
        self._dy_net = self._dy.reshape(lead + (1, 2 * M * K))
        # U = W + s y, reused every iteration (backprop reads it before the next propose).
        self._U = np.empty((C, M, K), dtype=np.complex128)
        self._U_planes = _planes(self._U)  # a writeable view: y is copied straight into U
        self._U_flat = self._U.view(np.float64).reshape(C, -1)  # for ||U||² and Re<U, G_V>
        if isinstance(output_scale, str):
            fixed = {"none": 1.0, "power": np.sqrt(problem.p_max / self._mk)}.get(output_scale)
        else:
            fixed = float(output_scale)
        self._fixed_scale = None if fixed is None else eta_w * fixed

    def propose(self, W, G):
        """V = W_{t+1} = P(W + s Φ(x)) for W, G of shape (C, M, K); caches what backprop needs.

        Returns V (C, M, K), f(V) (C,) and G_V = ∂f/∂V* (C, M, K).
        """
        x = self._x
        # The hot loop: every NumPy call here costs ~1-2 µs against a few µs of arithmetic,
        # so the real/imaginary split is one strided copy and the network skips its checks
        # (its input is our own float64 buffer of a fixed shape).
        np.copyto(x, _planes(G))
        if self.input_scale == "rms":
            norm = np.sqrt(_sqnorm(x) / (2 * self._mk))
            x /= np.where(norm > 0, norm, 1.0)[:, None, None, None]
        y = self.net.forward(self._x_net, check=False)
        if self._fixed_scale is None:  # "w": ||W_t|| / sqrt(MK), per instance
            s = ((self.eta_w / np.sqrt(self._mk)) * np.sqrt(_sqnorm(W)))[:, None, None]
        else:
            s = self._fixed_scale
        U = self._U
        np.copyto(self._U_planes, y.reshape(x.shape))  # U = y_re + j y_im
        if not (isinstance(s, float) and s == 1.0):  # skip the multiply for the paper's s = 1
            U *= s
        U += W
        pw = _rowdot(self._U_flat, self._U_flat)  # ||U||²
        p_max = self.problem.p_max
        scaled = pw > p_max
        # c = sqrt(p_max / ||U||²) where the projection acts, else sqrt(1) = 1 exactly.
        c = np.sqrt(p_max / np.maximum(pw, p_max))
        V = U * c[:, None, None]
        f, GV = csbf_and_grad(V, self.problem)
        self._cache = (U, pw, c, scaled, s)
        return V, f, GV

    def backprop(self, GV, failed=None):
        """Fill ``net.grads`` with ∇_φ f(W_{t+1}) given G_V = ∂f/∂V* of shape (C, M, K).

        ``failed`` (C,) bool marks diverged instances, whose networks get a zero gradient.
        """
        U, pw, c, scaled, s = self._cache
        # Backward of the projection (objective.project_power_backward, inlined to reuse
        # ||U||² and c): G_U = c (G_V - Re<U, G_V> U / ||U||²) where the projection acted.
        if np.count_nonzero(scaled):  # (cheaper than scaled.any() on a few entries)
            radial = _rowdot(self._U_flat, GV.view(np.float64).reshape(U.shape[0], -1))
            radial /= np.maximum(pw, self.problem.p_max)
            radial *= scaled  # 0 where the projection did not act
            GU = GV - radial[:, None, None] * U
        else:
            GU = GV
        # ∂f/∂y = 2 s [Re G_U, Im G_U] (module docstring), with the factor c of G_U.
        scale = 2.0 * s * c[:, None, None]
        dy = self._dy
        np.multiply(_planes(GU), scale[:, None], out=dy)
        if failed is not None:
            dy[failed] = 0.0
        # ANGD's input is data: no ∂L/∂x (input_grad=False saves a matrix product).
        self.net.backward(self._dy_net, input_grad=False, check=False)


def _planes(a):
    """Real view (C, 2, M, K) of complex a (C, M, K): plane 0 = Re a, plane 1 = Im a.

    A view (no copy) when ``a`` is C-contiguous, so it can also be written into.
    """
    a = np.ascontiguousarray(a)
    return a.view(np.float64).reshape(a.shape + (2,)).transpose(0, 3, 1, 2)


def _sqnorm(a):
    """Squared Frobenius norm of each instance of a real or complex array (C, ...) -> (C,)."""
    r = a.view(np.float64).reshape(a.shape[0], -1) if a.dtype == np.complex128 else \
        a.reshape(a.shape[0], -1)
    return _rowdot(r, r)


def _rowdot(a, b):
    """Row-wise dot products of real (C, n) arrays -> (C,); Re<U, G> on complex views.

    einsum, not the ~1 µs faster np.vecdot: the two round differently, and ANGD's 500
    iterations amplify a last-bit difference into a visibly different trajectory (0.3% in
    f(W_T) measured), so switching would break bit-for-bit reproducibility of earlier runs.
    """
    return np.einsum("ij,ij->i", a, b)


def n_params(network, M, K, opts):
    """Parameters P of one network for an M×K problem (the width of the state's rows)."""
    d = 2 * M * K
    if network == "fcn":
        h = opts.hidden
        return (d + 1) * h + (h + 1) * h + (h + 1) * d
    c, k, L = opts.channels, opts.kernel_size, M * K
    return (2 * k + 1) * c + (c * k + 1) * c + (c * L + 1) * d


def _per_instance(flat, net, C):
    """(C, P) rows, one per network, of a buffer laid out like ``net.flat_params``."""
    blocks, offset = [], 0
    for p in net.params:
        blocks.append(flat[offset:offset + p.size].reshape(C, -1))
        offset += p.size
    return np.concatenate(blocks, axis=1)


def _to_flat(rows, net, C, out):
    """Inverse of :func:`_per_instance`: write (C, P) rows into ``out`` (flat layout)."""
    offset = col = 0
    for p in net.params:
        width = p.size // C
        out[offset:offset + p.size].reshape(C, width)[...] = rows[:, col:col + width]
        offset += p.size
        col += width


def run_chunk(problem, W0, net_streams, network, opts, saved=None):
    """Run ANGD on the C instances of ``problem`` (a chunk) for up to ``opts.iters`` iterations.

    Parameters
    ----------
    problem : Problem
        H of shape (C, M, K).
    W0 : ndarray of complex128, shape (C, M, K)
        Feasible starting points (the state's last iterates when continuing).
    net_streams : list of C Generators or None
        Network initialisation stream of each instance (None when continuing).
    network : {"fcn", "cnn"}
    opts : ANGDOptions
        Resolved options.
    saved : dict of arrays with leading axis C, optional
        The chunk's rows of a validated state (``check_state``): go on from there.

    Returns
    -------
    dict of arrays with leading axis C
        The tracker's state keys (``best_W``, ``best_f``, ``ref_f``, ``since``, ``active``),
        ``history`` (C, T), ``nit``, ``failed`` (instances stopped because a value became
        non-finite) and ANGD's own state keys (``W``, ``net_params``, ``adam_m``,
        ``adam_v``, ``adam_t``).
    """
    C, M, K = problem.H.shape
    if saved is not None:  # parameters are overwritten from the state below
        net_streams = [np.random.default_rng(0)] * C
    net = build_networks(network, M, K, net_streams, hidden=opts.hidden,
                         channels=opts.channels, kernel_size=opts.kernel_size,
                         net_init=opts.net_init, zero_last=opts.zero_last)
    opt = nn.Adam(net.flat_params, lr=opts.eta_phi, betas=opts.betas, maximize=True,
                  check_finite=False)
    W = np.array(W0, dtype=np.complex128)
    f, G = csbf_and_grad(W, problem)
    tracker = BestTracker(W, f, opts.iters, opts.tol, opts.patience, state=saved)
    failed = np.zeros(C, dtype=bool)
    if saved is not None:
        _to_flat(saved["net_params"], net, C, net.flat_params)
        moments = opt.state_dict()
        # All instances of a chunk share one step count: those still active have all run
        # every iteration; a stopped instance's count no longer matters (nothing it does is
        # recorded).
        steps = np.unique(saved["adam_t"][tracker.active] if tracker.active.any()
                          else saved["adam_t"])
        if steps.size != 1 and tracker.active.any() or steps.min() < 0:
            raise ValueError(f"state['adam_t'] must be one step count >= 0 shared by the "
                             f"instances still active, got {steps.tolist()}")
        moments.update(t=steps.max(), m_acc_0=np.empty_like(net.flat_params),
                       v_acc_0=np.empty_like(net.flat_params))
        _to_flat(saved["adam_m"], net, C, moments["m_acc_0"])
        _to_flat(saved["adam_v"], net, C, moments["v_acc_0"])
        opt.load_state_dict(moments)
        failed[...] = saved["failed"]
    stepper = Stepper(net, problem, network, opts.eta_w, opts.input_scale, opts.output_scale)
    any_failed = bool(failed.any())
    # Divergence is detected from f below, so NumPy's overflow warnings are noise here.
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(opts.iters if tracker.active.any() else 0):
            V, f, G = stepper.propose(W, G)
            if not np.isfinite(f).all():
                # A diverged instance is stopped; keep its numbers finite so the chunk's other
                # networks (which share NumPy calls, not values) carry on undisturbed.
                bad = ~np.isfinite(f)
                failed |= bad
                any_failed = True
                tracker.deactivate(bad)
                V[bad] = tracker.W[bad]
                G[bad] = 0.0
                f = np.where(bad, -np.inf, f)
            stepper.backprop(G, failed if any_failed else None)
            opt.step(net.flat_grads)
            if not tracker.update(t, V, f):
                W = V
                break
            W = V
    moments = opt.state_dict()
    return {**tracker.state(), "history": tracker.history, "nit": tracker.nit,
            "failed": failed, "W": W,
            "net_params": _per_instance(net.flat_params, net, C),
            "adam_m": _per_instance(moments["m_acc_0"], net, C),
            "adam_v": _per_instance(moments["v_acc_0"], net, C),
            "adam_t": np.full(C, opt.t, dtype=np.int64)}
