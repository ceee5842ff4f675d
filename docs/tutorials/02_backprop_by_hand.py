# %% [markdown]
# # 2 · Backprop by hand: the update network and Adam
#
# ANGD replaces the fixed update rule of gradient ascent by a small neural network
# $\Phi_\varphi$ (eq. 9) and trains it with Adam while it solves (eq. 10). Without an autodiff
# framework, both must be written by hand. This notebook derives and checks:
#
# 1. the forward and backward pass of one dense layer, against finite differences;
# 2. ReLU, and the whole fully connected network of the paper (`angd_np.nn.fcn`), written out
#    layer by layer against the package's `forward`/`backward`;
# 3. Adam's update and its bias correction, step by step against `angd_np.nn.Adam`.
#
# Everything is real-valued here: the network sees the complex gradient as its real and
# imaginary parts (notebook 3). Random draws come from seeded `numpy.random.Generator`s;
# arrays are float64.

# %%
import matplotlib.pyplot as plt
import numpy as np

from angd_np import nn

rng = np.random.default_rng(2024)


def central_difference(loss, array, index, h=1e-6):
    """d loss / d array[index] by a central difference, perturbing ``array`` in place."""
    saved = array[index]
    array[index] = saved + h
    up = loss()
    array[index] = saved - h
    down = loss()
    array[index] = saved
    return (up - down) / (2 * h)


def relative_error(a, b):
    return np.linalg.norm(a - b) / np.linalg.norm(b)


# %% [markdown]
# ## 1. One dense layer
#
# A dense (affine) layer maps a batch $x$ of shape (batch, $d_\text{in}$) to
# $y = xW + b$ of shape (batch, $d_\text{out}$) (`angd_np.nn.Dense`). Backpropagation asks:
# given $\bar y = \partial L/\partial y$ for some scalar loss $L$, what are $\bar W$, $\bar b$
# and $\bar x$? Write the layer entry by entry, $y_{nj} = \sum_i x_{ni} W_{ij} + b_j$, and
# apply the chain rule $\partial L/\partial \theta = \sum_{nj} \bar y_{nj}\,
# \partial y_{nj}/\partial\theta$:
#
# $$\bar W_{ij} = \sum_n x_{ni}\,\bar y_{nj} \;\Rightarrow\; \bar W = x^\top \bar y, \qquad
#   \bar b_j = \sum_n \bar y_{nj}, \qquad
#   \bar x_{ni} = \sum_j \bar y_{nj} W_{ij} \;\Rightarrow\; \bar x = \bar y\, W^\top .$$
#
# The shapes leave one way to write each product, a useful check when deriving.
# Test it with the loss $L = \tfrac12\|y - t\|^2$, for which $\bar y = y - t$:

# %%
layer = nn.Dense(4, 3, rng=rng, init="torch")  # torch init: non-zero biases too
weight, bias = layer.params  # the live arrays: changing them changes the layer
x = rng.standard_normal((5, 4))
target = rng.standard_normal((5, 3))


def dense_loss():
    y = x @ weight + bias
    return 0.5 * np.sum((y - target) ** 2)


y = layer.forward(x)
assert np.allclose(y, x @ weight + bias, rtol=1e-14)
dy = y - target
dx = layer.backward(dy)  # also overwrites layer.grads with (dL/dW, dL/db)

by_hand = {"dW = x^T dy": x.T @ dy, "db = sum_n dy": dy.sum(axis=0), "dx = dy W^T": dy @ weight.T}
package = {"dW = x^T dy": layer.grads[0], "db = sum_n dy": layer.grads[1], "dx = dy W^T": dx}
finite = {
    "dW = x^T dy": np.array([[central_difference(dense_loss, weight, (i, j)) for j in range(3)]
                             for i in range(4)]),
    "db = sum_n dy": np.array([central_difference(dense_loss, bias, j) for j in range(3)]),
    "dx = dy W^T": np.array([[central_difference(dense_loss, x, (n, i)) for i in range(4)]
                             for n in range(5)]),
}
print(f"{'gradient':<16}{'package vs hand':>18}{'finite diff. vs hand':>24}")
for name in by_hand:
    e_pkg = relative_error(package[name], by_hand[name])
    e_fd = relative_error(finite[name], by_hand[name])
    print(f"{name:<16}{e_pkg:>18.1e}{e_fd:>24.1e}")
    assert e_pkg < 1e-14 and e_fd < 1e-8

# %% [markdown]
# ## 2. ReLU and the whole network
#
# $\mathrm{ReLU}(a) = \max(a, 0)$ passes the gradient where $a > 0$ and blocks it elsewhere:
# $\bar a = \bar z \odot [a > 0]$ (`angd_np.nn.ReLU`; at the kink $a = 0$ the derivative is
# taken as 0, and finite differences are meaningless there, which is why random inputs are
# used below).
#
# The paper's FCN (§V; `angd_np.nn.fcn(d, hidden)`) is
#
# $$x \xrightarrow{\;W_1, b_1\;} a_1 \xrightarrow{\text{ReLU}} z_1
#     \xrightarrow{\;W_2, b_2\;} a_2 \xrightarrow{\text{ReLU}} z_2
#     \xrightarrow{\;W_3, b_3\;} y ,$$
#
# with $y$ of the input's size $d$ (the update of $W$ has the gradient's shape). Forward and
# backward, written out (each backward line is section 1 or the ReLU rule):

# %%
d, hidden = 6, 8
net = nn.fcn(d, hidden, rng=np.random.default_rng(5), init="torch")
W1, b1, W2, b2, W3, b3 = net.params  # live views into net.flat_params
x = rng.standard_normal((3, d))
target = rng.standard_normal((3, d))

# Forward
a1 = x @ W1 + b1
z1 = np.maximum(a1, 0)
a2 = z1 @ W2 + b2
z2 = np.maximum(a2, 0)
y = z2 @ W3 + b3
assert np.allclose(y, net.forward(x), rtol=1e-14)

# Backward of L = ||y - t||^2 / 2
dy = y - target
dW3, db3, dz2 = z2.T @ dy, dy.sum(axis=0), dy @ W3.T
da2 = dz2 * (a2 > 0)
dW2, db2, dz1 = z1.T @ da2, da2.sum(axis=0), da2 @ W2.T
da1 = dz1 * (a1 > 0)
dW1, db1, dx = x.T @ da1, da1.sum(axis=0), da1 @ W1.T

dx_package = net.backward(dy)
by_hand = [dW1, db1, dW2, db2, dW3, db3]
worst = max(relative_error(p, q) for p, q in zip(net.grads, by_hand, strict=True))
print(f"largest relative difference, package grads vs by hand: {worst:.1e}")
print(f"dx: {relative_error(dx_package, dx):.1e}")
assert worst < 1e-14 and relative_error(dx_package, dx) < 1e-14

# %% [markdown]
# And against finite differences, on every one of the network's parameters. `net.flat_params`
# is one contiguous buffer holding all of them (`net.params` are views into it), so perturbing
# an entry of it perturbs the network:

# %%
def net_loss():
    return 0.5 * np.sum((net.forward(x) - target) ** 2)


net.backward(net.forward(x) - target)
analytic = net.flat_grads.copy()
numeric = np.array([central_difference(net_loss, net.flat_params, j)
                    for j in range(net.n_params)])
err = relative_error(numeric, analytic)
print(f"{net.n_params} parameters, relative error of the backward pass: {err:.1e}")
assert err < 1e-8

# %% [markdown]
# ## 3. Adam, step by step
#
# ANGD updates the network's parameters $\varphi$ with Adam (eq. 10: $\Lambda$ is Adam,
# $\eta_\varphi$ its learning rate; `angd_np.nn.Adam`). For a gradient $g_t$ at step
# $t = 1, 2, \dots$ (Kingma & Ba, 2015):
#
# $$m_t = \beta_1 m_{t-1} + (1 - \beta_1)\, g_t, \qquad
#   v_t = \beta_2 v_{t-1} + (1 - \beta_2)\, g_t^2,$$
# $$\hat m_t = \frac{m_t}{1 - \beta_1^t}, \qquad \hat v_t = \frac{v_t}{1 - \beta_2^t}, \qquad
#   \varphi_t = \varphi_{t-1} \mp \eta\, \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon},$$
#
# with $-$ to minimise and $+$ to maximise (ANGD *ascends* the CSBF: `maximize=True`). Here is
# the rule written naively, run beside the package's fused implementation on the same
# gradients (the package stores rescaled moments and folds the corrections into scalars, see
# `angd_np/nn/adam.py`; the result must agree to rounding):

# %%
lr, beta1, beta2, eps = 1e-2, 0.9, 0.999, 1e-8
net = nn.fcn(d, hidden, rng=np.random.default_rng(6), init="torch")
opt = nn.Adam(net.flat_params, lr=lr, betas=(beta1, beta2), eps=eps)
phi = net.flat_params.copy()  # the naive copy
m = np.zeros_like(phi)
v = np.zeros_like(phi)
for t in range(1, 11):
    net.backward(net.forward(x) - target)  # gradient of ||y - t||^2 / 2
    g = net.flat_grads
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g**2
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    phi = phi - lr * m_hat / (np.sqrt(v_hat) + eps)
    opt.step(net.flat_grads)
    gap = np.max(np.abs(net.flat_params - phi))
    if t in (1, 2, 10):
        print(f"step {t:2d}: loss {net_loss():.4f}, max |package - naive| = {gap:.1e}")
    assert gap < 1e-14

# %% [markdown]
# **Why the bias correction.** The moments start at zero, so early on $m_t$ and $v_t$ are
# shrunk towards zero: after one step $m_1 = (1 - \beta_1) g_1$ and $v_1 = (1 - \beta_2)
# g_1^2$. Without correction the first step would be
# $\eta\,(1 - \beta_1)/\sqrt{1 - \beta_2} \approx 3.16\,\eta$ per parameter; with it,
# $\hat m_1/\sqrt{\hat v_1} = g_1/|g_1|$ and every parameter moves by $\eta$ (up to
# $\epsilon$). For a constant gradient the uncorrected step is
# $\eta\,(1 - \beta_1^t)/\sqrt{1 - \beta_2^t}$: $m$ forgets its zero start in tens of steps,
# $v$ only in thousands, so the step overshoots before it settles; the corrected one is $\eta$
# from the start:

# %%
t = np.arange(1, 3001)
uncorrected = (1 - beta1**t) / np.sqrt(1 - beta2**t)
corrected = np.ones_like(uncorrected)
print(f"uncorrected |step| / lr: {uncorrected[0]:.2f} at t = 1, "
      f"largest {uncorrected.max():.2f} at t = {t[uncorrected.argmax()]}, "
      f"{uncorrected[-1]:.3f} at t = {t[-1]}")
assert np.isclose(uncorrected[0], (1 - beta1) / np.sqrt(1 - beta2))

# The package's first step, for gradients of very different sizes:
g1 = np.array([1e-6, 3e-2, -5.0, 1e4])
p = np.zeros(4)
nn.Adam(p, lr=lr, eps=eps).step(g1)
print(f"gradients {g1}: first step / lr = {p / lr}")
assert np.allclose(p / lr, -g1 / (np.abs(g1) + eps), rtol=1e-12)  # -lr g/(|g| + eps)

fig, ax = plt.subplots(figsize=(5.5, 3.2))
ax.semilogx(t, uncorrected, label="without bias correction")
ax.semilogx(t, corrected, label="with bias correction (Adam)")
ax.set_xlabel("step t")
ax.set_ylabel("|step| / learning rate")
ax.set_title("Adam's step for a constant gradient")
ax.legend(fontsize=8)
fig.tight_layout()

# %% [markdown]
# The first step above also shows Adam's **scale invariance**: the step is set by the ratio
# $\hat m/\sqrt{\hat v}$, not by the gradient's size (only $\epsilon$ breaks the tie for
# gradients near $10^{-8}$). This matters for ANGD: in the paper's units the CSBF's gradient
# is about $10^4 \|W\|$, and Adam's steps on $\varphi$ do not care — but the *network's
# output*, which is added to $W$, does (notebook 3).
#
# **Next:** notebook 3 connects the two halves: the CSBF's gradient from notebook 1 flows
# through the projection of eq. (11) into $\bar y$, and this network's backward pass carries it
# to $\varphi$.
