"""A small autodiff-free neural toolkit in NumPy: ANGD's update networks (paper §V, §VI-4).

Layers have ``forward(x)`` and ``backward(dy) -> dx`` (which overwrites ``grads``);
``Sequential`` chains them over one flat parameter buffer; ``fcn`` and ``cnn`` build the
paper's networks; ``Adam`` updates parameters in place; ``save``/``load`` use ``.npz``.

ANGD's solver runs lean copies of these networks (module ``angd_np.solvers._angd_nets``), each
drawn with ``fcn``/``cnn`` so that both start from the same weights::

    from angd_np import nn
    net = nn.fcn(64, 128, rng=0)                   # 33,088 parameters
    opt = nn.Adam(net.flat_params, lr=1e-4, maximize=True)
    y = net.forward(x)                             # x: (batch, 64) -> y: (batch, 64)
    net.backward(dy)                               # dy = ∂f/∂y, same shape as y
    opt.step(net.flat_grads)
"""

from .adam import Adam
from .io import load, save
from .layers import Conv1d, Dense, Flatten, Layer, ReLU
from .model import Sequential, cnn, fcn

__all__ = ["Layer", "Dense", "ReLU", "Conv1d", "Flatten", "Sequential", "fcn", "cnn", "Adam",
           "save", "load"]
