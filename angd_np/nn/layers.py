"""Layers with an explicit forward and backward pass.

Every layer maps ``forward(x) -> y`` and ``backward(dy) -> dx``, where ``dy = ∂L/∂y`` for
some scalar loss L and ``dx = ∂L/∂x``; ``backward`` also OVERWRITES ``grads`` (one array per
entry of ``params``, same shape) with ∂L/∂param. Gradients are not accumulated across calls
(unlike micrograd), so there is nothing to zero between steps.

Initialisation (all from an explicit ``rng``; biases are zero unless stated):

- ``"he"``: normal with std sqrt(2 / fan_in) (He et al., 2015), for layers followed by ReLU.
- ``"glorot"``: uniform on ±sqrt(6 / (fan_in + fan_out)) (Glorot and Bengio, 2010), for a
  linear output layer.
- ``"torch"``: PyTorch's default for ``nn.Linear``/``nn.Conv1d``, weights and biases uniform
  on ±1/sqrt(fan_in). Non-zero biases give a non-zero output for a zero input.

All arrays are float64.
"""

from __future__ import annotations

import math

import numpy as np

from .._validate import as_generator, check_int

__all__ = ["Layer", "Dense", "ReLU", "Conv1d", "Flatten", "INITS"]

INITS = ("he", "glorot", "torch")


def _init_params(rng, init, w_shape, b_shape, fan_in, fan_out):
    """Draw (weight, bias) of the given shapes for one layer."""
    if init not in INITS:
        raise ValueError(f"init must be one of {INITS}, got {init!r}")
    rng = as_generator(rng)
    if init == "he":
        w = rng.normal(0.0, np.sqrt(2.0 / fan_in), w_shape)
        b = np.zeros(b_shape)
    elif init == "glorot":
        bound = np.sqrt(6.0 / (fan_in + fan_out))
        w = rng.uniform(-bound, bound, w_shape)
        b = np.zeros(b_shape)
    else:
        bound = 1.0 / np.sqrt(fan_in)
        w = rng.uniform(-bound, bound, w_shape)
        b = rng.uniform(-bound, bound, b_shape)
    return w, b


def as_real_array(x, name: str, *, check_finite: bool = True) -> np.ndarray:
    """``x`` as a float64 array (no copy if it already is one), rejecting complex and NaN/inf."""
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        x = np.asarray(x)
        if x.dtype.kind not in "biuf":
            raise TypeError(f"{name} must be a real numeric array, got dtype {x.dtype}"
                            " (split complex values into real and imaginary channels)")
        x = x.astype(np.float64)
    # A NaN or inf anywhere makes the sum non-finite: one cheap pass in the common case.
    if check_finite and not math.isfinite(np.add.reduce(x, axis=None)):
        bad = x.size - np.count_nonzero(np.isfinite(x))
        if bad:  # (else the sum of finite entries merely overflowed)
            raise ValueError(f"{name} must be finite, got {bad} NaN or inf entries")
    return x


class Layer:
    """Base class: a public, checked ``forward``/``backward`` around private maths.

    Subclasses implement ``_check(x)`` (raise ValueError on a bad shape), ``_forward(x)`` and
    ``_backward(dy, need_dx)`` (which may skip ∂L/∂x and return None if not ``need_dx``).
    ``Sequential`` calls the private methods directly after checking the network's input
    once, which keeps the per-step overhead small.
    """

    def __init__(self):
        self.params: list[np.ndarray] = []
        self.grads: list[np.ndarray] = []
        self._y_shape = None

    def forward(self, x):
        """Output ``y`` for input ``x``; caches what ``backward`` needs."""
        x = as_real_array(x, "x")
        self._check(x)
        y = self._forward(x)
        self._y_shape = y.shape
        return y

    def backward(self, dy):
        """Return ∂L/∂x given ``dy`` = ∂L/∂y (shape of the last output); fills ``grads``."""
        if self._y_shape is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
        dy = as_real_array(dy, "dy")
        if dy.shape != self._y_shape:
            raise ValueError(f"dy must have the shape of the last output {self._y_shape}, "
                             f"got {dy.shape}")
        return self._backward(dy)

    def _bind(self, params, grads):
        """Move parameters into the given arrays (views of a network's flat buffers)."""
        for new, old in zip(params, self.params, strict=True):
            new[...] = old
        self.params, self.grads = list(params), list(grads)

    def _check_batch_axes(self, x, feature_ndim: int, what: str):
        """``x`` must be (batch,) + feature axes."""
        if x.ndim != 1 + feature_ndim:
            raise ValueError(f"x must have shape (batch, {what}) for {type(self).__name__}, "
                             f"got {x.shape}")

    def __repr__(self):
        return f"{type(self).__name__}()"


class _ParamLayer(Layer):
    def __init__(self, rng, init, w_shape, b_shape, fan_in, fan_out):
        super().__init__()
        w, b = _init_params(rng, init, w_shape, b_shape, fan_in, fan_out)
        self.params = [w, b]
        self.grads = [np.zeros_like(w), np.zeros_like(b)]


class Dense(_ParamLayer):
    """Affine layer y = x W + b.

    Parameters
    ----------
    d_in, d_out : int
        Input and output features.
    rng : Generator, int or None
        Source of the initial weights.
    init : {"he", "glorot", "torch"}
        Initialisation (module docstring).

    Notes
    -----
    ``params = [W, b]`` with W of shape (d_in, d_out) and b of shape (d_out,); ``x`` has
    shape (batch, d_in), ``y`` (batch, d_out). Backward:
    ∂L/∂W = xᵀ dy, ∂L/∂b = Σ_batch dy, ∂L/∂x = dy Wᵀ.
    """

    def __init__(self, d_in, d_out, *, rng=None, init="he"):
        self.d_in = check_int(d_in, "d_in", minimum=1)
        self.d_out = check_int(d_out, "d_out", minimum=1)
        super().__init__(rng, init, (self.d_in, self.d_out), (self.d_out,),
                         self.d_in, self.d_out)

    def _check(self, x):
        self._check_batch_axes(x, 1, "d_in")
        if x.shape[-1] != self.d_in:
            raise ValueError(f"x must have {self.d_in} features (last axis) for "
                             f"Dense({self.d_in}, {self.d_out}), got shape {x.shape}")

    def _forward(self, x):
        self._x = x
        w, b = self.params
        # np.dot goes straight to BLAS, ~1 µs faster per call than np.matmul's dispatch
        # (it adds up over 3 layers x 2 passes x 500 iterations of a training loop).
        y = np.dot(x, w)
        y += b
        return y

    def _backward(self, dy, need_dx=True):
        w, _ = self.params
        dw, db = self.grads
        xt = self._x.T
        if dy.shape[0] > 1:
            np.matmul(xt, dy, out=dw)
        else:
            # One row: xᵀ dy is an outer product, which np.matmul computes in a slow generic
            # loop (k = 1); np.dot hands it to BLAS, ~3x faster.
            np.dot(xt, dy, out=dw)
        np.add.reduce(dy, axis=0, out=db)
        if not need_dx:
            return None
        return np.dot(dy, w.T)

    def __repr__(self):
        return f"Dense({self.d_in}, {self.d_out})"


class ReLU(Layer):
    """Elementwise max(x, 0); its derivative is taken as 0 at x = 0. Any shape."""

    def _check(self, x):
        pass

    def _forward(self, x):
        self._mask = x > 0
        return x * self._mask

    def _backward(self, dy, need_dx=True):
        return dy * self._mask


class Flatten(Layer):
    """Merge the last ``n_axes`` axes into one: (batch, C, L) -> (batch, C·L)."""

    def __init__(self, n_axes: int = 2):
        super().__init__()
        self.n_axes = check_int(n_axes, "n_axes", minimum=1)

    def _check(self, x):
        if x.ndim < self.n_axes + 1:
            raise ValueError(f"x must have at least {self.n_axes + 1} axes for Flatten("
                             f"{self.n_axes}), got shape {x.shape}")

    def _forward(self, x):
        self._x_shape = x.shape
        return x.reshape(x.shape[: x.ndim - self.n_axes] + (-1,))

    def _backward(self, dy, need_dx=True):
        return dy.reshape(self._x_shape)

    def __repr__(self):
        return f"Flatten({self.n_axes})"


class Conv1d(_ParamLayer):
    """One-dimensional convolution (cross-correlation, as in deep learning), stride 1.

    y[n, o, l] = b[o] + Σ_c Σ_j K[o, c, j] · x[n, c, l + j - left], with x = 0 outside
    [0, L): 'same' zero padding keeps the length L. For an even kernel the extra zero goes on
    the right (left = (k - 1) // 2), as in PyTorch's ``padding="same"``.

    Parameters
    ----------
    c_in, c_out : int
        Input and output channels.
    kernel_size : int
        Kernel length k >= 1 (any k, also k > L).
    rng, init
        As for ``Dense``; fan_in = c_in·k, fan_out = c_out·k.

    Notes
    -----
    ``params = [K, b]``, K of shape (c_out, c_in, k), b of shape (c_out,); x has shape
    (batch, c_in, L) and y (batch, c_out, L).

    The kernel is computed "im2col" style: the k shifted copies of x are stacked into a
    matrix X of shape (c_in·k, batch·L), so that forward is one matrix product,
    y = K X + b, and backward is two: ∂L/∂K = dy Xᵀ and ∂L/∂X = Kᵀ dy, the
    latter folded back onto x by adding each shifted block at its shift ("col2im").
    """

    def __init__(self, c_in, c_out, kernel_size, *, rng=None, init="he"):
        self.c_in = check_int(c_in, "c_in", minimum=1)
        self.c_out = check_int(c_out, "c_out", minimum=1)
        self.kernel_size = k = check_int(kernel_size, "kernel_size", minimum=1)
        super().__init__(rng, init, (self.c_out, self.c_in, k), (self.c_out,),
                         self.c_in * k, self.c_out * k)
        self._cols = None

    def _check(self, x):
        self._check_batch_axes(x, 2, "c_in, length")
        if x.shape[-2] != self.c_in:
            raise ValueError(f"x must have {self.c_in} channels (axis -2) for Conv1d("
                             f"{self.c_in}, {self.c_out}), got shape {x.shape}")

    def _shifts(self, length):
        """For each tap j: (output slice, input slice) where x[l + j - left] is inside x."""
        left = (self.kernel_size - 1) // 2
        for j in range(self.kernel_size):
            s = j - left
            lo, hi = max(0, -s), min(length, length - s)
            if lo < hi:
                yield j, slice(lo, hi), slice(lo + s, hi + s)

    def _forward(self, x):
        n, c_in, length = x.shape
        cols_shape = (c_in, self.kernel_size, n, length)
        if self._cols is None or self._cols.shape != cols_shape:
            # Zeros at the padded edges are never overwritten, so the buffer is reused.
            self._cols = np.zeros(cols_shape)
        xt = x.swapaxes(0, 1)  # (c_in, batch, L)
        for j, out, inp in self._shifts(length):
            self._cols[..., j, :, out] = xt[..., inp]
        self._x_shape = x.shape
        cols = self._cols.reshape(c_in * self.kernel_size, n * length)
        kernel, bias = self.params
        y = np.matmul(kernel.reshape(self.c_out, -1), cols)
        y += bias[:, None]
        return y.reshape(self.c_out, n, length).swapaxes(0, 1)

    def _backward(self, dy, need_dx=True):
        n, _, length = dy.shape
        kernel, _ = self.params
        dkernel, dbias = self.grads
        dy2 = dy.swapaxes(0, 1).reshape(self.c_out, n * length)
        cols = self._cols.reshape(self.c_in * self.kernel_size, n * length)
        # dkernel is contiguous, so this reshape is a view: matmul writes straight into grads.
        np.matmul(dy2, cols.T, out=dkernel.reshape(self.c_out, -1))
        np.add.reduce(dy2, axis=-1, out=dbias)
        if not need_dx:
            return None
        dcols = np.matmul(kernel.reshape(self.c_out, -1).T, dy2)
        dcols = dcols.reshape(self.c_in, self.kernel_size, n, length)
        dxt = np.zeros((self.c_in, n, length))
        for j, out, inp in self._shifts(length):
            dxt[..., inp] += dcols[..., j, :, out]
        return dxt.swapaxes(0, 1)

    def __repr__(self):
        return f"Conv1d({self.c_in}, {self.c_out}, kernel_size={self.kernel_size})"
