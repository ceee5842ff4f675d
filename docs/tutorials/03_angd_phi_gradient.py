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
# NumPy and the package's public pieces, checks each link by finite differences, and then
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
# ## 4. Watching one instance solve
#
# With the chain in hand, Algorithm 1 is a short loop. The paper's configuration: raw input
# ($\nu = 1$), raw output ($s = \eta_W = 1$), Adam with $\eta_\varphi = 10^{-4}$ ascending $f$,
# $T = 500$, hidden width 128 (the paper does not give it; it is the package's default), and
# the best iterate is kept (line 10). We run it by hand and beside it the package's solver,
# from the same $W_0$, in the paper's configuration. The networks are drawn from different
# streams, so the two paper runs are not identical, but they should behave alike.
#
# Then the package's own configuration, `preset="tuned"` (`PRESETS` in
# `angd_np/solvers/angd.py`): the gradient scaled to unit RMS at the input, a step of
# $\eta_W = 0.03$ times $\|W_t\|_F/\sqrt{MK}$ per unit of output, a zero output layer at the
# start (so the first step is zero), $\eta_\varphi = 1.2 \cdot 10^{-4}$, and, unlike the paper,
# it starts from zero forcing and runs $T = 1500$ iterations. These two rates are the values
# for $MK \le 32$; above, both are multiplied by $\sqrt{32/(MK)}$ (`size_scale="sqrt"`:
# larger problems get smaller steps and a slower-learning network). This instance has
# $M = 16$, $K = 2$, so $MK = 32$ and they apply unscaled. We run it as the preset is, and
# once more from the paper's random $W_0$ (`init=W0`) to separate what the start does from
# what the update rule does. Lines: zero forcing (`solve(problem, "zf")`) and the best-known
# optimum (`solve(problem, "reference")`).

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
tuned_run = an.solve(problem, "angd-fcn", preset="tuned", rng=0)  # from ZF, T = 1500
tuned_from_W0 = an.solve(problem, "angd-fcn", preset="tuned", init=W0, rng=0)
zf = an.solve(problem, "zf")
f_zf = float(zf.csbf)
reference = an.solve(problem, "reference", rng=0)
f_ref = float(reference.csbf)


def gap(value):
    """Optimality gap: the CSBF's distance to the best-known optimum, relative."""
    return 1 - value / f_ref


rows = [("W_0", W0), ("zero forcing", zf.W), ("ANGD by hand (paper config.)", W_hand),
        ("angd-fcn, paper preset", paper_run.W), ("angd-fcn, tuned, from W_0", tuned_from_W0.W),
        ("angd-fcn, tuned preset", tuned_run.W), ("reference optimum", reference.W)]
print(f"{'':<30}{'CSBF':>9}{'sum rate':>10}{'sensing':>9}{'gap':>8}")
for name, X in rows:
    print(f"{name:<30}{f(X):>9.3f}{float(an.sum_rate(X, problem)):>10.3f}"
          f"{float(an.sensing_gain(X, problem)):>9.4f}{gap(f(X)):>8.2%}")
tuned_history = np.asarray(tuned_run.history)
best_at_500 = float(tuned_history[:500].max())
print(f"tuned preset: {len(tuned_history)} iterations; best of the first 500: "
      f"gap {gap(best_at_500):.1%}")

assert f(W_hand) > f(W0) and float(paper_run.csbf) > f(W0) and float(tuned_run.csbf) > f_zf
assert min(gap(f(W_hand)), gap(float(paper_run.csbf))) > 0.10  # the paper's config.: far short
assert gap(float(tuned_run.csbf)) < 1e-3  # the tuned preset: within 0.1% of the optimum
assert gap(best_at_500) > 0.01  # ... which it needs its T = 1500 for
assert 1e-3 < gap(float(tuned_from_W0.csbf)) < 0.05  # from W_0: a few percent short
assert float(paper_run.csbf) < float(tuned_from_W0.csbf) < float(tuned_run.csbf)
assert np.linalg.norm(W_hand) ** 2 <= p_max * (1 + 1e-12)  # feasible

# %%
COLOR = {"W_0": "0.6", "ANGD by hand (paper config.)": "C0", "angd-fcn, paper preset": "C1",
         "angd-fcn, tuned, from W_0": "C2", "angd-fcn, tuned preset": "C3",
         "reference optimum": "k"}
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.6))
for label, history in (("ANGD by hand (paper config.)", history_hand),
                       ("angd-fcn, paper preset", paper_run.history),
                       ("angd-fcn, tuned, from W_0", tuned_from_W0.history),
                       ("angd-fcn, tuned preset", tuned_run.history)):
    history = np.asarray(history)
    ax1.plot(np.arange(1, len(history) + 1), history, lw=1, color=COLOR[label], label=label)
ax1.axhline(f_ref, color="k", ls="--", lw=0.8, label="reference optimum")
ax1.axhline(f_zf, color="0.5", ls=":", lw=0.8, label="zero forcing")
ax1.axvline(500, color="0.7", lw=0.6)  # the paper's T
ax1.set_xlabel("iteration t (the paper's T = 500: grey line)")
ax1.set_ylabel("f(W_{t+1})")
ax1.set_title("CSBF per iteration")
ax1.legend(fontsize=7)

grid_deg = np.linspace(-90, 90, 361)
A_grid = an.ula_steering(np.deg2rad(grid_deg), M)  # eq. (2) on a grid
for name, X in (rows[0], rows[2], rows[5], rows[6]):
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
# optimum on this instance (the gap column: about 18–20%). The tuned preset starts at zero
# forcing and climbs smoothly, with one deep dip on the way (from about iteration 175 to 580
# here; the best iterate is what it returns), to within 0.1% of the optimum; its beampattern
# lies on the reference's (dashed). It needs its budget: the best of its first 500
# iterations, the peak before the dip, is still about 3% short (the line printed under the
# table). From the paper's random $W_0$ the same rule also climbs, but its 1500
# iterations leave it a couple of percent short (2.1% here): the start is part of what the
# preset buys. These are the numbers of one instance; the study behind the preset
# (`scripts/angd_quality_study.py`, issue 13) measures it on held-out instances, the README's
# results section compares the methods over hundreds of instances, and notebook 4 reproduces
# one of the paper's figures in small.
