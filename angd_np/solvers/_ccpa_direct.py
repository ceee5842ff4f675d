r"""CCPA's SCA surrogate handed to Clarabel directly, with the numbers cvxpy would hand it.

cvxpy compiles the DPP problem of :class:`~angd_np.solvers.ccpa._SCAModel` once into a
parametrised cone program: minimise q^T x subject to b - A x in a product of cones, where
q, the nonzeros of A and b are fixed sparse linear maps of the parameter vector theta (the
real and imaginary parts of the Parameter values in cvxpy's order, then a constant 1):

.. math::

    q = T_q\,\theta, \qquad (\mathrm{nz}(A), b) = T_A\,\theta, \qquad
    Y_k = \mathrm{gather}_k(x).

Per solve, cvxpy still checks every Parameter value (Hermitian, nonnegative), splits it into
real and imaginary parts, applies T_q and T_A, builds sparse matrices and unpacks x through
its whole reduction chain: at r = 6, K = 2 that was most of the 31-37% of a CCPA instance's
wall time not spent in Clarabel (ccpa module docstring, item 5). :class:`DirectProgram`
learns once per (r, K) which entry of our packed parameter values each theta_i is, and which
entry of x each Y_k[a, b] is, by pushing integer codes through cvxpy's own maps; it keeps
cvxpy's tensors T_q, T_A and cone sizes, and Clarabel's settings as cvxpy builds them. A
solve is then a gather, two sparse mat-vecs and one Clarabel call.

Why the results are the same: the gathers move numbers without arithmetic and the mat-vecs
are cvxpy's own (same matrices, same products), so Clarabel receives the same floating-point
data and returns the same x. This is checked bit for bit against cvxpy's public
``get_problem_data`` when a program is built; if anything differs (another cvxpy version),
:class:`Unsupported` is raised and CCPA goes through cvxpy as before.
"""

from __future__ import annotations

import numpy as np

__all__ = ["DirectProgram", "Unsupported", "clarabel_settings"]

# Clarabel's statuses as cvxpy maps them (cvxpy's CLARABEL.STATUS_MAP); anything else,
# e.g. NumericalError or InsufficientProgress, is a solver error.
_STATUS = {"Solved": "optimal", "AlmostSolved": "optimal_inaccurate",
           "PrimalInfeasible": "infeasible", "DualInfeasible": "unbounded",
           "AlmostPrimalInfeasible": "infeasible_inaccurate",
           "AlmostDualInfeasible": "unbounded_inaccurate",
           "MaxIterations": "user_limit", "MaxTime": "user_limit"}
# The first line of the SolverError cvxpy raises for those, as CCPA reports it.
_ERROR = "CLARABEL error: " + ("Solver 'CLARABEL' failed. Try another solver, or solve with "
                               "verbose=True for more information.")[:80]


class Unsupported(Exception):
    """The direct path cannot reproduce what cvxpy would do here; use cvxpy."""


def clarabel_settings(options):
    """Clarabel settings exactly as cvxpy builds them for ``problem.solve(**options)``, or
    None if an option is not a plain Clarabel setting (cvxpy must then handle it)."""
    try:
        import clarabel
        from cvxpy.reductions.solvers.conic_solvers.clarabel_conif import CLARABEL
    except ImportError:
        return None
    names = {n for n in dir(clarabel.DefaultSettings()) if not n.startswith("_")}
    # Anything else (accept_unknown, use_quad_obj, keywords of solve() such as verbose) is
    # interpreted by cvxpy, not by Clarabel.
    if any(k not in names or k in ("verbose", "default") for k in options):
        return None
    return CLARABEL.parse_solver_opts(False, dict(options))


def _pack(values):
    """Our parameter values (a list of arrays, real or complex) as one real vector
    [Re, Im of each complex value in C order | each real value | 1]."""
    parts = []
    for v in values:
        v = np.asarray(v)
        if np.iscomplexobj(v):
            parts += [v.real.ravel(), v.imag.ravel()]
        else:
            parts.append(v.ravel().astype(float))
    parts.append(np.ones(1))
    return np.concatenate(parts)


def _codes_like(values, start):
    """Arrays shaped like ``values`` whose entries are the codes start, start + 1, ... in
    the order of :func:`_pack` (real part, then imaginary part)."""
    out, code = [], start
    for v in values:
        v = np.asarray(v)
        size = v.size
        c = np.arange(code, code + size, dtype=float).reshape(v.shape)
        code += size
        if np.iscomplexobj(v):
            c = c + 1j * np.arange(code, code + size, dtype=float).reshape(v.shape)
            code += size
        out.append(c)
    return out


def _as_codes(a, limit, what):
    """Integer codes from a float array that must hold integers in [-limit, limit]."""
    a = np.asarray(a, dtype=float)
    codes = np.rint(a)
    if not np.array_equal(codes, a) or np.abs(codes).max(initial=0) > limit:
        raise Unsupported(f"{what} is not a gather of its inputs")
    return codes.astype(np.int64)


class DirectProgram:
    """The conic program of one ``_SCAModel``, solvable with raw Clarabel calls.

    Parameters
    ----------
    problem : cvxpy.Problem
        The DPP problem (its Parameters must hold valid values; they are overwritten).
    params : list of cvxpy.Parameter
        The Parameters in the order of the values passed to :meth:`solve`.
    Y : list of cvxpy.Variable
        The K Hermitian (r, r) variables read back.
    """

    def __init__(self, problem, params, Y):
        import clarabel
        import cvxpy as cp
        import scipy.sparse as sp
        from cvxpy import settings as s
        from cvxpy.cvxcore.python import canonInterface
        from cvxpy.reductions.solvers.conic_solvers.clarabel_conif import dims_to_solver_cones

        self._clarabel, self._sp = clarabel, sp
        rng = np.random.default_rng(0)  # test values for the check below, nothing else
        values = []
        for p in params:
            if p.is_hermitian() and p.is_complex():
                z = rng.standard_normal(p.shape) + 1j * rng.standard_normal(p.shape)
                # Hermitian only to ~1e-13, so the check below also pins which triangle
                # cvxpy reads.
                values.append(z + np.conj(z.T) + 1e-13 * z)
            else:
                values.append(rng.uniform(0.5, 2.0, p.shape))
        for p, v in zip(params, values, strict=False):
            p.value = v
        data, chain, inverse = problem.get_problem_data(cp.CLARABEL, solver_opts={})
        prog = data[s.PARAM_PROB]
        if s.P in data or prog.P is not None:
            raise Unsupported("the program has a quadratic objective")

        # theta = packed[src]: push codes (2, 3, ...; the constant column gets 1) through
        # cvxpy's parameter maps (real/imaginary split, triangles).
        deltas = {p.id: c for p, c in zip(params, _codes_like(values, 2), strict=False)}
        for reduction in chain.reductions:
            deltas = reduction.param_forward(deltas)
        theta = canonInterface.get_parameter_vector(
            prog.total_param_size, prog.param_id_to_col, prog.param_id_to_size,
            lambda pid: np.asarray(deltas[pid], dtype=float))
        n_packed = _pack(values).size
        codes = _as_codes(theta, n_packed, "theta")
        if codes.min() < 1:
            raise Unsupported("a parameter slot is not filled")
        self._src = np.where(codes == 1, n_packed - 1, codes - 2)

        prog.reduced_A.cache(False)
        if prog.reduced_A.mapping_nonzero is not None:
            raise Unsupported("cvxpy keeps explicit zeros in A")
        self._T_q = prog.q  # (n + 1, len(theta)): q and the objective offset
        self._T_A = prog.reduced_A.reduced_mat  # (nnz(A) + nnz(b), len(theta))
        indices, indptr, (m, n_cols) = prog.reduced_A.problem_data_index
        n = n_cols - 1
        self._nnz = int(indptr[n])  # A's columns first (CSC), then the column of b
        self._A_index = (np.asarray(indices[: self._nnz]), np.asarray(indptr[: n + 1]))
        self._b_rows = np.asarray(indices[self._nnz:])
        self._shape = (m, n)
        self._P = sp.triu(sp.csc_array((n, n))).tocsc()
        self._cones = dims_to_solver_cones(prog.cone_dims)

        q, A, b = self._data(_pack(values))
        if not (np.array_equal(q, data[s.C]) and np.array_equal(b, data[s.B])
                and np.array_equal(A.indptr, data[s.A].indptr)
                and np.array_equal(A.indices, data[s.A].indices)
                and np.array_equal(A.data, data[s.A].data)):
            raise Unsupported("the data differ from cvxpy's")

        # Y_k = sign * x[index] (index n: zero): unpack codes 1..n with cvxpy itself.
        x = np.arange(1.0, n + 1.0)
        problem.unpack_results(_FakeSolution(x), chain, inverse)
        self._Y_src, self._Y_sign = [], []
        for part in (np.real, np.imag):
            c = _as_codes(np.stack([part(y.value) for y in Y]), n, "Y")
            self._Y_src.append(np.where(c == 0, n, np.abs(c) - 1))
            self._Y_sign.append(np.where(c < 0, -1.0, 1.0))

    def _data(self, packed):
        """(q (n,), A (m, n) CSC, b (m,)) for packed parameter values, as cvxpy builds them."""
        theta = packed[self._src]
        q = self._T_q @ theta
        vals = self._T_A @ theta
        A = self._sp.csc_array((-vals[: self._nnz], *self._A_index), shape=self._shape)
        b = np.zeros(self._shape[0])
        b[self._b_rows] = vals[self._nnz:]
        return q[:-1], A, b

    def solve(self, values, settings):
        """Solve with one fresh Clarabel solver (no state carried between solves).

        Parameters
        ----------
        values : list of arrays
            The Parameter values, in the order given to the constructor.
        settings : clarabel.DefaultSettings
            From :func:`clarabel_settings`.

        Returns
        -------
        (status, Y)
            status as ccpa reports it ("CLARABEL optimal", ...); Y (K, r, r) complex, or
            None unless the status is optimal or optimal_inaccurate.
        """
        packed = _pack(values)
        if not np.all(np.isfinite(packed)):
            return "CLARABEL error: non-finite problem data", None
        q, A, b = self._data(packed)
        solution = self._clarabel.DefaultSolver(self._P, q, A, b, self._cones,
                                                settings).solve()
        status = _STATUS.get(str(solution.status))
        if status is None:
            return _ERROR, None
        if status not in ("optimal", "optimal_inaccurate"):
            return f"CLARABEL {status}", None
        x = np.append(np.asarray(solution.x, dtype=float), 0.0)
        re, im = (sign * x[src] for src, sign in zip(self._Y_src, self._Y_sign, strict=False))
        return f"CLARABEL {status}", re + 1j * im


class _FakeSolution:
    """What cvxpy's Clarabel interface reads from a Clarabel solution (primal x only)."""

    def __init__(self, x):
        self.x, self.z, self.status = x, None, "Solved"
        self.obj_val, self.solve_time, self.iterations = 0.0, 0.0, 0
