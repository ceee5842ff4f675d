"""Save and load network parameters and Adam state as ``.npz`` (no pickle).

The file holds plain arrays only, so it loads with ``allow_pickle=False``:

- ``format``: the string ``"angd_np.nn/1"``;
- ``param_0``, ``param_1``, ...: the network's ``params`` in order;
- ``adam.t``, ``adam.lr``, ..., ``adam.m_acc_0``, ``adam.v_acc_0``, ...: the entries of
  ``Adam.state_dict()`` when an optimiser is given.

Loading writes into an existing network (and optimiser) of the same architecture, in place, so
views such as ``flat_params`` stay valid.
"""

from __future__ import annotations

import numpy as np

__all__ = ["save", "load"]

FORMAT = "angd_np.nn/1"


def save(path, net, optimizer=None) -> None:
    """Write ``net.params`` (and ``optimizer.state_dict()``) to the ``.npz`` file ``path``.

    Parameters
    ----------
    path : str or path-like or file
        Destination; NumPy appends ``.npz`` to a name without it.
    net : Sequential
        Any object with a ``params`` list of arrays.
    optimizer : Adam, optional
        Its moments, step count and hyper-parameters are saved too.
    """
    arrays = {"format": np.array(FORMAT)}
    for i, p in enumerate(net.params):
        arrays[f"param_{i}"] = p
    if optimizer is not None:
        for key, value in optimizer.state_dict().items():
            arrays[f"adam.{key}"] = value
    np.savez(path, **arrays)


def load(path, net, optimizer=None) -> None:
    """Read a file written by ``save`` into ``net`` (and ``optimizer``), in place.

    Raises
    ------
    ValueError
        If the file is not in this format, holds a different number or shapes of
        parameters, or lacks the optimiser state asked for.
    """
    with np.load(path, allow_pickle=False) as data:
        if "format" not in data.files or str(data["format"]) != FORMAT:
            raise ValueError(f"{path!r} is not an angd_np.nn file (expected format {FORMAT!r})")
        n_saved = sum(1 for k in data.files if k.startswith("param_"))
        if n_saved != len(net.params):
            raise ValueError(f"{path!r} holds {n_saved} parameter arrays, the network has "
                             f"{len(net.params)}")
        saved = [data[f"param_{i}"] for i in range(n_saved)]
        for i, (new, p) in enumerate(zip(saved, net.params, strict=True)):
            if new.shape != p.shape:
                raise ValueError(f"param_{i} in {path!r} has shape {new.shape}, the network's "
                                 f"has {p.shape} (different architecture)")
        state = None
        if optimizer is not None:
            state = {k[len("adam."):]: data[k] for k in data.files if k.startswith("adam.")}
            if not state:
                raise ValueError(f"{path!r} holds no optimiser state (saved without one)")
            optimizer.load_state_dict(state)  # validates before changing anything
        for new, p in zip(saved, net.params, strict=True):
            p[...] = new
