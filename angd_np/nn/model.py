"""``Sequential`` networks over flat parameter buffers, and the paper's two update networks.

A ``Sequential`` chains layers and moves all their parameters into ONE contiguous float64
buffer ``flat_params`` (and all gradients into ``flat_grads``). ``params`` and ``grads`` are
views into those buffers, so

- changing ``params[i]`` in place changes the network (they are the live arrays), and
- an optimiser can update every parameter in a few fused in-place passes over a single
  array (``Adam(net.flat_params)``; ``opt.step(net.flat_grads)``), which is what makes a
  step cheap (see ``adam.py``).

Each parameter occupies one contiguous block of the buffer, in the order of ``params``.
"""

from __future__ import annotations

import numpy as np

from .._validate import as_generator, check_int
from .layers import Conv1d, Dense, Flatten, Layer, ReLU, as_real_array

__all__ = ["Sequential", "fcn", "cnn"]


class Sequential:
    """Layers applied in order; ``backward`` runs them in reverse.

    Parameters
    ----------
    *layers : Layer

    Attributes
    ----------
    params, grads : list of ndarray
        Live parameter arrays and their gradients (same shapes), views of ``flat_params`` and
        ``flat_grads``. ``grads`` is overwritten by every ``backward``.
    flat_params, flat_grads : ndarray of shape (n_params,), float64
        All parameters (gradients) in one contiguous buffer.
    n_params : int
        Number of parameters.
    """

    def __init__(self, *layers: Layer):
        if not layers:
            raise ValueError("Sequential needs at least one layer, got none")
        for layer in layers:
            if not isinstance(layer, Layer):
                raise TypeError(f"Sequential takes Layer instances, got {type(layer).__name__}")
        self.layers = list(layers)
        sizes = [p.size for layer in layers for p in layer.params]
        total = self.n_params = int(sum(sizes))
        self.flat_params = np.empty(total)
        self.flat_grads = np.zeros(total)
        self.params, self.grads = [], []
        offset = 0
        for layer in layers:
            views_p, views_g = [], []
            for p in layer.params:
                block = slice(offset, offset + p.size)
                views_p.append(self.flat_params[block].reshape(p.shape))
                views_g.append(self.flat_grads[block].reshape(p.shape))
                offset += p.size
            if views_p:
                layer._bind(views_p, views_g)
            self.params += views_p
            self.grads += views_g
        self._y_shape = None

    def forward(self, x, *, check=True):
        """Network output for ``x`` (in the layout of the first layer).

        ``x`` is checked once for dtype and NaN/inf; every layer checks its input's shape.
        ``check=False`` skips all of that: for a hot loop (e.g. 500 iterations) that
        feeds float64 arrays of a shape already accepted once, where the checks cost ~10%
        of a step. A wrong input then fails inside NumPy, or not at all.
        """
        if not check:
            for layer in self.layers:
                x = layer._forward(x)
            self._y_shape = x.shape
            return x
        x = as_real_array(x, "x")
        self.layers[0]._check(x)
        in_shape = x.shape
        for i, layer in enumerate(self.layers):
            if i:
                try:
                    layer._check(x)
                except ValueError as exc:
                    raise ValueError(f"x of shape {in_shape} does not fit the network: at "
                                     f"layer {i} ({layer!r}): {exc}") from None
            x = layer._forward(x)
        self._y_shape = x.shape
        return x

    def backward(self, dy, *, input_grad=True, check=True):
        """∂L/∂x for ``dy`` = ∂L/∂y of the last ``forward``; overwrites ``grads``.

        With ``input_grad=False`` the first layer skips ∂L/∂x (one matrix product) and None
        is returned: for training on data, where only the parameter gradients are needed.
        ``check=False`` skips the dtype, NaN/inf and shape checks of ``dy`` (see ``forward``).
        """
        if check:
            if self._y_shape is None:
                raise RuntimeError("Sequential.backward called before forward")
            dy = as_real_array(dy, "dy")
            if dy.shape != self._y_shape:
                raise ValueError(f"dy must have the shape of the last output {self._y_shape}, "
                                 f"got {dy.shape}")
        for layer in self.layers[:0:-1]:
            dy = layer._backward(dy)
        return self.layers[0]._backward(dy, need_dx=input_grad)

    __call__ = forward

    def __repr__(self):
        inner = ", ".join(repr(layer) for layer in self.layers)
        return f"Sequential({inner})"


def fcn(d_in, hidden, *, rng=None, init="he"):
    """The paper's fully connected update network (§V, eq. (9); ANGD-FCN).

    Input -> Dense(hidden) -> ReLU -> Dense(hidden) -> ReLU -> Dense(d_in), so the output
    (the update of W) has the input's size.

    Parameters
    ----------
    d_in : int
        Input and output features (2·M·K for real and imaginary parts of an M×K gradient).
    hidden : int
        Width of both hidden layers.
    rng : Generator, int or None
        Source of the initial parameters.
    init : {"he", "torch"}
        "he": He-normal hidden layers, Glorot-uniform output layer, zero biases.
        "torch": PyTorch's default initialisation of every layer (non-zero biases).

    Returns
    -------
    Sequential
        Maps x of shape (batch, d_in) to the same shape.
        d_in = 64, hidden = 128 gives 33,088 parameters.
    """
    d_in = check_int(d_in, "d_in", minimum=1)
    hidden = check_int(hidden, "hidden", minimum=1)
    hidden_init, out_init = _inits(init)
    rng_layers = _spawn(rng, 3)
    return Sequential(
        Dense(d_in, hidden, rng=rng_layers[0], init=hidden_init),
        ReLU(),
        Dense(hidden, hidden, rng=rng_layers[1], init=hidden_init),
        ReLU(),
        Dense(hidden, d_in, rng=rng_layers[2], init=out_init),
    )


def cnn(length, *, rng=None, init="he", channels=16, kernel_size=3):
    """The paper's convolutional update network (§VI-4, ANGD-CNN).

    Conv1d(2 -> channels, k, same) -> ReLU -> Conv1d(channels -> channels, k, same) -> ReLU
    -> Flatten -> Dense(channels·length -> 2·length). Paper: channels = 16, k = 3.

    Parameters
    ----------
    length : int
        Length L of each input channel (M·K entries of the gradient).
    rng, init
        As for ``fcn``.
    channels, kernel_size : int
        Filters per convolution and kernel length.

    Returns
    -------
    Sequential
        Maps x of shape (batch, 2, length) (channel 0 real part, channel 1 imaginary part)
        to an output of shape (batch, 2·length): the first ``length`` entries real, the
        last ``length`` imaginary parts.
    """
    length = check_int(length, "length", minimum=1)
    channels = check_int(channels, "channels", minimum=1)
    kernel_size = check_int(kernel_size, "kernel_size", minimum=1)
    hidden_init, out_init = _inits(init)
    rng_layers = _spawn(rng, 3)
    c = channels
    return Sequential(
        Conv1d(2, c, kernel_size, rng=rng_layers[0], init=hidden_init),
        ReLU(),
        Conv1d(c, c, kernel_size, rng=rng_layers[1], init=hidden_init),
        ReLU(),
        Flatten(2),
        Dense(c * length, 2 * length, rng=rng_layers[2], init=out_init),
    )


def _inits(init):
    if init == "he":
        return "he", "glorot"
    if init == "torch":
        return "torch", "torch"
    raise ValueError(f"init must be 'he' or 'torch', got {init!r}")


def _spawn(rng, n):
    """One independent stream per layer, so changing one layer's size leaves the others'."""
    return as_generator(rng).spawn(n)
