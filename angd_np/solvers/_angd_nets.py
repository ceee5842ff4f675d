r"""ANGD's update networks for ONE instance, lean: preallocated buffers, biases as weight rows.

The same functions as ``angd_np.nn.fcn`` and ``angd_np.nn.cnn`` (each network is drawn by
them, then rearranged), laid out for a hot loop of a few NumPy calls per layer.

Layout (L = MK, d = 2L, h = ``hidden``, c = ``channels``, k = ``kernel_size``).

- Input and output in the complex array's own memory order: x[2l] = Re g_l, x[2l+1] =
  Im g_l for the row-major entries g_l of the M×K gradient (``nn`` puts the L real parts
  first), so the output y reads directly as an M×K complex array. The first layer's rows and
  the last layer's columns are permuted accordingly at construction.
- A bias is the last row of its weight matrix, and every layer input carries a constant 1 at
  its end: a dense layer is ``y = [u, 1] W_e`` (one ``np.dot``), and its weight gradient,
  bias included, is one outer product ``[u, 1] ⊗ δ``.
- All parameters live in one flat buffer of P entries, layer after layer (``net_params`` of
  the state):

  FCN: W1e (d+1, h), W2e (h+1, h), W3e (h+1, d); with ``step_input`` the input is
  [x, κ y_prev] (2d entries, each half interleaved) and W1e is (2d+1, h).
  CNN: K1e (2k+1, c), K2e (ck+1, c), De (Lc+1, d); a convolution's input is channel-last,
  (L, c_in), so its im2col matrix has rows ``[x[l-left : l-left+k].ravel(), 1]`` (zero
  padded, ``left = (k-1)//2`` as in ``nn.Conv1d``) and K_e[j·c_in + i, o] = K[o, i, j]; the
  dense layer reads the second convolution's output flattened channel-last (l·c + o).

Backward passes write α·∂f/∂(every parameter) into the optimiser's workspace ``T`` (the same
layout), given ``dy`` = α ∂f/∂y: the scale α of :mod:`._angd_adam` rides on the small
back-propagated vectors, so every gradient entry is written once. ReLU's derivative is taken
as 0 at 0, as in ``nn.ReLU``.

Rank-one layers. A dense layer's gradient is the outer product ``[u, 1] ⊗ δ``;
:meth:`FCN.rank1_layers` (all three layers) and :meth:`CNN.rank1_layers` (the dense one)
name these factors, and with ``write_outer = False`` the backward pass leaves those blocks of
``T`` unwritten: the optimiser then updates its moments from the factors directly
(``ScaledAdam.use_rank1``, BLAS ``?ger``).
"""

from __future__ import annotations

import numpy as np

from .. import nn

__all__ = ["FCN", "CNN", "n_params"]


def n_params(network, M, K, hidden=128, channels=16, kernel_size=3, step_input=0.0):
    """Parameters P of one network for an M×K problem (``step_input`` > 0: the FCN's input
    has the previous output beside the gradient)."""
    L = M * K
    d = 2 * L
    if network == "fcn":
        h = hidden
        d_in = 2 * d if step_input else d
        return (d_in + 1) * h + (h + 1) * h + (h + 1) * d
    c, k = channels, kernel_size
    return (2 * k + 1) * c + (c * k + 1) * c + (c * L + 1) * d


def _interleave(L):
    """Index i of the planes layout (L real parts, then L imaginary parts) for each entry of
    the interleaved layout (Re, Im of entry 0, then of entry 1, ...)."""
    return np.stack([np.arange(L), L + np.arange(L)], axis=1).ravel()


def _offsets(shapes):
    """Where each of the consecutive blocks of ``shapes`` starts in the flat buffer."""
    return np.cumsum([0] + [int(np.prod(shape)) for shape in shapes])[:-1].tolist()


def _blocks(flat, shapes):
    """Consecutive reshaped views of ``flat``."""
    return [flat[offset:offset + int(np.prod(shape))].reshape(shape)
            for offset, shape in zip(_offsets(shapes), shapes, strict=True)]


class FCN:
    """x (d) -> Dense(h) -> ReLU -> Dense(h) -> ReLU -> Dense(d) -> y, over flat buffers.

    Parameters
    ----------
    d, hidden : int
    params, grads : ndarray, shape (P,)
        The flat parameters and the optimiser's workspace ``T`` (same dtype).
    """

    def __init__(self, d, hidden, params, grads, d_in=None):
        h, dt = hidden, params.dtype
        d_in = d if d_in is None else d_in
        shapes = [(d_in + 1, h), (h + 1, h), (h + 1, d)]
        self.W = _blocks(params, shapes)
        self.T = _blocks(grads, shapes)
        self.shapes, self.offsets = shapes, _offsets(shapes)
        self.write_outer = True  # False: the optimiser takes rank1_layers() instead
        self.d, self.hidden, self.d_in = d, h, d_in
        # Every vector of an outer product in one buffer, [x, 1 | z1, 1, z2, 1 | δ1, δ2,
        # α ∂f/∂y]: one call squares them all for the optimiser's rank-one updates.
        self._vectors = np.ones((d_in + 1) + 2 * (h + 1) + (2 * h + d), dt)
        # where [x, 1], the hidden inputs and the deltas sit in it (and in their squares)
        self._parts = (slice(0, d_in + 1), slice(d_in + 1, d_in + 1 + 2 * (h + 1)),
                       slice(d_in + 1 + 2 * (h + 1), None))
        self.u0 = self._vectors[self._parts[0]]
        # Both hidden layers' inputs [z1, 1, z2, 1] side by side: one call gives both ReLU
        # masks in the backward pass.
        self._hidden = self._vectors[self._parts[1]]
        self.u1, self.u2 = self._hidden[:h + 1], self._hidden[h + 1:]
        self.x = self.u0[:d_in]  # the caller writes the scaled gradient here
        self.y = np.empty(d, dt)
        # The back-propagated vectors; the caller writes α ∂f/∂y into dy.
        self._deltas = self._vectors[self._parts[2]]
        self._d1, self._d2, self.dy = (self._deltas[:h], self._deltas[h:2 * h],
                                       self._deltas[2 * h:])
        self._z1, self._z2 = self.u1[:h], self.u2[:h]  # hidden activations, in place
        self._masks = np.empty(2 * (h + 1), dt)
        self._mask1, self._mask2 = self._masks[:h], self._masks[h + 1:2 * h + 1]
        # Persistent column/row views for the outer products (no view built per call).
        self._cols = [u[:, None] for u in (self.u0, self.u1, self.u2)]
        self._rows = [self._d1[None, :], self._d2[None, :], self.dy[None, :]]

    def load_nn(self, net):
        """Copy the parameters of an ``nn.fcn(d, hidden)`` network into this layout."""
        self.load_params(net.params)

    def load_params(self, params):
        """Copy ``[w1, b1, w2, b2, w3, b3]`` in ``nn.fcn``'s shapes into this layout; w3 and
        b3 None: a zero output layer."""
        w1, b1, w2, b2, w3, b3 = params
        perm = _interleave(self.d // 2)
        perm_in = perm if self.d_in == self.d else np.concatenate([perm, self.d + perm])
        self.W[0][:-1], self.W[0][-1] = w1[perm_in], b1
        self.W[1][:-1], self.W[1][-1] = w2, b2
        if w3 is None:
            self.zero_last()
        else:
            self.W[2][:-1], self.W[2][-1] = w3[:, perm], b3[perm]

    def layer_shapes(self):
        """``nn.fcn``'s layers as ``(w_shape, b_shape, fan_in, fan_out)``, in draw order."""
        d, h, d_in = self.d, self.hidden, self.d_in
        return [((d_in, h), (h,), d_in, h), ((h, h), (h,), h, h), ((h, d), (d,), h, d)]

    def zero_last(self):
        self.W[2][...] = 0.0

    def rank1_layers(self):
        """``(layers, squares)`` for ``ScaledAdam.use_rank1``: every layer, its block's
        α-gradient being u δᵀ, and the one buffer whose square holds all u² and δ²."""
        h = self.hidden
        squared = np.empty_like(self._vectors)
        sq_u0, sq_hidden, sq_deltas = (squared[part] for part in self._parts)
        vectors = [(self.u0, self._d1, sq_u0, sq_deltas[:h]),
                   (self.u1, self._d2, sq_hidden[:h + 1], sq_deltas[h:2 * h]),
                   (self.u2, self.dy, sq_hidden[h + 1:], sq_deltas[2 * h:])]
        layers = [(o, s, *vec) for o, s, vec in
                  zip(self.offsets, self.shapes, vectors, strict=True)]
        return layers, [(self._vectors, squared)]

    def forward(self):
        """y = Φ(x) for the x the caller wrote (returns ``self.y``)."""
        np.dot(self.u0, self.W[0], out=self._z1)
        np.maximum(self._z1, 0.0, out=self._z1)
        np.dot(self.u1, self.W[1], out=self._z2)
        np.maximum(self._z2, 0.0, out=self._z2)
        return np.dot(self.u2, self.W[2], out=self.y)

    def backward(self):
        """Write α ∂f/∂W_e of every layer into ``T`` from ``dy`` = α ∂f/∂y."""
        W, T, cols, rows = self.W, self.T, self._cols, self._rows
        np.greater(self._hidden, 0.0, out=self._masks)  # ReLU'(z) for both hidden layers
        _back_masked(W[2][:-1], self.dy, self._mask2, self._d2)
        _back_masked(W[1][:-1], self._d2, self._mask1, self._d1)
        if self.write_outer:
            # Outer products as matrix products of inner size 1: BLAS writes them ~1.5x
            # faster than a broadcast np.multiply, with the same exact products.
            for col, row, block in zip(cols, rows, T, strict=True):
                np.dot(col, row, out=block)


def _back_masked(w, delta, mask, out):
    """out = (w δ) ∘ mask, mask = [z > 0]: the error at a ReLU layer's input."""
    np.dot(w, delta, out=out)
    out *= mask


def _back_relu(w, delta, z, out, mask):
    """out = (w δ) ∘ [z > 0]: the error at a ReLU layer's input from the next layer's."""
    np.greater(z, 0.0, out=mask)
    _back_masked(w, delta, mask, out)


class CNN:
    """x (L, 2) -> Conv1d(c, k) -> ReLU -> Conv1d(c, k) -> ReLU -> Dense(d) -> y.

    Parameters
    ----------
    L, channels, kernel_size : int
    params, grads : ndarray, shape (P,)
    """

    def __init__(self, L, channels, kernel_size, params, grads):
        c, k, dt = channels, kernel_size, params.dtype
        d = 2 * L
        shapes = [(2 * k + 1, c), (c * k + 1, c), (L * c + 1, d)]
        self.W = _blocks(params, shapes)
        self.T = _blocks(grads, shapes)
        self.shapes, self.offsets = shapes, _offsets(shapes)
        self.write_outer = True  # False: the optimiser takes rank1_layers() instead
        self.L, self.c, self.k, self.d = L, c, k, d
        self.left = left = (k - 1) // 2
        # Zero-padded channel-last inputs of the two convolutions (pads stay zero).
        self._xp = np.zeros((L + k - 1, 2), dt)
        self._hp = np.zeros((L + k - 1, c), dt)
        self.x = self._xp[left:left + L].reshape(-1)  # the caller writes the gradient here
        self._z1 = self._hp[left:left + L]
        self._cols1 = np.ones((L, 2 * k + 1), dt)  # im2col, last column the bias's 1
        self._cols2 = np.ones((L, c * k + 1), dt)
        self._win1 = _windows(self._xp, L, k)
        self._win2 = _windows(self._hp, L, k)
        # The dense layer's input [flat z2, 1] and its error α ∂f/∂y in one buffer: one
        # call squares both for the optimiser's rank-one update.
        self._vectors = np.zeros(L * c + 1 + d, dt)
        self.u3 = self._vectors[:L * c + 1]
        self.u3[-1] = 1.0
        self._z2 = self.u3[:-1].reshape(L, c)
        self.y = np.empty(d, dt)
        self.dy = self._vectors[L * c + 1:]
        self._d2 = np.empty((L, c), dt)
        self._dcols = np.empty((L, c * k), dt)
        self._d1p = np.zeros((L + k - 1, c), dt)
        self._d1 = self._d1p[left:left + L]
        self._mask2 = np.empty((L, c), dt)
        self._mask1 = np.empty((L, c), dt)
        self._col3, self._row3 = self.u3[:, None], self.dy[None, :]

    def load_nn(self, net):
        """Copy the parameters of an ``nn.cnn(L, channels=c, kernel_size=k)`` network."""
        self.load_params(net.params)

    def load_params(self, params):
        """Copy ``[k1, b1, k2, b2, w3, b3]`` in ``nn.cnn``'s shapes into this layout; w3 and
        b3 None: a zero output layer."""
        k1, b1, k2, b2, w3, b3 = params
        L, c, k = self.L, self.c, self.k
        # K_e[j·c_in + i, o] = K[o, i, j]
        self.W[0][:-1], self.W[0][-1] = k1.transpose(2, 1, 0).reshape(2 * k, c), b1
        self.W[1][:-1], self.W[1][-1] = k2.transpose(2, 1, 0).reshape(c * k, c), b2
        if w3 is None:
            self.zero_last()
            return
        perm = _interleave(L)
        # nn flattens (c, L) channel-first; here the rows are (l, o) channel-last.
        rows = w3.reshape(c, L, self.d).transpose(1, 0, 2).reshape(L * c, self.d)
        self.W[2][:-1], self.W[2][-1] = rows[:, perm], b3[perm]

    def layer_shapes(self):
        """``nn.cnn``'s layers as ``(w_shape, b_shape, fan_in, fan_out)``, in draw order."""
        L, c, k, d = self.L, self.c, self.k, self.d
        return [((c, 2, k), (c,), 2 * k, c * k), ((c, c, k), (c,), c * k, c * k),
                ((c * L, d), (d,), c * L, d)]

    def zero_last(self):
        self.W[2][...] = 0.0

    def rank1_layers(self):
        """``(layers, squares)`` for ``ScaledAdam.use_rank1``: the dense layer only (the
        convolutions' gradients are sums over positions, not rank one)."""
        squared = np.empty_like(self._vectors)
        n = self.u3.size
        return ([(self.offsets[2], self.shapes[2], self.u3, self.dy, squared[:n],
                  squared[n:])], [(self._vectors, squared)])

    def forward(self):
        c1, c2 = self._cols1, self._cols2
        np.copyto(c1[:, :-1], self._win1)
        np.dot(c1, self.W[0], out=self._z1)
        np.maximum(self._z1, 0.0, out=self._z1)
        np.copyto(c2[:, :-1], self._win2)
        np.dot(c2, self.W[1], out=self._z2)
        np.maximum(self._z2, 0.0, out=self._z2)
        return np.dot(self.u3, self.W[2], out=self.y)

    def backward(self):
        W, T, c, k = self.W, self.T, self.c, self.k
        if self.write_outer:
            np.dot(self._col3, self._row3, out=T[2])  # the outer product (FCN.backward)
        d2 = self._d2.reshape(-1)
        _back_relu(W[2][:-1], self.dy, self.u3[:-1], d2, self._mask2.reshape(-1))
        np.dot(self._cols2.T, self._d2, out=T[1])
        # col2im: the error at the first layer's output, each tap added at its shift.
        np.dot(self._d2, W[1][:-1].T, out=self._dcols)
        self._d1p.fill(0.0)
        for j in range(k):
            self._d1p[j:j + self.L] += self._dcols[:, j * c:(j + 1) * c]
        np.greater(self._z1, 0.0, out=self._mask1)
        d1 = self._d1
        d1 *= self._mask1
        np.dot(self._cols1.T, self._d1, out=T[0])


def _windows(padded, L, k):
    """(L, k·c) read-only view: row l is padded[l : l+k].ravel() (rows overlap)."""
    n, c = padded.shape
    s = padded.strides[1]
    return np.lib.stride_tricks.as_strided(padded, (L, k * c), (c * s, s), writeable=False)


def build(network, M, K, opts, params, grads):
    """The lean network of ``opts`` (hidden, channels, kernel_size) over the given buffers."""
    if network == "fcn":
        d = 2 * M * K
        return FCN(d, opts.hidden, params, grads, 2 * d if opts.step_input else d)
    return CNN(M * K, opts.channels, opts.kernel_size, params, grads)


def init_from_stream(lean, network, M, K, opts, stream):
    """Draw the instance's network from ``stream`` into ``lean``: the numbers of
    ``nn.fcn(2MK, hidden, rng=stream, init=net_init)`` (or ``nn.cnn``), each layer from its own
    child of ``stream`` as ``nn`` draws it, straight into the lean layout (building the
    ``nn`` network to copy it cost ~2 ms at (64, 8)). ``zero_last``: the output layer is
    zero, and its numbers are not drawn (its child stream serves no other layer).
    """
    inits = nn.model._inits(opts.net_init)
    inits = (inits[0], inits[0], inits[1])  # the hidden layers', then the output layer's
    children = nn.model._spawn(stream, 3)
    shapes = lean.layer_shapes()
    if opts.zero_last:
        children, shapes = children[:2], shapes[:2]
    params = []
    for child, init, (w_shape, b_shape, fan_in, fan_out) in zip(children, inits, shapes,
                                                                strict=False):
        params += nn.layers._init_params(child, init, w_shape, b_shape, fan_in, fan_out)
    if opts.zero_last:
        params += [None, None]  # load_params zeroes the output layer
    lean.load_params(params)
