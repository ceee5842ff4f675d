# %% [markdown]
# # 3 · ANGD's φ-gradient: from $f(W_{t+1})$ back to the network
#
# ANGD (the paper's Algorithm 1, `angd_np.solve(problem, "angd-fcn")`) learns its update rule
# while it solves. One iteration:
#
# $$W_{t+1} = P\big(W_t + \eta_W\, \Phi_{\varphi_t}(\nabla f(W_t))\big)
#   \quad\text{(eq. 9, Alg. 1 lines 3–6; } P \text{ is the projection of eq. 11)},$$
# $$\varphi_{t+1} = \varphi_t + \eta_\varphi\, \Lambda\big(\nabla_\varphi f(W_{t+1})\big)
#   \quad\text{(eq. 10, } \Lambda = \text{Adam, Alg. 1 lines 7–8)}.$$
#
# The network's parameters $\varphi$ are trained to make the *next* CSBF value larger, so
# eq. (10) needs $\nabla_\varphi f(W_{t+1})$: a chain from the CSBF (notebook 1) through the
# projection and the network (notebook 2). This notebook writes that chain explicitly with
# NumPy and the package's public pieces, checks each link by finite differences, shows the
# one change of coordinates the package's `tuned` preset adds (the channel metric), and then
# runs the loop by hand on one instance.
#
# $$\varphi \;\xrightarrow{\ \Phi_\varphi\ }\; y \in \mathbb{R}^{2MK}
#   \;\xrightarrow{\ U = W_t + s\,(y_\text{re} + i\, y_\text{im})\ }\; U
#   \;\xrightarrow{\ P\ (\text{eq. 11})\ }\; V = W_{t+1}
#   \;\xrightarrow{\ f\ (\text{eq. 7a})\ }\; f(V)$$
#
# The input $x_t = [\mathrm{Re}\,\mathrm{vec}\,G_t,\ \mathrm{Im}\,\mathrm{vec}\,G_t]/\nu$ with
# $G_t = \partial f/\partial W^*$ at $W_t$ is data: it does not depend on $\varphi$ (as in the
# paper's back-propagation). $\nu$ scales the input and $s = \eta_W \cdot$(output scale) the
# step; the paper takes $\nu = 1$, $s = \eta_W = 1$.

# %%
import matplotlib.pyplot as plt
import numpy as np

import angd_np as an
from angd_np import nn
from angd_np.solvers._angd_engine import channel_metric  # the tuned preset's S (section 4)
from angd_np.solvers.linear import beam_headroom, sensing_beam  # the second start (section 5)

rng = np.random.default_rng(2024)
problem = an.Scenario.preset("balanced").draw(1, rng)[0]  # one instance, no batch axis
M, K, p_max = problem.n_tx, problem.n_users, problem.p_max
MK = M * K


def random_complex(shape, rng):
    return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


def unit(X):
    return X / np.linalg.norm(X)


def f(X):
    """The CSBF, eq. (7a) (angd_np.csbf)."""
    return float(an.csbf(X, problem))


def fd_slope(phi, X, D, h=1e-4):
    """(d/dt) phi(X + tD) at t = 0, fourth-order central difference, step h ||X||."""
    h = h * np.linalg.norm(X)
    return (8 * (phi(X + h * D) - phi(X - h * D))
            - (phi(X + 2 * h * D) - phi(X - 2 * h * D))) / (12 * h)


def relative_error(phi, X, G_claimed, rng, n_directions=8):
    """||predicted - measured|| / ||measured|| of the slopes 2 Re <G, D> (notebook 1)."""
    directions = [unit(random_complex(X.shape, rng)) for _ in range(n_directions)]
    predicted = np.array([2 * np.real(np.vdot(G_claimed, D)) for D in directions])
    measured = np.array([fd_slope(phi, X, D) for D in directions])
    return np.linalg.norm(predicted - measured) / np.linalg.norm(measured)


W0 = an.project_power(random_complex((M, K), rng), p_max)  # W_0 on the power sphere
print(f"M = {M}, K = {K}, omega = {problem.omega:g}, f(W_0) = {f(W0):.4f}")

# %% [markdown]
# ## 1. The projection (eq. 11) and its backward pass
#
# $P(U) = U$ inside the power ball; outside it $P(U) = cU$ with $c = \sqrt{p_\max}/\|U\|_F$
# (`angd_np.project_power`). Let $G_V = \partial f/\partial V^*$ at $V = P(U)$. On the scaled
# branch $dV = c\, dU + U\, dc$, and from $\|U\|^2 = \langle U, U\rangle$,
# $dc = -c\,\mathrm{Re}\langle U, dU\rangle/\|U\|^2$. Then
#
# $$df = 2\,\mathrm{Re}\langle G_V, dV\rangle
#   = 2\,\mathrm{Re}\langle c\, G_V, dU\rangle
#     - 2c\,\frac{\mathrm{Re}\langle G_V, U\rangle\,\mathrm{Re}\langle U, dU\rangle}{\|U\|^2}
#   = 2\,\mathrm{Re}\Big\langle c\Big(G_V - \frac{\mathrm{Re}\langle U, G_V\rangle}{\|U\|^2}
#     U\Big), dU\Big\rangle ,$$
#
# so $G_U = \partial f/\partial U^* = c\,\big(G_V - \mathrm{Re}\langle U, G_V\rangle\, U /
# \|U\|^2\big)$ (`angd_np.project_power_backward`): the part of $G_V$ tangent to the sphere,
# scaled by $c$. The radial part is lost: scaling $U$ does not move $P(U)$. Inside the ball
# $G_U = G_V$.

# %%
U = 1.7 * W0 + 0.3 * an.project_power(random_complex((M, K), rng), p_max)  # outside the ball
V = an.project_power(U, p_max)
G_V = an.csbf_grad(V, problem)
c = np.sqrt(p_max) / np.linalg.norm(U)
G_U_by_hand = c * (G_V - np.real(np.vdot(U, G_V)) * U / np.linalg.norm(U) ** 2)
G_U = an.project_power_backward(U, p_max, G_V)
assert np.allclose(G_U, G_U_by_hand, rtol=1e-13, atol=0)


def f_of_projection(X):
    return f(an.project_power(X, p_max))


err = relative_error(f_of_projection, U, G_U, rng)
radial = 2 * np.real(np.vdot(G_U, unit(U))) / (2 * np.linalg.norm(G_U))
inside = 0.5 * W0
err_inside = relative_error(f_of_projection, inside,
                            an.project_power_backward(inside, p_max, an.csbf_grad(inside, problem)),
                            rng)
print(f"outside the ball: relative error {err:.1e}; radial slope / largest slope {radial:.0e}")
print(f"inside the ball:  relative error {err_inside:.1e}")
assert err < 1e-8 and abs(radial) < 1e-12 and err_inside < 1e-8

# %% [markdown]
# ## 2. From $G_U$ to the network's output
#
# The network's real output $y$ of length $2MK$ is read as the real parts (first $MK$
# entries) and imaginary parts (last $MK$) of an $M \times K$ array, row-major; the input
# $x_t$ uses the same layout. With $U = W_t + s\,(y_\text{re} + i\,y_\text{im})$,
#
# $$df = 2\,\mathrm{Re}\,\langle G_U, dU\rangle
#   = 2s \sum \big(\mathrm{Re}\,G_U \odot dy_\text{re} + \mathrm{Im}\,G_U \odot
#     dy_\text{im}\big),$$
#
# so the *real* gradient of $f$ with respect to the network output is
#
# $$\frac{\partial f}{\partial y_\text{re}} = 2s\,\mathrm{Re}\,G_U, \qquad
#   \frac{\partial f}{\partial y_\text{im}} = 2s\,\mathrm{Im}\,G_U .$$
#
# Note the factor 2: it is the $2\,\mathrm{Re}$ of notebook 1, and forgetting it halves every
# step of Adam's *gradient* (Adam's step size hides it, but its $\epsilon$ and any gradient
# clipping would not).

# %%
def to_complex(y):
    """Network output (2MK,) -> M x K complex array (real parts first, row-major)."""
    return (y[:MK] + 1j * y[MK:]).reshape(M, K)


def to_real(G):
    """M x K complex array -> (2MK,) real vector in the network's layout."""
    return np.concatenate([G.real.ravel(), G.imag.ravel()])


s = 1.0  # the paper: eta_W = 1, raw output
y0 = rng.standard_normal(2 * MK) * 0.1


def f_of_output(y):
    return f(an.project_power(W0 + s * to_complex(y), p_max))


U0 = W0 + s * to_complex(y0)
dy = 2 * s * to_real(an.project_power_backward(U0, p_max,
                                               an.csbf_grad(an.project_power(U0, p_max), problem)))
numeric = np.empty_like(y0)
for j in range(y0.size):
    e = np.zeros_like(y0)
    e[j] = 1e-6
    numeric[j] = (f_of_output(y0 + e) - f_of_output(y0 - e)) / 2e-6
err = np.linalg.norm(numeric - dy) / np.linalg.norm(dy)
print(f"df/dy: relative error against finite differences {err:.1e}")
assert err < 1e-6

# %% [markdown]
# ## 3. The whole φ-gradient, checked
#
# Now the network itself, the paper's FCN (`angd_np.nn.fcn`: $2MK \to$ hidden $\to$ hidden
# $\to 2MK$, ReLU; PyTorch's default initialisation, as a PyTorch implementation would get).
# One forward pass proposes $W_{t+1}$, and one `backward` with $\bar y = \partial f/\partial y$
# from section 2 fills `net.grads` with $\nabla_\varphi f(W_{t+1})$. We compare that with
# central differences on randomly chosen parameters, perturbing `net.flat_params` in place.

# %%
net = nn.fcn(2 * MK, 32, rng=np.random.default_rng(1), init="torch")
G_t = an.csbf_grad(W0, problem)
nu = 1.0  # the paper feeds the raw gradient
x_t = (to_real(G_t) / nu)[None, :]  # a batch of one row


def propose(x):
    """U = W_t + s Phi(x) and W_{t+1} = P(U) (eq. 9 and 11)."""
    U = W0 + s * to_complex(net.forward(x)[0])
    return U, an.project_power(U, p_max)


def phi_gradient():
    """grad_phi f(W_{t+1}), written as the chain above."""
    U, V = propose(x_t)
    G_V = an.csbf_grad(V, problem)                      # eq. (7a), notebook 1
    G_U = an.project_power_backward(U, p_max, G_V)      # backward of eq. (11), section 1
    net.backward((2 * s * to_real(G_U))[None, :])       # section 2, then notebook 2
    return net.flat_grads.copy()


def f_of_parameters():
    return f(propose(x_t)[1])


U, _ = propose(x_t)
print(f"projection active: {np.linalg.norm(U) ** 2 > p_max}  "
      f"(||U||^2 = {np.linalg.norm(U) ** 2:.3g} W, p_max = {p_max:g} W)")
assert np.linalg.norm(U) ** 2 > p_max  # so the check covers the scaled branch

analytic = phi_gradient()
picked = np.random.default_rng(2).choice(net.n_params, size=40, replace=False)
numeric = []
for j in picked:
    saved = net.flat_params[j]
    net.flat_params[j] = saved + 1e-6
    up = f_of_parameters()
    net.flat_params[j] = saved - 1e-6
    down = f_of_parameters()
    net.flat_params[j] = saved
    numeric.append((up - down) / 2e-6)
err = np.linalg.norm(np.array(numeric) - analytic[picked]) / np.linalg.norm(analytic[picked])
print(f"{net.n_params} parameters, 40 checked: relative error {err:.1e}")
assert err < 1e-5

# %% [markdown]
# ## 4. The `tuned` preset's channel metric: a change of coordinates
#
# Of what the package's `tuned` preset (section 5) adds to the paper, one changes the chain:
# `precondition="channel"`, with which the network sees and moves $W$ in other coordinates
# $Q$, column by column
#
# $$w_j = S_j\, q_j, \qquad S_j = \big(I + \varrho\, H_{-j} H_{-j}^H\big)^{-1/2}, \qquad
#   \varrho = \frac{p_\max}{K \sigma^2},$$
#
# with $H_{-j}$ the channels of the users other than $j$ (`channel_metric` in
# `angd_np/solvers/_angd_engine.py`). $S_j$ is Hermitian and fixed per instance; it shrinks
# each direction in the span of the other users' channels by $(1 + \varrho \sigma_i^2)^{-1/2}$
# ($\sigma_i$ the singular values of $H_{-j}$) and leaves every other direction alone.
#
# *Why.* At high SNR every user's SINR is large, and the CSBF is stiff in one kind of
# direction: leaking beam $j$ towards user $k$ adds the interference $|h_k^H w_j|^2$ to a
# denominator of about $\sigma^2$, a curvature of about $\|h_k\|^2/\sigma^2$ (here
# $p_\max/\sigma^2 = 10^{11}$). A plain gradient step short enough for those directions is
# far too short for all the others. $S_j^2$ is about the inverse of that curvature, so in $Q$
# the stiff directions are no stiffer than the rest.
#
# *What changes in the chain.* With $W = \mathcal S Q$ ($\mathcal S$ applies $S_j$ to column
# $j$), $dW = \mathcal S\, dQ$ and
#
# $$df = 2\,\mathrm{Re}\,\langle G, \mathcal S\, dQ\rangle
#   = 2\,\mathrm{Re}\,\langle \mathcal S^H G, dQ\rangle
#   = 2\,\mathrm{Re}\,\langle \mathcal S G, dQ\rangle
#   \quad\Rightarrow\quad \frac{\partial f}{\partial Q^*} = \mathcal S G
#   \quad (S_j^H = S_j).$$
#
# ANGD in $Q$ is sections 1–3 with $G$ replaced by $\mathcal S G$: the network's input is
# $x_t = \mathrm{vec}(\mathcal S G_t)/\nu$, and its output moves $Q$, so it moves $W$ by
# $\mathcal S$ of it: $U = W_t + s\,\mathcal S\,\Phi_\varphi(x_t)$ (the projection of eq. 11
# still acts on $W$, whose power is what is bounded). In the φ-gradient the output's map
# brings one more $\mathcal S$: section 2 becomes
#
# $$\frac{\partial f}{\partial y} = 2s\,\mathrm{vec}(\mathcal S G_U),$$
#
# and the projection's and the network's backward passes (sections 1 and 3) are unchanged.
# The cell checks that by finite differences on our instance, then shows on a larger one
# ($M, K = 64, 8$, where the stiffness bites hardest) what the metric buys: the CSBF after one
# step from zero forcing of length $t\,\|W\|_F$, along the gradient $G$ and along
# $\mathcal S \mathcal S G$ (the ascent direction $\mathcal S G$ of $Q$, mapped to $W$), both
# with their radial part removed (ZF uses the full power, so the projection would remove it).

# %%
def apply_metric(S, X):
    """S X column by column: column j of the result is S_j x_j."""
    return np.einsum("jab,bj->aj", S, X)


S_metric = channel_metric(problem.H, p_max, problem.noise_var)  # S_j in [j], (K, M, M)
assert np.allclose(S_metric, S_metric.conj().transpose(0, 2, 1), rtol=0, atol=1e-14)
h_1, h_2 = problem.H.T
shrink = np.linalg.norm(S_metric[0] @ h_2) / np.linalg.norm(h_2)  # S_1 along user 2's channel
rho_metric = p_max / (K * problem.noise_var)
print(f"S_1 shrinks h_2 by {shrink:.1e} = (1 + rho ||h_2||^2)^(-1/2), its own h_1 by "
      f"{np.linalg.norm(S_metric[0] @ h_1) / np.linalg.norm(h_1):.2f}")
assert np.isclose(shrink, 1 / np.sqrt(1 + rho_metric * np.linalg.norm(h_2) ** 2), rtol=1e-8)


def f_of_output_in_metric(y):
    return f(an.project_power(W0 + s * apply_metric(S_metric, to_complex(y)), p_max))


U0 = W0 + s * apply_metric(S_metric, to_complex(y0))
G_U0 = an.project_power_backward(U0, p_max, an.csbf_grad(an.project_power(U0, p_max), problem))
dy_metric = 2 * s * to_real(apply_metric(S_metric, G_U0))  # one more S than in section 2
numeric = np.empty_like(y0)
for j in range(y0.size):
    e = np.zeros_like(y0)
    e[j] = 1e-6
    numeric[j] = (f_of_output_in_metric(y0 + e) - f_of_output_in_metric(y0 - e)) / 2e-6
err = np.linalg.norm(numeric - dy_metric) / np.linalg.norm(dy_metric)
print(f"df/dy in the metric: relative error against finite differences {err:.1e}")
assert err < 1e-6

big = an.Scenario.preset("balanced", n_tx=64, n_users=8).draw(1, np.random.default_rng(5))[0]
W_zf_big = an.solve(big, "zf").W
f_zf_big, G_big = an.csbf_and_grad(W_zf_big, big)
S_big = channel_metric(big.H, big.p_max, big.noise_var)


def csbf_change(D, t):
    """f after a step of length t ||W|| from ZF along D (radial part removed), minus f(ZF)."""
    D = D - np.real(np.vdot(W_zf_big, D)) / np.linalg.norm(W_zf_big) ** 2 * W_zf_big
    W = an.project_power(W_zf_big + t * np.linalg.norm(W_zf_big) * unit(D), big.p_max)
    return float(an.csbf(W, big)) - float(f_zf_big)


lengths = [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1]
plain = [csbf_change(G_big, t) for t in lengths]
in_metric = [csbf_change(apply_metric(S_big, apply_metric(S_big, G_big)), t) for t in lengths]
print(f"\nM, K = 64, 8: f(ZF) = {float(f_zf_big):.2f}; "
      "change of f after one step of length t ||W||")
print(f"{'t':<13}" + "".join(f"{t:>10.0e}" for t in lengths))
print(f"{'along G':<13}" + "".join(f"{d:>+10.1e}" for d in plain))
print(f"{'along S S G':<13}" + "".join(f"{d:>+10.1e}" for d in in_metric))
assert plain[0] > 0  # a short enough plain step ascends (first order) ...
# ... a longer one descends:
assert all(d < 0 for t, d in zip(lengths, plain, strict=True) if t >= 1e-4)
assert all(d > 0 for d in in_metric)  # in the metric every length ascends
assert max(in_metric) > 1000 * max(plain)

# %% [markdown]
# The plain gradient is the steepest direction in $W$'s own coordinates (its first-order
# gain at $t = 10^{-6}$ is a little larger), but it bends down already at $10^{-5}$ and
# loses from $10^{-4}$ of $\|W\|$ on: the part of the step that leaks beams towards other
# users costs, quadratically, more than the rest gains, and at $10^{-1}$ the step costs
# about half the CSBF. The metric step gains in proportion to its length up to $10^{-2}$ and
# still gains at $10^{-1}$: the best step along $\mathcal S\mathcal S G$ raises the CSBF
# over ten thousand times as much as the best along $G$. A network whose steps live in $W$'s
# coordinates has to learn this metric before it can climb; in $Q$ it gets it for free.

# %% [markdown]
# ## 5. Watching one instance solve
#
# With the chain in hand, Algorithm 1 is a short loop. The paper's configuration: raw input
# ($\nu = 1$), raw output ($s = \eta_W = 1$), Adam with $\eta_\varphi = 10^{-4}$ ascending $f$,
# $T = 500$, hidden width 128 (the paper does not give it; it is the package's default), and
# the best iterate is kept (line 10). We run it by hand and beside it the package's solver,
# from the same $W_0$, in the paper's configuration. The networks are drawn from different
# streams, so the two paper runs are not identical, but they should behave alike.
#
# Then the package's own configuration, `variant="tuned"` (`VARIANTS` in
# `angd_np/solvers/angd.py`): the gradient scaled to unit RMS at the input, a step of
# $\eta_W = 0.03$ times $\|W_t\|_F/\sqrt{MK}$ per unit of output, a zero output layer at the
# start (so the first step is zero), $\eta_\varphi = 2.4 \cdot 10^{-4}$, the channel metric of
# section 4 (`precondition="channel"`), and, unlike the paper, a start chosen by a *pilot*
# (`pilot=100`), then $T = 400$ iterations. The two rates are the values for $MK \le 32$;
# above, both are multiplied by $\sqrt{32/(MK)}$ (`size_scale="sqrt"`: larger problems get
# smaller steps and a slower-learning network). This instance has $M = 16$, $K = 2$, so
# $MK = 32$ and they apply unscaled.
#
# *The start.* Two chains can be stepped, with the same network draw: one from zero forcing,
# one from the sensing beam (`angd_np.solvers.linear.sensing_beam`: all the power along the
# best radar direction, in one user's column). Why both: in the `balanced` scenario of this
# instance the optimum lies near zero forcing, and the sensing beam is a trap, an optimum in
# which one user gets no power at all, about 23% short. In the paper's sensing-dominated
# scenario ($\omega = 10^4$) it is the other way round: the optimum lies near the sensing
# beam, far from zero forcing, and the chain from zero forcing alone stalls on its way there
# (notebook 4 measures by how much at $M = 10$). Which one, the preset decides before any
# iteration by the users' *rate headroom* (`headroom=(0.01, 0.1)`,
# `angd_np.solvers.linear.beam_headroom`): the beam has the largest sensing gain of any
# precoder, and user k's rate is at most $\log_2(1 + p_{max}\|h_k\|^2/\sigma^2)$, so no
# precoder's CSBF exceeds the beam's by more than the sum of these bounds minus the beam's
# own sum rate; q is that excess as a fraction of the beam's CSBF. Where q <= 1% the beam is
# within 1% of the optimum and its chain alone runs; where q > 10% the rates decide and ZF's
# chain alone runs; in between both run to the end and the better is kept. The beam's chain
# cannot learn to serve a dropped user: that user's column is zero, so is its gradient, and
# so (with the zero output layer) is the network's output for it. The first `pilot=100`
# iterations of a chain are not in `history` or `nit` (its best point still counts in the
# result); `init` is not used. (Before `headroom`, both chains ran 100 iterations and the
# better went on: at high power the beam's chain leads after 100 and the ZF chain overtakes
# it later, which that pick could not see.)
#
# We run the two pilot chains by hand (`pilot=0`, `iters=100`, `init=` each start), then the
# preset as it is. To separate what the start does from what the update rule does, two
# more runs switch the pilot off (`pilot=0`) and take 400 iterations from one start: from
# the paper's random $W_0$ (`init=W0`), and from zero forcing without the metric
# (`precondition="none"`), to be compared with the kept pilot chain, which also starts from
# zero forcing: that comparison is the metric's effect alone. Lines: zero forcing
# (`solve(problem, "zf")`) and the best-known optimum (`solve(problem, "reference")`).

# %%
def angd_by_hand(W_start, T=500, hidden=128, eta_w=1.0, eta_phi=1e-4, seed=0):
    net = nn.fcn(2 * MK, hidden, rng=np.random.default_rng(seed), init="torch")
    opt = nn.Adam(net.flat_params, lr=eta_phi, maximize=True)
    W = W_start
    f_W, G = an.csbf_and_grad(W, problem)
    best_f, best_W, history = f_W, W, []
    for _ in range(T):
        y = net.forward(to_real(G)[None, :])[0]           # Phi(grad f(W_t)), raw input
        U = W + eta_w * to_complex(y)                     # eq. (9), Alg. 1 lines 4-5
        W = an.project_power(U, p_max)                    # eq. (11), line 6
        f_W, G_next = an.csbf_and_grad(W, problem)        # f(W_{t+1}) and its gradient
        G_U = an.project_power_backward(U, p_max, G_next)
        net.backward((2 * eta_w * to_real(G_U))[None, :])  # grad_phi f(W_{t+1})
        opt.step(net.flat_grads)                          # eq. (10), lines 7-8
        G = G_next
        history.append(f_W)
        if f_W > best_f:                                  # line 10: keep the best
            best_f, best_W = f_W, W
    return best_W, np.array(history)


W_hand, history_hand = angd_by_hand(W0)
paper_run = an.solve(problem, "angd-fcn", init=W0, rng=0)
zf = an.solve(problem, "zf")
f_zf = float(zf.csbf)
W_beam = sensing_beam(problem)
reference = an.solve(problem, "reference", rng=0)
f_ref = float(reference.csbf)


def gap(value):
    """Optimality gap: the CSBF's distance to the best-known optimum, relative."""
    return 1 - value / f_ref


# The pilot by hand: the two chains, 100 iterations each, the same network draw (rng=0).
pilot_zf = an.solve(problem, "angd-fcn", variant="tuned", pilot=0, iters=100, rng=0)
pilot_beam = an.solve(problem, "angd-fcn", variant="tuned", pilot=0, iters=100, init=W_beam,
                      rng=0)
print("the two chains, best gap after 100 iterations: from ZF "
      f"{gap(float(pilot_zf.csbf)):.2%}, from the sensing beam {gap(float(pilot_beam.csbf)):.2%}"
      f" (user rates there: {np.round(an.rates(pilot_beam.W, problem), 2)} bit/s/Hz)")
# The preset: the rate headroom here is far above 10%, so ZF's chain alone, 100 + 400 iterations.
q = float(beam_headroom(problem))
print(f"rate headroom q = {q:.1%}: no precoder beats the sensing beam by more than that")
tuned_run = an.solve(problem, "angd-fcn", variant="tuned", rng=0)
# ... which is the ZF chain continued from its state (iterate, network, Adam moments):
continued = an.solve(problem, "angd-fcn", variant="tuned", state=pilot_zf.state, iters=400)
print("tuned preset = the ZF pilot chain continued by 400 iterations, bit for bit:",
      np.array_equal(tuned_run.history, continued.history)
      and np.array_equal(tuned_run.W, continued.W))
# Without the pilot: 400 iterations from one start.
tuned_from_W0 = an.solve(problem, "angd-fcn", variant="tuned", pilot=0, init=W0, rng=0)
tuned_no_metric = an.solve(problem, "angd-fcn", variant="tuned", pilot=0, precondition="none",
                           rng=0)  # from ZF (the preset's init)

rows = [("W_0", W0), ("zero forcing", zf.W), ("sensing beam", W_beam),
        ("ANGD by hand (paper config.)", W_hand), ("angd-fcn, paper preset", paper_run.W),
        ("tuned, pilot=0, from W_0", tuned_from_W0.W),
        ("tuned, pilot=0, ZF, no metric", tuned_no_metric.W),
        ("angd-fcn, tuned preset", tuned_run.W), ("reference optimum", reference.W)]
print(f"\n{'':<30}{'CSBF':>9}{'sum rate':>10}{'sensing':>9}{'gap':>8}")
for name, X in rows:
    print(f"{name:<30}{f(X):>9.3f}{float(an.sum_rate(X, problem)):>10.3f}"
          f"{float(an.sensing_gain(X, problem)):>9.4f}{gap(f(X)):>8.2%}")
print()
# The kept chain from its start: the pilot's 100 iterations, then the preset's 400.
kept_chain = np.concatenate([pilot_zf.history, tuned_run.history])
for name, history in (("tuned preset", kept_chain), ("pilot=0, from W_0", tuned_from_W0.history),
                      ("pilot=0, no metric", tuned_no_metric.history)):
    running_best = np.maximum.accumulate(np.asarray(history))
    within = np.flatnonzero(gap(running_best) < 1e-3)
    print(f"{name:<19}: {len(running_best)} iterations from its start; best of the first "
          f"100 / 250 / 400: gap {gap(running_best[99]):.2%} / {gap(running_best[249]):.2%} / "
          f"{gap(running_best[399]):.2%}; within 0.1% of the optimum from iteration "
          f"{within[0] + 1 if within.size else 'never'}")

assert f(W_hand) > f(W0) and float(paper_run.csbf) > f(W0) and float(tuned_run.csbf) > f_zf
assert min(gap(f(W_hand)), gap(float(paper_run.csbf))) > 0.10  # the paper's config.: far short
# The sensing-beam chain is the trap here (a user without power, > 15% short) ...
assert gap(float(pilot_beam.csbf)) > 0.15 and an.rates(pilot_beam.W, problem).min() < 0.01
assert gap(float(pilot_zf.csbf)) < 0.5 * gap(float(pilot_beam.csbf))
assert q > 0.1  # ... and the headroom rule runs ZF's chain alone
assert f(W_beam) * (1 + q) >= f_ref  # the bound holds for the best-known optimum
assert np.array_equal(tuned_run.history, continued.history)  # and goes on, exactly
assert len(tuned_run.history) == tuned_run.nit == 400  # the pilot is not in the history
assert gap(float(tuned_run.csbf)) < 1e-3  # the preset ends within 0.1% of the optimum,
assert gap(float(tuned_from_W0.csbf)) < 2e-3  # from the random W_0 almost as close
# The metric's share, both from ZF: 400 iterations without it against the kept chain's 400.
assert gap(float(tuned_no_metric.csbf)) > 10 * gap(np.max(kept_chain[:400]))
assert float(paper_run.csbf) < float(tuned_no_metric.csbf) < float(tuned_run.csbf)
assert np.linalg.norm(W_hand) ** 2 <= p_max * (1 + 1e-12)  # feasible

# %%
COLOR = {"W_0": "0.6", "ANGD by hand (paper config.)": "C0", "angd-fcn, paper preset": "C1",
         "tuned, pilot=0, from W_0": "C2", "tuned, pilot=0, ZF, no metric": "C4",
         "pilot chain from the sensing beam": "C8", "angd-fcn, tuned preset": "C3",
         "reference optimum": "k"}
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.6))
for label, history in (("ANGD by hand (paper config.)", history_hand),
                       ("angd-fcn, paper preset", paper_run.history),
                       ("tuned, pilot=0, from W_0", tuned_from_W0.history),
                       ("tuned, pilot=0, ZF, no metric", tuned_no_metric.history),
                       ("pilot chain from the sensing beam", pilot_beam.history),
                       ("angd-fcn, tuned preset", kept_chain)):  # its pilot chain, then 400
    history = np.asarray(history)
    ax1.semilogy(np.arange(1, len(history) + 1), np.maximum(gap(history), 1e-6), lw=1,
                 color=COLOR[label], label=label)
ax1.axvline(100.5, color="C3", ls=":", lw=0.8)  # the pilot ends: 400 iterations follow
ax1.axhline(gap(f_zf), color="0.5", ls=":", lw=0.8, label="zero forcing")
ax1.axhline(1e-3, color="k", ls="--", lw=0.6, label="0.1% gap")
ax1.set_xlabel("iteration t from the start (dotted red: the pilot ends)")
ax1.set_ylabel("gap 1 - f(W_{t+1}) / f_ref")
ax1.set_title("Gap to the best-known optimum per iteration")
ax1.set_ylim(1e-5, 1.5)  # room for the legend below the lines
ax1.legend(fontsize=6.5, loc="lower left", ncol=2)

grid_deg = np.linspace(-90, 90, 361)
A_grid = an.ula_steering(np.deg2rad(grid_deg), M)  # eq. (2) on a grid
shown = ("W_0", "ANGD by hand (paper config.)", "angd-fcn, tuned preset", "reference optimum")
for name, X in (row for row in rows if row[0] in shown):
    ax2.plot(grid_deg, an.beampattern(X, A_grid), lw=1, color=COLOR[name],  # eq. (6)
             ls="--" if name == "reference optimum" else "-", label=name)
for angle in np.rad2deg(problem.target_angles_rad):
    ax2.axvline(angle, color="k", ls=":", lw=0.7)
ax2.set_xlabel("angle (deg); dotted: targets")
ax2.set_ylabel("beampattern p(θ) (W)")
ax2.set_title("Beampattern before and after")
ax2.legend(fontsize=7)
fig.tight_layout()

# %% [markdown]
# What to read in the table and the plots. The paper's configuration climbs noisily (the raw
# network output is a large step, the projection decides much of each one, and Adam with
# $\eta_\varphi = 10^{-4}$ adapts the network slowly) and stops far short of the best-known
# optimum on this instance (the gap column: about 18–20%). The tuned preset's pilot runs its
# two chains: after 100 iterations the one from zero forcing (33% short at its start; ZF
# ignores sensing) is 3.2% short, the one from the sensing beam 25.0%, stuck where user 1
# gets no rate at all, so the pilot keeps the ZF chain, and the preset's run is that chain
# continued, bit for bit. It gets within 0.1% of the optimum by iteration 212 from its start
# (the 112th of the 400 in `history`) and ends 0.01% short; its beampattern lies on the
# reference's (dashed). The pilot's price is its second chain: 600 iterations of work for
# the 500 of this chain. With the pilot off, from the paper's random $W_0$ the same rule gets
# there as well in 400 iterations (0.08%): on this instance the start matters little, as
# long as it is not the trap. Without the metric, from zero forcing as well, the rule is
# still 4.2% short after 250 and after 400 iterations (against 0.02% with the metric): that
# is the metric's share here, and at larger sizes it matters more (section 4). On the tuning
# instances the preset was chosen on (`studies/angd_tuning/angd_quality_study.py`, seed 1), its median
# gap is 0.01% at $(M, K)$ = (16, 2) and (64, 8) in the `balanced` scenario and 0.00% at
# $M = 10$ in the `paper` scenario, where zero forcing alone falls short (notebook 4 re-runs
# both scenarios at $M = 10$ on 100 trials). These are the numbers of one instance and of
# tuning instances; the README's results section compares the methods over hundreds of
# held-out instances, and notebook 4 reproduces one of the paper's figures in small.
