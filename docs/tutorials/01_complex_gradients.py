# %% [markdown]
# # 1 · Complex gradients of the CSBF, by hand
#
# The paper maximises the *capacity-sensing balance function* (CSBF, eq. 7a) over a complex
# precoder $W \in \mathbb{C}^{M \times K}$:
#
# $$f(W) = \sum_{k=1}^{K} \log_2(1 + \gamma_k) + \omega \sum_{n=1}^{N} a_n^H W W^H a_n .$$
#
# $f$ is real, $W$ is complex, and no autodiff framework is at hand. This notebook derives the
# gradient by hand with Wirtinger calculus, checks every step numerically, and then shows how
# to *test* a complex gradient so that a wrong convention cannot slip through:
#
# 1. the objective, piece by piece, against the package;
# 2. Wirtinger derivatives in one variable, and why $\partial f / \partial W^*$ is the ascent
#    direction;
# 3. the derivation of $G = \partial f / \partial W^*$ in four small steps, each checked;
# 4. the conventions of PyTorch and of autograd/JAX, and a finite-difference check that tells
#    them apart (relative error 1 or more for a wrong one, below $10^{-11}$ for the right one);
# 5. why the complex-step trick cannot work here;
# 6. the Taylor-remainder test: slope 2 on log–log axes for the right gradient, 1 for a wrong
#    one;
# 7. a trap: at the paper's own scale, a wrong rate gradient hides behind the sensing term.
#
# Every `assert` below is a claim of the text; the notebook stops if one fails. Everything
# random comes from one seeded `numpy.random.Generator`, in float64.

# %%
import matplotlib.pyplot as plt
import numpy as np

import angd_np as an

rng = np.random.default_rng(2024)
# One instance of the "balanced" preset (omega = 30: rate and sensing of the same order; the
# last section explains why we do not check gradients at the paper's omega = 1e4 alone).
problem = an.Scenario.preset("balanced").draw(1, rng)[0]  # [0]: no batch axis
M, K, N = problem.n_tx, problem.n_users, problem.n_targets
H, A = problem.H, problem.A  # (M, K) channels h_k (eq. 1), (M, N) steering vectors (eq. 2)
sigma2, omega, p_max = problem.noise_var, problem.omega, problem.p_max


def random_complex(shape, rng):
    return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


# A random precoder at full power: the projection of eq. (11), angd_np.project_power.
W = an.project_power(3 * random_complex((M, K), rng), p_max)
print(f"M = {M} antennas, K = {K} users, N = {N} targets, omega = {omega:g}, "
      f"p_max = {p_max:g} W, noise {sigma2:g} W")
print(f"||W||_F^2 = {np.linalg.norm(W) ** 2:.6f} W")

# %% [markdown]
# ## 1. The objective, piece by piece
#
# With $s_{ki} = h_k^H w_i$ (the matrix $S = H^H W$ holds them all):
#
# - SINR, eq. (5), `angd_np.sinr`:
#   $\gamma_k = |s_{kk}|^2 / \big(\sum_{i \ne k} |s_{ki}|^2 + \sigma^2\big)$;
# - beampattern, eq. (6), `angd_np.beampattern`: $p(\theta_n) = a_n^H W W^H a_n
#   = \sum_k |a_n^H w_k|^2$;
# - CSBF, eq. (7a), `angd_np.csbf` = `angd_np.sum_rate` + $\omega\,$`angd_np.sensing_gain`.

# %%
S = H.conj().T @ W  # S[k, i] = h_k^H w_i
P = np.abs(S) ** 2
signal = np.diag(P)
interference = P.sum(axis=1) - signal + sigma2  # I_k: interference plus noise
gamma = signal / interference
pattern = (np.abs(A.conj().T @ W) ** 2).sum(axis=1)
f_by_hand = np.log2(1 + gamma).sum() + omega * pattern.sum()

assert np.allclose(gamma, an.sinr(W, problem), rtol=1e-12)
assert np.allclose(pattern, an.beampattern(W, A), rtol=1e-12)
assert np.isclose(f_by_hand, an.csbf(W, problem), rtol=1e-12)
print(f"sum rate {float(an.sum_rate(W, problem)):.4f} bit/s/Hz, "
      f"sensing {float(an.sensing_gain(W, problem)):.4f} W, f(W) = {f_by_hand:.6f}")


def f(X):
    """The CSBF of eq. (7a) as a plain float (angd_np.csbf)."""
    return float(an.csbf(X, problem))


# %% [markdown]
# ## 2. Wirtinger calculus in one variable
#
# Write $z = x + iy$. A real function such as $|z|^2 = x^2 + y^2$ is not holomorphic (a
# real-valued holomorphic function is constant, by the Cauchy–Riemann equations), so it has no
# complex derivative $df/dz$. Wirtinger's trick: define
#
# $$\frac{\partial}{\partial z} = \frac12\Big(\frac{\partial}{\partial x}
#   - i\frac{\partial}{\partial y}\Big), \qquad
#   \frac{\partial}{\partial z^*} = \frac12\Big(\frac{\partial}{\partial x}
#   + i\frac{\partial}{\partial y}\Big),$$
#
# and differentiate as if $z$ and $z^*$ were independent variables. For example
# $|z|^2 = z z^*$ gives $\partial |z|^2/\partial z^* = z$, and
# $\partial \log(1 + z z^*)/\partial z^* = z / (1 + |z|^2)$.
#
# For a **real** $f$ the two derivatives are conjugates of each other, and the first-order
# change is
#
# $$df = \frac{\partial f}{\partial x}dx + \frac{\partial f}{\partial y}dy
#   = 2\,\mathrm{Re}\Big(\overline{\frac{\partial f}{\partial z^*}}\, dz\Big).$$
#
# Check on $g(z) = \log(1 + |z|^2)$: finite differences in $x$ and $y$ give
# $\partial g/\partial z^* = \frac12(g_x + i g_y)$, to compare with the Wirtinger result.

# %%
def g(z):
    return np.log(1 + abs(z) ** 2)


z0, h = 0.7 - 1.3j, 1e-6
g_x = (g(z0 + h) - g(z0 - h)) / (2 * h)
g_y = (g(z0 + 1j * h) - g(z0 - 1j * h)) / (2 * h)
from_differences = 0.5 * (g_x + 1j * g_y)
wirtinger = z0 / (1 + abs(z0) ** 2)
print(f"(g_x + i g_y)/2 = {from_differences:.10f}")
print(f"z / (1 + |z|^2) = {wirtinger:.10f}")
assert abs(from_differences - wirtinger) < 1e-9

# %% [markdown]
# For a matrix $W$ everything holds entry by entry. Write $G = \partial f/\partial W^*$ (an
# $M \times K$ array) and $\langle X, Y\rangle = \sum_{mk} \overline{X_{mk}}\, Y_{mk}$
# (`np.vdot`). Then along any complex direction $D$
#
# $$\frac{d}{dh} f(W + hD)\Big|_{h=0} = 2\,\mathrm{Re}\,\langle G, D\rangle .$$
#
# **Why $G$ is the ascent direction.** Among unit directions ($\|D\|_F = 1$) the slope
# $2\,\mathrm{Re}\langle G, D\rangle \le 2\|G\|_F$ (Cauchy–Schwarz), with equality only for
# $D = G/\|G\|_F$: gradient *ascent* steps along $+G$, and the steepest slope is $2\|G\|_F$,
# not $\|G\|_F$. Below, `G` comes from the package (`angd_np.csbf_grad`, the gradient of
# eq. 7a); section 3 derives it. The predicted slope $2\,\mathrm{Re}\langle G, D\rangle$ is
# also `angd_np.gradcheck.directional_derivative`. We measure slopes with a fourth-order
# central difference, whose truncation error is $O(h^4)$.

# %%
def fd_slope(f, W, D, h=1e-4):
    """(d/dt) f(W + tD) at t = 0 by the fourth-order central difference, step h ||W||."""
    h = h * np.linalg.norm(W)
    return (8 * (f(W + h * D) - f(W - h * D))
            - (f(W + 2 * h * D) - f(W - 2 * h * D))) / (12 * h)


def predicted_slope(G, D):
    """The slope along D that a claimed G = df/dW* predicts: 2 Re <G, D>."""
    return 2 * np.real(np.vdot(G, D))


def unit(X):
    return X / np.linalg.norm(X)


G = an.csbf_grad(W, problem)
along_G = fd_slope(f, W, unit(G))
random_slopes = [fd_slope(f, W, unit(random_complex((M, K), rng))) for _ in range(200)]
print(f"2 ||G||                        = {2 * np.linalg.norm(G):.6f}")
print(f"measured slope along G/||G||   = {along_G:.6f}")
print(f"largest of 200 random slopes   = {max(random_slopes):.6f}")
assert abs(along_G - 2 * np.linalg.norm(G)) < 1e-8 * along_G
assert max(random_slopes) < along_G

# %% [markdown]
# The same fact in real coordinates. Split $W = X + iY$ and view $f$ as a function of
# $2MK$ real numbers. Its ordinary gradient, packed back as a complex array
# $\partial f/\partial X + i\,\partial f/\partial Y$ (the *real-composite* gradient), is
# $2G$ by the definition of $\partial/\partial W^*$. Here it is, one entry at a time, by
# central differences:

# %%
real_composite = np.zeros((M, K), dtype=complex)
for m in range(M):
    for k in range(K):
        E = np.zeros((M, K))
        E[m, k] = 1.0
        d_re = fd_slope(f, W, E)  # df/dX[m, k]
        d_im = fd_slope(f, W, 1j * E)  # df/dY[m, k]
        real_composite[m, k] = d_re + 1j * d_im
error = np.linalg.norm(real_composite - 2 * G) / np.linalg.norm(2 * G)
print(f"|| real-composite gradient - 2G || / ||2G|| = {error:.1e}")
assert error < 1e-8

# %% [markdown]
# ## 3. Deriving $G = \partial f/\partial W^*$ in four steps
#
# The same derivation is written in the docstring of `angd_np/objective.py`; here each step
# is checked numerically before the next one uses it. The check of a claimed gradient
# $\hat G$ of a function $\phi$: along $n$ random unit directions $D_j$, compare the slopes it
# predicts, $p_j = 2\,\mathrm{Re}\langle \hat G, D_j\rangle$, with the measured ones $d_j$, and
# report
#
# $$\text{relative error} = \frac{\|p - d\|_2}{\|d\|_2} ,$$
#
# the error *relative to what was measured*. (Section 4 shows why this choice matters.)

# %%
def relative_error(phi, W, G_claimed, rng, n_directions=8):
    """||predicted - measured|| / ||measured|| over random unit complex directions."""
    directions = [unit(random_complex(W.shape, rng)) for _ in range(n_directions)]
    predicted = np.array([predicted_slope(G_claimed, D) for D in directions])
    measured = np.array([fd_slope(phi, W, D) for D in directions])
    return np.linalg.norm(predicted - measured) / np.linalg.norm(measured)


# %% [markdown]
# **Step 1: one squared magnitude.** $|s_{ki}|^2 = (h_k^H w_i)(w_i^H h_k)$. The first factor
# contains no $w_i^*$, the second is linear in it, so
#
# $$\frac{\partial |s_{ki}|^2}{\partial w_i^*} = h_k\, s_{ki},$$
#
# and the derivative with respect to every other column is zero. Check for $k = 0$, $i = 1$
# (the package computes all $s_{ki}$ at once inside `angd_np.sinr` and `angd_np.csbf_grad`):

# %%
k, i = 0, 1


def power_01(X):
    return abs(H[:, k].conj() @ X[:, i]) ** 2


G_step1 = np.zeros((M, K), dtype=complex)
G_step1[:, i] = H[:, k] * S[k, i]
err = relative_error(power_01, W, G_step1, rng)
print(f"step 1: relative error {err:.1e}")
assert err < 1e-8

# %% [markdown]
# **Step 2: one user's rate as a difference of logs.** With the total received power
# $T_k = \sum_i |s_{ki}|^2 + \sigma^2$ and the interference plus noise
# $I_k = T_k - |s_{kk}|^2$, the rate of eq. (7a) (`angd_np.rates`) is
# $R_k = \log_2(1 + \gamma_k) = \log_2 T_k - \log_2 I_k$, and
# $d\log_2 x = dx/(x \ln 2)$ with step 1 give
#
# $$\frac{\partial R_k}{\partial w_i^*} = \frac{h_k\, s_{ki}}{\ln 2}
#   \Big(\frac{1}{T_k} - \frac{[i \ne k]}{I_k}\Big).$$

# %%
total = interference + signal  # T_k
k = 0
G_step2 = np.stack([H[:, k] * S[k, i] / np.log(2)
                    * (1 / total[k] - (i != k) / interference[k]) for i in range(K)], axis=1)


def rate_0(X):
    return float(an.rates(X, problem)[k])


err = relative_error(rate_0, W, G_step2, rng)
print(f"step 2: relative error {err:.1e}")
assert err < 1e-8

# %% [markdown]
# **Step 3: sum over users.** Collect the scalar weights in
# $C_{ki} = s_{ki}\,(1/T_k - [i \ne k]/I_k)/\ln 2$. Column $i$ of the gradient of the sum rate
# (the first term of eq. 7a, `angd_np.sum_rate`) is $\sum_k h_k C_{ki}$, that is
#
# $$\frac{\partial}{\partial W^*} \sum_k R_k = H C .$$

# %%
off_diagonal = 1 - np.eye(K)
C = S * (1 / total[:, None] - off_diagonal / interference[:, None]) / np.log(2)
G_rate = H @ C


def rate(X):
    return float(an.sum_rate(X, problem))


err = relative_error(rate, W, G_rate, rng)
print(f"step 3: relative error {err:.1e}")
assert err < 1e-8

# %% [markdown]
# **Step 4: sensing.** The sensing gain, eq. (6) summed over the targets
# (`angd_np.sensing_gain`), $\sum_n a_n^H W W^H a_n = \mathrm{tr}(W^H A A^H W)$, is a Hermitian
# quadratic form in $W$. The factor $W^H$ holds $W^*$, the factor $W$ does not, so
#
# $$\frac{\partial}{\partial W^*}\,\mathrm{tr}(W^H A A^H W) = A A^H W .$$

# %%
G_sensing = A @ (A.conj().T @ W)


def sensing(X):
    return float(an.sensing_gain(X, problem))


err = relative_error(sensing, W, G_sensing, rng)
print(f"step 4: relative error {err:.1e}")
assert err < 1e-8

# %% [markdown]
# **Result** (`angd_np.csbf_grad`, the gradient of eq. 7a):
#
# $$G = \frac{\partial f}{\partial W^*} = H C + \omega\, A A^H W .$$

# %%
G_by_hand = G_rate + omega * G_sensing
difference = np.linalg.norm(G_by_hand - an.csbf_grad(W, problem)) / np.linalg.norm(G_by_hand)
print(f"|| G by hand - angd_np.csbf_grad || / ||G|| = {difference:.1e}")
assert difference < 1e-12

# %% [markdown]
# ## 4. Conventions, and a check that tells them apart
#
# Every framework stores the same information in a different array:
#
# | convention | array, for a real $f$ | in terms of $G$ | ascent direction |
# |---|---|---|---|
# | this package, `angd_np.csbf_grad` | $\partial f/\partial W^*$ | $G$ | the array |
# | PyTorch's `.grad` | $f_X + i f_Y$ | $2G$ | the array |
# | HIPS autograd's and JAX's `grad` | $f_X - i f_Y$ | $\overline{2G}$ | its conjugate |
# | the other Wirtinger derivative | $\partial f/\partial W$ | $\overline{G}$ | its conjugate |
#
# with $W = X + iY$, $f_X = \partial f/\partial X$ and $f_Y = \partial f/\partial Y$ (real
# arrays of partial derivatives).
#
# None is wrong in its own framework. The bug is to use one where another is expected: feed
# PyTorch's $2G$ into $df = 2\,\mathrm{Re}\langle G, dW\rangle$ and every slope doubles; take
# autograd's array as an ascent direction and the imaginary part points the wrong way. The
# check of section 3 exposes each mix-up: a candidate predicts a slope along $D$ only through
# $2\,\mathrm{Re}\langle \text{candidate}, D\rangle$, and we compare that with the measured
# slope.

# %%
candidates = {
    "G = df/dW*   (angd_np.csbf_grad)": G,
    "2G           (PyTorch .grad)": 2 * G,
    "conj(2G)     (autograd, JAX grad)": np.conj(2 * G),
    "conj(G)      (df/dW)": np.conj(G),
}
check_rng = np.random.default_rng(7)
directions = [unit(random_complex((M, K), check_rng)) for _ in range(8)]
measured = np.array([fd_slope(f, W, D) for D in directions])
print(f"{'candidate, used as df/dW*':<36}{'relative error':>16}")
errors = {}
for name, candidate in candidates.items():
    predicted = np.array([predicted_slope(candidate, D) for D in directions])
    errors[name] = np.linalg.norm(predicted - measured) / np.linalg.norm(measured)
    print(f"{name:<36}{errors[name]:>16.2e}")
right, *wrong = errors.values()
assert right < 1e-8
assert all(e >= 0.5 for e in wrong)

# %% [markdown]
# Read it as "how far off are the predicted slopes": $2G$ predicts every slope twice too
# large, an error of exactly 1 (100%); a conjugated gradient predicts slopes that have little
# to do with the measured ones, an error above 1. The right gradient agrees to rounding.
#
# **Why "relative to what was measured".** A tempting alternative divides by the largest
# slope any direction could show, $2\|G\|_F$. But a random unit direction in $2MK$ real
# dimensions sees only about $1/\sqrt{2MK}$ of that, so the same factor-of-two mistake reads
# as a fraction of the 100% it is:

# %%
largest_slope = 2 * np.linalg.norm(G)
predicted = np.array([predicted_slope(2 * G, D) for D in directions])
misleading = np.max(np.abs(predicted - measured)) / largest_slope
print(f"2G, max |error| / (2 ||G||) = {misleading:.3f}   "
      f"(1/sqrt(2MK) = {1 / np.sqrt(2 * M * K):.3f})")

# %% [markdown]
# ## 5. Why not the complex-step trick?
#
# For a real-analytic $g: \mathbb{R} \to \mathbb{R}$ there is a famous trick without
# subtraction: $g'(x) \approx \mathrm{Im}\, g(x + ih)/h$, exact to $O(h^2)$ for any tiny $h$.
# It relies on $g$ extending to a *holomorphic* function of a complex argument. Here the
# argument is already complex and $f$ is real-valued and not holomorphic: $W + ihD$ is just
# another precoder (a step along the direction $iD$), where $f$ is real again. The imaginary
# part is identically zero, so the "complex-step slope" is 0 along every direction, and the
# real part just moves along $iD$:

# %%
D = directions[0]
h_step = 1e-4
shifted = float(an.csbf(W + 1j * h_step * D, problem))  # a real number, like every f value
complex_step_slope = np.imag(an.csbf(W + 1j * h_step * D, problem)) / h_step
print(f"complex step, Im f(W + ihD) / h = {complex_step_slope}")
print(f"true slope along D              = {fd_slope(f, W, D):.6f}")
print(f"(f(W + ihD) - f(W)) / h         = {(shifted - f(W)) / h_step:.6f}")
print(f"true slope along iD             = {fd_slope(f, W, 1j * D):.6f}")
assert complex_step_slope == 0.0

# %% [markdown]
# ## 6. The Taylor-remainder test
#
# Finite differences need a tolerance. The Taylor remainder needs none: along a direction $D$,
#
# $$r(h) = \big|f(W + hD) - f(W) - h \cdot 2\,\mathrm{Re}\langle \hat G, D\rangle\big| .$$
#
# If $\hat G$ is right, the first-order model is exact up to the curvature term, so
# $r(h) = O(h^2)$: slope **2** on log–log axes. If $\hat G$ is wrong, the model's slope is off
# by $\delta = 2\,\mathrm{Re}\langle \hat G - G, D\rangle$ and $r(h) \approx |\delta|\, h +
# O(h^2)$: slope **1**, as long as $|\delta| h$ dominates the curvature term. Two effects bend
# the curves away from those slopes, and the fit must avoid them:
#
# - at **large** $h$ the curvature term $O(h^2)$ dominates *every* candidate (a slightly wrong
#   $\hat G$, say $1.1G$, has a small $\delta$ and shows slope 2 until $h$ is very small);
# - at **small** $h$ rounding takes over: $f(W + hD) - f(W)$ loses digits, and $r$ stalls
#   near $10^{-16}|f|$.
#
# We fit slopes over $10^{-6} \le h/\|W\|_F \le 10^{-3}$, between the two.
# (`angd_np.gradcheck.taylor_remainder` computes the same $r(h)$ for the steps you give it.)

# %%
taylor_rng = np.random.default_rng(11)
D = unit(random_complex((M, K), taylor_rng))
steps = np.linalg.norm(W) * np.logspace(-1, -9, 33)
fitted = (steps >= 1e-6 * np.linalg.norm(W)) & (steps <= 1e-3 * np.linalg.norm(W))
f0 = f(W)


def remainders(G_claimed):
    slope = predicted_slope(G_claimed, D)
    return np.array([abs(f(W + h * D) - f0 - h * slope) for h in steps])


curves = {"G (right)": G, "2G": 2 * G, "conj(G)": np.conj(G)}
remainder = {name: remainders(c) for name, c in curves.items()}
slopes = {name: np.polyfit(np.log10(steps[fitted]), np.log10(r[fitted]), 1)[0]
          for name, r in remainder.items()}
for name, s in slopes.items():
    print(f"{name:<10} fitted slope {s:.3f}")
assert abs(slopes["G (right)"] - 2) < 0.1
assert abs(slopes["2G"] - 1) < 0.1 and abs(slopes["conj(G)"] - 1) < 0.1

# %%
fig, ax = plt.subplots(figsize=(6, 3.8))
for (name, r), marker in zip(remainder.items(), "os^", strict=True):
    ax.loglog(steps, r, marker, ms=3.5, label=f"{name}: slope {slopes[name]:.2f}")
ax.axvspan(steps[fitted].min(), steps[fitted].max(), color="0.92", zorder=0,
           label="fitted range")
h_ref = steps[fitted]
for power, anchor in ((2, remainder["G (right)"]), (1, remainder["2G"])):
    mid = np.argmin(np.abs(h_ref - np.sqrt(h_ref.min() * h_ref.max())))
    y_mid = anchor[fitted][mid] * 3
    ax.loglog(h_ref, y_mid * (h_ref / h_ref[mid]) ** power, "k--", lw=0.8)
    ax.annotate(f"slope {power}", (h_ref[0], y_mid * (h_ref[0] / h_ref[mid]) ** power),
                fontsize=8, ha="right", va="bottom")
ax.set_xlabel("step h  (here ||W||_F = 1)")
ax.set_ylabel("remainder r(h)")
ax.set_title("Taylor remainder of the CSBF along one direction")
ax.legend(fontsize=8, loc="lower right")
fig.tight_layout()

# %% [markdown]
# The right gradient's remainder falls 100× per decade of $h$ (slope 2) until rounding
# (~$10^{-15}$) flattens it near $h \approx 10^{-8}$; the wrong ones fall 10× per decade
# (slope 1) across the whole fitted range. At $h \gtrsim 10^{-2}$ all curves bend towards the
# curvature term.
#
# ## 7. A trap: the paper's scale hides a wrong rate gradient
#
# With the paper's numbers in watts ($\omega = 10^4$), the sensing term is about $10^4$ and
# the sum rate about 10: the gradient is almost all $\omega A A^H W$. A bug in the rate part
# then changes the slopes by a percent. Take a typical slip, forgetting the interference term
# $-[i \ne k]/I_k$ of step 2, and check it at both scales:

# %%
def buggy_rate_gradient(X, prob):
    S = prob.H.conj().T @ X
    P = np.abs(S) ** 2
    total = P.sum(axis=1) + prob.noise_var
    return prob.H @ (S / total[:, None] / np.log(2))  # the -[i != k]/I_k term is missing


print(f"{'preset':<10}{'error of the buggy CSBF gradient':>34}{'error of its rate part':>26}")
for preset in ("balanced", "paper"):
    prob = an.Scenario.preset(preset).draw(1, np.random.default_rng(3))[0]
    X = an.project_power(random_complex((prob.n_tx, prob.n_users), rng), prob.p_max)
    G_sens = prob.omega * prob.A @ (prob.A.conj().T @ X)
    G_bug_rate = buggy_rate_gradient(X, prob)
    whole = relative_error(lambda Y, p=prob: float(an.csbf(Y, p)), X, G_bug_rate + G_sens, rng)
    part = relative_error(lambda Y, p=prob: float(an.sum_rate(Y, p)), X, G_bug_rate, rng)
    print(f"{preset:<10}{whole:>34.2e}{part:>26.2e}")
    assert part > 0.5
    if preset == "paper":
        assert whole < 0.05  # the whole-CSBF check barely notices

# %% [markdown]
# At the paper's scale the whole-CSBF check shows an error of about $10^{-2}$ — easy to wave
# through as "finite-difference noise" — while the rate part alone is plainly wrong. The lesson
# for any multi-term objective: **check each term at its own scale**, or at a weighting where
# the terms are of the same order (the `balanced` preset). The package's tests do both.
#
# **Next:** notebook 2 writes the update network's backward pass and Adam by hand; notebook 3
# chains this gradient through the projection of eq. (11) into the network's parameters.
