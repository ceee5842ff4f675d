"""ANGD's lean engine against its naive twins: the φ-gradient by finite differences, the
one-instance objective against ``csbf_and_grad``, the lean networks against ``angd_np.nn``,
and Adam with scaled moments against the textbook rule."""

import copy

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import angd_np as an
from angd_np import Problem, Scenario, csbf_and_grad, nn, power, ula_steering
from angd_np.solvers._angd_adam import ScaledAdam, blas_kernels, renormalisation_period
from angd_np.solvers._angd_engine import ChunkRunner, Objective, channel_metric
from angd_np.solvers._angd_nets import CNN, FCN, n_params
from angd_np.solvers.angd import VARIANTS, ANGDOptions

from ..nn.test_adam import textbook_adam


def _unit_problem(rng, n, M, K, omega=0.5, p_max=1.0):
    """Instances at unit scale, so rate and sensing both matter and differences are exact-ish."""
    H = (rng.standard_normal((n, M, K)) + 1j * rng.standard_normal((n, M, K))) / np.sqrt(2)
    A = ula_steering(np.deg2rad([-40.0, 10.0, 50.0]), M)
    return Problem(H=H, A=A, noise_var=0.1, p_max=p_max, omega=omega)


def _runner(problem, network, net_dtype="float64", **options):
    opts = ANGDOptions(hidden=4, channels=2, net_dtype=net_dtype, **options)
    _, M, K = problem.H.shape
    runner = ChunkRunner(network, M, K, problem.A.shape[-1], opts, problem.noise_var,
                         problem.p_max, problem.omega)
    runner.start(problem.H[0], problem.A, stream=np.random.default_rng(11))
    return runner


def _point(rng, problem, inside):
    _, M, K = problem.H.shape
    W = rng.standard_normal((M, K)) + 1j * rng.standard_normal((M, K))
    return W * np.sqrt((0.1 if inside else 1.0) * problem.p_max / power(W))


def _propose(runner, W, G):
    """(f, s, c, ||U||²) of W_{t+1} = V from W_t and G_t; V and G_V stay in the runner."""
    runner.G[...] = G
    W_buf, V = runner.bufs[0], runner.bufs[1]
    W_buf[...] = W
    return runner.propose(W_buf, runner.views[0], V, runner.views[1])


def _finite_difference(runner, W, G, i, h):
    """d f(W_{t+1}) / d params[i] by central differences, perturbing the live parameter."""
    old = runner.params[i]
    runner.params[i] = old + h
    f_plus = _propose(runner, W, G)[0]
    runner.params[i] = old - h
    f_minus = _propose(runner, W, G)[0]
    runner.params[i] = old
    return (f_plus - f_minus) / (2 * h)


def _gradient(runner, W, G):
    """∇_φ f(W_{t+1}) by the engine's backward pass (α = 1)."""
    f, s, c, pw = _propose(runner, W, G)
    runner.backprop(runner.bufs[1], runner.views[1], s, c, pw, 1.0)
    return f, s, c, runner.adam.gradient().astype(np.float64)


@pytest.mark.parametrize("network", ["fcn", "cnn"])
@pytest.mark.parametrize("active", [True, False], ids=["projection-active", "inside-ball"])
@pytest.mark.parametrize("output_scale,input_scale,precondition", [
    (3.0, "raw", "none"), ("w", "rms", "none"), ("w", "rms", "channel"),
    (3.0, "raw", "channel")])
@pytest.mark.parametrize("net_dtype", ["float64", "float32"])
@pytest.mark.parametrize("adam_kernel", ["numpy", "blas"])
def test_phi_gradient_matches_finite_differences_of_next_csbf(rng, network, active,
                                                              output_scale, input_scale,
                                                              precondition, net_dtype,
                                                              adam_kernel):
    if adam_kernel == "blas":
        pytest.importorskip("scipy")
    problem = _unit_problem(rng, 1, 3, 2)
    eta_w = 50.0 if active else 1e-3  # a step that leaves the ball, or a tiny one
    runner = _runner(problem, network, net_dtype, eta_w=eta_w, output_scale=output_scale,
                     input_scale=input_scale, precondition=precondition,
                     adam_kernel=adam_kernel)
    # the blas kernel leaves the rank-one layers' blocks of T unwritten (their factors
    # are the gradient), the numpy one writes them all
    assert runner.net.write_outer == (adam_kernel == "numpy")
    if precondition == "channel":  # the metric is not the identity on this instance
        assert not np.allclose(runner.S, np.eye(3))
    # Non-zero output layer and hidden units away from their ReLU kinks.
    runner.params[...] = rng.uniform(-0.5, 0.5, runner.params.size)
    W = _point(rng, problem, inside=not active)
    G = np.empty_like(W)
    runner.obj(W, G)
    f, s, c, analytic = _gradient(runner, W, G)
    assert (c < 1.0) if active else (c == 1.0)
    # float32 parameters: a step of 2^-10 is exact in them, and f is float64, so the central
    # difference is limited by float32's rounding of the network's forward pass: measured
    # 2e-5 to 6e-5 of the largest entry (float64: 1e-10 to 3e-7 at h = 1e-6).
    h = 1e-6 if net_dtype == "float64" else 2.0**-10
    rtol, floor = (1e-5, 2e-6) if net_dtype == "float64" else (1e-3, 5e-4)
    fd = np.array([_finite_difference(runner, W, G, i, h) for i in range(analytic.size)])
    np.testing.assert_allclose(analytic, fd, rtol=rtol, atol=floor * np.abs(fd).max())


@pytest.mark.parametrize("active", [True, False], ids=["projection-active", "inside-ball"])
@pytest.mark.parametrize("adam_kernel", ["numpy", "blas"])
def test_phi_gradient_with_the_previous_step_as_input_matches_finite_differences(
        rng, active, adam_kernel):
    """``step_input=κ``: the network sees [scaled gradient, κ y_{t-1}]; y_{t-1} is data, so the
    φ-gradient of f(W_{t+1}) is the plain one, through the wider first layer."""
    if adam_kernel == "blas":
        pytest.importorskip("scipy")
    problem = _unit_problem(rng, 1, 3, 2)
    runner = _runner(problem, "fcn", eta_w=50.0 if active else 1e-3, output_scale="w",
                     input_scale="rms", precondition="channel", adam_kernel=adam_kernel,
                     step_input=0.5)
    d = 2 * 3 * 2
    assert runner.net.x.size == 2 * d and runner.params.size == (2 * d + 1) * 4 + 5 * 4 + 5 * d
    runner.params[...] = rng.uniform(-0.5, 0.5, runner.params.size)
    y_prev = rng.uniform(-1.0, 1.0, d)
    W = _point(rng, problem, inside=not active)
    G = np.empty_like(W)
    runner.obj(W, G)

    def with_y_prev(fn, *args):
        runner.net.y[...] = y_prev  # every evaluation starts from the same previous output
        return fn(*args)

    f, s, c, analytic = with_y_prev(_gradient, runner, W, G)
    np.testing.assert_array_equal(runner.net.x[d:], 0.5 * y_prev)  # what the network saw
    assert (c < 1.0) if active else (c == 1.0)
    h = 1e-6
    fd = np.array([with_y_prev(_finite_difference_at, runner, W, G, i, h, y_prev)
                   for i in range(analytic.size)])
    np.testing.assert_allclose(analytic, fd, rtol=1e-5, atol=2e-6 * np.abs(fd).max())


def _finite_difference_at(runner, W, G, i, h, y_prev):
    """As ``_finite_difference``, the previous output reset before each evaluation."""
    old = runner.params[i]
    values = []
    for step in (h, -h):
        runner.params[i] = old + step
        runner.net.y[...] = y_prev
        values.append(_propose(runner, W, G)[0])
    runner.params[i] = old
    return (values[0] - values[1]) / (2 * h)


@pytest.mark.parametrize("M,K", [(5, 1), (6, 2), (8, 3), (3, 3)])
def test_channel_metric_is_the_inverse_root_of_the_leakage_curvature(rng, M, K):
    """S_j = (I + ρ H_{-j} H_{-j}^H)^{-1/2}: Hermitian, S_j² the inverse, the identity on
    the complement of the other users' channels, and S_j h_k shrunk by (1 + ρ|h_k|²)^{-1/2}
    when h_k is the only other channel."""
    H = rng.standard_normal((M, K)) + 1j * rng.standard_normal((M, K))
    p_max, noise_var = 2.0, 0.05
    rho = p_max / (K * noise_var)
    S = channel_metric(H, p_max, noise_var)
    assert S.shape == (K, M, M) and S.dtype == np.complex128
    for j in range(K):
        others = np.delete(H, j, axis=1)
        np.testing.assert_allclose(S[j], S[j].conj().T, atol=1e-14)
        inverse = np.linalg.inv(np.eye(M) + rho * others @ others.conj().T)
        np.testing.assert_allclose(S[j] @ S[j], inverse, atol=1e-12)
        if K < M:  # a direction orthogonal to every other user's channel is left alone
            v = rng.standard_normal(M) + 1j * rng.standard_normal(M)
            v -= others @ np.linalg.lstsq(others, v, rcond=None)[0]
            np.testing.assert_allclose(S[j] @ v, v, atol=1e-12)
        if K == 2:
            h = others[:, 0]
            np.testing.assert_allclose(S[j] @ h, h / np.sqrt(1 + rho * np.vdot(h, h).real),
                                       atol=1e-12)
    if K == 1:
        np.testing.assert_array_equal(S[0], np.eye(M))


@pytest.mark.parametrize("M,K", [(5, 1), (16, 2), (8, 4), (3, 3)])
def test_a_stack_of_channel_metrics_is_each_one_alone_bit_for_bit(rng, M, K):
    """``solve_chunk`` computes a block of instances' metrics in one stacked call: each must
    be what the instance alone gets (results do not depend on the batch), on one BLAS thread
    as the engine runs."""
    from angd_np import _parallel

    H = rng.standard_normal((7, M, K)) + 1j * rng.standard_normal((7, M, K))
    with _parallel.one_blas_thread():
        stacked = channel_metric(H, 1.0, 1e-11)
        alone = np.stack([channel_metric(h, 1.0, 1e-11) for h in H])
    assert stacked.shape == (7, K, M, M)
    np.testing.assert_array_equal(stacked, alone)


def test_channel_metric_keeps_plain_steps_from_zero_forcing_ascending_at_high_snr():
    """Why the metric (``channel_metric``): at the balanced preset's 64 × 8 (p_max/σ² = 1e11)
    a short plain gradient step from ZF lowers the CSBF, the same step in the metric raises
    it."""
    problem = Scenario.preset("balanced", n_tx=64, n_users=8).draw(1, rng=5)
    W0 = an.solve(problem, "zf").W[0]
    f0, G = csbf_and_grad(W0, problem)
    f0, G = float(f0.ravel()[0]), G.reshape(W0.shape)
    S = channel_metric(problem.H[0], problem.p_max, problem.noise_var)
    SSG = np.einsum("jab,jbc,cj->aj", S, S, G)
    gains = []
    for direction in (G, SSG):
        direction = direction - (np.vdot(W0, direction).real / power(W0)) * W0  # tangent
        W = W0 + 1e-3 * np.linalg.norm(W0) * direction / np.linalg.norm(direction)
        W *= np.sqrt(problem.p_max / power(W))
        gains.append(float(an.csbf(W, problem).ravel()[0]) - f0)
    assert gains[0] < 0 < gains[1]


def test_phi_gradient_is_exact_at_the_papers_scales(rng):
    """Paper units (noise 1e-11 W, omega 1e4): the output bias's gradient, relatively."""
    problem = Scenario.preset("paper").draw(1, rng=rng)
    opts = ANGDOptions(hidden=3, input_scale="rms", output_scale=0.05)
    runner = ChunkRunner("fcn", 16, 2, problem.n_targets, opts, problem.noise_var,
                         problem.p_max, problem.omega)
    runner.start(problem.H[0], problem.A, stream=np.random.default_rng(1))
    W = an.solve(problem, "zf").W[0] * np.sqrt(0.9)
    G = np.empty_like(W)
    runner.obj(W, G)
    analytic = _gradient(runner, W, G)[3]
    bias = slice(runner.params.size - 64, runner.params.size)  # last row of W3e
    for i in range(bias.start, bias.stop, 7):
        assert _finite_difference(runner, W, G, i, 1e-6) == pytest.approx(analytic[i],
                                                                          rel=1e-5, abs=1e-6)


@given(seed=st.integers(0, 2**16), M=st.integers(1, 6), K=st.integers(1, 4),
       N=st.integers(1, 4), log_scale=st.floats(-6, 2))
def test_one_instance_objective_matches_csbf_and_grad(seed, M, K, N, log_scale):
    rng = np.random.default_rng(seed)
    H = 10.0**log_scale * (rng.standard_normal((M, K)) + 1j * rng.standard_normal((M, K)))
    A = ula_steering(rng.uniform(-1.5, 1.5, N), M)
    problem = Problem(H=H, A=A, noise_var=1e-3 * 10.0**(2 * log_scale), p_max=1.0,
                      omega=float(rng.uniform(0, 30)))
    W = rng.standard_normal((M, K)) + 1j * rng.standard_normal((M, K))
    obj = Objective(M, K, N, problem.noise_var, problem.omega)
    obj.set_instance(H, A)
    G = np.empty_like(W)
    f = obj(W, G)
    f_ref, G_ref = csbf_and_grad(W, problem)
    assert f == pytest.approx(float(f_ref), rel=1e-12)
    np.testing.assert_allclose(G, G_ref, rtol=1e-10, atol=1e-12 * np.abs(G_ref).max())


def _planes(x):
    """The nn layout (real parts, then imaginary parts) of an interleaved vector."""
    return np.concatenate([x[0::2], x[1::2]])


@pytest.mark.parametrize("network,kernel_size", [("fcn", 3), ("cnn", 3), ("cnn", 4),
                                                 ("cnn", 9)])
def test_lean_networks_compute_what_the_nn_networks_compute(rng, network, kernel_size):
    M, K = 3, 2
    L, d = M * K, 2 * M * K
    P = n_params(network, M, K, hidden=5, channels=3, kernel_size=kernel_size)
    params, T = np.zeros(P), np.zeros(P)
    if network == "fcn":
        ref = nn.fcn(d, 5, rng=3, init="torch")
        lean = FCN(d, 5, params, T)
    else:
        ref = nn.cnn(L, rng=3, init="torch", channels=3, kernel_size=kernel_size)
        lean = CNN(L, 3, kernel_size, params, T)
    assert P == ref.n_params
    lean.load_nn(ref)
    x = rng.standard_normal(d)
    lean.x[...] = x
    y = lean.forward()
    x_ref = _planes(x)[None] if network == "fcn" else _planes(x).reshape(1, 2, L)
    y_ref = ref.forward(x_ref)[0]
    np.testing.assert_allclose(_planes(y), y_ref, rtol=1e-12, atol=1e-14)
    dy = rng.standard_normal(d)
    lean.dy[...] = dy
    lean.backward()
    ref.backward(_planes(dy)[None], input_grad=False)
    # The same gradients in the lean layout: load nn's gradients as if they were parameters.
    as_params = copy.deepcopy(ref)
    for p, g in zip(as_params.params, ref.grads, strict=True):
        p[...] = g
    back = np.zeros(P)
    mirror = FCN(d, 5, back, np.zeros(P)) if network == "fcn" else \
        CNN(L, 3, kernel_size, back, np.zeros(P))
    mirror.load_nn(as_params)
    np.testing.assert_allclose(T, back, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("network", ["fcn", "cnn"])
@pytest.mark.parametrize("net_init", ["torch", "he"])
@pytest.mark.parametrize("zero_last", [False, True])
@pytest.mark.parametrize("net_dtype", ["float32", "float64"])
def test_a_network_drawn_into_the_lean_layout_is_the_nn_network_bit_for_bit(
        network, net_init, zero_last, net_dtype):
    """init_from_stream draws each layer as nn.fcn / nn.cnn do (same child streams, same
    calls) without building them: the same numbers, and the stream is left as nn leaves it."""
    from angd_np.solvers._angd_nets import build, init_from_stream

    opts = ANGDOptions(net_init=net_init, zero_last=zero_last, net_dtype=net_dtype,
                       hidden=7, channels=3)
    for M, K in [(3, 2), (5, 3)]:
        P = n_params(network, M, K, 7, 3, opts.kernel_size)
        drawn, copied = (np.full(P, np.nan, net_dtype) for _ in range(2))
        stream, twin = np.random.default_rng(11), np.random.default_rng(11)
        init_from_stream(build(network, M, K, opts, drawn, np.empty_like(drawn)), network,
                         M, K, opts, stream)
        lean = build(network, M, K, opts, copied, np.empty_like(copied))
        lean.load_nn(nn.fcn(2 * M * K, 7, rng=twin, init=net_init) if network == "fcn" else
                     nn.cnn(M * K, rng=twin, init=net_init, channels=3,
                            kernel_size=opts.kernel_size))
        if zero_last:
            lean.zero_last()
        assert np.array_equal(drawn, copied)
        assert zero_last == (not np.any(lean.W[2]))
        assert stream.random() == twin.random()


@pytest.mark.parametrize("betas", [(0.9, 0.999), (0.5, 0.9), (0.0, 0.99), (0.9, 0.0)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_scaled_moment_adam_takes_the_textbook_steps_across_renormalisations(rng, betas,
                                                                            dtype):
    """A run ten times longer than the renormalisation period, step by step."""
    period, steps = 7, 70
    p0 = rng.standard_normal(40)
    grads = [10.0**rng.uniform(-3, 3) * rng.standard_normal(40) for _ in range(steps)]
    expected = textbook_adam(p0, grads, 1e-2, betas, 1e-8, maximize=True)
    p = p0.astype(dtype)
    opt = ScaledAdam(p, 1e-2, betas, 1e-8, period=period)
    rtol = 1e-11 if dtype == np.float64 else 2e-5
    for t, (g, want) in enumerate(zip(grads, expected, strict=True), start=1):
        opt.T[...] = opt.alpha * g
        opt.step()
        np.testing.assert_allclose(p, want, rtol=rtol, atol=rtol * 1e-2 * t,
                                   err_msg=f"step {t}")
    assert opt.t == steps


@pytest.mark.parametrize("betas", [(0.9, 0.999), (0.0, 0.99), (0.9, 0.0)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_rank_one_blas_adam_takes_the_textbook_steps_across_renormalisations(rng, betas,
                                                                            dtype):
    """Two rank-one layers through BLAS ?ger around a part written into T, step by step."""
    kernels = blas_kernels(dtype)
    if kernels is None:
        pytest.skip("scipy's BLAS is not available")
    period, steps = 7, 70
    shapes, offsets, dense = [(4, 3), (5, 2)], [5, 17], [slice(0, 5), slice(27, 30)]
    p0 = rng.standard_normal(30)
    p = p0.astype(dtype)
    opt = ScaledAdam(p, 1e-2, betas, 1e-8, period=period)
    us = [np.zeros(r, dtype) for r, _ in shapes]
    ds = [np.zeros(c, dtype) for _, c in shapes]
    squares = [(v, np.empty_like(v)) for v in us + ds]
    sq = dict((id(v), w) for v, w in squares)
    opt.use_rank1([(o, sh, u, d, sq[id(u)], sq[id(d)]) for o, sh, u, d in
                   zip(offsets, shapes, us, ds, strict=True)], squares, kernels)
    grads = []
    for _ in range(steps):
        scale = 10.0 ** rng.uniform(-2, 2)
        factors = [(scale * rng.standard_normal(r), rng.standard_normal(c)) for r, c in shapes]
        g = scale * rng.standard_normal(30)
        for o, (u, d) in zip(offsets, factors, strict=True):
            g[o:o + u.size * d.size] = np.outer(u, d).ravel()
        grads.append((g, factors))
    expected = textbook_adam(p0, [g for g, _ in grads], 1e-2, betas, 1e-8, maximize=True)
    rtol = 1e-11 if dtype == np.float64 else 2e-5
    for t, ((g, factors), want) in enumerate(zip(grads, expected, strict=True), start=1):
        alpha = opt.alpha
        for part in dense:
            opt.T[part] = alpha * g[part]
        for u, d, (fu, fd) in zip(us, ds, factors, strict=True):
            u[...], d[...] = fu, alpha * fd  # the caller folds α into d
        np.testing.assert_allclose(opt.gradient(), alpha * g, rtol=1e-6)
        opt.step()
        np.testing.assert_allclose(p, want, rtol=rtol, atol=rtol * 1e-2 * t,
                                   err_msg=f"step {t}")


@pytest.mark.parametrize("network", ["fcn", "cnn"])
@pytest.mark.parametrize("net_dtype,rtol", [("float64", 1e-9), ("float32", 1e-3)])
def test_blas_and_numpy_adam_kernels_solve_alike(network, net_dtype, rtol):
    pytest.importorskip("scipy")
    problem = Scenario.preset("balanced").draw(3, rng=5)
    runs = {k: an.solve(problem, f"angd-{network}", rng=2, variant="tuned", iters=30,
                        pilot=5, net_dtype=net_dtype, adam_kernel=k, threads=1)
            for k in ("numpy", "blas", "auto")}
    np.testing.assert_allclose(runs["blas"].history, runs["numpy"].history, rtol=rtol)
    np.testing.assert_allclose(runs["blas"].state["net_params"],
                               runs["numpy"].state["net_params"], rtol=rtol ** 0.5,
                               atol=rtol ** 0.5 * 1e-2)
    # with scipy installed, auto is blas, bit for bit
    np.testing.assert_array_equal(runs["auto"].W, runs["blas"].W)
    with pytest.raises(ValueError, match="adam_kernel"):
        an.solve(problem, f"angd-{network}", iters=2, adam_kernel="fortran")


@pytest.mark.parametrize("network", ["fcn", "cnn"])
def test_blas_calls_cut_into_one_thread_pieces_give_the_same_bits(monkeypatch, network):
    """In a process whose BLAS may thread, ?ger and ?axpy are cut into pieces below
    OpenBLAS's threading thresholds; the pieces touch disjoint entries: same result."""
    pytest.importorskip("scipy")
    from angd_np.solvers import _angd_adam

    problem = Scenario.preset("paper", n_tx=12).draw(2, rng=4)
    runs = {}
    for split in (False, True):
        monkeypatch.setattr(_angd_adam, "blas_may_thread", lambda split=split: split)
        arch = {"hidden": 160} if network == "fcn" else {"channels": 16}
        runs[split] = an.solve(problem, f"angd-{network}", rng=3, iters=25, **arch,
                               net_dtype="float32", adam_kernel="blas", threads=1)
    np.testing.assert_array_equal(runs[True].W, runs[False].W)
    np.testing.assert_array_equal(runs[True].state["adam_v"], runs[False].state["adam_v"])
    # the pieces: every ?ger call within the threshold, together covering each layer
    runner = ChunkRunner(network, 12, 2, problem.n_targets, ANGDOptions(
        hidden=160, net_dtype="float32", adam_kernel="blas"), problem.noise_var,
        problem.p_max, problem.omega)
    _, _, rank1, _, _, steps = runner.adam._rank1
    assert all(mT.size <= _angd_adam.GER_PIECE for mT, *_ in rank1)
    assert all(T.size <= _angd_adam.AXPY_PIECE for T, _ in steps)
    assert sum(mT.size for mT, *_ in rank1) == sum(
        r * c for _, (r, c), *_ in runner.adam._factors)
    assert sum(T.size for T, _ in steps) == runner.params.size


def test_blas_may_thread_reads_the_thread_variables(monkeypatch):
    from angd_np.solvers._angd_adam import blas_may_thread

    for name in ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    assert blas_may_thread()
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert not blas_may_thread()
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")  # read first by OpenBLAS
    assert blas_may_thread()


def test_the_default_renormalisation_period_keeps_the_scale_factors_small():
    assert renormalisation_period(0.9, 0.999) == 131  # 0.9^-131 <= 1e6 < 0.9^-132
    assert 0.9 ** -renormalisation_period(0.9, 0.999) <= 1e6
    assert renormalisation_period(0.0, 0.0) == 200 and renormalisation_period(0.999, 0.5) == 19


def test_float32_networks_hold_float32_state_and_float64_results():
    problem = Scenario.preset("balanced").draw(2, rng=0)
    res = an.solve(problem, "angd-fcn", rng=1, iters=5, hidden=8, net_dtype="float32")
    assert res.state["net_params"].dtype == np.float32
    assert res.state["adam_v"].dtype == np.float32
    assert res.W.dtype == np.complex128 and res.history.dtype == np.float64
    f64 = an.solve(problem, "angd-fcn", rng=1, iters=5, hidden=8, net_dtype="float64")
    np.testing.assert_allclose(res.csbf, f64.csbf, rtol=1e-4)
    assert f64.state["net_params"].dtype == np.float64
    with pytest.raises(ValueError, match="net_dtype"):
        an.solve(problem, "angd-fcn", iters=2, net_dtype="float16")
    with pytest.raises(ValueError, match="dtype float64"):
        an.solve(problem, "angd-fcn", iters=2, hidden=8, state=res.state, net_dtype="float64")


def test_both_presets_default_to_float32_networks():
    assert {VARIANTS[p][n].net_dtype for p in VARIANTS for n in ("fcn", "cnn")} == {"float32"}
    assert ANGDOptions().net_dtype == "float64"  # the class default; presets choose


@pytest.mark.parametrize("net_dtype,rtol", [("float64", 1e-10), ("float32", 1e-4)])
def test_the_jax_peer_computes_the_same_algorithm(net_dtype, rtol):
    """benchmarks/jax_peer.py (jax installed by hand; skipped without it) against the package."""
    pytest.importorskip("jax")
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "scripts" / "jax_peer.py"
    spec = importlib.util.spec_from_file_location("jax_peer", path)
    peer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(peer)
    problem = Scenario.preset("paper").draw(2, rng=3)
    _, batch = peer.build(16, 2, problem.n_targets, hidden=8, iters=15, net_dtype=net_dtype)
    W0, params = peer.inputs(problem, 4, hidden=8)
    best_f, _, history = batch(problem.H, problem.A, problem.noise_var, problem.p_max,
                               problem.omega, W0, params)
    ours = an.solve(problem, "angd-fcn", rng=4, iters=15, hidden=8, net_dtype=net_dtype)
    np.testing.assert_allclose(np.asarray(history), ours.history, rtol=rtol)
    np.testing.assert_allclose(np.asarray(best_f), ours.csbf, rtol=rtol)


def test_scaled_adam_flushes_moments_that_decay_below_the_normal_range():
    # A dead unit's gradient is 0 after the first step: its m keeps decaying by β1 per step
    # and would sink into float32's subnormal range (slow arithmetic) without the flush.
    p = np.zeros(4, dtype=np.float32)
    opt = ScaledAdam(p, 1e-3, (0.9, 0.999), 1e-8)
    tiny = np.finfo(np.float32).tiny
    for t in range(6 * opt.period):
        opt.T[...] = opt.alpha * (np.float32(1e-3) if t == 0 else np.float32(0.0))
        opt.T[1] = opt.alpha * np.float32(1e-3)  # a live unit for contrast
        opt.step()
        for moment in (opt.m, opt.v):
            assert not np.any((np.abs(moment) < tiny) & (moment != 0)), t
    assert opt.m[0] == 0.0 and opt.m[1] != 0.0  # the dead one was flushed, the live one kept


def test_one_blas_thread_holds_every_loaded_blas_to_one_thread(monkeypatch):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    pytest.importorskip("scipy.linalg.blas")
    from angd_np import _parallel
    from angd_np.solvers._angd_adam import blas_may_thread

    for name in ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    # A controller built now knows every library loaded by earlier tests too.
    monkeypatch.setattr(_parallel, "_controller", [None, None])
    before = [lib["num_threads"] for lib in threadpoolctl.threadpool_info()
              if lib["user_api"] == "blas"]
    assert before, "no BLAS seen by threadpoolctl"
    assert not _parallel.blas_held() and blas_may_thread()
    with _parallel.one_blas_thread() as held:
        assert held and _parallel.blas_held()
        assert not blas_may_thread()  # so the engine does not cut its BLAS calls
        with _parallel.one_blas_thread():  # nested: still held, and released in order
            assert _parallel.blas_held()
        assert _parallel.blas_held()
        inside = [lib["num_threads"] for lib in threadpoolctl.threadpool_info()
                  if lib["user_api"] == "blas"]
        assert inside == [1] * len(before)  # NumPy's OpenBLAS and scipy's alike
    assert not _parallel.blas_held()
    after = [lib["num_threads"] for lib in threadpoolctl.threadpool_info()
             if lib["user_api"] == "blas"]
    assert after == before


def test_one_blas_thread_without_threadpoolctl_is_a_no_op(monkeypatch):
    import sys

    from angd_np import _parallel

    monkeypatch.setitem(sys.modules, "threadpoolctl", None)  # import raises ImportError
    monkeypatch.setattr(_parallel, "_controller", [None, None])
    with _parallel.one_blas_thread() as held:
        assert not held and not _parallel.blas_held()


def test_solve_here_runs_with_blas_held(monkeypatch):
    """An in-process batch builds its optimiser unsplit, BLAS held to one thread."""
    pytest.importorskip("threadpoolctl")
    from angd_np.solvers import _angd_engine

    seen = []
    real = _angd_engine.ChunkRunner.__init__

    def spy(self, *args, **kwargs):
        real(self, *args, **kwargs)
        seen.append(self.adam._rank1[4:])  # (dense slices, axpy pieces)

    for name in ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    monkeypatch.setattr(_angd_engine.ChunkRunner, "__init__", spy)
    prob = an.Scenario.preset("paper").draw(1, rng=0)
    an.solve(prob, "angd-fcn", rng=1, iters=3, threads=1, adam_kernel="blas")
    assert len(seen) == 1 and len(seen[0][1]) == 1  # one axpy over the whole buffer
